#!/bin/sh
# triggers.json and outputs.json: static triggers under each when: and if:,
# for_each, dynamic triggers from a step, their order, masking, a reader in
# the worker's language, the schemas, and files that are complete or absent
# whatever happens to jobrun (a failing step, SIGTERM, kill -9).
. "$JOBRUN_SRCDIR/tests/lib.sh"

if ! "$PYTHON3" -c 'import jsonschema' 2>/dev/null; then
	echo "1..0 # SKIP python3-jsonschema not installed"
	exit 0
fi
plan 64

CHECK="$PYTHON3 $JOBRUN_SRCDIR/tests/json-check.py"
TSCHEMA=$JOBRUN_SRCDIR/src/triggers.schema.json
RSCHEMA=$JOBRUN_SRCDIR/src/result.schema.json
T=.jobrun/triggers.json

# valid FILE...: the files are valid triggers.json files.
valid() { $CHECK "$TSCHEMA" "$@" >check.out 2>&1; }

# names: the job names in triggers.json, one line, in order.
names()
{
	"$PYTHON3" -c 'import json,sys
print(" ".join(j["job_name"] for j in json.load(open(sys.argv[1]))["jobs"]))' "$T"
}

# field JOB_INDEX PYTHON_EXPR: a value of the file, printed by Python.
field()
{
	"$PYTHON3" -c 'import json,sys
d=json.load(open(sys.argv[1])); j=d["jobs"]
print(eval(sys.argv[2]))' "$T" "$1"
}

cat >when.yaml <<'YAML'
name: when
env: {KIND: nightly}
steps:
  - name: build
    run: test "$OUTCOME" = ok
    continue_on_error: false
triggers:
  - {job: on-success, when: success}
  - {job: on-failure, when: failure}
  - {job: on-always, when: always}
  - {job: if-main, when: always, if: "branch == 'main'"}
  - {job: if-release, when: always, if: "branch =~ '^release/'"}
  - {job: if-env, when: always, if: "env.KIND == 'nightly' && event == 'push'"}
  - {job: if-step, when: always, if: "steps.build.outcome == 'failed'"}
  - {job: if-failure-fn, when: always, if: "failure()"}
  - {job: if-success-fn, when: always, if: "success() && job == 'when'"}
  - {job: if-cancelled, when: always, if: "cancelled()"}
YAML

# ---- when: and if: on success ----
OUTCOME=ok run env OUTCOME=ok "$JOBRUN" run --branch main --event push when.yaml
is "$status" 0 "a job with triggers runs and succeeds"
is "$(names)" "on-success on-always if-main if-env if-success-fn" \
	"on success: when: success/always, and the conditions that hold"
ok "valid $T" "the file is valid per the schema"
is "$(field 'd["type"], d["trigger_type"], d["outcome"]')" \
	"('trigger_job', 'jobrun', 'success')" "runnerlib's type and trigger_type"

# ---- on failure: the exit status is the step's ----
run env OUTCOME=bad "$JOBRUN" run --branch release/2 when.yaml
is "$status" 1 "triggers leave a failing job's status alone"
is "$(names)" "on-failure on-always if-release if-step if-failure-fn" \
	"on failure: when: failure/always, failure(), steps.X.outcome"
ok "valid $T" "the file after a failing step is valid"
ok "$CHECK '$RSCHEMA' .jobrun/result.json >/dev/null" \
	"and so is result.json"

# ---- every field, for_each, masking ----
cat >full.yaml <<'YAML'
name: full
secrets: {env: [DEPLOY_TOKEN]}
steps:
  - {name: a, run: "true"}
triggers:
  - job: deploy
    env: {TOKEN: "tok-9f8e7d6c5b", REGION: eu}
    depends_on: [build, test]
    condition: any_failed
    job_command: make deploy
    container_image: alpine:3
    timeout: 90s
    priority: -5
    source: {type: git, url: "https://example.org/app.git", ref: main}
    ci_source: {type: copy, url: /ci}
  - job: matrix
    for_each: [linux, macos, windows]
    as: OS
    env: {FIXED: x}
  - job: plain
    for_each: [one]
YAML
run env DEPLOY_TOKEN=tok-9f8e7d6c5b "$JOBRUN" run full.yaml
is "$status" 0 "a job with every trigger field succeeds"
is "$(names)" "deploy matrix matrix matrix plain" "for_each expands in order"
is "$(field '[x["env"].get("OS") for x in j[1:4]]')" \
	"['linux', 'macos', 'windows']" "each item in its variable"
is "$(field 'j[1]["env"]')" "{'FIXED': 'x', 'OS': 'linux'}" \
	"next to the trigger's env"
