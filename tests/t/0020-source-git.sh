#!/bin/sh
# The git source: every kind of ref over a path, git:// (git daemon) and
# smart HTTP (git http-backend), the checkout steps see, the facts they
# get, the CI source first, a wrong ref, and depth.
. "$JOBRUN_SRCDIR/tests/lib.sh"
. "$JOBRUN_SRCDIR/tests/git-lib.sh"
need_git

make_repo origin
mkdir served
bare_copy origin served/app.git
start_daemon "$TEST_DIR/served"
start_http "$TEST_DIR/served"

rev() { git -C origin rev-parse "$1^{commit}"; }
short_dev=$(git -C origin rev-parse --short=8 dev)

# A step that prints what it sees of the checkout.
cat >show.yaml <<'YAML'
steps:
  - name: show
    run: |
      echo "commit=$JOBRUN_GIT_COMMIT"
      echo "ref=$JOBRUN_GIT_REF"
      echo "head=$(git rev-parse HEAD)"
YAML

# fetch URL REF: runs show.yaml on a fresh workspace; REF may be empty.
fetch()
{
	rm -rf ws
	run env JOBRUN_WORKSPACE="$TEST_DIR/ws" "$JOBRUN" run \
		--source-type git --source-url "$1" ${2:+--source-ref "$2"} \
		show.yaml
}

# The ref kinds, each with the commit it means and the ref reported.
refs="main|main|refs/heads/main
dev|dev|refs/heads/dev
v1|v1|refs/tags/v1
v2|v2|refs/tags/v2
$(rev v1)|v1|$(rev v1)
$short_dev|dev|$(rev dev)
pull/7|refs/pull/7/head|refs/pull/7/head
refs/pull/7/head|refs/pull/7/head|refs/pull/7/head
merge-requests/9|refs/merge-requests/9/head|refs/merge-requests/9/head
refs/merge-requests/9/head|refs/merge-requests/9/head|refs/merge-requests/9/head
|main|refs/heads/main"

plan $((3 * 11 * 2 + 22))

for url in "$TEST_DIR/served/app.git" "git://127.0.0.1:$DAEMON_PORT/app.git" \
	"http://127.0.0.1:$HTTP_PORT/app.git"; do
	case $url in git://*) scheme=git ;; http://*) scheme=http ;; *) scheme=path ;; esac
	echo "$refs" >refs.txt
	while IFS='|' read -r ref what reported; do
		fetch "$url" "$ref"
		is "$status $(sed -n 's/^head=//p' out)" "0 $(rev "$what")" \
			"$scheme: ref '${ref:-(none)}' checks out $what"
		is "$(sed -n 's/^ref=//p' out) $(sed -n 's/^commit=//p' out)" \
			"$reported $(rev "$what")" \
			"$scheme: ref '${ref:-(none)}' is reported as $reported"
	done <refs.txt
done

# ---- the checkout as later steps see it ----

cat >tools.yaml <<'YAML'
steps:
  - name: tools
    run: |
      git status --porcelain >status.txt
      git symbolic-ref -q HEAD >symref.txt || echo detached >symref.txt
      git log --format=%s >log.txt
      git rev-parse --abbrev-ref HEAD >abbrev.txt
      env | grep '^JOBRUN_GIT_' | sort >facts.txt
      rm -f status.txt.keep
YAML
rm -rf ws
run env JOBRUN_WORKSPACE="$TEST_DIR/ws" "$JOBRUN" run --source-type git \
	--source-url "git://127.0.0.1:$DAEMON_PORT/app.git" --source-ref dev \
	tools.yaml
is "$status" 0 "a job over a git checkout succeeds"
is "$(grep -v -e '^?? status.txt$' -e '^?? symref.txt$' ws/src/status.txt)" "" \
	"git status in a step sees a clean tree"
is "$(cat ws/src/symref.txt) $(cat ws/src/abbrev.txt)" "detached HEAD" \
	"HEAD is detached"
is "$(cat ws/src/log.txt)" "$(git -C origin log --format=%s dev)" \
	"git log in a step shows the whole history"
git -C origin archive dev | (mkdir expected && tar -xf - -C expected)
is "$(diff -r -x .git -x '*.txt' expected ws/src && echo same)" "same" \
	"the files are the commit's, byte for byte"
