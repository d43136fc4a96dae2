#!/bin/sh
# The git source over a hostile repository: its hooks and .gitattributes
# filters (whose drivers the user's git configuration defines) would write
# a marker if anything ran them; the same trap set for git itself shows
# they would.  A tree that smuggles in .git/hooks is refused.  Then
# submodules: opt-in, recursive, and never from local paths for a remote
# repository, nor through a symbolic link the checkout made: a tree that
# holds a path as both a link to a directory outside and a submodule is
# refused, at the top and in a nested submodule, and nothing outside is
# written; a submodule that cannot be fetched removes nothing outside.
. "$JOBRUN_SRCDIR/tests/lib.sh"
. "$JOBRUN_SRCDIR/tests/git-lib.sh"
need_git

plan 24

# ---- the trap: filter drivers and hooks that write markers ----

mkdir hooks
cat >hooks/post-checkout <<EOF
#!/bin/sh
touch "$TEST_DIR/marker-hook"
EOF
chmod +x hooks/post-checkout
cat >"$HOME/.gitconfig" <<EOF
[core]
	hooksPath = $TEST_DIR/hooks
[filter "pwn"]
	smudge = "touch $TEST_DIR/marker-smudge; cat"
	clean = "touch $TEST_DIR/marker-clean; cat"
	required = true
EOF

git_quiet init -b main hostile
(
	cd hostile || exit 1
	printf '* filter=pwn\nident.txt ident\ncrlf.txt text eol=crlf\n' >.gitattributes
	printf '$Id$\n' >ident.txt
	printf 'one\ntwo\n' >crlf.txt
	echo data >data.bin
	git -c filter.pwn.clean=cat add . >/dev/null 2>&1
	git -c filter.pwn.clean=cat commit -m "Hostile" >/dev/null 2>&1
)
rm -f marker-*
mkdir served
bare_copy hostile served/hostile.git
start_daemon "$TEST_DIR/served"

cat >job.yaml <<'YAML'
steps: [{name: a, run: "true"}]
YAML
rm -rf ws
run env JOBRUN_WORKSPACE="$TEST_DIR/ws" "$JOBRUN" run --source-type git \
	--source-url "git://127.0.0.1:$DAEMON_PORT/hostile.git" job.yaml
is "$status" 0 "a repository with filters and attributes is checked out"
is "$(ls marker-* 2>/dev/null)" "" "no filter driver and no hook ran"
is "$(cat ws/src/ident.txt)" '$Id$' "ident is not expanded"
is "$(od -c ws/src/crlf.txt | grep -c '\\r')" 0 \
	"line endings are not converted: files are the blobs' bytes"

git_quiet clone "git://127.0.0.1:$DAEMON_PORT/hostile.git" control
is "$(ls marker-* 2>/dev/null | tr '\n' ' ')" "marker-hook marker-smudge " \
	"(while git itself, as configured here, runs both)"
rm -f "$HOME/.gitconfig" marker-*

# ---- a tree that holds .git/hooks ----

git_quiet init -b main smuggler
(
	cd smuggler || exit 1
	blob=$(printf '#!/bin/sh\ntouch %s/marker-smuggled\n' "$TEST_DIR" |
		git hash-object -w --stdin)
	hooks=$(printf '100755 blob %s\tpost-checkout\n' "$blob" | git mktree)
	dotgit=$(printf '040000 tree %s\thooks\n' "$hooks" | git mktree)
	root=$(printf '040000 tree %s\t.git\n' "$dotgit" | git mktree)
	git update-ref refs/heads/main "$(git commit-tree "$root" -m smuggle)"
)
rm -rf ws
run env JOBRUN_WORKSPACE="$TEST_DIR/ws" "$JOBRUN" run --source-type git \
	--source-url "$TEST_DIR/smuggler" job.yaml
is "$status" 125 "a tree with a .git directory is refused"
contains err "invalid path '.git/hooks/post-checkout'" "naming the path"
ok "[ ! -e ws/src/.git/hooks/post-checkout ] && [ ! -e marker-smuggled ]" \
	"and nothing of it was written"

