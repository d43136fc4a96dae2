/*
 * What the Kubernetes backend makes of kubectl's output, and the small
 * changes it makes to the manifest's objects (runtime-kube.h): pure
 * functions over text and JSON, so that the unit tests walk them without
 * kubectl or a cluster.
 *
 * The state of an instance, from its Job and its pod:
 *   Job                     pod                         state
 *   absent                  -                           absent
 *   spec.suspend true       -                           created
 *   Complete/Failed         terminated (exitCode)       exited
 *   not finished            terminated                  exited
 *   not finished            none, waiting, running      running
 */
#include "config.h"

#include <nettle/base64.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "results-unpack.h"
#include "runtime-kube.h"
#include "xalloc.h"

void
kube_status_release(struct kube_status *s)
{
	runtime_instance_release(&s->inst);
	free(s->pod);
	free(s->waiting);
	free(s->message);
	free(s->failed);
	s->pod = s->waiting = s->message = s->failed = NULL;
}

void
kube_statuses_free(struct kube_status *list, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		kube_status_release(&list[i]);
	free(list);
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/* "2026-12-03T21:09:00Z" (fractions allowed): seconds since the epoch,
 * 0 when it is not such a time. */
static int64_t
parse_time(const char *text)
{
	struct tm tm = { 0 };
	const char *end;

	if (text == NULL ||
	    (end = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return 0;
	return (int64_t)timegm(&tm);
}

/* The string at path, "a/b/c" (keys without '/'), or NULL. */
static const char *
str_at(json_t *obj, const char *path)
{
	json_t *v = obj;
	char key[128];

	while (v != NULL && *path != '\0') {
		size_t n = strcspn(path, "/");

		snprintf(key, sizeof(key), "%.*s", (int)n, path);
		v = json_object_get(v, key);
		path += n + (path[n] == '/');
	}
	return json_string_value(v);
}

/* The value of the label key (which may hold a '/') of obj, or NULL. */
static const char *
label(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(
	    json_object_get(json_object_get(obj, "metadata"), "labels"), key));
}

/*
 * The exit code in the Job controller's message when its podFailurePolicy
 * failed the Job ("Container jobrun for pod NS/NAME failed with exit code
 * 143 matching FailJob rule at index 1"), or -1: the pod itself may be
 * gone by the time it is asked for.
 */
static int
failure_policy_exit(const char *message)
{
	static const char container[] = "Container " KUBE_CONTAINER " for pod ";
	static const char code[] = " failed with exit code ";
	const char *p;
	char *end;
	long n;

	if (message == NULL ||
	    strncmp(message, container, sizeof(container) - 1) != 0 ||
	    (p = strstr(message, code)) == NULL)
		return -1;
	n = strtol(p + sizeof(code) - 1, &end, 10);
	if (end == p + sizeof(code) - 1 || *end != ' ' || n < 0 || n > 255)
		return -1;
	return (int)n;
}

/* The Job's own facts: name, labels, owner, created or finished. */
static void
read_job(struct kube_status *s, json_t *job)
{
	json_t *labels =
	    json_object_get(json_object_get(job, "metadata"), "labels");
	json_t *spec = json_object_get(job, "spec");
	json_t *cond;
	size_t i;

	s->inst.name = dup_or_null(str_at(job, "metadata/name"));
	s->inst.run_id = dup_or_null(
	    json_string_value(json_object_get(labels, RUNTIME_LABEL_RUN_ID)));
	s->inst.job = dup_or_null(
	    json_string_value(json_object_get(labels, RUNTIME_LABEL_JOB)));
	s->inst.version = dup_or_null(
	    json_string_value(json_object_get(labels, RUNTIME_LABEL_VERSION)));
	s->inst.owner = dup_or_null(
	    str_at(job, "metadata/annotations/" RUNTIME_LABEL_OWNER));
	s->inst.detached =
	    json_is_string(json_object_get(labels, RUNTIME_LABEL_DETACHED)) &&
	    strcmp(json_string_value(
		       json_object_get(labels, RUNTIME_LABEL_DETACHED)),
		"true") == 0;
	s->inst.created_at =
	    parse_time(str_at(job, "metadata/creationTimestamp"));
	s->inst.state = json_is_true(json_object_get(spec, "suspend"))
	    ? RUNTIME_CREATED
	    : RUNTIME_RUNNING;
	json_array_foreach(
	    json_object_get(json_object_get(job, "status"), "conditions"), i,
	    cond)
	{
		const char *type = str_at(cond, "type");

		if (type == NULL ||
		    strcmp(str_at(cond, "status") != NULL
			    ? str_at(cond, "status")
			    : "",
			"True") != 0)
			continue;
		if (strcmp(type, "Complete") == 0 ||
		    strcmp(type, "Failed") == 0) {
			s->inst.state = RUNTIME_EXITED;
			s->inst.exit_code =
			    strcmp(type, "Complete") == 0 ? 0 : -1;
			s->inst.finished_at =
			    parse_time(str_at(cond, "lastTransitionTime"));
			if (s->inst.exit_code < 0)
				s->inst.exit_code = failure_policy_exit(
				    str_at(cond, "message"));
			if (s->inst.exit_code < 0)
				s->failed = xasprintf("%s: %s",
				    str_at(cond, "reason") != NULL
					? str_at(cond, "reason")
					: "Failed",
				    str_at(cond, "message") != NULL
					? str_at(cond, "message")
					: "the Job failed");
		}
	}
}

/* A pod still Pending before its container has a state (unscheduled,
 * say): the condition that holds it back as the waiting reason, or
 * "Pending". */
static void
read_pending(struct kube_status *s, json_t *pod)
{
	const char *phase = str_at(pod, "status/phase");
	json_t *cond;
	size_t i;

	if (phase == NULL || strcmp(phase, "Pending") != 0)
		return;
	json_array_foreach(
	    json_object_get(json_object_get(pod, "status"), "conditions"), i,
	    cond)
	{
		const char *status = str_at(cond, "status");

		if (status != NULL && strcmp(status, "False") == 0 &&
		    str_at(cond, "reason") != NULL) {
			s->waiting = xstrdup(str_at(cond, "reason"));
			free(s->message);
			s->message = dup_or_null(str_at(cond, "message"));
			return;
		}
	}
	s->waiting = xstrdup("Pending");
}

/* The pod's container: waiting, or ended with a status. */
static void
read_pod(struct kube_status *s, json_t *pod)
{
	json_t *statuses = json_object_get(
	    json_object_get(pod, "status"), "containerStatuses");
	json_t *cs, *state;
	size_t i;

	free(s->pod);
	s->pod = dup_or_null(str_at(pod, "metadata/name"));
	json_array_foreach(statuses, i, cs)
	{
		const char *name = str_at(cs, "name");

		if (name == NULL || strcmp(name, KUBE_CONTAINER) != 0)
			continue;
		state = json_object_get(cs, "state");
		if (json_object_get(state, "waiting") != NULL) {
			s->waiting =
			    dup_or_null(str_at(state, "waiting/reason"));
			s->message =
			    dup_or_null(str_at(state, "waiting/message"));
		}
		if (json_object_get(state, "terminated") != NULL) {
			json_t *t = json_object_get(state, "terminated");
			const char *reason = str_at(t, "reason");

			s->inst.state = RUNTIME_EXITED;
			s->inst.exit_code = (int)json_integer_value(
			    json_object_get(t, "exitCode"));
			s->inst.oom_killed =
			    reason != NULL && strcmp(reason, "OOMKilled") == 0;
			s->inst.finished_at =
			    parse_time(str_at(t, "finishedAt"));
			s->message = dup_or_null(str_at(t, "message"));
			free(s->failed);
			s->failed = NULL;
		}
	}
	if (s->waiting == NULL && s->inst.state != RUNTIME_EXITED)
		read_pending(s, pod);
}

int
kube_parse_list(
    struct kube_status **out, size_t *out_count, const char *json, char **error)
{
	json_error_t jerr;
	json_t *root = json_loads(json, 0, &jerr), *item;
	struct kube_status *list = NULL;
	size_t i, j, n = 0, cap = 0;

	if (!json_is_array(json_object_get(root, "items"))) {
		*error = xasprintf("kubectl printed no list: %s",
		    root == NULL ? jerr.text : "no items");
		json_decref(root);
		return -1;
	}
	json_array_foreach(json_object_get(root, "items"), i, item)
	{
		const char *kind = str_at(item, "kind");

		if (kind == NULL || strcmp(kind, "Job") != 0 ||
		    label(item, RUNTIME_LABEL_RUN_ID) == NULL)
			continue;
		xgrow(&list, &cap, n + 1, sizeof(*list));
		list[n] = (struct kube_status){ .inst = RUNTIME_INSTANCE_INIT };
		read_job(&list[n++], item);
	}
	/* Then each Job's pod (a Job of jobrun's has one: backoffLimit 0). */
	json_array_foreach(json_object_get(root, "items"), i, item)
	{
		const char *kind = str_at(item, "kind");
		const char *job = label(item, KUBE_LABEL_JOB_NAME);

		if (kind == NULL || strcmp(kind, "Pod") != 0 || job == NULL)
			continue;
		for (j = 0; j < n; j++)
			if (list[j].inst.name != NULL &&
			    strcmp(list[j].inst.name, job) == 0)
				read_pod(&list[j], item);
	}
	json_decref(root);
	*out = list;
	*out_count = n;
	return 0;
}

bool
kube_waiting_is_fatal(const char *reason)
{
	static const char *const fatal[] = { "ErrImagePull", "ImagePullBackOff",
		"InvalidImageName", "ErrImageNeverPull",
		"CreateContainerConfigError", "CreateContainerError" };
	size_t i;

	for (i = 0; reason != NULL && i < sizeof(fatal) / sizeof(fatal[0]); i++)
		if (strcmp(reason, fatal[i]) == 0)
			return true;
	return false;
}

static void
decorate_meta(json_t *meta, const struct runtime_spec *spec)
{
	json_t *labels = json_object_get(meta, "labels");

	if (labels == NULL)
		json_object_set_new(meta, "labels", labels = json_object());
	json_object_set_new(
	    labels, RUNTIME_LABEL_VERSION, json_string(PACKAGE_VERSION));
	if (spec->detached)
		json_object_set_new(
		    labels, RUNTIME_LABEL_DETACHED, json_string("true"));
	if (spec->owner != NULL)
		json_object_set_new(meta, "annotations",
		    json_pack("{s:s}", RUNTIME_LABEL_OWNER, spec->owner));
}

void
kube_decorate(json_t *list, const struct runtime_spec *spec)
{
	json_t *item, *template;
	size_t i;

	json_array_foreach(json_object_get(list, "items"), i, item)
	{
		decorate_meta(json_object_get(item, "metadata"), spec);
		template =
		    json_object_get(json_object_get(item, "spec"), "template");
		if (template != NULL)
			decorate_meta(
			    json_object_get(template, "metadata"), spec);
	}
}

void
kube_set_owner(json_t *list, const char *job_name, const char *uid)
{
	json_t *item;
	size_t i;

	json_array_foreach(json_object_get(list, "items"), i, item)
	{
		const char *kind = str_at(item, "kind");

		if (kind == NULL || strcmp(kind, "Job") == 0)
			continue;
		json_object_set_new(json_object_get(item, "metadata"),
		    "ownerReferences",
		    json_pack("[{s:s, s:s, s:s, s:s, s:b}]", "apiVersion",
			"batch/v1", "kind", "Job", "name", job_name, "uid", uid,
			"blockOwnerDeletion", 1));
	}
}

/* The outcome jobrun gives an exit status (jobrun(1), EXIT STATUS). */
static const char *
outcome_of(int status)
{
	if (status == 0)
		return "success";
	if (status == 124)
		return "timed_out";
	if (status > 128)
		return "cancelled";
	return status == 125 ? "error" : "failed";
}

char *
kube_result_from_status(const char *job, int exit_status)
{
	json_t *result = json_pack("{s:i, s:s?, s:s, s:i, s:[], s:s, s:s}",
	    "version", 1, "job", job, "outcome", outcome_of(exit_status),
	    "exit_status", exit_status, "steps", "collected_from",
	    "kubernetes job status", "error",
	    "the job's pod was removed before its termination summary was "
	    "read: only its exit status is known");
	char *text = json_dumps(result, JSON_INDENT(2));

	json_decref(result);
	return text;
}

char *
kube_result_from_summary(const char *message, char **error)
{
	json_t *summary = message != NULL ? json_loads(message, 0, NULL) : NULL;
	json_t *result;
	char *text;

	if (!json_is_string(json_object_get(summary, "outcome")) ||
	    !json_is_integer(json_object_get(summary, "exit_status"))) {
		*error = xstrdup(message == NULL || message[0] == '\0'
			? "its pod left no termination message"
			: "its termination message is not jobrun's summary");
		json_decref(summary);
		return NULL;
	}
	result = json_pack("{s:i, s:O?, s:O, s:O, s:[], s:s, s:O}", "version",
	    1, "job", json_object_get(summary, "job"), "outcome",
	    json_object_get(summary, "outcome"), "exit_status",
	    json_object_get(summary, "exit_status"), "steps", "collected_from",
	    "kubernetes termination message", "summary", summary);
	text = json_dumps(result, JSON_INDENT(2));
	json_decref(result);
	json_decref(summary);
	return text;
}

/* ---- following a log ---- */

void
kube_log_resume(struct kube_log_cursor *c)
{
	c->skip = c->at_last;
}

/* "2026-12-03T21:09:00.071261Z " at the start of line: its time. */
static bool
line_time(const char *line, size_t n, int64_t *out_s, long *out_ns,
    size_t *out_offset)
{
	char text[64];
	struct tm tm = { 0 };
	const char *p, *space = memchr(line, ' ', n < 48 ? n : 48);
	long ns = 0, scale = 100000000;

	if (space == NULL || (size_t)(space - line) >= sizeof(text))
		return false;
	snprintf(text, sizeof(text), "%.*s", (int)(space - line), line);
	if ((p = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return false;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
			ns += (*p - '0') * scale;
	if (*p != 'Z' || p[1] != '\0')
		return false;
	*out_s = (int64_t)timegm(&tm);
	*out_ns = ns;
	*out_offset = (size_t)(space - line) + 1;
	return true;
}

bool
kube_log_accept(
    struct kube_log_cursor *c, const char *line, size_t n, size_t *out_offset)
{
	int64_t s;
	long ns;

	*out_offset = 0;
	if (!line_time(line, n, &s, &ns, out_offset))
		return true;
	if (c->any &&
	    (s < c->seconds || (s == c->seconds && ns < c->nanoseconds)))
		return false;
	if (c->any && s == c->seconds && ns == c->nanoseconds) {
		if (c->skip > 0) {
			c->skip--;
			return false;
		}
		c->at_last++;
		return true;
	}
	c->any = true;
	c->seconds = s;
	c->nanoseconds = ns;
	c->at_last = 1;
	c->skip = 0;
	return true;
}

void
kube_log_since(const struct kube_log_cursor *c, char *buf, size_t size)
{
	time_t t = (time_t)c->seconds;
	struct tm tm;

	if (!c->any || gmtime_r(&t, &tm) == NULL) {
		snprintf(buf, size, "%s", "");
		return;
	}
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- the results volume ---- */

void
kube_add_results_volume(json_t *list, const char *claim, const char *name)
{
	json_t *job = json_array_get(json_object_get(list, "items"), 0);
	json_t *pod = json_object_get(
	    json_object_get(json_object_get(job, "spec"), "template"), "spec");
	json_t *c = json_array_get(json_object_get(pod, "containers"), 0);

	if (pod == NULL || c == NULL)
		return;
	if (!json_is_array(json_object_get(pod, "volumes")))
		json_object_set_new(pod, "volumes", json_array());
	if (!json_is_array(json_object_get(c, "volumeMounts")))
		json_object_set_new(c, "volumeMounts", json_array());
	json_array_append_new(json_object_get(pod, "volumes"),
	    json_pack("{s:s, s:{s:s}}", "name", KUBE_RESULTS_VOLUME,
		"persistentVolumeClaim", "claimName", claim));
	json_array_append_new(json_object_get(c, "volumeMounts"),
	    json_pack("{s:s, s:s, s:s}", "name", KUBE_RESULTS_VOLUME,
		"mountPath", KUBE_RESULTS_MOUNT, "subPath", name));
}

json_t *
kube_collector_pod(
    const char *job_json, const char *name, const char *claim, char **error)
{
	json_t *job = json_loads(job_json, 0, NULL), *c, *labels, *pod;
	const char *uid = str_at(job, "metadata/uid");
	const char *pull;
	char *pod_name;

	c = json_array_get(
	    json_object_get(
		json_object_get(
		    json_object_get(json_object_get(job, "spec"), "template"),
		    "spec"),
		"containers"),
	    0);
	if (uid == NULL || str_at(c, "image") == NULL) {
		*error = xasprintf("Job '%s' as kubectl shows it has no uid "
				   "or no image",
		    name);
		json_decref(job);
		return NULL;
	}
	pull = str_at(c, "imagePullPolicy");
	labels = json_deep_copy(json_object_get(
	    json_object_get(
		json_object_get(json_object_get(job, "spec"), "template"),
		"metadata"),
	    "labels"));
	if (!json_is_object(labels)) {
		json_decref(labels);
		labels = json_object();
	}
	/* Not the Job's pod: the Job controller's label is not copied, and
	 * the component says what it is. */
	json_object_del(labels, KUBE_LABEL_JOB_NAME);
	json_object_set_new(
	    labels, "app.kubernetes.io/component", json_string("results"));
	json_object_set_new(labels, KUBE_LABEL_INSTANCE, json_string(name));
	pod_name = xasprintf("%s" KUBE_COLLECTOR_SUFFIX, name);
	pod = json_pack("{s:s, s:s, s:{s:s, s:o, s:[{s:s, s:s, s:s, s:s, "
			"s:b, s:b}]}, s:{s:s, s:b, s:b, s:i, s:[{s:s, s:s, "
			"s:s, s:[s, s], s:s, s:{s:b, s:b, s:b, s:{s:[s], "
			"s:[s, s, s, s, s]}}, s:[{s:s, s:s, s:s, s:b}]}], "
			"s:[{s:s, s:{s:s, s:b}}]}}",
	    "apiVersion", "v1", "kind", "Pod", "metadata", "name", pod_name,
	    "labels", labels, "ownerReferences", "apiVersion", "batch/v1",
	    "kind", "Job", "name", name, "uid", uid, "controller", 0,
	    "blockOwnerDeletion", 1, "spec", "restartPolicy", "Never",
	    "automountServiceAccountToken", 0, "enableServiceLinks", 0,
	    "terminationGracePeriodSeconds", 5, "containers", "name",
	    KUBE_COLLECTOR, "image", str_at(c, "image"), "imagePullPolicy",
	    pull != NULL ? pull : "IfNotPresent", "args", "pack-results",
	    KUBE_RESULTS_MOUNT, "terminationMessagePolicy", "File",
	    "securityContext", "privileged", 0, "allowPrivilegeEscalation", 0,
	    "runAsNonRoot", 0, "capabilities", "drop", "ALL", "add", "SETUID",
	    "SETGID", "KILL", "CHOWN", "DAC_READ_SEARCH", "volumeMounts",
	    "name", KUBE_RESULTS_VOLUME, "mountPath", KUBE_RESULTS_MOUNT,
	    "subPath", name, "readOnly", 1, "volumes", "name",
	    KUBE_RESULTS_VOLUME, "persistentVolumeClaim", "claimName", claim,
	    "readOnly", 1);
	free(pod_name);
	json_decref(job);
	if (pod == NULL)
		*error = xstrdup("cannot make the collector pod");
	return pod;
}

int
kube_pod_ended(const char *pod_json, const char *container, int *out_exit,
    char **out_waiting)
{
	json_t *pod = json_loads(pod_json, 0, NULL), *cs, *state;
	size_t i;
	int ended = 0;

	*out_exit = -1;
	*out_waiting = NULL;
	json_array_foreach(json_object_get(json_object_get(pod, "status"),
			       "containerStatuses"),
	    i, cs)
	{
		const char *name = str_at(cs, "name");

		if (name == NULL || strcmp(name, container) != 0)
			continue;
		state = json_object_get(cs, "state");
		if (json_object_get(state, "terminated") != NULL) {
			*out_exit = (int)json_integer_value(json_object_get(
			    json_object_get(state, "terminated"), "exitCode"));
			ended = 1;
		} else if (str_at(state, "waiting/reason") != NULL) {
			*out_waiting =
			    xasprintf("%s%s%s", str_at(state, "waiting/reason"),
				str_at(state, "waiting/message") != NULL ? ": "
									 : "",
				str_at(state, "waiting/message") != NULL
				    ? str_at(state, "waiting/message")
				    : "");
		}
	}
	json_decref(pod);
	return ended;
}

/* Whether line (n bytes) is text of the base64 alphabet. */
static bool
is_base64_line(const char *line, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char ch = line[i];

		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
			(ch >= '0' && ch <= '9') || ch == '+' || ch == '/' ||
			ch == '='))
			return false;
	}
	return n > 0;
}

int
kube_results_decode(const char *log, size_t length, char **out,
    size_t *out_length, char **error)
{
	struct base64_decode_ctx b64;
	struct sha256_ctx sha;
	uint8_t digest[SHA256_DIGEST_SIZE];
	char hex[2 * SHA256_DIGEST_SIZE + 1], *buf = NULL;
	const char *p = log, *end = log + length;
	size_t got = 0, lines = 0, i;
	bool begun = false;

	*out = NULL;
	*out_length = 0;
	base64_decode_init(&b64);
	sha256_init(&sha);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		const char *line = p;

		p += n + (nl != NULL);
		if (n > 0 && line[n - 1] == '\r')
			n--;
		if (!begun) {
			begun = n == sizeof(RESULTS_PACK_BEGIN) - 1 &&
			    memcmp(line, RESULTS_PACK_BEGIN, n) == 0;
			continue;
		}
		if (n > sizeof(RESULTS_PACK_END) &&
		    memcmp(line, RESULTS_PACK_END " ",
			sizeof(RESULTS_PACK_END)) == 0) {
			unsigned long long want;
			char want_hex[80], *trailer = xstrndup(line, n);
			int ok = sscanf(trailer + sizeof(RESULTS_PACK_END),
			    "%llu %64s", &want, want_hex);

			free(trailer);
			if (ok != 2 || nl == NULL) {
				*error = xstrdup("the results archive's last "
						 "line is cut short");
				goto fail;
			}
			if (!base64_decode_final(&b64) || want != got) {
				*error = xasprintf("the results archive is "
						   "truncated or altered: %zu "
						   "bytes where its trailer "
						   "says %llu",
				    got, want);
				goto fail;
			}
			sha256_update(&sha, got, (const uint8_t *)buf);
			sha256_digest(&sha, sizeof(digest), digest);
			for (i = 0; i < sizeof(digest); i++)
				snprintf(hex + 2 * i, 3, "%02x", digest[i]);
			if (strcmp(hex, want_hex) != 0) {
				*error = xstrdup("the results archive is "
						 "altered: its SHA-256 is not "
						 "the one its trailer says");
				goto fail;
			}
			*out = buf != NULL ? buf : xstrdup("");
			*out_length = got;
			return 0;
		}
		if (!is_base64_line(line, n) || n > 4 * RESULTS_PACK_GROUP) {
			*error = xasprintf("the results archive is altered: "
					   "line %zu of it is not base64",
			    lines + 1);
			goto fail;
		}
		buf = xreallocarray(buf, got + BASE64_DECODE_LENGTH(n) + 1, 1);
		{
			size_t room = BASE64_DECODE_LENGTH(n);

			if (!base64_decode_update(
				&b64, &room, (uint8_t *)buf + got, n, line)) {
				*error = xasprintf("the results archive is "
						   "altered: line %zu of it "
						   "is not base64",
				    lines + 1);
				goto fail;
			}
			got += room;
		}
		lines++;
	}
	*error = begun ? xasprintf("the results archive is truncated: it "
				   "ends after %zu bytes without its trailer "
				   "(the collector's log is cut short, or was "
				   "rotated past the kubelet's "
				   "containerLogMaxSize)",
			     got)
		       : xstrdup("the collector's log holds no results "
				 "archive");
fail:
	free(buf);
	return -1;
}
