/*
 * The Kubernetes backend's pure half (runtime-kube-parse.c): the state of
 * an instance from its Job and pod as kubectl prints them, the reasons a
 * pod will never start, the owner and labels added to the manifest, the
 * result.json made from a termination summary, and the log cursor that
 * drops the lines a resumed "kubectl logs --since-time" gives again.
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "runtime-kube.h"
#include "tap.h"

/* Five Jobs: suspended; running with a pending pod; ended by its OOM-killed
 * pod (137); failed with no pod left, past its deadline; failed by its
 * podFailurePolicy, the pod gone (143 in the Job's message).  And a Job
 * jobrun did not make, which is left out. */
static const char list_json[] =
    "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":["
    "{\"kind\":\"Job\",\"metadata\":{\"name\":\"jobrun-a\","
    "\"creationTimestamp\":\"2026-12-03T21:00:00Z\","
    "\"annotations\":{\"org.jobrun.owner\":\"m:1:2\"},"
    "\"labels\":{\"org.jobrun.run-id\":\"a\",\"org.jobrun.job\":\"ci\"}},"
    "\"spec\":{\"suspend\":true}},"
    "{\"kind\":\"Job\",\"metadata\":{\"name\":\"jobrun-b\",\"labels\":{"
    "\"org.jobrun.run-id\":\"b\",\"org.jobrun.detached\":\"true\"}},"
    "\"spec\":{\"suspend\":false},\"status\":{}},"
    "{\"kind\":\"Job\",\"metadata\":{\"name\":\"jobrun-c\",\"labels\":{"
    "\"org.jobrun.run-id\":\"c\"}},\"spec\":{},\"status\":{\"conditions\":"
    "[{\"type\":\"Failed\",\"status\":\"True\",\"reason\":\"PodFailurePolicy\""
    "}]}},"
    "{\"kind\":\"Job\",\"metadata\":{\"name\":\"jobrun-d\",\"labels\":{"
    "\"org.jobrun.run-id\":\"d\"}},\"spec\":{},\"status\":{\"conditions\":"
    "[{\"type\":\"Failed\",\"status\":\"True\",\"reason\":"
    "\"DeadlineExceeded\",\"message\":\"Job was active longer than "
    "specified deadline\"}]}},"
    "{\"kind\":\"Job\",\"metadata\":{\"name\":\"other\"},\"spec\":{}},"
    "{\"kind\":\"Job\",\"metadata\":{\"name\":\"jobrun-e\",\"labels\":{"
    "\"org.jobrun.run-id\":\"e\"}},\"spec\":{},\"status\":{\"conditions\":"
    "[{\"type\":\"Failed\",\"status\":\"True\",\"reason\":"
    "\"PodFailurePolicy\",\"message\":\"Container jobrun for pod ci/jobrun-e-"
    "z3 failed with exit code 143 matching FailJob rule at index 1\"}]}},"
    "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"jobrun-b-x1\",\"labels\":{"
    "\"batch.kubernetes.io/job-name\":\"jobrun-b\"}},\"status\":{"
    "\"containerStatuses\":[{\"name\":\"jobrun\",\"state\":{\"waiting\":{"
    "\"reason\":\"ImagePullBackOff\",\"message\":\"no such image\"}}}]}},"
    "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"jobrun-c-y2\",\"labels\":{"
    "\"batch.kubernetes.io/job-name\":\"jobrun-c\"}},\"status\":{"
    "\"containerStatuses\":[{\"name\":\"jobrun\",\"state\":{\"terminated\":{"
    "\"exitCode\":137,\"reason\":\"OOMKilled\","
    "\"finishedAt\":\"2026-12-03T21:00:10Z\"}}}]}}]}";

static void
test_list(void)
{
	struct kube_status *list = NULL;
	char *error = NULL;
	size_t n = 0;

	ok(kube_parse_list(&list, &n, list_json, &error) == 0, "list: parses");
	if (!is_int((long long)n, 5, "list: the five Jobs of jobrun's"))
		return;
	is_str(list[0].inst.name, "jobrun-a", "suspended: its name");
	is_int(list[0].inst.state, RUNTIME_CREATED, "suspended: created");
	is_str(list[0].inst.run_id, "a", "the run id from its label");
	is_str(list[0].inst.job, "ci", "the job from its label");
	is_str(list[0].inst.owner, "m:1:2", "the owner from its annotation");
	is_int(list[0].inst.created_at, 1796331600, "its creation time");
	ok(!list[0].inst.detached, "not detached");
	is_int(list[1].inst.state, RUNTIME_RUNNING,
	    "a pending pod: running (it may still start)");
	ok(list[1].inst.detached, "the detached label");
	is_str(list[1].pod, "jobrun-b-x1", "its pod");
	is_str(list[1].waiting, "ImagePullBackOff", "what its pod waits for");
	is_str(list[1].message, "no such image", "and why");
	ok(kube_waiting_is_fatal(list[1].waiting), "a pull back-off is fatal");
	ok(!kube_waiting_is_fatal("ContainerCreating"),
	    "container creating is not");
	ok(!kube_waiting_is_fatal(NULL), "no reason is not");
	is_int(list[2].inst.state, RUNTIME_EXITED, "failed: exited");
	is_int(list[2].inst.exit_code, 137, "the pod's exit code wins");
	ok(list[2].inst.oom_killed, "OOMKilled");
	is_int(list[2].inst.finished_at, 1796331610, "its end");
	ok(list[2].failed == NULL, "an exit code: not a failure without one");
	is_int(list[4].inst.state, RUNTIME_EXITED,
	    "failed by its podFailurePolicy, no pod: exited");
	is_int(list[4].inst.exit_code, 143,
	    "the exit code from the Job controller's message");
	ok(list[4].failed == NULL, "so not a failure without a status");
	is_int(list[3].inst.state, RUNTIME_EXITED, "past its deadline: exited");
	is_int(list[3].inst.exit_code, -1, "with no exit code");
	ok(list[3].failed != NULL &&
		strstr(list[3].failed, "DeadlineExceeded") != NULL,
	    "the Job's reason is kept");
	kube_statuses_free(list, n);
	ok(kube_parse_list(&list, &n, "Error: not json", &error) < 0 &&
		error != NULL,
	    "not JSON: an error");
	free(error);
}

/* The member at the keys given (NULL-terminated) below o. */
static json_t *
member(json_t *o, ...)
{
	const char *key;
	va_list ap;

	va_start(ap, o);
	while (o != NULL && (key = va_arg(ap, const char *)) != NULL)
		o = json_object_get(o, key);
	va_end(ap);
	return o;
}

static void
test_objects(void)
{
	struct manifest_input in = { .run_id = "k1",
		.job = "ci",
		.image = "img",
		.job_file_name = "job.yaml",
		.job_text = "name: ci\n",
		.bundle = "B",
		.grace_s = 40 };
	struct runtime_spec spec = {
		.name = "jobrun-k1", .owner = "m:5:6", .detached = true
	};
	json_t *list = manifest_build(&in), *items, *job, *secret;

	kube_decorate(list, &spec);
	kube_set_owner(list, "jobrun-k1", "u-1");
	items = json_object_get(list, "items");
	job = json_array_get(items, 0);
	secret = json_array_get(items, 2);
	is_str(json_string_value(member(
		   job, "metadata", "annotations", RUNTIME_LABEL_OWNER, NULL)),
	    "m:5:6", "the owner is an annotation (a label cannot hold ':')");
	is_str(json_string_value(member(job, "spec", "template", "metadata",
		   "labels", RUNTIME_LABEL_DETACHED, NULL)),
	    "true", "the pod carries the detached label too");
	ok(member(job, "metadata", "ownerReferences", NULL) == NULL,
	    "the Job has no owner");
	is_str(json_string_value(json_object_get(
		   json_array_get(
		       member(secret, "metadata", "ownerReferences", NULL), 0),
		   "uid")),
	    "u-1", "the Secret is owned by the Job's uid");
	json_decref(list);
}

static void
test_result(void)
{
	char *error = NULL, *text;
	json_t *r;

	text = kube_result_from_summary(
	    "{\"jobrun\":1,\"job\":\"ci\",\"outcome\":\"failure\","
	    "\"exit_status\":3,\"steps\":2}",
	    &error);
	r = text != NULL ? json_loads(text, 0, NULL) : NULL;
	ok(r != NULL, "a summary gives result.json");
	is_str(json_string_value(json_object_get(r, "outcome")), "failure",
	    "its outcome");
	is_int(json_integer_value(json_object_get(r, "exit_status")), 3,
	    "its exit status");
	json_decref(r);
	free(text);
	ok(kube_result_from_summary("step 3 failed: make", &error) == NULL &&
		strstr(error, "not jobrun's summary") != NULL,
	    "a log's tail (FallbackToLogsOnError) is not a summary");
	free(error);
	text = kube_result_from_status("ci", 143);
	r = json_loads(text, 0, NULL);
	is_str(json_string_value(json_object_get(r, "outcome")), "cancelled",
	    "from the Job's status: 143 is cancelled");
	is_int(json_integer_value(json_object_get(r, "exit_status")), 143,
	    "with its status");
	ok(json_is_string(json_object_get(r, "error")),
	    "and says why nothing more");
	json_decref(r);
	free(text);
	ok(kube_result_from_summary(NULL, &error) == NULL &&
		strstr(error, "no termination message") != NULL,
	    "no message: said");
	free(error);
}

/* Feeds line; returns its text when accepted, else "-". */
static const char *
feed(struct kube_log_cursor *c, const char *line)
{
	size_t offset;

	return kube_log_accept(c, line, strlen(line), &offset) ? line + offset
							       : "-";
}

static void
test_log_cursor(void)
{
	struct kube_log_cursor c = { 0 };
	char since[64];

	kube_log_since(&c, since, sizeof(since));
	is_str(since, "", "nothing shown: no --since-time");
	is_str(feed(&c, "2026-12-03T21:00:01.5Z a"), "a", "a first line");
	is_str(feed(&c, "2026-12-03T21:00:01.5Z b"), "b",
	    "a second line at the same time");
	is_str(feed(&c, "2026-12-03T21:00:01.500000001Z c"), "c",
	    "a nanosecond later");
	is_str(
	    feed(&c, "2026-12-03T21:00:01.500000001Z d"), "d", "and another");
	is_str(feed(&c, "no time at all"), "no time at all",
	    "a line without a time is shown whole");
	kube_log_since(&c, since, sizeof(since));
	is_str(since, "2026-12-03T21:00:01Z", "resumed from the second");
	kube_log_resume(&c);
	is_str(feed(&c, "2026-12-03T21:00:01.5Z a"), "-", "resumed: a dropped");
	is_str(feed(&c, "2026-12-03T21:00:01.5Z b"), "-", "b dropped");
	is_str(feed(&c, "2026-12-03T21:00:01.500000001Z c"), "-", "c dropped");
	is_str(feed(&c, "2026-12-03T21:00:01.500000001Z d"), "-", "d dropped");
	is_str(feed(&c, "2026-12-03T21:00:01.500000001Z e"), "e",
	    "e, new at the same time, shown");
	is_str(feed(&c, "2026-12-03T21:00:02Z f"), "f", "f shown");
	kube_log_resume(&c);
	is_str(feed(&c, "2026-12-03T21:00:02Z f"), "-", "again: f dropped");
	is_str(feed(&c, "2026-12-03T21:00:02Z g"), "g", "g shown");
}

int
main(void)
{
	test_list();
	test_objects();
	test_result();
	test_log_cursor();
	return done_testing();
}
