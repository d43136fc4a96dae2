#!/bin/sh
# A misspelt command, sub-command or option gets a "did you mean", and a
# misspelt option's value (it may be a secret) is never repeated.
. "$JOBRUN_SRCDIR/tests/lib.sh"
plan 14

run "$JOBRUN" rnu job.yaml
is "$status" 125 "a misspelt command exits 125"
is "$(cat err)" "jobrun: unknown command 'rnu': did you mean 'run'? (see 'jobrun --help')" \
	"and suggests the command"
run "$JOBRUN" trigerr deploy
is "$(cat err)" "jobrun: unknown command 'trigerr': did you mean 'trigger'? (see 'jobrun --help')" \
	"for every command"
run "$JOBRUN" frobnicate
is "$(cat err)" "jobrun: unknown command 'frobnicate' (see 'jobrun --help')" \
	"a word far from every command gets no suggestion"
run "$JOBRUN" secret ad </dev/null
is "$status" 125 "a misspelt sub-command exits 125"
is "$(cat err)" "jobrun: expected 'jobrun secret add': did you mean 'add'? (see 'jobrun --help')" \
	"and suggests it"
run "$JOBRUN" output sett KEY </dev/null
is "$(cat err)" "jobrun: expected 'jobrun output set KEY': did you mean 'set'? (see 'jobrun --help')" \
	"so does output set"
run "$JOBRUN" run --jbos 2
is "$status" 125 "a misspelt option exits 125"
is "$(cat err)" "jobrun: unknown option '--jbos': did you mean '--jobs'? (see 'jobrun --help')" \
	"and suggests the option"
run "$JOBRUN" run --secret-values-lst=hunter2-typo-secret
is "$(cat err)" "jobrun: unknown option '--secret-values-lst': did you mean '--secret-values-list'? (see 'jobrun --help')" \
	"without its value"
lacks err "hunter2" "the value of a misspelt option is never printed"
run "$JOBRUN" run --zzzzzzzzzzzz
is "$(cat err)" "jobrun: unknown option '--zzzzzzzzzzzz' (see 'jobrun --help')" \
	"an option far from every other gets no suggestion"
run "$JOBRUN" confg --explain
is "$(cat err)" "jobrun: unknown command 'confg': did you mean 'config'? (see 'jobrun --help')" \
	"config too"
run "$JOBRUN" run job.yaml --source-ulr x
contains err "did you mean '--source-url'?" "runnerlib's flag names too"
done_testing
