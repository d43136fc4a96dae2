#!/usr/bin/env python3
"""A scripted Kubernetes API server for the tests of the kubernetes runtime.

Enough of the API for kubectl 1.32: discovery, create, get, list by label
selector, merge patch and delete of configmaps, secrets, jobs and pods, and
pods/log (follow, timestamps, sinceTime).  It plays the Job controller and
the kubelet in the simplest way that keeps the tests free of timing: when a
Job is resumed (spec.suspend false) one pod appears, running; it ends when
its whole log has been read by a follower (or at once when nothing
follows), with the scripted exit status and termination message.  Deleting
a pod ends it as a job ending on SIGTERM would (143), then removes it; the
Job's Failed condition says the exit code as the Job controller does.

Usage: kube-api.py DIR.  Writes DIR/port once listening on 127.0.0.1, logs
every request to DIR/requests (one JSON object a line: method, path, query,
body), answers nothing while DIR/stall exists, and reads DIR/script.json,
if there, at each pod's start:
  exit_code     the job's status (0)
  log           the lines the job prints (["hello"])
  oom           the container is OOM-killed (137, reason OOMKilled); no
                termination message unless message is given
  image_error   the pod never starts: waiting with this reason
  hang          the pod runs until it is deleted, its log open
  break_after   the first follow of the log breaks after this many lines
  message       the termination message (default: a summary as jobrun
                writes it, from exit_code)
  pending       the pod is never scheduled: Pending, its PodScheduled
                condition False with this reason and message
                ({"reason": ..., "message": ...})
and, for a collector pod (one whose container runs "pack-results": the
results volume), which ends at once with its log as jobrun pack-results
writes it:
  results_dir   the directory of this machine it packs (the claim's
                sub-directory)
  results_packer  a jobrun whose "pack-results" makes the log, instead of
                this script's own tar (the real format, end to end)
  results_hostile  entries that climb out are added to the archive
  results_cut   the log loses its trailer and last lines (rotated)
  results_alter one character of the base64 is changed
  collector_exit  the collector's exit status (0), with a message
"""
import base64
import hashlib
import io
import tarfile
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

DIR = sys.argv[1]
LOCK = threading.Condition()
# (plural, namespace, name) -> object
OBJECTS = {}
# pod name -> its script and log bookkeeping
PODS = {}

RESOURCES = {
    "configmaps": ("v1", "ConfigMap", True),
    "secrets": ("v1", "Secret", True),
    "pods": ("v1", "Pod", True),
    "namespaces": ("v1", "Namespace", False),
    "jobs": ("batch/v1", "Job", True),
}


def now_text():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def log_request(method, path, query, body):
    with open(os.path.join(DIR, "requests"), "a") as f:
        f.write(json.dumps({"method": method, "path": path, "query": query,
                            "body": body}) + "\n")


def script():
    try:
        with open(os.path.join(DIR, "script.json")) as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


def api_resources(group_version):
    out = []
    for plural, (gv, kind, namespaced) in RESOURCES.items():
        if gv != group_version:
            continue
        out.append({"name": plural, "singularName": kind.lower(),
                    "namespaced": namespaced, "kind": kind,
                    "verbs": ["create", "delete", "deletecollection", "get",
                              "list", "patch", "update", "watch"]})
        if plural == "pods":
            out.append({"name": "pods/log", "singularName": "",
                        "namespaced": True, "kind": "Pod", "verbs": ["get"]})
    return {"kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": group_version, "resources": out}


def status(code, reason, message, details=None):
    return code, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                  "status": "Failure", "message": message, "reason": reason,
                  "details": details or {}, "code": code}


def matches(obj, selector):
    labels = obj.get("metadata", {}).get("labels") or {}
    for term in filter(None, (selector or "").split(",")):
        if "!=" in term:
            k, v = term.split("!=", 1)
            if labels.get(k) == v:
                return False
        elif "=" in term:
            k, v = term.split("=", 1)
            if labels.get(k.rstrip("=")) != v:
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


