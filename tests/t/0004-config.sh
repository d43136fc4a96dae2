#!/bin/sh
# Configuration layers: defaults < job file < environment < flags, each
# value explained with where it came from.
. "$JOBRUN_SRCDIR/tests/lib.sh"
plan 38

cat >job.yaml <<'YAML'
name: layered
shell: bash
timeout: 10m
workdir: build
steps: [{name: a, run: "true"}]
YAML

# value_of KEY: the value column of KEY in out.
value_of() { awk -v k="$1" '$1 == k { print $2 }' out; }
# source_of KEY: everything after the value column.
source_of() { awk -v k="$1" '$1 == k { $1 = ""; $2 = ""; sub(/^ +/, ""); print }' out; }

run "$JOBRUN" config --explain job.yaml
is "$status" 0 "config --explain exits 0"
is "$(value_of name)" "layered" "the job file sets the name"
is "$(source_of name)" "job file job.yaml:1:7" "with its line and column"
is "$(value_of shell)" "bash" "and the shell"
is "$(source_of jobs)" "default (the number of processors)" "defaults say why"
is "$(value_of job_dir)" "$TEST_DIR/build" \
	"a relative workdir is under the code dir"

JOBRUN_SHELL=dash JOBRUN_NAME=from-env run "$JOBRUN" config --explain job.yaml
is "$(value_of shell)" "dash" "the environment wins over the job file"
is "$(source_of shell)" "environment JOBRUN_SHELL" "and names its variable"
is "$(value_of name)" "from-env" "JOBRUN_NAME sets the name"

# A jobrun started by a step sees JOBRUN_JOB_NAME (a fact about the outer
# job), which must not rename the inner job.
JOBRUN_JOB_NAME=outer run "$JOBRUN" config --explain job.yaml
is "$(value_of name)" "layered" "the step fact JOBRUN_JOB_NAME is not a setting"

JOBRUN_SHELL=dash run "$JOBRUN" config --explain --shell zsh job.yaml
is "$(value_of shell)" "zsh" "a flag wins over the environment"
is "$(source_of shell)" "flag --shell" "and is named"

REACTORCIDE_CODE_DIR=/srv/code run "$JOBRUN" config --explain --no-local
is "$(value_of code_dir)" "/srv/code" "REACTORCIDE_CODE_DIR is read"
is "$(source_of code_dir)" "environment REACTORCIDE_CODE_DIR" \
	"and the alias is named as the source"
is "$(value_of ci_source_dir)" "/job/ci" "outside local mode, CI code is in /job/ci"

REACTORCIDE_SECRET_VALUES_LIST=hunter2,swordfish run "$JOBRUN" config --explain
is "$(value_of secret_values_list)" "***" "secret values are hidden"
lacks out "hunter2" "the secret value is never printed"

JOBRUN_JOBS=lots run "$JOBRUN" config --explain
is "$status" 125 "a bad value in the environment exits 125"
is "$(cat err)" "jobrun: JOBRUN_JOBS: expected an integer from 1 to 4096, got 'lots'" \
	"and names the variable and what was expected"

run "$JOBRUN" config --explain --timeout 5x
is "$(cat err)" "jobrun: --timeout: expected a duration such as 90s, 10m, 1h30m or 500ms, got '5x'" \
	"a bad flag value is named"

run "$JOBRUN" config --explain --json --workspace /w job.yaml
ok "$PYTHON3 -c 'import json,sys; d=json.load(open(\"out\")); assert d[\"code_dir\"][\"value\"] == \"/w/src\", d; assert d[\"name\"][\"origin\"] == \"job.yaml:1:7\"'" \
	"--json is JSON with values and origins"

run "$JOBRUN" config --explain --source-url 'https://bot:pw-in-url-77@example.org/app.git'
is "$(value_of source_url)" "https://***@example.org/app.git" \
	"a URL's user info is hidden"
lacks out "pw-in-url-77" "and never printed"

# A token as the user name, alone or with a password (GitHub's
# TOKEN:x-oauth-basic), in the job file, a variable or a flag; passwords
# holding '@', '/', '?'; a URL in another setting.
cat >token.yaml <<'YAML'
source: {type: git, url: "https://ghp_USERTOKEN0004abcdefghij@github.com/o/app.git"}
steps: [{name: a, run: "true"}]
YAML
JOBRUN_CI_SOURCE_URL="https://ghp_CITOKEN0004abcdefghijkl:x-oauth-basic@github.com/o/ci.git" \
	run "$JOBRUN" config --explain token.yaml
is "$(value_of source_url)" "https://***@github.com/o/app.git" \
	"a token as the user name is hidden"
lacks out "USERTOKEN0004" "and never printed"
lacks out "CITOKEN0004" "nor a token as the user name with a password"
JOBRUN_CI_SOURCE_URL="https://ghp_CITOKEN0004abcdefghijkl:x-oauth-basic@github.com/o/ci.git" \
	run "$JOBRUN" config --explain --json token.yaml
lacks out "TOKEN0004" "--json: no token either"
run "$JOBRUN" config --explain \
	--source-url 'https://u:pw@AT-SECRET-0004@example.org/app.git' \
	--ci-source-url 'https://u:pw/SLASH-SECRET-0004@example.org/ci.git' \
	--job-command 'curl -sf https://u:pw?QUERY-SECRET-0004@example.org/x' \
	--job-env 'REPO=https://u:pw@JOBENV-SECRET-0004@example.org/x'
lacks out "SECRET-0004" "passwords holding '@', '/' or '?', in any setting: never printed"

# Every value that is a secret shows as ***: by name, by glob, by value.
cat >secret.yaml <<'YAML'
name: secretive
env: {API_TOKEN: tok-from-job-file-123, PLAIN: plain-value}
secrets:
  env: [API_TOKEN]
  env_globs: ['*_KEY']
steps: [{name: a, run: "true"}]
YAML
DEPLOY_KEY=glob-secret-999 run "$JOBRUN" config --explain \
	--job-env "$(printf 'SHORT_KEY=ab\nNAMED=zz\nAPI_TOKEN=tok-job-env-456\nOTHER=x-glob-secret-999-y\nFREE=free-value')" \
	--secret-env-names NAMED --secret-values-list=listed-secret-7 \
	--job-command 'deploy --token listed-secret-7' secret.yaml
is "$status" 0 "config --explain of a job with secrets exits 0"
is "$(value_of job_env)" "SHORT_KEY=***" \
	"a job env variable matched by env_globs shows ***, however short"
contains out "NAMED=*** API_TOKEN=*** OTHER=x-***-y FREE=free-value" \
	"so do those named in secret_env_names and secrets.env; a glob's value inside another is masked; others are shown"
is "$(value_of job_command)" "deploy" "a setting that holds a secret value is shown"
contains out "deploy --token *** " "with the secret masked"
lacks out "tok-job-env-456" "no job env secret is printed"
lacks out "glob-secret-999" "no globbed secret is printed"
lacks out "listed-secret-7" "no listed secret is printed"
DEPLOY_KEY=glob-secret-999 run "$JOBRUN" config --explain --json \
	--job-env 'SHORT_KEY=ab' --secret-values-list=listed-secret-7 secret.yaml
ok "$PYTHON3 -c 'import json,sys; d=json.load(open(\"out\")); assert d[\"job_env\"][\"value\"] == \"SHORT_KEY=***\", d; assert d[\"secret_values_list\"][\"value\"] == \"***\", d'" \
	"--json shows *** the same way"

JOBRUN_SECRET_MIN_LENGTH=0 run "$JOBRUN" config --explain
is "$status" 125 "an out-of-range number is refused"
done_testing
