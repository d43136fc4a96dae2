#!/bin/sh
# jobrun-source: the program that prepares sources and unpacks results, so
# that jobrun itself links none of libgit2, libarchive, libssh2 and
# libcrypto.  What jobrun passes it (a request on stdin, never on the
# command line), what it does with each way the program can end (an error
# record, a crash, a hang, a missing program), and that a job without a
# source needs none of it.  The real binaries, and stand-in programs put
# beside a copy of jobrun where it looks first.
. "${JOBRUN_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"

plan 31

HELPER=$JOBRUN_BUILDDIR/jobrun-source
WS=$TEST_DIR/ws
mkdir -p "$WS" tree
echo hello >tree/file
JOBRUN_WORKSPACE=$WS
export JOBRUN_WORKSPACE

# fresh: an empty workspace for the next run.
fresh() { rm -rf "$WS" && mkdir -p "$WS/src"; }

# ---- jobrun links none of the backends' libraries ----
ldd "$JOBRUN" >libs 2>&1
for lib in libgit2 libarchive libssh2 libcrypto; do
	lacks libs "$lib" "jobrun does not load $lib"
done
ldd "$HELPER" >helper-libs 2>&1
contains helper-libs libgit2 "jobrun-source does (libgit2)"
contains helper-libs libarchive "jobrun-source does (libarchive)"

run "$JOBRUN" --version
contains out "libgit2 " "--version names libgit2's version, from jobrun-source"

# ---- the real program, found beside jobrun ----
cat >copy.yaml <<YAML
name: copy
source: {type: copy, url: $TEST_DIR/tree}
steps:
  - {name: s, run: 'cat \$JOBRUN_CODE_DIR/file'}
YAML
fresh
run "$JOBRUN" run copy.yaml
is "$status" 0 "a copy source is prepared by jobrun-source"
contains out hello "and the step reads the file it copied"

run "$HELPER" prepare 3>&-
is "$status" 2 "jobrun-source run by hand: exit 2"
contains err "jobrun runs this program" "and it says who runs it"

# ---- stand-ins beside a copy of jobrun ----
mkdir bin
cp "$JOBRUN" bin/jobrun
# stand_in SCRIPT: bin/jobrun-source becomes SCRIPT.
stand_in()
{
	printf '#!/bin/sh\n%s\n' "$1" >bin/jobrun-source
	chmod +x bin/jobrun-source
}

cat >secret-url.yaml <<YAML
name: secret-url
source:
  type: git
  url: https://ada:pw-in-url-1234@127.0.0.1:9/repo.git
  timeout: 20s
steps:
  - {name: s, run: 'true'}
triggers:
  - {job: after, when: always}
YAML
stand_in "echo \"\$*\" >$TEST_DIR/argv; cat >$TEST_DIR/request; \
echo 'E the stand-in refuses' >&3; exit 1"
fresh
run bin/jobrun run secret-url.yaml
is "$status" 125 "an error record: exit 125"
contains err "the stand-in refuses" "the error is shown"
is "$(cat argv)" prepare "the command line is only the verb"
is "$(field request 'd["url"]')" \
	"https://ada:pw-in-url-1234@127.0.0.1:9/repo.git" \
	"the request (URL and all) comes on standard input"
is "$(field request 'd["type"]')" git "with the source's type"
is "$(field "$WS/result.json" 'd["outcome"]')" error \
	"result.json says error"
is "$(field "$WS/triggers.json" '[j["job_name"] for j in d["jobs"]]')" \
	"['after']" "triggers.json has the always trigger"

stand_in 'kill -SEGV $$'
fresh
run bin/jobrun run secret-url.yaml
is "$status" 125 "a crash: exit 125"
contains err "killed by signal 11" "the signal is named"

cat >hang.yaml <<YAML
name: hang
source: {type: copy, url: $TEST_DIR/tree, timeout: 1s}
steps:
  - {name: s, run: 'true'}
YAML
stand_in "echo \$\$ >$TEST_DIR/hang.pid; exec sleep 300"
fresh
run bin/jobrun run hang.yaml
is "$status" 125 "a program that hangs: exit 125 at the source's timeout"
contains err "timed out after 1s" "the timeout is named"
ok '! kill -0 "$(cat hang.pid)" 2>/dev/null' "and the program is gone"

# jobrun's two processes (the supervisor and the job process that started
# the program) are killed outright at once, so neither can clean up: the
# program goes with them, it does not fetch on as an orphan.
cat >hang-long.yaml <<YAML
name: hang-long
source: {type: copy, url: $TEST_DIR/tree, timeout: 300s}
steps:
  - {name: s, run: 'true'}
YAML
rm -f hang.pid
fresh
bin/jobrun run hang-long.yaml >/dev/null 2>&1 &
super=$!
wait_for hang.pid .
helper=$(cat hang.pid)
starter=$(awk '{ print $4 }' "/proc/$helper/stat")
# The supervisor is the process started here, the job process its child.
[ "$(awk '{ print $4 }' "/proc/$starter/stat")" = "$super" ] ||
	echo "# unexpected process tree: $super, $starter, $helper"
kill -KILL "$super" "$starter"
i=0
while kill -0 "$helper" 2>/dev/null && [ $i -lt 200 ]; do
	sleep 0.02
	i=$((i + 1))
done
ok '! kill -0 "$helper" 2>/dev/null' \
	"jobrun killed by SIGKILL: the program is killed too"
wait

stand_in 'echo "N a notice from it" >&3; exit 0'
fresh
run bin/jobrun run hang.yaml
is "$status" 0 "a program that says nothing but notices: success"
contains err "a notice from it" "its notice is shown"

# ---- no program at all ----
rm bin/jobrun-source
if [ -x "${PKGLIBEXECDIR:-/nonexistent}/jobrun-source" ]; then
	for i in 1 2 3 4 5; do
		echo "ok $((_tap_count += 1)) # SKIP jobrun-source is installed in ${PKGLIBEXECDIR:-/nonexistent}"
	done
else
	fresh
	run bin/jobrun run copy.yaml
	is "$status" 125 "no jobrun-source: a job with a source fails, 125"
	contains err "make install" "and the message says how to get it"
	cat >plain.yaml <<YAML
name: plain
steps:
  - {name: s, run: 'echo plain-ran'}
YAML
	fresh
	run bin/jobrun run plain.yaml
	is "$status" 0 "a job without a source runs without it"
	contains out plain-ran "and its step ran"
	run bin/jobrun --version
	contains out "sources: cannot be prepared: jobrun-source was found neither" \
		"--version says sources cannot be prepared, and why"
fi

done_testing
