#!/bin/sh
# Secrets never leave jobrun unmasked: registered at run time over the
# control socket (with jobrun secret add and with runnerlib's framing from
# Python), from the environment, files, lists and patterns; on the console,
# in the logs and in result.json.
. "$JOBRUN_SRCDIR/tests/lib.sh"
plan 24

# leaks SECRET FILE...: true when any FILE holds SECRET.
leaks() { s=$1; shift; grep -qaF -- "$s" "$@"; }

# The bundled example: a token registered at run time, printed every way.
run "$JOBRUN" run -j1 "$JOBRUN_SRCDIR/examples/secrets/job.yaml"
is "$status" 0 "examples/secrets succeeds"
contains out "plain:   ***" "a registered secret is masked"
contains out "split:   ***" "also when written in two pieces"
contains out "from the output: ***" "and in a later step"
lacks out "tok-" "no part of the token's text reaches the console"
ok "! grep -qa 'tok-' .jobrun/logs/*.log .jobrun/result.json" \
	"nor the logs or result.json"

# A step registers a secret, then prints it in ways that defeat line-based
# maskers.
cat >split.yaml <<'YAML'
steps:
  - name: s
    run: |
      printf 'hunter2-aab\n' | jobrun secret add
      printf 'x=hunter2-a'; sleep 0.3; printf 'ab\n'
      printf '%s\n' 'hunter2-aab' | base64
      printf 'pre %s post\n' 'hunter2-aab'
YAML
run "$JOBRUN" run split.yaml
is "$status" 0 "a step that registers and prints its own secret succeeds"
ok "! leaks hunter2-aab out err .jobrun/logs/s.log .jobrun/result.json" \
	"the secret appears nowhere"
ok "! leaks 'aHVudGVyMi1hYWIK' out .jobrun/logs/s.log" "nor its base64"
contains out "x=***" "the split write is masked whole"

# Secrets known before the job: env names, values list, file, globs,
# patterns.
printf 'from-a-file-123\n' >secret.txt
cat >sources.yaml <<YAML
env: {JOB_SECRET: from-job-env-456}
secrets:
  env: [JOB_SECRET, MY_PASSWORD]
  env_globs: ['*_TOKEN']
  files: [$TEST_DIR/secret.txt]
  patterns: ['ghp_[A-Za-z0-9]{8}']
steps:
  - name: print
    run: |
      echo "\$JOB_SECRET \$MY_PASSWORD \$DEPLOY_TOKEN \$(cat secret.txt)"
      echo "listed: from-list-789 also-listed-0"
      echo "pattern: ghp_ABCdef12"
YAML
MY_PASSWORD=p4ssw0rd-xyz DEPLOY_TOKEN=tok-glob-321 \
REACTORCIDE_SECRET_VALUES_LIST='from-list-789, also-listed-0' \
	run "$JOBRUN" run sources.yaml
is "$status" 0 "a job with secrets from every source runs"
for s in from-job-env-456 p4ssw0rd-xyz tok-glob-321 from-a-file-123 \
	from-list-789 also-listed-0 ghp_ABCdef12; do
	lacks out "$s" "$s is masked"
done

# runnerlib's client, in Python, speaking the framing unchanged.
cat >client.py <<'PY'
import json, os, socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(os.environ["REACTORCIDE_SECRETS_SOCKET"])
body = json.dumps({"action": "register", "secrets": [sys.argv[1]]}).encode()
s.send(struct.pack("!I", len(body)) + body)
reply = json.loads(s.recv(4096).decode().strip())
sys.exit(0 if reply["status"] == "ok" and reply["registered"] == 1 else 1)
PY
cat >python.yaml <<YAML
steps:
  - name: py
    run: $PYTHON3 $TEST_DIR/client.py 'py-secret-6502' && echo "value py-secret-6502"
YAML
run "$JOBRUN" run python.yaml
is "$status" 0 "runnerlib's framing registers a secret"
contains out "value ***" "and it is masked"

# secret add: exit statuses, and values never on its own output.
cat >short.yaml <<'YAML'
steps:
  - {name: s, run: "printf 'ab\n' | jobrun secret add || echo status=$?"}
YAML
run "$JOBRUN" run short.yaml
contains out "status=1" "a secret too short to mask is refused with 1"
run sh -c 'echo value-1234 | "$JOBRUN" secret add'
is "$status" 125 "secret add outside a job exits 125"
lacks err "value-1234" "and never echoes the value"

# jobrun's own messages pass the masker too.
cat >own.yaml <<'YAML'
secrets: {env: [DIR_SECRET]}
steps:
  - {name: s, run: "true", workdir: /nonexistent/sekrit-dir-42}
YAML
DIR_SECRET=sekrit-dir-42 run "$JOBRUN" run own.yaml
ok "! leaks sekrit-dir-42 out err" "jobrun's own error messages are masked"
done_testing
