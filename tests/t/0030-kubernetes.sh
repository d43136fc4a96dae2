#!/bin/sh
# examples/kubernetes/manifest.yaml keeps the settings jobrun depends on
# when Kubernetes runs it: jobrun stays PID 1 (no command, no shared
# process namespace), the workspace, CI directory, secrets and /tmp are
# mounted where the job file and jobrun expect them, the secrets the job
# file registers come from the Secret volume, limits and deadlines are
# set and leave jobrun time to clean up, and the pod holds no privilege
# but what starting untrusted steps under another uid needs (the container
# suite runs such steps with that set).  The ConfigMap holds
# examples/kubernetes/job.yaml byte for byte.
. "$JOBRUN_SRCDIR/tests/lib.sh"

if ! "$PYTHON3" -c 'import yaml' 2>/dev/null; then
	echo "1..0 # SKIP python3-yaml not installed"
	exit 0
fi

DIR=$JOBRUN_SRCDIR/examples/kubernetes
"$PYTHON3" - "$DIR/manifest.yaml" "$DIR/job.yaml" >checks.out 2>&1 <<'PY'
# Prints one line per check: "ok DESCRIPTION" or "not ok DESCRIPTION: why".
import re
import sys

import yaml

manifest_path, job_path = sys.argv[1:3]
checks = []


def check(description, condition, why=""):
    checks.append((bool(condition), description, why))


def seconds(duration):
    """A jobrun duration (90s, 10m, 1h30m) in seconds."""
    units = {"h": 3600, "m": 60, "s": 1}
    parts = re.findall(r"(\d+)([hms])", duration)
    assert "".join(n + u for n, u in parts) == duration, duration
    return sum(int(n) * units[u] for n, u in parts)


