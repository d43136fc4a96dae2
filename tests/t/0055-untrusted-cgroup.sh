#!/bin/sh
# A cgroup for each untrusted step where jobrun's cgroup v2 directory is
# writable: the step runs in a cgroup of its own, and whatever it leaves
# behind (a setsid daemon) is killed with cgroup.kill as soon as it ends:
# with weak isolation too (jobrun's own uid: no uid-based kill), and while
# another untrusted step of its uid still runs (the uid-based kill waits
# for that one); the cgroups are removed after the job.  Here without
# CAP_SYS_ADMIN, so that no PID namespace does the same.
. "$JOBRUN_SRCDIR/tests/lib.sh"

UNIFIED=$(awk '$0 ~ / - cgroup2 / { print $5; exit }' /proc/self/mountinfo)
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null 2>&1 ||
	[ -z "$UNIFIED" ] || [ ! -w "$UNIFIED$(sed -n 's/^0:://p' /proc/self/cgroup)" ]; then
	echo "1..0 # SKIP needs root, setpriv and a writable cgroup v2 directory"
	exit 0
fi
plan 14

UNTRUSTED=$((1900000003 + $$ % 10000000 * 4))
JOBRUN_UNTRUSTED_USER=$UNTRUSTED:$UNTRUSTED
export JOBRUN_UNTRUSTED_USER
chmod 755 "$TEST_DIR"
MARK=cgroup-daemon-$TAG
DOCKER=chown,dac_override,fowner,fsetid,kill,setgid,setuid,setpcap,net_bind_service,net_raw,sys_chroot,mknod,audit_write,setfcap
DOCKER_BOUNDING=-all,$(echo ",$DOCKER" | sed 's/,/,+/g; s/^,//')

# The leaver leaves a daemon; "after" counts such daemons while "sibling",
# untrusted too, still runs.  grep's own pid is in the list it reads (the
# shell execs it): [c] is a pattern its own command line does not match.
cat >job.yaml <<EOF
env: {DIR: $TEST_DIR, MARK: $MARK}
timeout: 60s
steps:
  - name: leaver
    trusted: false
    run: |
      echo "cgroup: \$(sed -n 's/^0:://p' /proc/self/cgroup)"
      echo "uid: \$(id -u)"
      # Out of its process group once it says it is alive.
      setsid sh -c 'while :; do echo alive >"\$DIR/alive"; sleep 0.05; done' "\$MARK" </dev/null >/dev/null 2>&1 &
      i=0; while [ ! -s "\$DIR/alive" ] && [ \$i -lt 1000 ]; do sleep 0.02; i=\$((i + 1)); done
      [ -s "\$DIR/alive" ] && echo "daemon: started"
  - name: sibling
    trusted: false
    run: |
      i=0; while [ ! -f "\$DIR/checked" ] && [ \$i -lt 1000 ]; do sleep 0.02; i=\$((i + 1)); done
  - name: after
    trusted: true
    depends_on: [leaver]
    run: |
      [ -f "\$DIR/checked" ] && echo "sibling: ended" || echo "sibling: running"
      echo "daemons: \$(grep -la "[c]\${MARK#c}" /proc/[0-9]*/cmdline 2>/dev/null | wc -l)"
      touch "\$DIR/checked"
EOF
L=.jobrun/logs
run setpriv --bounding-set="$DOCKER_BOUNDING" --inh-caps=-all -- \
	"$JOBRUN" run -j3 job.yaml
is "$status" 0 "the job runs"
contains $L/leaver.log "cgroup: /" "the untrusted step says its cgroup"
cgroup=$(sed -n 's/^cgroup: //p' $L/leaver.log)
ok "echo '$cgroup' | grep -q '/jobrun-[0-9]*/step-0\$'" "it is one of its own ($cgroup)"
contains $L/leaver.log "daemon: started" "it left a setsid daemon"
contains $L/after.log "sibling: running" "another untrusted step of its uid still ran"
contains $L/after.log "daemons: 0" "yet what it left was killed when it ended"
ok "[ ! -e '$UNIFIED$cgroup' ] && [ ! -e '$UNIFIED$(dirname "$cgroup")' ]" \
	"its cgroup and the job's are gone after the job"

# Weak isolation: jobrun's own uid, so the uid cannot find the daemon; the
# cgroup does.
rm -f checked alive
JOBRUN_ISOLATION=weak run setpriv --bounding-set="$DOCKER_BOUNDING,-setuid,-setgid" \
	--inh-caps=-all -- "$JOBRUN" run -j3 --only leaver,after job.yaml
is "$status" 0 "with weak isolation the job runs"
contains err "warning: isolation is weak" "with its warning"
contains $L/leaver.log "uid: 0" "as jobrun's own user"
cgroup=$(sed -n 's/^cgroup: //p' $L/leaver.log)
ok "echo '$cgroup' | grep -q '/jobrun-[0-9]*/step-0\$'" "the step has a cgroup of its own"
contains $L/leaver.log "daemon: started" "it left a setsid daemon"
contains $L/after.log "daemons: 0" "and what it left was killed when it ended"
ok "! grep -la '[c]${MARK#c}' /proc/[0-9]*/cmdline 2>/dev/null" "nothing of it runs after the job"
done_testing
