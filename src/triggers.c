/*
 * Trigger logic (triggers.h).  Dynamic triggers are kept as the JSON
 * objects they will be written as; static ones are turned into such
 * objects when the job's outcome is known.  Nothing here masks or writes:
 * trigger-file.c does, on a copy, at the end of the job.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "diag.h"
#include "envfile.h"
#include "result.h"
#include "triggers.h"
#include "xalloc.h"

struct triggers {
	const struct job *job;
	json_t *dynamic; /* job objects, in arrival order */
	json_t *jobs; /* decided: static, then dynamic */
	size_t dynamic_bytes; /* their JSON, compact */
	json_t *outputs; /* workflow outputs: KEY -> VALUE */
	size_t outputs_bytes;
	char *error; /* the errors joined, for the file; NULL: none */
	json_t *errors; /* each error, in order: strings */
	size_t refused; /* dynamic triggers refused past a limit */
	const char *outcome;
};

/* jansson's allocations fail only when memory runs out: fatal. */
static void
out_of_memory(void)
{
	diag_error("out of memory");
	exit(EXIT_JOBRUN_ERROR);
}

struct triggers *
triggers_new(const struct job *job)
{
	struct triggers *t = xcalloc(1, sizeof(*t));

	t->job = job;
	t->dynamic = json_array();
	t->jobs = json_array();
	t->outputs = json_object();
	t->errors = json_array();
	if (t->dynamic == NULL || t->jobs == NULL || t->outputs == NULL ||
	    t->errors == NULL)
		out_of_memory();
	return t;
}

void
triggers_free(struct triggers *t)
{
	if (t == NULL)
		return;
	json_decref(t->dynamic);
	json_decref(t->jobs);
	json_decref(t->outputs);
	json_decref(t->errors);
	free(t->error);
	free(t);
}

const json_t *
triggers_jobs(const struct triggers *t)
{
	return t->jobs;
}

const char *
triggers_outcome_name(const struct triggers *t)
{
	return t->outcome;
}

const char *
triggers_limit_error(const struct triggers *t)
{
	return t->error;
}

const json_t *
triggers_errors(const struct triggers *t)
{
	return t->errors;
}

/* Records an error (message is consumed) for result.json and the file. */
static void
record_error(struct triggers *t, char *message)
{
	char *joined;

	json_array_append_new(t->errors, json_string(message));
	joined = t->error == NULL ? xstrdup(message)
				  : xasprintf("%s; %s", t->error, message);
	free(t->error);
	t->error = joined;
	free(message);
}

/* ---- building job objects ---- */

static void
set_string(json_t *object, const char *key, const char *value)
{
	if (value != NULL &&
	    json_object_set_new(object, key, json_string(value)) < 0)
		out_of_memory();
}

static bool
worker_condition_valid(const char *value)
{
	return strcmp(value, "all_success") == 0 ||
	    strcmp(value, "any_failed") == 0 || strcmp(value, "always") == 0;
}

/* The type, url and ref of a trigger's source: as prefix_type, ... */
static void
set_source(json_t *object, const char *prefix, const struct nvlist *source)
{
	static const char *const keys[] = { "type", "url", "ref" };
	const struct nvpair *pair;
	char name[32];
	size_t i;

	for (i = 0; i < 3; i++) {
		if ((pair = nvlist_get(source, keys[i])) == NULL)
			continue;
		snprintf(name, sizeof(name), "%s_%s", prefix, keys[i]);
		set_string(object, name, pair->value);
	}
}

static json_t *
string_array(const struct strlist *list)
{
	json_t *array = json_array();
	size_t i;

	for (i = 0; i < list->len; i++)
		json_array_append_new(array, json_string(list->items[i]));
	return array;
}

