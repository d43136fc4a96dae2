#!/bin/sh
# The step engine: parallel steps, slots, result.json, logs, outputs, and
# console lines that never mix.
. "$JOBRUN_SRCDIR/tests/lib.sh"
plan 24

# Two steps that can only both finish if they run at the same time.
cat >meet.yaml <<'YAML'
steps:
  - name: left
    run: touch left.up; i=0; while [ ! -e right.up ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; [ -e right.up ]
  - name: right
    run: touch right.up; i=0; while [ ! -e left.up ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; [ -e left.up ]
YAML
run "$JOBRUN" run -j2 meet.yaml
is "$status" 0 "independent steps run at the same time"
rm -f left.up right.up
run "$JOBRUN" run -j1 meet.yaml
is "$status" 1 "and one at a time with -j1 (so the test can fail)"

# No more than --jobs steps at once.
cat >slots.yaml <<'YAML'
steps:
YAML
for n in 1 2 3 4 5 6; do
	cat >>slots.yaml <<YAML
  - name: s$n
    run: mkdir -p run; touch run/s$n; ls run | wc -l >> counts; sleep 0.2; rm run/s$n
YAML
done
run "$JOBRUN" run -j2 slots.yaml
is "$status" 0 "six steps with two slots succeed"
is "$(sort -n counts | tail -1)" "2" "at most two ran at once"

# result.json records every step.
cat >result.yaml <<'YAML'
name: recorded
steps:
  - {name: ok, run: "true"}
  - {name: bad, run: "exit 4", depends_on: [ok]}
  - {name: never, run: "true", depends_on: [bad]}
  - {name: sig, run: "kill -9 $$"}
  - {name: twice, run: "exit 1", retries: 1}
YAML
run "$JOBRUN" run result.yaml
is "$status" 1 "a failing job exits 1"
ok "$PYTHON3 - <<'PY'
import json
r = json.load(open('.jobrun/result.json'))
s = {x['name']: x for x in r['steps']}
assert r['job'] == 'recorded' and r['outcome'] == 'failed' and r['exit_status'] == 1, r
assert s['ok']['outcome'] == 'success' and s['ok']['exit_code'] == 0
assert s['bad']['outcome'] == 'failed' and s['bad']['exit_code'] == 4
assert s['never']['outcome'] == 'skipped' and s['never']['attempts'] == 0
assert s['never']['started_at'] is None and s['never']['exit_code'] is None
assert s['sig']['outcome'] == 'failed' and s['sig']['signal'] == 9
assert s['twice']['attempts'] == 2
for x in r['steps']:
    assert set(x) == {'name', 'outcome', 'exit_code', 'signal', 'oom_killed',
                      'isolation', 'attempts', 'started_at', 'finished_at',
                      'duration_ms', 'log', 'trusted', 'continue_on_error',
                      'reason', 'outputs'}, x
    assert x['oom_killed'] is False, x
    assert x['isolation'] == (None if x['attempts'] == 0 else 'none'), x
PY" "result.json has every step's outcome, exit code, signal and attempts"

# Outputs: key=value and heredoc values reach the dependants.
cat >outputs.yaml <<'YAML'
steps:
  - name: build
    run: |
      echo "version=1.2.3" >> "$JOBRUN_OUTPUT"
      printf 'notes<<END\nline one\nline two\nEND\n' >> "$JOBRUN_OUTPUT"
  - name: use
    depends_on: [build]
    run: echo "v=$JOBRUN_OUTPUT_BUILD_VERSION"; echo "$JOBRUN_OUTPUT_BUILD_NOTES"
YAML
run "$JOBRUN" run -j1 outputs.yaml
is "$status" 0 "a job with outputs succeeds"
is "$(cat out)" "v=1.2.3
line one
line two" "a dependant reads key=value and heredoc outputs"

# Two outputs that come to the same variable (sign_url of build, url of
# build-sign): neither is set, and a warning says which; the others are.
cat >clash.yaml <<'YAML'
steps:
  - name: build
    run: echo "sign_url=from-build" >> "$JOBRUN_OUTPUT"; echo "plain=kept" >> "$JOBRUN_OUTPUT"
  - name: build-sign
    run: echo "url=from-build-sign" >> "$JOBRUN_OUTPUT"
  - name: use
    depends_on: [build-sign, build]
    run: echo "url=[${JOBRUN_OUTPUT_BUILD_SIGN_URL-unset}] plain=[$JOBRUN_OUTPUT_BUILD_PLAIN]"
YAML
run "$JOBRUN" run -j1 clash.yaml
is "$status" 0 "a job whose outputs clash by name runs"
contains out "url=[unset] plain=[kept]" "the clashing variable is not set; the others are"
contains err "output 'url' of step 'build-sign' and output 'sign_url' of step 'build' are both JOBRUN_OUTPUT_BUILD_SIGN_URL: neither is set" \
	"a warning names both outputs"

# Parallel steps writing partial lines: each console line is one step's.
cat >mix.yaml <<'YAML'
steps:
  - name: aa
    run: for i in $(seq 200); do printf a; printf a; printf 'a\n'; done
  - name: bb
    run: for i in $(seq 200); do printf b; printf b; printf 'b\n'; done
  - name: cc
    run: for i in $(seq 200); do printf 'cc'; printf 'c\n'; done; printf 'no newline'
YAML
run "$JOBRUN" run -j3 mix.yaml
is "$status" 0 "three chatty steps succeed"
is "$(grep -c . out)" "601" "every line arrives, the last partial one too"
is "$(grep -Evc '^(\[aa\] aaa|\[bb\] bbb|\[cc\] ccc|\[cc\] no newline)$' out)" "0" \
	"no console line mixes two steps"
is "$(wc -c <.jobrun/logs/cc.log)" "810" "the log keeps the exact bytes"

# A background daemon that keeps the step's output open does not hang the
# job; it is ended with its group.
cat >daemon.yaml <<'YAML'
steps:
  - name: daemon
    run: sleep 600.@TAG@ & echo started
  - name: after
    depends_on: [daemon]
    run: echo after
YAML
detag daemon.yaml
run timeout 20 "$JOBRUN" run -j1 daemon.yaml
is "$status" 0 "a daemon holding stdout does not hang the job"
is "$(cat out)" "started
after" "its output and the next step's arrive"
ok "! pgrep -f 'sleep 600.$TAG' >/dev/null" "the daemon is gone"

# An escaped daemon (its own session) is killed when the job ends.
cat >escape.yaml <<'YAML'
steps:
  - name: escape
    run: setsid sh -c 'sleep 601.@TAG@' </dev/null >/dev/null 2>&1 & echo ok
YAML
detag escape.yaml
run timeout 20 "$JOBRUN" run escape.yaml
is "$status" 0 "a step whose child escapes its group succeeds"
ok "! pgrep -f 'sleep 601.$TAG' >/dev/null" "the escaped orphan is ended with the job"

# JSON log lines.
run "$JOBRUN" run -j1 --log-format json outputs.yaml
ok "$PYTHON3 -c '
import json, sys
lines = [json.loads(l) for l in open(\"out\")]
out = [l for l in lines if l.get(\"stream\") == \"output\"]
assert out[0][\"step\"] == \"use\" and out[0][\"text\"] == \"v=1.2.3\", out
assert any(l.get(\"stream\") == \"jobrun\" and l[\"step\"] is None for l in lines)
assert all(\"time\" in l for l in lines)
'" "--log-format json writes one object per line"
cat >binary.yaml <<'YAML'
steps:
  - {name: bin, run: "printf 'ok\\n\\377\\376\\n'"}
YAML
run "$JOBRUN" run --log-format json binary.yaml
ok "$PYTHON3 -c '
import json, base64
lines = [json.loads(l) for l in open(\"out\") if \"output\" in l]
assert lines[0][\"text\"] == \"ok\"
assert base64.b64decode(lines[1][\"data_base64\"]) == bytes([255, 254])
'" "bytes that are not UTF-8 are kept as base64"

# A workspace that cannot be created is jobrun's error, before any step.
run "$JOBRUN" run --workspace /proc/nope --job-command 'touch ran'
is "$status" 125 "an unusable workspace exits 125"
ok "[ ! -e ran ]" "and nothing ran"
done_testing
