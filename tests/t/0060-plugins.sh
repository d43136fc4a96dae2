#!/bin/sh
# Plugins: loading and its refusals, the order of hooks, the failure
# policy of each phase, the watchdog, and what host services do, with the
# fixture plugins of tests/plugins/ and the real binary.
. "${JOBRUN_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"

# The fixtures, copied where only we can write.
P=$TEST_DIR/plugins
mkdir -m 755 "$P"
for f in rec-a rec-b rec-c bad-major newer-minor no-symbol; do
	cp "$JOBRUN_BUILDDIR/tests/plugins/$f.so" "$P/$f.so"
	chmod 644 "$P/$f.so"
done
chmod 755 "$TEST_DIR"

WS=$TEST_DIR/ws
mkdir -p "$WS/src"
JOBRUN_WORKSPACE=$WS
JOBRUN_CODE_DIR=$WS/src
REC_LOG=$TEST_DIR/rec.log
export JOBRUN_WORKSPACE JOBRUN_CODE_DIR REC_LOG

# calls PLUGIN: the recorded calls of one plugin, one per line.
calls() { sed -n "s/^$1 //p" "$REC_LOG"; }
# order PHASE: which plugins were called at PHASE, in order, on one line.
order() { awk -v p="$1" '$2 == p { printf "%s%s", sep, $1; sep = " " }' "$REC_LOG"; }

cat >one.yaml <<YAML
name: plugged
plugins:
  - {path: $P/rec-b.so, priority: 10, config: {greeting: hello there}}
  - {path: plugins/rec-c.so, priority: 10}
steps:
  - {name: s1, run: 'echo seen=\$REC_SEEN_rec_a; touch $TEST_DIR/ran'}
YAML

# ---- order ----
rm -f "$REC_LOG"
JOBRUN_PLUGINS=$P/rec-a.so run "$JOBRUN" run one.yaml
is "$status" 0 "a job with three plugins succeeds"
is "$(order init)" "rec-b rec-c rec-a" "init: lower priority first, ties in configuration order"
for phase in PRE_VALIDATION POST_VALIDATION PRE_SOURCE_PREP POST_SOURCE_PREP PRE_EXECUTION BEFORE_STEP; do
	is "$(order $phase)" "rec-b rec-c rec-a" "$phase runs in priority order"
done
for phase in AFTER_STEP POST_EXECUTION CLEANUP fini; do
	is "$(order $phase)" "rec-a rec-c rec-b" "$phase runs in reverse order"
done
is "$(calls rec-a | cut -d' ' -f1 | tr '\n' ' ')" "init PRE_VALIDATION POST_VALIDATION PRE_SOURCE_PREP POST_SOURCE_PREP PRE_EXECUTION BEFORE_STEP AFTER_STEP POST_EXECUTION CLEANUP fini " \
	"one plugin sees the phases in lifecycle order, without ON_ERROR after a success"
contains out "seen=yes" "a variable a plugin set reaches the step"
contains err "plugin rec-b: greeting: hello there" "a plugin reads its config from the job file and logs through jobrun"
ok "grep -q '^rec-a AFTER_STEP s1 1 0$' '$REC_LOG'" "the after-step hook gets the step's outcome and exit code"
ok "grep -q '^rec-a POST_EXECUTION success$' '$REC_LOG'" "POST_EXECUTION knows the outcome"

# ---- ON_ERROR and CLEANUP ----
cat >fail.yaml <<YAML
plugins: [{path: $P/rec-a.so}]
steps: [{name: s1, run: 'exit 3'}]
YAML
rm -f "$REC_LOG"
run "$JOBRUN" run fail.yaml
is "$status" 1 "a failing step fails the job"
is "$(calls rec-a | cut -d' ' -f1-2 | sed -n '/POST_EXECUTION/,$p' | tr '\n' ' ')" "POST_EXECUTION failed ON_ERROR failed CLEANUP failed fini " \
	"after a failure: POST_EXECUTION, ON_ERROR, CLEANUP"
ok "grep -q '^rec-a AFTER_STEP s1 2 3$' '$REC_LOG'" "the after-step hook sees failed and exit code 3"

cat >slow.yaml <<YAML
plugins: [{path: $P/rec-a.so}]
steps: [{name: s1, run: 'echo started >$TEST_DIR/slow-started; sleep 30'}]
YAML
rm -f "$REC_LOG"
run "$JOBRUN" run --timeout 1s slow.yaml
is "$status" 124 "a job timeout ends the job"
ok "grep -q '^rec-a ON_ERROR timed_out$' '$REC_LOG' && grep -q '^rec-a CLEANUP timed_out$' '$REC_LOG'" \
	"ON_ERROR and CLEANUP run after a timeout"