# ---- submodules ----

mkdir -p work
for name in deep lib; do
	git_quiet init -b main "work/$name"
	echo "$name" >"work/$name/$name.txt"
	git -C "work/$name" add . && git_quiet -C "work/$name" commit -m "$name"
done
# lib holds deep, super holds lib; both by URLs relative to their own.
add_submodule()
{
	git_quiet -C "$1" -c protocol.file.allow=always submodule add \
		"$TEST_DIR/served/$2.git" "$3"
	git -C "$1" config -f .gitmodules "submodule.$3.url" "../$2.git"
	git -C "$1" add .gitmodules && git_quiet -C "$1" commit -m "Add $2"
}
bare_copy work/deep served/deep.git
add_submodule work/lib deep deep
bare_copy work/lib served/lib.git
git_quiet init -b main work/super
echo super >work/super/super.txt && git -C work/super add super.txt
add_submodule work/super lib vendor/lib
bare_copy work/super served/super.git

cat >sub.yaml <<YAML
source: {type: git, url: "git://127.0.0.1:$DAEMON_PORT/super.git", submodules: true}
steps:
  - {name: status, run: "git submodule status --recursive | cut -c1 | tr -d '\\\\n'"}
YAML
rm -rf ws
run env JOBRUN_WORKSPACE="$TEST_DIR/ws" "$JOBRUN" run sub.yaml
is "$status" 0 "submodules: true checks submodules out"
is "$(cat ws/src/vendor/lib/lib.txt ws/src/vendor/lib/deep/deep.txt)" "lib
deep" "recursively"
is "$(cat out)" "  " "at the commits the superproject records"

# The same superproject as a file:/// URL: its submodules' relative URLs
# are resolved as git does (libgit2 made file://path of file:///path).
sed "s|git://127.0.0.1:$DAEMON_PORT/|file://$TEST_DIR/served/|" sub.yaml >fileurl.yaml
rm -rf ws
run env JOBRUN_WORKSPACE="$TEST_DIR/ws" "$JOBRUN" run fileurl.yaml
is "$status $(cat ws/src/vendor/lib/deep/deep.txt)" "0 deep" \
	"a file:/// superproject's relative submodules are checked out"

sed 's/submodules: true/submodules: false/' sub.yaml >nosub.yaml
rm -rf ws
run env JOBRUN_WORKSPACE="$TEST_DIR/ws" "$JOBRUN" run nosub.yaml
is "$status $(ls ws/src/vendor/lib | wc -l | tr -d ' ')" "0 0" \
	"without submodules: true they are left alone"

# A remote superproject whose submodule is a path on this machine.
git_quiet init -b main work/sneaky
echo x >work/sneaky/x && git -C work/sneaky add x
git_quiet -C work/sneaky -c protocol.file.allow=always submodule add \
	"$TEST_DIR/served/deep.git" peek
git -C work/sneaky config -f .gitmodules submodule.peek.url "$TEST_DIR/served/deep.git"
git -C work/sneaky add .gitmodules && git_quiet -C work/sneaky commit -m sneaky
bare_copy work/sneaky served/sneaky.git
sed 's/super.git/sneaky.git/' sub.yaml >sneaky.yaml
rm -rf ws
run env JOBRUN_WORKSPACE="$TEST_DIR/ws" "$JOBRUN" run sneaky.yaml
is "$status" 125 "a remote repository's submodule with a local path is refused"
contains err "submodule 'peek' has the local URL '$TEST_DIR/served/deep.git'" \
	"naming it"
ok "[ ! -e ws/src/peek/deep.txt ]" "and it is not checked out"

# A submodule that cannot be fetched: libgit2 removes what it began to
# clone by the submodule's path from the process's working directory, not
# the checkout's; jobrun's own directory holding that path kept its files.
git_quiet init -b main work/broken
echo x >work/broken/x && git -C work/broken add x
git_quiet -C work/broken -c protocol.file.allow=always submodule add \
	"$TEST_DIR/served/deep.git" keep
