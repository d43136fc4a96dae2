#!/bin/sh
# $JOBRUN_STEP_SUMMARY: a file per step for Markdown, gathered at the end
# of the job in step order, masked, into artifacts/summary.md; untrusted
# steps get theirs handed to their user.
. "$JOBRUN_SRCDIR/tests/lib.sh"
plan 13

S=.jobrun/artifacts/summary.md
cat >job.yaml <<'YAML'
secrets:
  patterns: ['tok-[0-9]+']
steps:
  - name: late
    run: 'printf "| a | b |" >"$JOBRUN_STEP_SUMMARY"'
    depends_on: [early]
  - {name: quiet, run: "true"}
  - name: early
    run: |
      echo "## Build" >>"$JOBRUN_STEP_SUMMARY"
      echo "token tok-4242 used" >>"$JOBRUN_STEP_SUMMARY"
YAML
run "$JOBRUN" run -j1 job.yaml
is "$status" 0 "a job whose steps write summaries succeeds"
is "$(cat $S)" "| a | b |

## Build
token *** used" "gathered in the job file's order, not the order they ran, masked"
ok "[ \"\$(tail -c1 $S | od -An -c | tr -d ' ')\" = '\\n' ]" "a summary without a last newline gets one"
lacks $S "tok-4242" "the secret is not in the file"

# A retried step: only the last attempt's summary.
cat >retry.yaml <<'YAML'
steps:
  - name: flaky
    retries: 1
    run: |
      echo "attempt $JOBRUN_STEP_ATTEMPT" >>"$JOBRUN_STEP_SUMMARY"
      [ "$JOBRUN_STEP_ATTEMPT" = 2 ]
YAML
run "$JOBRUN" run retry.yaml
is "$(cat $S)" "attempt 2" "a retried step's summary is its last attempt's"

# No summary: no file, and one an earlier job left is removed.
run "$JOBRUN" run --job-command true
is "$status" 0 "a job without summaries succeeds"
ok "[ ! -e $S ]" "and leaves no summary.md"

# A symlink a step left in place of summary.md is replaced, not followed.
cat >evil.yaml <<YAML
steps:
  - {name: s, run: 'mkdir -p "\$(dirname "\$JOBRUN_STEP_SUMMARY")/../artifacts"; ln -sf $TEST_DIR/target .jobrun/artifacts/summary.md 2>/dev/null; ln -sf $TEST_DIR/target "\$(dirname "\$JOBRUN_STEP_SUMMARY")/../artifacts/summary.md"; echo hi >>"\$JOBRUN_STEP_SUMMARY"'}
YAML
echo untouched >target
run "$JOBRUN" run evil.yaml
is "$(cat target)" "untouched" "a symlinked summary.md is not followed"
is "$(cat $S)" "hi" "the summary is written in its place"

# An untrusted step (weak isolation: no uid needed) writes its summary too.
cat >untrusted.yaml <<'YAML'
trusted: false
steps:
  - {name: u, run: 'echo "from the untrusted step" >>"$JOBRUN_STEP_SUMMARY"'}
YAML
JOBRUN_UNTRUSTED_USER=$((1900000000 + $$ % 10000000 * 4)) \
	run "$JOBRUN" run --isolation weak untrusted.yaml
is "$(cat $S)" "from the untrusted step" "an untrusted step's summary is gathered"
# A summary cut at its limit (1 MiB) inside a secret: no part of it stays.
CUT_SECRET="eyJhbGciOiJIUzI1NiJ9.$(printf 'QWxsWW91ckJhc2VBcmVCZWxvbmdUb1Vz%.0s' 1 2 3 4 5 6).sigXYZ"
export CUT_SECRET
cat >cut.yaml <<'YAML'
secrets: {env: [CUT_SECRET]}
steps:
  - name: big
    run: |
      "$PYTHON3" -c 'import os; open(os.environ["JOBRUN_STEP_SUMMARY"], "w").write("a" * (1048576 - 100) + os.environ["CUT_SECRET"])'
YAML
PYTHON3=$PYTHON3 run "$JOBRUN" run cut.yaml
is "$status" 0 "a step writing a summary over the limit runs"
contains err "the summary is cut" "a warning says it is cut"
ok "! grep -q 'eyJhbGci' $S" "no part of the secret the cut broke is in summary.md"
done_testing