def pack_results(s):
    """The collector's log: the framing of jobrun pack-results."""
    if s.get("results_packer"):
        out = subprocess.run([s["results_packer"], "pack-results",
                              s["results_dir"]], stdout=subprocess.PIPE,
                             check=True).stdout
        return out.decode().splitlines()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        root = s.get("results_dir")
        if root:
            for name in sorted(os.listdir(root)):
                tar.add(os.path.join(root, name), arcname=name)
        if s.get("results_hostile"):
            for name in ("artifacts/../../evil-dotdot", "/tmp/evil-absolute"):
                info = tarfile.TarInfo(name)
                info.size = 5
                tar.addfile(info, io.BytesIO(b"evil\n"))
            link = tarfile.TarInfo("artifacts/evil-link")
            link.type = tarfile.SYMTYPE
            link.linkname = "../../.."
            tar.addfile(link)
    data = buf.getvalue()
    text = base64.b64encode(data).decode()
    lines = ["jobrun-results 1"] + [text[i:i + 76]
                                    for i in range(0, len(text), 76)]
    if s.get("results_alter"):
        line = lines[2]
        lines[2] = ("B" if line[0] != "B" else "C") + line[1:]
    lines.append("jobrun-results-end %d %s"
                 % (len(data), hashlib.sha256(data).hexdigest()))
    if s.get("results_cut"):
        lines = lines[:len(lines) // 2]
    if s.get("collector_exit"):
        lines = ["jobrun: cannot pack the results of '/job': no such "
                 "directory"]
    return lines


def start_collector(pod):
    """A collector pod runs at once and ends."""
    s = script()
    meta = pod["metadata"]
    container = pod["spec"]["containers"][0]
    code = s.get("collector_exit", 0)
    pod["status"] = {"phase": "Succeeded" if code == 0 else "Failed",
                     "containerStatuses": [
                         {"name": container["name"],
                          "image": container["image"],
                          "state": {"terminated": {
                              "exitCode": code,
                              "reason": "Completed" if code == 0
                              else "Error",
                              "startedAt": now_text(),
                              "finishedAt": now_text()}}}]}
    base = time.time()
    PODS[meta["name"]] = {"script": {}, "job": None, "follows": 0,
                          "lines": [(base + i * 1e-6, line) for i, line
                                    in enumerate(pack_results(s))]}


def start_pod(job):
    """The Job controller: one pod for a resumed Job."""
    s = script()
    meta = job["metadata"]
    name = meta["name"] + "-" + uuid.uuid4().hex[:5]
    template = job["spec"]["template"]
    labels = dict(template.get("metadata", {}).get("labels") or {})
    labels["job-name"] = meta["name"]
    labels["batch.kubernetes.io/job-name"] = meta["name"]
    labels["controller-uid"] = meta["uid"]
    container = template["spec"]["containers"][0]
    conditions = []
    if s.get("pending"):
        cstate = None
        phase = "Pending"
        conditions = [{"type": "PodScheduled", "status": "False",
                       "reason": s["pending"]["reason"],
                       "message": s["pending"]["message"]}]
    elif s.get("image_error"):
        cstate = {"waiting": {"reason": s["image_error"],
                              "message": "Back-off pulling image \"%s\""
                              % container["image"]}}
        phase = "Pending"
    else:
        cstate = {"running": {"startedAt": now_text()}}
        phase = "Running"
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "namespace": meta["namespace"],
                        "uid": str(uuid.uuid4()), "labels": labels,
                        "creationTimestamp": now_text(),
                        "ownerReferences": [{"apiVersion": "batch/v1",
                                             "kind": "Job",
                                             "name": meta["name"],
                                             "uid": meta["uid"],
                                             "controller": True}]},
           "spec": template["spec"],
           "status": {"phase": phase, "conditions": conditions,
                      "containerStatuses": [
                          {"name": container["name"],
                           "image": container["image"],
                           "state": cstate, "ready": phase == "Running"}]
                      if cstate is not None else []}}
    OBJECTS[("pods", meta["namespace"], name)] = pod
    base = time.time()
    # Lines a microsecond apart: a resume by sinceTime (whole seconds)
    # gets some of them again, which the follower must drop.
    PODS[name] = {"script": s, "job": (meta["namespace"], meta["name"]),
                  "lines": [(base + i * 1e-6, line) for i, line
                            in enumerate(s.get("log", ["hello"]))],
                  "follows": 0}
    if phase == "Running" and not s.get("hang") and \
            not s.get("log", ["hello"]):
        end_pod(pod, None)


def summary(s, code):
    if "message" in s:
        return s["message"]
    outcome = "success" if code == 0 else "failure"
    return json.dumps({"jobrun": 1, "job": "k8s", "outcome": outcome,
                       "exit_status": code, "steps": 1,
                       "step_outcomes": {outcome: 1}})