git -C work/broken config -f .gitmodules submodule.keep.url ../missing.git
git -C work/broken add .gitmodules && git_quiet -C work/broken commit -m broken
bare_copy work/broken served/broken.git
sed 's/super.git/broken.git/' sub.yaml >broken.yaml
mkdir -p keep/inner && echo precious >keep/inner/file
rm -rf ws
run env JOBRUN_WORKSPACE="$TEST_DIR/ws" "$JOBRUN" run broken.yaml
is "$status" 125 "a submodule that cannot be fetched fails the source"
is "$(cat keep/inner/file 2>&1)" "precious" \
	"and a directory of its name where jobrun runs keeps its files"

# ---- a submodule through a link: "x" both a link outside and a gitlink ----

# The trusted directory the link points at, and the attacker's submodule.
trusted_outside()
{
	rm -rf outside && mkdir outside
	printf 'echo trusted\n' >outside/build.sh
}
trusted_outside
git_quiet init -b main work/evil
printf 'echo PWNED\n' >work/evil/build.sh
git -C work/evil add . && git_quiet -C work/evil commit -m evil
bare_copy work/evil served/evil.git
evil=$(git -C work/evil rev-parse HEAD)

# linked_repo DIR NAME: a repository whose one commit holds NAME twice: a
# link to $TEST_DIR/outside and the submodule evil.git (../evil.git).
linked_repo()
{
	git_quiet init -b main "$1"
	(
		cd "$1" || exit 1
		mods=$(printf '[submodule "%s"]\n\tpath = %s\n\turl = ../evil.git\n' \
			"$2" "$2" | git hash-object -w --stdin)
		link=$(printf '%s' "$TEST_DIR/outside" | git hash-object -w --stdin)
		root=$(printf '100644 blob %s\t.gitmodules\n120000 blob %s\t%s\n160000 commit %s\t%s\n' \
			"$mods" "$link" "$2" "$evil" "$2" | git mktree --missing)
		git update-ref refs/heads/main "$(git commit-tree "$root" -m linked)"
	)
}
untouched="[ \"\$(ls -A outside)\" = build.sh ] &&
	[ \"\$(cat outside/build.sh)\" = 'echo trusted' ]"

linked_repo work/linked x
bare_copy work/linked served/linked.git
sed 's/super.git/linked.git/' sub.yaml >linked.yaml
rm -rf ws
run env JOBRUN_WORKSPACE="$TEST_DIR/ws" "$JOBRUN" run linked.yaml
is "$status" 125 "a tree holding 'x' as a link and as a submodule is refused"
contains err "the tree holds 'x' twice (a symbolic link and a submodule)" \
	"naming the path"
ok "$untouched" "and nothing is written through the link"

# The same one level down: a good submodule whose own tree does it.
linked_repo work/inner y
bare_copy work/inner served/inner.git
git_quiet init -b main work/outer
(
	cd work/outer || exit 1
	mods=$(printf '[submodule "in"]\n\tpath = in\n\turl = ../inner.git\n' |
		git hash-object -w --stdin)
	root=$(printf '100644 blob %s\t.gitmodules\n160000 commit %s\tin\n' \
		"$mods" "$(git -C ../inner rev-parse HEAD)" | git mktree --missing)
	git update-ref refs/heads/main "$(git commit-tree "$root" -m outer)"
)
bare_copy work/outer served/outer.git
sed 's/super.git/outer.git/' sub.yaml >outer.yaml
trusted_outside
rm -rf ws
run env JOBRUN_WORKSPACE="$TEST_DIR/ws" "$JOBRUN" run outer.yaml
is "$status" 125 "a nested submodule's tree doing the same is refused"
contains err "the tree holds 'in/y' twice (a symbolic link and a submodule)" \
	"naming the path from the top"
ok "$untouched" "and nothing is written through that link either"

done_testing
