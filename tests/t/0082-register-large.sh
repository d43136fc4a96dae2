#!/bin/sh
# A 1 MiB register request (17 secrets of 60,000 bytes): its secrets are
# prepared and built off the event loop (worker.h, mask-async.h), and the
# reply still comes only once every one of them is masked, so a step
# that prints them after `jobrun secret add` returns leaks nothing; other
# steps' output keeps being masked and delivered meanwhile; going past
# the job's cap is refused with a message; a job that ends, or is
# terminated, while such a registration is in flight ends cleanly; and
# as root, untrusted steps (a raw clone into a PID namespace or cgroup,
# proc.c) start and run while the worker thread is busy.
. "$JOBRUN_SRCDIR/tests/lib.sh"
plan 21

# 17 lines of 60,000 base64 characters: one request of about 1,020,000
# bytes (the frame's limit is 1 MiB).
i=0
: >big.txt
while [ $i -lt 17 ]; do
	head -c 45000 /dev/urandom | base64 -w0 >>big.txt
	echo >>big.txt
	i=$((i + 1))
done
# Each secret's first 40 characters, to look for in the output.
cut -c1-40 big.txt >heads.txt

cat >job.yaml <<EOF
steps:
  - name: big
    run: |
      jobrun secret add <$TEST_DIR/big.txt; echo "add: \$?"
      cat $TEST_DIR/big.txt
      head -c 60000 /dev/zero | tr '\\\\0' x | jobrun secret add --raw ||
        echo "over the cap: \$?"
  - name: other
    run: |
      printf 'other-secret-42\\n' | jobrun secret add
      i=0
      while [ \$i -lt 300 ]; do
        echo "tick \$i other-secret-42"; i=\$((i + 1)); sleep 0.002
      done
EOF
run "$JOBRUN" run -j2 job.yaml
is "$status" 0 "a job registering a 1 MiB request succeeds"
contains out "add: 0" "the request is accepted"
is "$(grep -c '^\[big\] \*\*\*$' out)" 17 \
	"each of its 17 secrets, printed after the reply, is masked whole"
ok "! grep -qaFf heads.txt out err .jobrun/logs/*.log .jobrun/result.json" \
	"no part of any of them appears"
is "$(grep -c '^\[other\] tick [0-9]* \*\*\*$' out)" 300 \
	"another step's output, meanwhile, is all delivered and masked"
lacks out "other-secret-42" "its secret never shows"
contains out "over the cap: 1" "a secret past the job's cap is refused"
contains out "past its cap of 1048576" "saying why"

# The job ends while a registration is still in flight: the step leaves
# `jobrun secret add` behind, and jobrun does not wait for it.
cat >end.yaml <<EOF
steps:
  - name: leave
    run: |
      (jobrun secret add <$TEST_DIR/big.txt >/dev/null 2>&1 &)
      sleep 0.2
EOF
run "$JOBRUN" run end.yaml
is "$status" 0 "a job that ends during a large registration ends cleanly"
lacks err "Sanitizer" "with nothing leaked or misused"

# What jobrun writes after the steps (outputs.json here) is masked with
# every secret it was handed, also those still being read, parsed or
# prepared when the last step ended: the step ends as soon as its client
# has sent the whole 1 MiB request (send() returns once jobrun has read
# all but the socket's buffer of it), without waiting for the answer.
cat >send.py <<'PY'
import json, os, socket, struct, sys
secrets = open(sys.argv[1]).read().split()
body = json.dumps({"action": "register", "secrets": secrets}).encode()
s = socket.socket(socket.AF_UNIX)
s.connect(os.environ["JOBRUN_SOCKET"])
s.sendall(struct.pack(">I", len(body)) + body)
open(sys.argv[2], "w").write("sent\n")
s.recv(1)
PY
cat >late.yaml <<EOF
steps:
  - name: late
    run: |
      head -n 1 $TEST_DIR/big.txt | jobrun output set leaked
      rm -f $TEST_DIR/sent
      $PYTHON3 $TEST_DIR/send.py $TEST_DIR/big.txt $TEST_DIR/sent \
        >/dev/null 2>&1 &
      while [ ! -s $TEST_DIR/sent ]; do sleep 0.01; done
EOF
# One request with a good secret, then one past MASK_SECRET_MAX (64 KiB):
# the request is refused, and the good one is masked all the same (as
# when secrets were added on the loop).
cat >mixed.py <<'PY'
import json, os, socket, struct
body = json.dumps({"action": "register",
                   "secrets": ["good-secret-7f3a9c2e", "y" * 70000]}).encode()
s = socket.socket(socket.AF_UNIX)
s.connect(os.environ["JOBRUN_SOCKET"])
s.sendall(struct.pack(">I", len(body)) + body)
print(s.makefile().readline().strip())
PY
cat >mixed.yaml <<EOF
steps:
  - name: mixed
    run: |
      $PYTHON3 $TEST_DIR/mixed.py
      sleep 0.5
      echo "printed: good-secret-7f3a9c2e"
EOF
run "$JOBRUN" run mixed.yaml
contains out "longer than 65536 bytes" "a request with a secret past 64 KiB is refused"
contains out "printed: ***" "the good secret before it is masked all the same"

run "$JOBRUN" run late.yaml
is "$status" 0 "a job whose last step left a large registration behind"
ok "! grep -qaFf heads.txt .jobrun/outputs.json" \
	"writes its files with those secrets masked too"

# SIGTERM while a registration is in flight.
cat >term.yaml <<EOF
steps:
  - name: wait
    run: |
      echo registering >$TEST_DIR/mark
      jobrun secret add <$TEST_DIR/big.txt
      sleep 30
EOF
"$JOBRUN" run term.yaml >out 2>err &
pid=$!
wait_for mark registering
sleep 0.1
kill -TERM $pid
n=0
while kill -0 $pid 2>/dev/null && [ $n -lt 500 ]; do
	sleep 0.02
	n=$((n + 1))
done
ok "! kill -0 $pid 2>/dev/null" "SIGTERM during a registration ends the job"
kill -KILL $pid 2>/dev/null
wait $pid
status=$?
is "$status" 143 "with the status of a job cancelled by SIGTERM"
lacks err "Sanitizer" "with nothing leaked or misused"
ok "! grep -qaFf heads.txt out err" "and nothing of the secrets shows"
ok "[ ! -e /proc/$pid ]" "nothing of it is left"

# As root: untrusted steps started by a raw clone while the worker works
# (glibc's fork and id wrappers there would wait for locks and threads of
# the parent that the child does not have).
if [ "$(id -u)" = 0 ] && unshare --pid --fork --mount-proc true 2>/dev/null
then
	chmod 755 "$TEST_DIR"
	chmod 644 big.txt
	{
		echo "steps:"
		echo "  - name: big"
		echo "    run: jobrun secret add <$TEST_DIR/big.txt"
		i=0
		while [ $i -lt 40 ]; do
			echo "  - name: u$i"
			echo "    trusted: false"
			echo "    run: echo untrusted-ran"
			i=$((i + 1))
		done
	} >many.yaml
	UNTRUSTED=$((1900000001 + $$ % 10000000 * 4))
	JOBRUN_UNTRUSTED_USER=$UNTRUSTED:$UNTRUSTED \
		run timeout 120 "$JOBRUN" run -j4 many.yaml
	is "$status" 0 "40 untrusted steps run beside a large registration"
	is "$(grep -c 'untrusted-ran$' out)" 40 "each of them to its end"
else
	ok true "# SKIP needs root and PID namespaces"
	ok true "# SKIP needs root and PID namespaces"
fi
