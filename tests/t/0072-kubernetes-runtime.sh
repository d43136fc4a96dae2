#!/bin/sh
# jobrun run --runtime kubernetes against a scripted API server
# (tests/helpers/kube-api.py) through the real kubectl, wrapped by a script
# on PATH that logs every argv: a job's exit status, output and result come
# back; a log broken mid-stream is resumed without loss or repeat; a second
# run with the same run id attaches; ps, stop and gc; an OOM kill, an image
# that cannot be pulled, an API that does not answer and a local source each
# give a clear message and 125; the Secret's value is in the Secret object
# alone, never in an argument of kubectl, and nothing is left behind.
# The results volume (JOBRUN_KUBE_RESULTS_VOLUME): the whole files come
# back through a collector pod's log, a cut or altered log is refused with
# nothing unpacked, a hostile archive is defused by the safe extraction,
# the collector is removed; a pod pending too long ends the run (125); the
# unpacking of results has a deadline and ends on SIGTERM and SIGINT.
. "$JOBRUN_SRCDIR/tests/lib.sh"

KUBECTL=$(command -v kubectl)
if [ -z "$KUBECTL" ] || ! "$PYTHON3" -c 'import http.server' 2>/dev/null; then
	echo "1..0 # SKIP kubectl or python3 is missing"
	exit 0
fi
plan 114

mkdir api bin
"$PYTHON3" "$JOBRUN_SRCDIR/tests/helpers/kube-api.py" "$TEST_DIR/api" \
	2>api/server.log &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$TEST_DIR"' EXIT
wait_for api/port .
[ -s api/port ] || { echo "Bail out! the scripted API server did not start"; exit 1; }
cat >kubeconfig <<EOF
apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster: {server: "http://127.0.0.1:$(cat api/port)"}
contexts:
- name: fake
  context: {cluster: fake, namespace: ci, user: fake}
current-context: fake
users:
- name: fake
  user: {}
EOF
cat >bin/kubectl <<EOF
#!/bin/sh
printf '%s\n' "\$*" >>"$TEST_DIR/argv"
exec "$KUBECTL" "\$@"
EOF
chmod +x bin/kubectl
PATH=$TEST_DIR/bin:$PATH
KUBECONFIG=$TEST_DIR/kubeconfig
K_TOKEN=ktok-0072-secret-value
export PATH KUBECONFIG K_TOKEN

