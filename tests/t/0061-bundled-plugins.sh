#!/bin/sh
# The bundled plugins (plugins/*.c) with the real jobrun: exec-hooks runs
# the image's and the CI source's hooks with their variables and failure
# policy, junit writes the report, timing logs its table, and the stock
# hooks (hooks/) say what they should.
. "${JOBRUN_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"

plan 57

# The plugins, copied where only we can write, found by their bare names.
P=$TEST_DIR/plugins
mkdir -m 755 "$P"
for f in exec-hooks junit timing; do
	cp "$JOBRUN_BUILDDIR/plugins/$f.so" "$P/$f.so"
	chmod 644 "$P/$f.so"
done
chmod 755 "$TEST_DIR"

WS=$TEST_DIR/ws
mkdir -p "$WS/src" "$WS/ci"
JOBRUN_PLUGIN_DIR=$P
JOBRUN_WORKSPACE=$WS
JOBRUN_CODE_DIR=$WS/src
JOBRUN_CI_SOURCE_DIR=$WS/ci
export JOBRUN_PLUGIN_DIR JOBRUN_WORKSPACE JOBRUN_CODE_DIR JOBRUN_CI_SOURCE_DIR

# hook DIR/PHASE.d/NAME BODY: an executable hook.
hook()
{
	mkdir -p "$(dirname "$1")"
	printf '#!/bin/sh\n%s\n' "$2" >"$1"
	chmod 755 "$1"
}

H=$TEST_DIR/hooks
hook "$H/pre-execution.d/10-a" 'echo "pre $JOBRUN_HOOK_PHASE"'
hook "$H/pre-execution.d/.hidden" 'echo hidden ran'
hook "$H/pre-execution.d/30-b~" 'echo backup ran'
hook "$WS/ci/.jobrun/hooks/pre-execution.d/20-ci" \
	'echo "ci hook"; echo FROM_HOOK=yes >>"$JOBRUN_ENV"'
hook "$H/after-step.d/10-s" \
	'echo "after $JOBRUN_STEP_NAME $JOBRUN_STEP_OUTCOME $JOBRUN_STEP_EXIT_CODE"'
hook "$H/cleanup.d/10-c" \
	'echo "cleanup $JOBRUN_JOB_OUTCOME $JOBRUN_JOB_STATUS $JOBRUN_FAILED_STEP"; exit 1'
hook "$H/cleanup.d/20-d" 'echo "cleanup goes on"'

cat >job.yaml <<YAML
name: bundled
plugins:
  - {path: exec-hooks, config: {dir: $H}}
  - {path: junit}
  - {path: timing}
steps:
  - {name: build, run: 'echo "hi <from> \$FROM_HOOK"'}
  - {name: test.unit, run: 'exit 3'}
YAML

# ---- a job with the three plugins ----
run "$JOBRUN" run job.yaml
cat out err >all
is "$status" 1 "a job with a failing step and the three plugins fails"
contains all "hook 10-a: pre pre-execution" "exec-hooks: an image hook runs, labelled, with JOBRUN_HOOK_PHASE"
contains all "hook 20-ci: ci hook" "exec-hooks: the CI source's hook runs"
ok "[ \$(grep -n 'hook 10-a:' all | cut -d: -f1) -lt \$(grep -n 'hook 20-ci:' all | cut -d: -f1) ]" \
	"exec-hooks: the image's hooks before the CI source's"
lacks all "hidden ran" "exec-hooks: a hidden file is not run"
lacks all "backup ran" "exec-hooks: a backup file is not run"
contains all "hi <from> yes" "exec-hooks: a variable a hook wrote to \$JOBRUN_ENV reaches the step"
contains all "hook 10-s: after build success 0" "exec-hooks: after-step gets the step's name, outcome, exit code"
contains all "hook 10-s: after test.unit failed 3" "exec-hooks: ... for a failed step too"
contains all "hook 10-c: cleanup failed 1 test.unit" "exec-hooks: cleanup gets the job's outcome, status and failed step"
contains all "hook 20-d: cleanup goes on" "exec-hooks: a failing cleanup hook does not stop the others"
contains err "hook $H/cleanup.d/10-c: exit 1 (" "exec-hooks: the failing hook is logged with its exit status"
lacks err "exit 0 (" "exec-hooks: succeeding hooks are not logged"

X=$WS/artifacts/junit.xml
ok "[ -f '$X' ]" "junit: artifacts/junit.xml is written"
run "$PYTHON3" -c 'import sys, xml.etree.ElementTree as E
s = E.parse(sys.argv[1]).getroot().find("testsuite")
print(s.get("name"), s.get("tests"), s.get("failures"), s.get("skipped"))
for c in s.iter("testcase"):
    f = c.find("failure"); o = c.find("system-out")
    print(c.get("name"), f.get("message") if f is not None else "-",
          o.text.strip() if o is not None else "-")' "$X"
