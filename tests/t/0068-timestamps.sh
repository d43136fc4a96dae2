#!/bin/sh
# --timestamps (JOBRUN_TIMESTAMPS, the setting timestamps): each console
# line of a step after its UTC time, in the text formats; logs unchanged.
. "$JOBRUN_SRCDIR/tests/lib.sh"
plan 11

TIME='[0-9]\{4\}-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9]\{3\}Z'
cat >job.yaml <<'YAML'
steps:
  - {name: a, run: "echo one; echo two; printf 'partial'"}
  - {name: b, run: "echo three", depends_on: [a]}
YAML
run "$JOBRUN" run -j1 --timestamps job.yaml
is "$status" 0 "a job with --timestamps succeeds"
is "$(grep -c "^$TIME " out)" 4 "every line of one slot starts with its time"
is "$(sed "s/^$TIME //" out)" "one
two
partial
three" "followed by the line itself; a last partial line gets a newline"
ok "printf 'one\ntwo\npartial' | cmp -s - .jobrun/logs/a.log" "the log keeps the exact bytes"
ok "[ \$(sed -n 1p out | cut -c1-4) = \$(date -u +%Y) ]" "the time is UTC now"

run "$JOBRUN" run -j2 --timestamps job.yaml
is "$(grep -c "^$TIME \[[ab]\] " out)" 4 "prefixed lines: the time, then the step"

JOBRUN_TIMESTAMPS=true run "$JOBRUN" run -j1 job.yaml
is "$(grep -c "^$TIME " out)" 4 "JOBRUN_TIMESTAMPS=true turns it on"
JOBRUN_TIMESTAMPS=true run "$JOBRUN" config --explain
contains out "JOBRUN_TIMESTAMPS" "config --explain names where it came from"

run "$JOBRUN" run -j1 job.yaml
is "$(cat out)" "one
two
partialthree" "without it, plain output passes through unchanged"

run "$JOBRUN" run --timestamps --log-format json job.yaml
ok "\"$PYTHON3\" -c 'import json, sys; [json.loads(l) for l in open(\"out\")]'" \
	"the JSON format is left as it is"
JOBRUN_TIMESTAMPS=maybe run "$JOBRUN" run job.yaml
is "$status" 125 "a value that is not a boolean is refused"
done_testing
