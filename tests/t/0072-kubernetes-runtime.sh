#!/bin/sh
# jobrun run --runtime kubernetes against a scripted API server
# (tests/helpers/kube-api.py) through the real kubectl, wrapped by a script
# on PATH that logs every argv: a job's exit status, output and result come
# back; a log broken mid-stream is resumed without loss or repeat; a second
# run with the same run id attaches; ps, stop and gc; an OOM kill, an image
# that cannot be pulled, an API that does not answer and a local source each
# give a clear message and 125; the Secret's value is in the Secret object
# alone, never in an argument of kubectl, and nothing is left behind.
. "$JOBRUN_SRCDIR/tests/lib.sh"

KUBECTL=$(command -v kubectl)
if [ -z "$KUBECTL" ] || ! "$PYTHON3" -c 'import http.server' 2>/dev/null; then
	echo "1..0 # SKIP kubectl or python3 is missing"
	exit 0
fi
plan 56

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
done_testing
