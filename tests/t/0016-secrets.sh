#!/bin/sh
# Secrets never leave jobrun unmasked: registered at run time over the
# control socket (with jobrun secret add and with runnerlib's framing from
# Python), from the environment, files, lists and patterns; on the console,
# in the logs and in result.json.
. "$JOBRUN_SRCDIR/tests/lib.sh"
plan 105

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
cat >huge.yaml <<'YAML'
steps:
  - name: s
    run: |
      head -c 1048577 /dev/zero | tr '\0' x | jobrun secret add ||
      echo status=$?
YAML
run "$JOBRUN" run huge.yaml
contains out "status=125" "secret add of more than 1 MiB on standard input: 125"
contains out "standard input is larger than 1048576 bytes" \
	"and it says the limit"

# jobrun's own messages pass the masker too.
cat >own.yaml <<'YAML'
secrets: {env: [DIR_SECRET]}
steps:
  - {name: s, run: "true", workdir: /nonexistent/sekrit-dir-42}
YAML
DIR_SECRET=sekrit-dir-42 run "$JOBRUN" run own.yaml
ok "! leaks sekrit-dir-42 out err" "jobrun's own error messages are masked"

# Secrets files follow dotenv rules: the value a shell sees is masked,
# not the quotes.
cat >dot.env <<'ENV'
# deploy credentials
export DQ_SECRET="dq-value \"quoted\" with spaces"
SQ_SECRET='sq-value-$not-expanded'
BARE_SECRET=bare-value-77 # a comment
ENV
openssl rand -base64 180 | { echo '-----BEGIN TEST KEY-----'; cat; echo '-----END TEST KEY-----'; } >key.pem
cat >files.yaml <<YAML
secrets:
  files: [$TEST_DIR/dot.env, $TEST_DIR/key.pem]
steps:
  - name: f
    run: |
      . $TEST_DIR/dot.env
      printf '%s|%s|%s\n' "\$DQ_SECRET" "\$SQ_SECRET" "\$BARE_SECRET"
      sed 's/^/    /' $TEST_DIR/key.pem
      nl $TEST_DIR/key.pem
      head -3 $TEST_DIR/key.pem | sed 's/^/key: /'
YAML
run "$JOBRUN" run files.yaml
is "$status" 0 "a job with a dotenv file and a key file runs"
contains out "***|***|***" "dotenv values, double- and single-quoted, are masked"
ok "! leaks 'dq-value' out && ! leaks 'sq-value' out && ! leaks bare-value out" \
	"no part of them shows"
n=0
for line in $(sed -n '2,4p' key.pem); do
	leaks "$line" out && n=$((n + 1))
done
is "$n" 0 "the key's lines, indented (sed), numbered (nl) or in part (head -3), are masked"
contains out "-----BEGIN TEST KEY-----" "its PEM armour is not a secret"

# The value a shell sees, however the file was written: printf %q,
# ${v@Q}, python's shlex.quote, escapes, ; and several assignments a line.
bash >shell.env <<'BASH'
v1='unq escaped space-1111' v4="it's-quoted-4444"
printf 'U1=%q\n' "$v1"
printf 'U4=%s\n' "${v4@Q}"
BASH
{
	"$PYTHON3" -c 'import shlex; print("U10=" + shlex.quote("it'"'"'s-shlex-1010"))'
	printf '%s\n' 'U3=abc\#not-comment-3333' 'U5=semi-val-5555;' \
		'export U7=first-7777 U8=second-8888' \
		"U2=\"dq-part-\"'sq-part-2222'" "U6=\$'tab\\there-6666'"
} >>shell.env
cat >shell.yaml <<YAML
secrets: {files: [$TEST_DIR/shell.env]}
steps:
  - name: s
    shell: bash
    run: |
      . $TEST_DIR/shell.env
      for v in U1 U4 U10 U3 U5 U7 U8 U2 U6; do printf '%s=[%s]\\n' \$v "\${!v}"; done
YAML
run "$JOBRUN" run shell.yaml
is "$status" 0 "a job sourcing a shell-quoted secrets file runs"
is "$(grep -c '^U[0-9]*=\[\*\*\*\]$' out)" 9 \
	"every value, as the shell sees it, is masked whole"
