/*
 * result.json with jansson, written with file.h's atomic write.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "mask.h"
#include "clock.h"
#include "file.h"
#include "result.h"
#include "xalloc.h"

static json_t *
time_value(const struct timespec *ts)
{
	char buf[CLOCK_UTC_TEXT_SIZE];

	if (ts->tv_sec == 0)
		return json_null();
	return json_string(clock_utc_text(buf, ts));
}

static json_t *
step_value(const struct result_step *step)
{
	json_t *object = json_object();

	json_object_set_new(object, "name", json_string(step->name));
	json_object_set_new(object, "outcome", json_string(step->outcome));
	json_object_set_new(object, "exit_code",
	    step->exit_code >= 0 ? json_integer(step->exit_code) : json_null());
	json_object_set_new(object, "signal",
	    step->signal > 0 ? json_integer(step->signal) : json_null());
	json_object_set_new(
	    object, "oom_killed", json_boolean(step->oom_killed));
	json_object_set_new(object, "isolation",
	    step->isolation != NULL ? json_string(step->isolation)
				    : json_null());
	json_object_set_new(object, "attempts", json_integer(step->attempts));
	json_object_set_new(object, "started_at", time_value(&step->started));
	json_object_set_new(object, "finished_at", time_value(&step->finished));
	json_object_set_new(
	    object, "duration_ms", json_integer((json_int_t)step->duration_ms));
	json_object_set_new(object, "log",
	    step->log != NULL ? json_string(step->log) : json_null());
	json_object_set_new(object, "trusted", json_boolean(step->trusted));
	json_object_set_new(
	    object, "continue_on_error", json_boolean(step->continue_on_error));
	json_object_set_new(object, "reason",
	    step->reason != NULL ? json_string(step->reason) : json_null());
	json_object_set_new(object, "outputs",
	    step->outputs != NULL ? json_incref(step->outputs) : json_array());
	return object;
}

/*
 * "redactions": the salt, every registered secret's hash and count in
 * registration order (count 0 included), every pattern's count in the
 * job file's order (mask.h, "Redaction counts").
 */
static json_t *
redactions_value(const struct mask_set *mask)
{
	json_t *object = json_object(), *secrets = json_array(),
	       *patterns = json_array();
	char hash[2 * MASK_HASH_SIZE + 1];
	uint64_t count;
	size_t i;

	json_object_set_new(object, "salt", json_string(mask_set_salt(mask)));
	for (i = 0; i < mask_set_secrets(mask); i++) {
		count = mask_set_secret_count(mask, i, hash);
		json_array_append_new(secrets,
		    json_pack("{s:s, s:I}", "hash", hash, "count",
			(json_int_t)count));
	}
	for (i = 0; i < mask_set_patterns(mask); i++)
		json_array_append_new(patterns,
		    json_pack("{s:I, s:I}", "pattern", (json_int_t)i, "count",
			(json_int_t)mask_set_pattern_count(mask, i)));
	json_object_set_new(object, "secrets", secrets);
	json_object_set_new(object, "patterns", patterns);
	return object;
}

int
result_write(
    const char *path, const struct result *result, bool durable, char **error)
{
	json_t *root = json_object(), *steps = json_array();
	char *text;
	size_t i;
	int rc;

	json_object_set_new(root, "version", json_integer(1));
	json_object_set_new(root, "job", json_string(result->job));
	json_object_set_new(root, "outcome", json_string(result->outcome));
	json_object_set_new(
	    root, "exit_status", json_integer(result->exit_status));
	json_object_set_new(root, "started_at", time_value(&result->started));
	json_object_set_new(root, "finished_at", time_value(&result->finished));
	json_object_set_new(
	    root, "duration_ms", json_integer((json_int_t)result->duration_ms));
	for (i = 0; i < result->n_steps; i++)
		json_array_append_new(steps, step_value(&result->steps[i]));
	json_object_set_new(root, "steps", steps);
	if (result->error != NULL)
		json_object_set_new(root, "error", json_string(result->error));
	if (result->sources != NULL)
		json_object_set(root, "sources", result->sources);
	if (result->trigger_errors != NULL &&
	    json_array_size(result->trigger_errors) > 0)
		json_object_set(root, "trigger_errors", result->trigger_errors);
	if (result->signal != 0)
		json_object_set_new(
		    root, "signal", json_integer(result->signal));
	if (result->mask != NULL)
		json_object_set_new(
		    root, "redactions", redactions_value(result->mask));
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (text == NULL) {
		*error = xasprintf("cannot encode '%s'", path);
		return -1;
	}
	rc = file_write_atomic(path, text, strlen(text), durable, error);
	free(text);
	return rc;
}
