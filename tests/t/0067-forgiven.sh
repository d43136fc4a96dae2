#!/bin/sh
# A failure continue_on_error forgave did not fail the job: failed_step
# names the first step whose failure did, and junit reports a forgiven
# failure as a test case that passed, with the failure in its output.
. "$JOBRUN_SRCDIR/tests/lib.sh"
plan 9

P=$TEST_DIR/plugins
mkdir -m 755 "$P"
for f in exec-hooks junit; do
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

H=$TEST_DIR/hooks
mkdir -p "$H/cleanup.d"
printf '#!/bin/sh\necho "failed_step=$JOBRUN_FAILED_STEP."\n' >"$H/cleanup.d/10-c"
chmod 755 "$H/cleanup.d/10-c"

# report: the suite's counts, then each case's failure and first line of
# output.
report()
{
	"$PYTHON3" -c 'import sys, xml.etree.ElementTree as E
s = E.parse(sys.argv[1]).getroot().find("testsuite")
print(s.get("tests"), s.get("failures"), s.get("skipped"))
for c in s.iter("testcase"):
    f = c.find("failure"); o = c.find("system-out")
    print(c.get("name"), f.get("message") if f is not None else "-",
          o.text.split("\n")[0] if o is not None else "-")' "$WS/artifacts/junit.xml"
}

cat >job.yaml <<YAML
plugins:
  - {path: exec-hooks, config: {dir: $H}}
  - {path: junit}
steps:
  - {name: lint, run: 'echo lint said no; exit 5', continue_on_error: true}
  - {name: build, run: 'echo built', depends_on: [lint]}
  - {name: test, run: 'exit 3', depends_on: [build]}
YAML
run "$JOBRUN" run -j1 job.yaml
is "$status" 1 "the job fails for test"
contains err "failed_step=test." "failed_step is the step that failed the job, not the forgiven one"
run report
is "$(sed -n 1p out)" "3 1 0" "junit counts one failure, the forgiven step passed"
is "$(sed -n 2p out)" "lint - jobrun: failed, exit code 5, forgiven by continue_on_error" \
	"the forgiven step has no failure; its output says it failed, and was forgiven"
ok "grep -q 'lint said no' '$WS/artifacts/junit.xml'" "followed by its log"
is "$(sed -n 4p out)" "test exit code 3 -" "the step that failed the job is a failure"

# Only forgiven failures: the job succeeds, no failed_step.
cat >forgiven.yaml <<YAML
plugins:
  - {path: exec-hooks, config: {dir: $H}}
  - {path: junit}
steps:
  - {name: flaky, run: 'exit 2', continue_on_error: true}
YAML
run "$JOBRUN" run forgiven.yaml
is "$status" 0 "a job whose only failure was forgiven succeeds"
contains err "failed_step=." "and has no failed_step"
run report
is "$(sed -n 1p out)" "1 0 0" "junit counts no failure"
done_testing
