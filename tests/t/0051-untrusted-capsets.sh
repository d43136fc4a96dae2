#!/bin/sh
# Untrusted steps under the capability sets containers really give jobrun:
# Docker's default set, the Kubernetes example's set (examples/kubernetes)
# and full root, each also with capabilities in jobrun's inheritable set
# (as older runtimes gave, and `setpriv --inh-caps` does).  In each, an
# untrusted step runs beside a trusted one that holds a secret in its
# environment, and tries: every /proc/*/environ and the trusted step's,
# jobrun's /proc/PID/mem, ptrace of both, every /proc/*/cmdline (none may
# hold the secret), the outputs directory and the trusted step's outputs
# file, the control socket's actions other than register, and a setsid
# daemon left behind to read a later trusted step's environment.  All
# must fail, the capabilities it holds must be none, and trusted steps
# must still work (write where the untrusted step wrote, have the secret).
. "$JOBRUN_SRCDIR/tests/lib.sh"

if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null 2>&1; then
	echo "1..0 # SKIP needs root and setpriv"
	exit 0
fi
SETS="docker kubernetes root"
plan $((3 * 27))

ESCAPE=$JOBRUN_BUILDDIR/tests/helpers/escape
UNTRUSTED=$((1900000001 + $$ % 10000000 * 4))
SECRET=tok-$$-s3cr3t-value
chmod 755 "$TEST_DIR"

# The capability sets, as setpriv's lists.
DOCKER=chown,dac_override,fowner,fsetid,kill,setgid,setuid,setpcap,net_bind_service,net_raw,sys_chroot,mknod,audit_write,setfcap
# examples/kubernetes/manifest.yaml's: read from it, so the two stay one.
KUBERNETES=$(sed -n 's/^ *add: \[\(.*\)\]$/\1/p' \
	"$JOBRUN_SRCDIR/examples/kubernetes/manifest.yaml" |
	tr 'A-Z' 'a-z' | tr -d ' ')

# The untrusted step: each attempt prints "NAME: RESULT".  DIR is the
# code directory, the one place it may write.  Every wait is bounded.
cat >attack.sh <<'EOF'
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
EOF

# count_uid UID: how many live processes run as UID.
cat >count.sh <<'EOF'
n=0
for s in /proc/[0-9]*/status; do
	awk -v u="$1" '/^State:.*Z/ { z = 1 } /^Uid:/ && ($2 == u || $4 == u) && !z { found = 1 } END { exit !found }' "$s" 2>/dev/null && n=$((n + 1))
done
echo "$n"
EOF

for set in $SETS; do
	D=$TEST_DIR/$set
	mkdir -p "$D/ws/src" "$D/ws/ci"
	S=$D/ws/src
	cat >"$D/ws/ci/job.yaml" <<EOF
env: {DEPLOY_TOKEN: $SECRET, DIR: $S, ESCAPE: $ESCAPE}
secrets: {env: [DEPLOY_TOKEN]}
timeout: 60s
steps:
  - name: holder
    trusted: true
    run: |
      echo k=v >>"\$JOBRUN_OUTPUT"
      [ -n "\$DEPLOY_TOKEN" ] && echo "holder: has the secret"
      echo "holder secret: \$DEPLOY_TOKEN"
      echo "holder inheritable: \$(sed -n 's/^CapInh:[[:space:]]*//p' /proc/self/status)"
      echo \$\$ >"$S/holder.pid.new" && mv "$S/holder.pid.new" "$S/holder.pid"
      i=0; while [ ! -f "$S/attack-done" ] && [ \$i -lt 1000 ]; do sleep 0.02; i=\$((i + 1)); done
  - name: attacker
    trusted: false
    run: sh "$TEST_DIR/attack.sh"; touch "$S/attack-done"
  - name: later
    trusted: true
    depends_on: [attacker, holder]
    run: |
      echo "leftovers: \$(sh "$TEST_DIR/count.sh" $UNTRUSTED)"
      rm -f "$S/daemon-alive"; sleep 0.3
      [ -f "$S/daemon-alive" ] && echo "daemon: still alive" || echo "daemon: gone"
      echo trusted >>made-by-untrusted && echo "later: writes the untrusted step's file"
      [ -n "\$DEPLOY_TOKEN" ] && echo "later: has the secret"
