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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
