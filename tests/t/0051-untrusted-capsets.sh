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
plan $((3 * 29))

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

ATTACK=$JOBRUN_SRCDIR/tests/helpers/attack.sh
COUNT=$JOBRUN_SRCDIR/tests/helpers/count-uid.sh

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
    run: sh "$ATTACK"; touch "$S/attack-done"
  - name: later
    trusted: true
    depends_on: [attacker, holder]
    run: |
      echo "leftovers: \$(sh "$COUNT" $UNTRUSTED)"
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
	# With CAP_SYS_ADMIN (full root) the untrusted step has a PID
	# namespace of its own: the trusted step is not even there to see.
	case $set in
	root) hidden=ENOENT isolation=pid-namespace ;;
	*) hidden=EACCES isolation=uid ;;
	esac
	contains "$A" "environ-holder: read: $hidden" "$set: not the trusted step's"
	contains "$A" "environ-jobrun: read: EACCES" "$set: not jobrun's"
	contains "$A" "mem-jobrun: mem: EACCES" "$set: nor jobrun's memory"
	contains "$A" "mem-holder: mem: $hidden" "$set: nor the trusted step's"
	ok "\"$PYTHON3\" -c 'import json, sys
steps = {s[\"name\"]: s[\"isolation\"] for s in json.load(open(sys.argv[1]))[\"steps\"]}
sys.exit(steps != {\"holder\": \"none\", \"attacker\": \"$isolation\", \"later\": \"none\"})' $D/ws/result.json" \
		"$set: result.json says the attacker's isolation is $isolation"
	if [ "$set" = root ]; then
		lacks "$D/err" "no PID namespace" "$set: with no warning"
	else
		contains "$D/err" "untrusted steps get no PID namespace of their own (Operation not permitted; it needs CAP_SYS_ADMIN)" \
			"$set: a warning says there is no PID namespace, and why"
	fi
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
	ok "[ \$(sh $COUNT $UNTRUSTED) = 0 ]" "$set: nothing of the untrusted uid runs after the job"
	ok "[ -s $S/made-by-untrusted ]" "$set: the untrusted step wrote in the code dir"
	ok "grep -q 'socket-trigger: refused' $A && grep -q 'socket-output: refused' $A" \
		"$set: trigger and output actions are refused to it"
done
done_testing
