#!/bin/sh
# The command line: help, version, and clear errors for misuse.
. "$JOBRUN_SRCDIR/tests/lib.sh"
plan 24

run "$JOBRUN" --version
is "$status" 0 "--version exits 0"
ok "grep -Eq '^jobrun [0-9]+\.[0-9]+\.[0-9]+$' out" "--version prints the version"

run "$JOBRUN" --help
is "$status" 0 "--help exits 0"
contains out "Usage: jobrun COMMAND" "--help shows the usage"
ok "[ \$(wc -l <out) -le 25 ]" "--help fits on one screen"

run "$JOBRUN"
is "$status" 0 "no arguments shows the help"
contains out "Commands:" "the help lists the commands"

run "$JOBRUN" help run
is "$status" 0 "help run exits 0"
contains out "--job-command" "help run lists the run options"
run "$JOBRUN" run --help
contains out "Usage: jobrun run" "run --help is help run"
run "$JOBRUN" help validate
contains out "Usage: jobrun validate" "help validate"
run "$JOBRUN" help config
contains out "Usage: jobrun config --explain" "help config"

run "$JOBRUN" help nosuch
is "$status" 125 "help for an unknown topic exits 125"
contains err "no help for 'nosuch'" "and says so"

run "$JOBRUN" frobnicate
is "$status" 125 "an unknown command exits 125"
is "$(cat err)" "jobrun: unknown command 'frobnicate' (see 'jobrun --help')" \
	"and names it"

run "$JOBRUN" run --frobnicate
is "$status" 125 "an unknown option exits 125"
is "$(cat err)" "jobrun: unknown option '--frobnicate' (see 'jobrun --help')" \
	"and names it"

run "$JOBRUN" run --timeout
is "$(cat err)" "jobrun: option '--timeout' needs a value (see 'jobrun --help')" \
	"a missing option value is named"

run "$JOBRUN" validate --jobs 2 x.yaml
is "$status" 125 "a run option given to validate exits 125"

run "$JOBRUN" validate
is "$(cat err)" "jobrun: 'jobrun validate' needs a job file (see 'jobrun --help')" \
	"validate without a file"

run "$JOBRUN" run a.yaml b.yaml
is "$(cat err)" "jobrun: unexpected argument 'b.yaml' (see 'jobrun --help')" \
	"two job files"

run "$JOBRUN" run --container
contains err "jobrun runs inside the job's container" \
	"runnerlib's --container is refused with a reason"

run "$JOBRUN" config
is "$(cat err)" "jobrun: 'jobrun config' needs --explain (see 'jobrun --help')" \
	"config without --explain"
done_testing
