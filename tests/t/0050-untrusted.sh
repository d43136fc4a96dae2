#!/bin/sh
# Untrusted steps: tests/helpers/escape tries every way out from inside an
# untrusted step and from a trusted one.  Each attempt must fail in the
# untrusted step with the expected errno and, where this machine allows it,
# work in the trusted step, so that what fails is the sandbox's doing.
. "$JOBRUN_SRCDIR/tests/lib.sh"
plan 86

ESCAPE=$JOBRUN_BUILDDIR/tests/helpers/escape
# Untrusted steps run as a uid of this test run's own, so that killing
# what they leave behind (every process of that uid) touches nothing of
# another test's; run_as steps take the next ones.
UNTRUSTED=$((1900000000 + $$ % 10000000 * 4))
JOBRUN_UNTRUSTED_USER=$UNTRUSTED:$UNTRUSTED
export JOBRUN_UNTRUSTED_USER

# skip DESCRIPTION REASON: a passing TAP line that says why nothing ran.
skip()
{
	_tap_count=$((_tap_count + 1))
	echo "ok $_tap_count # skip $1: $2"
}

# The step script: each attempt prints "LABEL: ATTEMPT: RESULT (STATUS)".
# A trusted step "t" holding the secret stays up (its pid in t.pid) while
# the others run, as a sibling worth robbing.
cat >attempts.sh <<EOF
try() { label=\$1; shift; rc=0; out=\$("$ESCAPE" "\$@") || rc=\$?; echo "\$label: \$out (\$rc)"; }
sleep 30 & sibling=\$!
while [ ! -s "$TEST_DIR/t.pid" ]; do sleep 0.05; done
step=\$(cat "$TEST_DIR/t.pid")
try ptrace-sibling ptrace \$sibling
try ptrace-jobrun ptrace \$PPID
try vmread-jobrun vmread \$PPID
try environ-jobrun read /proc/\$PPID/environ
try mem-jobrun mem \$PPID
try environ-step read /proc/\$step/environ
try env-secret env JOB_SECRET
try env-copy env SECRET_COPY
try env-glob env DEPLOY_TOKEN
try env-list env REACTORCIDE_SECRET_VALUES_LIST
try unshare-user unshare-user
try unshare-mount unshare-mount
try clone-user clone-user
try aslr-off aslr-off
try x32-abi x32
try socket-read socket-read
echo "filters: \$(sed -n 's/^Seccomp_filters:[[:space:]]*//p' /proc/self/status)"
echo "ids: \$(id -u):\$(id -g):\$(id -G)"
grep '^Cap' /proc/self/status
echo "nnp: \$(sed -n 's/^NoNewPrivs:[[:space:]]*//p' /proc/self/status)"
kill \$sibling
EOF
cat >job.yaml <<EOF
env:
  JOB_SECRET: from-job-env-456
  SECRET_COPY: copy-of-from-job-env-456-here
secrets:
  env: [JOB_SECRET]
  env_globs: ['*_TOKEN']
steps:
  - name: t
    trusted: true
    run: |
      echo \$\$ >"$TEST_DIR/t.pid.new"; mv "$TEST_DIR/t.pid.new" "$TEST_DIR/t.pid"
      exec sleep 3
  - name: untrusted
    trusted: false
    run: . "$TEST_DIR/attempts.sh"
  - name: trusted
    depends_on: [untrusted]
    run: . "$TEST_DIR/attempts.sh"
  - name: register
    trusted: false
    depends_on: [trusted]
    run: |
      # LeakSanitizer needs ptrace, which the filter refuses: a
      # sanitizer build's jobrun checks for leaks outside the sandbox only.
      printf 'registered-by-untrusted-77\\n' |
        ASAN_OPTIONS=\${ASAN_OPTIONS:+\$ASAN_OPTIONS:}detect_leaks=0 jobrun secret add &&
        echo "add status 0" || echo "add status \$?"
      echo "said registered-by-untrusted-77"
EOF
DEPLOY_TOKEN=tok-glob-321 REACTORCIDE_SECRET_VALUES_LIST=from-list-789 \
	run "$JOBRUN" run -j3 job.yaml
is "$status" 0 "a job with untrusted steps runs"
if [ "$(id -u)" = 0 ]; then
	contains err "the workspace '$(realpath "$TEST_DIR")/.jobrun' is inside the code directory" \
		"local mode warns that untrusted steps could replace the workspace"
