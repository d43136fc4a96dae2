#!/bin/sh
# jobrun validate and --dry-run: check without running.
. "$JOBRUN_SRCDIR/tests/lib.sh"
plan 9

run "$JOBRUN" validate "$JOBRUN_SRCDIR/examples/hello/job.yaml"
is "$status" 0 "the example is valid"
contains out "valid: 4 steps, 0 triggers, 0 plugins" "validate summarises the job"

run sh -c "\"$JOBRUN\" validate - < \"$JOBRUN_SRCDIR/examples/hello/job.yaml\""
is "$status" 0 "validate reads standard input with -"

cat >later.yaml <<'YAML'
source: {type: git, url: https://example.org/app.git, ref: main}
secrets: {env: [API_TOKEN]}
plugins: [{path: /job/ci/plugins/notify.so}]
triggers: [{job: deploy}]
steps: [{name: a, run: touch ran}]
YAML
run "$JOBRUN" validate later.yaml
is "$status" 0 "fields of later features validate"
run "$JOBRUN" run later.yaml
is "$status" 125 "a plugin that is not there stops the run"
contains err "later.yaml:3:11: refusing plugin '/job/ci/plugins/notify.so': cannot resolve" "and says which and why"
ok "[ ! -e ran ]" "nothing ran"

run "$JOBRUN" run --dry-run "$JOBRUN_SRCDIR/examples/hello/job.yaml"
is "$status" 0 "--dry-run succeeds"
is "$(cat out)" "job hello: 4 steps, run in this order:
  greet
  count (after greet)
  sum (after greet)
  report (after count, sum) if always()" "--dry-run prints the plan and runs nothing"
done_testing
