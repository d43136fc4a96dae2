#!/bin/sh
# Local debugging: --until STEP runs STEP and what it depends on;
# --only STEP[,STEP...] runs those steps alone, their dependencies taken as
# succeeded with no outputs; unknown names are refused with a did-you-mean;
# steps left out are skipped with the reason "not selected".
. "$JOBRUN_SRCDIR/tests/lib.sh"
plan 17

# reasons: each step's name, outcome and reason from result.json.
reasons()
{
	"$PYTHON3" -c '
import json
for s in json.load(open(".jobrun/result.json"))["steps"]:
    print(s["name"], s["outcome"], s["reason"])'
}

cat >job.yaml <<'YAML'
steps:
  - {name: fetch, run: "echo fetched; echo v=1 >>\"$JOBRUN_OUTPUT\""}
  - {name: build, run: "echo built v=$JOBRUN_OUTPUT_FETCH_V.", depends_on: [fetch]}
  - {name: lint, run: "echo linted"}
  - {name: test, run: "echo tested", depends_on: [build]}
  - {name: deploy, run: "echo deployed", depends_on: [test, lint]}
YAML
run "$JOBRUN" run -j1 --until test job.yaml
is "$status" 0 "--until runs a step and its dependencies"
is "$(cat out)" "fetched
built v=1.
tested" "those, in order, and nothing else"
is "$(reasons)" "fetch success None
build success None
lint skipped not selected
test success None
deploy skipped not selected" "the others are skipped, not selected"
contains err "step 'deploy': skipped (not selected)" "and said so"

run "$JOBRUN" run -j1 --only build,deploy job.yaml
is "$status" 0 "--only runs the steps named"
is "$(cat out)" "built v=.
deployed" "alone: dependencies count as succeeded, with no outputs"
is "$(reasons | sed -n 1p)" "fetch skipped not selected" "a dependency left out is not selected"

run "$JOBRUN" run -j1 --only lint job.yaml
is "$(cat out)" "linted" "--only with one step"

run "$JOBRUN" run --only biuld job.yaml
is "$status" 125 "an unknown --only name is refused"
contains err "--only: no step is called 'biuld' (did you mean 'build'?)" "with a did-you-mean"
ok "[ ! -s out ]" "and nothing runs"
run "$JOBRUN" run --until tset job.yaml
contains err "--until: no step is called 'tset' (did you mean 'test'?)" "likewise for --until"
run "$JOBRUN" run --dry-run --until build job.yaml
is "$(tail -n1 out)" "not selected (skipped): lint, test, deploy" \
	"a dry run names the steps left out"
run "$JOBRUN" run --dry-run --until nothing-like-it job.yaml
is "$status" 125 "a dry run checks the names too"
run "$JOBRUN" run --only build, job.yaml
is "$status" 125 "an empty name in the list is refused"
run "$JOBRUN" run --only build --until test job.yaml
contains err "--until and --only cannot be used together" "--until and --only together are refused"
run "$JOBRUN" validate --only build job.yaml
is "$status" 125 "--only is for run"
done_testing
