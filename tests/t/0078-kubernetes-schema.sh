#!/bin/sh
# The objects of "jobrun manifest" (and of --runtime kubernetes, which adds
# an owner annotation, labels and ownerReferences) against the Kubernetes
# API's schema, with the npm package kubernetes-models
# (tests/kube-schema.mjs).  Needs node and KUBERNETES_MODELS_DIR, a
# node_modules holding kubernetes-models (.ci/run installs it:
# npm install --prefix DIR kubernetes-models@5.1.0); skipped without.
# With kubectl, also the objects a run with a results volume sends (the
# Job mounting the claim, the collector pod) to the scripted API server.
. "$JOBRUN_SRCDIR/tests/lib.sh"

if ! command -v node >/dev/null || [ -z "${KUBERNETES_MODELS_DIR:-}" ] ||
	[ ! -d "${KUBERNETES_MODELS_DIR:-}/kubernetes-models" ]; then
	echo "1..0 # SKIP node or KUBERNETES_MODELS_DIR (kubernetes-models) is missing"
	exit 0
fi
plan 9

ln -s "$KUBERNETES_MODELS_DIR" node_modules
cp "$JOBRUN_SRCDIR/tests/kube-schema.mjs" .
cat >job.yaml <<'YAML'
name: kube
timeout: 10m
secrets: {env: [K_TOKEN]}
source: {type: git, url: https://example.org/app.git, ref: main}
container: {image: registry.example.org/jobrun:1, pull: always, resources: {cpus: 1.5, memory: 1g}}
steps: [{name: a, run: make}]
YAML
K_TOKEN=ktok-0078-secret-value
export K_TOKEN

run "$JOBRUN" manifest --run-id k1 job.yaml
is "$status" 0 "manifest: exit 0"
cp out manifest.json
run node kube-schema.mjs manifest.json
is "$status" 0 "the objects are valid Kubernetes objects"
is "$(cat out)" "$(printf 'valid Job\nvalid ConfigMap\nvalid Secret')" \
	"the Job, the ConfigMap and the Secret each"

# As --runtime kubernetes sends them: owner annotation, more labels, and
# the ConfigMap and Secret owned by the Job.
"$PYTHON3" - manifest.json >runtime.json <<'PY'
import json, sys
objects = json.load(open(sys.argv[1]))
for item in objects["items"]:
    meta = item["metadata"]
    meta["labels"]["org.jobrun.version"] = "1"
    meta["labels"]["org.jobrun.detached"] = "true"
    meta["annotations"] = {"org.jobrun.owner": "m:1:2"}
    if item["kind"] != "Job":
        meta["ownerReferences"] = [{"apiVersion": "batch/v1", "kind": "Job",
            "name": "jobrun-k1", "uid": "u-1", "blockOwnerDeletion": True}]
print(json.dumps(objects))
PY
run node kube-schema.mjs runtime.json
is "$status" 0 "as the runtime sends them: valid"

# The check can fail: a Job whose backoffLimit is not a number.
"$PYTHON3" -c '
import json, sys
o = json.load(open("manifest.json"))
o["items"][0]["spec"]["backoffLimit"] = "none"
json.dump(o, open("bad.json", "w"))'
run node kube-schema.mjs bad.json
is "$status" 1 "a broken Job is refused"
contains out "invalid Job: data/spec/backoffLimit must be integer" "and why"

# ---- the results volume's objects, as a run sends them ----
KUBECTL=$(command -v kubectl)
if [ -z "$KUBECTL" ]; then
	echo "ok 7 # SKIP kubectl is missing"
	echo "ok 8 # SKIP kubectl is missing"
	echo "ok 9 # SKIP kubectl is missing"
	exit 0
fi
mkdir api vol
echo '{}' >vol/result.json
"$PYTHON3" "$JOBRUN_SRCDIR/tests/helpers/kube-api.py" "$TEST_DIR/api" \
	2>api/server.log &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$TEST_DIR"' EXIT
n=0
while [ ! -s api/port ] && [ $n -lt 200 ]; do
	sleep 0.05
	n=$((n + 1))
done
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
printf '{"log": ["v"], "results_dir": "%s/vol"}\n' "$TEST_DIR" >api/script.json
run env KUBECONFIG="$TEST_DIR/kubeconfig" JOBRUN_KUBE_RESULTS_VOLUME=ci-results \
	"$JOBRUN" run --runtime kubernetes --run-id k2 job.yaml
is "$status" 0 "a run with the results volume"
"$PYTHON3" - api/requests >volume.json <<'PY'
import json, sys
items = []
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["method"] == "POST" and r["body"]["kind"] in ("Job", "Pod"):
        items.append(r["body"])
print(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
PY
run node kube-schema.mjs volume.json
is "$status" 0 "the Job with the claim and the collector pod are valid"
is "$(cat out)" "$(printf 'valid Job\nvalid Pod')" "both of them"
done_testing

