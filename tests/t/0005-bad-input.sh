#!/bin/sh
# Bad input: every malformed job file gets one message per problem on
# standard error, "jobrun: FILE:LINE:COLUMN: what was wrong: what was
# expected" (or "jobrun: FILE: ..." when there is no position), and exit
# status 125, from both "validate" and "run", before anything runs.  The
# corpus has one problem per file; many problems are 0008-validate.sh's.
#
# Each tests/bad/NNN-topic.yaml comes with NNN-topic.expected, its message
# with the file written as FILE.  The files' steps run "touch ran", so a
# marker left behind would show that a step ran.  Inputs too big or too odd
# to keep in the repository (a 50 MB file, deep nesting, alias bombs, binary
# junk) are made here, and each run is bounded in time.
. "$JOBRUN_SRCDIR/tests/lib.sh"

BAD="$JOBRUN_SRCDIR/tests/bad"

# check_status STATUS WHAT: exit status 125, saying what happened otherwise.
check_status()
{
	case $1 in
	125) ok true "$2: exit status 125" ;;
	124) ok false "$2: exit status 125 (got 124: timed out)" ;;
	*) ok false "$2: exit status 125 (got $1$([ "$1" -ge 128 ] &&
		echo ': killed by a signal'))" ;;
	esac
}

# expect_bad FILE MESSAGE: validate and run FILE from the current
# directory; both must exit 125 with MESSAGE alone on standard error,
# nothing on standard output, and no new file in the directory.  "run" is
# in local mode, so a step that ran would leave its marker right here.
expect_bad()
{
	_file=$1
	_message=$2
	for _command in validate "run --local"; do
		timeout 20 "$JOBRUN" $_command "$_file" \
			>"$TEST_DIR/out" 2>"$TEST_DIR/err"
		status=$?
		check_status $status "$_command $_file"
		is "$(cat "$TEST_DIR/err")" "$_message" \
			"$_command $_file: the one expected message"
		# run writes the truth to the local workspace, .jobrun.
		is "$(cat "$TEST_DIR/out")$(ls -A | grep -vxF "$_file" |
			grep -vxF .jobrun)" "" \
			"$_command $_file: no output, nothing ran or was made"
	done
}