cat >job.yaml <<'YAML'
name: kube
timeout: 10m
secrets: {env: [K_TOKEN]}
source: {type: git, url: https://example.org/app.git, ref: main}
steps: [{name: a, run: make}]
YAML
script() { printf '%s\n' "$1" >api/script.json; }
kube() { "$JOBRUN" run --runtime kubernetes --image runner:1 "$@" job.yaml; }
# left NAME: what the API server still holds of run NAME.
left() { kubectl get jobs,configmaps,secrets,pods -l "org.jobrun.run-id=$1" -o name; }

# ---- a job runs; its status, output and result come back ----
script '{"exit_code": 3, "log": ["one", "two ktok-0072-secret-value", "three"]}'
run kube --run-id r1
is "$status" 3 "the job's exit status is jobrun's"
printf 'one\ntwo ***\nthree\n' >want
ok "cmp -s want out" "its output, in order, masked again on the host"
"$PYTHON3" -c 'import json; r = json.load(open(".jobrun/result.json")); print(r["outcome"], r["exit_status"], r["collected_from"])' >result.out
contains result.out "failure 3 kubernetes termination message" "result.json from the termination summary"
is "$(left r1)" "" "the Job, its pod, ConfigMap and Secret are removed"
grep '"POST"' api/requests >posts
contains posts '"path": "/apis/batch/v1/namespaces/ci/jobs"' "the Job is created (kubeconfig's namespace)"
contains posts '"suspend": true' "created suspended"
grep '"/api/v1/namespaces/ci/secrets"' posts >secret-post
contains secret-post "ktok-0072-secret-value" "the secret value travels in the Secret"
contains secret-post '"kind": "Job", "name": "jobrun-r1", "uid": ' "the Secret is owned by the Job"
grep -v '"/api/v1/namespaces/ci/secrets"' api/requests >other-requests
lacks other-requests "ktok-0072-secret-value" "and in no other request"
lacks argv "ktok-0072" "no kubectl argument holds the secret"
contains argv "create --validate=false -f - -o json" "objects go on kubectl's standard input"
contains argv "patch job jobrun-r1 --type=merge" "the Job is resumed to start"
contains argv "logs --follow --timestamps -c jobrun jobrun-r1-" "the pod's log is followed"

# ---- a log that breaks mid-stream ----
script '{"log": ["l1", "l2", "l3", "l4", "l5"], "break_after": 2}'
: >argv
run kube --run-id r2
is "$status" 0 "a broken log: the run succeeds"
printf 'l1\nl2\nl3\nl4\nl5\n' >want
ok "cmp -s want out" "every line once, in order, after the resume"
contains argv "--since-time=" "the log is resumed with --since-time"

# ---- the same run id twice: the second attaches ----
script '{"exit_code": 0, "log": ["attached line"]}'
: >argv
run kube --run-id a1 --detach
is "$status" 0 "--detach: exit 0"
is "$(cat out)" "a1" "--detach prints the run id"
run env JOBRUN_RUNTIME=kubernetes "$JOBRUN" ps
contains out "a1" "ps lists the detached run"
contains out "running" "as running"
run kube --run-id a1
is "$status" 0 "the second run with its id ends with the job's status"
contains out "attached line" "and shows the job's output"
is "$(grep -c 'patch job jobrun-a1 ' argv)" 1 "the Job was started once"
is "$(grep -c '"POST", "path": "/apis/batch/v1/namespaces/ci/jobs"' api/requests)" 4 \
	"the second run's create was refused by the server (one Job)"
is "$(left a1)" "" "the attached run removes it at the end"

# ---- stop, ps, gc ----
script '{"hang": true, "log": ["waiting"]}'
run kube --run-id s1 --detach
is "$status" 0 "a detached run that does not end"
run env JOBRUN_RUNTIME=kubernetes "$JOBRUN" stop s1
is "$status" 0 "stop: exit 0"
contains argv "delete pods -l batch.kubernetes.io/job-name=jobrun-s1 --wait=false" \
	"stop deletes the pod (the kubelet's SIGTERM, then its grace period)"
run env JOBRUN_RUNTIME=kubernetes "$JOBRUN" ps
contains out "exited" "ps: the stopped run has exited"
run env JOBRUN_RUNTIME=kubernetes "$JOBRUN" gc --dry-run --older-than 1ms
contains out "would remove jobrun-s1" "gc --dry-run names it"
ok "[ -n \"\$(left s1)\" ]" "and leaves it"
run env JOBRUN_RUNTIME=kubernetes "$JOBRUN" gc --older-than 1ms
contains out "removing jobrun-s1" "gc removes it"
is "$(left s1)" "" "its objects are gone"

# ---- a signal on the host: the pod is deleted, jobrun inside gets SIGTERM ----
script '{"hang": true, "log": ["started"]}'
: >argv
"$JOBRUN" run --runtime kubernetes --image runner:1 --run-id t1 job.yaml \
	>t1.out 2>t1.err &
pid=$!
n=0
while ! grep -q "logs --follow" argv && [ $n -lt 600 ]; do
	sleep 0.05
	n=$((n + 1))
done
kill -TERM $pid
wait $pid
is "$?" 143 "SIGTERM on the host: the job's 143 (its clean-up ran inside)"
contains argv "delete pods -l batch.kubernetes.io/job-name=jobrun-t1 --wait=false" \
	"the signal became the pod's deletion"
contains .jobrun/result.json '"collected_from": "kubernetes job status"' \
	"the pod gone, result.json from the Job's status"
contains .jobrun/result.json '"outcome": "cancelled"' "saying cancelled"
is "$(left t1)" "" "and the run is removed"

# ---- failures: a clear message and 125 ----
# ---- OOMKilled cross-checked with jobrun's own record (its summary) ----
script '{"oom": true, "log": []}'
run kube --run-id o1
is "$status" 1 "OOM-killed without a summary (PID 1 killed): failed, 1"
contains err "ran out of memory: kubernetes says it was OOM-killed before jobrun inside wrote its result" \
	"OOM without a summary: said"
contains .jobrun/result.json '"outcome": "failed"' "OOM without a summary: result.json says failed"
script '{"oom": true, "log": [], "message": "{\"jobrun\": 1, \"job\": \"k8s\", \"outcome\": \"success\", \"exit_status\": 0}"}'
run kube --run-id o2
is "$status" 0 "OOM-killed after a success summary: the record stands"
contains err "ran out of memory after jobrun inside recorded its result (success)" \
	"OOM after the summary: a warning"
script '{"image_error": "ErrImagePull"}'
run kube --run-id i1
is "$status" 125 "an image that cannot be pulled: 125"
contains err "cannot start: ErrImagePull" "the pull error: said"
is "$(left i1)" "" "nothing left behind"
contains .jobrun/result.json "ErrImagePull" "the host's result.json says why"
sed 's#http://127.0.0.1:[0-9]*#http://127.0.0.1:1#' kubeconfig >dead.kubeconfig
run env KUBECONFIG=$TEST_DIR/dead.kubeconfig \
	"$JOBRUN" run --runtime kubernetes --image runner:1 --run-id u1 job.yaml
is "$status" 125 "an API that does not answer: 125"
contains err "the Kubernetes API does not answer" "unreachable: said"
contains err "'kubectl version' failed with status 1" "with the command and its status"
touch api/stall
run env JOBRUN_RUNTIME=kubernetes JOBRUN_KUBE_TIMEOUT=1 "$JOBRUN" ps
rm -f api/stall
is "$status" 125 "an API that accepts and never answers: 125, no hang"
contains err "the Kubernetes API does not answer: 'kubectl version'" "a stalled API: said"
cat >local.yaml <<'YAML'
name: local
steps: [{name: a, run: make}]
YAML
run "$JOBRUN" run --runtime kubernetes --image runner:1 local.yaml
is "$status" 125 "a local source under kubernetes: 125"
contains err "a Kubernetes pod cannot see" "a local source: said"

# ---- namespace ----
script '{"log": ["ns"]}'
: >api/requests
run env JOBRUN_KUBE_NAMESPACE=team-a "$JOBRUN" run --runtime kubernetes \
	--image runner:1 --run-id n1 job.yaml
is "$status" 0 "JOBRUN_KUBE_NAMESPACE: the run succeeds"
contains api/requests '"/apis/batch/v1/namespaces/team-a/jobs"' "in that namespace"

# ---- the results volume: the whole files come back ----
mkdir -p vol/logs vol/artifacts/deep vol/src
printf '{"version": 1, "job": "kube", "outcome": "success", "exit_status": 0, "steps": [{"name": "a"}]}\n' >vol/result.json
printf '[{"job": "next"}]\n' >vol/triggers.json
printf '{"k": "v"}\n' >vol/outputs.json
printf 'line 1\nline 2\n' >vol/logs/a.log
"$PYTHON3" -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 40)' >vol/artifacts/deep/blob.bin
ln -s deep/blob.bin vol/artifacts/inner-link
echo checkout >vol/src/not-wanted
volume() { env JOBRUN_KUBE_RESULTS_VOLUME=ci-results "$@"; }
script "{\"log\": [\"v\"], \"results_dir\": \"$TEST_DIR/vol\"}"
: >argv
: >api/requests
rm -rf .jobrun
run volume "$JOBRUN" run --runtime kubernetes --image runner:1 --run-id v1 job.yaml
is "$status" 0 "a run with the results volume: exit 0"
same=yes
for f in result.json triggers.json outputs.json logs/a.log artifacts/deep/blob.bin; do
	cmp -s "vol/$f" ".jobrun/$f" || same="no: $f"
