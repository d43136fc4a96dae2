#!/bin/sh
# jobrun validate and --dry-run: check without running.
. "$JOBRUN_SRCDIR/tests/lib.sh"
plan 21

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
is "$(cat out)" "job hello: 4 steps in 3 waves; the steps of a wave may run at the same time
wave 1:
  greet: if success(); no timeout; trusted
wave 2:
  count: needs greet; if success(); no timeout; trusted
  sum: needs greet; if success(); no timeout; trusted
wave 3:
  report: needs count, sum; if always(); no timeout; trusted" "--dry-run prints the plan as waves and runs nothing"
# Every independent problem of a file in one run, one a line in the order
# of the file: problems of single fields and problems across steps alike.
# A problem that only follows from another (the 'run' that 'rn' misspells)
# is not reported again.
cat >many.yaml <<'YAML'
name: many
steps:
  - name: a
    run: touch ran
    retires: 2
  - name: b
    run: touch ran
    retries: three
    depends_on: [a, zzz]
  - name: b
    run: touch ran
  - name: c
    run: touch ran
    depends_on: [d]
  - name: d
    run: touch ran
    depends_on: [c]
  - name: e
    rn: touch ran
    if: "branch == "
YAML
many="jobrun: many.yaml:5:5: unknown key 'retires' in step 'a' (did you mean 'retries'?)
jobrun: many.yaml:8:14: expected an integer from 0 to 100, got 'three'
jobrun: many.yaml:9:21: step 'b' depends on unknown step 'zzz': expected the name of another step of this job
jobrun: many.yaml:10:11: duplicate step name 'b' (first at line 6): expected a different name for each step
jobrun: many.yaml:14:18: steps depend on each other in a cycle: c -> d -> c (each needs the next): expected dependencies without a cycle
jobrun: many.yaml:19:5: unknown key 'rn' in step 'e' (did you mean 'run'?)
jobrun: many.yaml:20:9: bad condition in step 'e' (at character 11): unexpected end of condition"
run "$JOBRUN" validate many.yaml
is "$status" 125 "a file with seven problems: exit status 125"
is "$(cat err)" "$many" "validate reports all seven, in the order of the file"
run "$JOBRUN" run --local many.yaml
is "$status" 125 "run stops on them too"
is "$(cat err)" "$many" "and reports the same seven"
ok "[ ! -e ran ]" "nothing ran"

# Two cycles that share no step are both named; a step downstream of a
# cycle is not a cycle of its own.
cat >cycles.yaml <<'YAML'
steps:
  - {name: a, run: x, depends_on: [b]}
  - {name: b, run: x, depends_on: [a]}
  - {name: c, run: x, depends_on: [a]}
  - {name: d, run: x, depends_on: [e]}
  - {name: e, run: x, depends_on: [d]}
YAML
run "$JOBRUN" validate cycles.yaml
is "$(cat err)" "jobrun: cycles.yaml:2:36: steps depend on each other in a cycle: a -> b -> a (each needs the next): expected dependencies without a cycle
jobrun: cycles.yaml:5:36: steps depend on each other in a cycle: d -> e -> d (each needs the next): expected dependencies without a cycle" \
	"each cycle is named once"

# Past 20 problems, the rest are counted.
{
	echo "steps:"
	for i in $(seq 1 30); do
		printf '  - {name: s%d, run: x, retries: many}\n' "$i"
	done
} >cap.yaml
run "$JOBRUN" validate cap.yaml
is "$status" 125 "thirty problems: exit status 125"
is "$(grep -c "^jobrun: cap.yaml:[0-9]*:[0-9]*: expected an integer" err)" 20 \
	"the first twenty are shown"
is "$(tail -n 1 err)" "jobrun: cap.yaml: and 10 more problems" \
	"the other ten are counted"

# Long messages: the list stops before it is too long for one message.
{
	echo "steps:"
	for i in $(seq 1 30); do
		printf '  - {name: s%d, run: x, zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz: 1}\n' "$i"
	done
} >long.yaml
run "$JOBRUN" validate long.yaml
shown=$(grep -c "^jobrun: long.yaml:[0-9]*:[0-9]*: unknown key" err)
ok "[ $shown -ge 10 ] && [ $shown -le 20 ]" "long messages: $shown shown whole"
is "$(tail -n 1 err)" "jobrun: long.yaml: and $((30 - shown)) more problems" \
	"and the rest counted"
is "$(grep -vc '^jobrun: ' err)" 0 "every line is jobrun's own"
done_testing
