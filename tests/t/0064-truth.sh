#!/bin/sh
# The truth on every exit path, and nothing that blocks the loop: a source
# that fails, a plugin that crashes, files a step plants where jobrun
# writes or reads, a console nobody reads, symlinked workspace directories,
# and local runs in a row.  The real binary, real processes and signals.
. "${JOBRUN_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"

plan 101

WS=$TEST_DIR/ws
mkdir -p "$WS/src"
JOBRUN_WORKSPACE=$WS
JOBRUN_CODE_DIR=$WS/src
export JOBRUN_WORKSPACE JOBRUN_CODE_DIR

# stale: what an earlier, successful run left on a reused volume.
stale()
{
	printf '{"outcome": "success", "exit_status": 0}\n' >"$WS/result.json"
	printf '{"type": "trigger_job", "jobs": [{"job_name": "old"}]}\n' \
		>"$WS/triggers.json"
	printf '{"old": "output"}\n' >"$WS/outputs.json"
}

# ---- a source that fails ----
cat >src-fails.yaml <<YAML
name: src-fails
source: {type: copy, url: $TEST_DIR/no-such-tree}
steps:
  - {name: s1, run: 'touch $TEST_DIR/ran'}
triggers:
  - {job: on-success, when: success}
  - {job: on-failure, when: failure}
  - {job: on-always, when: always}
YAML
stale
run "$JOBRUN" run src-fails.yaml
is "$status" 125 "a source that fails: exit 125"
ok '[ ! -e "$TEST_DIR/ran" ]' "no step ran"
is "$(field "$WS/result.json" 'd["outcome"]')" error \
	"result.json says error, not the stale success"
is "$(field "$WS/result.json" 'd["exit_status"]')" 125 \
	"result.json has exit status 125"
is "$(field "$WS/result.json" '"source" in d["error"]')" True \
	"result.json says why: the source"
is "$(field "$WS/result.json" '[s["outcome"] for s in d["steps"]]')" \
	"['skipped']" "the step is reported skipped"
is "$(field "$WS/triggers.json" 'sorted(j["job_name"] for j in d["jobs"])')" \
	"['on-always', 'on-failure']" \
	"triggers.json has the always and failure triggers, not the stale one"
is "$(field "$WS/outputs.json" '"old" in d')" False \
	"the stale outputs.json is gone"

# ---- a job that is not valid, once the workspace is known ----
cat >cycle.yaml <<YAML
name: cycle
steps:
  - {name: a, run: 'true', depends_on: [b]}
  - {name: b, run: 'true', depends_on: [a]}
triggers:
  - {job: on-always, when: always}
YAML
stale
run "$JOBRUN" run cycle.yaml
is "$status" 125 "a cycle: exit 125"
is "$(field "$WS/result.json" 'd["outcome"]')" error "result.json says error"
is "$(field "$WS/triggers.json" '[j["job_name"] for j in d["jobs"]]')" \
	"[]" "triggers.json is written, with no job from a file that is not valid"
is "$(wc -l <"$TEST_DIR/err")" 1 "and the one message names the problem"

# ---- a plugin that crashes ----
P=$TEST_DIR/plugins
mkdir -m 755 "$P"
cp "$JOBRUN_BUILDDIR/tests/plugins/crash.so" "$P/crash.so"
chmod 644 "$P/crash.so"
chmod 755 "$TEST_DIR"
crash_job()
{
	cat >crash.yaml <<YAML
name: crashing
plugins:
  - {path: $P/crash.so, config: {crash_phase: $1, crash_how: $2}}
steps:
  - {name: s1, run: 'echo step ran'}
  - {name: s2, run: 'sleep 0.1', depends_on: [s1]}
triggers:
  - {job: on-failure, when: failure}
  - {job: on-success, when: success}
YAML
}
for how in segv:11 abort:6; do
	crash_job POST_EXECUTION "${how%:*}"
	stale
	# A sanitizer build would turn the signal into its own report.
	run env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0:handle_abort=0" \
		timeout 30 "$JOBRUN" run crash.yaml
	is "$status" 125 "a plugin's ${how%:*} in POST_EXECUTION: exit 125"
	is "$(field "$WS/result.json" 'd["outcome"]')" error \
		"${how%:*}: result.json says error, not running"
	is "$(field "$WS/result.json" 'd["signal"]')" "${how#*:}" \
		"${how%:*}: result.json names the signal"
	is "$(field "$WS/result.json" '[s["outcome"] for s in d["steps"]]')" \
		"['success', 'success']" \
		"${how%:*}: the steps that ran keep their outcomes"
	is "$(field "$WS/triggers.json" '[j["job_name"] for j in d["jobs"]]')" \
		"['on-failure']" "${how%:*}: triggers.json has the failure trigger"
	contains err "job process was killed by signal ${how#*:}" \
		"${how%:*}: the message says what happened"
