#!/bin/sh
# The git source over an unkind network: credentials (good, bad, missing,
# from a variable, a file or the URL; never printed, never left behind),
# a server that is not there (retried, bounded), one that never answers
# (the source's timeout), and a cancel during the fetch.
. "$JOBRUN_SRCDIR/tests/lib.sh"
. "$JOBRUN_SRCDIR/tests/git-lib.sh"
need_git

plan 39

make_repo origin
mkdir served
bare_copy origin served/app.git
TOKEN=tok-7f3a9c2e51b84d06a1
start_http "$TEST_DIR/served" --token "$TOKEN" --log "$TEST_DIR/users.log"
URL="http://127.0.0.1:$HTTP_PORT/app.git"
dev=$(git -C origin rev-parse dev)

cat >env.yaml <<YAML
source: {type: git, url: "$URL", ref: dev, token_env: GIT_TOKEN}
steps:
  - {name: see, run: 'echo "token=\${GIT_TOKEN-unset}"; git log -1 --format=%H'}
YAML

# ---- a token from a variable ----

rm -rf ws
run env GIT_TOKEN="$TOKEN" JOBRUN_WORKSPACE="$TEST_DIR/ws" "$JOBRUN" run env.yaml
is "$status $(sed -n 2p out)" "0 $dev" "a token from token_env opens the repository"
is "$(sed -n 1p out)" "token=unset" "steps do not inherit the token's variable"
lacks err "$TOKEN" "the token is not printed"
is "$(grep -rl "$TOKEN" ws/src/.git ws 2>/dev/null)" "" \
	"nor written anywhere in the workspace"

rm -rf ws
: >users.log
run env GIT_TOKEN=wrong-token-0123456789 JOBRUN_WORKSPACE="$TEST_DIR/ws" \
	"$JOBRUN" run env.yaml
is "$status" 125 "a wrong token fails with 125"
contains err "authentication failed: the server refused the credentials" \
	"and says the credentials were refused"
lacks err "wrong-token-0123456789" "without printing the token"
is "$(wc -l <users.log | tr -d ' ')" 1 \
	"credentials are offered once, with no retry"
is "$(cat users.log)" "x-access-token" \
	"as the password of the user x-access-token"

rm -rf ws
run env JOBRUN_WORKSPACE="$TEST_DIR/ws" "$JOBRUN" run env.yaml
is "$status" 125 "a token variable that is not set fails"
contains err "token_env names 'GIT_TOKEN', which is not set" "and says which"

cat >none.yaml <<YAML
source: {type: git, url: "$URL", ref: dev}
steps: [{name: a, run: "true"}]
YAML
rm -rf ws
run env JOBRUN_WORKSPACE="$TEST_DIR/ws" "$JOBRUN" run none.yaml
is "$status" 125 "a server asking for credentials when none are given fails"
contains err "the server asks for credentials and none were given" \
	"and says what to set"

# ---- a token from a file ----

rm -rf ws && mkdir ws
printf '%s\n' "$TOKEN" >ws/token
printf '%s\n' "$TOKEN" >outside-token
cat >file.yaml <<YAML
source: {type: git, url: "$URL", ref: dev, token_file: "$TEST_DIR/ws/token"}
steps: [{name: a, run: "git log -1 --format=%H"}]
YAML
run env JOBRUN_WORKSPACE="$TEST_DIR/ws" "$JOBRUN" run file.yaml
is "$status $(cat out)" "0 $dev" "a token from token_file opens the repository"
ok "[ ! -e ws/token ]" "a token file inside the workspace is removed"
sed "s|$TEST_DIR/ws/token|$TEST_DIR/outside-token|" file.yaml >outside.yaml
rm -rf ws
run env JOBRUN_WORKSPACE="$TEST_DIR/ws" "$JOBRUN" run outside.yaml
is "$status $(cat outside-token)" "0 $TOKEN" \
	"a token file outside the workspace is used and left alone"

# ---- credentials in the URL ----

rm -rf ws
run env JOBRUN_WORKSPACE="$TEST_DIR/ws" "$JOBRUN" run --source-type git \
	--source-url "http://bob:$TOKEN@127.0.0.1:$HTTP_PORT/app.git" none.yaml
is "$status" 0 "a password in the URL works"
lacks err "$TOKEN" "and is not printed"
contains err "http://***@127.0.0.1:$HTTP_PORT/app.git" "the URL is shown without it"
is "$(git -C ws/src config remote.origin.url)" \
	"http://bob@127.0.0.1:$HTTP_PORT/app.git" "nor kept in .git/config"

# Given in the environment, the URL reaches steps without the password,
# under each name it may come by.
cat >env.yaml <<'YAML'
steps:
  - name: show
    run: 'echo "[$JOBRUN_SOURCE_URL][$REACTORCIDE_CI_SOURCE_URL]"'
