#!/bin/sh
# No secret in a command line: any process may read any other's
# /proc/PID/cmdline (untrusted steps too, without a PID namespace of their
# own), so jobrun must never put a secret in the argv of a process it
# starts.  A scanner reads every /proc/*/cmdline over and over while a job
# with secrets from every source runs steps, hooks and `jobrun secret add`
# (each kept alive long enough to be seen); it must find none of them, and
# must have seen those processes (so that it could have).
. "$JOBRUN_SRCDIR/tests/lib.sh"
plan 10

ENV_SECRET=env-secret-$$-value
FILE_SECRET=file-secret-$$-value
LIST_SECRET=list-secret-$$-value
ADDED_SECRET=added-secret-$$-value
HOOK_SECRET=hook-secret-$$-value
# A control the scanner must find: the test puts it on a command line.
CONTROL=control-secret-$$-value
printf '%s\n' "$ENV_SECRET" "$FILE_SECRET" "$LIST_SECRET" "$ADDED_SECRET" \
	"$HOOK_SECRET" "$CONTROL" >secrets.list
printf '%s' "$FILE_SECRET" >secret-file
chmod 600 secret-file

# The scanner: records each secret it finds in a command line, and the
# markers of the processes it must see.
cat >scan.py <<'PY'
import os, sys
secrets = [s.encode() for s in open("secrets.list").read().split()]
markers = [m.encode() for m in open("markers.list").read().splitlines()]
me = str(os.getpid())
seen, found, scans = set(), set(), 0
open("scanner.ready", "w").close()
while not os.path.exists("scanner.stop"):
    scans += 1
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or pid == me:
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                line = f.read().replace(b"\0", b" ")
        except OSError:
            continue
        for s in secrets:
            if s in line:
                found.add("%s in %r" % (s.decode(), line[:60]))
        for m in markers:
            if m in line:
                seen.add(m.decode())
with open("scan.out", "w") as out:
    out.write("scans %d\n" % scans)
    for m in sorted(seen):
        out.write("seen %s\n" % m)
    for f in sorted(found):
        out.write("FOUND %s\n" % f)
PY

# The exec-hooks plugin, copied where only we can write (jobrun refuses
# a plugin from a directory others may write to).
mkdir -m 755 plugins
cp "$JOBRUN_BUILDDIR/plugins/exec-hooks.so" plugins/
mkdir -p hooks/pre-execution.d hooks/post-execution.d
printf '#!/bin/sh\nsleep 0.5\necho "hook saw ${#HOOK_TOKEN} bytes"\n' \
	>hooks/pre-execution.d/10-marker-hook-$$
printf '#!/bin/sh\nsleep 0.3\n' >hooks/post-execution.d/10-marker-hook-$$
chmod 755 hooks/*/*
cat >job.yaml <<EOF
env: {DEPLOY_TOKEN: $ENV_SECRET, HOOK_TOKEN: $HOOK_SECRET}
secrets:
  env: [DEPLOY_TOKEN, HOOK_TOKEN]
  files: [$TEST_DIR/secret-file]
plugins:
  - {path: exec-hooks, config: {dir: $TEST_DIR/hooks}}
steps:
  - name: trusted
    run: |
      sleep 0.5 # marker-step-$$
      (sleep 0.5; printf '%s\\n' "added-secret-\$PPID" >/dev/null; printf '%s\\n' "\$ADDED") |
        ASAN_OPTIONS=\${ASAN_OPTIONS:+\$ASAN_OPTIONS:}detect_leaks=0 jobrun secret add
      echo "added: \$?"
  - name: untrusted
    trusted: false
    depends_on: [trusted]
    run: 'sleep 0.5 # marker-untrusted-$$'
EOF
printf '%s\n' "marker-step-$$" "marker-hook-$$" "marker-untrusted-$$" \
	"jobrun secret add" "jobrun run" >markers.list
"$PYTHON3" scan.py &
scanner=$!
i=0
while [ ! -e scanner.ready ] && [ $i -lt 500 ]; do sleep 0.02; i=$((i + 1)); done
sh -c 'sleep 0.5' "$CONTROL" &
chmod 755 "$TEST_DIR"
mkdir -p ws/src ws/ci
JOBRUN_UNTRUSTED_USER=$((1900000002 + $$ % 10000000 * 4)) \
	JOBRUN_SECRET_VALUES_LIST=$LIST_SECRET ADDED=$ADDED_SECRET \
	JOBRUN_PLUGIN_DIR=$TEST_DIR/plugins \
	run "$JOBRUN" run --workspace "$TEST_DIR/ws" job.yaml
touch scanner.stop
wait $scanner
is "$status" 0 "the job with secrets runs"
contains out "added: 0" "a secret is added from standard input"
cat out err >all
contains all "hook saw" "the hook ran"
contains scan.out "seen marker-step-$$" "the scanner saw the step's command line"
contains scan.out "seen marker-hook-$$" "and the hooks'"
contains scan.out "seen marker-untrusted-$$" "and the untrusted step's"
contains scan.out "seen jobrun secret add" "and jobrun secret add's"
contains scan.out "seen jobrun run" "and jobrun's own"
contains scan.out "FOUND $CONTROL" "the scanner finds a secret in a command line"
ok "! grep FOUND scan.out | grep -qv '$CONTROL'" \
	"no secret of the job was in any command line"
done_testing
