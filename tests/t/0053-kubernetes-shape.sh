#!/bin/sh
# examples/kubernetes' job shape under exactly the example's capability set
# (setpriv, read from manifest.yaml): a trusted root build writes the code
# directory, the untrusted run_as test step writes there too (also files
# the build made), the trusted publish step reads the secret file and
# writes over what the untrusted step made, and the report always runs.
# The job file is the example's, with the source already in place, the
# secret file and run_as uid of this test, and the branch given.
# (tests/container/run.sh runs the same in a real container.)
. "$JOBRUN_SRCDIR/tests/lib.sh"

if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null 2>&1; then
	echo "1..0 # SKIP needs root and setpriv"
	exit 0
fi
plan 12

EXAMPLE=$JOBRUN_SRCDIR/examples/kubernetes
CAPS=$(sed -n 's/^ *add: \[\(.*\)\]$/\1/p' "$EXAMPLE/manifest.yaml" |
	tr 'A-Z' 'a-z' | tr -d ' ')
BSET=-all,$(echo ",$CAPS" | sed 's/,/,+/g; s/^,//')
AS=$((1900000003 + $$ % 10000000 * 4))
TOKEN=k8s-token-$$-value
chmod 755 "$TEST_DIR"
mkdir -p ws/src secrets
printf '%s' "$TOKEN" >secrets/api-token
chmod 400 secrets/api-token

# The code under test: a build, a test suite, a publisher, a report.
cat >ws/src/Makefile <<'EOF'
all:
	mkdir -p obj && echo built >obj/app.o && echo build >build.log
check:
	echo test-uid-$$(id -u) >>build.log && echo ran >obj/check.o && echo ok >test-results
EOF
cat >ws/src/publish.sh <<'EOF'
#!/bin/sh
[ "$1" = --token-file ] && [ -s "$2" ] && echo "publish: token of $(wc -c <"$2") bytes"
echo published >>test-results && echo "publish: wrote test-results"
EOF
printf '#!/bin/sh\necho "report: $(cat test-results | tr "\\n" " ")"\n' \
	>ws/src/report.sh
chmod 755 ws/src/publish.sh ws/src/report.sh

sed -e '/^source:/d' \
	-e "s|/run/secrets/jobrun/api-token|$TEST_DIR/secrets/api-token|g" \
	-e "s|run_as: \"1000:1000\"|run_as: \"$AS:$AS\"|" \
	"$EXAMPLE/job.yaml" >job.yaml
ok "grep -q 'run_as: \"$AS:$AS\"' job.yaml && ! grep -q '^source:' job.yaml" \
	"the example's job file, adapted"

run setpriv --bounding-set="$BSET" --inh-caps=-all -- \
	"$JOBRUN" run --workspace "$TEST_DIR/ws" --branch main job.yaml
is "$status" 0 "the example's job runs with the example's capabilities ($CAPS)"
L=ws/logs
contains "$L/build.log" "mkdir -p obj" "build ran"
ok "[ -s ws/src/obj/app.o ]" "the trusted build wrote the code directory"
ok "grep -qx 'test-uid-$AS' ws/src/build.log" \
	"the untrusted test ran as its run_as uid and wrote a file the build made"
ok "[ -s ws/src/obj/check.o ]" "and in a directory the build made"
contains "$L/publish.log" "publish: token of ${#TOKEN} bytes" \
	"the trusted publish step read the secret file"
contains "$L/publish.log" "publish: wrote test-results" \
	"and wrote a file the untrusted step made"
# (report and publish both wait for test only: which runs first is open.)
contains "$L/report.log" "report: ok" "the report ran"
"$PYTHON3" - >outcomes <<'PY'
import json
r = json.load(open("ws/result.json"))
print(" ".join("%s=%s" % (s["name"], s["outcome"]) for s in r["steps"]))
PY
contains outcomes "build=success test=success publish=success report=success" \
	"every step succeeded"
ok "! grep -rqa -- '$TOKEN' out err ws/logs" "the token is in no output"
ok "[ \$(stat -c %u ws/src/obj/app.o) = 0 ]" "files keep their owner"
done_testing
