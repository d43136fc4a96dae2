#!/bin/sh
# runnerlib's contract: REACTORCIDE_* variables and flags run a one-step job.
. "$JOBRUN_SRCDIR/tests/lib.sh"
plan 17

mkdir code
REACTORCIDE_JOB_COMMAND='echo "running in $(pwd)"; echo "$JOBRUN_STEP_NAME"' \
	REACTORCIDE_CODE_DIR="$TEST_DIR/code" run "$JOBRUN" run
is "$status" 0 "REACTORCIDE_JOB_COMMAND runs with no job file"
is "$(cat out)" "running in $TEST_DIR/code
main" "in REACTORCIDE_CODE_DIR, as the step 'main'"

run "$JOBRUN" run --job-command "pwd" --code-dir "$TEST_DIR/code"
is "$status" 0 "--job-command and --code-dir run a one-step job"
is "$(cat out)" "$TEST_DIR/code" "in the code dir"

mkdir code/sub
run "$JOBRUN" run --job-command pwd --code-dir code --job-dir code/sub
is "$(cat out)" "$TEST_DIR/code/sub" "--job-dir wins over the code dir; relative paths are from the current directory"

REACTORCIDE_JOB_COMMAND='exit 7' run "$JOBRUN" run
is "$status" 1 "a failing job command makes the job fail with 1"
contains err "step 'main': failed, exit status 7" "and its exit status is reported"

REACTORCIDE_JOB_COMMAND='echo "$A/$B"' REACTORCIDE_JOB_ENV='A=1
# a comment
B = two' run "$JOBRUN" run
is "$(cat out)" "1/two" "REACTORCIDE_JOB_ENV lines reach the step"

printf 'FROM_FILE=yes\n' >job.env
run "$JOBRUN" run --job-command 'echo $FROM_FILE' --job-env ./job.env
is "$(cat out)" "yes" "--job-env reads a file"

run "$JOBRUN" run --job-command true --job-env 'A=1
not a pair'
is "$status" 125 "a bad job environment exits 125"
is "$(cat err)" "jobrun: --job-env: line 2: expected KEY=VALUE" \
	"and names the line"

printf 'PLAIN=file\n' >env.list
run "$JOBRUN" run --job-command 'echo $PLAIN' --job-env env.list
is "$(cat out)" "file" "a relative file name without ./ is read as a file"

REACTORCIDE_JOB_COMMAND='echo from-env' run "$JOBRUN" run --job-command 'echo from-flag'
is "$(cat out)" "from-flag" "the flag wins over the variable"

JOBRUN_JOB_COMMAND='echo jobrun' REACTORCIDE_JOB_COMMAND='echo reactorcide' run "$JOBRUN" run
is "$(cat out)" "jobrun" "JOBRUN_* wins over its REACTORCIDE_* alias"

run "$JOBRUN" run
is "$status" 125 "nothing to run exits 125"
contains err "no job to run" "and says what is missing"

cat >steps.yaml <<'YAML'
steps: [{name: a, run: "true"}]
YAML
REACTORCIDE_JOB_COMMAND=true run "$JOBRUN" run steps.yaml
contains err "has steps and a job command was given (REACTORCIDE_JOB_COMMAND)" \
	"a job file with steps and a job command is ambiguous"
done_testing
