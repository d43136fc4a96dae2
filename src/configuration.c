/*
 * The configuration layers (config.h).  One table below lists every key with
 * its variable, runnerlib alias, flag, job file key, type and default; the
 * layering code is generic over it.  Defaults may derive from keys earlier
 * in the table (code_dir from workspace, job_dir from code_dir), so the
 * table's order is the order defaults are computed in.
 */
#include "config.h"

#include "configuration.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "diag.h"
#include "duration.h"
#include "xalloc.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#ifndef JOBRUN_PLUGIN_DIR
#define JOBRUN_PLUGIN_DIR "/usr/local/lib/jobrun/plugins"
#endif

enum config_type {
	TYPE_STRING,
	TYPE_PATH,
	TYPE_NAME,
	TYPE_BOOL,
	TYPE_INTEGER,
	TYPE_DURATION,
	TYPE_SOURCE_TYPE,
	TYPE_LOG_FORMAT,
	TYPE_ISOLATION,
};

struct config_spec {
	const char *name;
	const char *env;
	const char *alias; /* runnerlib's REACTORCIDE_* name */
	const char *job_key;
	enum config_type type;
	long long min, max;
	bool secret;
	/* Returns the default (owned by the caller) or NULL for none; may
	 * set *why to a short reason shown by --explain. */
	char *(*derive)(const struct config *config, const struct job *job,
	    const char **why);
};

static char *
current_dir(void)
{
	char *dir = getcwd(NULL, 0);

	return dir != NULL ? dir : xstrdup(".");
}

static bool
is_local(const struct config *config)
{
	return config->values[CONFIG_LOCAL].number != 0;
}

static char *
default_name(
    const struct config *config, const struct job *job, const char **why)
{
	return xstrdup("job");
}

/* Local mode: no workspace was chosen and /job does not exist. */
static char *
default_local(
    const struct config *config, const struct job *job, const char **why)
{
	if (config->values[CONFIG_WORKSPACE].text != NULL) {
		*why = "a workspace was given";
		return xstrdup("false");
	}
	if (access("/job", F_OK) != 0) {
		*why = "/job does not exist";
		return xstrdup("true");
	}
	*why = "/job exists";
	return xstrdup("false");
}

static char *
default_workspace(
    const struct config *config, const struct job *job, const char **why)
{
	char *cwd, *path;

	if (!is_local(config))
		return xstrdup("/job");
	*why = "local mode";
	cwd = current_dir();
	path = xasprintf("%s/.jobrun", cwd);
	free(cwd);
	return path;
}

/* A source other than none is prepared into an empty directory, never
 * into the directory jobrun was started in. */
static bool
prepares(const struct config *config, enum config_key type)
{
	const char *text = config->values[type].text;

	return text != NULL && strcmp(text, "none") != 0;
}

static char *
default_code_dir(
    const struct config *config, const struct job *job, const char **why)
{
	if (is_local(config) && !prepares(config, CONFIG_SOURCE_TYPE)) {
		*why = "local mode: the current directory";
		return current_dir();
	}
	*why = "workspace/src";
	return xasprintf("%s/src", config_get(config, CONFIG_WORKSPACE));
}

static char *
default_job_dir(
    const struct config *config, const struct job *job, const char **why)
{
	*why = "code_dir";
	return xstrdup(config_get(config, CONFIG_CODE_DIR));
}

static char *
default_ci_source_dir(
    const struct config *config, const struct job *job, const char **why)
{
	const char *file = config_get(config, CONFIG_JOB_FILE);
	const char *slash;
	char *dir, *cwd, *path;

	if (!is_local(config) || prepares(config, CONFIG_CI_SOURCE_TYPE)) {
		*why = "workspace/ci";
		return xasprintf("%s/ci", config_get(config, CONFIG_WORKSPACE));
	}
	if (file == NULL || strcmp(file, "-") == 0) {
		*why = "local mode: the current directory";
		return current_dir();
	}
	*why = "local mode: the job file's directory";
	slash = strrchr(file, '/');
	dir = slash == NULL ? xstrdup(".")
	    : slash == file ? xstrdup("/")
			    : xstrndup(file, (size_t)(slash - file));
	if (dir[0] == '/')
		return dir;
	cwd = current_dir();
	path =
	    strcmp(dir, ".") == 0 ? xstrdup(cwd) : xasprintf("%s/%s", cwd, dir);
	free(cwd);
	free(dir);
	return path;
}

