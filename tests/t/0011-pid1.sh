#!/bin/sh
# Supervision with real processes and signals: jobrun as PID 1 of a PID
# namespace reaps every orphan; after 1,000 steps that leave double-forked
# orphans nothing is left; SIGTERM during a long step cancels the job
# cleanly, 100 times out of 100.
. "$JOBRUN_SRCDIR/tests/lib.sh"

if ! unshare --pid --fork --mount-proc true 2>/dev/null; then
	echo "1..0 # SKIP unshare --pid needs root"
	exit 0
fi
plan 9

# 1. jobrun as PID 1: orphans that exit at once must not stay zombies.
cat >zombies.yaml <<'YAML'
steps:
  - name: orphans
    run: for i in $(seq 50); do (sh -c 'exit 0' &) ; done; echo made
  - name: count
    depends_on: [orphans]
    run: sleep 0.5; echo "pid1=$(cat /proc/1/comm)"; echo "zombies=$(ps -eo stat= | grep -c '^Z')"
YAML
run unshare --pid --fork --mount-proc "$JOBRUN" run -j1 zombies.yaml
is "$status" 0 "a job runs as PID 1 of its namespace"
contains out "pid1=jobrun" "jobrun is PID 1"
contains out "zombies=0" "orphans re-parented to PID 1 are reaped"

# 2. 1,000 steps, each leaving orphans in and out of its process group; sh
# is PID 1 so we can look around after jobrun has exited.
{
	echo "steps:"
	i=0
	while [ $i -lt 1000 ]; do
		echo "  - {name: s$i, run: \"(sleep 300 </dev/null >/dev/null 2>&1 &) ; (setsid sleep 301 </dev/null >/dev/null 2>&1 &) ; true\"}"
		i=$((i + 1))
	done
} >many.yaml
cat >look.sh <<'SH'
"$JOBRUN" run -j2 many.yaml >/dev/null 2>jobrun.err
echo "status=$?"
echo "zombies=$(ps -eo stat= | grep -c '^Z')"
echo "others=$(ps -eo pid=,comm= | awk '$1 != 1 && $2 != "ps" && $2 != "awk" && $2 != "sh" && $2 != "wc"' | wc -l)"
SH
run unshare --pid --fork --mount-proc sh look.sh
contains out "status=0" "1,000 steps leaving orphans succeed"
contains out "zombies=0" "no zombies remain"
contains out "others=0" "no process remains"

# 3. SIGTERM during a long step, 100 times: exit 143, result.json says
# cancelled, and the step's whole tree is gone.
cat >long.yaml <<'YAML'
steps:
  - name: long
    run: sh -c 'sleep 302.@TAG@ & wait' & echo ready; wait
  - {name: after, run: "true", depends_on: [long]}
YAML
detag long.yaml
good_status=0 good_result=0 good_tree=0
i=0
while [ $i -lt 100 ]; do
	rm -rf .jobrun out
	"$JOBRUN" run --grace-period 5s long.yaml >out 2>err &
	pid=$!
	wait_for out ready
	kill -TERM $pid
	wait $pid
	[ $? -eq 143 ] && good_status=$((good_status + 1))
	if $PYTHON3 -c 'import json; r = json.load(open(".jobrun/result.json")); assert r["outcome"] == "cancelled" and r["steps"][0]["outcome"] == "cancelled" and r["steps"][1]["outcome"] == "cancelled", r' 2>result.err; then
		good_result=$((good_result + 1))
	else
		sed 's/^/# /' result.err err | tail -5
	fi
	if pgrep -f "sleep 302.$TAG" >/dev/null; then
		ps -o pid=,ppid=,pgid=,stat=,args= \
			-p "$(pgrep -d, -f "sleep 302.$TAG")" | sed 's/^/# left: /'
		pkill -KILL -f "sleep 302.$TAG"
	else
		good_tree=$((good_tree + 1))
	fi
	i=$((i + 1))
done
is "$good_status" 100 "SIGTERM: exit status 143 in 100 of 100 runs"
is "$good_result" 100 "result.json says cancelled in 100 of 100 runs"
is "$good_tree" 100 "the step's whole tree is gone in 100 of 100 runs"
done_testing