/* One job object of a static trigger; item (may be NULL) joins its env. */
static json_t *
static_job(const struct trigger_spec *spec, const char *item)
{
	json_t *job = json_object(), *env = json_object();
	size_t i;

	if (job == NULL || env == NULL)
		out_of_memory();
	set_string(job, "job_name", spec->job);
	for (i = 0; i < spec->env.len; i++)
		set_string(
		    env, spec->env.items[i].name, spec->env.items[i].value);
	if (item != NULL)
		set_string(env,
		    spec->item_var != NULL ? spec->item_var : "ITEM", item);
	json_object_set_new(job, "env", env);
	if (spec->depends_on.len > 0)
		json_object_set_new(
		    job, "depends_on", string_array(&spec->depends_on));
	set_string(job, "condition", spec->worker_condition);
	set_source(job, "source", &spec->source);
	set_source(job, "ci_source", &spec->ci_source);
	set_string(job, "container_image", spec->container_image);
	set_string(job, "job_command", spec->job_command);
	if (spec->timeout_ms > 0)
		json_object_set_new(job, "timeout",
		    json_integer(
			(json_int_t)((spec->timeout_ms + 999) / 1000)));
	if (spec->has_priority)
		json_object_set_new(
		    job, "priority", json_integer(spec->priority));
	return job;
}

/* ---- dynamic triggers ---- */

static int
request_error(char **error, const char *message)
{
	*error = xstrdup(message);
	return -1;
}

/*
 * Names that steer the next job's runner rather than its steps: jobrun's
 * and runnerlib's settings, the dynamic linker, the shells' start-up and
 * parsing, interpreters' injection points, git's configuration and
 * transports, proxies and certificate stores, glibc's loaders.  Compared
 * without regard to case.  jobrun(1) lists them (TRIGGERS).
 */
static const char *const steering_prefixes[] = { "JOBRUN_", "REACTORCIDE_",
	"LD_", "DYLD_", "GIT_", "BASH_FUNC_", "PYTHON", "NODE_", "PERL5",
	"PERLLIB", "RUBY", "LUA_", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS",
	"JDK_JAVA_OPTIONS", "GLIBC_TUNABLES", "MALLOC_", "SSL_CERT_",
	"NPM_CONFIG_", "PIP_", "CARGO_", "GOFLAGS", "GOPROXY", "DOCKER_" };
static const char *const steering_names[] = { "PATH", "HOME", "SHELL", "ENV",
	"BASH_ENV", "SHELLOPTS", "BASHOPTS", "PS4", "IFS", "CDPATH",
	"GLOBIGNORE", "PROMPT_COMMAND", "TMPDIR", "GCONV_PATH", "LOCPATH",
	"NLSPATH", "HOSTALIASES", "RES_OPTIONS", "LOCALDOMAIN", "HTTP_PROXY",
	"HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "FTP_PROXY", "CURL_CA_BUNDLE",
	"REQUESTS_CA_BUNDLE", "SSH_AUTH_SOCK", "KUBECONFIG" };

bool
triggers_env_name_steers(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(steering_prefixes) / sizeof(*steering_prefixes);
	     i++)
		if (strncasecmp(name, steering_prefixes[i],
			strlen(steering_prefixes[i])) == 0)
			return true;
	for (i = 0; i < sizeof(steering_names) / sizeof(*steering_names); i++)
		if (strcasecmp(name, steering_names[i]) == 0)
			return true;
	return false;
}

/* Copies a request's env: an object of strings. */
static int
request_env(json_t *request, json_t *job, char **error)
{
	json_t *env = json_object_get(request, "env"), *copy, *value;
	const char *key;

	copy = json_object();
	if (env != NULL && !json_is_object(env)) {
		json_decref(copy);
		return request_error(
		    error, "expected \"env\": an object of strings");
	}
	json_object_foreach(env, key, value)
	{
		if (!json_is_string(value) || key[0] == '\0' ||
		    strchr(key, '=') != NULL) {
			json_decref(copy);
			return request_error(error,
			    "expected \"env\": an object of strings "
			    "with names without '='");
		}
		if (triggers_env_name_steers(key)) {
			json_decref(copy);
			*error =
			    xasprintf("refused: env '%.64s' would steer the "
				      "next job's runner (JOBRUN_*, "
				      "REACTORCIDE_*, LD_*, PATH, ...: "
				      "see jobrun(1), TRIGGERS); only the "
				      "job file's triggers may set it",
				key);
			return -1;
		}
		set_string(copy, key, json_string_value(value));
	}
	json_object_set_new(job, "env", copy);
	return 0;
}