is "$(field 'j[4]["env"]')" "{'ITEM': 'one'}" "the default variable is ITEM"
is "$(field 'j[0]["env"]["TOKEN"]')" "***" "a secret in trigger env is masked"
ok "! grep -q 'tok-9f8e' $T" "the value is nowhere in the file"
is "$(field '(j[0]["depends_on"], j[0]["condition"], j[0]["timeout"], j[0]["priority"])')" \
	"(['build', 'test'], 'any_failed', 90, -5)" \
	"depends_on, condition, timeout (seconds), priority"
is "$(field '(j[0]["source_type"], j[0]["source_url"], j[0]["source_ref"], j[0]["ci_source_type"], j[0]["ci_source_url"], "ci_source_ref" in j[0])')" \
	"('git', 'https://example.org/app.git', 'main', 'copy', '/ci', False)" \
	"source_* and ci_source_*, absent ones omitted"
is "$(field '(j[0]["job_command"], j[0]["container_image"], sorted(j[1]))')" \
	"('make deploy', 'alpine:3', ['env', 'job_name'])" \
	"job_command and container_image; a bare trigger has only name and env"
ok "valid $T" "and the file is valid"
contains err "jobrun: next: deploy (after build, test; any_failed): TOKEN='***' REGION='eu' jobrun run --name 'deploy' --job-command 'make deploy' --timeout 90s --source-type 'git'" \
	"locally, each next job and the command to run it, masked"
is "$(grep -c '^jobrun: next: ' err)" 5 "one line per job"
run env DEPLOY_TOKEN=tok-9f8e7d6c5b "$JOBRUN" run --no-local --workspace ws \
	--code-dir ws/src full.yaml
lacks err "next:" "not outside local mode"

# ---- the worker's side: runnerlib reads the file like this ----
cat >worker.py <<'PY'
import json, sys

# As runnerlib's worker: a trigger_job message, each job submitted with the
# worker's defaults for what is missing.
with open(sys.argv[1]) as f:
    message = json.load(f)
assert message["type"] == "trigger_job", message["type"]
assert len(message["operation_id"]) == 36
for job in message.get("jobs", []):
    submit = {
        "name": job["job_name"],
        "env": dict(job.get("env") or {}),
        "depends_on": list(job.get("depends_on") or []),
        "condition": job.get("condition", "all_success"),
        "image": job.get("container_image", "default"),
        "command": job.get("job_command", ""),
        "timeout": int(job.get("timeout", 3600)),
        "priority": int(job.get("priority", 0)),
        "source": (job.get("source_type"), job.get("source_url"),
                   job.get("source_ref")),
    }
    print("%s|%s|%s|%s|%d|%d" % (submit["name"], submit["condition"],
          ",".join(submit["depends_on"]),
          ",".join("%s=%s" % kv for kv in sorted(submit["env"].items())),
          submit["timeout"], submit["priority"]))
PY
run "$PYTHON3" worker.py "$T"
is "$status" 0 "a worker-side reader in Python parses the file"
is "$(head -2 out)" "deploy|any_failed|build,test|REGION=eu,TOKEN=***|90|-5
matrix|all_success||FIXED=x,OS=linux|3600|0" "and gets every job as written"

# ---- dynamic triggers from a step, after the static ones ----
cat >dynamic.yaml <<'YAML'
name: dyn
steps:
  - name: first
    run: |
      jobrun trigger d1 --env A=1 --env B=two=2 --depends-on first-job --condition always
      printf 'tok-1234abcd\n' | jobrun secret add
      jobrun trigger d2 --env SECRET=tok-1234abcd
  - name: second
    depends_on: [first]
    run: |
      jobrun trigger d3
      jobrun trigger 'no good' || echo "bad name: $?"
      jobrun trigger d4 --condition sometimes || echo "bad condition: $?"
      printf '1.2.3\n' | jobrun output set version
      printf 'tok-1234abcd' | jobrun output set leaked
      printf 'x' | jobrun output set 1bad || echo "bad key: $?"
triggers:
  - {job: s1}
  - {job: s2, when: always}
YAML
run "$JOBRUN" run dynamic.yaml
is "$status" 0 "a job adding triggers from its steps succeeds"
is "$(names)" "s1 s2 d1 d2 d3" "static first, then dynamic in arrival order"
is "$(field 'j[2]')" \
	"{'job_name': 'd1', 'env': {'A': '1', 'B': 'two=2'}, 'depends_on': ['first-job'], 'condition': 'always'}" \
	"jobrun trigger passes env, depends_on and condition"
