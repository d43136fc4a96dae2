#!/bin/sh
# The git source over ssh, against a real sshd on 127.0.0.1: every kind of
# ref with an ed25519 key file, full and at depth 1; an ssh agent; host
# keys checked against the known_hosts setting and by default the user's
# known_hosts (hashed names too); an unknown and a changed host key
# refused with the key's type and fingerprint; a key marked @revoked
# refused whatever other lines say, @cert-authority lines never taken as
# a host's key, host patterns read as OpenSSH reads them; a key the
# server refuses.
. "$JOBRUN_SRCDIR/tests/lib.sh"
. "$JOBRUN_SRCDIR/tests/git-lib.sh"
need_git
start_sshd

make_repo origin
mkdir served
bare_copy origin served/app.git
url="ssh://$SSH_USER@127.0.0.1:$SSH_PORT$TEST_DIR/served/app.git"
key=$SSH_DIR/id_ed25519
print=$(host_fingerprint "$SSH_DIR/host_key.pub")

rev() { git -C origin rev-parse "$1^{commit}"; }
field() { sed -n "s/^$1=//p" out; }

# job REF DEPTH [SETTINGS]: runs a job over ssh on a fresh workspace.
job()
{
	cat >job.yaml <<YAML
source:
  type: git
  url: "$url"
  ${1:+ref: "$1"}
  depth: $2
  ${3:-ssh_key_file: $key
  known_hosts: $SSH_DIR/known_hosts}
steps:
  - name: show
    run: |
      echo "head=\$(git rev-parse HEAD)"
      echo "count=\$(git rev-list --count HEAD)"
      echo "shallow=\$(cat .git/shallow 2>/dev/null)"
      git fsck --connectivity-only >/dev/null 2>&1 && echo fsck=ok
YAML
	rm -rf ws
	run env JOBRUN_WORKSPACE="$TEST_DIR/ws" "$JOBRUN" run job.yaml
}

refs="main|main
v2|v2
$(rev v1)|v1
$(git -C origin rev-parse --short=8 dev)|dev
pull/7|refs/pull/7/head
merge-requests/9|refs/merge-requests/9/head"

# libgit2 1.7 and later fetch shallow over ssh (1.7 and 1.8 through
# src/source-gitstateful.c); 1.5 and 1.6 fetch the whole history.
shallow=false
grep -q '^#define HAVE_GIT_FETCH_DEPTH 1' "$JOBRUN_BUILDDIR/config.h" &&
	shallow=true

plan $((6 * 3 * 2 + 2 + 13 + 15 + 3))

echo "$refs" >refs.txt
while IFS='|' read -r ref what; do
	for depth in 0 1; do
		job "$ref" $depth
		is "$status $(field head)" "0 $(rev "$what")" \
			"ssh depth $depth: ref '$ref' checks out $what"
		is "$(field fsck)" ok "ssh depth $depth: ref '$ref' is whole"
		if [ $depth = 0 ]; then
			is "$(grep -c 'whole history' err)" 0 \
				"ssh depth 0: ref '$ref' without a notice"
		elif [ $shallow = true ]; then
			# .git/shallow holds the commit itself: nothing below it.
			is "$(field count) $(field shallow)" "1 $(rev "$what")" \
				"ssh depth 1: ref '$ref' fetched the commit alone"
		else
			contains err "cannot fetch shallow" \
				"ssh depth 1: ref '$ref' fetched whole, with a notice"
		fi
	done
done <refs.txt

# Depth 2 is two commits, whose parent is the shallow one.
job dev 2
is "$status $(field count)" "0 2" "ssh depth 2 fetches two commits"
[ $shallow = true ] && want_shallow=$(rev dev~1) || want_shallow=
is "$(field shallow)" "$want_shallow" "the second is the shallow one"

# An agent instead of a key file.
if command -v ssh-agent >/dev/null 2>&1; then
	eval "$(ssh-agent -s -a "$TEST_DIR/agent.sock")" >/dev/null
	_servers="$_servers $SSH_AGENT_PID"
	ssh-add -q "$key" 2>/dev/null
	job main 0 "known_hosts: $SSH_DIR/known_hosts"
	is "$status $(field head)" "0 $(rev main)" "a key from SSH_AUTH_SOCK's agent works"
	kill "$SSH_AGENT_PID"
	unset SSH_AUTH_SOCK SSH_AGENT_PID
else
	echo "ok $((_tap_count += 1)) # SKIP ssh-agent is not installed"
fi

# An unknown host: refused, with the key's type and fingerprint, at once.
: >"$TEST_DIR/empty_known_hosts"
job main 0 "ssh_key_file: $key
  known_hosts: $TEST_DIR/empty_known_hosts"
is "$status" 125 "an unknown host key is refused"
contains err "host key of '127.0.0.1' is unknown" "and says the host is unknown"
contains err "ssh-ed25519 $print" "with the key's type and SHA256 fingerprint"
lacks err "attempt" "and does not retry"

# A changed one: the host is listed with another ed25519 key.
ssh-keygen -q -t ed25519 -N '' -f "$TEST_DIR/other"
echo "[127.0.0.1]:$SSH_PORT $(cut -d' ' -f1,2 "$TEST_DIR/other.pub")" \
	>"$TEST_DIR/changed_known_hosts"
job main 0 "ssh_key_file: $key
  known_hosts: $TEST_DIR/changed_known_hosts"
is "$status" 125 "a changed host key is refused"
contains err "has CHANGED" "and says it changed"
contains err "ssh-ed25519 $print" "with the offered key's fingerprint"

