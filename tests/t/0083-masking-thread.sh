#!/bin/sh
# Steps' output is masked on the console's masking thread (console.h) while
# the loop reads pipes and writes: what reaches the logs and the console is
# exactly what masking on the loop gave, in the order the steps wrote it,
# whatever the reads' boundaries; secrets registered while output flows
# mask everything written after the reply; jobrun's own messages and
# events come after what the step wrote before them; a console that reads
# slowly loses nothing.
. "$JOBRUN_SRCDIR/tests/lib.sh"
plan 17

# 24 MB of lines with three secrets in them, many of them across 64 KiB
# boundaries (lines of random lengths), their base64 wrapped at 20
# columns among them (the secrets' lengths are multiples of 3, so every
# character of the encoding comes from secret bytes alone), and the
# expected masked text, computed here.
"$PYTHON3" - <<'PY'
import base64, random
rng = random.Random(7)
secrets = ["Alpha-Secret-01928374650", "bravo_secret_value_55667",
           "cccharlie=Zz9Yy8Xx7wv"]
open("secrets.txt", "w").write("".join(s + "\n" for s in secrets))
out, want = [], []
size = 0
while size < 24 * 1000 * 1000:
    words = " ".join(str(rng.randrange(10 ** 9)) for _ in range(rng.randint(1, 40)))
    r = rng.random()
    if r < 0.02:
        s = rng.choice(secrets)
        line, masked = f"{words} token={s} end", f"{words} token=*** end"
    elif r < 0.025:
        s = rng.choice(secrets)
        enc = base64.b64encode(s.encode()).decode()
        wrapped = "\n".join(enc[i:i + 20] for i in range(0, len(enc), 20))
        line, masked = f"b64:\n{wrapped}", "b64:\n***"
    else:
        line = masked = words
    out.append(line)
    want.append(masked)
    size += len(line) + 1
open("input.txt", "w").write("\n".join(out) + "\n")
open("want.txt", "w").write("\n".join(want) + "\n")
PY
export REACTORCIDE_SECRET_VALUES_LIST="$TEST_DIR/secrets.txt"

cat >one.yaml <<'EOF'
steps:
  - {name: one, run: cat input.txt}
EOF
run "$JOBRUN" run one.yaml
is "$status" 0 "a step printing 24 MB with secrets in it succeeds"
ok "cmp -s want.txt .jobrun/logs/one.log" "its log is exactly the masked text"
ok "cmp -s want.txt out" "so is the console"

# Two steps at once, prefixed: each step's lines are its own, in order.
cat >two.yaml <<'EOF'
steps:
  - {name: a, run: cat input.txt}
  - {name: b, run: cat input.txt}
EOF
run "$JOBRUN" run -j2 two.yaml
is "$status" 0 "two steps printing at once succeed"
ok "cmp -s want.txt .jobrun/logs/a.log && cmp -s want.txt .jobrun/logs/b.log" \
	"each log is exactly the masked text"
sed -n 's/^\[b\] //p' out >b.txt
ok "cmp -s want.txt b.txt" "one step's console lines are all there, in order"

# A secret registered while the step's output flows: everything the step
# prints after `jobrun secret add` returns is masked, nothing before it
# is lost.
cat >late.yaml <<'EOF'
steps:
  - name: late
    run: |
      head -c 8000000 input.txt
      echo "before: Late-Registered-Value-77"
      printf 'Late-Registered-Value-77' | jobrun secret add
      echo "after: Late-Registered-Value-77"
      head -c 8000000 input.txt
      echo "last: Late-Registered-Value-77"
EOF
run "$JOBRUN" run late.yaml
is "$status" 0 "a step registering a secret mid-stream succeeds"
contains out "after: ***" "what it prints after the reply is masked"
contains out "last: ***" "and every later line"
is "$(grep -c 'token=\*\*\* end' .jobrun/logs/late.log)" \
	"$(($(head -c 8000000 input.txt | grep -c 'token=') * 2))" \
	"every line before and after it reached the log"

# Ordering: in the JSON format the end of the step comes after its last
# line; on one pipe, jobrun's message about the step after its output.
cat >order.yaml <<'EOF'
steps:
  - name: order
    run: |
      head -n 20000 input.txt
      echo "the very last line"
EOF
"$JOBRUN" run --log-format json order.yaml >json.out 2>json.err
last_line=$(grep -n '"text":"the very last line"' json.out | cut -d: -f1)
end_event=$(grep -n '"event":"step_finished"' json.out | cut -d: -f1)
ok "[ -n '$last_line' ] && [ -n '$end_event' ] && [ $last_line -lt $end_event ]" \
	"the JSON log's step end comes after the step's last line ($last_line < $end_event)"
"$JOBRUN" run order.yaml >both.out 2>&1
last_line=$(grep -n '^the very last line$' both.out | cut -d: -f1)
message=$(grep -n "^jobrun: step 'order': success" both.out | cut -d: -f1)
ok "[ -n '$last_line' ] && [ -n '$message' ] && [ $last_line -lt $message ]" \
	"on one pipe, jobrun's message comes after the step's output"

# A message jobrun writes while the step runs (a secret too short to
# mask, registered over the socket) comes after what the step printed
# before it and jobrun read (the pause lets the loop read the pipe, which
# a slow build may not have done yet when the request comes; the masking
# thread may still be behind).
cat >mid.yaml <<'EOF'
steps:
  - name: mid
    run: |
      head -n 100000 input.txt
      echo "the line before"
      sleep 0.3
      printf abc | jobrun secret add || true
      sleep 0.2
EOF
"$JOBRUN" run mid.yaml >mid.out 2>&1
before=$(grep -n '^the line before$' mid.out | cut -d: -f1)
message=$(grep -n '^jobrun: warning: a secret registered over the control socket is too short' mid.out | cut -d: -f1)
ok "[ -n '$before' ] && [ -n '$message' ] && [ $before -lt $message ]" \
	"a message during the step comes after the output before it ($before < $message)"

# A console that reads slowly: the loop waits for it, nothing is lost.
"$JOBRUN" run one.yaml 2>slow.err | { sleep 2; cat; } >slow.out
ok "cmp -s want.txt slow.out" "a slow console gets every masked byte"
lacks slow.err "not shown" "none was dropped"

# A secret split across two writes with a pause between (the idle flush
# may not show it) and a partial line at the end.
cat >split.yaml <<'EOF'
steps:
  - name: split
    run: |
      printf 'x Alpha-Secr'; sleep 1; printf 'et-01928374650 y\n'
      printf 'no newline at the end: bravo_secret_value_55667'
EOF
run "$JOBRUN" run split.yaml
contains out "x *** y" "a secret split by a pause is masked"
contains out "no newline at the end: ***" "so is one in a last partial line"
done_testing
