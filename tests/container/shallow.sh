#!/bin/sh
# depth: 1 in the runner image, over the stateful transports: a git daemon
# and an sshd on this host's 127.0.0.1 (--network=host), and the image's
# jobrun with the libgit2 it was built with.  Each kind of ref is the
# commit alone: .git/shallow holds it, `git rev-list --count HEAD` is 1,
# the objects are all there, and no notice says the history was fetched.
# The image has no git: the clone is looked at from the host, on the
# workspace volume.
#
#   JOBRUN_IMAGE=localhost/jobrun:0.1.0 sh tests/container/shallow.sh
#
# Called by make check-container; skipped without podman.
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
. "$JOBRUN_SRCDIR/tests/git-lib.sh"
need_git
start_sshd

make_repo origin
mkdir served
bare_copy origin served/app.git
start_daemon "$TEST_DIR/served"

rev() { git -C origin rev-parse "$1^{commit}"; }

# clone URL REF [SETTINGS]: the image's jobrun prepares URL at REF, depth
# 1, into ws/src; prints what the clone holds.
clone()
{
	rm -rf ws
	mkdir -p ws/src ci
	cat >ci/job.yaml <<YAML
source:
  type: git
  url: "$1"
  ref: "$2"
  depth: 1
  ${3:-}
steps:
  - name: show
    run: echo "depth=\$JOBRUN_GIT_DEPTH"
YAML
	run podman run --rm --network=host -v "$TEST_DIR/ws:/job" \
		-v "$TEST_DIR/ci:/job/ci:ro" -v "$SSH_DIR:$SSH_DIR:ro" \
		"$JOBRUN_IMAGE" run /job/ci/job.yaml
	git -C ws/src fsck --connectivity-only >/dev/null 2>&1 &&
		fsck=ok || fsck=broken
	echo "$status $(git -C ws/src rev-parse HEAD 2>/dev/null)" \
		"$(git -C ws/src rev-list --count HEAD 2>/dev/null)" \
		"$(cat ws/src/.git/shallow 2>/dev/null)" "$fsck" \
		"$(sed -n 's/^depth=//p' out)"
}

refs="main|main
v2|v2
$(rev v1)|v1
$(git -C origin rev-parse --short=8 dev)|dev
pull/7|refs/pull/7/head
merge-requests/9|refs/merge-requests/9/head"

plan $((2 * 6 * 2 + 1))

run podman run --rm --network=none "$JOBRUN_IMAGE" --version
echo "# $(grep '^libgit2' out)"
contains out "ssh, shallow)" "the image's libgit2 has ssh and depth"

ssh_settings="ssh_key_file: $SSH_DIR/id_ed25519
  known_hosts: $SSH_DIR/known_hosts"
for url in "git://127.0.0.1:$DAEMON_PORT/app.git" \
	"ssh://$SSH_USER@127.0.0.1:$SSH_PORT$TEST_DIR/served/app.git"; do
	scheme=${url%%:*}
	settings=
	[ "$scheme" = ssh ] && settings=$ssh_settings
	echo "$refs" >refs.txt
	while IFS='|' read -r ref what; do
		id=$(rev "$what")
		is "$(clone "$url" "$ref" "$settings")" "0 $id 1 $id ok 1" \
			"$scheme depth 1 in the image: ref '$ref' is $what alone"
		lacks err "whole history" \
			"$scheme depth 1 in the image: ref '$ref' without a notice"
	done <refs.txt
done

done_testing
