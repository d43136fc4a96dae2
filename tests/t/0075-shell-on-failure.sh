#!/bin/sh
# --shell-on-failure: on a terminal, a failed step opens an interactive
# shell in its directory with its environment, and the job goes on when
# it exits; refused when there is no terminal; never for an untrusted
# step.  script(1) provides the terminal; what the shell reads comes from
# its standard input.
. "$JOBRUN_SRCDIR/tests/lib.sh"

if ! command -v script >/dev/null; then
	echo "1..0 # SKIP script(1) is not installed"
	exit 0
fi
plan 11

mkdir work
cat >job.yaml <<'YAML'
env: {FOO: from-the-job}
steps:
  - {name: ok, run: "echo fine"}
  - {name: broken, run: "echo about to fail; exit 7", depends_on: [ok], workdir: work}
  - {name: after, run: "echo after ran", depends_on: [broken], if: always()}
YAML
# The shell prints a marker the typed line itself does not hold.
printf 'echo "in shell: [$FOO] [$JOBRUN_STEP_NAME] [$(pwd)]"\nexit 3\n' >input
TERM=dumb script -qec "\"$JOBRUN\" run -j1 --shell-on-failure job.yaml" /dev/null <input >tty.out 2>&1
is "$?" 1 "the job fails as it would without a shell"
contains tty.out "step 'broken' failed: a shell in $TEST_DIR/work with its environment" \
	"the failure opens a shell, said so"
contains tty.out "in shell: [from-the-job] [broken] [$TEST_DIR/work]" \
	"the shell runs in the step's directory with its environment"
ok "[ \$(grep -n 'in shell: \[from' tty.out | cut -d: -f1) -lt \$(grep -n 'after ran' tty.out | cut -d: -f1) ]" \
	"the job waits for the shell before it goes on"
contains .jobrun/logs/after.log "after ran" "and goes on when it exits"
lacks .jobrun/logs/broken.log "in shell" "the shell is not part of the step's log"

# A job that does not fail opens no shell.
cat >fine.yaml <<'YAML'
steps:
  - {name: ok, run: "echo fine"}
YAML
printf 'echo "shell opened: $((6 * 7))"\nexit\n' >input2
TERM=dumb script -qec "\"$JOBRUN\" run --shell-on-failure fine.yaml" /dev/null <input2 >fine.out 2>&1
is "$?" 0 "a job that succeeds"
lacks fine.out "shell opened: 42" "opens no shell"

# An untrusted step gets no shell.
cat >untrusted.yaml <<'YAML'
trusted: false
steps:
  - {name: u, run: "exit 2"}
YAML
TERM=dumb JOBRUN_UNTRUSTED_USER=$((1900000001 + $$ % 10000000 * 4)) \
	script -qec "\"$JOBRUN\" run --isolation weak --shell-on-failure untrusted.yaml" /dev/null <input2 >untrusted.out 2>&1
contains untrusted.out "step 'u': untrusted: --shell-on-failure opens no shell for it" \
	"an untrusted step opens no shell"

# Without a terminal it is refused before anything runs.
run "$JOBRUN" run --shell-on-failure job.yaml </dev/null
is "$status" 125 "without a terminal --shell-on-failure is refused"
contains err "--shell-on-failure needs a terminal" "saying why"
done_testing