EOF
	case $set in
	docker) caps=$DOCKER ;;
	kubernetes) caps=$KUBERNETES ;;
	root) caps=all ;;
	esac
	# Their own capabilities in the inheritable set too; root's with
	# CAP_SYS_PTRACE, the one that opened jobrun's memory.
	if [ "$set" = root ]; then inh=+sys_ptrace; else inh=$(echo ",$caps" | sed 's/,/,+/g; s/^,//'); fi
	if [ "$set" = root ]; then bset=+all; else bset=-all,$(echo ",$caps" | sed 's/,/,+/g; s/^,//'); fi
	(cd "$D/ws/src" && JOBRUN_UNTRUSTED_USER=$UNTRUSTED:$UNTRUSTED \
		setpriv --bounding-set="$bset" --inh-caps="$inh" -- \
		"$JOBRUN" run -j3 --workspace "$D/ws" "$D/ws/ci/job.yaml" \
		>"$D/out" 2>"$D/err")
	status=$?
	is "$status" 0 "$set: the job runs"
	ok "grep -q 'holder inheritable: 0*[1-9a-f]' $D/ws/logs/holder.log" \
		"$set: jobrun had inheritable capabilities (the trusted step has them)"
	A=$D/ws/logs/attacker.log
	contains "$A" "environ-any: 0 readable" "$set: no environ with the secret is readable"
	contains "$A" "environ-holder: read: EACCES" "$set: not the trusted step's"
	contains "$A" "environ-jobrun: read: EACCES" "$set: not jobrun's"
	contains "$A" "mem-jobrun: mem: EACCES" "$set: nor jobrun's memory"
	contains "$A" "mem-holder: mem: EACCES" "$set: nor the trusted step's"
	contains "$A" "ptrace-jobrun: ptrace: EPERM" "$set: ptrace of jobrun fails"
	contains "$A" "ptrace-holder: ptrace: EPERM" "$set: and of the trusted step"
	ok "[ -s $S/cmdlines ] && ! grep -qaF -- '$SECRET' $S/cmdlines" \
		"$set: no command line holds the secret"
	contains "$A" "outputs-holder: read: EACCES" "$set: the trusted step's outputs file is closed"
	contains "$A" "outputs-list: refused" "$set: the outputs directory cannot be listed"
	contains "$A" "caps: CapInh: 0000000000000000 CapPrm: 0000000000000000 CapEff: 0000000000000000 CapBnd:" \
		"$set: no inheritable, permitted, effective capability"
	# Without CAP_SETPCAP (the Kubernetes set) jobrun cannot drop from the
	# bounding set: then the step's is jobrun's, and no_new_privs keeps
	# exec from granting any of it.
	case $caps in
	*setpcap* | all)
		ok "grep -q 'CapBnd: 0000000000000000 CapAmb: 0000000000000000' $A" \
			"$set: nor bounding nor ambient" ;;
	*)
		ok "grep -q 'CapAmb: 0000000000000000' $A && grep -q 'NoNewPrivs:.*1' $A" \
			"$set: nor ambient, and no_new_privs" ;;
	esac
	contains "$A" "daemon: started" "$set: the untrusted step leaves a daemon"
	L=$D/ws/logs/later.log
	contains "$L" "leftovers: 0" "$set: nothing of it runs in the next trusted step"
	contains "$L" "daemon: gone" "$set: the daemon was killed"
	ok "[ ! -e $S/daemon-read ]" "$set: and read no environ"
	contains "$L" "later: writes the untrusted step's file" "$set: trusted steps write in the code dir"
	contains "$L" "later: has the secret" "$set: and get their secrets"
	contains "$D/ws/logs/holder.log" "holder: has the secret" "$set: the trusted holder too"
	lacks "$D/out" "$SECRET" "$set: the secret is masked in the output"
	contains "$D/out" "holder secret: ***" "$set: (which the holder printed)"
	ok "! grep -qa -- '$SECRET' $D/ws/logs/*.log" "$set: and in the logs"
	ok "[ \$(sh $TEST_DIR/count.sh $UNTRUSTED) = 0 ]" "$set: nothing of the untrusted uid runs after the job"
	ok "[ -s $S/made-by-untrusted ]" "$set: the untrusted step wrote in the code dir"
	# The control socket's other actions belong to another change:
	# refused to untrusted peers once peers are classified by uid.
	if grep -q "socket-trigger: refused" "$A" && grep -q "socket-output: refused" "$A"; then
		ok true "$set: trigger and output actions are refused to it"
	else
		echo "not ok $((_tap_count += 1)) - $set: trigger and output actions are refused to it # TODO untrusted peers classified by uid (another change)"
	fi
done
done_testing
