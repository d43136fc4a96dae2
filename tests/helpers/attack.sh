#!/bin/sh
# attack.sh: what an untrusted step tries, for tests/t/0051-untrusted-capsets.sh
# and tests/container/untrusted.sh.  Run as the untrusted step, beside a
# trusted step "holder" that holds DEPLOY_TOKEN in its environment and
# writes its pid to $DIR/holder.pid.  Environment: DIR, the code directory
# (the one place it may write); ESCAPE, tests/helpers/escape.  Each attempt
# prints "NAME: RESULT"; every wait is bounded.  It leaves a setsid daemon
# behind that records in $DIR/daemon-read each environ with DEPLOY_TOKEN it
# can read, and touches $DIR/daemon-alive while it lives.
try() { label=$1; shift; out=$("$ESCAPE" "$@"); echo "$label: $out"; }
# wait_for FILE: up to 10 s.
wait_for() { i=0; while [ ! -s "$1" ] && [ $i -lt 500 ]; do sleep 0.02; i=$((i + 1)); done; }
wait_for "$DIR/holder.pid"
holder=$(cat "$DIR/holder.pid")
# This script's parent is the step's shell; jobrun is the shell's parent.
jobrun=$(sed -n 's/^PPid:[[:space:]]*//p' /proc/$PPID/status)
n=0
for f in /proc/[0-9]*/environ; do
	grep -qa DEPLOY_TOKEN= "$f" 2>/dev/null && n=$((n + 1))
done
echo "environ-any: $n readable with the secret's name"
try environ-holder read /proc/$holder/environ
try environ-jobrun read /proc/$jobrun/environ
try mem-jobrun mem $jobrun
try mem-holder mem $holder
try ptrace-jobrun ptrace $jobrun
try ptrace-holder ptrace $holder
cat /proc/[0-9]*/cmdline >"$DIR/cmdlines" 2>/dev/null
try outputs-holder read "$(dirname "$JOBRUN_OUTPUT")/holder.env"
ls "$(dirname "$JOBRUN_OUTPUT")" >/dev/null 2>&1 && echo "outputs-list: ok" || echo "outputs-list: refused"
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
jobrun trigger evil-job --env LD_PRELOAD=/x.so >/dev/null 2>&1 && echo "socket-trigger: ok" || echo "socket-trigger: refused"
echo x | jobrun output set evil >/dev/null 2>&1 && echo "socket-output: ok" || echo "socket-output: refused"
echo mine >made-by-untrusted
echo "caps: $(grep '^Cap' /proc/self/status | tr '\t\n' '  ')"
grep NoNewPrivs /proc/self/status
# A daemon of its own session, to rob the next trusted step.
setsid sh -c 'while :; do
	for f in /proc/[0-9]*/environ; do
		grep -qa DEPLOY_TOKEN= "$f" 2>/dev/null && echo "$f" >>"$DIR/daemon-read"
	done
	echo alive >"$DIR/daemon-alive"; sleep 0.05
done' </dev/null >/dev/null 2>&1 &
wait_for "$DIR/daemon-alive"
[ -s "$DIR/daemon-alive" ] && echo "daemon: started"