rm -f "$REC_LOG" slow-started
"$JOBRUN" run slow.yaml >term.out 2>term.err &
pid=$!
wait_for "$TEST_DIR/slow-started" started
kill -TERM $pid
wait $pid
is "$?" 143 "SIGTERM cancels the job"
ok "grep -q '^rec-a ON_ERROR cancelled$' '$REC_LOG' && grep -q '^rec-a CLEANUP cancelled$' '$REC_LOG' && grep -q '^rec-a fini$' '$REC_LOG'" \
	"ON_ERROR, CLEANUP and fini run after SIGTERM"

# ---- a failing hook in each phase before execution ----
for phase in init PRE_VALIDATION POST_VALIDATION PRE_SOURCE_PREP POST_SOURCE_PREP PRE_EXECUTION; do
	rm -f "$REC_LOG" "$TEST_DIR/ran"
	REC_FAIL_rec_a=$phase JOBRUN_PLUGINS=$P/rec-a.so run "$JOBRUN" run one.yaml
	is "$status" 125 "a failing $phase hook fails the job with 125"
	ok "[ ! -e '$TEST_DIR/ran' ]" "no step ran after the failing $phase"
	if [ $phase = init ]; then
		contains err "plugin rec-a ($P/rec-a.so): init failed" "the message names the plugin"
	else
		contains err "plugin rec-a: the $phase hook failed" "the message names the plugin and $phase"
	fi
	if [ $phase = init ]; then
		is "$(order ON_ERROR)" "rec-c rec-b" "ON_ERROR runs in the other plugins after a failing init"
		is "$(order CLEANUP)" "rec-c rec-b" "and CLEANUP"
		ok "grep -q '^rec-a fini$' '$REC_LOG'" "the refused plugin still gets fini"
	else
		is "$(order ON_ERROR)" "rec-a rec-c rec-b" "ON_ERROR still runs in every plugin after a failing $phase"
		is "$(order CLEANUP)" "rec-a rec-c rec-b" "and CLEANUP"
	fi
	ok "! grep -q ' POST_EXECUTION' '$REC_LOG'" "POST_EXECUTION does not, as nothing executed"
done
# A failing hook stops its phase: the plugins after it are not called.
rm -f "$REC_LOG"
REC_FAIL_rec_b=PRE_VALIDATION JOBRUN_PLUGINS=$P/rec-a.so run "$JOBRUN" run one.yaml
is "$(order PRE_VALIDATION)" "rec-b" "a failing hook before execution stops the others of its phase"

# ---- failing hooks after execution ----
for phase in POST_EXECUTION CLEANUP; do
	rm -f "$REC_LOG"
	REC_FAIL_rec_c=$phase JOBRUN_PLUGINS=$P/rec-a.so run "$JOBRUN" run one.yaml
	is "$status" 0 "a failing $phase hook does not change the exit status"
	contains err "plugin rec-c: the $phase hook failed" "it is reported"
	is "$(order $phase)" "rec-a rec-c rec-b" "and the other plugins still run"
done
rm -f "$REC_LOG"
REC_FAIL_rec_a=ON_ERROR run "$JOBRUN" run fail.yaml
is "$status" 1 "a failing ON_ERROR hook leaves the status of the failed job"
ok "grep -q '^rec-a CLEANUP failed$' '$REC_LOG'" "and CLEANUP still runs"

# ---- step hooks ----
rm -f "$REC_LOG" "$TEST_DIR/ran"
REC_FAIL_rec_b=BEFORE_STEP:s1 run "$JOBRUN" run one.yaml
is "$status" 1 "a failing before-step hook fails the job"
ok "[ ! -e '$TEST_DIR/ran' ]" "and the step does not start"
contains err "step 's1': not started: a plugin's BEFORE_STEP hook failed" "it says so"
rm -f "$REC_LOG"
REC_FAIL_rec_b=AFTER_STEP:s1 run "$JOBRUN" run one.yaml
is "$status" 0 "a failing after-step hook is only reported"
contains err "plugin rec-b: the AFTER_STEP hook failed for step 's1'" "naming the step"

