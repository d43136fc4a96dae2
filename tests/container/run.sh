#!/bin/sh
# The runner image in real containers (podman): jobrun is PID 1, runs a
# job from a mounted /job, leaves no zombie, turns `podman stop` into a
# cancelled job whose clean-up still runs, reports the OOM killer, keeps
# runnerlib's way of starting an image, writes its files on the volume,
# and runs untrusted steps with no more privilege than the Kubernetes
# example gives it.  Features the binary does not have yet (the `jobrun secret`
# client, triggers) are detected by asking the image, and their checks
# are skipped with the reason until it has them.
#
#   make check-container                  # builds an image of its own, then this
#   JOBRUN_IMAGE=localhost/jobrun:0.1.0 sh tests/container/run.sh
#
# Without podman the suite is skipped, unless JOBRUN_CONTAINER_REQUIRED=1
# (as .ci/run sets), which makes that a failure.  The podman settings of
# images/setup-podman.sh are used when they are there.
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

# Containers are named after this run and removed at the end, whatever
# happens; nothing else on the machine is touched.
prefix=jobrun-ct-$$
trap 'podman rm -f $(podman ps -aq --filter "name=^$prefix-") >/dev/null 2>&1; rm -rf "$TEST_DIR"' EXIT

# skip DESCRIPTION REASON: a check that cannot run with this binary.
skip()
{
	_tap_count=$((_tap_count + 1))
	echo "ok $_tap_count - $1 # SKIP $2"
}

# now_ms: wall-clock milliseconds.
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# workspace DIR: a fresh workspace for a volume, with the code dir that
# source type none expects, and DIR/ci for job files.
workspace()
{
	rm -rf "$1"
	mkdir -p "$1/src" "$1/ci"
}

# result FIELD...: prints fields of ws/result.json on one line: a member
# of the job ("outcome") or of a step ("step:NAME:outcome").
result()
{
	"$PYTHON3" - "$@" <<'PY'
import json, sys
r = json.load(open("ws/result.json"))
steps = {s["name"]: s for s in r["steps"]}
def field(f):
    if f.startswith("step:"):
        _, name, member = f.split(":")
        return steps[name][member]
    return r[f]
print(" ".join(str(field(f)) for f in sys.argv[1:]))
PY
}

plan 49

# ---- the image itself ----

size=$(podman image inspect --format '{{.Size}}' "$JOBRUN_IMAGE")
echo "# $JOBRUN_IMAGE: $size bytes"
ok "[ $size -le 100000000 ]" "the image is at most 100 MB"
is "$(podman image inspect --format '{{json .Config.Entrypoint}} {{json .Config.Cmd}} {{.Config.WorkingDir}}' "$JOBRUN_IMAGE")" \
	'["jobrun"] ["run"] /job' "ENTRYPOINT jobrun, CMD run, WORKDIR /job"
labels=$(podman image inspect --format '{{index .Labels "org.opencontainers.image.version"}}|{{index .Labels "org.opencontainers.image.source"}}|{{index .Labels "org.opencontainers.image.description"}}|{{index .Labels "org.opencontainers.image.licenses"}}' "$JOBRUN_IMAGE")
echo "$labels" >labels.txt
ok "grep -q '^$version|[^|][^|]*|[^|][^|]*|[^|][^|]*\$' labels.txt" \
	"OCI labels: version $version, source, description, licenses"
run podman run --rm --network=none --entrypoint sh "$JOBRUN_IMAGE" -c \
	'for c in git cc gcc make; do command -v $c; done; id -u; ls -d /job/src'
is "$(cat out)" "0
/job/src" "no git, no compiler; runs as root; /job/src is there"
run podman run --rm --network=none "$JOBRUN_IMAGE" --version
is "$(head -n 1 out)" "jobrun $version" "--version"
run podman run --rm --network=none --entrypoint sh "$JOBRUN_IMAGE" -c \
	'echo "$JOBRUN_PLUGINS"; cd /usr/lib/jobrun/plugins && ls; cd /usr/share/jobrun/hooks && ls -l */* | cut -c1-10 | sort -u'
is "$(cat out)" "exec-hooks
exec-hooks.so
junit.so
timing.so
-rwxr-xr-x" "the bundled plugins and the executable stock hooks are installed; JOBRUN_PLUGINS=exec-hooks"
run podman run --rm --network=none "$JOBRUN_IMAGE"
is "$status" 125 "no job file and no job command: exit status 125"
contains err "no job to run" "and a message that says so"

# ---- PID 1 and runnerlib's way of starting an image ----