static char *
default_shell(
    const struct config *config, const struct job *job, const char **why)
{
	return xstrdup("sh");
}

static char *
default_grace_period(
    const struct config *config, const struct job *job, const char **why)
{
	return xstrdup("10s");
}

static char *
default_plugin_timeout(
    const struct config *config, const struct job *job, const char **why)
{
	return xstrdup("60s");
}

static char *
default_log_format(
    const struct config *config, const struct job *job, const char **why)
{
	return xstrdup("text");
}

static char *
default_jobs(
    const struct config *config, const struct job *job, const char **why)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	*why = "the number of processors";
	return xasprintf("%ld", n > 0 ? n : 1);
}

static char *
default_source_type(
    const struct config *config, const struct job *job, const char **why)
{
	return xstrdup("none");
}

static char *
default_min_length(
    const struct config *config, const struct job *job, const char **why)
{
	return xstrdup("4");
}

static char *
default_plugin_dir(
    const struct config *config, const struct job *job, const char **why)
{
	return xstrdup(JOBRUN_PLUGIN_DIR);
}

static char *
default_triggers_file(
    const struct config *config, const struct job *job, const char **why)
{
	*why = "workspace/triggers.json";
	return xasprintf(
	    "%s/triggers.json", config_get(config, CONFIG_WORKSPACE));
}

static char *
default_untrusted_user(
    const struct config *config, const struct job *job, const char **why)
{
	return xstrdup("65532:65532");
}

static char *
default_isolation(
    const struct config *config, const struct job *job, const char **why)
{
	return xstrdup("strict");
}

static char *
default_off(
    const struct config *config, const struct job *job, const char **why)
{
	return xstrdup("false");
}