static int
request_depends_on(json_t *request, json_t *job, char **error)
{
	json_t *list = json_object_get(request, "depends_on"), *item;
	size_t i;

	if (list == NULL)
		return 0;
	if (!json_is_array(list))
		return request_error(
		    error, "expected \"depends_on\": a list of job names");
	json_array_foreach(list, i, item)
	{
		if (!json_is_string(item) ||
		    !job_name_valid(json_string_value(item)))
			return request_error(error,
			    "expected \"depends_on\": a list of job names");
	}
	if (json_array_size(list) > 0)
		json_object_set(job, "depends_on", list);
	return 0;
}

/* A dynamic trigger past a limit: refused, and counted for the record. */
static int
refuse_past_limit(struct triggers *t, char **error, const char *message)
{
	t->refused++;
	return request_error(error, message);
}

int
triggers_add_request(struct triggers *t, json_t *request, char **error)
{
	const char *name = json_string_value(json_object_get(request, "job"));
	json_t *condition = json_object_get(request, "condition"), *job;
	size_t size;

	*error = NULL;
	if (name == NULL || !job_name_valid(name))
		return request_error(error,
		    "expected \"job\": a job name "
		    "([A-Za-z0-9][A-Za-z0-9_.-]*)");
	if (condition != NULL &&
	    (!json_is_string(condition) ||
		!worker_condition_valid(json_string_value(condition))))
		return request_error(error,
		    "expected \"condition\": all_success, any_failed or "
		    "always");
	if (json_array_size(t->dynamic) >= TRIGGERS_MAX_JOBS)
		return refuse_past_limit(
		    t, error, "too many triggers (at most 1000 per job)");
	job = json_object();
	set_string(job, "job_name", name);
	if (request_env(request, job, error) < 0 ||
	    request_depends_on(request, job, error) < 0) {
		json_decref(job);
		return -1;
	}
	if (condition != NULL)
		json_object_set(job, "condition", condition);
	/* Memory stays bounded: past the file's limit nothing is written. */
	size = json_dumpb(job, NULL, 0, JSON_COMPACT);
	if (t->dynamic_bytes + size > TRIGGERS_MAX_BYTES) {
		json_decref(job);
		return refuse_past_limit(t, error,
		    "too many triggers (more than 1 MiB of JSON in all)");
	}
	t->dynamic_bytes += size;
	json_array_append_new(t->dynamic, job);
	return 0;
}

/* ---- deciding ---- */

static bool
expr_function_of(void *context, enum expr_function function)
{
	const struct triggers_outcome *outcome = context;

	switch (function) {
	case EXPR_ALWAYS:
		return true;
	case EXPR_CANCELLED:
		return outcome->cancelled;
	case EXPR_SUCCESS:
		return outcome->success;
	case EXPR_FAILURE:
		return !outcome->success && !outcome->cancelled;
	}
	return false;
}

static const char *
lookup_of(void *context, const char *name)
{
	const struct triggers_outcome *outcome = context;

	return outcome->facts->lookup(outcome->facts->context, name);
}

static bool
when_holds(enum trigger_when when, const struct triggers_outcome *outcome)
{
	switch (when) {
	case TRIGGER_WHEN_SUCCESS:
		return outcome->success;
	case TRIGGER_WHEN_FAILURE:
		return !outcome->success;
	case TRIGGER_WHEN_ALWAYS:
		return true;
	}
	return false;
}

/* when:, then if: (validated by plan_build, so it parses). */
static bool
trigger_fires(
    const struct trigger_spec *spec, const struct triggers_outcome *outcome)
{
	struct expr_facts facts = { lookup_of, expr_function_of,
		(void *)(uintptr_t)outcome };
	struct expr *expr;
	char *error = NULL;
	size_t offset;
	bool fires;

	if (!when_holds(spec->when, outcome))
		return false;
	if (spec->condition == NULL)
		return true;
	expr = expr_parse(spec->condition, &error, &offset, NULL, NULL);
	if (expr == NULL) {
		free(error);
		return false;
	}
	fires = expr_eval(expr, &facts);
	expr_free(expr);
	return fires;
}