done
is "$same" yes "result.json, triggers.json, outputs.json, logs/ and artifacts/ come back byte for byte"
is "$(readlink .jobrun/artifacts/inner-link)" "deep/blob.bin" "a link inside stays a link"
ok "[ ! -e .jobrun/src ]" "what is not a result (the checkout) stays on the claim"

# The same through the real packer: jobrun pack-results makes the log.
script "{\"log\": [\"v\"], \"results_dir\": \"$TEST_DIR/vol\", \"results_packer\": \"$JOBRUN\"}"
rm -rf .jobrun
run volume "$JOBRUN" run --runtime kubernetes --image runner:1 --run-id vp job.yaml
is "$status" 0 "packed by jobrun pack-results: exit 0"
same=yes
for f in result.json triggers.json outputs.json logs/a.log artifacts/deep/blob.bin; do
	cmp -s "vol/$f" ".jobrun/$f" || same="no: $f"
done
is "$same" yes "and every file comes back byte for byte"
is "$(readlink .jobrun/artifacts/inner-link)" "deep/blob.bin" "its link too"
ok "[ ! -e .jobrun/src ]" "and not the checkout"
grep '"POST", "path": "/apis/batch/v1/namespaces/ci/jobs"' api/requests >job-post
contains job-post '"persistentVolumeClaim": {"claimName": "ci-results"}' "the Job mounts the claim"
"$PYTHON3" -c 'import json, sys
job = json.loads(open(sys.argv[1]).readline())["body"]
print(job["spec"]["template"]["spec"]["containers"][0]["volumeMounts"][-1])' job-post >job-mount
contains job-mount "'mountPath': '/job', 'name': 'results', 'subPath': 'jobrun-v1'" "as the workspace, in the run's sub-directory"
grep '"POST", "path": "/api/v1/namespaces/ci/pods"' api/requests >collector-post
contains collector-post '"args": ["pack-results", "/job"]' "a collector pod packs the sub-directory"
contains collector-post '"automountServiceAccountToken": false' "without a service-account token"
"$PYTHON3" -c 'import json, sys
pod = json.loads(open(sys.argv[1]).readline())["body"]["spec"]
print(pod["containers"][0]["volumeMounts"], pod["volumes"])' collector-post >collector-mount
contains collector-mount "'mountPath': '/job', 'name': 'results', 'readOnly': True, 'subPath': 'jobrun-v1'" \
	"reading the run's sub-directory of the claim"
