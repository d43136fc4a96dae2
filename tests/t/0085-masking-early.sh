#!/bin/sh
# jobrun's own words before and around the steps never show a secret:
# messages written before the job's secrets are all known (a bad flag or a
# bad job file echoing its value) wait for them and go out masked, whole,
# before any cut; --dry-run's plan is masked; secrets.env_globs cover the
# job's environment from the start, so hooks and triggers that run before
# any step see it masked.
. "$JOBRUN_SRCDIR/tests/lib.sh"
plan 45

S=Zq7secretNEAR4kMark99
export REACTORCIDE_SECRET_VALUES_LIST=$S
# leaks FILE...: true when any FILE holds the secret or its first 8 bytes
# (a secret cut at 4 KiB shows its start).
leaks() { grep -qaF -e "$S" -e "Zq7secre" -- "$@"; }

# A message past 4 KiB with the secret at the cut, and one with the
# secret whole just before it: written before the secrets are loaded.
pad=$(head -c 4030 /dev/zero | tr '\0' a)
run "$JOBRUN" run --work-dir "/nonexistent/$pad$S" --job-command true
is "$status" 125 "a work directory that does not exist: 125"
ok "! leaks out err" "the secret at the 4 KiB cut shows not even in part"
contains err "aaa***" "the masked message is cut after the token"
ok "[ \$(wc -L <err) -le 4096 ]" "and the line is at most 4 KiB"
pad=$(head -c 4000 /dev/zero | tr '\0' a)
run "$JOBRUN" run --work-dir "/nonexistent/$pad$S" --job-command true
ok "! leaks out err" "a whole secret before the cut is masked"
contains err "***': No such file or directory" "and the message goes on"

# Flags and job files whose values are echoed back.
run "$JOBRUN" run --timeout "$S" --job-command true
is "$status" 125 "a bad --timeout: 125"
contains err "got '***'" "its value is masked"
run "$JOBRUN" run --log-format "$S" --job-command true
ok "! leaks out err" "a bad --log-format's value is masked"
printf 'steps:\n  - {name: a, run: "true", depends_on: [%s]}\n' "$S" >dep.yaml
run "$JOBRUN" run dep.yaml
is "$status" 125 "a dependency on an unknown step: 125"
contains err "unknown step '***'" "the step it names is masked"
printf 'steps:\n  - {name: a, run: "true", timeout: "%s"}\n' "$S" >to.yaml
run "$JOBRUN" run to.yaml
ok "! leaks out err" "a job file's bad duration is masked"
# A secret from the values file (not only from the variable).
printf '%s\n' other-secret-from-file-77 >list.txt
run env REACTORCIDE_SECRET_VALUES_LIST=list.txt "$JOBRUN" run \
	--timeout other-secret-from-file-77 --job-command true
ok "! grep -qa other-secret out err" "a secret from a values file too"
# A refused job file: its messages are masked with the secrets of what
# could be read of it (its secrets.files, its secrets.env).
printf 'TOK=%s\n' file-held-secret-31 >sf.env
chmod 600 sf.env
printf 'secrets: {files: [%s/sf.env]}\nsteps:\n  - {name: a, run: "true", timeout: "%s"}\n' \
	"$PWD" file-held-secret-31 >j1.yaml
run "$JOBRUN" run j1.yaml
is "$status" 125 "a job file refused for a bad duration: 125"
ok "! grep -qa file-held-secret out err" \
	"the value from its own secrets file is masked"
printf 'secrets: {env: [TOK2]}\nsteps:\n  - {name: a, run: "true", depends_on: [%s]}\n' \
	env-held-secret-32 >j2.yaml
run env TOK2=env-held-secret-32 "$JOBRUN" run j2.yaml
ok "! grep -qa env-held-secret out err" "and the value of its secrets.env"
# Messages held at exit are masked without waiting on a secrets file that
# is a FIFO nobody writes (signals are blocked then: it would hang).
mkfifo fifo
run timeout -k 5 10 "$JOBRUN" run --timeout bad --secrets-file "$PWD/fifo" \
	--job-command true
is "$status" 125 "a bad flag with a FIFO for secrets file: 125, at once"
contains err "got 'bad'" "and the message comes out"

# A command line refused before parsing reaches its secrets file: the
# file's secret still masks the message (it echoes the command).
printf '%s\n' argv-held-secret-55 >argv.txt
run "$JOBRUN" argv-held-secret-55 --secrets-file "$PWD/argv.txt"
is "$status" 125 "an unknown command: 125"
contains err "unknown command '***'" "masked with a secrets file parsing never reached"

# A bad flag before the job is read at all: the message still comes out.
run "$JOBRUN" run --no-such-flag
is "$status" 125 "an unknown flag: 125"
contains err "unknown option '--no-such-flag'" "its message is written"

# A secret the masker cannot take (over 64 KiB): the run ends with 125,
# the message says where it came from, and the secrets read before it
# still mask what is written.
big=$(head -c 70000 /dev/zero | tr '\0' x)
run env BIGV="$big" "$JOBRUN" run --secret-env-names BIGV --job-command true
is "$status" 125 "a secret over 64 KiB ends the run with 125"
contains err "the secret from variable BIGV: a secret is longer than 65536" \
	"naming the variable"