is "$(cat out)" "bundled 2 1 0
build - hi <from> yes
test.unit exit code 3 -" "junit: the report parses, with the steps, outcomes and output"

# (all, not err: the run above replaced err.)
contains all "plugin timing: step " "timing: the step table is logged"
ok "grep -q 'plugin timing: steps  *[0-9.]* s$' all" "timing: the steps' row"
ok "grep -q 'plugin timing: test.unit  *failed  *1  *[0-9.]* s$' all" "timing: a step with outcome, attempts, duration"
ok "grep -q 'plugin timing: total  *[0-9.]* s$' all" "timing: the total"

# ---- a failing hook before execution ----
H2=$TEST_DIR/hooks2
hook "$H2/pre-execution.d/10-fail" 'echo failing; exit 4'
hook "$H2/pre-execution.d/20-never" 'echo never ran'
sed "s|dir: $H|dir: $H2|" job.yaml >fail.yaml
rm -rf "$WS/artifacts"
run "$JOBRUN" run fail.yaml
cat out err >all
is "$status" 125 "a failing pre-execution hook fails the job before its steps"
contains err "hook $H2/pre-execution.d/10-fail: exit 4 (" "exec-hooks: ... logged"
lacks all "never ran" "exec-hooks: ... and the phase's later hooks do not run"
lacks all "hook 20-ci" "exec-hooks: ... nor the CI source's"
lacks all "hi <from>" "no step runs"
ok "grep -q 'tests=\"2\" failures=\"0\" errors=\"0\" skipped=\"2\"' '$X'" \
	"junit: the report is written at cleanup, the steps skipped"

# ---- an untrusted hook ----
H3=$TEST_DIR/hooks3
hook "$H3/pre-validation.d/10-writable" 'echo writable ran'
chmod 777 "$H3/pre-validation.d/10-writable"
sed "s|dir: $H|dir: $H3|" job.yaml >untrusted.yaml
run "$JOBRUN" run untrusted.yaml
is "$status" 125 "a world-writable hook fails the job"
contains err "refusing hook '$H3/pre-validation.d/10-writable'" "exec-hooks: ... refused with a warning"
lacks out "writable ran" "exec-hooks: ... and not run"

# ---- a symbolic link as a hook is judged where it lies ----
# A trusted script outside every hook directory, and links to it: one in
# the image's directory, one in a CI directory that is the code dir (as in
# local mode, where a step can plant it).
mkdir -m 755 "$TEST_DIR/elsewhere"
hook "$TEST_DIR/elsewhere/mark" "echo linked ran; touch '$TEST_DIR/linked-ran'"
H5=$TEST_DIR/hooks5
mkdir -p "$H5/pre-execution.d" "$WS/src/.jobrun/hooks/pre-execution.d"
ln -s "$TEST_DIR/elsewhere/mark" "$H5/pre-execution.d/10-link"
sed "s|dir: $H|dir: $H5|" job.yaml >link.yaml
run "$JOBRUN" run link.yaml
is "$status" 125 "exec-hooks: a hook that is a symbolic link fails the job"
contains err "refusing hook '$H5/pre-execution.d/10-link': a symbolic link" \
	"exec-hooks: ... refused with a warning"
ok "[ ! -e '$TEST_DIR/linked-ran' ]" "exec-hooks: ... and its target is not run"
rm "$H5/pre-execution.d/10-link"
ln -s "$TEST_DIR/elsewhere/mark" "$WS/src/.jobrun/hooks/pre-execution.d/10-link"
JOBRUN_CI_SOURCE_DIR=$WS/src run "$JOBRUN" run link.yaml
is "$status" 125 "exec-hooks: a link planted under the code dir to a trusted file fails the job"
ok "[ ! -e '$TEST_DIR/linked-ran' ]" "exec-hooks: ... and its target is not run"
rm -rf "$WS/src/.jobrun"

# ---- a hook leaving a process that holds its output ----
# The hook exits at once; what it left behind neither writes nor closes
# the pipe.  The job goes on without waiting for it (the plugin timeout,
# 30 s here, is far away) and the hook's own exit status counts.
H4=$TEST_DIR/hooks4
hook "$H4/pre-execution.d/10-bg" "sleep 300 & # hook-bg-$TAG
echo hook-left-a-process"
hook "$H4/after-step.d/10-bg" "sleep 300 & # hook-bg-$TAG
exit 3"
sed "s|dir: $H|dir: $H4|" job.yaml >bg.yaml
started=$(date +%s)
run "$JOBRUN" run --plugin-timeout 30s bg.yaml
elapsed=$(($(date +%s) - started))
is "$status" 1 "exec-hooks: a hook leaving a background process: the job's own status"
ok "[ $elapsed -lt 20 ]" "exec-hooks: ... without waiting for the process (${elapsed}s)"
contains err "hook 10-bg: hook-left-a-process" "exec-hooks: ... the hook's output is shown"
contains err "hook $H4/after-step.d/10-bg: exit 3 (" "exec-hooks: ... its real exit status is reported, not a timeout"
ok "! pgrep -f 'hook-bg-$TAG' >/dev/null" "exec-hooks: ... and what it left is ended"