# By default, the user's known_hosts: refused without it, accepted with
# it, hashed host names included.
job main 0 "ssh_key_file: $key"
is "$status" 125 "without known_hosts, nothing the user knows accepts the host"
contains err ".ssh/known_hosts or /etc/ssh/ssh_known_hosts" "and says where it looked"
mkdir -p "$HOME/.ssh"
cp "$SSH_DIR/known_hosts" "$HOME/.ssh/known_hosts"
ssh-keygen -q -H -f "$HOME/.ssh/known_hosts" >/dev/null 2>&1
job main 0 "ssh_key_file: $key"
is "$status $(grep -c '^|1|' "$HOME/.ssh/known_hosts")" "0 1" \
	"~/.ssh/known_hosts with a hashed name accepts the host"

# known_hosts with LINES (printf's format): a job on a fresh workspace.
host_line="[127.0.0.1]:$SSH_PORT $(cut -d' ' -f1,2 "$SSH_DIR/host_key.pub")"
host_key=$(cut -d' ' -f1,2 "$SSH_DIR/host_key.pub")
with_known_hosts()
{
	printf "$1" >"$TEST_DIR/marked_known_hosts"
	job main 0 "ssh_key_file: $key
  known_hosts: $TEST_DIR/marked_known_hosts"
}
# hashed NAME: NAME hashed as ssh-keygen -H writes it.
hashed()
{
	"$PYTHON3" -c 'import base64, hashlib, hmac, os, sys
salt = os.urandom(20)
mac = hmac.new(salt, sys.argv[1].encode(), hashlib.sha1).digest()
print("|1|%s|%s" % (base64.b64encode(salt).decode(), base64.b64encode(mac).decode()))' "$1"
}

# @revoked: refused, whatever other lines say (OpenSSH: REVOKED HOST KEY
# DETECTED).
with_known_hosts "$host_line\n@revoked $host_line\n"
is "$status" 125 "a key marked @revoked is refused, though a line lists it"
contains err "the host key of '127.0.0.1' is REVOKED" "and says it is revoked"
contains err "ssh-ed25519 $print" "with the key's type and fingerprint"
contains err "line 2 marks @revoked" "and the line that revokes it"
lacks err "attempt" "at once"
with_known_hosts "@revoked * $host_key\n$host_line\n"
is "$status" 125 "@revoked with a wildcard host pattern refuses it too"
with_known_hosts "$host_line\n@revoked $(hashed "[127.0.0.1]:$SSH_PORT") $host_key\n"
is "$status" 125 "@revoked with a hashed host name refuses it too"
with_known_hosts "@revoked other.example $host_key\n$host_line\n"
is "$status" 0 "a key revoked for another host only is accepted"
with_known_hosts "@revoked $host_line\n"
contains err "is REVOKED" "@revoked alone: refused as revoked, not unknown"

# @cert-authority: a CA's key, never a host's own.
with_known_hosts "@cert-authority $host_line\n"
is "$status" 125 "a key listed only under @cert-authority is not accepted"
contains err "host certificates are not checked" \
	"and the message says @cert-authority lines are not used"
with_known_hosts "@cert-authority $host_line\nnot a known_hosts line\n$host_line\n"
is "$status" 0 "lines OpenSSH skips do not hide those after them"

# Host patterns as OpenSSH matches them: wildcards, negation, the port.
with_known_hosts "[127.0.0.?]:$SSH_PORT $host_key\n"
is "$status" 0 "a wildcard host pattern lists the host"
with_known_hosts "![127.0.0.1]:$SSH_PORT,[127.0.0.*]:$SSH_PORT $host_key\n"
is "$status" 125 "a negated pattern keeps the line from the host"
with_known_hosts "127.0.0.1 $host_key\n"
is "$status" 125 "a line without [host]:port is for port 22 only"

# A key the server does not take.
ssh-keygen -q -t ed25519 -N '' -f "$TEST_DIR/stranger"
job main 0 "ssh_key_file: $TEST_DIR/stranger
  known_hosts: $SSH_DIR/known_hosts"
is "$status" 125 "a key the server refuses fails with 125"
contains err "authentication failed" "and says authentication failed"

# A submodule over ssh on a port of its own (the source a local path): its
# host key is looked up for that port, not the source's.
bare_copy origin served/sub.git
sub_commit=$(rev main)
git_quiet init -b main sup
(
	cd sup || exit 1
	echo a >a
	printf '[submodule "s"]\n\tpath = s\n\turl = ssh://%s@127.0.0.1:%s%s/served/sub.git\n' \
		"$SSH_USER" "$SSH_PORT" "$TEST_DIR" >.gitmodules
	git_quiet add a .gitmodules
	git update-index --add --cacheinfo "160000,$sub_commit,s"
	git_quiet commit -m "with a submodule"
)
bare_copy sup served/sup.git
submodule_job()
{
	printf 'source: {type: git, url: "%s", ssh_key_file: "%s", known_hosts: "%s", submodules: true}\nsteps: [{name: s, run: "true"}]\n' \
		"$TEST_DIR/served/sup.git" "$key" "$1" >subjob.yaml
	rm -rf ws
	run env JOBRUN_WORKSPACE="$TEST_DIR/ws" "$JOBRUN" run subjob.yaml
}
echo "[127.0.0.1]:$SSH_PORT $host_key" >kh_port
submodule_job kh_port
ok "! grep -qi 'host.\?key' err" "a submodule's [host]:port entry is found for its own port"
echo "127.0.0.1 $host_key" >kh_22
submodule_job kh_22
is "$status" 125 "a port-22 entry does not let a submodule's server on another port through"
ok "grep -qi 'host.\?key' err" "its host key is refused"

done_testing