/* The static triggers that fire, up to TRIGGERS_MAX_JOBS jobs. */
static void
decide_static(struct triggers *t, const struct triggers_outcome *outcome)
{
	size_t i, k, n = t->job != NULL ? t->job->n_triggers : 0, left;

	for (i = 0; i < n; i++) {
		const struct trigger_spec *spec = &t->job->triggers[i];

		if (!trigger_fires(spec, outcome))
			continue;
		left = TRIGGERS_MAX_JOBS - json_array_size(t->jobs);
		if ((spec->for_each.len == 0 ? 1 : spec->for_each.len) > left) {
			record_error(t,
			    xasprintf("too many triggered jobs: trigger '%s' "
				      "brings them past %d; it and the "
				      "triggers after it are not listed",
				spec->job, TRIGGERS_MAX_JOBS));
			return;
		}
		if (spec->for_each.len == 0)
			json_array_append_new(t->jobs, static_job(spec, NULL));
		for (k = 0; k < spec->for_each.len; k++)
			json_array_append_new(
			    t->jobs, static_job(spec, spec->for_each.items[k]));
	}
}

/* The dynamic triggers after the static ones, as many as fit the file's
 * limits; the others are dropped and the drop recorded. */
static void
decide_dynamic(struct triggers *t)
{
	size_t i, bytes = json_dumpb(t->jobs, NULL, 0, JSON_COMPACT), size;
	size_t n = json_array_size(t->dynamic), kept = 0;
	json_t *job;

	for (i = 0; i < n; i++) {
		job = json_array_get(t->dynamic, i);
		size = json_dumpb(job, NULL, 0, JSON_COMPACT) + 1;
		if (json_array_size(t->jobs) >= TRIGGERS_MAX_JOBS ||
		    bytes + size > TRIGGERS_MAX_BYTES - TRIGGERS_FILE_SLACK)
			break;
		json_array_append(t->jobs, job);
		bytes += size;
		kept++;
	}
	if (kept < n || t->refused > 0)
		record_error(t,
		    xasprintf("too many triggered jobs: %zu trigger(s) added "
			      "by steps or plugins are not listed (the "
			      "file's limits: %d jobs, %d bytes; the job "
			      "file's own triggers come first)",
			n - kept + t->refused, TRIGGERS_MAX_JOBS,
			TRIGGERS_MAX_BYTES));
}

long
triggers_decide(
    struct triggers *t, const struct triggers_outcome *outcome, char **error)
{
	*error = NULL;
	t->outcome = outcome->name;
	json_array_clear(t->jobs);
	json_array_clear(t->errors);
	free(t->error);
	t->error = NULL;
	decide_static(t, outcome);
	decide_dynamic(t);
	if (t->error != NULL)
		*error = xstrdup(t->error);
	return t->error != NULL ? -1 : (long)json_array_size(t->jobs);
}

/* ---- workflow outputs ---- */

/* An output key is a variable name of at most 100 characters. */
static bool
output_key_valid(const char *key)
{
	size_t length = strlen(key);

	return length <= 100 && envfile_name_valid(key, length);
}

int
triggers_set_output(struct triggers *t, json_t *request, char **error)
{
	const char *key = json_string_value(json_object_get(request, "key"));
	json_t *value = json_object_get(request, "value"), *old;
	size_t size;

	*error = NULL;
	if (key == NULL || !output_key_valid(key))
		return request_error(error,
		    "expected \"key\": [A-Za-z_][A-Za-z0-9_]*, at most 100 "
		    "characters");
	if (!json_is_string(value))
		return request_error(error, "expected \"value\": a string");
	size = strlen(key) + json_string_length(value);
	old = json_object_get(t->outputs, key);
	if (old != NULL)
		t->outputs_bytes -= strlen(key) + json_string_length(old);
	else if (json_object_size(t->outputs) >= TRIGGERS_MAX_OUTPUTS)
		return request_error(error, "too many outputs (at most 1000)");
	if (t->outputs_bytes + size > TRIGGERS_MAX_OUTPUT_BYTES) {
		if (old != NULL)
			t->outputs_bytes +=
			    strlen(key) + json_string_length(old);
		return request_error(
		    error, "the outputs would exceed 512 KiB in all");
	}
	t->outputs_bytes += size;
	json_object_set(t->outputs, key, value);
	return 0;
}

const json_t *
triggers_outputs(const struct triggers *t)
{
	return t->outputs;
}
