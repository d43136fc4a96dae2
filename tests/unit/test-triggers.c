/*
 * Unit tests for triggers.c: requests from the control socket, deciding
 * static triggers, the limits, the UUID, masking and the termination-log
 * summary.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "job.h"
#include "mask.h"
#include "tap.h"
#include "trigger-file.h"
#include "triggers.h"

static const char *
no_facts(void *context, const char *name)
{
	(void)context;
	return strcmp(name, "branch") == 0 ? "main" : NULL;
}

static int
add(struct triggers *t, const char *text)
{
	json_t *request = json_loads(text, 0, NULL);
	char *error = NULL;
	int rc = triggers_add_request(t, request, &error);

	free(error);
	json_decref(request);
	return rc;
}

/* The decided jobs' names, joined by spaces, into buf. */
static const char *
names(struct triggers *t, char *buf, size_t size)
{
	const json_t *jobs = triggers_jobs(t);
	json_t *job;
	size_t i;

	buf[0] = '\0';
	json_array_foreach(jobs, i, job)
	{
		if (i > 0)
			strncat(buf, " ", size - strlen(buf) - 1);
		strncat(buf,
		    json_string_value(json_object_get(job, "job_name")),
		    size - strlen(buf) - 1);
	}
	return buf;
}

static void
test_requests(void)
{
	struct triggers *t = triggers_new(NULL);
	struct expr_facts facts = { no_facts, NULL, NULL };
	struct triggers_outcome outcome = { "success", true, false, &facts };
	char buf[256], *error;
	int i;

	is_int(add(t, "{\"job\":\"a\"}"), 0, "a bare request is added");
	is_int(add(t,
		   "{\"job\":\"b\",\"env\":{\"K\":\"V\"},\"depends_on\":"
		   "[\"a\"],\"condition\":\"any_failed\"}"),
	    0, "a full request is added");
	is_int(add(t, "{\"job\":\"-x\"}"), -1, "a bad name is refused");
	is_int(add(t, "{}"), -1, "a missing name is refused");
	is_int(add(t, "{\"job\":\"c\",\"env\":{\"K\":1}}"), -1,
	    "a number in env is refused");
	is_int(add(t, "{\"job\":\"c\",\"env\":{\"A=B\":\"1\"}}"), -1,
	    "a name with '=' in env is refused");
	is_int(add(t, "{\"job\":\"c\",\"depends_on\":\"a\"}"), -1,
	    "depends_on must be a list");
	is_int(add(t, "{\"job\":\"c\",\"condition\":\"maybe\"}"), -1,
	    "an unknown condition is refused");
	is_int(triggers_decide(t, &outcome, &error), 2,
	    "only the good requests count");
	is_str(names(t, buf, sizeof(buf)), "a b", "in arrival order");
	for (i = 2; i < TRIGGERS_MAX_JOBS; i++)
		add(t, "{\"job\":\"more\"}");
	is_int(add(t, "{\"job\":\"one-too-many\"}"), -1,
	    "the 1001st request is refused");
	is_int(triggers_decide(t, &outcome, &error), TRIGGERS_MAX_JOBS,
	    "1000 requests are kept");
	triggers_free(t);
}

static void
test_static(void)
{
	struct job *job = job_new(NULL);
	struct trigger_spec *spec;
	struct expr_facts facts = { no_facts, NULL, NULL };
	struct triggers_outcome ok_outcome = { "success", true, false, &facts };
	struct triggers_outcome bad_outcome = { "failed", false, false,
		&facts };
	struct triggers_outcome cancelled = { "cancelled", false, true,
		&facts };
	struct srcpos nowhere = { 0, 0 };
	struct triggers *t;
	char buf[256], *error;

	job_add_trigger(job)->job = strdup("s");
	spec = job_add_trigger(job);
	spec->job = strdup("f");
	spec->when = TRIGGER_WHEN_FAILURE;
	spec = job_add_trigger(job);
	spec->job = strdup("m");
	spec->when = TRIGGER_WHEN_ALWAYS;
	spec->condition = strdup("branch == 'main' && !cancelled()");
	spec = job_add_trigger(job);
	spec->job = strdup("e");
	spec->when = TRIGGER_WHEN_ALWAYS;
	strlist_push(&spec->for_each, "x", nowhere);
	strlist_push(&spec->for_each, "y", nowhere);
	t = triggers_new(job);
	is_int(triggers_decide(t, &ok_outcome, &error), 4, "on success");
	is_str(names(t, buf, sizeof(buf)), "s m e e",
	    "success, a condition that holds, for_each");
	is_str(json_string_value(json_object_get(
		   json_object_get(json_array_get(triggers_jobs(t), 3), "env"),
		   "ITEM")),
	    "y", "the item is in ITEM");
	triggers_decide(t, &bad_outcome, &error);
	is_str(names(t, buf, sizeof(buf)), "f m e e", "on failure");
	triggers_decide(t, &cancelled, &error);
	is_str(names(t, buf, sizeof(buf)), "f e e",
	    "cancelled: when: failure, and cancelled() is true");
	triggers_free(t);
	job_free(job);
}

