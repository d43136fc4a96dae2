#!/bin/sh
# Untrusted steps in real containers (podman), with podman's default
# capabilities, with those and CAP_SYS_ADMIN (untrusted steps then get a
# PID namespace of their own), and with exactly what
# examples/kubernetes/manifest.yaml gives the pod: the attack of tests/t/0051-untrusted-capsets.sh
# (tests/helpers/attack.sh) beside a trusted step holding a secret, and
# the example's own job file run as the manifest runs it.
#
#   JOBRUN_IMAGE=localhost/jobrun:0.1.0 sh tests/container/untrusted.sh
#
# Skipped without podman or the image, unless JOBRUN_CONTAINER_REQUIRED=1.
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
ESCAPE=$JOBRUN_BUILDDIR/tests/helpers/escape
[ -x "$ESCAPE" ] || unavailable "no $ESCAPE: run 'make check' first"
"$PYTHON3" -c 'import yaml' 2>/dev/null ||
	unavailable "python3-yaml is needed to read the manifest"
plan 50

prefix=jobrun-ctu-$$
trap 'podman rm -f $(podman ps -aq --filter "name=^$prefix-") >/dev/null 2>&1; rm -rf "$TEST_DIR"' EXIT
chmod 755 "$TEST_DIR"
HELPERS="-v $ESCAPE:/opt/escape:ro -v $JOBRUN_SRCDIR/tests/helpers:/opt/helpers:ro"

# The manifest's settings as podman flags, and where it mounts the job file.
"$PYTHON3" - "$JOBRUN_SRCDIR/examples/kubernetes/manifest.yaml" >k8s.flags <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
pod = [d for d in docs if d["kind"] == "Job"][0]["spec"]["template"]["spec"]
c = pod["containers"][0]
sc = c["securityContext"]
volumes = {v["name"]: v for v in pod["volumes"]}
flags = ["--user", str(sc["runAsUser"]), "--cap-drop", "ALL"]
flags += ["--cap-add", ",".join(sc["capabilities"]["add"])]
if sc.get("readOnlyRootFilesystem"):
    flags += ["--read-only", "--tmpfs", "/tmp"]
if sc.get("allowPrivilegeEscalation") is False:
    flags += ["--security-opt", "no-new-privileges"]
for m in c["volumeMounts"]:
    if "configMap" in volumes[m["name"]]:
        print("JOBDIR=" + m["mountPath"])
    if "secret" in volumes[m["name"]]:
        print("SECRETDIR=" + m["mountPath"])
print("FLAGS='" + " ".join(flags) + "'")
PY
. ./k8s.flags

SECRET=ctr-tok-$$-s3cr3t-value
# ---- the attack, with each set ----
for set in podman sysadmin kubernetes; do
	D=$TEST_DIR/$set
	mkdir -p "$D/ws/src" "$D/ws/ci" "$D/jobdir"
	chmod 755 "$D/ws"
	cat >"$D/jobdir/job.yaml" <<EOF
env: {DEPLOY_TOKEN: $SECRET, DIR: /job/src, ESCAPE: /opt/escape}
secrets: {env: [DEPLOY_TOKEN]}
timeout: 60s
steps:
  - name: holder
    trusted: true
    run: |
      [ -n "\$DEPLOY_TOKEN" ] && echo "holder: has the secret"
      echo \$\$ >/job/src/holder.pid.new && mv /job/src/holder.pid.new /job/src/holder.pid
      i=0; while [ ! -f /job/src/attack-done ] && [ \$i -lt 1000 ]; do sleep 0.02; i=\$((i + 1)); done
  - name: attacker
    trusted: false
    run: sh /opt/helpers/attack.sh; touch /job/src/attack-done
  - name: later
    trusted: true
    depends_on: [attacker, holder]
    run: |
      echo "leftovers: \$(sh /opt/helpers/count-uid.sh 65532)"
      rm -f daemon-alive; sleep 0.3
      [ -f daemon-alive ] && echo "daemon: still alive" || echo "daemon: gone"
      echo trusted >>made-by-untrusted && echo "later: writes the untrusted step's file"