#define R "REACTORCIDE_"
static const struct config_spec specs[CONFIG_KEY_COUNT] = {
	[CONFIG_JOB_FILE] = { "job_file", "JOBRUN_JOB_FILE", NULL, NULL,
	    TYPE_PATH, 0, 0, false, NULL },
	[CONFIG_NAME] = { "name", "JOBRUN_NAME", NULL, "name", TYPE_NAME, 0, 0,
	    false, default_name },
	[CONFIG_LOCAL] = { "local", "JOBRUN_LOCAL", NULL, NULL, TYPE_BOOL, 0, 1,
	    false, default_local },
	[CONFIG_WORKSPACE] = { "workspace", "JOBRUN_WORKSPACE", NULL, NULL,
	    TYPE_PATH, 0, 0, false, default_workspace },
	[CONFIG_CODE_DIR] = { "code_dir", "JOBRUN_CODE_DIR", R "CODE_DIR", NULL,
	    TYPE_PATH, 0, 0, false, default_code_dir },
	[CONFIG_JOB_DIR] = { "job_dir", "JOBRUN_JOB_DIR", R "JOB_DIR",
	    "workdir", TYPE_PATH, 0, 0, false, default_job_dir },
	[CONFIG_CI_SOURCE_DIR] = { "ci_source_dir", "JOBRUN_CI_SOURCE_DIR",
	    R "CI_SOURCE_DIR", NULL, TYPE_PATH, 0, 0, false,
	    default_ci_source_dir },
	[CONFIG_JOB_COMMAND] = { "job_command", "JOBRUN_JOB_COMMAND",
	    R "JOB_COMMAND", NULL, TYPE_STRING, 0, 0, false, NULL },
	[CONFIG_JOB_ENV] = { "job_env", "JOBRUN_JOB_ENV", R "JOB_ENV", NULL,
	    TYPE_STRING, 0, 0, false, NULL },
	[CONFIG_SHELL] = { "shell", "JOBRUN_SHELL", NULL, "shell", TYPE_STRING,
	    0, 0, false, default_shell },
	[CONFIG_TIMEOUT] = { "timeout", "JOBRUN_TIMEOUT", NULL, "timeout",
	    TYPE_DURATION, 0, 0, false, NULL },
	[CONFIG_GRACE_PERIOD] = { "grace_period", "JOBRUN_GRACE_PERIOD", NULL,
	    NULL, TYPE_DURATION, 0, 0, false, default_grace_period },
	[CONFIG_JOBS] = { "jobs", "JOBRUN_JOBS", NULL, NULL, TYPE_INTEGER, 1,
	    4096, false, default_jobs },
	[CONFIG_LOG_FORMAT] = { "log_format", "JOBRUN_LOG_FORMAT", NULL, NULL,
	    TYPE_LOG_FORMAT, 0, 0, false, default_log_format },
	[CONFIG_BRANCH] = { "branch", "JOBRUN_BRANCH", NULL, NULL, TYPE_STRING,
	    0, 0, false, NULL },
	[CONFIG_TAG] = { "tag", "JOBRUN_TAG", NULL, NULL, TYPE_STRING, 0, 0,
	    false, NULL },
	[CONFIG_EVENT] = { "event", "JOBRUN_EVENT", NULL, NULL, TYPE_STRING, 0,
	    0, false, NULL },
	[CONFIG_SOURCE_TYPE] = { "source_type", "JOBRUN_SOURCE_TYPE",
	    R "SOURCE_TYPE", "source.type", TYPE_SOURCE_TYPE, 0, 0, false,
	    default_source_type },
	[CONFIG_SOURCE_URL] = { "source_url", "JOBRUN_SOURCE_URL",
	    R "SOURCE_URL", "source.url", TYPE_STRING, 0, 0, false, NULL },
	[CONFIG_SOURCE_REF] = { "source_ref", "JOBRUN_SOURCE_REF",
	    R "SOURCE_REF", "source.ref", TYPE_STRING, 0, 0, false, NULL },
	[CONFIG_CI_SOURCE_TYPE] = { "ci_source_type", "JOBRUN_CI_SOURCE_TYPE",
	    R "CI_SOURCE_TYPE", "ci_source.type", TYPE_SOURCE_TYPE, 0, 0, false,
	    default_source_type },
	[CONFIG_CI_SOURCE_URL] = { "ci_source_url", "JOBRUN_CI_SOURCE_URL",
	    R "CI_SOURCE_URL", "ci_source.url", TYPE_STRING, 0, 0, false,
	    NULL },
	[CONFIG_CI_SOURCE_REF] = { "ci_source_ref", "JOBRUN_CI_SOURCE_REF",
	    R "CI_SOURCE_REF", "ci_source.ref", TYPE_STRING, 0, 0, false,
	    NULL },
	[CONFIG_SECRET_VALUES_LIST] = { "secret_values_list",
	    "JOBRUN_SECRET_VALUES_LIST", R "SECRET_VALUES_LIST", NULL,
	    TYPE_STRING, 0, 0, true, NULL },
	[CONFIG_SECRET_ENV_NAMES] = { "secret_env_names",
	    "JOBRUN_SECRET_ENV_NAMES", R "SECRET_ENV_NAMES", NULL, TYPE_STRING,
	    0, 0, false, NULL },
	[CONFIG_SECRETS_FILE] = { "secrets_file", "JOBRUN_SECRETS_FILE",
	    R "SECRETS_FILE", NULL, TYPE_PATH, 0, 0, false, NULL },
	[CONFIG_SECRET_MIN_LENGTH] = { "secret_min_length",
	    "JOBRUN_SECRET_MIN_LENGTH", NULL, "secrets.min_length",
	    TYPE_INTEGER, 1, 4096, false, default_min_length },
	[CONFIG_PLUGIN_DIR] = { "plugin_dir", "JOBRUN_PLUGIN_DIR", NULL, NULL,
	    TYPE_PATH, 0, 0, false, default_plugin_dir },
	[CONFIG_PLUGIN_PATH] = { "plugin_path", "JOBRUN_PLUGIN_PATH",
	    R "PLUGIN_DIR", NULL, TYPE_STRING, 0, 0, false, NULL },
	[CONFIG_PLUGINS] = { "plugins", "JOBRUN_PLUGINS", NULL, NULL,
	    TYPE_STRING, 0, 0, false, NULL },
	[CONFIG_PLUGIN_TIMEOUT] = { "plugin_timeout", "JOBRUN_PLUGIN_TIMEOUT",
	    NULL, NULL, TYPE_DURATION, 0, 0, false, default_plugin_timeout },
	[CONFIG_TRIGGERS_FILE] = { "triggers_file", "JOBRUN_TRIGGERS_FILE",
	    R "TRIGGERS_FILE", NULL, TYPE_PATH, 0, 0, false,
	    default_triggers_file },
	[CONFIG_UNTRUSTED_USER] = { "untrusted_user", "JOBRUN_UNTRUSTED_USER",
	    NULL, "untrusted_user", TYPE_STRING, 0, 0, false,
	    default_untrusted_user },
	[CONFIG_ISOLATION] = { "isolation", "JOBRUN_ISOLATION", NULL,
	    "isolation", TYPE_ISOLATION, 0, 0, false, default_isolation },
	[CONFIG_TIMESTAMPS] = { "timestamps", "JOBRUN_TIMESTAMPS", NULL, NULL,
	    TYPE_BOOL, 0, 1, false, default_off },
};
#undef R