static void
test_uuid(void)
{
	char uuid[37];
	size_t i;
	bool hex = true;

	is_int(trigger_file_uuid(uuid), 0, "a UUID is made");
	is_int((long long)strlen(uuid), 36, "36 characters");
	for (i = 0; i < 36; i++)
		if (i != 8 && i != 13 && i != 18 && i != 23 &&
		    strchr("0123456789abcdef", uuid[i]) == NULL)
			hex = false;
	ok(hex && uuid[8] == '-' && uuid[14] == '4' &&
		strchr("89ab", uuid[19]) != NULL,
	    "version 4, variant 1, lower-case hex");
}

static void
test_write_and_summary(void)
{
	struct mask_set *mask = mask_set_new(NULL, 0);
	struct triggers *t = triggers_new(NULL);
	struct expr_facts facts = { no_facts, NULL, NULL };
	struct triggers_outcome outcome = { "success", true, false, &facts };
	char path[] = "/tmp/test-triggers.XXXXXX", *error, *text, name[128];
	json_t *file, *summary;
	int i, fd = mkstemp(path);

	close(fd);
	mask_set_add(mask, "hunter2-secret", 14, NULL);
	add(t, "{\"job\":\"a\",\"env\":{\"T\":\"x-hunter2-secret-x\"}}");
	triggers_decide(t, &outcome, &error);
	is_int(trigger_file_write(t, path, "job", mask, &error), 0, "written");
	file = json_load_file(path, 0, NULL);
	is_str(json_string_value(json_object_get(
		   json_object_get(
		       json_array_get(json_object_get(file, "jobs"), 0), "env"),
		   "T")),
	    "x-***-x", "a secret in env is masked in the file");
	json_decref(file);
	unlink(path);

	for (i = 1; i < 300; i++) {
		snprintf(name, sizeof(name),
		    "{\"job\":\"job-with-a-long-name-%060d\"}", i);
		add(t, name);
	}
	triggers_decide(t, &outcome, &error);
	summary = json_pack("{s:s}", "outcome", "success");
	text = trigger_file_summary(t, summary, mask);
	ok(strlen(text) <= 4096, "the summary of 300 long names fits 4 KiB");
	json_decref(summary);
	summary = json_loads(text, 0, NULL);
	is_int(json_array_size(json_object_get(summary, "triggers")) +
		json_integer_value(json_object_get(summary, "more_triggers")),
	    300, "and counts the names it leaves out");
	json_decref(summary);
	free(text);
	triggers_free(t);
	mask_set_free(mask);
}

/* Past 1000 jobs in all, and past 1 MiB: a file with no jobs and why. */
static void
test_limits(void)
{
	struct job *job = job_new(NULL);
	struct trigger_spec *spec = job_add_trigger(job);
	struct expr_facts facts = { no_facts, NULL, NULL };
	struct triggers_outcome outcome = { "success", true, false, &facts };
	struct srcpos nowhere = { 0, 0 };
	char path[] = "/tmp/test-triggers.XXXXXX", *error, *request;
	struct triggers *t;
	json_t *file;
	int i, fd = mkstemp(path);

	close(fd);
	spec->job = strdup("s");
	for (i = 0; i < 600; i++)
		strlist_push(&spec->for_each, "x", nowhere);
	t = triggers_new(job);
	for (i = 0; i < 401; i++)
		add(t, "{\"job\":\"d\"}");
	is_int(triggers_decide(t, &outcome, &error), -1,
	    "600 static and 401 dynamic jobs are too many");
	is_str(error,
	    "too many triggered jobs: 600 from the job file and 401 from "
	    "steps, more than 1000; none is listed",
	    "saying how many came from where");
	free(error);
	triggers_free(t);

	t = triggers_new(NULL);
	request = malloc(2000);
	snprintf(
	    request, 2000, "{\"job\":\"big\",\"env\":{\"V\":\"%01500d\"}}", 0);
	for (i = 0; i < 1000 && add(t, request) == 0; i++)
		continue;
	ok(i > 600 && i < 1000,
	    "dynamic triggers past 1 MiB of JSON are refused");
	triggers_free(t);

	/* The same from the job file: the file is past its limit. */
	strlist_release(&spec->for_each);
	for (i = 0; i < 1000; i++)
		strlist_push(&spec->for_each, "x", nowhere);
	request[1500] = '\0';
	memset(request, 'v', 1500);
	nvlist_set(&spec->env, "V", request, nowhere);
	free(request);
	t = triggers_new(job);
	is_int(triggers_decide(t, &outcome, &error), 1000, "1000 big jobs");
	is_int(trigger_file_write(t, path, "job", NULL, &error), 1,
	    "are written as a file past 1 MiB");
	free(error);
	file = json_load_file(path, 0, NULL);
	is_int(
	    json_array_size(json_object_get(file, "jobs")), 0, "with no jobs");
	ok(strstr(json_string_value(json_object_get(file, "error")),
	       "more than 1048576 bytes") != NULL,
	    "and the reason");
	json_decref(file);
	unlink(path);
	triggers_free(t);
	job_free(job);
}

int
main(void)
{
	test_limits();
	test_requests();
	test_static();
	test_uuid();
	test_write_and_summary();
	return done_testing();
}
