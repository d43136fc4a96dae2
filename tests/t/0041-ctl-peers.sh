#!/bin/sh
# The control socket as steps meet it: an untrusted run_as step may
# register secrets and nothing else; "jobrun secret add" registers any
# bytes; and secrets given on jobrun's own command line are gone from its
# /proc/PID/cmdline while the job runs.
. "$JOBRUN_SRCDIR/tests/lib.sh"
plan 23

# ---- secrets on the command line ----
cat >argv.yaml <<EOF
steps:
  - name: look
    run: |
      tr '\0' ' ' </proc/\$PPID/cmdline >"$TEST_DIR/cmdline"
      echo "token: [\$TOKEN]"
EOF
run "$JOBRUN" run --secret-values-list=hunter2-argv-one,hunter2-argv-two \
	--job-env 'TOKEN=hunter2-argv-env' --secret-env-names TOKEN argv.yaml
is "$status" 0 "a job given secrets by flags runs"
lacks cmdline "hunter2-argv" "its /proc/PID/cmdline no longer holds them"
contains cmdline "--secret-values-list=*** " "where they were, it says ***"
contains cmdline "argv.yaml" "the other arguments are intact"
contains out "token: [***]" "the values still reach the job, masked"
run "$JOBRUN" run --source-type none \
	--source-url 'https://bot:hunter2-url-pass@example.invalid/app.git' \
	--ci-source-url 'https://hunter2-url-token0123456@example.invalid/ci.git' \
	argv.yaml
lacks cmdline "hunter2-url" "a source URL's credentials are gone from it too"
contains cmdline "--source-url *** " "the URL says ***"

# ---- secret add: any bytes ----
cat >bytes.yaml <<'EOF'
steps:
  - name: add
    run: |
      printf '\377\376s3cr\000et-bytes' | jobrun secret add --raw; echo "raw: $?"
      printf 'line-one-secret\nline\000two\377secret\n' | jobrun secret add; echo "lines: $?"
  - name: show
    depends_on: [add]
    run: |
      printf '[\377\376s3cr\000et-bytes] [line-one-secret] [line\000two\377secret]\n'
EOF
run "$JOBRUN" run bytes.yaml
is "$status" 0 "a job registering secrets with NUL and non-UTF-8 bytes runs"
contains out "raw: 0" "secret add --raw registers them (status 0)"
contains out "lines: 0" "and one per line too"
contains out "[***] [***] [***]" "every such value is masked"

# ---- an untrusted run_as step ----
if [ "$(id -u)" != 0 ] || ! id nobody >/dev/null 2>&1; then
	for i in 1 2 3 4 5 6 7 8 9 10 11; do
		_tap_count=$((_tap_count + 1))
		echo "ok $_tap_count # skip needs root and a user nobody"
	done
	done_testing
	exit
fi
chmod 755 "$TEST_DIR"
cat >peer.yaml <<EOF
steps:
  - name: untrusted
    run_as: nobody
    trusted: false
    run: |
      set +e
      # LeakSanitizer cannot work under the seccomp filter (it stops
      # the world with ptrace): off for a sanitizer build.
      export ASAN_OPTIONS=detect_leaks=0
      echo 'untrusted-secret-1234' | "$JOBRUN" secret add; echo "secret: \$?"
      "$JOBRUN" trigger evil; echo "trigger: \$?"
      echo x | "$JOBRUN" output set STOLEN; echo "output: \$?"
  - name: trusted
    depends_on: [untrusted]
    run: |
      jobrun trigger fine; echo "trusted trigger: \$?"
EOF
run "$JOBRUN" run peer.yaml
contains out "secret: 0" "an untrusted step registers a secret"
contains out "trigger: 1" "its trigger is refused"
contains out "output: 1" "so is its workflow output"
contains out "may only register secrets" "saying why"
is "$("$PYTHON3" -c 'import json; print([j["job_name"] for j in json.load(open(".jobrun/triggers.json"))["jobs"]])')" \
	"['fine']" "a trusted step's trigger is listed, the untrusted one's not"

# What an untrusted step registers hides untrusted steps' output, never a
# trusted step's or what jobrun writes itself: it holds no secret, and
# must not censor a trusted step or rewrite a trigger, a step's name or an
# outcome by registering their words.
cat >censor.yaml <<EOF
triggers:
  - {job: deploy-staging, when: always, env: {TARGET: staging-eu-west-1}}
steps:
  - name: test-pr
    run_as: nobody
    trusted: false
    run: |
      export ASAN_OPTIONS=detect_leaks=0
      for s in deploy-staging staging-eu-west-1 test-pr success; do
        printf '%s\n' "\$s" | "$JOBRUN" secret add
      done
      echo "own: deploy-staging"
      echo "summary: deploy-staging" >>"\$JOBRUN_STEP_SUMMARY"
  - name: later
    depends_on: [test-pr]
    run: 'echo "trusted: staging-eu-west-1"'
EOF
run "$JOBRUN" run censor.yaml
is "$status" 0 "an untrusted step registering the job's public words runs"
contains out "own: ***" "its own output is masked with what it registered"
contains out "trusted: staging-eu-west-1" \
	"a trusted step's output is not: an untrusted step cannot censor it"
is "$("$PYTHON3" -c 'import json; j=json.load(open(".jobrun/triggers.json"))["jobs"][0]; print(j["job_name"], j["env"]["TARGET"])')" \
	"deploy-staging staging-eu-west-1" "triggers.json keeps the trigger's job and env"
is "$("$PYTHON3" -c 'import json; print(" ".join(s["name"] for s in json.load(open(".jobrun/result.json"))["steps"]))')" \
	"test-pr later" "result.json keeps the steps' names"
contains err "step 'test-pr': success" "the console keeps outcomes and names"
contains .jobrun/artifacts/summary.md "summary: ***" \
	"a step's summary is masked with what it registered, as its output"
done_testing