contains collector-mount "'persistentVolumeClaim': {'claimName': 'ci-results', 'readOnly': True}" \
	"read-only"
contains collector-post '"drop": ["ALL"]' "with the Job's capability set"
contains collector-post '"kind": "Job", "name": "jobrun-v1", "uid": ' "owned by the Job"
contains collector-post '"image": "runner:1"' "in the Job's image"
contains argv "logs jobrun-v1-results -c collect" "its log is read with kubectl logs"
is "$(grep -c '"DELETE", "path": "/api/v1/namespaces/ci/pods/jobrun-v1-results"' api/requests)" 2 \
	"the collector pod is deleted (once before it is made, once after)"
is "$(left v1)" "" "nothing is left behind"
lacks argv "ktok-0072" "no kubectl argument holds the secret"
lacks collector-post "ktok-0072" "nor the collector pod"
run volume "$JOBRUN" run --runtime kubernetes --image runner:1 --run-id vk --keep job.yaml
is "$status" 0 "--keep with the results volume: exit 0"
is "$(kubectl get pods -l app.kubernetes.io/component=results -o name)" "" \
	"--keep keeps the Job, not the collector pod"
kubectl delete jobs -l org.jobrun.run-id=vk >/dev/null

# A log cut short (the kubelet rotated it) or altered: refused, nothing
# unpacked, the termination summary's result.json stands.
for case in cut alter; do
	script "{\"log\": [\"v\"], \"results_dir\": \"$TEST_DIR/vol\", \"results_$case\": true}"
	rm -rf .jobrun
	run volume "$JOBRUN" run --runtime kubernetes --image runner:1 --run-id v-$case job.yaml
	is "$status" 125 "a $case collector log: 125"
	ok "[ ! -e .jobrun/triggers.json ] && [ ! -e .jobrun/logs/a.log ] && [ ! -e .jobrun/artifacts ]" \
		"a $case log: nothing of it is unpacked"
	contains .jobrun/result.json '"collected_from": "kubernetes termination message"' \
		"a $case log: result.json from the termination message stands"
	is "$(left v-$case)" "" "a $case log: nothing is left behind"
	cp err err-$case
done
contains err-cut "the results volume 'ci-results': the results archive is truncated" \
	"a cut log: said, naming the claim"
contains err-alter "the results archive is altered: its SHA-256 is not the one its trailer says" \
	"an altered log: said"

# A hostile archive: its climbing entries are not extracted.
script "{\"log\": [\"v\"], \"results_dir\": \"$TEST_DIR/vol\", \"results_hostile\": true}"
rm -rf .jobrun
run volume "$JOBRUN" run --runtime kubernetes --image runner:1 --run-id v-hostile job.yaml
is "$status" 0 "a hostile archive: the job's status"
contains err "3 unsafe entries in the results of 'jobrun-v-hostile' skipped" "its unsafe entries are skipped, said"
ok "[ ! -e evil-dotdot ] && [ ! -e .jobrun/evil-dotdot ] && [ ! -e /tmp/evil-absolute ] && [ ! -L .jobrun/artifacts/evil-link ]" \
	"no '..' path, absolute path or outward link is extracted"
