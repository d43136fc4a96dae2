#!/bin/sh
# On a terminal: coloured step prefixes and a live status line that is
# always erased before output; NO_COLOR turns colours off; off a terminal
# there is no escape sequence at all.
. "$JOBRUN_SRCDIR/tests/lib.sh"

if ! command -v script >/dev/null; then
	echo "1..0 # SKIP script(1) is not installed"
	exit 0
fi
plan 11
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

# An untrusted step's control characters reach a terminal as ^X (colours
# pass): it could rub out its prefix and pass a line off as jobrun's, or
# set the clipboard (OSC 52).  Its log keeps every byte.
if [ "$(id -u)" = 0 ]; then
	JOBRUN_UNTRUSTED_USER=$((1900000000 + $$ % 10000000 * 4 + 3))
	export JOBRUN_UNTRUSTED_USER
	chmod 755 "$TEST_DIR"
	cat >tame.yaml <<'YAML'
steps:
  - name: u
    trusted: false
    run: |
      printf 'before\r\033[2Kjobrun: step fake: success\n'
      printf '\033]52;c;ZXZpbA==\007clip\n'
      printf '\033[31mred\033[0m\n'
YAML
	TERM=xterm script -qec "\"$JOBRUN\" run tame.yaml" /dev/null >tame.out
	contains tame.out "before^M^[[2Kjobrun: step fake: success" \
		"an untrusted step's CR and ESC show as ^M and ^[ on a terminal"
	contains tame.out "^[]52;c;ZXZpbA==^Gclip" "so does an OSC 52 sequence"
	contains tame.out "${esc}[31mred${esc}[0m" "its colours pass"
	contains .jobrun/logs/u.log "$(printf 'before\r\033[2K')" "its log keeps every byte"
else
	for what in CR ESC OSC colours log; do
		_tap_count=$((_tap_count + 1))
		echo "ok $_tap_count # skip untrusted $what: needs root"
	done
fi
done_testing