const char *
config_key_name(enum config_key key)
{
	return specs[key].name;
}

const char *
config_key_env(enum config_key key)
{
	return specs[key].env;
}

const char *
config_key_alias(enum config_key key)
{
	return specs[key].alias;
}

const char *
config_get(const struct config *config, enum config_key key)
{
	return config->values[key].text;
}

long long
config_number(const struct config *config, enum config_key key)
{
	return config->values[key].number;
}

uint64_t
config_ms(const struct config *config, enum config_key key)
{
	return config->values[key].ms;
}

static bool
parse_bool(const char *text, long long *out)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off" };
	size_t i;

	for (i = 0; i < 4; i++) {
		if (strcmp(text, yes[i]) == 0) {
			*out = 1;
			return true;
		}
		if (strcmp(text, no[i]) == 0) {
			*out = 0;
			return true;
		}
	}
	return false;
}

/*
 * Checks text against the key's type and fills the typed fields of value.
 * Returns NULL, or a static sentence saying what was expected.
 */
static const char *
check_value(enum config_key key, const char *text, struct config_value *value)
{
	const struct config_spec *spec = &specs[key];
	const char *why = NULL;

	switch (spec->type) {
	case TYPE_STRING:
		return NULL;
	case TYPE_PATH:
		return text[0] == '\0' ? "expected a path, got nothing" : NULL;
	case TYPE_NAME:
		return job_name_valid(text)
		    ? NULL
		    : "expected a name of letters, digits, '_', '.' and '-'";
	case TYPE_BOOL:
		return parse_bool(text, &value->number)
		    ? NULL
		    : "expected true or false";
	case TYPE_INTEGER:
		if (number_parse(
			&value->number, text, spec->min, spec->max, &why) < 0)
			return why;
		return NULL;
	case TYPE_DURATION:
		if (duration_parse(&value->ms, text, &why) < 0)
			return why;
		return NULL;
	case TYPE_LOG_FORMAT:
		if (strcmp(text, "text") == 0 || strcmp(text, "json") == 0)
			return NULL;
		return "expected text or json";
	case TYPE_ISOLATION:
		if (strcmp(text, "strict") == 0 || strcmp(text, "weak") == 0)
			return NULL;
		return "expected strict or weak";
	case TYPE_SOURCE_TYPE:
		if (strcmp(text, "git") == 0 || strcmp(text, "copy") == 0 ||
		    strcmp(text, "tarball") == 0 || strcmp(text, "none") == 0)
			return NULL;
		return "expected git, copy, tarball or none";
	}
	return NULL;
}

/* Paths from the environment and flags are relative to where we started. */
static char *
absolute_path(const char *path)
{
	char *cwd, *result;

	if (path[0] == '/')
		return xstrdup(path);
	cwd = current_dir();
	result = strcmp(path, ".") == 0 ? xstrdup(cwd)
					: xasprintf("%s/%s", cwd, path);
	free(cwd);
	return result;
}