YAML
mkdir -p ci
rm -rf ws
run env JOBRUN_WORKSPACE="$TEST_DIR/ws" \
	JOBRUN_SOURCE_URL="http://bob:$TOKEN@127.0.0.1:$HTTP_PORT/app.git" \
	JOBRUN_SOURCE_TYPE=git REACTORCIDE_CI_SOURCE_TYPE=copy \
	REACTORCIDE_CI_SOURCE_URL="http://ci:$TOKEN@127.0.0.1:1/nothing" \
	JOBRUN_CI_SOURCE_TYPE=none "$JOBRUN" run env.yaml
is "$status $(cat out)" \
	"0 [http://bob@127.0.0.1:$HTTP_PORT/app.git][http://ci@127.0.0.1:1/nothing]" \
	"steps get the source URLs from the environment without the password"
lacks err "$TOKEN" "which is printed nowhere"

# A token as the URL's user name alone ("https://TOKEN@host") is removed
# too, even from a source that is not prepared.
long=ghp_$(printf '%s' "$TOKEN" | od -An -tx1 | tr -d ' \n' | head -c 36)
rm -rf ws
mkdir -p ws/src
run env JOBRUN_WORKSPACE="$TEST_DIR/ws" \
	JOBRUN_SOURCE_URL="https://$long@git.example.org/app.git" \
	"$JOBRUN" run env.yaml
is "$status $(cat out)" "0 [https://git.example.org/app.git][]" \
	"a token as the user name is removed from what steps get"
lacks err "$long" "and printed nowhere"

# ---- nobody there ----

port=$(free_port)
cat >marker.yaml <<'YAML'
steps: [{name: never, run: touch "$JOBRUN_WORKSPACE/ran"}]
YAML
rm -rf ws
start=$(date +%s)
run env JOBRUN_WORKSPACE="$TEST_DIR/ws" "$JOBRUN" run --source-type git \
	--source-url "git://127.0.0.1:$port/app.git" marker.yaml
elapsed=$(($(date +%s) - start))
is "$status $(test -e ws/ran && echo ran)" "125 " \
	"an unreachable server fails with 125 before any step"
contains err "Connection refused (after 3 attempts)" "after three attempts"
is "$(grep -c 'retrying in' err)" 2 "each retry is announced"
ok "[ $elapsed -le 10 ]" "within a bounded time (${elapsed}s)"

# A URL libgit2 cannot read is not a network error that may pass.
printf 'steps: [{name: s, run: "true"}]\n' >plain.yaml
rm -rf ws
run env JOBRUN_WORKSPACE="$TEST_DIR/ws" "$JOBRUN" run --source-type git \
	--source-url 'http://host:port:x/app.git' plain.yaml
is "$status" 125 "a malformed URL fails the job (125)"
lacks err "retrying" "at once, without retries"

# ---- a server that never answers ----

start_blackhole
cat >hole.yaml <<YAML
source: {type: git, url: "git://127.0.0.1:$BLACKHOLE_PORT/app.git", timeout: 2s}
steps: [{name: never, run: touch "\$JOBRUN_WORKSPACE/ran"}]
YAML
rm -rf ws
start=$(date +%s)
run env JOBRUN_WORKSPACE="$TEST_DIR/ws" "$JOBRUN" run hole.yaml
elapsed=$(($(date +%s) - start))
is "$status $(test -e ws/ran && echo ran)" "125 " \
	"a server that never answers fails with 125"
contains err "timed out after 2s" "when the source's timeout passes (${elapsed}s)"

# The job's timeout counts preparation too: it ends the fetch, as 124.
{ echo "timeout: 2s"; sed 's/timeout: 2s/timeout: 60s/' hole.yaml; } >jobtimeout.yaml
rm -rf ws
start=$(date +%s)
run env JOBRUN_WORKSPACE="$TEST_DIR/ws" "$JOBRUN" run jobtimeout.yaml
elapsed=$(($(date +%s) - start))
is "$status $(test -e ws/ran && echo ran)" "124 " \
	"the job's timeout passing during a fetch ends the job with 124"
contains err "the job timed out" "and says so"
ok "[ $elapsed -le 20 ]" "without waiting for the source's own timeout (${elapsed}s)"
is "$(field ws/result.json 'd["steps"][0]["outcome"] + ": " + d["steps"][0]["reason"]')" \
	"cancelled: the job timed out" "its step is cancelled by the job's timeout"

# ---- cancelled while fetching ----

sed 's/timeout: 2s/timeout: 60s/' hole.yaml >slow.yaml
rm -rf ws
env JOBRUN_WORKSPACE="$TEST_DIR/ws" "$JOBRUN" run slow.yaml >out 2>err &
pid=$!
sleep 0.5
kill -TERM $pid
wait $pid
status=$?
is "$status" 143 "SIGTERM during a fetch ends the job with 128+15"
contains err "cancelled by signal 15" "and says so"
is "$(field ws/result.json 'd["steps"][0]["outcome"]')" cancelled \
	"its step is cancelled, not skipped"

done_testing