ok "! grep -qaE '1111|4444|1010|3333|5555|7777|8888|2222|6666' out" \
	"no part of any shows"

# A file of assignments only: its comments, names and empty values are
# not secret, so its lines are not masked one by one (each value is); the
# whole file, printed as it is, still is.  A file with other lines (a key)
# or of one line keeps them all.
cat >plain.env <<'ENV'
# the deploy-only settings
export DEPLOY_REGION=eu-west-9
EMPTY_ONE=
DEPLOY_TOKEN="plain-env-token-4321"
ENV
printf 'Pass=word-1a2b3c\n' >oneline.env
cat >plain.yaml <<YAML
secrets: {files: [$TEST_DIR/plain.env, $TEST_DIR/oneline.env]}
steps:
  - name: p
    run: |
      echo "comment: # the deploy-only settings"
      echo "name: EMPTY_ONE= and export DEPLOY_REGION"
      echo "token: plain-env-token-4321"
      echo "region: eu-west-9"
      cat $TEST_DIR/plain.env
      cat $TEST_DIR/oneline.env
YAML
run "$JOBRUN" run plain.yaml
is "$status" 0 "a job with a file of assignments runs"
contains out "comment: # the deploy-only settings" "its comment is not masked"
contains out "name: EMPTY_ONE= and export DEPLOY_REGION" "nor its names"
contains out "token: ***" "its values are"
contains out "region: ***" "every one of them"
is "$(grep -c '^\*\*\*$' out)" 2 "the whole file and a one-line file, printed, are masked whole"
ok "! grep -q 'Pass=' out" "a one-line file is one secret: no part of it shows"

# A line whose value cannot be read is said, by file and line, never shown;
# the job still runs and the lines after it still count.
printf 'GOOD=good-value-1234\nBAD="unterminated-sekrit-5678\nLATER=later-value-9012\n' >bad.env
cat >bad.yaml <<YAML
secrets: {files: [$TEST_DIR/bad.env]}
steps:
  - {name: s, run: "echo good-value-1234 later-value-9012"}
YAML
run "$JOBRUN" run bad.yaml
is "$status" 0 "a secrets file with a line that cannot be read: the job runs"
contains err "secrets file '$TEST_DIR/bad.env', line 2: a \" is not closed" \
	"a warning names the file and the line"
lacks err "sekrit" "and never shows the value"
contains out "*** ***" "the other lines' values are masked"

# A secrets file that cannot be read fails the job (125), whatever the
# reason: missing, or a directory.
mkdir secrets.d && printf 'dir-held-secret-4242' >secrets.d/token
cat >dir.yaml <<'YAML'
steps:
  - {name: a, run: "cat secrets.d/token; echo"}
YAML
run "$JOBRUN" run --secrets-file "$TEST_DIR/secrets.d" dir.yaml
is "$status" 125 "--secrets-file DIR: the job fails (125)"
contains err "cannot read secrets file '$TEST_DIR/secrets.d': Is a directory" \
	"the message names the path and the cause"
lacks out "dir-held-secret-4242" "no step ran to print it"
printf 'secrets: {files: [%s]}\nsteps:\n  - {name: a, run: "true"}\n' \
	"$TEST_DIR/secrets.d" >dirfile.yaml
run "$JOBRUN" run dirfile.yaml
is "$status" 125 "secrets.files: [DIR]: the job fails (125) too"
contains err "cannot read secrets file '$TEST_DIR/secrets.d': Is a directory" \
	"with the same message"
run "$JOBRUN" run --secrets-file "$TEST_DIR/missing.env" dir.yaml
is "$status" 125 "a missing secrets file fails the job (125)"
contains err "cannot read secrets file '$TEST_DIR/missing.env': No such file or directory" \
	"saying so"

# Shell-quoted forms of a value holding a quote: bash set -x, printf %q,
# declare -p.
cat >quoted.yaml <<'YAML'
secrets: {env: [Q_SECRET]}
steps:
  - name: q
    run: |
      bash -xc ': "$Q_SECRET"' 2>&1
      bash -c 'printf "%q\n" "$Q_SECRET"; declare -p Q_SECRET'
      bash -c 'printf "%q\n" "$Q_SECRET
      second line"'