# A job command to run in a container gathers its secrets without a job
# file (it crashed here with SIGSEGV): no image, so 125 and why.
run "$JOBRUN" run --runtime podman --job-command true
is "$status" 125 "a job command for a container, without an image: 125"
contains err "no runner image" "saying what is missing"

# A dotenv file over 64 KiB of short values: too long to be one secret,
# its values are masked all the same; one value that long is refused.
"$PYTHON3" -c "print('\n'.join('L%d=value-%06d' % (i, i) for i in range(5000)))" \
	>big.env
chmod 600 big.env
run "$JOBRUN" run --secrets-file "$PWD/big.env" \
	--job-command 'echo value-004321 value-000007'
is "$status" 0 "a 100 KB dotenv file of short values runs"
contains out "*** ***" "and its values are masked"
head -c 70000 /dev/zero | tr '\0' k >huge.txt
run "$JOBRUN" run --secrets-file "$PWD/huge.txt" --job-command true
contains err "holds no assignment and is longer than 65536 bytes" \
	"one secret over 64 KiB in a file is refused, saying why"

# Once the secrets are known, a long message is masked, then cut.
run "$JOBRUN" run --until "$(head -c 5000 /dev/zero | tr '\0' a)$S" \
	--job-command true
is "$status" 125 "--until an unknown step: 125"
ok "[ \$(wc -L <err) -le 4096 ]" "a message over 4 KiB is cut"
contains err "..." "with a marker"

# JSON events keep their fixed words when a secret equals one of them.
run env REACTORCIDE_SECRET_VALUES_LIST=success,step_started,PRE_EXECUTION \
	"$JOBRUN" run --log-format json --job-command true
is "$status" 0 "a job whose secrets are fixed words of the events runs"
contains out '"event":"step_started"' "event names are not masked"
contains out '"phase":"PRE_EXECUTION","outcome":"success"' \
	"nor phases and outcomes"

# --dry-run prints the plan, conditions included, masked.
printf 'name: ci\nsteps:\n  - {name: a, run: "true", if: "branch == %s"}\n' \
	"'$S'" >cond.yaml
run "$JOBRUN" run --dry-run cond.yaml
is "$status" 0 "--dry-run of a job with a secret in a condition"
contains out "if branch == '***'" "the condition is masked"
ok "! leaks out err" "the secret shows nowhere"
unset REACTORCIDE_SECRET_VALUES_LIST

# secrets.env_globs over the job file's env: and the job env: masked in a
# hook before the first step, and in triggers when no step runs.
mkdir -p ci/.jobrun/hooks/pre-execution.d src
cat >ci/job.yaml <<'YAML'
env: {FILE_TOKEN: jobfile-env-val-2222}
secrets: {env_globs: ['*_TOKEN']}
plugins: [{path: exec-hooks}]
steps:
  - {name: a, run: 'echo "step: $FILE_TOKEN $JE_TOKEN"'}
YAML
printf '#!/bin/sh\necho "hook: $FILE_TOKEN $JE_TOKEN"\n' \
	>ci/.jobrun/hooks/pre-execution.d/10-show
chmod 755 ci/.jobrun/hooks/pre-execution.d/10-show
run env JOBRUN_JOB_ENV='JE_TOKEN=jobenv-val-4545' "$JOBRUN" run \
	--workspace ws --code-dir src --ci-source-dir ci ci/job.yaml
is "$status" 0 "a job with a hook before its steps runs"
contains err "hook: *** ***" "the hook's output masks both globbed values"
ok "! grep -qa 'val-2222\|val-4545' out err ws/logs/*" \
	"neither shows anywhere"
cat >skip.yaml <<'YAML'
env: {FILE_TOKEN: jobfile-env-val-2222}
secrets: {env_globs: ['*_TOKEN']}
steps:
  - {name: a, if: failure(), run: 'true'}
triggers:
  - {job: deploy, env: {T: jobfile-env-val-2222, U: jobenv-val-4545}}
YAML
run env JOBRUN_JOB_ENV='JE_TOKEN=jobenv-val-4545' "$JOBRUN" run skip.yaml
ok "! grep -qa 'val-2222\|val-4545' out err .jobrun/triggers.json" \
	"with no step run, triggers mask the globbed values"
# A step named after a secret that an earlier step registers: masked in
# junit.xml and result.json, whose log member is null rather than a path
# that names no file.
cat >late-name.yaml <<'YAML'
name: ci
steps:
  - {name: reg, run: "printf 'deploy-prod-eu1\\n' | jobrun secret add"}
  - {name: deploy-prod-eu1, depends_on: [reg], run: 'echo deploying; exit 1'}
YAML
rm -rf .jobrun
run "$JOBRUN" run --plugin junit late-name.yaml
is "$status" 1 "a job whose failing step's name became a secret: 1"
ok "! grep -q deploy-prod .jobrun/artifacts/junit.xml .jobrun/result.json" \
	"junit.xml and result.json never show the name"
is "$(field .jobrun/result.json "d['steps'][1]['log']")" None \
	"its log member is null"
done_testing