ok "cmp -s vol/triggers.json .jobrun/triggers.json" "the safe entries are"

# A collector that fails: its message, 125.
script "{\"log\": [\"v\"], \"collector_exit\": 1}"
rm -rf .jobrun
run volume "$JOBRUN" run --runtime kubernetes --image runner:1 --run-id v-fail job.yaml
is "$status" 125 "a failed collector: 125"
contains err "the collector pod 'jobrun-v-fail-results' failed with status 1: jobrun: cannot pack" \
	"a failed collector: its status and last line"
run env JOBRUN_KUBE_RESULTS_VOLUME=Bad_Name "$JOBRUN" run --runtime kubernetes \
	--image runner:1 --run-id v-bad job.yaml
is "$status" 125 "a claim name that cannot be: 125"
contains err "JOBRUN_KUBE_RESULTS_VOLUME: 'Bad_Name' is not the name of a PersistentVolumeClaim" \
	"a bad claim name: said"

# ---- a pod that stays pending ----
script '{"pending": {"reason": "Unschedulable", "message": "0/1 nodes are available: 1 Insufficient cpu."}}'
rm -rf .jobrun
run env JOBRUN_KUBE_PENDING_TIMEOUT=1s "$JOBRUN" run --runtime kubernetes \
	--image runner:1 --run-id p1 job.yaml
is "$status" 125 "a pod pending past JOBRUN_KUBE_PENDING_TIMEOUT: 125"
contains err "the pod of 'jobrun-p1' was still pending after 1s (JOBRUN_KUBE_PENDING_TIMEOUT): Unschedulable: 0/1 nodes are available: 1 Insufficient cpu." \
	"the last reason and message: said"
contains .jobrun/result.json "Unschedulable" "the host's result.json names the reason"
is "$(left p1)" "" "the Job is deleted"
run env JOBRUN_KUBE_PENDING_TIMEOUT=soon "$JOBRUN" run --runtime kubernetes \
	--image runner:1 --run-id p2 job.yaml
is "$status" 125 "a pending timeout that is no duration: 125"
contains err "JOBRUN_KUBE_PENDING_TIMEOUT: 'soon'" "said"

# ---- the unpacking of results: a deadline, and the host's signals ----
mkdir stand
cp "$JOBRUN" stand/jobrun
printf '#!/bin/sh\necho $$ >%s/unpack.pid\nexec sleep 20\n' "$TEST_DIR" >stand/jobrun-source
chmod +x stand/jobrun-source
script "{\"log\": [\"v\"], \"results_dir\": \"$TEST_DIR/vol\"}"
run volume env JOBRUN_RESULTS_TIMEOUT=1 stand/jobrun run --runtime kubernetes \
	--image runner:1 --run-id u1 job.yaml
is "$status" 125 "jobrun-source that hangs while unpacking: 125 at the deadline"
contains err "timed out after 1s" "the deadline: said"
ok "! kill -0 \$(cat unpack.pid) 2>/dev/null" "the stand-in is killed"
is "$(left u1)" "" "and the run is removed"
round=0
for sig in TERM INT; do
	round=$((round + 1))
	rm -f unpack.pid
	# A background job ignores SIGINT unless it is given back.
	env JOBRUN_KUBE_RESULTS_VOLUME=ci-results "$PYTHON3" -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])' stand/jobrun run --runtime kubernetes \
		--image runner:1 --run-id us$round job.yaml >u.out 2>u.err &
	pid=$!
	n=0
	while [ ! -s unpack.pid ] && [ $n -lt 1200 ]; do
		sleep 0.05
		n=$((n + 1))
	done
	kill -$sig $pid
	wait $pid
	is "$?" 125 "SIG$sig while results are unpacked: 125, at once"
	contains u.err "cancelled by signal" "SIG$sig: the unpacking was cancelled, said"
	ok "! kill -0 \$(cat unpack.pid) 2>/dev/null" "SIG$sig: the stand-in is killed"
done
done_testing