YAML
Q_SECRET="Tr0ub'sAdor \$3&x" run "$JOBRUN" run quoted.yaml
is "$status" 0 "a job printing a quoted secret runs"
ok "! grep -qa 'Tr0ub\|sAdor' out" "set -x, printf %q and declare -p forms are masked"
contains out "+ : '***'" "the set -x trace keeps its quotes"

# Percent-encoding in lower case hex with '+' for space, as curl --get
# --data-urlencode and shell printf '%%%02x' loops write it, and JSON with
# DEL as \u007f, as Python's json.dumps() and jq write it.
cat >escaped.yaml <<YAML
secrets: {env: [URL_SECRET, DEL_SECRET]}
steps:
  - name: e
    run: |
      s=\$URL_SECRET; q=
      while [ -n "\$s" ]; do
        c=\${s%"\${s#?}"}; s=\${s#?}
        case \$c in
        [a-zA-Z0-9.~_-]) q=\$q\$c ;;
        ' ') q=\$q+ ;;
        *) q=\$q\$(printf '%%%02x' "'\$c") ;;
        esac
      done
      echo "query: \$q"
      $PYTHON3 -c 'import json, os; print("json:", json.dumps(os.environ["DEL_SECRET"]))'
YAML
URL_SECRET='p@ss:w0rd/With&Reserved#Chars x' DEL_SECRET=$(printf 'del\177-secret-bbb') \
	run "$JOBRUN" run escaped.yaml
is "$status" 0 "a job printing percent- and JSON-escaped secrets runs"
contains out "query: ***" "lower case percent-encoding with '+' is masked"
contains out 'json: "***"' "JSON's \\u007f for DEL is masked"
ok "! grep -qa 'w0rd\|secret-bbb' out" "no part of either shows"

# cat -v and cat -A show a UTF-8 secret's bytes as M-X, a control
# character as ^X and a tab (-A) as ^I.
cat >catv.yaml <<'YAML'
secrets: {env: [CAT_SECRET]}
steps:
  - name: c
    run: |
      printf '%s\n' "$CAT_SECRET" | cat -v
      printf '%s\n' "$CAT_SECRET" | cat -A
YAML
CAT_SECRET=$(printf 'p\303\244ssw\303\266rd-\001cat\t77') run "$JOBRUN" run catv.yaml
is "$status" 0 "a job printing a secret through cat -v and cat -A runs"
is "$(grep -c '^\*\*\*\$\?$' out)" 2 "both are masked"
ok "! grep -qa 'M-\|cat' out" "no part of either shows"

# base32 as coreutils writes it, whole and wrapped at 20 columns, of the
# secret alone and with a newline after it; and a secret holding a tab
# and a line break in an XML attribute, as Python's ElementTree writes it.
cat >base32.yaml <<'YAML'
secrets: {env: [B32_SECRET, XML_SECRET]}
steps:
  - name: b
    run: |
      printf %s "$B32_SECRET" | base32
      printf '%s\n' "$B32_SECRET" | base32 -w 20
      python3 -c 'import os, xml.etree.ElementTree as E
      print(E.tostring(E.Element("a", v=os.environ["XML_SECRET"])).decode())'
YAML
B32_SECRET='Zq8-ghp_Tr0ub4dor&3xK9mLp2vWn7Yc' \
XML_SECRET=$(printf 'xml-secret-one\tand\nxml-secret-two') \
	run "$JOBRUN" run base32.yaml
is "$status" 0 "a job printing base32 and XML forms of secrets runs"
contains out '***====' "base32 of a secret is masked"
is "$(grep -c '^\*\*\*' out)" 2 "wrapped at 20 columns too, from the first line"
contains out '<a v="***" />' "ElementTree's escaped tab and line break are masked"
ok "! grep -qa 'LJYTQLLH\|GJ3FO3RX\|xml-secret' out" "no part of either shows"