is "$(field 'j[3]["env"]')" "{'SECRET': '***'}" \
	"a secret registered at run time is masked in dynamic env"
contains out "bad name: 1" "a bad job name is refused with status 1"
contains out "bad condition: 1" "so is a bad condition"
contains out "expected \"condition\": all_success, any_failed or always" \
	"saying what was expected"
ok "valid $T" "the file with dynamic triggers is valid"
is "$(cat .jobrun/outputs.json)" \
	'{"outputs":{"version":"1.2.3","leaked":"***"}}' \
	"outputs.json holds the outputs, masked"
contains out "bad key: 1" "a bad output key is refused"

# ---- what a step may not put in a trigger; the job file may ----
cat >steer.yaml <<'YAML'
name: steer
steps:
  - name: a
    run: |
      set +e
      jobrun trigger evil --env LD_PRELOAD=/tmp/x.so; echo "ld: $?"
      jobrun trigger evil --env REACTORCIDE_CI_SOURCE_URL=https://evil.example/ci.git; echo "ci: $?"
      jobrun trigger evil --env JOBRUN_SHELL=/tmp/sh; echo "shell: $?"
      jobrun trigger fine --env TARGET=staging; echo "fine: $?"
triggers:
  - {job: s1, env: {PATH: /opt/bin, JOBRUN_SHELL: bash}}
YAML
run "$JOBRUN" run steer.yaml
is "$status" 0 "a job whose step asks for steering env succeeds"
contains out "ld: 1" "LD_PRELOAD in a step's trigger is refused with status 1"
contains out "ci: 1" "so is REACTORCIDE_CI_SOURCE_URL"
contains out "shell: 1" "and JOBRUN_SHELL"
contains out "refused: env 'LD_PRELOAD' would steer the next job's runner" \
	"saying why"
is "$(names)" "s1 fine" "the job file's trigger and the harmless one are listed"
is "$(field 'j[0]["env"]')" "{'PATH': '/opt/bin', 'JOBRUN_SHELL': 'bash'}" \
	"the job file's own triggers may set such names"

# ---- secrets equal to the format's words leave its structure alone ----
cat >words.yaml <<'YAML'
name: words
steps:
  - name: a
    run: |
      printf 'trigger_job\noutputs\njob_name\nsuccess\n' | jobrun secret add
      jobrun trigger next --env TOKEN=outputs
      printf 'v1' | jobrun output set version
triggers:
  - {job: s1, env: {WHO: trigger_job}}
YAML
run "$JOBRUN" run words.yaml
is "$status" 0 "a job registering the format's words as secrets succeeds"
is "$(field '(d["type"], d["trigger_type"], d["outcome"], j[0]["env"], j[1]["env"])')" \
	"('trigger_job', 'jobrun', 'success', {'WHO': '***'}, {'TOKEN': '***'})" \
	"triggers.json keeps its member names and fixed words; values are masked"
ok "valid $T" "and stays valid"
is "$(cat .jobrun/outputs.json)" '{"outputs":{"version":"v1"}}' \
	"outputs.json keeps its \"outputs\" member"

# ---- jobrun trigger outside a job ----
run "$JOBRUN" trigger x
is "$status" 125 "jobrun trigger without a socket exits 125"
contains err "no control socket" "and says why"

# ---- limits ----
"$PYTHON3" -c 'print("steps: [{name: a, run: \"true\"}]\ntriggers:\n  - job: many\n    for_each: [" + ", ".join(str(i) for i in range(1001)) + "]")' >many.yaml
run "$JOBRUN" run many.yaml
is "$status" 0 "too many triggers leave the job's status alone"
contains err "jobrun: too many triggered jobs: trigger 'many' brings them past 1000; it and the triggers after it are not listed" \
	"with a clear error"
is "$(field '(j, d["error"])')" "([], \"too many triggered jobs: trigger 'many' brings them past 1000; it and the triggers after it are not listed\")" \
	"and a file that says why"

# ---- the termination log (Kubernetes) ----
: >termination-log
run env DEPLOY_TOKEN=tok-9f8e7d6c5b JOBRUN_TERMINATION_LOG="$TEST_DIR/termination-log" \
	"$JOBRUN" run full.yaml
is "$(cat termination-log)" \
	'{"job":"full","outcome":"success","exit_status":0,"steps":1,"step_outcomes":{"success":1},"triggers":["deploy","matrix","matrix","matrix","plain"]}' \
	"a writable termination log gets a compact summary"
