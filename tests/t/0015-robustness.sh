#!/bin/sh
# Hard cases for the engine: what a step leaves behind floods its pipe or
# forwards its last lines, clean-up after a timeout, a step that wants a
# terminal, signals ignored by jobrun's parent, a workspace where
# result.json cannot be written.
. "$JOBRUN_SRCDIR/tests/lib.sh"
plan 13

# A leftover that ignores SIGTERM and writes without pause: the job still
# ends, on time.
cat >flood.yaml <<'YAML'
steps:
  - name: a
    run: (trap '' TERM; while :; do echo flood-@TAG@; done) & sleep 0.2; echo main-exits
  - {name: b, run: echo b, depends_on: [a]}
YAML
detag flood.yaml
run timeout 30 "$JOBRUN" run -j1 --grace-period 1s flood.yaml
is "$status" 0 "a flooding leftover that ignores SIGTERM does not hang the job"
ok "! pgrep -f 'echo flood-$TAG' >/dev/null" "and it is gone"

# A forwarder in the step's group (bash's exec > >(tee ...)) delivers every
# line before the group is ended.
cat >tee.yaml <<'YAML'
shell: bash
steps:
  - name: a
    run: exec > >(tee tee.log) 2>&1; for i in $(seq 1 20000); do echo line $i; done; echo LAST
YAML
run "$JOBRUN" run -j1 tee.yaml
is "$(tail -n 1 out)" "LAST" "the last line forwarded by tee reaches the console"
is "$(tail -n 1 tee.log)" "LAST" "and tee itself finishes its file"

# After the job timed out, an always() step runs, with its own budget.
cat >cleanup.yaml <<'YAML'
steps:
  - {name: build, run: sleep 5}
  - {name: report, run: echo reporting, depends_on: [build], if: always()}
YAML
run "$JOBRUN" run -j1 --timeout 1s --grace-period 2s cleanup.yaml
is "$status" 124 "the job times out"
contains err "step 'report': success" "a clean-up step still runs after the timeout"
contains out "reporting" "and prints"

# A clean-up step that hangs after a cancel is ended after the grace period.
cat >hang.yaml <<'YAML'
steps:
  - {name: long, run: "echo ready; sleep 30"}
  - {name: stuck, run: "sleep 30", depends_on: [long], if: cancelled()}
YAML
rm -f out
"$JOBRUN" run -j1 --grace-period 1s hang.yaml >out 2>err &
pid=$!
wait_for out ready
kill -TERM $pid
start=$(date +%s)
wait $pid
status=$?
is "$status" 143 "a cancelled job with a hanging clean-up step exits 143"
elapsed=$(( $(date +%s) - start ))
ok "[ $elapsed -lt 10 ]" "within its grace periods (${elapsed}s)"
[ $elapsed -lt 10 ] || sed 's/^/# /' err

# A step that wants a terminal fails at once rather than stopping the job.
if command -v script >/dev/null; then
	cat >tty.yaml <<'YAML'
steps:
  - {name: asks, run: "read answer < /dev/tty"}
YAML
	TERM=dumb run timeout 20 script -qec "\"$JOBRUN\" run tty.yaml" /dev/null
	contains out "step 'asks': failed" "a step opening /dev/tty fails instead of hanging"
else
	ok true "# SKIP script(1) is not installed"
fi

# Signals ignored by jobrun's parent are not ignored by the steps.
cat >ignored.yaml <<'YAML'
steps:
  - {name: long, run: "echo ready; sleep 30; echo survived"}
YAML
rm -f out
sh -c "trap '' TERM INT; exec \"$JOBRUN\" run --grace-period 20s ignored.yaml" >out 2>err &
pid=$!
wait_for out ready
kill -TERM $pid
wait $pid
lacks out "survived" "steps get default signal handling back"

# A console inherited in non-blocking mode loses nothing.
cat >nonblocking.py <<'PY'
import fcntl, os, subprocess, sys, time
r, w = os.pipe()
fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)
p = subprocess.Popen([sys.argv[1], "run", "--job-command", "seq 1 200000"],
                     stdout=w, stderr=subprocess.DEVNULL)
os.close(w)
time.sleep(0.3)
data = b""
while True:
    chunk = os.read(r, 65536)
    if not chunk:
        break
    data += chunk
sys.exit(0 if p.wait() == 0 and len(data) == 1288895 else 1)
PY
ok "$PYTHON3 nonblocking.py \"$JOBRUN\"" \
	"a non-blocking console gets every byte (jobrun waits instead of dropping)"

# result.json that cannot be written is jobrun's error, before any step.
if unshare --mount true 2>/dev/null; then
	mkdir ro
	run unshare --mount sh -c "mount -t tmpfs tmpfs ro && mkdir -p ro/logs ro/outputs &&
		mount -o remount,ro ro && \"$JOBRUN\" run --workspace \"$TEST_DIR/ro\" --code-dir . --job-command 'touch ran'"
	is "$status" 125 "a read-only workspace exits 125"
else
	ok true "# SKIP unshare --mount needs root"
fi
done_testing
