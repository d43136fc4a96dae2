#!/bin/sh
# Steps: order, skips, conditions, retries, timeouts, signals, exit statuses.
. "$JOBRUN_SRCDIR/tests/lib.sh"
plan 37

# outcome STEP: the outcome jobrun reported for STEP.
outcome() { sed -n "s/^jobrun: step '$1': \([a-z_]*\).*/\1/p" err; }

cat >fail.yaml <<'YAML'
steps:
  - {name: a, run: "exit 3"}
  - {name: b, run: "echo b ran", depends_on: [a]}
  - {name: c, run: "echo c ran"}
  - {name: d, run: "echo d ran", depends_on: [b], if: always()}
  - {name: e, run: "echo e ran", depends_on: [a], if: failure()}
YAML
run "$JOBRUN" run fail.yaml
is "$status" 1 "a failed step makes the job exit 1"
is "$(outcome a)" "failed" "a failed"
is "$(outcome b)" "skipped" "its dependant is skipped"
is "$(outcome c)" "success" "an independent step still runs"
is "$(outcome d)" "success" "always() runs after a skipped dependency"
is "$(outcome e)" "success" "failure() runs after a failed dependency"
lacks out "b ran" "a skipped step does not run"

cat >continue.yaml <<'YAML'
steps:
  - {name: lint, run: "exit 1", continue_on_error: true}
  - {name: after, run: "true", depends_on: [lint]}
  - {name: on-failure, run: "true", depends_on: [lint], if: failure()}
YAML
run "$JOBRUN" run continue.yaml
is "$status" 0 "continue_on_error keeps the job green"
is "$(outcome lint)" "failed" "the step is still reported failed"
is "$(outcome after)" "success" "and its dependants run"
is "$(outcome on-failure)" "skipped" "a forgiven failure does not make failure() true"

cat >cond.yaml <<'YAML'
env: {MODE: fast}
steps:
  - {name: main-only, run: "true", if: "branch == 'main'"}
  - {name: release, run: "true", if: "branch =~ '^release/'"}
  - {name: fast, run: "true", if: "env.MODE == 'fast' && event != 'tag'"}
  - {name: after-skip, run: "true", depends_on: [main-only]}
  - {name: outcome, run: "true", depends_on: [release], if: "steps.release.outcome == 'success'"}
YAML
run "$JOBRUN" run --branch release/1.0 cond.yaml
is "$status" 0 "skipped steps do not fail the job"
is "$(outcome main-only)" "skipped" "a false condition skips"
is "$(outcome release)" "success" "a regex condition matches"
is "$(outcome fast)" "success" "env and event facts"
is "$(outcome after-skip)" "skipped" "the dependant of a skipped step is skipped"
is "$(outcome outcome)" "success" "steps.NAME.outcome"

cat >retry.yaml <<'YAML'
steps:
  - name: flaky
    retries: 2
    run: |
      echo "attempt $JOBRUN_STEP_ATTEMPT"
      [ "$JOBRUN_STEP_ATTEMPT" -ge 2 ]
YAML
run "$JOBRUN" run retry.yaml
is "$status" 0 "a retried step can succeed"
is "$(cat out)" "attempt 1
attempt 2" "each attempt knows its number"
contains err "step 'flaky': success after 2 attempts" "attempts are reported"

cat >timeout.yaml <<'YAML'
steps:
  - name: slow
    timeout: 1s
    run: sh -c 'sleep 30.@TAG@; echo grandchild survived >> marker' & sleep 30
YAML
detag timeout.yaml
start=$(date +%s)
run "$JOBRUN" run timeout.yaml
elapsed=$(( $(date +%s) - start ))
is "$status" 124 "a timed-out step makes the job exit 124"
is "$(outcome slow)" "timed_out" "and is reported timed_out"
ok "[ $elapsed -lt 10 ]" "the timeout ends the step promptly (${elapsed}s)"
sleep 1
ok "[ ! -e marker ] && ! pgrep -f 'sleep 30.$TAG; echo grandchild' >/dev/null" \
	"the step's grandchildren are gone"

run "$JOBRUN" run --timeout 1s --job-command 'sleep 30'
is "$status" 124 "the job timeout ends the job with 124"

cat >leftover.yaml <<'YAML'
steps:
  - name: daemon
    run: (sleep 300.@TAG@; touch daemon-survived) & echo started
  - name: next
    run: echo next
YAML
detag leftover.yaml
run "$JOBRUN" run leftover.yaml
is "$status" 0 "a step that leaves a background process still ends"
sleep 1
ok "! pgrep -f 'sleep 300.$TAG' >/dev/null" "what it left in its group is killed"

# SIGTERM to jobrun: the step's group gets it, the job is cancelled, 143.
cat >term.yaml <<'YAML'
steps:
  - name: long
    run: trap 'echo got TERM; exit 1' TERM; echo ready; while :; do sleep 0.1; done
  - name: never
    run: echo should not run
    depends_on: [long]
  - name: cleanup
    run: echo cleaning up
    depends_on: [long]
    if: cancelled()
YAML
rm -f out
"$JOBRUN" run term.yaml >out 2>err &
pid=$!
wait_for out ready
kill -TERM $pid
wait $pid
status=$?
is "$status" 143 "SIGTERM cancels the job with 128+15"
contains out "got TERM" "the running step received SIGTERM"
is "$(outcome long)" "cancelled" "the running step is cancelled"
lacks out "should not run" "no further step starts"
contains err "received Terminated: cancelling the job" "jobrun says why"
contains out "cleaning up" "a step with if: cancelled() still runs"

cat >stubborn.yaml <<'YAML'
steps:
  - name: stubborn
    run: trap '' INT TERM; echo ready; while :; do sleep 0.1; done
YAML
rm -f out
"$JOBRUN" run stubborn.yaml >out 2>err &
pid=$!
wait_for out ready
kill -INT $pid
sleep 0.3
kill -INT $pid
wait $pid
status=$?
is "$status" 130 "a second signal kills a step that ignores the first"

cat >shell.yaml <<'YAML'
shell: bash -e -o pipefail
steps:
  - {name: bashism, run: "false | true; echo unreachable"}
  - {name: missing, run: "true", shell: no-such-shell-here}
  - {name: nodir, run: "true", workdir: /nonexistent/dir}
YAML
run "$JOBRUN" run shell.yaml
is "$(outcome bashism)" "failed" "the job's shell and its options are used"
contains err "step 'missing': cannot run shell 'no-such-shell-here': not found" \
	"a missing shell is reported"
contains err "step 'nodir': cannot change to directory '/nonexistent/dir': No such file or directory" \
	"a missing workdir is reported"
done_testing