# ---- junit: files a step plants in the workspace ----
# A silent step's log is created by no one but the step: a link there (to
# another file) or a FIFO is left out, and the report still written.
echo planted-file-content >"$TEST_DIR/planted"
mkdir "$TEST_DIR/outside"
cat >plant-link.yaml <<YAML
plugins: [{path: junit}]
steps:
  - {name: link, run: 'ln -s $TEST_DIR/planted "\$JOBRUN_WORKSPACE/logs/link.log"'}
  - {name: talks, run: 'echo said-this'}
YAML
rm -rf "$WS/artifacts" "$WS/logs"
run "$JOBRUN" run plant-link.yaml
is "$status" 0 "junit: a link at a silent step's log: the job succeeds"
ok "[ -f '$X' ]" "junit: ... junit.xml is written"
lacks "$X" "planted-file-content" "junit: ... without the linked file's content"
lacks err "planted-file-content" "junit: ... which no message shows either"
contains err "warning: plugin junit: step log '$WS/logs/link.log'" "junit: ... a warning names the link"
contains "$X" "said-this" "junit: ... the other steps' output is there"
contains "$X" "<system-out>jobrun: log left out: a symbolic link" "junit: ... and the left-out log says so"

cat >plant-fifo.yaml <<YAML
plugins: [{path: junit}]
steps:
  - {name: fifo, run: 'mkfifo "\$JOBRUN_WORKSPACE/logs/fifo.log"'}
  - {name: talks, run: 'echo said-this'}
YAML
rm -rf "$WS/artifacts" "$WS/logs"
started=$(date +%s)
run "$JOBRUN" run --plugin-timeout 25s plant-fifo.yaml
elapsed=$(($(date +%s) - started))
is "$status" 0 "junit: a FIFO at a silent step's log: the job succeeds"
ok "[ $elapsed -lt 20 ]" "junit: ... without waiting on the FIFO (${elapsed}s)"
ok "[ -f '$X' ] && grep -q said-this '$X'" "junit: ... and junit.xml is written"
contains err "warning: plugin junit: step log '$WS/logs/fifo.log'" "junit: ... a warning names the FIFO"
ok "! ls -A '$WS/artifacts' | grep -q '^\\.junit'" "junit: ... no temporary file is left"

# A link in place of the artifacts directory is not followed.
cat >artifacts.yaml <<YAML
plugins: [{path: junit}]
steps:
  - {name: a, run: 'rm -rf "\$JOBRUN_WORKSPACE/artifacts"; ln -s $TEST_DIR/outside "\$JOBRUN_WORKSPACE/artifacts"'}
YAML
run "$JOBRUN" run artifacts.yaml
ok "[ -z \"\$(ls -A '$TEST_DIR/outside')\" ]" "junit: nothing is written through a linked artifacts directory"
contains err "plugin junit: error: " "junit: ... which is reported"
rm -f "$WS/artifacts"

# ---- JOBRUN_PLUGINS and --plugin, bare names ----
cat >plain.yaml <<'YAML'
steps: [{name: only, run: 'true'}]
YAML
JOBRUN_PLUGINS=exec-hooks,junit run "$JOBRUN" run --plugin timing:5 plain.yaml
is "$status" 0 "JOBRUN_PLUGINS and --plugin load the bundled plugins by name"
contains err "plugin timing: only " "timing: loaded with --plugin"

# ---- the stock hooks ----
S=$JOBRUN_SRCDIR/hooks
run sh "$S/post-source-prep.d/10-show-commit"
is "$(cat out)" "source: no git source
ci source: no git source" "10-show-commit without git sources"
JOBRUN_GIT_COMMIT=0123abcd JOBRUN_GIT_REF=refs/heads/main \
	JOBRUN_GIT_AUTHOR='A U Thor <a@example.org>' JOBRUN_GIT_SUBJECT='Fix it' \
	JOBRUN_CI_GIT_COMMIT=4567 JOBRUN_CI_GIT_REF=4567 \
	run sh "$S/post-source-prep.d/10-show-commit"
is "$(cat out)" "source: 0123abcd (refs/heads/main) by A U Thor <a@example.org>: Fix it
ci source: 4567" "10-show-commit with git sources"
run sh "$S/pre-execution.d/10-show-runner"
ok "[ \$status = 0 ] && grep -q '^runner: .*, [0-9]* CPUs, [0-9.]* GiB memory, [0-9.]* GiB free in ' out && [ \$(wc -l <out) = 1 ]" \
	"10-show-runner: one line with kernel, CPUs, memory and free disk"

done_testing
