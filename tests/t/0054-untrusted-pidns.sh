#!/bin/sh
# Untrusted steps in a PID namespace of their own: where jobrun may make
# one (full root here), an untrusted step sees only its own processes in
# /proc, never a trusted one's, under an init of jobrun's that stands in
# for it (its PID 1 is not the step); what it leaves behind (a setsid
# daemon) is gone as soon as it ends, even while another untrusted step of
# the same uid still runs (the uid-based kill waits for that one); its
# exit status and the signal that killed it are reported as they were;
# timeouts and jobrun's own SIGTERM reach it and end it; its outputs work.
# Without CAP_SYS_ADMIN (Docker's set) it gets no namespace, says so, and
# result.json says which isolation each step got.
. "$JOBRUN_SRCDIR/tests/lib.sh"

if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null 2>&1 ||
	! unshare --pid --fork --mount-proc true 2>/dev/null; then
	echo "1..0 # SKIP needs root, setpriv and PID namespaces"
	exit 0
fi
plan 36

ESCAPE=$JOBRUN_BUILDDIR/tests/helpers/escape
UNTRUSTED=$((1900000002 + $$ % 10000000 * 4))
JOBRUN_UNTRUSTED_USER=$UNTRUSTED:$UNTRUSTED
export JOBRUN_UNTRUSTED_USER
chmod 755 "$TEST_DIR"
MARK=pidns-daemon-$TAG

# field STEP KEY: STEP's KEY in result.json.
field()
{
	"$PYTHON3" -c 'import json, sys
for s in json.load(open(".jobrun/result.json"))["steps"]:
    if s["name"] == sys.argv[1]: print(s[sys.argv[2]])' "$1" "$2"
}

# without_cgroups CMD...: CMD in a mount namespace of its own where the
# cgroup v2 file system is read-only: jobrun makes no cgroups, and only the
# PID namespace ends what an untrusted step leaves.
without_cgroups()
{
	unshare --mount --propagation private sh -c '
	for m in $(awk "\$0 ~ / - cgroup2 / { print \$5 }" /proc/self/mountinfo); do
		mount -o remount,bind,ro "$m" || exit 125
	done
	exec "$@"' sh "$@"
}