is "$(cat ws/src/facts.txt)" "JOBRUN_GIT_AUTHOR=Ada Tester <ada@example.org>
JOBRUN_GIT_COMMIT=$(rev dev)
JOBRUN_GIT_DEPTH=0
JOBRUN_GIT_REF=refs/heads/dev
JOBRUN_GIT_SUBJECT=Work on dev" "steps get the commit, ref, author and subject"
undocumented=$(for v in $(cut -d= -f1 ws/src/facts.txt | sed 's/^JOBRUN_/JOBRUN_CI_/; p; s/^JOBRUN_CI_/JOBRUN_/'); do
	sed 's/\\-/-/g; s/\\f[BIRP]//g' "$JOBRUN_SRCDIR/man/jobrun.1" | grep -qw "$v" || echo "$v"
done)
is "$undocumented" "" "jobrun(1) names every JOBRUN_GIT_ and JOBRUN_CI_GIT_ variable"
contains err "jobrun: source: git git://127.0.0.1:$DAEMON_PORT/app.git ref dev -> $(rev dev) (refs/heads/dev) (" \
	"the console says what was checked out"
is "$(git -C ws/src rev-parse refs/remotes/origin/dev)" "$(rev dev)" \
	"the branch is kept as origin/dev"
is "$(git -C ws/src config remote.origin.url)" \
	"git://127.0.0.1:$DAEMON_PORT/app.git" "origin is the source's URL"

# ---- the CI source first, then the source ----

cat >both.yaml <<YAML
ci_source: {type: git, url: "git://127.0.0.1:$DAEMON_PORT/app.git", ref: v1}
source: {type: git, url: "http://127.0.0.1:$HTTP_PORT/app.git", ref: dev}
steps:
  - name: both
    run: |
      echo "ci=\$JOBRUN_CI_GIT_COMMIT src=\$JOBRUN_GIT_COMMIT"
      echo "pwd=\$(pwd)"
      test -f "\$JOBRUN_CI_SOURCE_DIR/README" && test -f dev.txt
YAML
rm -rf ws
run env JOBRUN_WORKSPACE="$TEST_DIR/ws" "$JOBRUN" run both.yaml
is "$status" 0 "a job with a CI source and a source succeeds"
is "$(sed -n 's/^ci=//p' out)" "$(rev v1) src=$(rev dev)" \
	"steps get JOBRUN_CI_GIT_* and JOBRUN_GIT_*"
is "$(grep -o '^jobrun: [a-z_]*source:' err | tr '\n' ' ')" \
	"jobrun: ci_source: jobrun: source: " "the CI source is prepared first"
is "$(sed -n 's/^pwd=//p' out)" "$TEST_DIR/ws/src" "steps run in the code directory"

# ---- a wrong ref ----

cat >marker.yaml <<'YAML'
steps:
  - {name: never, run: touch "$JOBRUN_WORKSPACE/ran"}
YAML
rm -rf ws
run env JOBRUN_WORKSPACE="$TEST_DIR/ws" "$JOBRUN" run --source-type git \
	--source-url "git://127.0.0.1:$DAEMON_PORT/app.git" --source-ref mian \
	marker.yaml
is "$status $(test -e ws/ran && echo ran)" "125 " \
	"a wrong ref fails with 125 before any step"
contains err "ref 'mian' not found" "and says the ref was not found"
contains err "closest: main" "names the closest ref"
contains err "branches: dev, main; tags: v1, v2; pull requests: pull/7; merge requests: merge-requests/9" \
	"and lists what the remote has"
rm -rf ws
run env JOBRUN_WORKSPACE="$TEST_DIR/ws" "$JOBRUN" run --source-type git \
	--source-url "git://127.0.0.1:$DAEMON_PORT/app.git" --source-ref 0123abcd \
	marker.yaml
is "$status" 125 "an id that is no commit fails"
contains err "no commit '0123abcd'" "and says so"

# ---- depth ----

cat >depth.yaml <<YAML
source: {type: git, url: "http://127.0.0.1:$HTTP_PORT/app.git", ref: main, depth: 1}
steps:
  - {name: count, run: "git rev-list --count HEAD; git rev-parse --is-shallow-repository"}
YAML
rm -rf ws
run env JOBRUN_WORKSPACE="$TEST_DIR/ws" "$JOBRUN" run depth.yaml
if grep -q '^#define HAVE_GIT_FETCH_DEPTH 1' "$JOBRUN_BUILDDIR/config.h"; then
	is "$status $(tr '\n' ' ' <out)" "0 1 true " "depth 1 fetches one commit"
	lacks err "cannot fetch shallow" "without a notice"
else
	is "$status $(tr '\n' ' ' <out)" "0 3 false " \
		"without shallow fetch in libgit2, depth 1 fetches the history"
	contains err "cannot fetch shallow" "with a notice saying why"
fi

done_testing
