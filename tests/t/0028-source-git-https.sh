#!/bin/sh
# The git source over HTTPS (git http-backend behind a TLS server with a
# certificate from a CA this test makes): every kind of ref, full and at
# depth 1, with ca_file naming that CA; a wrong CA and the system's store
# (which does not have it) refused at once with a clear message.  Then,
# over plain HTTP (two host names, 127.0.0.1 and localhost, need no
# certificate), a server that redirects to another host: followed without
# credentials; with a token or a password in the URL not followed, said so
# at once, and the other host never sees an Authorization header.
. "$JOBRUN_SRCDIR/tests/lib.sh"
. "$JOBRUN_SRCDIR/tests/git-lib.sh"
need_git

make_ca "$TEST_DIR/pki" right
make_ca "$TEST_DIR/pki" wrong
make_repo origin
mkdir served
bare_copy origin served/app.git
start_https "$TEST_DIR/served" "$TEST_DIR/pki" right
# By name: Debian's libgit2 verifies with mbedTLS 2.28, which matches no
# IP address in a certificate.
url="https://localhost:$HTTPS_PORT/app.git"

rev() { git -C origin rev-parse "$1^{commit}"; }
field() { sed -n "s/^$1=//p" out; }

# job REF DEPTH SETTINGS: runs a job over HTTPS on a fresh workspace.
job()
{
	cat >job.yaml <<YAML
source:
  type: git
  url: "$url"
  ${1:+ref: "$1"}
  depth: $2
  $3
steps:
  - name: show
    run: |
      echo "head=\$(git rev-parse HEAD)"
      echo "count=\$(git rev-list --count HEAD)"
      echo "shallow=\$(git rev-parse --is-shallow-repository)"
YAML
	rm -rf ws
	run env JOBRUN_WORKSPACE="$TEST_DIR/ws" "$JOBRUN" run job.yaml
}

refs="main|main
v2|v2
$(rev v1)|v1
$(git -C origin rev-parse --short=8 dev)|dev
pull/7|refs/pull/7/head
merge-requests/9|refs/merge-requests/9/head
|main"

plan $((7 * 2 * 2 + 8 + 8 + 8))

echo "$refs" >refs.txt
while IFS='|' read -r ref what; do
	for depth in 0 1; do
		job "$ref" $depth "ca_file: $TEST_DIR/pki/right-ca.pem"
		is "$status $(field head)" "0 $(rev "$what")" \
			"https depth $depth: ref '${ref:-(none)}' checks out $what"
		if [ $depth = 0 ]; then
			is "$(field shallow)" false \
				"https depth 0: ref '${ref:-(none)}' has the history"
		else
			is "$(field count) $(field shallow)" "1 true" \
				"https depth 1: ref '${ref:-(none)}' fetched alone"
		fi
	done
done <refs.txt

job main 0 "ca_file: $TEST_DIR/pki/wrong-ca.pem"
is "$status" 125 "a certificate from another CA is refused"
contains err "the certificate of 'localhost' is not trusted" "and says so"
contains err "wrong-ca.pem' (ca_file)" "naming the CA file"
lacks err "attempt" "at once, with no retry"

job main 0 ""
is "$status" 125 "the system's store does not have the test's CA"
contains err "the system's certificate store" "and says where it looked"

job main 0 "ca_file: $TEST_DIR/pki/missing.pem"
is "$status" 125 "a ca_file that cannot be read fails"
contains err "cannot use the ca_file" "and says so"

# ---- a redirect to another host ----

TOKEN=redirect-token-4c1d9e7a2b
start_catcher "$TEST_DIR/other-host.log"
: >other-host.log
start_redirector "http://localhost:$CATCH_PORT"
# redirected URL SETTINGS: runs a job whose source is URL, with the token
# in GIT_TOKEN.
redirected()
{
	cat >job.yaml <<YAML
source: {type: git, url: "$1", $2}
steps: [{name: s, run: "git rev-parse HEAD"}]
YAML
	rm -rf ws
	run env GIT_TOKEN="$TOKEN" JOBRUN_WORKSPACE="$TEST_DIR/ws" \
		"$JOBRUN" run job.yaml
}

redirected "http://127.0.0.1:$REDIRECT_PORT/app.git" "token_env: GIT_TOKEN"
is "$status" 125 "with a token, a redirect to another host is not followed"
contains err "the server redirects to another host ('localhost')" \
	"and says where it redirects"
contains err "a source with credentials follows no redirect to another host" \
	"and why it is not followed"
lacks err "attempt" "at once, with no retry"
lacks err "$TOKEN" "without printing the token"
is "$(grep -cv ' -$' other-host.log)" 0 \
	"the other host receives no Authorization header"

redirected "http://x-access-token:$TOKEN@127.0.0.1:$REDIRECT_PORT/app.git" ""
contains err "a source with credentials follows no redirect to another host" \
	"nor with a password in the URL"

start_http "$TEST_DIR/served"
start_redirector "http://localhost:$HTTP_PORT"
redirected "http://127.0.0.1:$REDIRECT_PORT/app.git" "depth: 0"
is "$status $(cat out)" "0 $(rev main)" \
	"without credentials, a redirect to another host is followed"

# GitHub's TOKEN:x-oauth-basic: the token is the user name.  It is used,
# and kept nowhere: not in .git/config, result.json, the logs, the
# console, nor shown by config --explain.
rm -f "$TEST_DIR/token.port"
"$PYTHON3" "$GIT_SERVER" http "$TEST_DIR/served" "$TEST_DIR/token.port" \
	--token x-oauth-basic --cert "$TEST_DIR/pki/right-cert.pem" \
	--key "$TEST_DIR/pki/right-key.pem" &
_servers="$_servers $!"
wait_for_file "$TEST_DIR/token.port"
token_url="https://localhost:$(cat "$TEST_DIR/token.port")/app.git"
TOKEN=ghp_TOKENUSER0028abcdefghijkl
cat >job.yaml <<YAML
source:
  type: git
  url: "${token_url%%//*}//$TOKEN:x-oauth-basic@${token_url#*//}"
  ca_file: "$TEST_DIR/pki/right-ca.pem"
steps:
  - {name: show, run: 'grep url .git/config'}
YAML
rm -rf ws
run env JOBRUN_WORKSPACE="$TEST_DIR/ws" "$JOBRUN" run job.yaml
is "$status" 0 "a token as the user name with a password: fetched"
contains out "url = $token_url" ".git/config keeps the URL without it"
ok "! grep -rqF '$TOKEN' out err ws/src/.git/config ws/result.json ws/logs" \
	"the token is in no output, .git/config, result.json or log"
run "$JOBRUN" config --explain job.yaml
lacks out "$TOKEN" "config --explain does not show it"

# Passwords holding an unencoded '@' or '/': no reader can use these
# URLs, and the error shows no part of the password.
for c in @ /; do
	cat >job.yaml <<YAML
source:
  type: git
  url: "https://user:abc${c}SECRET0028pw@${url#*//}"
  ca_file: "$TEST_DIR/pki/right-ca.pem"
steps: [{name: s, run: "true"}]
YAML
	rm -rf ws
	run env JOBRUN_WORKSPACE="$TEST_DIR/ws" "$JOBRUN" run job.yaml
	is "$status" 125 "a password holding '$c': refused"
	lacks err "SECRET0028" "a password holding '$c': not in the error"
done

done_testing