# ---- refusals ----
run "$JOBRUN" run --plugin "$P/bad-major.so" one.yaml
is "$status" 125 "a plugin built for another major version is refused"
contains err "bad-major.so' was built for plugin ABI 2.0, but this jobrun has ABI 1.1" "naming both versions"
run "$JOBRUN" run --plugin "$P/no-symbol.so" one.yaml
is "$status" 125 "an object without the symbol is refused"
contains err "is not a jobrun plugin: it does not export the symbol 'jobrun_plugin'" "and says so"
rm -f "$REC_LOG"
run "$JOBRUN" run --plugin "$P/newer-minor.so" one.yaml
is "$status" 0 "a plugin built for a newer minor version is accepted"
ok "grep -q '^newer-minor 4$' '$REC_LOG'" "and its hooks run, the members it adds ignored"

cp "$P/rec-a.so" "$WS/src/evil.so"
run "$JOBRUN" run --plugin "$WS/src/evil.so" one.yaml
is "$status" 125 "a plugin under the code dir is refused"
contains err "is under the code dir" "because code under test is never loaded"
# A link planted under the code dir to a trusted plugin is judged where it
# lies: the code under test chose it.
ln -s "$P/rec-a.so" "$WS/src/linked.so"
rm -f "$REC_LOG"
run "$JOBRUN" run --plugin "$WS/src/linked.so" one.yaml
is "$status" 125 "a link under the code dir to a trusted plugin is refused"
ok "[ ! -s '$REC_LOG' ]" "and the plugin it points to is not loaded"
ln -s "$P" "$WS/src/plugdir"
run "$JOBRUN" run --plugin "$WS/src/plugdir/rec-a.so" one.yaml
is "$status" 125 "so is one reached through a linked directory under it"
contains err "plugdir/rec-a.so' is under the code dir" "naming the path as given"
cp "$P/rec-a.so" "$TEST_DIR/open.so"
chmod 666 "$TEST_DIR/open.so"
run "$JOBRUN" run --plugin "$TEST_DIR/open.so" one.yaml
is "$status" 125 "a world-writable plugin is refused"
contains err "open.so' is writable by others" "and the reason is given"
mkdir -m 775 "$TEST_DIR/shared"
chmod 775 "$TEST_DIR/shared"
cp "$P/rec-a.so" "$TEST_DIR/shared/a.so"
run "$JOBRUN" run --plugin "$TEST_DIR/shared/a.so" one.yaml
is "$status" 125 "a plugin in a group-writable directory is refused"
contains err "shared' is writable by its group" "naming the directory"
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	cp "$P/rec-a.so" "$TEST_DIR/theirs.so"
	chown nobody "$TEST_DIR/theirs.so"
	run "$JOBRUN" run --plugin "$TEST_DIR/theirs.so" one.yaml
	is "$status" 125 "a plugin owned by another user is refused"
	contains err "neither root nor jobrun's user" "and the owner is named"
else
	ok true "# SKIP needs root to give a file away"
	ok true "# SKIP needs root to give a file away"
fi
run "$JOBRUN" run --plugin "$P/rec-a.so:soon" one.yaml
is "$status" 125 "a bad priority is refused"
contains err "expected PLUGIN or PLUGIN:PRIORITY" "with the expected form"

# ---- where plugins come from ----
rm -f "$REC_LOG"
JOBRUN_PLUGIN_DIR=$P run "$JOBRUN" run --plugin rec-a --plugin rec-c.so:1 one.yaml
is "$status" 0 "bare names are looked up in the plugin dir"
is "$(order init)" "rec-c rec-b rec-a" "--plugin may be repeated, each with its priority"
mkdir -m 755 "$TEST_DIR/auto"
cp "$P/rec-c.so" "$P/rec-a.so" "$TEST_DIR/auto/"
cat >plain.yaml <<YAML
steps: [{name: s1, run: 'true'}]
YAML
rm -f "$REC_LOG"
REACTORCIDE_PLUGIN_DIR=$TEST_DIR/auto run "$JOBRUN" run plain.yaml
is "$(order init)" "rec-a rec-c" "every *.so of runnerlib's plugin dir is loaded, in name order"
rm -f "$REC_LOG"
JOBRUN_PLUGIN_PATH=$TEST_DIR/nowhere:$TEST_DIR/auto run "$JOBRUN" run plain.yaml
is "$(order init)" "rec-a rec-c" "the plugin path skips a missing directory"
mkdir -m 755 "$TEST_DIR/good"
cp "$P/rec-a.so" "$P/rec-b.so" "$P/rec-c.so" "$TEST_DIR/good/"
rm -f "$REC_LOG"
JOBRUN_PLUGIN_PATH=$TEST_DIR/good run "$JOBRUN" run --plugin "$TEST_DIR/good/rec-c.so:1" plain.yaml
is "$(order init)" "rec-c rec-a rec-b" "a file named twice loads once, with its last priority"
JOBRUN_PLUGIN_PATH=$TEST_DIR/auto run "$JOBRUN" run fail.yaml
is "$status" 125 "two files that call themselves by one name are refused"
contains err "is a plugin named 'rec-a', and so is" "naming both"
mkdir -p "$TEST_DIR/ci/.jobrun/plugins"
cp "$P/rec-c.so" "$TEST_DIR/ci/.jobrun/plugins/"
rm -f "$REC_LOG"
run "$JOBRUN" run --ci-source-type copy --ci-source-url "$TEST_DIR/ci" \
	--ci-source-dir "$WS/ci" fail.yaml
