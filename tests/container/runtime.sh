#!/bin/sh
# jobrun run --runtime podman, for real: the job runs in a container of the
# runner image driven from this host.  A secret reaches the job through
# the bundle on standard input and is in neither `podman inspect` nor any
# host process's command line; SIGTERM on the host gives 143 with the
# clean-up step run; a host killed with SIGKILL leaves a job that cancels
# through its lifeline and a container `jobrun gc` removes; a second run
# with the same run id attaches to the first; the limits read back inside;
# 20 runs at once are all collected and leave no container.
#
#   JOBRUN_IMAGE=localhost/jobrun:0.1.0 sh tests/container/runtime.sh
#
# Called by tests/container/run.sh's suite (make check-container); skipped
# without podman or with an image whose jobrun predates the runtimes.
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
IMAGE=$JOBRUN_IMAGE
podman run --rm --network=none "$IMAGE" help run 2>/dev/null |
	grep -q -- '--runtime' || unavailable "the image's jobrun has no runtimes"

# Every run id of this suite starts with the prefix; whatever is left is
# removed at the end.
prefix=ct$$
trap 'podman rm -f $(podman ps -aq --filter "label=org.jobrun.run-id" --filter "name=^jobrun-$prefix") >/dev/null 2>&1; rm -rf "$TEST_DIR"' EXIT
plan 31

# containers ID: how many containers run ID has.
containers() { podman ps -aq --filter "name=^jobrun-$1\$" | wc -l; }
# state ID: the state of run ID's container.
state() { podman inspect --format '{{.State.Status}}' "jobrun-$1" 2>/dev/null; }
# wait_state ID STATE: waits up to 30 s for it.
wait_state()
{
	n=0
	while [ "$(state "$1")" != "$2" ] && [ $n -lt 300 ]; do
		sleep 0.1
		n=$((n + 1))
	done
}

# rt ARGS: a run in a container.  Started in the background with
# "rt ... &", the shell forks first: signals go to the jobrun it execs.
rt() { exec "$JOBRUN" run --runtime podman --image "$IMAGE" "$@"; }

# ---- a secret ----
mkdir secret && cd secret || exit 1
cat >job.yaml <<'YAML'
name: secret
secrets:
  env: [CT_TOKEN]
steps:
  - name: use
    run: |
      echo "token is $CT_TOKEN"
      echo "$CT_TOKEN" >/job/artifacts/token.txt
      sleep 2
YAML
CT_TOKEN=ct-tok-$$-0123456789
export CT_TOKEN
(rt --run-id "$prefix-s" --keep job.yaml >out 2>err) &
pid=$!
wait_for out "token is"
cmdlines=$(cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\0' ' ')
wait $pid
is "$?" 0 "a job with a secret succeeds"
contains out "token is ***" "its output is masked"
lacks out "$CT_TOKEN" "no secret on the console"
ok "grep -q \"^jobrun: job 'secret': success\" err && ! grep -q '^jobrun: ' out" \
	"jobrun's own messages on the standard error, apart from the output"
case $cmdlines in
*"$CT_TOKEN"*) ok false "no host command line holds the secret" ;;
*) ok true "no host command line holds the secret" ;;
esac
podman inspect "jobrun-$prefix-s" >inspect.json
ok "[ -s inspect.json ] && ! grep -qF '$CT_TOKEN' inspect.json" \
	"podman inspect shows no secret"
contains inspect.json "org.jobrun.owner" "the container has its owner label"
contains .jobrun/result.json '"outcome": "success"' "result.json collected"
ok "grep -qF '$CT_TOKEN' .jobrun/artifacts/token.txt" "artifacts collected"
podman rm -f "jobrun-$prefix-s" >/dev/null
cd ..

# ---- SIGTERM on the host ----
mkdir term && cd term || exit 1
cat >job.yaml <<'YAML'
name: term
steps:
  - {name: long, run: 'echo started; sleep 60'}
  - {name: cleanup, depends_on: [long], if: always(), run: 'echo cleanup ran'}