def end_pod(pod, signalled):
    """The kubelet: the container ends; the Job controller: the Job too."""
    info = PODS[pod["metadata"]["name"]]
    s = info["script"]
    code = s.get("exit_code", 0)
    term = {"exitCode": code, "reason": "Completed" if code == 0 else "Error",
            "startedAt": now_text(), "finishedAt": now_text()}
    if s.get("oom"):
        term.update(exitCode=137, reason="OOMKilled")
    elif signalled:
        term.update(exitCode=signalled, reason="Error")
    if not s.get("oom") or "message" in s:
        term["message"] = summary(s, term["exitCode"])
    pod["status"]["phase"] = "Succeeded" if term["exitCode"] == 0 else "Failed"
    pod["status"]["containerStatuses"][0]["state"] = {"terminated": term}
    job = OBJECTS.get(("jobs",) + info["job"])
    if job is not None:
        ok = term["exitCode"] == 0
        cond = {"type": "Complete" if ok else "Failed", "status": "True",
                "lastTransitionTime": now_text()}
        if not ok:
            # The Job controller's words when the podFailurePolicy fails
            # the Job.
            cond.update(reason="PodFailurePolicy", message=(
                "Container %s for pod %s/%s failed with exit code %d "
                "matching FailJob rule at index 1" % (
                    KUBE_CONTAINER, pod["metadata"]["namespace"],
                    pod["metadata"]["name"], term["exitCode"])))
        job["status"] = {"conditions": [cond],
                         "succeeded" if ok else "failed": 1}
    LOCK.notify_all()


KUBE_CONTAINER = "jobrun"


def merge(target, patch):
    for k, v in patch.items():
        if v is None:
            target.pop(k, None)
        elif isinstance(v, dict) and isinstance(target.get(k), dict):
            merge(target[k], v)
        else:
            target[k] = v


