#!/bin/sh
# Loading and unloading plugins leaks nothing: jobrun runs under valgrind
# with the fixture plugins, through a whole job, a refused plugin and a
# failing init.  Skipped without valgrind and in the sanitizer build
# (AddressSanitizer and valgrind cannot share a process).
. "${JOBRUN_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"

if ! command -v valgrind >/dev/null 2>&1; then
	echo "1..0 # SKIP valgrind is not installed"
	exit 0
fi
if nm "$JOBRUN" 2>/dev/null | grep -q __asan_init; then
	echo "1..0 # SKIP a sanitizer build runs under AddressSanitizer instead"
	exit 0
fi

P=$TEST_DIR/plugins
mkdir -m 755 "$P"
for f in rec-a rec-b bad-major; do
	cp "$JOBRUN_BUILDDIR/tests/plugins/$f.so" "$P/$f.so"
	chmod 644 "$P/$f.so"
done
chmod 755 "$TEST_DIR"
mkdir -p ws/src
JOBRUN_WORKSPACE=$TEST_DIR/ws
JOBRUN_CODE_DIR=$TEST_DIR/ws/src
REC_LOG=$TEST_DIR/rec.log
export JOBRUN_WORKSPACE JOBRUN_CODE_DIR REC_LOG

cat >job.yaml <<YAML
plugins:
  - {path: $P/rec-a.so, config: {greeting: hi}}
  - {path: $P/rec-b.so, priority: 10}
steps:
  - {name: one, run: 'echo "one \$REC_SECRET"'}
  - {name: two, run: 'exit 0', depends_on: [one]}
YAML

# vg NAME ARGS...: runs jobrun under valgrind; its report in NAME.vg.
vg()
{
	_name=$1
	shift
	valgrind --quiet --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite,indirect \
		--show-leak-kinds=definite,indirect --log-file="$_name.vg" \
		"$JOBRUN" "$@" >"$_name.out" 2>"$_name.err"
}

vg whole run job.yaml
is "$?" 0 "a job with two plugins: no leak, no memory error"
ok "grep -q '^rec-a fini$' rec.log && grep -q '^rec-b fini$' rec.log" "both plugins were loaded and unloaded"
ok "[ ! -s whole.vg ]" "valgrind reported nothing"

REC_SECRET=valgrind-secret REC_RUN='echo from a command' REC_TRIGGER=next vg services run job.yaml
is "$?" 0 "with host services (secret, run, trigger): no leak"
ok "[ ! -s services.vg ]" "valgrind reported nothing"

vg refused run --plugin "$P/bad-major.so" job.yaml
is "$?" 125 "a refused plugin: exit 125 and no leak"
ok "[ ! -s refused.vg ]" "valgrind reported nothing"

REC_FAIL_rec_b=init vg failed run job.yaml
is "$?" 125 "a failing init: exit 125 and no leak"
ok "[ ! -s failed.vg ]" "valgrind reported nothing"

for f in whole services refused failed; do
	[ -s $f.vg ] && sed "s/^/# $f: /" $f.vg
done
plan "$_tap_count"
done_testing