done
crash_job PRE_EXECUTION segv
run timeout 30 "$JOBRUN" run crash.yaml
is "$status" 125 "a crash before the steps: exit 125"
is "$(field "$WS/result.json" '[s["outcome"] for s in d["steps"]]')" \
	"['skipped', 'skipped']" "no step ran, none is left running"
crash_job POST_EXECUTION exit
run timeout 30 "$JOBRUN" run crash.yaml
is "$status" 125 "a plugin calling exit(0): exit 125, not 0"
is "$(field "$WS/result.json" 'd["outcome"]')" error \
	"exit(0): result.json says error"
contains err "exited with status 0 before the job ended" \
	"exit(0): the message says so"

# ---- files a step plants ----
cat >plant.yaml <<'YAML'
name: plant
steps:
  - name: planter
    run: |
      rm -f "$JOBRUN_OUTPUT"
      mkfifo "$JOBRUN_OUTPUT"
      mkfifo "$JOBRUN_WORKSPACE/logs/later.log"
      echo outside >"$JOBRUN_WORKSPACE/../outside"
      ln -s "$JOBRUN_WORKSPACE/../outside" "$JOBRUN_WORKSPACE/logs/third.log"
      mkfifo "$JOBRUN_WORKSPACE/outputs/later.env"
  - {name: later, run: 'echo later wrote', depends_on: [planter]}
  - {name: third, run: 'echo third wrote', depends_on: [later]}
YAML
run timeout 30 "$JOBRUN" run plant.yaml
is "$status" 0 "FIFOs and symlinks planted by a step: the job still ends, 0"
contains err "not a regular file" "a FIFO as \$JOBRUN_OUTPUT is refused, said"
is "$(cat "$WS/logs/later.log" 2>&1)" "later wrote" \
	"a FIFO at a later step's log is replaced by the log"
ok '[ -f "$WS/logs/later.log" ] && [ ! -p "$WS/logs/later.log" ]' \
	"the log is a regular file"
is "$(cat "$TEST_DIR/outside")" "outside" \
	"a symlinked log is not followed: the file outside is untouched"
is "$(cat "$WS/logs/third.log")" "third wrote" "the log is written in its place"
is "$(field "$WS/result.json" 'd["outcome"]')" success "result.json is written"

# A FIFO where result.json and triggers.json go: replaced, never opened.
cat >plant2.yaml <<'YAML'
name: plant2
steps:
  - name: planter
    run: |
      rm -f "$JOBRUN_WORKSPACE/result.json" "$JOBRUN_WORKSPACE/triggers.json"
      mkfifo "$JOBRUN_WORKSPACE/result.json" "$JOBRUN_WORKSPACE/triggers.json"
      mkfifo "$JOBRUN_WORKSPACE/outputs.json"
triggers:
  - {job: next, when: always}
YAML
run timeout 30 "$JOBRUN" run plant2.yaml
is "$status" 0 "FIFOs at result.json, triggers.json, outputs.json: job ends, 0"
ok '[ -f "$WS/result.json" ] && [ ! -p "$WS/result.json" ]' \
	"result.json is a regular file again"
is "$(field "$WS/triggers.json" '[j["job_name"] for j in d["jobs"]]')" \
	"['next']" "triggers.json is written"

