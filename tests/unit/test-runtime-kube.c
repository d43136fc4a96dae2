/*
 * The Kubernetes backend's pure half (runtime-kube-parse.c): the state of
 * an instance from its Job and pod as kubectl prints them, the reasons a
 * pod will never start, the owner and labels added to the manifest, the
 * result.json made from a termination summary, and the log cursor that
 * drops the lines a resumed "kubectl logs --since-time" gives again; the
 * results volume's objects, the collector's state, the framing of its log
 * (a cut, altered or foreign log refused), and a pending pod's reason.
 */
#include "config.h"

#include <nettle/base64.h>
#include <nettle/sha2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "results-unpack.h"
#include "runtime-kube.h"
#include "xalloc.h"
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

/* The framing of jobrun pack-results around data (n bytes): a new string.
 * Its trailer's count is want (the real one when (size_t)-1). */
static char *
framed(const char *before, const void *data, size_t n, size_t want)
{
	char *text, *b64 = xmalloc(BASE64_ENCODE_RAW_LENGTH(n) + 1), *body;
	uint8_t digest[SHA256_DIGEST_SIZE];
	char hex[2 * SHA256_DIGEST_SIZE + 1];
	struct sha256_ctx sha;
	size_t i, len, lines = 0;

	base64_encode_raw(b64, n, data);
	len = BASE64_ENCODE_RAW_LENGTH(n);
	b64[len] = '\0';
	body = xmalloc(len + len / 76 + 2);
	for (i = 0; i < len; i += 76) {
		size_t take = len - i < 76 ? len - i : 76;

		memcpy(body + i + lines, b64 + i, take);
		body[i + lines + take] = '\n';
		lines++;
	}
	body[len + lines] = '\0';
	sha256_init(&sha);
	sha256_update(&sha, n, data);
	sha256_digest(&sha, sizeof(digest), digest);
	for (i = 0; i < sizeof(digest); i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	text = xasprintf("%s" RESULTS_PACK_BEGIN "\n%s" RESULTS_PACK_END
			 " %zu %s\n",
	    before, body, want == (size_t)-1 ? n : want, hex);
	free(b64);
	free(body);
	return text;
}

/* Decodes text; returns the error (caller frees) or NULL, the archive in
 * *out. */
static char *
decode(const char *text, char **out, size_t *out_length)
{
	char *error = NULL;

	if (kube_results_decode(text, strlen(text), out, out_length, &error) <
	    0)
		return error;
	return NULL;
}

static void
test_results_decode(void)
{
	unsigned char data[1000];
	char *text, *out = NULL, *error, *cut;
	size_t i, n = 0;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 7);
	text = framed("jobrun: a notice first\n", data, sizeof(data), -1);
	error = decode(text, &out, &n);
	ok(error == NULL && n == sizeof(data) && memcmp(out, data, n) == 0,
	    "a framed archive decodes to its bytes (lines before it "
	    "ignored)");
	free(error);
	free(out);
	/* Cut after its half: no trailer. */
	cut = xstrndup(text, strlen(text) / 2);
	cut[strrchr(cut, '\n') - cut + 1] = '\0';
	error = decode(cut, &out, &n);
	ok(error != NULL && strstr(error, "truncated") != NULL && out == NULL,
	    "cut before its trailer: refused as truncated, nothing given");
	free(error);
	free(cut);
	/* Cut within the trailer's line. */
	cut = xstrndup(text, strlen(text) - 10);
	error = decode(cut, &out, &n);
	ok(error != NULL && out == NULL, "cut within the trailer: refused");
	free(error);
	free(cut);
	/* One character changed. */
	cut = xstrdup(text);
	{
		char *line = strchr(strstr(cut, RESULTS_PACK_BEGIN), '\n') + 1;

		line[5] = line[5] == 'A' ? 'B' : 'A';
	}
	error = decode(cut, &out, &n);
	ok(error != NULL && strstr(error, "SHA-256") != NULL && out == NULL,
	    "one character changed: refused by its SHA-256");
	free(error);
	free(cut);
	/* A line that is not base64 (a message in the middle). */
	cut = xstrdup(text);
	{
		char *line = strchr(strstr(cut, RESULTS_PACK_BEGIN), '\n') + 1;

		line[3] = ' ';
	}
	error = decode(cut, &out, &n);
	ok(error != NULL && strstr(error, "not base64") != NULL,
	    "a line that is not base64: refused");
	free(error);
	free(cut);
	free(text);
	text = framed("", data, sizeof(data), sizeof(data) + 57);
	error = decode(text, &out, &n);
	ok(error != NULL && strstr(error, "where its trailer says") != NULL,
	    "a count that is not the trailer's: refused");
	free(error);
	free(text);
	error = decode("hello\nworld\n", &out, &n);
	is_str(error, "the collector's log holds no results archive",
	    "a log without an archive: said");
	free(error);
	text = framed("", "", 0, -1);
	error = decode(text, &out, &n);
	ok(error == NULL && n == 0, "an empty archive decodes");
	free(error);
	free(out);
	free(text);
}

