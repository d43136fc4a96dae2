# tests/lib.sh: sourced by every tests/t/*.sh script.  Gives each test its
# own temporary directory and small TAP helpers.  The harness (make check)
# sets JOBRUN, JOBRUN_SRCDIR and JOBRUN_BUILDDIR; run by hand, a test finds
# them relative to itself and the current directory.

set -u

: "${JOBRUN_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${JOBRUN_BUILDDIR:=$(pwd)}"
: "${JOBRUN:=$JOBRUN_BUILDDIR/jobrun}"
: "${PYTHON3:=/usr/bin/python3}"
export JOBRUN JOBRUN_SRCDIR JOBRUN_BUILDDIR PYTHON3

# No setting from the caller's environment may leak into a test.
for _name in $(env | sed -n 's/^\(\(JOBRUN\|REACTORCIDE\)_[A-Za-z0-9_]*\)=.*/\1/p'); do
	case $_name in
	JOBRUN_SRCDIR | JOBRUN_BUILDDIR) ;;
	*) unset "$_name" ;;
	esac
done

TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/jobrun-test.XXXXXX")
trap 'rm -rf "$TEST_DIR"' EXIT
cd "$TEST_DIR" || exit 1

# TAG is unique to this test run; detag FILE replaces @TAG@ in FILE with
# it, so a test looking for its own processes (pgrep -f) never finds those
# of a test running beside it.
TAG=$$
detag() { sed -i "s/@TAG@/$TAG/g" "$1"; }

# wait_for FILE TEXT: waits up to 4 s for FILE to hold TEXT (a background
# job saying it is ready); sets n to the number of 20 ms polls it took.
wait_for()
{
	n=0
	while ! grep -q -- "$2" "$1" 2>/dev/null && [ $n -lt 200 ]; do
		sleep 0.02
		n=$((n + 1))
	done
}

_tap_count=0
_tap_failed=0

# plan N: prints the TAP plan.
plan() { echo "1..$1"; }

# ok COND DESCRIPTION: passes when the shell command COND succeeds.
ok()
{
	_tap_count=$((_tap_count + 1))
	if eval "$1"; then
		echo "ok $_tap_count - $2"
	else
		echo "not ok $_tap_count - $2"
		_tap_failed=$((_tap_failed + 1))
	fi
}

# run CMD...: runs CMD with output in $TEST_DIR/out and $TEST_DIR/err and its
# exit status in $status.
run()
{
	"$@" >"$TEST_DIR/out" 2>"$TEST_DIR/err"
	status=$?
}

# is ACTUAL EXPECTED DESCRIPTION: passes when the two strings are equal,
# printing both as TAP diagnostics when they differ.
is()
{
	_tap_count=$((_tap_count + 1))
	if [ "$1" = "$2" ]; then
		echo "ok $_tap_count - $3"
	else
		echo "not ok $_tap_count - $3"
		printf '%s\n' "$1" | sed 's/^/#   got:      /'
		printf '%s\n' "$2" | sed 's/^/#   expected: /'
		_tap_failed=$((_tap_failed + 1))
	fi
}

# contains FILE TEXT DESCRIPTION: passes when FILE holds the fixed string TEXT.
contains()
{
	_tap_count=$((_tap_count + 1))
	if grep -qF -- "$2" "$1"; then
		echo "ok $_tap_count - $3"
	else
		echo "not ok $_tap_count - $3"
		sed 's/^/#   in file: /' "$1" | head -20
		_tap_failed=$((_tap_failed + 1))
	fi
}

# lacks FILE TEXT DESCRIPTION: passes when FILE does not hold TEXT.
lacks()
{
	_tap_count=$((_tap_count + 1))
	if grep -qF -- "$2" "$1"; then
		echo "not ok $_tap_count - $3"
		sed 's/^/#   in file: /' "$1" | head -20
		_tap_failed=$((_tap_failed + 1))
	else
		echo "ok $_tap_count - $3"
	fi
}

# field FILE EXPR: the Python expression EXPR over the JSON document of
# FILE (as d), or "missing" when the file or the value is not there.
field()
{
	"$PYTHON3" -c 'import json,sys
try:
    d = json.load(open(sys.argv[1]))
    print(eval(sys.argv[2], {"d": d}))
except Exception as e:
    print("missing")' "$1" "$2"
}

# done_testing: exits 1 when any test failed.
done_testing() { [ "$_tap_failed" -eq 0 ]; }
