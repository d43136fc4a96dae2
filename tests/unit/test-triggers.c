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

static int
add_output(struct triggers *t, const char *key, const char *value)
{
	json_t *request = json_pack("{s:s, s:s}", "key", key, "value", value);
	char *error = NULL;
	int rc = triggers_set_output(t, request, &error);

	free(error);
	json_decref(request);
	return rc;
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
	is_int(triggers_decide(t, &outcome, &error), -1,
	    "the refusal is an error of the job's triggers");
	free(error);
	is_int(json_array_size(triggers_jobs(t)), TRIGGERS_MAX_JOBS,
	    "1000 requests are kept");
	is_int(json_array_size(triggers_errors(t)), 1, "one error recorded");
	triggers_free(t);
}

/* Env names that steer the next job's runner are refused from requests. */
static void
test_steering_env(void)
{
	static const char *const refused[] = { "LD_PRELOAD", "JOBRUN_SHELL",
		"REACTORCIDE_CI_SOURCE_URL", "path", "BASH_ENV", "ENV",
		"SHELLOPTS", "PS4", "IFS", "PYTHONPATH", "NODE_OPTIONS",
		"PERL5OPT", "GIT_SSH_COMMAND", "GIT_CONFIG_COUNT", "HOME",
		"https_proxy", "BASH_FUNC_ls%%" };
	struct triggers *t = triggers_new(NULL);
	char request[200], *error;
	json_t *parsed;
	size_t i, bad = 0;

	for (i = 0; i < sizeof(refused) / sizeof(*refused); i++) {
		snprintf(request, sizeof(request),
		    "{\"job\":\"next\",\"env\":{\"OK\":\"1\",\"%s\":\"x\"}}",
		    refused[i]);
		parsed = json_loads(request, 0, NULL);
		if (triggers_add_request(t, parsed, &error) == 0) {
			printf("# '%s' was accepted\n", refused[i]);
			bad++;
		} else if (strstr(error, "would steer the next job's runner") ==
		    NULL) {
			printf("# '%s': %s\n", refused[i], error);
			bad++;
		}
		free(error);
		json_decref(parsed);
	}
	is_int((long long)bad, 0,
	    "JOBRUN_*, REACTORCIDE_*, LD_*, PATH, BASH_ENV, ... are refused, "
	    "saying why");
	is_int(add(t,
		   "{\"job\":\"next\",\"env\":{\"TARGET\":\"staging\","
		   "\"DEPLOY_PATHS\":\"a\"}}"),
	    0, "other names are accepted");
	ok(!triggers_env_name_steers("TARGET") &&
		triggers_env_name_steers("Ld_Library_Path"),
	    "names are compared without regard to case");
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
	    "too many triggered jobs: 1 trigger(s) added by steps or plugins "
	    "are not listed (the file's limits: 1000 jobs, 1048576 bytes; the "
	    "job file's own triggers come first)",
	    "saying how many were left out and why");
	free(error);
	is_int(json_array_size(triggers_jobs(t)), 1000,
	    "the 1000 that fit are listed");
	is_str(json_string_value(json_object_get(
		   json_array_get(triggers_jobs(t), 599), "job_name")),
	    "s", "every job of the job file among them");
	is_int(json_array_size(triggers_errors(t)), 1,
	    "the error is recorded for result.json");
	triggers_free(t);

	/* 999 from the job file and many big dynamic ones: the job file's
	 * stay whatever the steps add. */
	strlist_release(&spec->for_each);
	for (i = 0; i < 999; i++)
		strlist_push(&spec->for_each, "x", nowhere);
	t = triggers_new(job);
	request = malloc(2000);
	snprintf(
	    request, 2000, "{\"job\":\"big\",\"env\":{\"V\":\"%01500d\"}}", 0);
	for (i = 0; i < 700; i++)
		add(t, request);
	free(request);
	is_int(triggers_decide(t, &outcome, &error), -1,
	    "past the byte limit, dynamic triggers are dropped");
	free(error);
	ok(json_array_size(triggers_jobs(t)) >= 999 &&
		strcmp(json_string_value(json_object_get(
			   json_array_get(triggers_jobs(t), 998), "job_name")),
		    "s") == 0,
	    "never the job file's");
	ok(json_dumpb(triggers_jobs(t), NULL, 0, JSON_COMPACT) <=
		TRIGGERS_MAX_BYTES,
	    "and the jobs fit the file");
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