run podman run --rm --network=none -e REACTORCIDE_JOB_COMMAND='echo "pid1=$(cat /proc/1/comm) args=$(tr "\0" " " </proc/1/cmdline)"; echo "in $(pwd)"' "$JOBRUN_IMAGE"
is "$status" 0 "REACTORCIDE_JOB_COMMAND and no arguments: the job runs"
contains out "pid1=jobrun args=jobrun run " "the entrypoint is PID 1"
contains out "in /job/src" "the step runs in the code directory"
contains err "hook 10-show-runner: runner: Linux " "the stock pre-execution hook runs in every job"
contains err "hook 10-show-commit: source: no git source" "and the post-source-prep one"
run podman run --rm --network=none -e REACTORCIDE_JOB_COMMAND='echo failing; exit 3' "$JOBRUN_IMAGE"
is "$status" 1 "a failing job command: exit status 1"
contains err "step 'main': failed, exit status 3" "and the step's status"

# ---- examples/hello from a mounted /job ----

workspace ws
run podman run --rm --network=none -v "$TEST_DIR/ws:/job" \
	-v "$JOBRUN_SRCDIR/examples:/job/ci:ro" "$JOBRUN_IMAGE" \
	run /job/ci/hello/job.yaml
is "$status" 0 "examples/hello runs from a mounted /job"
contains out "A + B = 42" "its steps' output reaches the console"
is "$(result outcome step:greet:outcome step:report:outcome)" \
	"success success success" "result.json on the volume says success"
contains ws/logs/count.log "count 3" "the step logs are on the volume"

# ---- orphans: no zombie, nothing left ----

workspace ws
cat >ws/ci/job.yaml <<'YAML'
name: orphans
steps:
  - name: orphans
    run: |
      for i in $(seq 20); do (sh -c 'exit 0' &); done
      (setsid sh -c 'sleep 1; exit 0' </dev/null >/dev/null 2>&1 &)
      (setsid sleep 300 </dev/null >/dev/null 2>&1 &)
      echo made
  - name: count
    depends_on: [orphans]
    run: |
      sleep 2
      echo "zombies=$(cat /proc/[0-9]*/stat | awk '$3 == "Z"' | wc -l)"
      echo counted
      sleep 2
YAML
podman run -d --name "$prefix-orphans" --network=none \
	-v "$TEST_DIR/ws:/job" "$JOBRUN_IMAGE" run /job/ci/job.yaml >/dev/null
n=0
until podman logs "$prefix-orphans" 2>&1 | grep -q counted || [ $n -ge 100 ]; do
	sleep 0.1
	n=$((n + 1))
done
podman top "$prefix-orphans" pid ppid state comm >top.txt 2>&1
sed 's/^/#   /' top.txt
ok "grep -q '^1 .*jobrun' top.txt && ! awk 'NR > 1 && \$3 ~ /Z/' top.txt | grep -q ." \
	"podman top: jobrun is PID 1 and no process is a zombie"
started=$(now_ms)
status=$(podman wait "$prefix-orphans")
elapsed=$(($(now_ms) - started))
podman logs "$prefix-orphans" >out 2>&1
is "$status" 0 "a job whose step leaves orphans succeeds"
contains out "zombies=0" "the orphans re-parented to jobrun are reaped"
ok "[ $elapsed -lt 5000 ]" "the container ends with the job, though an orphan was still sleeping (${elapsed} ms)"

# ---- podman stop: cancelled, clean-up ran, 143, within the timeout ----

# stop_job NAME STOP_TIMEOUT [RUN ARGS...]: starts ws/ci/job.yaml, waits
# for "ready", stops the container; sets status, elapsed (ms) and out.
stop_job()
{
	_name=$prefix-$1
	_timeout=$2
	shift 2
	podman run -d --name "$_name" --network=none -v "$TEST_DIR/ws:/job" \
		"$JOBRUN_IMAGE" run "$@" /job/ci/job.yaml >/dev/null
	_n=0
	until podman logs "$_name" 2>&1 | grep -q ready || [ $_n -ge 100 ]; do
		sleep 0.1
		_n=$((_n + 1))
	done
	started=$(now_ms)
	podman stop -t "$_timeout" "$_name" >/dev/null
	elapsed=$(($(now_ms) - started))
	status=$(podman wait "$_name")
	podman logs "$_name" >out 2>&1
}

workspace ws
cat >ws/ci/job.yaml <<'YAML'
name: stop
steps:
  - name: long
    run: echo ready; sleep 300
  - name: cleanup
    depends_on: [long]
    if: cancelled()
    run: echo cleaning; echo ran >/job/cleanup-ran