static const char job_json[] =
    "{\"kind\":\"Job\",\"metadata\":{\"name\":\"jobrun-v\",\"uid\":\"u-9\"},"
    "\"spec\":{\"template\":{\"metadata\":{\"labels\":{"
    "\"app.kubernetes.io/instance\":\"jobrun-v\","
    "\"batch.kubernetes.io/job-name\":\"jobrun-v\","
    "\"org.jobrun.run-id\":\"v\"}},\"spec\":{\"containers\":[{\"name\":"
    "\"jobrun\",\"image\":\"runner:2\",\"imagePullPolicy\":\"Always\"}]}}}}";

static void
test_results_objects(void)
{
	struct manifest_input in = { .run_id = "v",
		.job = "ci",
		.image = "runner:2",
		.job_file_name = "job.yaml",
		.job_text = "steps: []",
		.bundle = "b",
		.grace_s = 40 };
	json_t *list = manifest_build(&in), *pod, *c, *mount;
	char *error = NULL, *waiting = NULL;
	int code;

	kube_add_results_volume(list, "claim-1", "jobrun-v");
	c = json_array_get(
	    member(json_array_get(member(list, "items", NULL), 0), "spec",
		"template", "spec", "containers", NULL),
	    0);
	mount = json_array_get(member(c, "volumeMounts", NULL),
	    json_array_size(member(c, "volumeMounts", NULL)) - 1);
	is_str(json_string_value(member(mount, "mountPath", NULL)), "/job",
	    "the claim is the Job's workspace");
	is_str(json_string_value(member(mount, "subPath", NULL)), "jobrun-v",
	    "in the run's sub-directory");
	json_decref(list);

	pod = kube_collector_pod(job_json, "jobrun-v", "claim-1", &error);
	ok(pod != NULL, "a collector pod from the Job");
	is_str(json_string_value(member(pod, "metadata", "name", NULL)),
	    "jobrun-v-results", "named after the instance");
	ok(member(pod, "metadata", "labels", KUBE_LABEL_JOB_NAME, NULL) == NULL,
	    "without the Job controller's label (not the Job's pod)");
	is_str(json_string_value(member(pod, "metadata", "labels",
		   "app.kubernetes.io/component", NULL)),
	    "results", "its component: results");
	is_str(json_string_value(member(
		   json_array_get(
		       member(pod, "metadata", "ownerReferences", NULL), 0),
		   "uid", NULL)),
	    "u-9", "owned by the Job's uid");
	c = json_array_get(member(pod, "spec", "containers", NULL), 0);
	is_str(json_string_value(member(c, "image", NULL)), "runner:2",
	    "the Job's image");
	is_str(json_string_value(member(c, "imagePullPolicy", NULL)), "Always",
	    "and pull policy");
	is_str(json_string_value(json_array_get(member(c, "args", NULL), 0)),
	    "pack-results", "it runs jobrun pack-results");
	ok(json_is_false(
	       member(pod, "spec", "automountServiceAccountToken", NULL)),
	    "no service-account token");
	ok(json_is_true(
	       member(json_array_get(member(c, "volumeMounts", NULL), 0),
		   "readOnly", NULL)),
	    "the claim read-only");
	json_decref(pod);
	ok(kube_collector_pod("{}", "jobrun-v", "claim-1", &error) == NULL &&
		strstr(error, "no uid") != NULL,
	    "a Job without a uid: said");
	free(error);

	ok(kube_pod_ended("{\"status\":{\"containerStatuses\":[{\"name\":"
			  "\"collect\",\"state\":{\"terminated\":{"
			  "\"exitCode\":2}}}]}}",
	       "collect", &code, &waiting) == 1 &&
		code == 2,
	    "an ended collector: its exit code");
	ok(kube_pod_ended("{\"status\":{\"containerStatuses\":[{\"name\":"
			  "\"collect\",\"state\":{\"waiting\":{\"reason\":"
			  "\"ErrImagePull\",\"message\":\"no\"}}}]}}",
	       "collect", &code, &waiting) == 0,
	    "a waiting one has not ended");
	is_str(waiting, "ErrImagePull: no", "why it waits");
	free(waiting);
}

static void
test_pending(void)
{
	static const char pending[] =
	    "{\"items\":[{\"kind\":\"Job\",\"metadata\":{\"name\":\"jobrun-p\","
	    "\"labels\":{\"org.jobrun.run-id\":\"p\"}},\"spec\":{}},"
	    "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"jobrun-p-1\","
	    "\"labels\":{\"batch.kubernetes.io/job-name\":\"jobrun-p\"}},"
	    "\"status\":{\"phase\":\"Pending\",\"conditions\":[{\"type\":"
	    "\"PodScheduled\",\"status\":\"False\",\"reason\":"
	    "\"Unschedulable\",\"message\":\"0/1 nodes\"}]}}]}";
	struct kube_status *list = NULL;
	char *error = NULL;
	size_t n = 0;

	ok(kube_parse_list(&list, &n, pending, &error) == 0 && n == 1,
	    "a Job with an unscheduled pod");
	is_str(list[0].waiting, "Unschedulable",
	    "the condition that holds it is its waiting reason");
	is_str(list[0].message, "0/1 nodes", "with its message");
	ok(!kube_waiting_is_fatal(list[0].waiting),
	    "not fatal: it is waited for, up to the pending deadline");
	is_int(list[0].inst.state, RUNTIME_RUNNING, "the instance is running");
	kube_statuses_free(list, n);
}

int
main(void)
{
	test_list();
	test_objects();
	test_result();
	test_log_cursor();
	test_results_decode();
	test_results_objects();
	test_pending();
	return done_testing();
}