static int
set_value(struct config *config, enum config_key key, const char *text,
    enum config_source source, const char *origin, char **error)
{
	struct config_value *value = &config->values[key];
	struct config_value fresh = { 0 };
	const char *why;

	why = check_value(key, text, &fresh);
	if (why != NULL) {
		if (specs[key].secret)
			*error = xasprintf("%s: %s", origin, why);
		else
			*error =
			    xasprintf("%s: %s, got '%.80s'", origin, why, text);
		return -1;
	}
	free(value->text);
	free(value->origin);
	*value = fresh;
	/* The job file's paths stay as written until code_dir is known. */
	value->text = specs[key].type == TYPE_PATH &&
		source != CONFIG_FROM_JOB_FILE && key != CONFIG_JOB_FILE
	    ? absolute_path(text)
	    : xstrdup(text);
	value->origin = xstrdup(origin);
	value->source = source;
	return 0;
}

static int
layer_job(struct config *config, const struct job *job, char **error)
{
	const struct nvpair *pair;
	char *origin;
	size_t key;
	int rc;

	for (key = 0; key < CONFIG_KEY_COUNT; key++) {
		if (specs[key].job_key == NULL ||
		    (pair = nvlist_get(&job->settings, specs[key].job_key)) ==
			NULL)
			continue;
		origin = xasprintf("%s:%u:%u", job->file ? job->file : "job",
		    pair->pos.line, pair->pos.column);
		rc = set_value(config, key, pair->value, CONFIG_FROM_JOB_FILE,
		    origin, error);
		free(origin);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int
layer_env(struct config *config, char **error)
{
	const char *text, *name;
	size_t key;

	for (key = 0; key < CONFIG_KEY_COUNT; key++) {
		name = specs[key].env;
		text = getenv(name);
		if (text == NULL && specs[key].alias != NULL) {
			name = specs[key].alias;
			text = getenv(name);
		}
		/* An empty variable counts as unset, as in runnerlib. */
		if (text == NULL || text[0] == '\0')
			continue;
		if (set_value(config, key, text, CONFIG_FROM_ENV, name, error) <
		    0)
			return -1;
	}
	return 0;
}

static void
layer_defaults(struct config *config, const struct job *job)
{
	struct config_value *value;
	const char *why;
	char *text;
	size_t key;

	for (key = 0; key < CONFIG_KEY_COUNT; key++) {
		value = &config->values[key];
		if (value->text != NULL || specs[key].derive == NULL)
			continue;
		why = NULL;
		text = specs[key].derive(config, job, &why);
		if (text == NULL)
			continue;
		if (check_value(key, text, value) != NULL)
			BUG("the default of %s, '%s', is not valid",
			    specs[key].name, text);
		value->text = text;
		value->origin = why != NULL ? xstrdup(why) : NULL;
		value->source = CONFIG_FROM_DEFAULT;
	}
}

/* A job file's workdir is relative to the code directory. */
static void
resolve_job_dir(struct config *config)
{
	struct config_value *value = &config->values[CONFIG_JOB_DIR];
	char *joined;

	if (value->source != CONFIG_FROM_JOB_FILE || value->text[0] == '/')
		return;
	joined = xasprintf(
	    "%s/%s", config_get(config, CONFIG_CODE_DIR), value->text);
	free(value->text);
	value->text = joined;
}

/* A flag's value; repeated --plugin flags add up to one list. */
static int
add_flag_value(
    struct config *config, const struct config_flag *flag, char **error)
{
	const struct config_value *now = &config->values[flag->key];
	char *joined;
	int rc;

	if (flag->key != CONFIG_PLUGINS || now->source != CONFIG_FROM_FLAG ||
	    now->text == NULL)
		return set_value(config, flag->key, flag->value,
		    CONFIG_FROM_FLAG, flag->flag, error);
	joined = xasprintf("%s,%s", now->text, flag->value);
	rc = set_value(
	    config, flag->key, joined, CONFIG_FROM_FLAG, flag->flag, error);
	free(joined);
	return rc;
}

/* Sets key to text as derived from ref, unless a layer has set it. */
static void
set_derived(struct config *config, enum config_key key, const char *text,
    size_t length, const char *ref)
{
	struct config_value *value = &config->values[key];

	if (value->text != NULL)
		return;
	value->text = xstrndup(text, length);
	value->origin = xasprintf("derived from source_ref '%s'", ref);
	value->source = CONFIG_FROM_DEFAULT;
}

/* True for a commit id, full or short: 7 to 40 hexadecimal digits. */
static bool
is_commit_id(const char *ref)
{
	size_t length = strlen(ref);

	return length >= 7 && length <= 40 &&
	    strspn(ref, "0123456789abcdefABCDEF") == length;
}

/*
 * Derives branch, tag and event from the source's ref, for those no layer
 * set: refs/heads/X is branch X (event push); refs/tags/X is tag X (event
 * tag); refs/pull/N/head and refs/merge-requests/N/head (or .../merge) are
 * event pull_request.  "refs/" may be left out of these.  A bare name is a
 * branch (event push), as a branch is what one names most; a commit id
 * derives nothing.
 */
static void
derive_ref_facts(struct config *config)
{
	static const char *const requests[] = { "pull/", "merge-requests/" };
	const char *ref = config_get(config, CONFIG_SOURCE_REF), *name;
	size_t i;

	if (ref == NULL || ref[0] == '\0' || is_commit_id(ref))
		return;
	name = strncmp(ref, "refs/", 5) == 0 ? ref + 5 : ref;
	if (strncmp(name, "heads/", 6) == 0 && name[6] != '\0') {
		set_derived(
		    config, CONFIG_BRANCH, name + 6, strlen(name + 6), ref);
		set_derived(config, CONFIG_EVENT, "push", 4, ref);
		return;
	}
	if (strncmp(name, "tags/", 5) == 0 && name[5] != '\0') {
		set_derived(
		    config, CONFIG_TAG, name + 5, strlen(name + 5), ref);
		set_derived(config, CONFIG_EVENT, "tag", 3, ref);
		return;
	}
	for (i = 0; i < ARRAY_SIZE(requests); i++) {
		if (strncmp(name, requests[i], strlen(requests[i])) == 0) {
			set_derived(
			    config, CONFIG_EVENT, "pull_request", 12, ref);
			return;
		}
	}
	if (name != ref)
		return; /* another kind of ref: nothing to say */
	set_derived(config, CONFIG_BRANCH, ref, strlen(ref), ref);
	set_derived(config, CONFIG_EVENT, "push", 4, ref);
}

int
config_build(struct config *out, const struct job *job,
    const struct config_flag *flags, size_t n_flags, char **error)
{
	struct config config;
	size_t i;

	*error = NULL;
	memset(&config, 0, sizeof(config));
	if (job != NULL && layer_job(&config, job, error) < 0)
		goto fail;
	if (layer_env(&config, error) < 0)
		goto fail;
	for (i = 0; i < n_flags; i++)
		if (add_flag_value(&config, &flags[i], error) < 0)
			goto fail;
	layer_defaults(&config, job);
	derive_ref_facts(&config);
	resolve_job_dir(&config);
	*out = config;
	return 0;
fail:
	config_release(&config);
	return -1;
}

const char *
config_source_name(enum config_source source)
{
	switch (source) {
	case CONFIG_FROM_DEFAULT:
		return "default";
	case CONFIG_FROM_JOB_FILE:
		return "job file";
	case CONFIG_FROM_ENV:
		return "environment";
	case CONFIG_FROM_FLAG:
		return "flag";
	}
	return "default";
}

bool
config_key_secret(enum config_key key)
{
	return specs[key].secret;
}

void
config_release(struct config *config)
{
	size_t key;

	for (key = 0; key < CONFIG_KEY_COUNT; key++) {
		if (config->values[key].text != NULL) {
			wipe(config->values[key].text,
			    strlen(config->values[key].text));
			free(config->values[key].text);
		}
		free(config->values[key].origin);
	}
	memset(config, 0, sizeof(*config));
}