EOF
	case $set in
	podman) flags= jobdir=/etc/jobrun isolation=uid hidden=EACCES ;;
	sysadmin) flags="--cap-add SYS_ADMIN" jobdir=/etc/jobrun isolation=pid-namespace hidden=ENOENT ;;
	*) flags=$FLAGS jobdir=$JOBDIR isolation=uid hidden=EACCES ;;
	esac
	# shellcheck disable=SC2086
	podman run --rm --name "$prefix-$set" --network=none $flags $HELPERS \
		-v "$D/ws:/job" -v "$D/jobdir:$jobdir:ro" "$JOBRUN_IMAGE" \
		run -j3 "$jobdir/job.yaml" >"$D/out" 2>"$D/err"
	status=$?
	is "$status" 0 "$set: the job runs"
	A=$D/ws/logs/attacker.log
	contains "$A" "environ-any: 0 readable" "$set: no environ with the secret is readable"
	contains "$A" "environ-holder: read: $hidden" "$set: not the trusted step's"
	ok "\"$PYTHON3\" -c 'import json, sys
steps = {s[\"name\"]: s[\"isolation\"] for s in json.load(open(sys.argv[1]))[\"steps\"]}
sys.exit(steps[\"attacker\"] != \"$isolation\")' $D/ws/result.json" \
		"$set: the untrusted step's isolation is $isolation"
	contains "$A" "environ-jobrun: read: EACCES" "$set: not jobrun's"
	contains "$A" "mem-jobrun: mem: EACCES" "$set: nor jobrun's memory"
	contains "$A" "ptrace-jobrun: ptrace: EPERM" "$set: ptrace of jobrun fails"
	contains "$A" "ptrace-holder: ptrace: EPERM" "$set: and of the trusted step"
	ok "[ -s $D/ws/src/cmdlines ] && ! grep -qaF -- '$SECRET' $D/ws/src/cmdlines" \
		"$set: no command line holds the secret"
	contains "$A" "outputs-list: refused" "$set: the outputs directory cannot be listed"
	contains "$A" "caps: CapInh: 0000000000000000 CapPrm: 0000000000000000 CapEff: 0000000000000000" \
		"$set: no inheritable, permitted, effective capability"
	contains "$A" "daemon: started" "$set: the untrusted step leaves a daemon"
	contains "$D/ws/logs/later.log" "leftovers: 0" "$set: nothing of it runs in the next trusted step"
	contains "$D/ws/logs/later.log" "daemon: gone" "$set: the daemon was killed"
	contains "$D/ws/logs/later.log" "later: writes the untrusted step's file" \
		"$set: trusted steps write in the code dir"
done

# ---- the example's own job file, as the manifest runs it ----
D=$TEST_DIR/example
mkdir -p "$D/ws/src" "$D/jobdir" "$D/secrets"
chmod 755 "$D/ws"
# No network here: the source is put in place, the rest is the example's.
sed '/^source:/d' "$JOBRUN_SRCDIR/examples/kubernetes/job.yaml" >"$D/jobdir/job.yaml"
printf 'tok-%s' "$$" >"$D/secrets/api-token"
chmod 400 "$D/secrets/api-token"
cat >"$D/ws/src/Makefile" <<'EOF'
all:
	mkdir -p obj && echo built >obj/app.o && echo build >build.log
check:
	echo test-uid-$$(id -u) >>build.log && echo ran >obj/check.o && echo ok >test-results
EOF
printf '#!/bin/sh\n[ -s "$2" ] && echo "publish: token read"\necho published >>test-results\n' \
	>"$D/ws/src/publish.sh"
printf '#!/bin/sh\necho "report: $(tr "\\n" " " <test-results)"\n' >"$D/ws/src/report.sh"
chmod 755 "$D/ws/src/publish.sh" "$D/ws/src/report.sh"
# The runner image has no tool chain (a project image adds its own): the
# host's make (Debian's too, needing only the C library) stands in.
# shellcheck disable=SC2086
podman run --rm --name "$prefix-example" --network=none $FLAGS \
	-v "$(command -v make):/usr/local/bin/make:ro" -v "$D/ws:/job" -v "$D/jobdir:$JOBDIR:ro" -v "$D/secrets:$SECRETDIR:ro" \
	-e JOBRUN_JOBS=2 -e HOME=/tmp "$JOBRUN_IMAGE" \
	run --branch main "$JOBDIR/job.yaml" >"$D/out" 2>"$D/err"
is "$?" 0 "the example's job runs as the manifest runs it"
ok "grep -qx test-uid-1000 $D/ws/src/build.log" \
	"its untrusted test step ran as uid 1000 and wrote what the build made"
contains "$D/ws/logs/publish.log" "publish: token read" "the trusted publish step read the secret"
ok "grep -qx published $D/ws/src/test-results" \
	"and wrote a file the untrusted step made"
contains "$D/ws/logs/report.log" "report: ok" "the report ran"
done_testing
