#!/bin/sh
# On a terminal: coloured step prefixes and a live status line that is
# always erased before output; NO_COLOR turns colours off; off a terminal
# there is no escape sequence at all.
. "$JOBRUN_SRCDIR/tests/lib.sh"

if ! command -v script >/dev/null; then
	echo "1..0 # SKIP script(1) is not installed"
	exit 0
fi
plan 7
esc=$(printf '\033')

TERM=xterm script -qec "\"$JOBRUN\" run -j2 \"$JOBRUN_SRCDIR/examples/hello/job.yaml\"" /dev/null >tty.out
is "$?" 0 "the example succeeds on a terminal"
contains tty.out "${esc}[K" "the status line is erased"
contains tty.out "0 failed, running: count" "it names the running steps"
contains tty.out "${esc}[3" "prefixes are coloured"
# Every output line starts after the status was erased, never inside it.
is "$(tr '\r' '\n' <tty.out | grep -c 'hello from step greet.*running')" 0 \
	"output and status never share a line"

TERM=xterm NO_COLOR=1 script -qec "\"$JOBRUN\" run -j2 \"$JOBRUN_SRCDIR/examples/hello/job.yaml\"" /dev/null >nocolor.out
lacks nocolor.out "${esc}[3" "NO_COLOR turns colours off"

TERM=xterm "$JOBRUN" run -j2 "$JOBRUN_SRCDIR/examples/hello/job.yaml" >pipe.out 2>&1
lacks pipe.out "$esc" "off a terminal there are no escape sequences"
done_testing