# Encoded runs wrapped by real tools: base64 (76 columns), openssl base64
# (64), xxd -p (60); a secret longer than 57 bytes, and one crossing a
# line break inside a longer blob.
LONG_SECRET=$(printf 'long-secret-%s' 0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEF)
cat >wrapped.yaml <<'YAML'
secrets: {env: [LONG_SECRET, SHORT_SECRET]}
steps:
  - name: w
    run: |
      printf %s "$LONG_SECRET" | base64
      printf %s "$LONG_SECRET" | openssl base64
      printf %s "$LONG_SECRET" | xxd -p
      { head -c 50 /dev/zero | tr '\0' x; printf %s "$SHORT_SECRET"; head -c 90 /dev/zero | tr '\0' y; } | base64 -w 76
      { head -c 25 /dev/zero | tr '\0' x; printf %s "$SHORT_SECRET"; head -c 40 /dev/zero | tr '\0' y; } | xxd -p
      { printf 'x'; printf %s "$SHORT_SECRET"; printf 'tail'; } | base64 -w 7 | tr '\n' '\r' | sed 's/\r/\r\n/g'
YAML
LONG_SECRET=$LONG_SECRET SHORT_SECRET=crossing-the-break-42 run "$JOBRUN" run wrapped.yaml
is "$status" 0 "a job printing wrapped encodings runs"
# A leak: 8 characters of an encoding of a secret, once the bytes DROP
# (tr's set) are gone from out.  Prints how many such pieces show.
leaks()
{
	_drop=$1
	shift
	tr -d "$_drop" <out >joined
	_n=0
	for _enc in "$@"; do
		_i=1
		while [ $_i -le $((${#_enc} - 12)) ]; do
			_part=$(printf %s "$_enc" | cut -c "$_i-$((_i + 7))")
			grep -qF -- "$_part" joined && _n=$((_n + 1))
			_i=$((_i + 4))
		done
	done
	echo "$_n"
}
LONG_BASE64=$(printf %s "$LONG_SECRET" | base64 -w0)
LONG_HEX=$(printf %s "$LONG_SECRET" | xxd -p | tr -d '\n')
n=$(leaks '\r\n' "$LONG_BASE64" "$LONG_HEX" \
	"$(printf 'xxcrossing-the-break-42' | base64 -w0 | cut -c 4-28)" \
	"$(printf %s crossing-the-break-42 | xxd -p | tr -d '\n')")
is "$n" 0 "no 8 characters of a wrapped base64 or hex run of a secret show"
# The same runs indented, as sed, a YAML block scalar or Helm's indent
# write them, with spaces or a tab.
cat >indented.yaml <<'YAML'
secrets: {env: [LONG_SECRET]}
steps:
  - name: w
    run: |
      printf %s "$LONG_SECRET" | base64 | sed 's/^/    /'
      printf 'data:\n  tls.key: |\n'; printf %s "$LONG_SECRET" | openssl base64 | sed 's/^/    /'
      printf %s "$LONG_SECRET" | xxd -p | sed 's/^/\t/'
      printf %s "$LONG_SECRET" | base64 -w 20 | sed 's/^/  /' | sed 's/$/\r/'
YAML
LONG_SECRET=$LONG_SECRET run "$JOBRUN" run indented.yaml
is "$status" 0 "a job printing indented wrapped encodings runs"
is "$(leaks '\r\n \t' "$LONG_BASE64" "$LONG_HEX")" 0 \
	"no 8 characters of an indented wrapped run of a secret show"
contains out "  tls.key: |" "the YAML around it stays"
# A long value that PyYAML wraps at a space, plain and single-quoted (a
# break and an indent count as the space they replace).
cat >yamlwrap.yaml <<'YAML'
secrets: {env: [CONN]}
steps:
  - name: y
    run: |
      $PYTHON3 -c 'import os, yaml; print(yaml.safe_dump({"connectionString": os.environ["CONN"]}), end="")'
      $PYTHON3 -c 'import os, yaml; print(yaml.safe_dump({"c": "it'"'"'s: " + os.environ["CONN"]}), end="")'
YAML
CONN='Server=tcp:db.example.com,1433; Database=prod; User ID=admin; Password=Sup3r$ecret!x; Encrypt=true; Connection Timeout=30' \
	PYTHON3=$PYTHON3 run "$JOBRUN" run yamlwrap.yaml
is "$status" 0 "a job dumping a long secret with PyYAML runs"
contains out "connectionString: ***" "its wrapped plain scalar is masked"
contains out "c: 'it''s: ***'" "and its wrapped single-quoted scalar"
lacks out "Sup3r" "no part of it shows"
# A step that pauses after a line and an indent: the line shows while it
# waits (the indent waits for what follows it, which may fold with it).
cat >pause.yaml <<YAML
secrets: {env: [LONG_SECRET]}
steps:
  - name: p
    run: |
      printf 'progress abc\\n    '
      while [ ! -e '$PWD/go' ]; do sleep 0.05; done
      printf 'done\\n'
YAML
rm -f go
LONG_SECRET=$LONG_SECRET "$JOBRUN" run --log-format json pause.yaml \
	>pause.out 2>&1 &
pid=$!
wait_for pause.out '"text":"progress abc"'
ok "grep -q '\"text\":\"progress abc\"' pause.out" \
	"a line before a paused indent shows, whole, while the step waits"
touch go
wait $pid
is "$?" 0 "the step then ends"
contains pause.out '"text":"    done"' "with the indent before what followed it"
# ---- env_globs over every layer a step's environment comes from ----
cat >globs.yaml <<'YAML'
name: globs
env: {DEPLOY_TOKEN: from-the-job-file-4321}
secrets: {env_globs: ['*_TOKEN']}
steps:
  - {name: show, run: 'echo "file=$DEPLOY_TOKEN jobenv=$CLOUD_TOKEN"'}
YAML
run "$JOBRUN" run --job-env 'CLOUD_TOKEN=from-the-job-env-8765' globs.yaml
is "$status" 0 "a job whose env layers hold globbed secrets runs"
contains out "file=*** jobenv=***" \
	"env_globs mask values from the job file's env: and from --job-env"
lacks .jobrun/logs/show.log "from-the-job" "and the log has neither"
# ---- a name that holds a secret is refused before anything shows it ----
cat >named.yaml <<'YAML'
name: named
secrets: {env: [STEP_SECRET]}
steps:
  - {name: fine, run: 'true'}
  - {name: deploy-hunter22-prod, run: 'true'}
YAML
run env STEP_SECRET=hunter22-prod "$JOBRUN" run named.yaml
is "$status" 125 "a step named after a secret: the job is refused (125)"
contains err "the name of step 2 (in the order of the job file, from 1) holds a secret" \
	"the message says which step, by its place"
lacks err "hunter22" "and never shows the secret"
ok "! grep -rq hunter22 .jobrun && ! find .jobrun | grep -q hunter22" \
	"nor does any file or file name in the workspace"

# A secret that is a document: the credentials in it are masked on their
# own, as a tool prints one (a service account's private key and key id,
# a kubeconfig's token, an AWS credentials file's key, a .netrc password),
# its names, types and public URLs are not.
cat >sa.json <<'JSON'
{"type": "service_account", "project_id": "acme-ci-project",
 "private_key_id": "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
 "private_key": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nbm90LWEtcmVhbC1rZXktanVzdC1ieXRlcw\n-----END PRIVATE KEY-----\n",
 "token_uri": "https://oauth2.googleapis.com/token"}
JSON
printf 'users:\n- name: ci-deployer\n  user:\n    token: eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2ln\n' >kube.yaml
printf '[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n' >credentials
printf 'machine 127.0.0.1 login ci-bot password Zq8ghpTr0ub4dor3xK9m\n' >netrc
cat >docs.yaml <<YAML
secrets: {env: [SA_KEY, KUBE], files: [$TEST_DIR/credentials, $TEST_DIR/netrc]}
steps:
  - name: d
    run: |
      printf '%s' "\$SA_KEY" | "$PYTHON3" -c 'import json,sys; d=json.load(sys.stdin); print(d["private_key"]); print("id", d["private_key_id"]); print(d["type"], d["token_uri"])'
      printf '%s\n' "\$KUBE" | "$PYTHON3" -c 'import yaml,json,sys; print(json.dumps(yaml.safe_load(sys.stdin)))'
      "$PYTHON3" -c 'import configparser; c=configparser.ConfigParser(); c.read("$TEST_DIR/credentials"); print("key", c["default"]["aws_secret_access_key"])'
      echo "pw \$(awk '{print \$6}' "$TEST_DIR/netrc")"
YAML
SA_KEY=$(cat sa.json) KUBE=$(cat kube.yaml) run "$JOBRUN" run docs.yaml
is "$status" 0 "a job printing credentials out of secret documents runs"
contains out "id ***" "a service account's key id is masked"
contains out '"token": "***"' "a kubeconfig's token"
contains out "key ***" "an AWS secret access key"
contains out "pw ***" "a .netrc password"
ok "! grep -q 'MIIEvQ\|bm90LWEt\|9f8e7d6c\|eyJhbGci\|wJalrX\|Zq8ghp' out" \
	"no part of any shows"
contains out "service_account https://oauth2.googleapis.com/token" \
	"the document's type and public URL are not masked"
contains out '"name": "ci-deployer"' "nor its names"

# A document registered at run time: the credentials in it are masked on
# their own too, its other members are not.
cat >regdoc.yaml <<'YAML'
steps:
  - name: r
    run: |
      printf '%s' '{"type": "svc-account-kind", "token": "reg-member-token-12345"}' | jobrun secret add
      echo "tok reg-member-token-12345 type svc-account-kind"
      printf 'kind: Secret\nstringData:\n  credentials.json: %s\n' "'{\"private_key\": \"nested-key-67890\"}'" | jobrun secret add
      echo "nested nested-key-67890"
YAML
run "$JOBRUN" run regdoc.yaml
is "$status" 0 "a step registering a JSON document runs"
contains out "tok *** type svc-account-kind" \
	"its token is masked on its own, its type is not"
contains out "nested ***" "so is a credential in a document inside it"

# A tool that colours a match inside a secret (grep --color=always, as a
# step scanning for leaked tokens would run it) does not unmask it.
cat >colour.yaml <<'YAML'
secrets: {env: [COLOUR_SECRET]}
steps:
  - name: g
    run: |
      printf 'config.yml:3:token: %s\n' "$COLOUR_SECRET" >cfg.txt
      grep -n --color=always ghp_ cfg.txt
YAML
COLOUR_SECRET=Zq8-ghp_Tr0ub4dor3xK9mLp2vWn7Yc run "$JOBRUN" run colour.yaml
is "$status" 0 "a job grepping for a secret with colours runs"
contains out "token: ***" "the coloured secret is masked"
lacks out "Tr0ub4dor" "no part of it shows"

# A password in a source URL is a secret; one too short to mask is said to
# be, never shown.
printf 'steps: [{name: a, run: "echo ran"}]\n' >url.yaml
run "$JOBRUN" run --source-type none \
	--source-url 'https://ci:pw7@127.0.0.1:1/app.git' url.yaml
is "$status" 0 "a job with a short password in its source URL runs"
contains err "a secret from the source URL is too short to mask safely" \
	"a warning says it is not masked"
lacks err "pw7" "without showing it"

# A source's ssh_key_file is a secret as its token_file is: a step that can
# read the private key and prints it shows it masked, line by line.
cat >key <<'KEY'
-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAABFwAAAAdzc2gtcn
NhAAAAAwEAAQAAAQEA4Q0oMwSRDMw22lrPToUMSGDYpzLx9GfHfAQpaqdZtdjLuPbCIA0s
9515qX7k2Weie4AhAAAAB3Jvb3RAdm0BAgM=
-----END OPENSSH PRIVATE KEY-----
KEY
printf 'source: {type: none, ssh_key_file: "%s/key"}\nsteps: [{name: a, run: "sed -n 2,3p %s/key"}]\n' \
	"$TEST_DIR" "$TEST_DIR" >key.yaml
run "$JOBRUN" run key.yaml
is "$status $(grep -c '^\*\*\*$' out)" "0 2" "an ssh_key_file's lines are masked"
lacks out "b3BlbnNzaC1rZXkt" "no line of the key shows"
done_testing
