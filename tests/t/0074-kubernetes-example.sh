#!/bin/sh
# examples/kubernetes works as shipped: with its source (here a local git
# repository in place of the placeholder URL) on main and no --branch, the
# branch derives from the source's ref, so the publish step runs and the
# deploy-staging trigger is written; on another branch neither happens.
# Only the secret file's path and the run_as uid are this test's.
. "$JOBRUN_SRCDIR/tests/lib.sh"
. "$JOBRUN_SRCDIR/tests/git-lib.sh"
need_git
[ "$(id -u)" = 0 ] || skip_all "needs root (the test step runs as another uid)"
plan 12

EXAMPLE=$JOBRUN_SRCDIR/examples/kubernetes
AS=$((1900000002 + $$ % 10000000 * 4))
chmod 755 "$TEST_DIR"
mkdir -p secrets
printf 'k8s-token-%s-value' $$ >secrets/api-token
chmod 400 secrets/api-token

# The code under test, on main and on dev.
git_quiet init -b main repo
cat >repo/Makefile <<'MAKE'
all:
	echo built >app.o
check:
	echo ok >test-results
MAKE
printf '#!/bin/sh\n[ -s "$2" ] && echo "publish: token read"\n' >repo/publish.sh
printf '#!/bin/sh\necho "report: $(cat test-results)"\n' >repo/report.sh
chmod 755 repo/publish.sh repo/report.sh
(cd repo && git_quiet add . && git_quiet commit -m app && git_quiet branch dev)

sed -e "s|/run/secrets/jobrun/api-token|$TEST_DIR/secrets/api-token|g" \
	-e "s|run_as: \"1000:1000\"|run_as: \"$AS:$AS\"|" \
	"$EXAMPLE/job.yaml" >job.yaml
ok "grep -q '^source: .*ref: main' job.yaml && ! grep -q '^branch:' job.yaml" \
	"the example's job file: its source on main, no branch given"

# outcomes: each step's name and outcome; triggered: the jobs in
# triggers.json.
outcomes()
{
	"$PYTHON3" -c '
import json
r = json.load(open("ws/result.json"))
print(" ".join("%s=%s" % (s["name"], s["outcome"]) for s in r["steps"]))'
}
triggered()
{
	"$PYTHON3" -c '
import json
t = json.load(open("ws/triggers.json"))
print(" ".join(j["job_name"] for j in t["jobs"]))'
}

run "$JOBRUN" run --dry-run --source-url "$TEST_DIR/repo" job.yaml
is "$status" 0 "a dry run of the example succeeds"
contains out "publish" "and plans the publish step"

run env JOBRUN_WORKSPACE="$TEST_DIR/ws" "$JOBRUN" run \
	--source-url "$TEST_DIR/repo" job.yaml
is "$status" 0 "the example's job runs on main"
is "$(outcomes)" "build=success test=success publish=success report=success" \
	"every step ran, publish included"
contains ws/logs/publish.log "publish: token read" "publish read the secret file"
is "$(triggered)" "deploy-staging" "deploy-staging is triggered"
run env JOBRUN_WORKSPACE="$TEST_DIR/ws" "$JOBRUN" config --explain \
	--source-url "$TEST_DIR/repo" job.yaml
contains out "derived from source_ref 'main'" "the branch came from the source's ref"

rm -rf ws
run env JOBRUN_WORKSPACE="$TEST_DIR/ws" "$JOBRUN" run \
	--source-url "$TEST_DIR/repo" --source-ref dev job.yaml
is "$status" 0 "on dev the job succeeds too"
is "$(outcomes)" "build=success test=success publish=skipped report=success" \
	"without publishing"
is "$(triggered)" "" "nor triggering the deployment"
ok "! grep -rqa 'k8s-token-$$-value' out err ws/logs" "the token is in no output"
done_testing