# Every case of the corpus, each in a directory of its own.
for yaml in "$BAD"/*.yaml; do
	name=$(basename "$yaml")
	mkdir "$TEST_DIR/${name%.yaml}" && cd "$TEST_DIR/${name%.yaml}" || exit 1
	cp "$yaml" .
	expected=$(sed "s|^jobrun: FILE|jobrun: $name|" "${yaml%.yaml}.expected")
	expect_bad "$name" "$expected"
	cd "$TEST_DIR" || exit 1
done

# The marker works: the same shape of file, when valid, does leave it.
mkdir "$TEST_DIR/valid" && cd "$TEST_DIR/valid" || exit 1
printf 'name: valid\nsteps:\n  - name: a\n    run: touch ran\n' >valid.yaml
run "$JOBRUN" run --local valid.yaml
is "$status" 0 "a valid file with the same step runs"
ok "[ -f ran ]" "and its step leaves the marker the bad files must not"
cd "$TEST_DIR" || exit 1

# A missing file and a directory.
run "$JOBRUN" validate missing.yaml
is "$status" 125 "a missing file: exit status 125"
is "$(cat err)" \
	"jobrun: cannot open job file 'missing.yaml': No such file or directory" \
	"a missing file is named with the cause"
run "$JOBRUN" run --local missing.yaml
is "$status" 125 "run on a missing file: exit status 125"
is "$(cat err)" \
	"jobrun: cannot open job file 'missing.yaml': No such file or directory" \
	"run on a missing file says the same"
mkdir dir.yaml
run "$JOBRUN" validate dir.yaml
is "$status" 125 "a directory: exit status 125"
is "$(cat err)" "jobrun: cannot open job file 'dir.yaml': Is a directory" \
	"a directory is named with the cause"
run "$JOBRUN" run --local dir.yaml
is "$status" 125 "run on a directory: exit status 125"
is "$(cat err)" "jobrun: cannot open job file 'dir.yaml': Is a directory" \
	"run on a directory says the same"
rmdir dir.yaml

mkdir "$TEST_DIR/generated" && cd "$TEST_DIR/generated" || exit 1

# A 50 MB file is refused by its size, from a file and from a pipe, without
# reading it all.
{
	printf 'name: big\nsteps:\n  - name: a\n    run: touch ran\n'
	yes '# padding padding padding padding padding padding padding' |
		head -c 52428800
} >big.yaml
expect_bad big.yaml \
	"jobrun: big.yaml: the job file is too large: expected at most 4194304 bytes"
cat big.yaml | timeout 20 "$JOBRUN" validate - >"$TEST_DIR/out" \
	2>"$TEST_DIR/err"
check_status $? "50 MB through a pipe"
is "$(cat "$TEST_DIR/err")" \
	"jobrun: -: the job file is too large: expected at most 4194304 bytes" \
	"50 MB through a pipe: the one expected message"
rm -f big.yaml

# 100000 nested '[' end in a clean error, not a stack overflow or a hang.
awk 'BEGIN { for (i = 0; i < 100000; i++) printf "["; print "" }' >deep.yaml
expect_bad deep.yaml \
	"jobrun: deep.yaml:1:65: YAML nested more than 64 levels deep: expected at most 64"
rm -f deep.yaml

# Deeply nested mappings under a step: flow style, and block style.
{
	printf 'name: deep\nsteps:\n  - name: a\n    run: touch ran\n    env: '
	awk 'BEGIN { for (i = 0; i < 100000; i++) printf "{a: "; print "b" }'
} >deep-flow.yaml
expect_bad deep-flow.yaml \
	"jobrun: deep-flow.yaml:5:254: YAML nested more than 64 levels deep: expected at most 64"
rm -f deep-flow.yaml
{
	printf 'name: deep\nsteps:\n  - name: a\n    run: touch ran\n    env:\n'
	awk 'BEGIN { for (i = 0; i < 1000; i++)
		printf "%" (2 * i + 8) "s:\n", "k" i; print "" }'
} >deep-block.yaml
expect_bad deep-block.yaml \
	"jobrun: deep-block.yaml:67:128: YAML nested more than 64 levels deep: expected at most 64"
rm -f deep-block.yaml

# Alias bombs.  The classic "billion laughs" (nine levels, each referring to
# the one before ten times) as a step's env is refused at its first list.
# The shapes a job file does allow stop at the walk's budget: a step whose
# 1000 dependencies are an alias, itself aliased 3000 times in the list of
# steps; and an env of 4096 names aliased by 300 steps (each entry is
# checked against the others, so that one costs the square of its size).
{
	printf 'name: bomb\nsteps:\n  - name: a\n    run: touch ran\n    env:\n'
	printf '      L0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n'
	for i in 1 2 3 4 5 6 7 8 9; do
		p=$((i - 1))
		printf '      L%d: &l%d [*l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d]\n' \
			$i $i $p $p $p $p $p $p $p $p $p $p
	done
} >bomb-env.yaml
# Each of the ten names holds a list: ten independent problems, one a line.
expect_bad bomb-env.yaml "$(for i in 0 1 2 3 4 5 6 7 8 9; do
	echo "jobrun: bomb-env.yaml:$((i + 6)):11: expected a string value for 'L$i' in env, got a list"
done)"
rm -f bomb-env.yaml
{
	printf 'name: bomb\nsteps:\n  - &step\n    name: a\n    run: touch ran\n'
	printf '    depends_on: &deps ['
	awk 'BEGIN { for (i = 0; i < 999; i++) printf "a, "; print "a]" }'
	awk 'BEGIN { for (i = 0; i < 3000; i++) print "  - *step" }'
} >bomb-steps.yaml
expect_bad bomb-steps.yaml \
	"jobrun: bomb-steps.yaml: the job file expands to more than 2000000 values (through YAML aliases or very large maps): expected at most 2000000"
rm -f bomb-steps.yaml
{
	printf 'name: bomb\nsteps:\n  - name: s0\n    run: touch ran\n    env: &env {'
	awk 'BEGIN { for (i = 0; i < 4095; i++) printf "V%d: x, ", i; print "V4095: x}" }'
	awk 'BEGIN { for (i = 1; i < 300; i++)
		print "  - {name: s" i ", run: touch ran, env: *env}" }'
} >bomb-env-wide.yaml
expect_bad bomb-env-wide.yaml \
	"jobrun: bomb-env-wide.yaml: the job file expands to more than 2000000 values (through YAML aliases or very large maps): expected at most 2000000"
rm -f bomb-env-wide.yaml

# Binary junk: NUL and control bytes, invalid UTF-8 in a value, a raw NUL
# in a command, and bytes that are not text at all.
printf '\000\001\002\003junk\377\376' >junk-nul.yaml
expect_bad junk-nul.yaml \
	"jobrun: junk-nul.yaml: invalid YAML: control characters are not allowed at byte offset 0: expected UTF-8 text without control characters"
rm -f junk-nul.yaml
printf 'name: caf\351\nsteps: []\n' >junk-latin1.yaml
expect_bad junk-latin1.yaml \
	"jobrun: junk-latin1.yaml: invalid YAML: invalid trailing UTF-8 octet at byte offset 10: expected UTF-8 text without control characters"
rm -f junk-latin1.yaml
printf 'name: nul\nsteps:\n  - name: a\n    run: touch ran\000; echo\n' \
	>junk-raw-nul.yaml
expect_bad junk-raw-nul.yaml \
	"jobrun: junk-raw-nul.yaml: invalid YAML: control characters are not allowed at byte offset 47: expected UTF-8 text without control characters"
rm -f junk-raw-nul.yaml
printf '\200\201\377\376\375 steps' >junk-high.yaml
expect_bad junk-high.yaml \
	"jobrun: junk-high.yaml: invalid YAML: invalid leading UTF-8 octet at byte offset 0: expected UTF-8 text without control characters"
rm -f junk-high.yaml

plan "$_tap_count"
done_testing
