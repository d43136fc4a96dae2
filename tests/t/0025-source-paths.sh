#!/bin/sh
# Where sources go: type none prepares nothing; directories written below
# the workspace cannot climb out of it with '..'; a prepared source needs
# an empty directory of its own, never the workspace or the directory
# jobrun was started in; a source without a URL is refused; --dry-run
# prepares nothing.
. "$JOBRUN_SRCDIR/tests/lib.sh"
plan 30

mkdir -p tree && echo hello >tree/hello.txt
cat >job.yaml <<'YAML'
steps: [{name: a, run: touch "$JOBRUN_WORKSPACE/ran"; pwd}]
YAML

# jr ARGS...: jobrun run job.yaml in the workspace ws.
jr()
{
	run env JOBRUN_WORKSPACE="$TEST_DIR/ws" "$JOBRUN" run "$@" job.yaml
}

# ---- none ----

rm -rf ws && mkdir -p ws/src && echo mine >ws/src/mine.txt
jr --source-type none --source-url "$TEST_DIR/elsewhere"
is "$status $(cat ws/src/mine.txt)" "0 mine" "type none uses the code directory as it is"
lacks err "source:" "and says nothing about sources"

# A fresh workspace (a new volume mounted at /job) has no code directory
# yet: with no source, jobrun makes it, and steps start there.
rm -rf ws
jr --source-type none
is "$status" 0 "type none in a fresh workspace: the job runs"
is "$(cat out)" "$TEST_DIR/ws/src" "in the code directory, made empty"
rm -rf ws
jr --source-type none --code-dir "$TEST_DIR/elsewhere"
is "$status $(test -e elsewhere && echo made)" "1 " \
	"a missing code directory outside the workspace is not made"

# A source URL's credentials never reach the steps: the user info of
# JOBRUN_SOURCE_URL and REACTORCIDE_SOURCE_URL is taken out (type none:
# nothing is fetched), whatever its password holds.
cat >env.yaml <<'YAML'
steps: [{name: s, run: 'echo "url=$JOBRUN_SOURCE_URL ci=$REACTORCIDE_CI_SOURCE_URL"'}]
YAML
for c in @ / '#' '?'; do
	rm -rf ws
	JOBRUN_SOURCE_URL="https://user:abc${c}SECRET0025-pw@git.example.org/app.git" \
		REACTORCIDE_CI_SOURCE_URL="https://ghp_SECRET0025TOKENabcdefgh:x-oauth-basic@git.example.org/ci.git" \
		run env JOBRUN_WORKSPACE="$TEST_DIR/ws" "$JOBRUN" run env.yaml
	cat ws/logs/s.log >>out
	is "$(grep -c SECRET0025 out)" 0 \
		"a password holding '$c', a token as the user: not in the steps' variables"
done
is "$(sed -n 's/^url=//p' ws/logs/s.log)" \
	"https://user@git.example.org/app.git ci=https://git.example.org/ci.git" \
	"the URLs steps get keep the rest"

# ---- '..' out of the workspace ----

rm -rf ws
jr --source-type copy --source-url "$TEST_DIR/tree" \
	--code-dir "$TEST_DIR/ws/src/../../escaped"
is "$status $(test -e escaped && echo made)" "125 " \
	"a code dir climbing out of the workspace is refused"
contains err "code_dir '$TEST_DIR/ws/src/../../escaped' (--code-dir) climbs out of the workspace '$TEST_DIR/ws' with '..'" \
	"with a message naming it, its origin and the workspace"
rm -rf ws
run env JOBRUN_WORKSPACE="$TEST_DIR/ws" \
	JOBRUN_CI_SOURCE_DIR="$TEST_DIR/ws/ci/../../../tmp-ci" "$JOBRUN" run \
	--ci-source-type copy --ci-source-url "$TEST_DIR/tree" job.yaml
is "$status" 125 "so is a CI source dir doing the same"
contains err "ci_source_dir '$TEST_DIR/ws/ci/../../../tmp-ci' (JOBRUN_CI_SOURCE_DIR) climbs out" \
	"naming the variable"
rm -rf ws
jr --source-type copy --source-url "$TEST_DIR/tree" \
	--code-dir "$TEST_DIR/ws/src/../code"
is "$status $(cat ws/code/hello.txt)" "0 hello" "'..' that stays inside is fine"
jr --dry-run --code-dir "$TEST_DIR/ws/../outside" --source-type copy \
	--source-url "$TEST_DIR/tree"
is "$status" 125 "--dry-run checks the directories too"

# ---- targets ----

rm -rf ws && mkdir -p ws/src && echo old >ws/src/old.txt
jr --source-type copy --source-url "$TEST_DIR/tree"
is "$status $(test -e ws/ran && echo ran)" "125 " "a code dir that is not empty is refused"
contains err "the directory '$TEST_DIR/ws/src' is not empty" "and says so"

rm -rf ws
jr --source-type copy --source-url "$TEST_DIR/tree" --code-dir "$TEST_DIR/ws"
is "$status" 125 "the workspace itself is refused as a code dir"
contains err "the workspace '$TEST_DIR/ws' is there" "saying why"

rm -rf ws
jr --source-type copy --source-url "$TEST_DIR/tree" --ci-source-type copy \
	--ci-source-url "$TEST_DIR/tree" --ci-source-dir "$TEST_DIR/ws/src/ci"
is "$status" 125 "a CI dir inside the code dir is refused"
contains err "overlap" "as overlapping"

rm -rf ws && mkdir -p ws && ln -s "$TEST_DIR/tree" ws/src
jr --source-type copy --source-url "$TEST_DIR/tree"
is "$status" 125 "a code dir that is a symbolic link is refused"

rm -rf ws
jr --source-type git
is "$status" 125 "a source without a URL is refused"
contains err "a git source needs a URL: set source.url, JOBRUN_SOURCE_URL or --source-url" \
	"saying where to give one"

rm -rf ws
jr --dry-run --source-type copy --source-url "$TEST_DIR/tree"
is "$status $(test -e ws/src && echo made)" "0 " "--dry-run prepares nothing"

# ---- local mode: never into the current directory ----

mkdir -p here && cd here && echo keep >keep.txt
run "$JOBRUN" run --source-type copy --source-url "$TEST_DIR/tree" ../job.yaml
cd ..
is "$status $(cat here/.jobrun/src/hello.txt)" "0 hello" \
	"in local mode a prepared source goes to .jobrun/src"
is "$(ls here)" "keep.txt" "and the current directory is left alone"

# A source overridden to none keeps no credential: its token variable is
# gone from the steps' environment, as after a preparation.
mkdir none && cat >none/job.yaml <<'YAML'
source: {type: git, url: "https://example.invalid/app.git", token_env: GIT_TOKEN}
steps:
  - {name: s, run: 'echo "token=[${GIT_TOKEN-unset}]"'}
YAML
(cd none && GIT_TOKEN=tok-none-override-1234 run "$JOBRUN" run --source-type none job.yaml)
is "$status" 0 "a job whose source is overridden to none runs"
contains out "token=[unset]" "its steps do not get the source's token variable"

done_testing