YAML
stop_job stop 10
is "$status" 143 "podman stop during a long step: exit status 143"
ok "[ $elapsed -lt 10000 ]" "within the stop timeout of 10 s (${elapsed} ms)"
is "$(result outcome exit_status step:long:outcome step:cleanup:outcome)" \
	"cancelled 143 cancelled success" \
	"result.json on the volume: job and step cancelled, clean-up succeeded"
ok "[ -f ws/cleanup-ran ]" "the clean-up step ran"
contains out "received Terminated: cancelling the job" "jobrun says why"

# A step that ignores SIGTERM is killed after --grace-period, and the
# clean-up step still runs before podman's own SIGKILL.
workspace ws
cat >ws/ci/job.yaml <<'YAML'
name: stubborn
steps:
  - name: stubborn
    run: trap '' TERM; echo ready; while :; do sleep 1; done
  - name: cleanup
    depends_on: [stubborn]
    if: cancelled()
    run: echo ran >/job/cleanup-ran
YAML
stop_job stubborn 6 --grace-period 2s
is "$status" 143 "a step that ignores SIGTERM: still exit status 143"
ok "[ $elapsed -ge 1900 ] && [ $elapsed -lt 6000 ]" \
	"after the grace period of 2 s, within the stop timeout of 6 s (${elapsed} ms)"
ok "[ -f ws/cleanup-ran ]" "the clean-up step ran after the SIGKILL"

# ---- a secret registered at run time is masked in podman logs ----

secret=ct-$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
if podman run --rm --network=none "$JOBRUN_IMAGE" help secret >/dev/null 2>&1; then
	workspace ws
	cat >ws/ci/job.yaml <<'YAML'
name: secret
steps:
  - name: register
    run: printf '%s\n' "$VALUE_UNDER_TEST" | jobrun secret add
  - name: leak
    depends_on: [register]
    run: echo "the value is $VALUE_UNDER_TEST"
YAML
	podman run -d --name "$prefix-secret" --network=none \
		-e VALUE_UNDER_TEST="$secret" -v "$TEST_DIR/ws:/job" \
		"$JOBRUN_IMAGE" run /job/ci/job.yaml >/dev/null
	status=$(podman wait "$prefix-secret")
	podman logs "$prefix-secret" >out 2>&1
	is "$status" 0 "a step registers a secret with 'jobrun secret add'"
	contains out "the value is " "a later step prints it"
	lacks out "$secret" "podman logs holds it masked"
	ok "! grep -rqF '$secret' ws/logs ws/result.json" \
		"so do the logs and result.json on the volume"
else
	reason="'jobrun help secret' fails: this jobrun has no secret client yet"
	skip "a step registers a secret with 'jobrun secret add'" "$reason"
	skip "a later step prints it" "$reason"
	skip "podman logs holds it masked" "$reason"
	skip "so do the logs and result.json on the volume" "$reason"
fi

# ---- result.json and triggers.json on the volume ----

workspace ws
cat >ws/ci/job.yaml <<'YAML'
name: files
steps:
  - {name: build, run: "echo built"}
triggers:
  - {job: deploy, when: success, env: {TARGET: staging}}
YAML
if podman run --rm --network=none -v "$TEST_DIR/ws:/job" "$JOBRUN_IMAGE" \
	run --dry-run /job/ci/job.yaml >/dev/null 2>dry.err; then
	run podman run --rm --network=none -v "$TEST_DIR/ws:/job" \
		"$JOBRUN_IMAGE" run /job/ci/job.yaml
	is "$status" 0 "a job with triggers succeeds"
	ok "[ -s ws/triggers.json ] && grep -q deploy ws/triggers.json" \
		"triggers.json is on the volume and names the next job"
else
	reason=$(sed -n 's/^jobrun: //p' dry.err | head -1)
	skip "a job with triggers succeeds" "${reason:-triggers are refused}"
	skip "triggers.json is on the volume and names the next job" \
		"${reason:-triggers are refused}"
fi
sed -i '/^triggers:/,$d' ws/ci/job.yaml
run podman run --rm --network=none -v "$TEST_DIR/ws:/job" "$JOBRUN_IMAGE" \
	run /job/ci/job.yaml
is "$(result outcome step:build:outcome)" "success success" \
	"result.json is on the volume"

# ---- the privileges of examples/kubernetes/manifest.yaml suffice ----

