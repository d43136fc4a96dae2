/*
 * triggers.json, outputs.json and the termination summary
 * (trigger-file.h).  Masking happens here, on the way out, on a copy, so
 * what triggers.c keeps is what was asked for and the secrets registered
 * up to the very end are masked in the files.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "file.h"
#include "list.h"
#include "result.h"
#include "trigger-file.h"
#include "xalloc.h"

/* jansson's allocations fail only when memory runs out: fatal. */
static void
out_of_memory(void)
{
	diag_error("out of memory");
	exit(EXIT_JOBRUN_ERROR);
}

static void
set_string(json_t *object, const char *key, const char *value)
{
	if (value != NULL)
		json_object_set_new(object, key, json_string(value));
}

int
trigger_file_uuid(char out[37])
{
	unsigned char b[16];
	ssize_t n;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, b, sizeof(b));
	close(fd);
	if (n != (ssize_t)sizeof(b))
		return -1;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37,
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x",
	    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
	    b[11], b[12], b[13], b[14], b[15]);
	return 0;
}

/* ---- masking that keeps the structure ---- */

/* A JSON string of text (length bytes) masked. */
static json_t *
masked_text(const char *text, size_t length, struct mask_set *mask)
{
	json_t *copy;
	char *masked;
	size_t size;

	if (mask == NULL)
		return json_stringn(text, length);
	masked = mask_string(mask, text, length, &size);
	copy = json_stringn(masked, size);
	wipe(masked, size);
	free(masked);
	/* A mask that cut a character in two: hide the whole value. */
	return copy != NULL ? copy : json_string(MASK_TOKEN_DEFAULT);
}

/* Values: strings masked, arrays item by item, numbers and the like as
 * they are; member names of nested objects are kept. */
static json_t *
masked_value(const json_t *value, struct mask_set *mask)
{
	json_t *v = (json_t *)(uintptr_t)value, *copy, *item;
	const char *key;
	size_t i;

	if (json_is_string(v))
		return masked_text(
		    json_string_value(v), json_string_length(v), mask);
	if (json_is_array(v)) {
		copy = json_array();
		json_array_foreach(v, i, item)
		    json_array_append_new(copy, masked_value(item, mask));
		return copy;
	}
	if (json_is_object(v)) {
		copy = json_object();
		json_object_foreach(v, key, item)
		    json_object_set_new(copy, key, masked_value(item, mask));
		return copy;
	}
	return json_deep_copy(v);
}

/* Sets name (masked: a name the job chose) to value in object; a masked
 * name already there is numbered, so no member is lost. */
static void
set_masked_name(
    json_t *object, const char *name, json_t *value, struct mask_set *mask)
{
	json_t *masked = masked_text(name, strlen(name), mask);
	const char *base = json_string_value(masked);
	char *numbered = xstrdup(base);
	unsigned n = 1;

	while (json_object_get(object, numbered) != NULL) {
		free(numbered);
		numbered = xasprintf("%s_%u", base, ++n);
	}
	json_object_set_new(object, numbered, value);
	free(numbered);
	json_decref(masked);
}

/* An object whose names and values both came from the job (env, outputs). */
static json_t *
masked_names(const json_t *object, struct mask_set *mask)
{
	json_t *o = (json_t *)(uintptr_t)object, *copy = json_object(), *item;
	const char *key;

	json_object_foreach(o, key, item)
	    set_masked_name(copy, key, masked_value(item, mask), mask);
	return copy;
}

/* A fixed word of the format, never masked: a worker's condition. */
static bool
fixed_word(const char *member, const json_t *value)
{
	const char *text = json_string_value(value);

	return text != NULL && strcmp(member, "condition") == 0 &&
	    (strcmp(text, "all_success") == 0 ||
		strcmp(text, "any_failed") == 0 || strcmp(text, "always") == 0);
}

/* One job of "jobs": member names kept, "env" names and values masked,
 * every other value masked unless it is a fixed word. */
static json_t *
masked_job(const json_t *job, struct mask_set *mask)
{
	json_t *j = (json_t *)(uintptr_t)job, *copy = json_object(), *item;
	const char *key;

	json_object_foreach(j, key, item)
	{
		if (strcmp(key, "env") == 0 && json_is_object(item))
			json_object_set_new(
			    copy, key, masked_names(item, mask));
		else if (fixed_word(key, item))
			json_object_set_new(copy, key, json_deep_copy(item));
		else
			json_object_set_new(
			    copy, key, masked_value(item, mask));
	}
	return copy;
}

