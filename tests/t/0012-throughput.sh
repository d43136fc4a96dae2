#!/bin/sh
# 1 GiB of random bytes through one step: the console and the log get
# exactly the input, and jobrun's memory stays flat.
. "$JOBRUN_SRCDIR/tests/lib.sh"
plan 5

size=$((1024 * 1024 * 1024))
head -c $size /dev/urandom >input.bin
want=$(sha256sum <input.bin | cut -d' ' -f1)
cat >big.yaml <<'YAML'
steps:
  - {name: big, run: cat input.bin}
YAML
/usr/bin/time -v "$JOBRUN" run big.yaml 2>time.err | sha256sum | cut -d' ' -f1 >console.sha
status=$(sed -n 's/.*Exit status: //p' time.err)
rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' time.err)
is "$status" 0 "a step writing 1 GiB succeeds"
is "$(cat console.sha)" "$want" "the console gets every byte, unchanged"
is "$(sha256sum <.jobrun/logs/big.log | cut -d' ' -f1)" "$want" \
	"the log gets every byte, unchanged"
rm -f input.bin .jobrun/logs/big.log
echo "# peak RSS of jobrun and its step: $rss KiB"
ok "[ $rss -lt 32768 ]" "peak RSS stays under 32 MiB ($rss KiB)"

# The same through the prefixed console path, with long lines.
head -c $((64 * 1024 * 1024)) /dev/urandom | base64 -w 3000000 >lines.txt
cat >lines.yaml <<'YAML'
steps:
  - {name: a, run: cat lines.txt}
  - {name: b, run: "true"}
YAML
"$JOBRUN" run -j2 lines.yaml 2>/dev/null | sed -n 's/^\[a\] //p' >console.txt
ok "cmp -s lines.txt console.txt" "lines over 1 MiB pass the prefixed console whole"
done_testing
