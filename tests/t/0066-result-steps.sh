#!/bin/sh
# result.json per step: its log, whether it was trusted or allowed to
# fail, why it never ran, and the names of its outputs; every file valid
# under src/result.schema.json.
. "$JOBRUN_SRCDIR/tests/lib.sh"
plan 22

SCHEMA=$JOBRUN_SRCDIR/src/result.schema.json
valid() { "$PYTHON3" "$JOBRUN_SRCDIR/tests/json-check.py" "$SCHEMA" .jobrun/result.json >check.out; }
# member STEP KEY: the JSON of result.json's KEY of STEP.
member()
{
	"$PYTHON3" -c '
import json, sys
r = json.load(open(".jobrun/result.json"))
print(json.dumps([s for s in r["steps"] if s["name"] == sys.argv[1]][0][sys.argv[2]]))' "$1" "$2"
}

cat >job.yaml <<'YAML'
secrets:
  patterns: ['hush[0-9]+']
steps:
  - name: a
    run: |
      echo hello
      echo version=1.2 >>"$JOBRUN_OUTPUT"
      echo hush42_x=1 >>"$JOBRUN_OUTPUT"
  - {name: quiet, run: "true"}
  - {name: b, run: "exit 3", depends_on: [a], continue_on_error: true}
  - {name: c, run: "exit 4", depends_on: [quiet]}
  - {name: d, run: "echo never", depends_on: [c]}
  - {name: e, run: "echo never", if: "branch == 'nope'"}
  - {name: after-b, run: "true", depends_on: [b]}
YAML
run "$JOBRUN" run -j1 job.yaml
is "$status" 1 "the job fails"
ok "valid" "result.json is valid under its schema"
is "$(member a log)" '"logs/a.log"' "a step's log, relative to the workspace"
ok "[ -f .jobrun/$(member a log | tr -d '"') ]" "which is there"
is "$(member quiet log)" "null" "no log for a step that printed nothing"
is "$(member d log)" "null" "nor for one that never ran"
is "$(member a trusted)" "true" "a step of a trusted job is trusted"
is "$(member b continue_on_error)" "true" "continue_on_error is said"
is "$(member c continue_on_error)" "false" "also when false"
is "$(member a reason)" "null" "a step that ran has no reason"
is "$(member c reason)" "null" "nor one that failed"
is "$(member d reason)" '"a dependency failed"' "skipped after a failed dependency"
is "$(member e reason)" '"condition false"' "skipped by its condition"
is "$(member after-b reason)" "null" "a forgiven failure does not skip its dependants"
is "$(member a outputs)" '["version", "***_x"]' "the names of its outputs, masked"
is "$(member quiet outputs)" "[]" "none for a step without outputs"

# Untrusted and trusted steps (weak isolation: no uid of its own needed).
cat >trust.yaml <<'YAML'
trusted: false
steps:
  - {name: u, run: "echo untrusted"}
  - {name: t, run: "echo trusted", trusted: true}
YAML
JOBRUN_UNTRUSTED_USER=$((1900000000 + $$ % 10000000 * 4)) \
	run "$JOBRUN" run -j1 --isolation weak trust.yaml
is "$(member u trusted) $(member t trusted)" "false true" "trusted says which steps were trusted"

# A job cancelled before a step starts: reason cancelled.
cat >cancel.yaml <<'YAML'
steps:
  - {name: first, run: "kill -TERM $PPID; sleep 5"}
  - {name: second, run: "true", depends_on: [first]}
YAML
run "$JOBRUN" run -j1 cancel.yaml
is "$status" 143 "SIGTERM cancels the job"
ok "valid" "result.json is valid"
is "$(member second reason)" '"cancelled"' "a step never started in a cancelled job: cancelled"

# A job that ends before its steps (a source that fails).
run "$JOBRUN" run --source-type copy --source-url "$TEST_DIR/nowhere" cancel.yaml
is "$status" 125 "a failing source ends the job with 125"
is "$(member first reason)" '"the job ended before it started"' "its steps say why they never ran"
done_testing