# Directories at the temporary names the final writes would have used (a
# step can guess its parent's pid): the names are not guessable any more.
cat >plant3.yaml <<'YAML'
name: plant3
steps:
  - name: planter
    run: |
      for f in result.json triggers.json outputs.json; do
        mkdir -p "$JOBRUN_WORKSPACE/$f.tmp.$PPID/x"
      done
triggers:
  - {job: next, when: always}
YAML
run timeout 30 "$JOBRUN" run plant3.yaml
is "$status" 0 "directories at NAME.tmp.PID beside the result files: job ends, 0"
is "$(field "$WS/result.json" 'd["outcome"]')" success "result.json is written"
is "$(field "$WS/triggers.json" '[j["job_name"] for j in d["jobs"]]')" \
	"['next']" "and triggers.json"

# A workspace that fills: the result.json of the job's start (it says
# "running") is never left for the truth.
if [ "$(id -u)" = 0 ] && mkdir "$TEST_DIR/full" &&
	mount -t tmpfs -o size=1m tmpfs "$TEST_DIR/full" 2>/dev/null; then
	mkdir "$TEST_DIR/full/src"
	cat >full.yaml <<'YAML'
steps:
  - {name: a, run: "head -c 3000000 /dev/zero | tr '\\0' y; exit 3"}
YAML
	run timeout 60 "$JOBRUN" run --workspace "$TEST_DIR/full" \
		--code-dir "$TEST_DIR/full/src" full.yaml
	ok '[ "$status" = 1 ] || [ "$status" = 125 ]' "a full workspace: the job ends (1 or 125)"
	ok "! grep -q '\"running\"' '$TEST_DIR/full/result.json' 2>/dev/null" \
		"no result.json says it is still running"
	umount "$TEST_DIR/full"
else
	for what in "a full workspace" "a full workspace's result.json"; do
		_tap_count=$((_tap_count + 1))
		echo "ok $_tap_count # skip $what: needs root and tmpfs"
	done
fi

# ---- symlinked logs/ and outputs/ ----
mkdir "$TEST_DIR/elsewhere"
for dir in logs outputs; do
	rm -rf "$WS/logs" "$WS/outputs"
	ln -s "$TEST_DIR/elsewhere" "$WS/$dir"
	echo keep >"$TEST_DIR/elsewhere/keep.log"
	run timeout 30 "$JOBRUN" run --job-command 'echo hi'
	is "$status" 125 "a symlinked $dir/ is refused: 125"
	contains err "'$dir': not a directory (a symbolic link" \
		"$dir/: the message says why"
	is "$(ls "$TEST_DIR/elsewhere")" keep.log \
		"$dir/: nothing outside the workspace is touched"
	is "$(field "$WS/result.json" 'd["outcome"]')" error \
		"$dir/: result.json says error"
	rm -f "$WS/$dir"
done

# ---- a console nobody reads ----
# The step floods stdout and outlives its 1 s timeout; jobrun's stdout is a
# pipe to a reader that never reads.  The timeout still acts, and jobrun
# ends long before the reader does.
cat >flood.yaml <<'YAML'
name: flood

steps:
  - {name: flood, run: 'yes flooding the console; sleep 100', timeout: 1s}
YAML
rm -f rc
( "$JOBRUN" run --grace-period 1s flood.yaml 2>flood.err; echo $? >rc ) | sleep 30 &
reader=$!
n=0
while [ ! -s rc ] && [ $n -lt 150 ]; do sleep 0.1; n=$((n + 1)); done
is "$(cat rc 2>/dev/null)" 124 \
	"console unread: the 1 s step timeout acts (124) before the reader ends"
is "$(field "$WS/result.json" '[s["outcome"] for s in d["steps"]]')" \
	"['timed_out']" "the step is timed out"
ok '[ "$(stat -c %s "$WS/logs/flood.log")" -gt 1000000 ]' \
	"the step's log got its output though the console took little"
kill $reader 2>/dev/null
wait 2>/dev/null

# SIGTERM while the console is unread.
cat >flood2.yaml <<'YAML'
name: flood2

steps:
  - {name: flood, run: 'yes flooding the console'}