def quantity(text):
    """A Kubernetes quantity (2, 500m, 1Gi, 512M) as a number."""
    factors = {"": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9,
               "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    number, suffix = re.fullmatch(r"([0-9.]+)([a-zA-Z]*)", str(text)).groups()
    return float(number) * factors[suffix]


def under(path, directory):
    return path == directory or path.startswith(directory.rstrip("/") + "/")


docs = [d for d in yaml.safe_load_all(open(manifest_path)) if d]
by_kind = {}
for d in docs:
    by_kind.setdefault(d["kind"], []).append(d)
check("the manifest holds a ConfigMap, a Secret, a claim and a Job",
      sorted(by_kind) == ["ConfigMap", "Job", "PersistentVolumeClaim",
                          "Secret"], sorted(by_kind))

job = by_kind["Job"][0]
spec = job["spec"]
pod = spec["template"]["spec"]
containers = pod["containers"]
c = containers[0]
env = {e["name"]: e.get("value") for e in c.get("env", [])}
mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
volumes = {v["name"]: v for v in pod.get("volumes", [])}
security = c.get("securityContext", {})
pod_security = pod.get("securityContext", {})

check("a batch/v1 Job with one container",
      job["apiVersion"] == "batch/v1" and len(containers) == 1)
check("the Job is not retried by Kubernetes (backoffLimit 0)",
      spec.get("backoffLimit") == 0)
check("restartPolicy Never", pod.get("restartPolicy") == "Never")

# jobrun is PID 1.
check("no command: the image's ENTRYPOINT, jobrun, stays PID 1",
      "command" not in c)
check("no shared process namespace (it would take PID 1)",
      not pod.get("shareProcessNamespace", False))
check("the image is the runner image",
      re.search(r"/jobrun:[^/]+$", c["image"]), c["image"])

# The job file.
args = c.get("args", [])
check("args: run JOBFILE", len(args) == 2 and args[0] == "run", args)
config_maps = {cm["metadata"]["name"]: cm for cm in by_kind["ConfigMap"]}
job_file_text = None
for path, m in mounts.items():
    v = volumes.get(m["name"], {})
    if "configMap" in v and len(args) == 2 and under(args[1], path):
        data = config_maps.get(v["configMap"]["name"], {}).get("data", {})
        job_file_text = data.get(args[1][len(path):].lstrip("/"))
        # jobrun closes /job/ci to run_as steps: a read-only mount
        # there fails the job.
        check("the job file's ConfigMap is mounted read-only, outside the "
              "workspace", m.get("readOnly") and not under(path, "/job"),
              path)
check("the job file comes from a ConfigMap of the manifest",
      job_file_text is not None)
check("that ConfigMap holds examples/kubernetes/job.yaml unchanged",
      job_file_text == open(job_path).read())
job_file = yaml.safe_load(job_file_text or "{}")

# The workspace and /tmp.
workspace = volumes.get(mounts.get("/job", {}).get("name"), {})
check("/job is an emptyDir or a claim of the manifest, writable",
      ("emptyDir" in workspace or
       workspace.get("persistentVolumeClaim", {}).get("claimName") in
       [p["metadata"]["name"] for p in by_kind["PersistentVolumeClaim"]])
      and not mounts.get("/job", {}).get("readOnly"), workspace)
check("/tmp is a writable emptyDir (the root is read-only)",
      "emptyDir" in volumes.get(mounts.get("/tmp", {}).get("name"), {}))

# Secrets: every file the job file registers is a key of a Secret volume.
secret_objects = {s["metadata"]["name"]: s for s in by_kind["Secret"]}
files = job_file.get("secrets", {}).get("files", [])
check("the job file registers secret files", files)
for f in files:
    found = False
    for path, m in mounts.items():
        v = volumes.get(m["name"], {})
        if "secret" in v and under(f, path):
            s = secret_objects.get(v["secret"]["secretName"], {})
            keys = set(s.get("data", {})) | set(s.get("stringData", {}))
            found = (f[len(path):].lstrip("/") in keys and m.get("readOnly")
                     and v["secret"].get("defaultMode", 0o644) & 0o077 == 0)
    check("secret file %s: a key of a Secret volume, read-only, mode "
          "without group or other bits" % f, found)

# Limits, deadlines, termination.
limits = c.get("resources", {}).get("limits", {})
requests = c.get("resources", {}).get("requests", {})
check("cpu and memory limits",
      "cpu" in limits and "memory" in limits, limits)
check("requests do not exceed limits",
      all(quantity(requests[k]) <= quantity(limits[k])
          for k in requests if k in limits), (requests, limits))
check("JOBRUN_JOBS is the CPU limit (jobrun sees the node's processors)",
      "JOBRUN_JOBS" in env and
      int(env["JOBRUN_JOBS"]) == int(quantity(limits.get("cpu", 0))),
      env.get("JOBRUN_JOBS"))
deadline = spec.get("activeDeadlineSeconds")
check("activeDeadlineSeconds is set", isinstance(deadline, int) and deadline > 0)
job_timeout = env.get("JOBRUN_TIMEOUT") or job_file.get("timeout")
check("jobrun's own timeout comes before activeDeadlineSeconds",
      job_timeout and deadline and seconds(job_timeout) < deadline,
      (job_timeout, deadline))
grace = seconds(env.get("JOBRUN_GRACE_PERIOD") or "10s")
check("terminationGracePeriodSeconds leaves jobrun its grace period and "
      "more for clean-up",
      pod.get("terminationGracePeriodSeconds", 30) > grace)
check("terminationMessagePath and FallbackToLogsOnError",
      c.get("terminationMessagePath") and
      c.get("terminationMessagePolicy") == "FallbackToLogsOnError")

# Privileges.
caps = security.get("capabilities", {})
check("not privileged, no privilege escalation",
      not security.get("privileged", False) and
      security.get("allowPrivilegeEscalation") is False)
check("every capability dropped",
      caps.get("drop") == ["ALL"], caps)
check("only those uid switching needs added back",
      set(caps.get("add", [])) <=
      {"SETUID", "SETGID", "KILL", "CHOWN", "DAC_READ_SEARCH"},
      caps.get("add"))
check("a read-only root file system",
      security.get("readOnlyRootFilesystem") is True)
check("the RuntimeDefault seccomp profile",
      (security.get("seccompProfile") or
       pod_security.get("seccompProfile") or {}).get("type") ==
      "RuntimeDefault")
check("no service account token in the pod",
      pod.get("automountServiceAccountToken") is False)

# Every mount names a volume, every volume is mounted.
check("mounts and volumes match",
      {m["name"] for m in mounts.values()} == set(volumes),
      ({m["name"] for m in mounts.values()}, set(volumes)))

for passed, description, why in checks:
    if passed:
        print("ok", description)
    else:
        print("not ok %s: %s" % (description, why))
PY
status=$?
n=$(grep -c '^ok\|^not ok' checks.out)
plan $((n + 2))
is "$status" 0 "the manifest parses"
while read -r verdict rest; do
	case $verdict in
	ok) ok true "$rest" ;;
	not) ok false "${rest#ok }" ;;
	esac
done <checks.out
sed -n '/^Traceback/,$p' checks.out | sed 's/^/# /'

sed -n '/^  job.yaml: |$/,/^---$/p' "$DIR/manifest.yaml" |
	sed '1d;$d; s/^    //' >embedded.yaml
run "$JOBRUN" validate embedded.yaml
is "$status" 0 "jobrun validate accepts the job file in the ConfigMap"
done_testing
