#!/bin/sh
# The bundled example runs, in dependency order, with output passed through.
. "$JOBRUN_SRCDIR/tests/lib.sh"
plan 13

run "$JOBRUN" run -j1 "$JOBRUN_SRCDIR/examples/hello/job.yaml"
is "$status" 0 "examples/hello succeeds"
is "$(cat out)" "hello from step greet of job hello
count 1
count 2
count 3
this line goes to standard error
A + B = 42
all done (attempt 1)" "one at a time, steps print in dependency order, stderr in place"
contains err "jobrun: step 'greet': success" "each step reports its outcome"
contains err "jobrun: job 'hello': success" "the job reports its outcome"
is "$(cat .jobrun/logs/count.log)" "count 1
count 2
count 3
this line goes to standard error" "each step's output is in its log"

run "$JOBRUN" run -j2 "$JOBRUN_SRCDIR/examples/hello/job.yaml"
is "$status" 0 "examples/hello succeeds with two at a time"
contains out "[sum] A + B = 42" "lines carry their step's name when steps overlap"
is "$(grep -vc '^\[[a-z]*\] ' out)" "0" "every console line is prefixed"

# Standard output and error of one step keep their relative order when both
# go to the same file.
cat >order.yaml <<'YAML'
steps:
  - name: mix
    run: for i in 1 2 3; do echo out$i; echo err$i >&2; done
YAML
"$JOBRUN" run order.yaml >both 2>&1
status=$?
is "$status" 0 "a step writing to both streams succeeds"
is "$(grep -v '^jobrun: ' both | tr '\n' ' ')" "out1 err1 out2 err2 out3 err3 " \
	"stdout and stderr keep their order"

# Output without a final newline, long lines and binary bytes pass through.
cat >bytes.yaml <<'YAML'
steps:
  - name: bytes
    run: head -c 3000000 /dev/urandom > data.bin; cat data.bin; printf tail
YAML
"$JOBRUN" run bytes.yaml >bytes.out 2>/dev/null
is "$?" 0 "a step writing binary data succeeds"
head -c 3000000 bytes.out >head.bin
ok "cmp -s head.bin data.bin" "binary bytes pass through unchanged"
is "$(tail -c 4 bytes.out)" "tail" "a last line without newline is kept"
done_testing