static json_t *
masked_jobs(const json_t *jobs, struct mask_set *mask)
{
	json_t *copy = json_array(), *item;
	size_t i;

	json_array_foreach((json_t *)(uintptr_t)jobs, i, item)
	    json_array_append_new(copy, masked_job(item, mask));
	return copy;
}

/*
 * The file's object, masked: "type", "operation_id" (random),
 * "trigger_type" and "outcome" (jobrun's own word) as they are; the job's
 * name, the error (which may name jobs) and the jobs masked.
 */
static json_t *
file_object(struct triggers *t, const char *job_name, const char *uuid,
    const json_t *jobs, const char *error, struct mask_set *mask)
{
	json_t *file = json_object();

	set_string(file, "type", "trigger_job");
	set_string(file, "operation_id", uuid);
	set_string(file, "trigger_type", "jobrun");
	if (job_name != NULL)
		json_object_set_new(
		    file, "job", masked_text(job_name, strlen(job_name), mask));
	set_string(file, "outcome", triggers_outcome_name(t));
	if (error != NULL)
		json_object_set_new(
		    file, "error", masked_text(error, strlen(error), mask));
	json_object_set_new(file, "jobs", masked_jobs(jobs, mask));
	return file;
}

/* The file's text, masked; NULL with *error past TRIGGERS_MAX_BYTES. */
static char *
render(struct triggers *t, const char *job_name, struct mask_set *mask,
    char **error)
{
	json_t *file, *masked;
	char uuid[37], *text;

	if (trigger_file_uuid(uuid) < 0) {
		*error = xasprintf("cannot read '/dev/urandom': %s",
		    strerror(errno != 0 ? errno : EIO));
		return NULL;
	}
	file = file_object(
	    t, job_name, uuid, triggers_jobs(t), triggers_limit_error(t), mask);
	text = json_dumps(file, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(file);
	if (text == NULL)
		out_of_memory();
	if (strlen(text) <= TRIGGERS_MAX_BYTES)
		return text;
	free(text);
	/* Too big: say so in a file with no jobs. */
	*error = xasprintf("too many triggered jobs: more than %d bytes of "
			   "JSON; none is listed",
	    TRIGGERS_MAX_BYTES);
	masked = json_array();
	file = file_object(t, job_name, uuid, masked, *error, mask);
	json_decref(masked);
	text = json_dumps(file, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(file);
	return text;
}

int
trigger_file_write(struct triggers *t, const char *path, const char *job_name,
    struct mask_set *mask, char **error)
{
	char *text, *limit = NULL;
	int rc;

	*error = NULL;
	if ((text = render(t, job_name, mask, &limit)) == NULL) {
		*error = limit;
		return -1;
	}
	rc = file_write_atomic(path, text, strlen(text), true, error);
	free(text);
	if (rc == 0 && limit != NULL) {
		*error = limit;
		return 1;
	}
	free(limit);
	return rc;
}

int
trigger_file_write_outputs(
    struct triggers *t, const char *path, struct mask_set *mask, char **error)
{
	json_t *file = json_object();
	char *text;
	int rc;

	json_object_set_new(
	    file, "outputs", masked_names(triggers_outputs(t), mask));
	text = json_dumps(file, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(file);
	if (text == NULL)
		out_of_memory();
	rc = file_write_atomic(path, text, strlen(text), true, error);
	free(text);
	return rc;
}

/* ---- local mode ---- */

/* Appends text to *buffer (of *length bytes) single-quoted for sh. */
static void
append_quoted(char **buffer, const char *text)
{
	char *quoted = xmalloc(strlen(text) * 4 + 3), *q = quoted, *joined;
	const char *p;

	*q++ = '\'';
	for (p = text; *p != '\0'; p++) {
		if (*p == '\'') {
			memcpy(q, "'\\''", 4);
			q += 4;
		} else {
			*q++ = *p;
		}
	}
	*q++ = '\'';
	*q = '\0';
	joined = xasprintf("%s%s", *buffer, quoted);
	free(*buffer);
	free(quoted);
	*buffer = joined;
}

static void
append(char **buffer, const char *text)
{
	char *joined = xasprintf("%s%s", *buffer, text);

	free(*buffer);
	*buffer = joined;
}

/* A flag and its value, when job has member. */
static void
append_flag(char **line, json_t *job, const char *member, const char *flag)
{
	const char *value = json_string_value(json_object_get(job, member));

	if (value == NULL)
		return;
	append(line, " ");
	append(line, flag);
	append(line, " ");
	append_quoted(line, value);
}

/* "NAME (after A, B; C): K='V' jobrun run --name 'NAME' ..." */
static char *
describe_job(json_t *job)
{
	json_t *depends_on = json_object_get(job, "depends_on"), *value;
	const char *condition, *key, *sep = " (after ";
	char *line =
	    xstrdup(json_string_value(json_object_get(job, "job_name")));
	char number[32];
	size_t i;

	json_array_foreach(depends_on, i, value)
	{
		append(&line, sep);
		append(&line, json_string_value(value));
		sep = ", ";
	}
	condition = json_string_value(json_object_get(job, "condition"));
	if (condition != NULL) {
		append(&line, depends_on != NULL ? "; " : " (");
		append(&line, condition);
	}
	append(&line, depends_on != NULL || condition != NULL ? "):" : ":");
	json_object_foreach(json_object_get(job, "env"), key, value)
	{
		append(&line, " ");
		append(&line, key);
		append(&line, "=");
		append_quoted(&line, json_string_value(value));
	}
	append(&line, " jobrun run");
	append_flag(&line, job, "job_name", "--name");
	append_flag(&line, job, "job_command", "--job-command");
	if ((value = json_object_get(job, "timeout")) != NULL) {
		snprintf(number, sizeof(number), " --timeout %llds",
		    (long long)json_integer_value(value));
		append(&line, number);
	}
	append_flag(&line, job, "source_type", "--source-type");
	append_flag(&line, job, "source_url", "--source-url");
	append_flag(&line, job, "source_ref", "--source-ref");
	append_flag(&line, job, "ci_source_type", "--ci-source-type");
	append_flag(&line, job, "ci_source_url", "--ci-source-url");
	append_flag(&line, job, "ci_source_ref", "--ci-source-ref");
	return line;
}

void
trigger_file_describe(struct triggers *t, struct mask_set *mask,
    void (*emit)(void *context, const char *line), void *context)
{
	json_t *jobs = masked_jobs(triggers_jobs(t), mask), *job;
	char *line;
	size_t i;

	if (json_array_size(jobs) == 0)
		emit(context, "next: no job is triggered");
	json_array_foreach(jobs, i, job)
	{
		line = describe_job(job);
		emit(context, line);
		free(line);
	}
	json_decref(jobs);
}

/* ---- the termination log ---- */

/* The encoded length of string value in compact JSON. */
static size_t
encoded_length(json_t *value)
{
	char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
	size_t length;

	if (text == NULL)
		out_of_memory();
	length = strlen(text);
	free(text);
	return length;
}

/* The facts, member names kept and "outcome" (jobrun's word) as it is. */
static json_t *
masked_facts(json_t *facts, struct mask_set *mask)
{
	json_t *copy = json_object(), *item;
	const char *key;

	json_object_foreach(facts, key, item)
	{
		if (strcmp(key, "outcome") == 0)
			json_object_set_new(copy, key, json_deep_copy(item));
		else
			json_object_set_new(
			    copy, key, masked_value(item, mask));
	}
	return copy;
}

char *
trigger_file_summary(struct triggers *t, json_t *facts, struct mask_set *mask)
{
	json_t *summary = masked_facts(facts, mask), *jobs, *names, *name;
	size_t i, used, more = 0;
	char *text;

	jobs = masked_jobs(triggers_jobs(t), mask);
	names = json_array();
	/* The summary without names, plus room for "triggers":[] and
	 * "more_triggers":N. */
	used = encoded_length(summary) + 40;
	json_array_foreach(jobs, i, name)
	{
		name = json_object_get(name, "job_name");
		if (more == 0 &&
		    used + encoded_length(name) + 1 <=
			TRIGGER_FILE_SUMMARY_MAX) {
			used += encoded_length(name) + 1;
			json_array_append(names, name);
		} else {
			more++;
		}
	}
	json_object_set_new(summary, "triggers", names);
	if (more > 0)
		json_object_set_new(
		    summary, "more_triggers", json_integer((json_int_t)more));
	text = json_dumps(summary, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(summary);
	json_decref(jobs);
	if (text == NULL)
		out_of_memory();
	return text;
}