YAML
(rt --run-id "$prefix-t" job.yaml >out 2>err) &
pid=$!
wait_for out started
kill -TERM $pid
wait $pid
is "$?" 143 "SIGTERM on the host: 143"
contains out "cleanup ran" "the clean-up step ran"
contains .jobrun/result.json '"cancelled"' "result.json says cancelled"
is "$(containers "$prefix-t")" 0 "no container left"
cd ..

# ---- the host killed: the lifeline ----
mkdir lifeline && cd lifeline || exit 1
cat >job.yaml <<'YAML'
name: lifeline
steps:
  - {name: long, run: 'echo started; sleep 60'}
YAML
(rt --run-id "$prefix-l" job.yaml >out 2>err) &
pid=$!
wait_for out started
kill -KILL $pid
wait $pid 2>/dev/null
wait_state "$prefix-l" exited
is "$(state "$prefix-l")" exited "the job ends once its host is gone"
is "$(podman inspect --format '{{.State.ExitCode}}' "jobrun-$prefix-l")" 143 \
	"cancelled as by SIGTERM (143)"
"$JOBRUN" gc --dry-run >gc.out 2>&1
contains gc.out "would remove jobrun-$prefix-l (its owner is gone)" "gc --dry-run names it"
is "$(containers "$prefix-l")" 1 "gc --dry-run leaves it"
JOBRUN_RUNTIME=podman "$JOBRUN" gc >gc.out 2>&1
is "$(containers "$prefix-l")" 0 "gc removes it"
is "$(ls "${TMPDIR:-/var/tmp}/jobrun-runs" 2>/dev/null | grep -c "^$prefix-l\.")" 0 \
	"and the workspace bound for it"
cd ..

# ---- the same run id twice: the second attaches ----
mkdir twice && cd twice || exit 1
cat >job.yaml <<'YAML'
name: twice
steps:
  - {name: long, run: 'echo started; for i in 1 2 3; do echo tick $i; sleep 1; done; exit 7'}
YAML
(rt --run-id "$prefix-2" job.yaml >out1 2>err1) &
pid=$!
wait_for out1 started
(rt --run-id "$prefix-2" job.yaml >out2 2>err2)
status2=$?
wait $pid
status1=$?
is "$status1 $status2" "1 1" "both runs give the job's status (a step failed)"
contains out2 "tick 3" "the second run follows the job's output"
contains out2 "started" "from its beginning"
is "$(grep -c 'started' out1)" 1 "the job ran once"
is "$(containers "$prefix-2")" 0 "no container left"
cd ..

# ---- limits ----
mkdir limits && cd limits || exit 1
cat >job.yaml <<'YAML'
name: limits
steps:
  - name: show
    run: |
      cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null | sed 's/^/memory /'
      cat /sys/fs/cgroup/pids.max /sys/fs/cgroup/pids/pids.max 2>/dev/null | sed 's/^/pids /'
      cat /sys/fs/cgroup/cpu.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null | sed 's/^/cpu /'
YAML
(rt --run-id "$prefix-m" --cpus 0.5 --memory 256m --pids 64 job.yaml >out 2>err)
is "$?" 0 "a job with limits"
contains out "memory 268435456" "the memory limit reads back"
contains out "pids 64" "the pids limit reads back"
ok "grep -q 'cpu 50000' out" "the cpu limit reads back"
cd ..

# ---- 20 at once ----
i=0
while [ $i -lt 20 ]; do
	mkdir "many$i"
	printf 'name: m%s\nsteps:\n  - {name: s, run: "echo run %s"}\n' $i $i >"many$i/job.yaml"
	(cd "many$i" && (rt --run-id "$prefix-c$i" job.yaml >out 2>err); echo $? >status) &
	i=$((i + 1))
done
wait
ok "[ \$(cat many*/status | grep -cx 0) -eq 20 ]" "20 runs at once all succeed"
ok "[ \$(grep -l '\"outcome\": \"success\"' many*/.jobrun/result.json | wc -l) -eq 20 ]" \
	"all 20 results collected"
is "$(podman ps -aq --filter "name=^jobrun-$prefix-c" | wc -l)" 0 "no container left"

done_testing