is "$(calls rec-c | cut -d' ' -f1 | head -2 | tr '\n' ' ')" "init POST_SOURCE_PREP " \
	"a plugin from the CI code's .jobrun/plugins joins at POST_SOURCE_PREP"

# ---- host services ----
rm -f "$REC_LOG"
cat >secret.yaml <<YAML
plugins: [{path: $P/rec-a.so}]
steps:
  - {name: s1, run: 'echo "value: \$REC_SECRET"; echo "from run: \$FROM_RUN"'}
YAML
REC_SECRET=plugin-s3cr3t-value REC_RUN='echo "run sees $REC_SECRET"; echo FROM_RUN=1 >>"$JOBRUN_ENV"; exit 3' \
	run "$JOBRUN" run secret.yaml
is "$status" 0 "a job whose plugin registers a secret runs"
contains out "value: ***" "the plugin's secret is masked in the next step's output"
lacks out "plugin-s3cr3t-value" "and never shown"
ok "! grep -rq plugin-s3cr3t-value '$WS/logs' '$WS/result.json'" "nor in the logs or result.json"
contains err "plugin rec-a: rec-run: run sees ***" "a command a plugin runs is shown line by line, masked"
ok "grep -q '^rec-a run-status 3$' '$REC_LOG'" "its exit status reaches the plugin"
contains out "from run: 1" "lines it writes to \$JOBRUN_ENV reach later steps"

REC_TRIGGER=deploy-next run "$JOBRUN" run fail.yaml
ok "$PYTHON3 -c 'import json,sys; t=json.load(open(\"$WS/triggers.json\")); j=t[\"jobs\"]; sys.exit(not (len(j)==1 and j[0][\"job_name\"]==\"deploy-next\" and j[0][\"env\"]=={\"FROM\":\"plugin\"}))'" \
	"a plugin's trigger lands in triggers.json"

# ---- the watchdog ----
started=$(date +%s)
REC_HANG_rec_a=PRE_EXECUTION run "$JOBRUN" run --plugin-timeout 1s fail.yaml
is "$status" 125 "a hook that does not return ends the job with 125"
contains err "plugin rec-a: the PRE_EXECUTION hook did not return within 1s" "naming the plugin and phase"
ok "$PYTHON3 -c 'import json,sys; e=json.load(open(\"$WS/result.json\"))[\"error\"]; print(\"# error:\", e); sys.exit(\"plugin rec-a: the PRE_EXECUTION hook did not return within 1s\" not in e)'" \
	"result.json's error says so too"
ok "[ $(($(date +%s) - started)) -lt 20 ]" "without waiting for the hook"

cat >hang.yaml <<YAML
plugins: [{path: $P/rec-a.so}]
steps:
  - {name: s1, run: 'sleep 0.5'}
  - {name: s2, run: 'echo started >$TEST_DIR/s2-started; sleep 300 # plugin-hang-@TAG@'}
YAML
detag hang.yaml
REC_HANG_rec_a=AFTER_STEP:s1 run "$JOBRUN" run -j2 --plugin-timeout 2s hang.yaml
is "$status" 125 "a step hook that does not return ends the job"
wait_for "$TEST_DIR/s2-started" started
sleep 0.2
ok "! pgrep -f 'plugin-hang-$TAG' >/dev/null" "and the steps still running are killed with it"

# ---- validate and dry runs load nothing ----
rm -f "$REC_LOG"
run "$JOBRUN" run --dry-run one.yaml
is "$status" 0 "a dry run succeeds"
ok "[ ! -e '$REC_LOG' ]" "and calls no plugin"

plan "$_tap_count"
done_testing