def stamp(ts):
    return datetime.fromtimestamp(ts, timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%f") + "000Z"


def parse_since(text):
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=timezone.utc).timestamp()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_json(self, code, obj):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(n) or b"null")

    def handle_any(self, method):
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        body = self.body()
        log_request(method, url.path, query, body)
        if os.path.exists(os.path.join(DIR, "stall")):
            # A server that accepts and never answers.
            while os.path.exists(os.path.join(DIR, "stall")):
                time.sleep(0.1)
            self.close_connection = True
            return
        parts = [p for p in url.path.split("/") if p]
        if method == "GET" and parts[-1:] == ["log"]:
            return self.logs(parts, query)
        with LOCK:
            code, obj = self.route(method, parts, query, body)
        self.send_json(code, obj)

    def route(self, method, parts, query, body):
        if parts == ["version"]:
            return 200, {"major": "1", "minor": "32", "gitVersion": "v1.32.0",
                         "platform": "linux/amd64"}
        if parts == ["api"]:
            return 200, {"kind": "APIVersions", "versions": ["v1"],
                         "serverAddressByClientCIDRs": []}
        if parts == ["apis"]:
            return 200, {"kind": "APIGroupList", "apiVersion": "v1",
                         "groups": [{"name": "batch", "versions": [
                             {"groupVersion": "batch/v1", "version": "v1"}],
                             "preferredVersion": {
                                 "groupVersion": "batch/v1",
                                 "version": "v1"}}]}
        if parts == ["api", "v1"]:
            return 200, api_resources("v1")
        if parts == ["apis", "batch", "v1"]:
            return 200, api_resources("batch/v1")
        if parts[:2] == ["api", "v1"]:
            rest, gv = parts[2:], "v1"
        elif parts[:3] == ["apis", "batch", "v1"]:
            rest, gv = parts[3:], "batch/v1"
        else:
            return status(404, "NotFound", "the server could not find the "
                          "requested resource")
        namespace = None
        if rest[:1] == ["namespaces"] and len(rest) >= 3:
            namespace, rest = rest[1], rest[2:]
        plural = rest[0]
        name = rest[1] if len(rest) > 1 else None
        if plural not in RESOURCES or RESOURCES[plural][0] != gv:
            return status(404, "NotFound", "the server could not find the "
                          "requested resource")
        if name is None and method == "GET":
            items = [o for (p, ns, n), o in sorted(OBJECTS.items())
                     if p == plural and namespace in (None, ns)
                     and matches(o, query.get("labelSelector"))]
            return 200, {"kind": RESOURCES[plural][1] + "List",
                         "apiVersion": gv, "metadata": {},
                         "items": items}
        if method == "POST":
            return self.create(plural, namespace, body)
        key = (plural, namespace, name)
        obj = OBJECTS.get(key)
        if obj is None:
            return status(404, "NotFound", '%s "%s" not found'
                          % (plural, name), {"name": name, "kind": plural})
        if method == "GET":
            return 200, obj
        if method == "PATCH":
            was_suspended = obj["spec"].get("suspend")
            merge(obj, body)
            if plural == "jobs" and was_suspended and \
                    not obj["spec"].get("suspend"):
                start_pod(obj)
            return 200, obj
        if method == "DELETE":
            return self.delete(key, obj, query)
        return status(405, "MethodNotAllowed", "not allowed")

    def create(self, plural, namespace, body):
        meta = body.setdefault("metadata", {})
        key = (plural, namespace, meta.get("name"))
        if key in OBJECTS or (plural == "jobs" and script().get(
                "already_exists")):
            return status(409, "AlreadyExists", '%s "%s" already exists'
                          % (plural, meta.get("name")),
                          {"name": meta.get("name"), "kind": plural})
        meta.update(namespace=namespace, uid=str(uuid.uuid4()),
                    creationTimestamp=now_text(), resourceVersion="1")
        OBJECTS[key] = body
        if plural == "pods" and "pack-results" in \
                (body["spec"]["containers"][0].get("args") or []):
            start_collector(body)
        if plural == "jobs" and not body["spec"].get("suspend"):
            start_pod(body)
        return 201, body

    def delete(self, key, obj, query):
        plural, namespace, name = key
        statuses = obj.get("status", {}).get("containerStatuses")
        if plural == "pods" and name in PODS and statuses and \
                PODS[name]["job"] is not None:
            state = statuses[0]["state"]
            if "terminated" not in state:
                # The kubelet's SIGTERM: jobrun ends 143; then the pod is
                # removed, as a cluster does once the Job controller has
                # counted it: its status (and summary) goes with it.
                end_pod(obj, 143)
        del OBJECTS[key]
        if plural == "jobs":
            for k, o in list(OBJECTS.items()):
                refs = o["metadata"].get("ownerReferences") or []
                if any(r.get("uid") == obj["metadata"]["uid"] for r in refs):
                    del OBJECTS[k]
        LOCK.notify_all()
        return 200, {"kind": "Status", "apiVersion": "v1",
                     "status": "Success", "details": {"name": name}}

    def logs(self, parts, query):
        namespace, name = parts[3], parts[5]
        with LOCK:
            pod = OBJECTS.get(("pods", namespace, name))
            info = PODS.get(name)
            if pod is None or info is None:
                code, obj = status(404, "NotFound",
                                   'pods "%s" not found' % name)
                return self.send_json(code, obj)
            statuses = pod["status"].get("containerStatuses") or [{}]
            state = statuses[0].get("state") or {"waiting": {
                "reason": "Pending"}}
            if "waiting" in state:
                code, obj = status(400, "BadRequest", 'container "jobrun" '
                                   'in pod "%s" is waiting to start: %s'
                                   % (name, state["waiting"]["reason"]))
                return self.send_json(code, obj)
            follow = query.get("follow") == "true"
            since = parse_since(query["sinceTime"]) \
                if "sinceTime" in query else 0
            lines = [(t, line) for t, line in info["lines"] if t >= since]
            info["follows"] += follow
            first_follow = follow and info["follows"] == 1
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        cut = info["script"].get("break_after") if first_follow else None
        for i, (t, line) in enumerate(lines):
            if cut is not None and i == cut:
                # The connection drops mid-stream.
                self.close_connection = True
                return
            text = (stamp(t) + " " if query.get("timestamps") == "true"
                    else "") + line + "\n"
            self.chunk(text.encode())
        if follow:
            with LOCK:
                if info["script"].get("hang"):
                    while "terminated" not in \
                            pod["status"]["containerStatuses"][0]["state"]:
                        LOCK.wait(1)
                elif "terminated" not in \
                        pod["status"]["containerStatuses"][0]["state"]:
                    end_pod(pod, None)
        self.chunk(b"")

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PATCH(self):
        self.handle_any("PATCH")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_DELETE(self):
        self.handle_any("DELETE")


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    with open(os.path.join(DIR, "port.tmp"), "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(os.path.join(DIR, "port.tmp"), os.path.join(DIR, "port"))
    server.serve_forever()


if __name__ == "__main__":
    main()
