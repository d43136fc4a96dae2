#!/bin/sh
# jobrun manifest: the Kubernetes objects of a run, against a golden file
# (tests/golden/manifest.json); the job's secret only in the Secret; the
# bundle it carries read by a jobrun as a pod would (JOBRUN_BUNDLE=PATH);
# a local source refused.
. "$JOBRUN_SRCDIR/tests/lib.sh"
plan 26

cat >job.yaml <<'YAML'
name: kube
timeout: 10m
secrets: {env: [K_TOKEN]}
source: {type: git, url: https://example.org/app.git, ref: main}
container: {image: registry.example.org/jobrun:1, pull: always, resources: {cpus: 1.5, memory: 1g}}
steps: [{name: a, run: make}]
YAML
K_TOKEN=ktok-0071-secret
export K_TOKEN
version=$("$JOBRUN" --version | sed -n '1s/^jobrun //p')

run "$JOBRUN" manifest --run-id k1 job.yaml
is "$status" 0 "manifest: exit 0"
sed "s/\"$version\"/\"@VERSION@\"/" out >got.json
ok "diff -u '$JOBRUN_SRCDIR/tests/golden/manifest.json' got.json >diff.out" \
	"the objects are the golden ones"
[ -s diff.out ] && sed 's/^/# /' diff.out | head -40

"$PYTHON3" - out >split.out <<'PY'
import json, sys
items = json.load(open(sys.argv[1]))["items"]
kinds = {i["kind"]: i for i in items}
print("kinds", " ".join(sorted(kinds)))
for k, i in kinds.items():
    open(k + ".json", "w").write(json.dumps(i))
open("bundle", "w").write(kinds["Secret"]["stringData"]["bundle"])
PY
contains split.out "kinds ConfigMap Job Secret" "a ConfigMap, a Job and a Secret"
contains Secret.json "ktok-0071-secret" "the Secret holds the secret value"
ok "! grep -q ktok Job.json ConfigMap.json" "the Job and the ConfigMap do not"

# The pod's jobrun reads the bundle from the Secret's file.
cat >pod.yaml <<'YAML'
secrets: {env: [K_TOKEN]}
steps: [{name: s, run: 'echo "token: $K_TOKEN"'}]
YAML
env -u K_TOKEN JOBRUN_BUNDLE="$TEST_DIR/bundle" "$JOBRUN" run --local \
	pod.yaml >pod.out 2>&1
is "$?" 0 "a jobrun given the bundle's file runs"
contains pod.out "token: ***" "its secret is set and masked"

# Flags of run are the pod's jobrun's; a URL with a token and the other
# flags that may hold a secret go in the Secret, host paths nowhere.
run "$JOBRUN" manifest --run-id k2 --timeout 1h --source-ref v2 -j 3 \
	--workspace "$TEST_DIR/ws" \
	--source-url https://ci:flagtok-0071-secret@example.org/app.git job.yaml
is "$status" 0 "manifest with flags of run: exit 0"
"$PYTHON3" - out >flags.out <<'PY'
import json, sys
items = {i["kind"]: i for i in json.load(open(sys.argv[1]))["items"]}
c = items["Job"]["spec"]["template"]["spec"]["containers"][0]
print("args", " ".join(c["args"]))
for k, i in sorted(items.items()):
    print(k, "holds the token" if "flagtok" in json.dumps(i) else "clean")
PY
contains flags.out "args run --no-local --timeout 1h --source-ref v2 -j 3 /etc/jobrun/job.yaml" \
	"they are the pod's arguments, without the host's workspace or the URL"
contains flags.out "Secret holds the token" "the URL with its token is in the Secret"
contains flags.out "Job clean" "and not in the Job"

# A switch crosses alone; a job command (a token may be written into it)
# goes in the Secret; a job env file travels in the bundle, at its path.
printf 'FROM_FILE=job-env-file-0071\n' >vars.env
run "$JOBRUN" manifest --run-id k3 --timestamps \
	--job-command 'deploy --token cmdtok-0071-secret' --job-env vars.env job.yaml
is "$status" 0 "manifest with a switch, a job command and a job env file: exit 0"
"$PYTHON3" - out >flags3.out <<'PY'
import json, sys
items = {i["kind"]: i for i in json.load(open(sys.argv[1]))["items"]}
c = items["Job"]["spec"]["template"]["spec"]["containers"][0]
print("args", " ".join(c["args"]))
for k, i in sorted(items.items()):
    s = json.dumps(i)
    print(k, "cmd" if "cmdtok" in s else "-", "file" if "job-env-file-0071" in s else "-")
PY
contains flags3.out "args run --no-local --timestamps /etc/jobrun/job.yaml" \
	"the switch crosses without a value"
contains flags3.out "Job - -" "the Job holds neither the job command nor the file"
contains flags3.out "Secret cmd file" "the Secret holds both"

run "$JOBRUN" manifest --run-id k4 --triggers-file "$TEST_DIR/t.json" job.yaml
is "$status" 125 "--triggers-file for a run in a container: 125"
contains err "which a run in a container cannot write" "saying why"
JOBRUN_TRIGGERS_FILE=$TEST_DIR/t.json run "$JOBRUN" manifest --run-id k4 job.yaml
is "$status" 125 "JOBRUN_TRIGGERS_FILE for a run in a container: 125 too"

# Files of secrets named by a relative path travel at their absolute path,
# which the settings name inside; no relative path crosses.
printf 'vl-secret-0071-values\n' >values.txt
printf 'SF=sf-secret-0071-file\n' >sf.env
run "$JOBRUN" manifest --run-id k5 --secret-values-list values.txt \
	--secrets-file sf.env job.yaml
is "$status" 0 "manifest with relative secrets files: exit 0"
"$PYTHON3" - out "$(realpath values.txt)" "$(realpath sf.env)" >bundle5.out <<'PY'
import json, sys
items = {i["kind"]: i for i in json.load(open(sys.argv[1]))["items"]}
c = items["Job"]["spec"]["template"]["spec"]["containers"][0]
print("args", " ".join(c["args"]))
b = items["Secret"]["stringData"]["bundle"]
print("values", "abs" if sys.argv[2] in b and "vl-secret-0071-values" in b else "missing")
print("file", "abs" if sys.argv[3] in b and "sf-secret-0071-file" in b else "missing")
PY
contains bundle5.out "args run --no-local /etc/jobrun/job.yaml" "no file flag crosses as an argument"
contains bundle5.out "values abs" "the values file is in the Secret at its absolute path"
contains bundle5.out "file abs" "so is the secrets file"

# A secrets file that is no UTF-8 text cannot travel in the bundle (JSON):
# the run is refused, not sent without it.
printf 'vl-secret-0071-bin\n\377\376\n' >bin.txt
run "$JOBRUN" manifest --run-id k7 --secret-values-list "$TEST_DIR/bin.txt" job.yaml
is "$status" 125 "a secrets file that is not UTF-8: 125"
contains err "is not UTF-8 text" "saying why"

cat >local.yaml <<'YAML'
steps: [{name: a, run: make}]
YAML
run "$JOBRUN" manifest --image img local.yaml
is "$status" 125 "a local source: 125"
contains err "a Kubernetes pod cannot see" "a local source: said why"

done_testing