else
	skip "the warning of a workspace in the code directory" \
		"jobrun is not root: nobody else to open the code to"
fi
U=.jobrun/logs/untrusted.log
T=.jobrun/logs/trusted.log

# expect LABEL RESULT: the untrusted step's attempt ended with RESULT.
expect() { contains "$U" "$1: $2" "untrusted: $1 fails: $2"; }
expect ptrace-sibling "ptrace: EPERM (1)"
expect ptrace-jobrun "ptrace: EPERM (1)"
expect vmread-jobrun "vmread: EPERM (1)"
expect environ-jobrun "read: EACCES (13)"
expect mem-jobrun "mem: EACCES (13)"
# A trusted step of the same user is closed only by the capabilities the
# untrusted one lacks: as root.  Otherwise it is documented as open.  In a
# PID namespace of its own, the untrusted step does not even see it.
isolation=$("$PYTHON3" -c 'import json, sys
for s in json.load(open(sys.argv[1]))["steps"]:
    if s["name"] == "untrusted": print(s["isolation"])' .jobrun/result.json)
if [ "$isolation" = pid-namespace ]; then
	expect environ-step "read: ENOENT (2)"
elif [ "$(id -u)" = 0 ]; then
	expect environ-step "read: EACCES (13)"
else
	skip "untrusted: environ-step" "jobrun is not root (documented as open)"
fi
expect env-secret "env: ENOENT (2)"
expect env-copy "env: ENOENT (2)"
expect env-glob "env: ENOENT (2)"
expect env-list "env: ENOENT (2)"
expect unshare-user "unshare-user: EPERM (1)"
expect unshare-mount "unshare-mount: EPERM (1)"
expect clone-user "clone-user: EPERM (1)"
expect aslr-off "aslr-off: EPERM (1)"
expect socket-read "socket-read: EPERM (1)"
if [ "$(uname -m)" = x86_64 ]; then
	contains "$U" "x32-abi:  (159)" "untrusted: the x32 ABI is killed (SIGSYS)"
	ok "! grep -qF 'x32-abi:  (159)' $T" "trusted: the x32 ABI is not"
else
	skip "x32 ABI" "not x86-64"
	skip "x32 ABI" "not x86-64"
fi

# allowed LABEL: the trusted step's attempt worked, or this machine refuses
# it to everyone (then the untrusted result above proves less).
allowed()
{
	if grep -F "$1: " "$T" | grep -qF ': ok (0)'; then
		ok true "trusted: $1 works"
	else
		skip "trusted: $1" "refused here even to trusted steps: $(grep -F "$1: " "$T")"
	fi
}
for label in ptrace-sibling ptrace-jobrun vmread-jobrun environ-jobrun \
	mem-jobrun environ-step unshare-user unshare-mount clone-user \
	aslr-off; do
	allowed "$label"
done
contains "$T" "env-secret: env: ok (0)" "trusted: the secret is in the env"
contains "$T" "env-glob: env: ok (0)" "trusted: so is the glob's"
# There is no action that reads a secret back, for anyone.
contains "$T" "socket-read: socket-read: EPERM (1)" \
	"trusted: the socket gives no secret back either"
# The filter is the untrusted step's own, on top of what jobrun has.
own=$(sed -n 's/^Seccomp_filters:[[:space:]]*//p' /proc/self/status)
contains "$U" "filters: $((own + 1))" "untrusted: one seccomp filter more"
contains "$T" "filters: $own" "trusted: no filter of jobrun's"
contains "$U" "nnp: 1" "untrusted: no_new_privs"
contains "$U" "ids: $UNTRUSTED:$UNTRUSTED:$UNTRUSTED" \
	"untrusted: runs as untrusted_user, with no other group"
lacks "$T" "ids: $UNTRUSTED" "trusted: as jobrun's own user"
for set in CapInh CapPrm CapEff CapBnd CapAmb; do
	ok "grep -q '^$set:[[:space:]]*0000000000000000\$' $U" \
		"untrusted: $set is empty"
done
lacks "$T" "nnp: 1" "trusted: privileges as they were"
contains out "add status 0" "an untrusted step can still register a secret"
contains out "said ***" "which is masked from then on"
lacks out "registered-by-untrusted-77" "and it is masked"

# trusted: false on the job is every step's default; a step may opt back in.
cat >default.yaml <<'EOF'
trusted: false
steps:
  - name: by-default
    run: grep Seccomp_filters /proc/self/status
  - name: opted-in
    trusted: true
    run: grep Seccomp_filters /proc/self/status
EOF
run "$JOBRUN" run default.yaml
tab=$(printf '\t')
contains .jobrun/logs/by-default.log "Seccomp_filters:$tab$((own + 1))" \
	"job trusted: false: a step is untrusted by default"
contains .jobrun/logs/opted-in.log "Seccomp_filters:$tab$own" \
	"and trusted: true opts back in"

# A bad run_as is refused before any step runs.
cat >bad-user.yaml <<'EOF'
steps:
  - name: s
    run_as: no-such-user-jobrun
    run: echo ran
EOF
run "$JOBRUN" run bad-user.yaml
is "$status" 125 "an unknown run_as user fails the job"
contains err "cannot run as 'no-such-user-jobrun': no such user" \
	"and says so"

# run_as: another uid, /job/ci closed to it, /job/src open to it and to
# trusted steps alike (ACLs), outside files left alone.
if [ "$(id -u)" != 0 ]; then
	for i in $(seq 33); do skip "run_as" "needs root"; done
	done_testing
	exit
fi
AS=$((UNTRUSTED + 1))
BASE=$(mktemp -d "${TMPDIR:-/tmp}/jobrun-runas.XXXXXX")
trap 'rm -rf "$TEST_DIR" "$BASE"' EXIT
chmod 755 "$BASE"
mkdir -p "$BASE/ws/ci" "$BASE/ws/src"
echo ci-private >"$BASE/ws/ci/deploy.sh"
echo code >"$BASE/ws/src/main.c"
echo outside >"$BASE/outside.txt"
ln "$BASE/outside.txt" "$BASE/ws/src/hardlink.txt"
cat >"$BASE/ws/ci/job.yaml" <<EOF
env: {JOB_SECRET: from-job-env-456}
secrets:
  env: [JOB_SECRET]
steps:
  - name: build
    run: |
      mkdir obj && echo by-trusted >obj/trusted.o && echo root-made >made-by-root
  - name: as-user
    run_as: "$AS"
    depends_on: [build]
    run: |
      echo "uid \$(id -u)"
      echo "ci: \$("$ESCAPE" read "$BASE/ws/ci/deploy.sh")"
      echo "src: \$("$ESCAPE" write "$BASE/ws/src/built.o")"
      echo "obj: \$("$ESCAPE" write "$BASE/ws/src/obj/untrusted.o")"
      echo overwritten >>made-by-root && echo "rewrite: ok"
      echo "environ: \$("$ESCAPE" read /proc/\$PPID/environ)"
      echo "plant-dir: \$("$ESCAPE" write "$BASE/plugins/evil.so")"
      echo "plant-ci: \$("$ESCAPE" write "$BASE/ws/ci/evil.so")"
      echo "env: \$("$ESCAPE" env JOB_SECRET)"
      printf 'registered-by-runas-88\\n' |
        ASAN_OPTIONS=\${ASAN_OPTIONS:+\$ASAN_OPTIONS:}detect_leaks=0 jobrun secret add &&
        echo "add status 0" || echo "add status \$?"
      echo "said registered-by-runas-88"
      echo u-made >u-made
      echo built=yes >>"\$JOBRUN_OUTPUT"
  - name: reads-output
    depends_on: [as-user]
    run: |
      echo "got \$JOBRUN_OUTPUT_AS_USER_BUILT"
      echo trusted-again >>u-made && echo "trusted rewrite: ok"
      rm built.o && echo "trusted remove: ok"
  - name: numeric
    run_as: "$((AS + 1)):$((AS + 2))"
    run: echo "ids \$(id -u):\$(id -g) groups \$(id -G)"
EOF
mkdir -m 755 "$BASE/plugins"
run "$JOBRUN" run --workspace "$BASE/ws" --plugin-dir "$BASE/plugins" \
	"$BASE/ws/ci/job.yaml"
is "$status" 0 "run_as steps run"
L=$BASE/ws/logs/as-user.log
contains "$L" "uid $AS" "run_as: runs as its uid"
contains "$L" "ci: read: EACCES" "run_as: /job/ci is closed to it"
contains "$L" "src: write: ok" "run_as: /job/src is writable"
contains "$L" "obj: write: ok" "run_as: so is a directory a trusted step made"
contains "$L" "rewrite: ok" "run_as: and a file a trusted step made"
contains "$L" "environ: read: EACCES" "run_as: jobrun's environ is closed"
# jobrun loads plugins from the plugin directory and the CI code only.
contains "$L" "plant-dir: write: EACCES" "run_as: cannot plant a plugin"
contains "$L" "plant-ci: write: EACCES" "run_as: nor in the CI code"
contains "$L" "env: env: ENOENT" "run_as: no secret in the env"
contains "$L" "add status 0" "run_as: registers a secret over the socket"
contains "$L" "said ***" "which is masked"
ok "! grep -qa registered-by-runas-88 out $L" "everywhere"
R=$BASE/ws/logs/reads-output.log
contains "$R" "got yes" "run_as: its JOBRUN_OUTPUT reaches its dependants"
contains "$R" "trusted rewrite: ok" \
	"a trusted step writes a file the run_as step made"
contains "$R" "trusted remove: ok" "and removes one"
contains "$BASE/ws/logs/numeric.log" \
	"ids $((AS + 1)):$((AS + 2)) groups $((AS + 2))" \
	"run_as uid:gid, with no supplementary groups"
ok "[ \$(stat -c %u $BASE/ws/src/main.c) = 0 ]" \
	"the code dir's files keep their owner"
has_acl() { "$PYTHON3" -c 'import os, sys; os.getxattr(sys.argv[1], "system.posix_acl_access")' "$1" 2>/dev/null; }
ok "has_acl $BASE/ws/src/main.c" "and are opened to the run_as user by an ACL"
ok "! has_acl $BASE/outside.txt" "but not a file linked from outside it"

# The logs, as the masker writes them, are closed to untrusted steps while
# the job runs: a step that could watch its own log grow would see what
# the masker holds back (a prefix of a secret) and learn the secret a byte
# at a time.  Once the job is over they are open to read again.
# (A directory the untrusted user can reach, as a workspace is.)
LOGJOB=$(mktemp -d "${TMPDIR:-/tmp}/jobrun-logs.XXXXXX")
chmod 755 "$LOGJOB"
cat >"$LOGJOB/job.yaml" <<'EOF'
secrets: {env: [HELD_SECRET]}
steps:
  - name: u
    trusted: false
    run: |
      echo start
      printf 'held-sec'
      sleep 0.5
      if stat -c %s "$JOBRUN_WORKSPACE/logs/u.log" >/dev/null 2>&1; then echo; echo log-seen; else echo; echo log-closed; fi
      ls "$JOBRUN_WORKSPACE/logs" >/dev/null 2>&1 && echo dir-listed
EOF
(cd "$LOGJOB" && HELD_SECRET=held-secret-value-42 run "$JOBRUN" run job.yaml)
is "$status" 0 "an untrusted step probing its own log runs"
contains out "log-closed" "it cannot see its log grow while the job runs"
lacks out "dir-listed" "nor list the logs"
is "$(stat -c %a "$LOGJOB/.jobrun/logs")" 755 "once the job is over the logs are open to read"
contains "$LOGJOB/.jobrun/logs/u.log" "log-closed" "and hold what the step printed"
rm -rf "$LOGJOB"

# The model cannot hold: refused before any step, unless weak by name.
cat >norunas.yaml <<'EOF'
steps:
  - {name: first, trusted: true, run: echo trusted-ran}
  - {name: u, trusted: false, depends_on: [first], run: 'echo "u-ran as $(id -u)"'}
EOF
run setpriv --bounding-set=-setuid,-setgid --inh-caps=-all -- \
	"$JOBRUN" run norunas.yaml
is "$status" 125 "without CAP_SETUID/CAP_SETGID a job with untrusted steps is refused"
contains err "cannot contain untrusted steps" "saying why"
contains err "isolation: weak" "and what to change"
lacks out "trusted-ran" "before any step"
JOBRUN_ISOLATION=weak run setpriv --bounding-set=-setuid,-setgid \
	--inh-caps=-all -- "$JOBRUN" run norunas.yaml
is "$status" 0 "isolation: weak runs it"
contains err "warning: isolation is weak" "with a warning"
contains out "u-ran as 0" "as jobrun's own user"
JOBRUN_UNTRUSTED_USER=0:0 run "$JOBRUN" run norunas.yaml
is "$status" 125 "untrusted_user root is refused"
contains err "it is root" "saying why"
printf 'steps:\n  - {name: r, run_as: "root", run: echo ran}\n' >root.yaml
run "$JOBRUN" run root.yaml
is "$status" 125 "run_as root is refused"
contains err "never runs as root" "saying why"
done_testing
