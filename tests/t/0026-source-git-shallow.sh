#!/bin/sh
# depth: every kind of ref fetched shallow over smart HTTP and over git://
# (libgit2 1.7 and 1.8 through src/source-gitstateful.c), a commit that is
# no ref's tip by its full and by an abbreviated id, and the notice where
# the whole history is fetched instead.
. "$JOBRUN_SRCDIR/tests/lib.sh"
. "$JOBRUN_SRCDIR/tests/git-lib.sh"
need_git

make_repo origin
(
	cd origin || exit 1
	git_quiet checkout -b long main
	for i in 1 2 3; do
		echo "$i" >long.txt && git_quiet add long.txt &&
			git_quiet commit -m "Long $i"
	done
	git_quiet checkout main
)
mkdir served
bare_copy origin served/app.git
start_daemon "$TEST_DIR/served"
start_http "$TEST_DIR/served"

rev() { git -C origin rev-parse "$1^{commit}"; }
short_dev=$(git -C origin rev-parse --short=8 dev)
inner=$(rev long~1)
short_inner=$(git -C origin rev-parse --short=9 long~1)

# The job file carries the depth (there is no flag for it).
depth_job()
{
	cat >show.yaml <<YAML
source: {type: git, url: "$1", ${2:+ref: "$2",} depth: $3}
steps:
  - name: show
    run: |
      echo "head=\$(git rev-parse HEAD)"
      echo "count=\$(git rev-list --count HEAD)"
      echo "shallow=\$(git rev-parse --is-shallow-repository)"
      echo "boundary=\$(cat .git/shallow 2>/dev/null)"
      echo "depth=\$JOBRUN_GIT_DEPTH"
      git fsck --connectivity-only >/dev/null 2>&1 && echo fsck=ok
YAML
	rm -rf ws
	run env JOBRUN_WORKSPACE="$TEST_DIR/ws" "$JOBRUN" run show.yaml
}

field() { sed -n "s/^$1=//p" out; }

# Each ref kind at depth 1: the commit alone.
refs="main|main
dev|dev
v1|v1
v2|v2
$(rev v1)|v1
$short_dev|dev
pull/7|refs/pull/7/head
refs/merge-requests/9/head|refs/merge-requests/9/head
|main"

# --version says what the sources can do.
"$JOBRUN" --version >version.txt
plan $((2 * 9 * 3 + 2 + 2 * (7 + 3) + 4 + 2))

if grep -q '^#define HAVE_GIT_FETCH_DEPTH 1' "$JOBRUN_BUILDDIR/config.h"; then
	contains version.txt "$(pkg-config --modversion libgit2 2>/dev/null) (https, ssh, shallow)" \
		"--version names libgit2 and its features"
else
	contains version.txt ", no shallow)" "--version says libgit2 cannot fetch shallow"
fi
ok "grep -Eq '^libcurl [0-9.]+ \(https\)$' version.txt" "--version names libcurl"

for url in "http://127.0.0.1:$HTTP_PORT/app.git" \
	"git://127.0.0.1:$DAEMON_PORT/app.git"; do
	case $url in git://*) scheme=git ;; *) scheme=http ;; esac
	echo "$refs" >refs.txt
	while IFS='|' read -r ref what; do
		depth_job "$url" "$ref" 1
		is "$status $(field head)" "0 $(rev "$what")" \
			"$scheme depth 1: ref '${ref:-(none)}' checks out $what"
		# .git/shallow holds the commit itself: nothing below it.
		is "$(field count) $(field boundary) $(field fsck) $(field depth)" \
			"1 $(rev "$what") ok 1" \
			"$scheme depth 1: ref '${ref:-(none)}' fetched the commit alone"
		lacks err "whole history" \
			"$scheme depth 1: ref '${ref:-(none)}' without a notice"
	done <refs.txt
done

# A commit at no ref's tip, over HTTP and git://: by its full id the object
# alone when the server gives out single commits
# (allowReachableSHA1InWant); otherwise, and by an abbreviated id, the
# whole history with a notice.  Then depth 2 is two commits, and a depth
# beyond the history is all of it.
bare_copy origin served/wants.git
git -C served/wants.git config uploadpack.allowReachableSHA1InWant true
for base in "http://127.0.0.1:$HTTP_PORT" "git://127.0.0.1:$DAEMON_PORT"; do
	scheme=${base%%:*}
	url=$base/app.git
	depth_job "$base/wants.git" "$inner" 1
	is "$status $(field head)" "0 $inner" \
		"$scheme: a full id at no tip checks out"
	is "$(field count) $(field boundary) $(field fsck)" "1 $inner ok" \
		"$scheme: alone when the server gives out single commits"
	lacks err "whole history" "$scheme: without a notice"
	depth_job "$url" "$inner" 1
	is "$status $(field head) $(field count)" "0 $inner 5" \
		"$scheme: otherwise with the history it needs"
	contains err "depth 1 is not used for '$inner'" \
		"$scheme: and a notice saying why"
	depth_job "$url" "$short_inner" 1
	is "$status $(field head) $(field count)" "0 $inner 5" \
		"$scheme: an abbreviated id at no tip checks out with its history"
	contains err "depth 1 is not used for '$short_inner'" \
		"$scheme: with a notice too"

	depth_job "$url" main 2
	is "$status $(field count) $(field boundary)" "0 2 $(rev main~1)" \
		"$scheme: depth 2 fetches two commits"
	depth_job "$url" main 50
	is "$status $(field count) $(field fsck)" "0 3 ok" \
		"$scheme: depth 50 fetches all three"
	depth_job "$url" long 0
	is "$status $(field count) $(field shallow)" "0 6 false" \
		"$scheme: depth 0 is the whole history"
done
http="http://127.0.0.1:$HTTP_PORT/app.git"

# A local repository is fetched whole, with a notice.
depth_job "$TEST_DIR/served/app.git" main 1
is "$status $(field count)" "0 3" "a path at depth 1 fetches the history"
contains err "a local repository is not fetched shallow" "and says why"
# Its objects are copied in, not hard-linked (a step writing into its
# .git/objects must not reach the source repository), and complete.
is "$(find ws/src/.git/objects -type f -links +1 | wc -l)" 0 \
	"a local repository's objects are copied, not linked"
is "$(git -C ws/src fsck --connectivity-only >/dev/null 2>&1 && echo ok)" ok \
	"and the clone is whole"

# A failed preparation leaves no partial target: a directory it made is
# removed, one that was there is empty again.
depth_job "$http" no-such-branch 1
# (The workspace holds the job's files, which say what failed.)
is "$status $(ls -A ws | grep -v '\.json$')" "125 " \
	"a failed fetch leaves no target directory"
mkdir -p ws/src
echo "steps: [{name: x, run: 'true'}]" >plain.yaml
run env JOBRUN_WORKSPACE="$TEST_DIR/ws" "$JOBRUN" run --source-type git \
	--source-url "$http" --source-ref no-such-branch plain.yaml
is "$status $(ls -A ws/src)" "125 " "and empties a target that was there"

done_testing