"$PYTHON3" -c 'print("steps: [{name: a, run: \"true\"}, {name: b, run: \"false\"}]\ntriggers:\n  - job: " + "n" * 99 + "\n    when: always\n    for_each: [" + ", ".join(str(i) for i in range(1000)) + "]")' >long.yaml
run env JOBRUN_TERMINATION_LOG="$TEST_DIR/termination-log" "$JOBRUN" run long.yaml
is "$status" 1 "a job with 1000 long trigger names fails as its step did"
ok "[ \$(wc -c <termination-log) -le 4096 ]" "its summary fits in 4 KiB"
is "$("$PYTHON3" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["outcome"], d["step_outcomes"], len(d["triggers"]) + d["more_triggers"])' termination-log)" \
	"failed {'success': 1, 'failed': 1} 1000" \
	"and is JSON that counts what it leaves out"
ok "[ \$(wc -c <.jobrun/triggers.json) -gt 100000 ]" \
	"while triggers.json has them all"
run env JOBRUN_TERMINATION_LOG="$TEST_DIR/absent/log" "$JOBRUN" run full.yaml
ok "[ $status -eq 0 ] && [ ! -e absent ]" \
	"without the file, nothing is written and nothing fails"

# ---- SIGTERM mid-job ----
cat >term.yaml <<'YAML'
name: term
steps:
  - name: wait
    run: touch started; sleep 30
triggers:
  - {job: t-success}
  - {job: t-always, when: always}
  - {job: t-failure, when: failure}
  - {job: t-cancelled, when: always, if: "cancelled()"}
YAML
"$JOBRUN" run term.yaml >out 2>err &
pid=$!
i=0
while [ ! -e started ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
kill -TERM $pid
wait $pid
is "$?" 143 "SIGTERM cancels the job (128+15)"
is "$(names)" "t-always t-failure t-cancelled" \
	"the triggers of a cancelled job are decided"
ok "valid $T" "the file after SIGTERM is valid"
ok "$CHECK '$RSCHEMA' .jobrun/result.json >/dev/null" "and so is result.json"

# ---- kill -9 at random moments: the file is complete or absent ----
cat >crash.yaml <<'YAML'
steps:
  - {name: a, run: "true"}
triggers:
  - job: crash
    env: {PAD: "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}
    for_each: [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, r, s, t]
YAML
cat >crash.py <<'PY'
import json, os, random, signal, subprocess, sys, time

jobrun, schema_check, schema = sys.argv[1:4]
path = ".jobrun/triggers.json"
counts = {"none": 0, "complete": 0, "bad": 0}
random.seed(int(os.environ.get("SEED", "40")))
# Kill anywhere in the time a whole run takes, and a little after.
start = time.monotonic()
subprocess.call([jobrun, "run", "crash.yaml"], stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)
span = (time.monotonic() - start) * 1.2
for i in range(200):
    child = subprocess.Popen([jobrun, "run", "crash.yaml"],
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    time.sleep(random.uniform(0, span))
    child.send_signal(signal.SIGKILL)
    child.wait()
    if not os.path.exists(path):
        counts["none"] += 1
        continue
    try:
        with open(path) as f:
            data = json.load(f)
        # A killed supervisor cancels its job process (SIGTERM), which
        # writes a complete file of its own: no trigger fires then.
        ok = data["type"] == "trigger_job" and len(data["jobs"]) in (0, 20)
    except ValueError:
        ok = False
    if ok and subprocess.call([sys.executable, schema_check, schema, path],
                              stdout=subprocess.DEVNULL) == 0:
        counts["complete"] += 1
    else:
        counts["bad"] += 1
        os.rename(path, "bad-%d.json" % i)
print("none=%(none)d complete=%(complete)d bad=%(bad)d" % counts)
PY
run "$PYTHON3" crash.py "$JOBRUN" "$JOBRUN_SRCDIR/tests/json-check.py" "$TSCHEMA"
echo "# kill -9 loop: $(cat out)"
ok "grep -q 'bad=0$' out" "200 runs killed at random: never a partial file"
ok "! grep -q 'complete=0 ' out && ! grep -q 'none=0 ' out" \
	"and the kills landed both before and after the write"
echo "# temporary files left by killed writers: $(ls .jobrun | grep -c '\.tmp\.')"
dead=$(sh -c 'echo $$')
echo partial >.jobrun/triggers.json.tmp.$dead
echo partial >.jobrun/result.json.tmp.$dead
echo partial >.jobrun/triggers.json.tmp.$$
run "$JOBRUN" run crash.yaml
is "$status" 0 "the next run succeeds"
is "$(ls .jobrun | grep '\.tmp\.')" "triggers.json.tmp.$$" \
	"and removes the temporary files of dead writers, not of live ones"
done_testing