# The looker and the holder run side by side; the daemon the looker leaves
# must be gone for "after" while "sibling", of the same uid, still runs.
# wait FILE: up to 20 s.
cat >job.yaml <<EOF
env: {DIR: $TEST_DIR, ESCAPE: $ESCAPE, MARK: $MARK}
timeout: 60s
steps:
  - name: holder
    trusted: true
    env: {HELD: held-value-$TAG}
    run: |
      echo \$\$ >"\$DIR/holder.pid.new" && mv "\$DIR/holder.pid.new" "\$DIR/holder.pid"
      i=0; while [ ! -f "\$DIR/looked" ] && [ \$i -lt 1000 ]; do sleep 0.02; i=\$((i + 1)); done
  - name: looker
    trusted: false
    run: |
      i=0; while [ ! -s "\$DIR/holder.pid" ] && [ \$i -lt 1000 ]; do sleep 0.02; i=\$((i + 1)); done
      holder=\$(cat "\$DIR/holder.pid")
      echo "self: \$\$ parent: \$PPID"
      echo "cgroup: \$(sed -n 's/^0:://p' /proc/self/cgroup)"
      echo "init: \$(tr '\0' ' ' </proc/1/cmdline)"
      awk '\$5 == "/proc/sys" || \$5 == "/proc/sysrq-trigger" { print "mount: " \$5 " " \$6 }' /proc/self/mountinfo
      others=0
      for s in /proc/[0-9]*/status; do
        pid=\${s#/proc/}; pid=\${pid%/status}
        [ "\$pid" = 1 ] && continue
        grep -q "^Uid:[[:space:]]*$UNTRUSTED[[:space:]]" "\$s" 2>/dev/null || others=\$((others + 1))
      done
      echo "others: \$others"
      echo "environ-holder: \$("\$ESCAPE" read /proc/\$holder/environ)"
      grep -lqa HELD= /proc/[0-9]*/environ 2>/dev/null && echo "held: seen" || echo "held: unseen"
      # Out of its process group once it says it is alive.
      setsid sh -c 'while :; do echo alive >"\$DIR/alive"; sleep 0.05; done' "\$MARK" </dev/null >/dev/null 2>&1 &
      i=0; while [ ! -s "\$DIR/alive" ] && [ \$i -lt 1000 ]; do sleep 0.02; i=\$((i + 1)); done
      [ -s "\$DIR/alive" ] && echo "daemon: started"
      touch "\$DIR/looked"
  - name: sibling
    trusted: false
    run: |
      i=0; while [ ! -f "\$DIR/checked" ] && [ \$i -lt 1000 ]; do sleep 0.02; i=\$((i + 1)); done
  - name: after
    trusted: true
    depends_on: [looker]
    run: |
      [ -f "\$DIR/checked" ] && echo "sibling: ended" || echo "sibling: running"
      # grep's own pid is in the list (the shell execs it): [p] is
      # a pattern its own command line does not match.
      echo "daemons: \$(grep -la "[p]\${MARK#p}" /proc/[0-9]*/cmdline 2>/dev/null | wc -l)"
      touch "\$DIR/checked"
  - {name: exits, trusted: false, continue_on_error: true, run: exit 3}
  - {name: killed, trusted: false, continue_on_error: true, run: 'kill -KILL \$\$'}
  - {name: termed, trusted: false, continue_on_error: true, run: 'kill -TERM \$\$'}
  - name: forwards
    trusted: false
    continue_on_error: true
    timeout: 1s
    run: |
      trap 'echo "got TERM"; exit 7' TERM
      sleep 100 & wait
  - name: ignores
    trusted: false
    continue_on_error: true
    timeout: 1s
    run: trap '' TERM; sleep 100
  - name: makes
    trusted: false
    run: echo built=yes >>"\$JOBRUN_OUTPUT"
  - name: reads
    depends_on: [makes]
    run: echo "got \$JOBRUN_OUTPUT_MAKES_BUILT"
EOF
run without_cgroups "$JOBRUN" run -j8 --grace-period 1s job.yaml
is "$status" 0 "the job runs (the steps that fail may)"
lacks .jobrun/logs/looker.log "cgroup: /jobrun-" \
	"(with no cgroup of its own: the namespace alone ends what it leaves)"
L=.jobrun/logs
lacks err "no PID namespace" "no warning: a PID namespace could be made"
is "$(field looker isolation)" pid-namespace "result.json: the untrusted step's isolation"
is "$(field holder isolation)" none "result.json: a trusted step's"
contains $L/looker.log "self: 2 parent: 1" \
	"the step is not PID 1, but the child of the namespace's init"
contains $L/looker.log "init: $JOBRUN run" "which is jobrun's"
# (A kernel without magic SysRq has no /proc/sysrq-trigger.)
ok "grep -q '^mount: /proc/sys ro,' $L/looker.log &&
	{ [ ! -e /proc/sysrq-trigger ] || grep -q '^mount: /proc/sysrq-trigger ro,' $L/looker.log; }" \
	"its /proc/sys (and /proc/sysrq-trigger) are read-only"
contains $L/looker.log "others: 0" "/proc shows no process but its own and its init"
contains $L/looker.log "environ-holder: read: ENOENT" "the trusted step is not there to read"
contains $L/looker.log "held: unseen" "no environ it sees holds the trusted step's variable"
contains $L/looker.log "daemon: started" "the untrusted step left a setsid daemon"
contains $L/after.log "sibling: running" "another untrusted step of the same uid still ran"
contains $L/after.log "daemons: 0" "yet the daemon the untrusted step left is gone"
ok "! grep -la '[p]${MARK#p}' /proc/[0-9]*/cmdline 2>/dev/null" "and stays gone"
is "$(field exits exit_code)" 3 "an exit status is reported"
is "$(field killed signal)" 9 "a SIGKILL inside the namespace is reported"
is "$(field killed exit_code)" None "with no exit status"
is "$(field termed signal)" 15 "and a SIGTERM"
is "$(field forwards outcome)" timed_out "a timeout ends a step"
contains $L/forwards.log "got TERM" "whose SIGTERM reached it through its init"
is "$(field forwards exit_code)" 7 "and its exit after that is its own"
is "$(field ignores outcome)" timed_out "a step ignoring SIGTERM is killed after the grace period"
contains $L/reads.log "got yes" "an untrusted step's outputs reach its dependants"

# jobrun's own SIGTERM reaches the step, and ends the job.
cat >cancel.yaml <<EOF
steps:
  - name: waits
    trusted: false
    run: |
      trap 'echo "got TERM"; exit 9' TERM
      echo started >"$TEST_DIR/started"
      sleep 100 & wait
EOF
"$JOBRUN" run cancel.yaml >cancel.out 2>&1 &
pid=$!
wait_for "$TEST_DIR/started" started
kill -TERM $pid
wait $pid
status=$?
ok "[ $status -ne 0 ]" "jobrun's SIGTERM cancels the job (exit $status)"
contains $L/waits.log "got TERM" "and reaches the untrusted step"
is "$(field waits exit_code)" 9 "which exits as it chose"
is "$(field waits isolation)" pid-namespace "from its PID namespace"

# Docker's capability set has no CAP_SYS_ADMIN: no namespace, and a warning.
rm -f holder.pid looked checked alive
DOCKER=chown,dac_override,fowner,fsetid,kill,setgid,setuid,setpcap,net_bind_service,net_raw,sys_chroot,mknod,audit_write,setfcap
run setpriv --bounding-set=-all,$(echo ",$DOCKER" | sed 's/,/,+/g; s/^,//') \
	--inh-caps=-all -- "$JOBRUN" run -j8 --grace-period 1s \
	--only holder,looker,after job.yaml
is "$status" 0 "without CAP_SYS_ADMIN the job runs"
contains err "untrusted steps get no PID namespace of their own" "with a warning"
contains err "see every process of the container in /proc" "that says what they see"
is "$(field looker isolation)" uid "result.json: isolation uid"
contains $L/looker.log "environ-holder: read: EACCES" "the trusted step is seen, but closed"
ok "! grep -q 'others: 0' $L/looker.log" "other processes are seen"
contains $L/looker.log "daemon: started" "the untrusted step left a setsid daemon"
contains $L/after.log "daemons: 0" "the daemon is gone (killed by its uid or its cgroup)"
done_testing
