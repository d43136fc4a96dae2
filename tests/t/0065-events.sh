#!/bin/sh
# --log-format json: the job's events (job, phase and step events) among
# the output lines, every line valid under src/events.schema.json, every
# value masked.
. "$JOBRUN_SRCDIR/tests/lib.sh"
plan 20

SCHEMA=$JOBRUN_SRCDIR/src/events.schema.json
# valid FILE: every line of FILE is valid under the event schema.
valid() { "$PYTHON3" "$JOBRUN_SRCDIR/tests/json-check.py" --lines "$SCHEMA" "$1" >check.out; }
# events FILE EXPR: EXPR (Python, over "events", the event lines of FILE
# in order, and "lines", every line) holds.
events()
{
	"$PYTHON3" -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
events = [l for l in lines if "event" in l]
sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2"
}

cat >job.yaml <<'YAML'
name: demo
steps:
  - {name: a, run: "echo hello"}
  - {name: b, run: "exit 3", depends_on: [a], retries: 1}
  - {name: c, run: "echo never", depends_on: [b]}
  - {name: k, run: "kill -TERM $$", depends_on: [a], continue_on_error: true}
YAML
run "$JOBRUN" run -j1 --log-format json job.yaml
is "$status" 1 "the job fails"
ok "valid out" "every line is valid under the event schema"
ok "events out 'events[0][\"event\"] == \"job_started\" and events[0][\"job\"] == \"demo\"'" \
	"job_started comes first"
ok "events out 'lines[-1][\"event\"] == \"job_finished\" and lines[-1][\"outcome\"] == \"failed\" and lines[-1][\"exit_status\"] == 1'" \
	"job_finished is the last line, with the outcome and exit status"
ok "events out '[e[\"phase\"] for e in events if e[\"event\"] == \"phase_started\"] == [\"PRE_VALIDATION\", \"POST_VALIDATION\", \"PRE_SOURCE_PREP\", \"POST_SOURCE_PREP\", \"PRE_EXECUTION\", \"POST_EXECUTION\", \"ON_ERROR\", \"CLEANUP\"]'" \
	"every phase is reported, in order"
ok "events out '[(e[\"step\"], e[\"attempt\"]) for e in events if e[\"event\"] == \"step_started\"] == [(\"a\", 1), (\"b\", 1), (\"b\", 2), (\"k\", 1)]'" \
	"step_started for every attempt, retries included"
ok "events out '[{k: e[k] for k in (\"outcome\", \"exit_status\", \"signal\", \"attempt\")} for e in events if e[\"event\"] == \"step_finished\" and e[\"step\"] == \"b\"] == [{\"outcome\": \"failed\", \"exit_status\": 3, \"signal\": None, \"attempt\": 2}]'" \
	"step_finished of a failed step: outcome, exit status, attempts"
ok "events out 'any(e[\"event\"] == \"step_finished\" and e[\"step\"] == \"k\" and e[\"signal\"] == 15 and e[\"exit_status\"] is None for e in events)'" \
	"a step killed by a signal: its signal, no exit status"
ok "events out 'any(e[\"event\"] == \"step_finished\" and e[\"step\"] == \"c\" and e[\"outcome\"] == \"skipped\" and e[\"attempt\"] == 0 and e[\"reason\"] == \"a dependency failed\" for e in events)'" \
	"a step that never ran is finished too, with attempt 0 and the reason"
ok "events out 'any(l.get(\"stream\") == \"output\" and l[\"step\"] == \"a\" and l[\"text\"] == \"hello\" for l in lines)'" \
	"output lines stay, with their step"
ok "events out 'lines.index([l for l in lines if l.get(\"text\") == \"hello\"][0]) < lines.index([e for e in events if e[\"event\"] == \"step_finished\" and e[\"step\"] == \"a\"][0])'" \
	"a step's output comes before its step_finished"

# Secrets are masked in step names and in every value of an event.  (A
# name that holds a secret known at the start is refused: 0016; one
# registered while the job runs is masked wherever it shows.)
cat >secret.yaml <<'YAML'
name: job-names
steps:
  - {name: reg, run: "printf s3cr3t-name-77 | jobrun secret add --raw"}
  - {name: step-s3cr3t-name-77, run: "echo s3cr3t-name-77", depends_on: [reg]}
YAML
run "$JOBRUN" run --log-format json secret.yaml
is "$status" 0 "a job whose step name holds a secret registered at run time runs"
ok "valid out" "its lines are valid too"
lacks out "s3cr3t" "the secret is masked in names, events and output"
ok "events out 'any(e[\"event\"] == \"step_finished\" and e[\"step\"] == \"step-***\" for e in events)'" \
	"the masked name is what the events carry"

# A job that fails before its steps (a source) says why in its JSON lines
# too, not only as text on standard error; so does its end.
run "$JOBRUN" run --log-format json --source-type copy \
	--source-url "$TEST_DIR/missing" job.yaml
is "$status" 125 "a source that fails, in the JSON format: 125"
ok "valid out" "its lines are valid"
ok "grep -q '\"stream\":\"jobrun\".*cannot prepare copy' out" \
	"the reason is a JSON line of jobrun's on standard output"
lacks err "cannot prepare" "and not text on standard error"

# Text output carries no event.
run "$JOBRUN" run job.yaml
lacks out '"event"' "the text format writes no event"
done_testing