/* Secrets equal to member names and fixed words leave the files' structure
 * alone; values, env names and output names are still masked. */
static void
test_structure_kept(void)
{
	static const char *const words[] = { "trigger_job", "outputs", "type",
		"jobs", "job_name", "env", "jobrun", "success", "all_success",
		"operation_id", "condition", "outcome", "triggers",
		"exit_status", "SECRET_NAME", "OTHER_SECRET", "hunter2-value" };
	struct mask_set *mask = mask_set_new(NULL, 3);
	struct triggers *t = triggers_new(NULL);
	struct expr_facts facts = { no_facts, NULL, NULL };
	struct triggers_outcome outcome = { "success", true, false, &facts };
	char path[] = "/tmp/test-triggers.XXXXXX", *error, *text;
	json_t *file, *job, *facts_json;
	size_t i;
	int fd = mkstemp(path);

	close(fd);
	for (i = 0; i < sizeof(words) / sizeof(*words); i++)
		mask_set_add_exact(mask, words[i], strlen(words[i]), NULL);
	add(t,
	    "{\"job\":\"deploy\",\"condition\":\"all_success\",\"env\":"
	    "{\"SECRET_NAME\":\"hunter2-value\",\"OTHER_SECRET\":\"x\",\"OK\":"
	    "\"type\"}}");
	add(t, "{\"job\":\"jobrun\"}");
	triggers_decide(t, &outcome, &error);
	is_int(trigger_file_write(t, path, "job_name", mask, &error), 0,
	    "written with secrets equal to member names");
	file = json_load_file(path, 0, NULL);
	is_str(json_string_value(json_object_get(file, "type")), "trigger_job",
	    "\"type\": \"trigger_job\" stays");
	is_str(json_string_value(json_object_get(file, "trigger_type")),
	    "jobrun", "\"trigger_type\": \"jobrun\" stays");
	is_str(json_string_value(json_object_get(file, "outcome")), "success",
	    "the outcome stays");
	is_str(json_string_value(json_object_get(file, "job")), "***",
	    "the job's name (a value) is masked");
	job = json_array_get(json_object_get(file, "jobs"), 0);
	is_int(json_array_size(json_object_get(file, "jobs")), 2,
	    "both jobs are there");
	is_str(json_string_value(json_object_get(job, "job_name")), "deploy",
	    "member names stay");
	is_str(json_string_value(json_object_get(job, "condition")),
	    "all_success", "the condition (a fixed word) stays");
	is_int(json_object_size(json_object_get(job, "env")), 3,
	    "no env member is lost");
	text = json_dumps(json_object_get(job, "env"), JSON_COMPACT);
	is_str(text, "{\"***\":\"***\",\"***_2\":\"x\",\"OK\":\"***\"}",
	    "env names and values are masked, a clash numbered");
	free(text);
	is_str(
	    json_string_value(json_object_get(
		json_array_get(json_object_get(file, "jobs"), 1), "job_name")),
	    "***", "a job name equal to a secret is masked");
	json_decref(file);

	add_output(t, "outputs", "hunter2-value");
	add_output(t, "RESULT", "trigger_job");
	is_int(trigger_file_write_outputs(t, path, mask, &error), 0,
	    "outputs.json written");
	file = json_load_file(path, 0, NULL);
	text = json_dumps(file, JSON_COMPACT | JSON_SORT_KEYS);
	is_str(text, "{\"outputs\":{\"***\":\"***\",\"RESULT\":\"***\"}}",
	    "outputs.json keeps its \"outputs\" member");
	free(text);
	json_decref(file);
	unlink(path);

	facts_json = json_pack("{s:s, s:s, s:i}", "job", "ci", "outcome",
	    "success", "exit_status", 0);
	text = trigger_file_summary(t, facts_json, mask);
	file = json_loads(text, 0, NULL);
	ok(file != NULL &&
		strcmp(json_string_value(json_object_get(file, "outcome")),
		    "success") == 0 &&
		json_is_array(json_object_get(file, "triggers")) &&
		json_is_integer(json_object_get(file, "exit_status")),
	    "the summary keeps its member names and outcome");
	json_decref(file);
	json_decref(facts_json);
	free(text);
	triggers_free(t);
	mask_set_free(mask);
}

int
main(void)
{
	test_limits();
	test_requests();
	test_steering_env();
	test_static();
	test_uuid();
	test_write_and_summary();
	test_structure_kept();
	return done_testing();
}