# The container gets what the manifest gives the pod: uid 0, every
# capability dropped but those it adds back, a read-only root with /tmp
# writable, no privilege escalation, the job file where the manifest
# mounts its ConfigMap.  Untrusted steps then run under another uid, hand
# back an output, and are ended at their timeout (without KILL a step
# outlives its timeout: 30 s here).
if "$PYTHON3" - "$JOBRUN_SRCDIR/examples/kubernetes/manifest.yaml" >k8s.flags 2>k8s.err <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
pod = [d for d in docs if d["kind"] == "Job"][0]["spec"]["template"]["spec"]
c = pod["containers"][0]
sc = c["securityContext"]
volumes = {v["name"]: v for v in pod["volumes"]}
flags = ["--user", str(sc["runAsUser"]), "--cap-drop", "ALL"]
flags += ["--cap-add", ",".join(sc["capabilities"]["add"])]
if sc.get("readOnlyRootFilesystem"):
    flags += ["--read-only", "--tmpfs", "/tmp"]
if sc.get("allowPrivilegeEscalation") is False:
    flags += ["--security-opt", "no-new-privileges"]
for m in c["volumeMounts"]:
    if "configMap" in volumes[m["name"]]:
        print("JOBDIR=" + m["mountPath"])
print("FLAGS='" + " ".join(flags) + "'")
PY
then
	. ./k8s.flags
	workspace ws
	mkdir k8s-ci
	cat >k8s-ci/job.yaml <<'YAML'
name: k8s-privileges
steps:
  - name: untrusted
    trusted: false
    run_as: "1000:1000"
    run: echo "uid=$(id -u)"; echo "k=v" >>"$JOBRUN_OUTPUT"
  - {name: reader, depends_on: [untrusted], run: 'echo "got=$JOBRUN_OUTPUT_UNTRUSTED_K"'}
  - name: slow
    depends_on: [reader]
    trusted: false
    run_as: "1000:1000"
    timeout: 1s
    continue_on_error: true
    run: trap '' TERM; sleep 30
YAML
	echo "# $FLAGS, job file in $JOBDIR"
	started=$(now_ms)
	# shellcheck disable=SC2086
	run podman run --rm --network=none $FLAGS -v "$TEST_DIR/ws:/job" \
		-v "$TEST_DIR/k8s-ci:$JOBDIR:ro" "$JOBRUN_IMAGE" \
		run --grace-period 1s "$JOBDIR/job.yaml"
	elapsed=$(($(now_ms) - started))
	is "$status" 0 "with the manifest's privileges, a job with run_as steps succeeds"
	contains out "uid=1000" "an untrusted step runs as uid 1000"
	contains out "got=v" "and jobrun reads the output it wrote"
	is "$(result step:slow:outcome)" "timed_out" "one past its timeout is timed out"
	ok "[ $elapsed -lt 15000 ]" "and ended: the job took ${elapsed} ms, not 30 s"
else
	sed 's/^/# /' k8s.err
	for what in "with the manifest's privileges, a job with run_as steps succeeds" \
		"an untrusted step runs as uid 1000" \
		"and jobrun reads the output it wrote" \
		"one past its timeout is timed out" "and ended"; do
		skip "$what" "cannot read examples/kubernetes/manifest.yaml (python3-yaml?)"
	done
fi

# ---- a step that goes past --memory ----

workspace ws
cat >ws/ci/job.yaml <<'YAML'
name: oom
steps:
  - name: pipeline
    run: head -c 300m /dev/zero | tail
  - name: direct
    depends_on: [pipeline]
    if: always()
    run: exec tail /dev/zero
  - name: killed
    depends_on: [direct]
    if: always()
    run: kill -9 $$
  - name: teardown
    depends_on: [killed]
    if: always()
    run: echo teardown ran
YAML
run podman run --rm --network=none --memory 64m --memory-swap 64m \
	-v "$TEST_DIR/ws:/job" "$JOBRUN_IMAGE" run /job/ci/job.yaml
is "$status" 1 "steps past the memory limit fail the job (exit status 1)"
contains err "step 'pipeline': failed, exit status 137: the OOM killer killed one of its processes" \
	"a step whose child the OOM killer killed says so"
contains err "step 'direct': failed, killed by signal 9 from the OOM killer" \
	"a step the OOM killer killed says so"
is "$(result step:pipeline:oom_killed step:direct:oom_killed step:direct:outcome)" \
	"True True failed" "result.json: oom_killed, outcome failed"
is "$(result step:killed:signal step:killed:oom_killed)" "9 False" \
	"a SIGKILL from elsewhere is not put down to the OOM killer"
contains out "teardown ran" "the job's teardown still runs"

done_testing