YAML
rm -f rc pid
( "$JOBRUN" run --grace-period 1s flood2.yaml 2>flood.err & echo $! >pid; wait $!; echo $? >rc ) | sleep 30 &
reader=$!
n=0
while [ ! -s pid ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
sleep 1
kill -TERM "$(cat pid)"
n=0
while [ ! -s rc ] && [ $n -lt 150 ]; do sleep 0.1; n=$((n + 1)); done
is "$(cat rc 2>/dev/null)" 143 \
	"console unread: SIGTERM acts (143) before the reader ends"
is "$(field "$WS/result.json" 'd["outcome"]')" cancelled \
	"result.json says cancelled"
kill $reader 2>/dev/null
wait 2>/dev/null

# ---- local runs in a row ----
mkdir -p "$TEST_DIR/laptop/tree" && cd "$TEST_DIR/laptop" || exit 1
echo one >tree/file
cat >job.yaml <<YAML
name: local
source: {type: copy, url: $TEST_DIR/laptop/tree}
steps:
  - {name: show, run: 'cat file'}
YAML
unset JOBRUN_WORKSPACE JOBRUN_CODE_DIR
run "$JOBRUN" run --local job.yaml
is "$status" 0 "local: the first run with a source succeeds"
echo two >tree/file
run "$JOBRUN" run --local job.yaml
is "$status" 0 "local: the second run succeeds too"
is "$(cat .jobrun/src/file)" two "the source was prepared afresh"
contains "$TEST_DIR/out" two "and the step saw the new source"
echo stale >.jobrun/logs/old.log
run "$JOBRUN" run --local --clean job.yaml
is "$status" 0 "--clean removes what earlier runs made, its source included"
is "$(ls -A .jobrun/logs)" show.log "with fresh logs"
rm -f .jobrun/.src.jobrun-source
run "$JOBRUN" run --local --clean job.yaml
is "$status" 125 "a source directory jobrun did not prepare is refused, --clean or not"
contains "$TEST_DIR/err" "jobrun did not prepare this one: remove it" \
	"the message says how to go on"
cd "$TEST_DIR" || exit 1
run "$JOBRUN" run --no-local --clean --workspace "$WS" --job-command true
is "$status" 125 "--clean outside local mode is refused"
contains err "--clean empties the local workspace only" "saying why"

# ---- a step that swaps the workspace for a symlink ----
mkdir -p "$TEST_DIR/swap/proj" "$TEST_DIR/swap/elsewhere" && cd "$TEST_DIR/swap/proj" || exit 1
cat >job.yaml <<YAML
steps:
  - {name: swap, run: 'mv .jobrun .jobrun.old && ln -s $TEST_DIR/swap/elsewhere .jobrun'}
YAML
run "$JOBRUN" run --local job.yaml
is "$status" 0 "a step that swaps the local workspace for a symlink: the job ends"
is "$(ls -A "$TEST_DIR/swap/elsewhere")" "" \
	"nothing is written through the symlink"
is "$(field .jobrun.old/result.json 'd["outcome"]')" success \
	"result.json went to the workspace the job started with"
run "$JOBRUN" run --local job.yaml
is "$status" 125 "the next run refuses a symlinked local workspace"
contains "$TEST_DIR/err" "symbolic link is not followed in local mode" "saying why"

# ---- --clean removes what jobrun made, nothing else ----
mkdir -p "$TEST_DIR/clean/src" && cd "$TEST_DIR/clean" || exit 1
echo important >src/main.c
printf 'steps:\n  - {name: a, run: "true"}\n' >job.yaml
run "$JOBRUN" run --local --workspace . job.yaml
run "$JOBRUN" run --local --workspace . --clean job.yaml
is "$status" 0 "--clean in a workspace of the user's runs"
is "$(cat src/main.c 2>&1)" important "and leaves the user's files alone"
ok '[ -f job.yaml ] && [ -f result.json ]' "the job file stays; jobrun's files are new"
cd "$TEST_DIR" || exit 1

# ---- a terminal: one nobody reads, and Ctrl-Z then Ctrl-C ----
cat >onterm.py <<'PY'
import os, pty, sys, time, signal
mode, argv = sys.argv[1], sys.argv[2:]
pid, master = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
def wait_for(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    return None
if mode == "stall":
    # Never read the terminal: its buffer fills, writes would block.
    rc = wait_for(20)
else:
    time.sleep(1.0)
    os.write(master, b"\x1a")      # Ctrl-Z
    time.sleep(0.5)
    os.write(master, b"\x03")      # Ctrl-C
    end = time.monotonic() + 20
    rc = None
    while rc is None and time.monotonic() < end:
        try:
            os.read(master, 65536)
        except OSError:
            pass
        rc = wait_for(0.1)
if rc is None:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
print(rc)
PY
cat >stall.yaml <<'YAML'
timeout: 2s
steps:
  - {name: chatty, run: "head -c 20000000 /dev/zero | tr '\\0' x; sleep 30"}
YAML
is "$("$PYTHON3" onterm.py stall "$JOBRUN" run --grace-period 1s stall.yaml)" 124 \
	"a terminal nobody reads: the 2 s job timeout still acts (124)"
cat >nap.yaml <<'YAML'
steps:
  - {name: nap, run: "sleep 30"}
YAML
is "$("$PYTHON3" onterm.py tstp "$JOBRUN" run --grace-period 1s nap.yaml)" 130 \
	"Ctrl-Z on the terminal does not stop the job: the Ctrl-C after it cancels (130)"
is "$(field .jobrun/result.json 'd["outcome"]')" cancelled "result.json says cancelled"

# ---- a step's shell gone, its group still writing to the pipe ----
# The pipe is read until it is quiet (up to the grace period), but the
# job's timeout and a SIGTERM act meanwhile: they ended the job only once
# the grace period had passed, with 0 for a job that timed out.
cat >drain.yaml <<'YAML'
steps:
  - {name: a, run: "sh -c 'while :; do echo tick; sleep 0.05; done' & sleep 0.3; exit 0"}
  - {name: b, depends_on: [a], run: "echo b-ran"}
YAML
start=$(date +%s)
run timeout -k 5 60 "$JOBRUN" run --timeout 1s --grace-period 30s drain.yaml
is "$status" 124 "the job timeout acts while a step's leftovers write: 124"
ok "[ $(( $(date +%s) - start )) -lt 20 ]" "well before the 30 s grace period"
is "$(field .jobrun/result.json 'd["steps"][0]["outcome"]')" timed_out \
	"the step timed out"
is "$(field .jobrun/result.json 'd["steps"][1]["outcome"]')" cancelled \
	"its dependant is cancelled, never started"
lacks out "b-ran" "b did not run"
"$JOBRUN" run --grace-period 30s drain.yaml >/dev/null 2>&1 &
pid=$!
sleep 1
start=$(date +%s)
kill -TERM "$pid"
wait "$pid"
is "$?" 143 "SIGTERM while a step's leftovers write: 143"
ok "[ $(( $(date +%s) - start )) -lt 20 ]" "at once, not after the grace period"
is "$(field .jobrun/result.json 'd["steps"][0]["outcome"]')" cancelled \
	"the step is cancelled"

# A clean-up step begun after the first SIGTERM and killed by the second:
# cancelled with the job, not failed.
cat >cleanup.yaml <<'YAML'
steps:
  - {name: a, run: "sleep 30"}
  - {name: cleanup, run: "sleep 30", depends_on: [a], if: always()}
YAML
"$JOBRUN" run --grace-period 20s cleanup.yaml >/dev/null 2>&1 &
pid=$!
sleep 1
kill -TERM "$pid"
sleep 1
kill -TERM "$pid"
wait "$pid"
is "$?" 143 "two SIGTERMs while a clean-up step runs: 143"
is "$(field .jobrun/result.json 'd["steps"][1]["outcome"]')" cancelled \
	"the clean-up step killed by the second is cancelled, not failed"

# SIGTERM while a hook runs before the steps: the job was cancelled (143),
# not failed by the plugin (125).
mkdir -p "$TEST_DIR/hooked/src" "$TEST_DIR/hooked/ci/.jobrun/hooks/pre-execution.d"
printf '#!/bin/sh\necho hook running\nsleep 30\n' \
	>"$TEST_DIR/hooked/ci/.jobrun/hooks/pre-execution.d/10-slow"
chmod 755 "$TEST_DIR/hooked/ci/.jobrun/hooks/pre-execution.d/10-slow"
printf 'steps:\n  - {name: a, run: "echo a"}\n' >"$TEST_DIR/hooked/src/job.yaml"
(cd "$TEST_DIR/hooked/src" && exec "$JOBRUN" run --ci-source-dir "$TEST_DIR/hooked/ci" \
	--plugin exec-hooks job.yaml) >/dev/null 2>&1 &
pid=$!
sleep 1
kill -TERM "$pid"
wait "$pid"
is "$?" 143 "SIGTERM while a PRE_EXECUTION hook runs: 143, not a plugin's failure"
is "$(field "$TEST_DIR/hooked/src/.jobrun/result.json" 'd["outcome"] + " " + d["steps"][0]["outcome"]')" \
	"cancelled cancelled" "the job and its steps are cancelled"

# A triggers file that cannot be written fails the job before any step (a
# deploy step would have run first), with the reason in result.json.
run "$JOBRUN" run --triggers-file "$TEST_DIR/no-such-dir/triggers.json" \
	--job-command "touch $TEST_DIR/deployed"
is "$status" 125 "an unwritable --triggers-file: 125"
ok '[ ! -e "$TEST_DIR/deployed" ]' "before any step runs"
is "$(field .jobrun/result.json 'd["outcome"] + ": " + d["error"]')" \
	"error: cannot write triggers.json" "result.json says why"

# Local mode: a step that removes the workspace (git clean -fdx) loses the
# logs written so far, not the truth: the result files go to a new one.
mkdir -p "$TEST_DIR/cleaned" && cd "$TEST_DIR/cleaned" || exit 1
cat >job.yaml <<'YAML'
steps:
  - {name: clean, run: "rm -rf .jobrun"}
  - {name: test, run: "echo testing; exit 2", depends_on: [clean]}
triggers:
  - {job: notify, when: always}
YAML
run env -u JOBRUN_WORKSPACE -u JOBRUN_CODE_DIR "$JOBRUN" run job.yaml
is "$status" 1 "a step removing the local workspace: the job still ends 1"
is "$(field .jobrun/result.json 'd["outcome"] + " " + d["steps"][1]["outcome"]')" \
	"failed failed" "result.json is written to a new workspace"
is "$(field .jobrun/triggers.json '[j["job_name"] for j in d["jobs"]]')" \
	"['notify']" "and triggers.json"
contains "$TEST_DIR/err" "was removed while the job ran" "a warning says the logs are lost"
cd "$TEST_DIR" || exit 1

# Out of file descriptors: steps that cannot start say why in result.json,
# not only on the console.
{ echo "steps:"; for i in $(seq 1 60); do echo "  - {name: s$i, run: 'sleep 0.5'}"; done; } >fds.yaml
(ulimit -n 48 && exec "$JOBRUN" run -j 60 fds.yaml) >/dev/null 2>&1
is "$?" 1 "steps that cannot start for want of descriptors fail the job (1)"
ok "$PYTHON3 -c '
import json, sys
d = json.load(open(\".jobrun/result.json\"))
bad = [s for s in d[\"steps\"] if s[\"outcome\"] != \"success\"]
sys.exit(not bad or not all((s[\"reason\"] or \"\").startswith(\"it could not start: \") for s in bad))'" \
	"each says why in result.json (it could not start: ...)"

# ---- from the build tree, --plugin NAME finds the bundled plugins ----
mkdir -p "$TEST_DIR/tree" && cd "$TEST_DIR/tree" || exit 1
printf 'steps:\n  - {name: a, run: "true"}\n' >job.yaml
run env JOBRUN_PLUGIN_DIR="$TEST_DIR/no-such-dir" "$JOBRUN" run --local --plugin junit job.yaml
is "$status" 0 "--plugin junit: the build tree's plugins/ beside the program is looked in"
ok '[ -s .jobrun/artifacts/junit.xml ]' "and the bundled junit plugin ran"
cd "$TEST_DIR" || exit 1

done_testing
