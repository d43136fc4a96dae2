/*
 * The host services of include/jobrun/plugin.h: what a plugin may ask of
 * jobrun (a masked log line, the environment of later steps, a secret, a
 * trigger, a fact, its configuration, the steps, a supervised command).
 * Each works on the lifecycle behind the plugin's context.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "command.h"
#include "console.h"
#include "diag.h"
#include "envfile.h"
#include "file.h"
#include "lifecycle.h"
#include "plugin-host.h"
#include "proc.h"
#include "stepenv.h"
#include "xalloc.h"

static const struct srcpos nowhere = { 0, 0 };

/* The lifecycle behind a plugin's context. */
static struct lifecycle *
owner(struct jobrun_context *context)
{
	return context->host_data;
}

static void
host_log(struct jobrun_context *context, enum jobrun_log_level level,
    const char *format, ...)
{
	va_list ap;
	char *text;

	va_start(ap, format);
	if (vasprintf(&text, format, ap) < 0)
		text = NULL;
	va_end(ap);
	if (text == NULL)
		return;
	if (level == JOBRUN_LOG_WARNING)
		diag_warn("plugin %s: %s", context->name, text);
	else if (level == JOBRUN_LOG_ERROR)
		diag_error("plugin %s: error: %s", context->name, text);
	else
		diag_error("plugin %s: %s", context->name, text);
	wipe(text, strlen(text));
	free(text);
}

static const char *
host_env_get(struct jobrun_context *context, const char *name)
{
	const struct nvpair *pair;

	if (name == NULL)
		return NULL;
	if ((pair = nvlist_get(owner(context)->job_env, name)) != NULL)
		return pair->value;
	return getenv(name);
}

/* Sets a variable for later steps; who names the caller in messages. */
static int
set_env(
    struct lifecycle *lc, const char *who, const char *name, const char *value)
{
	if (name == NULL || !envfile_name_valid(name, strlen(name))) {
		diag_error("%s: cannot set '%s': not a variable name", who,
		    name ? name : "(null)");
		return -1;
	}
	if (value == NULL) {
		diag_error("%s: cannot set %s: no value", who, name);
		return -1;
	}
	nvlist_set(lc->job_env, name, value, nowhere);
	return 0;
}

static int
host_env_set(
    struct jobrun_context *context, const char *name, const char *value)
{
	char who[96];

	snprintf(who, sizeof(who), "plugin %s", context->name);
	return set_env(owner(context), who, name, value);
}

static int
host_secret_add(
    struct jobrun_context *context, const char *value, size_t length)
{
	struct lifecycle *lc = owner(context);
	char *error = NULL;
	int rc;

	if (value == NULL)
		return -1;
	rc = mask_set_add(lc->mask, value, length, &error);
	if (rc != 0) {
		diag_warn("plugin %s: a secret was refused: %s", context->name,
		    error ? error : "unknown error");
		free(error);
		return -1;
	}
	if (lc->output != NULL)
		console_rescan(lc->output);
	return 0;
}

static int
host_trigger_add(
    struct jobrun_context *context, const struct jobrun_trigger *trigger)
{
	struct lifecycle *lc = owner(context);
	json_t *request, *env, *depends;
	const char *equals;
	char *error = NULL, *name;
	size_t i;
	int rc;

	if (trigger == NULL || trigger->job_name == NULL) {
		diag_error(
		    "plugin %s: a trigger needs a job name", context->name);
		return -1;
	}
	request = json_pack("{s:s}", "job", trigger->job_name);
	env = json_object();
	for (i = 0; trigger->env != NULL && trigger->env[i] != NULL; i++) {
		if ((equals = strchr(trigger->env[i], '=')) == NULL) {
			diag_error("plugin %s: trigger '%s': '%s' is not "
				   "NAME=VALUE",
			    context->name, trigger->job_name, trigger->env[i]);
			json_decref(env);
			json_decref(request);
			return -1;
		}
		name = xstrndup(
		    trigger->env[i], (size_t)(equals - trigger->env[i]));
		json_object_set_new(env, name, json_string(equals + 1));
		free(name);
	}
	json_object_set_new(request, "env", env);
	if (trigger->depends_on != NULL) {
		depends = json_array();
		for (i = 0; trigger->depends_on[i] != NULL; i++)
			json_array_append_new(
			    depends, json_string(trigger->depends_on[i]));
		json_object_set_new(request, "depends_on", depends);
	}
	if (trigger->condition != NULL)
		json_object_set_new(
		    request, "condition", json_string(trigger->condition));
	rc = triggers_add_request(lc->triggers, request, &error);
	json_decref(request);
	if (rc < 0) {
		diag_error("plugin %s: trigger '%s': %s", context->name,
		    trigger->job_name, error);
		free(error);
		return -1;
	}
	return 0;
}

static const char *
env_value(const struct lifecycle *lc, const char *name)
{
	const struct nvpair *pair = nvlist_get(lc->job_env, name);

	return pair ? pair->value : NULL;
}

static const char *
host_fact(struct jobrun_context *context, const char *name)
{
	static const struct {
		const char *fact;
		enum config_key key;
	} settings[] = {
		{ "job", CONFIG_NAME },
		{ "workspace", CONFIG_WORKSPACE },
		{ "ci_dir", CONFIG_CI_SOURCE_DIR },
		{ "code_dir", CONFIG_CODE_DIR },
		{ "job_dir", CONFIG_JOB_DIR },
		{ "branch", CONFIG_BRANCH },
		{ "event", CONFIG_EVENT },
	};
	struct lifecycle *lc = owner(context);
	const struct nvpair *pair;
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
		if (strcmp(name, settings[i].fact) == 0)
			return config_get(lc->config, settings[i].key);
	if (strcmp(name, "phase") == 0)
		return jobrun_phase_name(lc->phase);
	if (strcmp(name, "commit") == 0)
		return env_value(lc, "JOBRUN_GIT_COMMIT");
	if (strcmp(name, "ci_commit") == 0)
		return env_value(lc, "JOBRUN_CI_GIT_COMMIT");
	pair = nvlist_get(&lc->facts, name);
	return pair && pair->value[0] != '\0' ? pair->value : NULL;
}

static const char *
host_config_get(struct jobrun_context *context, const char *key)
{
	const struct nvpair *pair;

	if (context->config == NULL || key == NULL)
		return NULL;
	pair = nvlist_get(context->config, key);
	return pair ? pair->value : NULL;
}

static int
host_config_item(struct jobrun_context *context, size_t index, const char **key,
    const char **value)
{
	if (context->config == NULL || index >= context->config->len)
		return -1;
	*key = context->config->items[index].name;
	*value = context->config->items[index].value;
	return 0;
}

static size_t
host_step_count(struct jobrun_context *context)
{
	return owner(context)->n_steps;
}

static const struct jobrun_step *
host_step_get(struct jobrun_context *context, size_t index)
{
	struct lifecycle *lc = owner(context);

	return index < lc->n_steps ? &lc->steps[index] : NULL;
}

static int
host_check_trusted(struct jobrun_context *context, const char *path)
{
	char *why;

	if (path == NULL)
		return -1;
	if (plugins_check_trusted(path,
		config_get(owner(context)->config, CONFIG_CODE_DIR), &why) == 0)
		return 0;
	diag_warn("plugin %s: not trusted: %s", context->name, why);
	free(why);
	return -1;
}

/* ---- host->run() ---- */

struct run_output {
	const char *label;
};

static void
print_line(void *context, const char *line, size_t size)
{
	const struct run_output *out = context;

	diag_error("%s: %.*s", out->label, (int)size, line);
}

static bool
is_directory(const char *path)
{
	struct stat st;

	return path != NULL && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Applies the NAME=VALUE lines a command left in its JOBRUN_ENV file. */
static void
apply_env_file(struct lifecycle *lc, const char *who, const char *path)
{
	struct nvlist set = NVLIST_INIT;
	char *data, *error = NULL;
	size_t i, length;

	/* The command's file: never followed, never a FIFO that blocks. */
	if (file_read_all(
		AT_FDCWD, path, ENVFILE_MAX_SIZE, &data, &length, &error) < 0) {
		if (errno != ENOENT)
			diag_error("%s: %s", who, error);
		free(error);
		return;
	}
	if (length > 0 && envfile_parse(&set, data, who, &error) < 0) {
		diag_error("%s", error);
		free(error);
	}
	wipe(data, length);
	free(data);
	for (i = 0; i < set.len; i++)
		set_env(lc, who, set.items[i].name, set.items[i].value);
	nvlist_release(&set);
}

static int
host_run(struct jobrun_context *context, const char *const *argv,
    const char *const *env, const char *label, uint64_t timeout_ms,
    int *exit_status)
{
	struct lifecycle *lc = owner(context);
	struct nvlist extra = NVLIST_INIT;
	struct command_spec spec = { 0 };
	struct run_output out;
	char *program = NULL;
	char who[160], *error = NULL, **envp = NULL;
	const char *tmp = getenv("TMPDIR"), *equals;
	char *env_path;
	int fd, rc = -1;
	size_t i;

	*exit_status = -1;
	if (argv == NULL || argv[0] == NULL) {
		diag_error("plugin %s: run: no command", context->name);
		return -1;
	}
	snprintf(who, sizeof(who), "plugin %s: %s", context->name,
	    label ? label : argv[0]);
	env_path = xasprintf("%s/jobrun-env-XXXXXX",
	    tmp != NULL && tmp[0] == '/' ? tmp : "/tmp");
	if ((fd = mkostemp(env_path, O_CLOEXEC)) < 0) {
		diag_error(
		    "%s: cannot make its env file: %s", who, strerror(errno));
		free(env_path);
		return -1;
	}
	close(fd);
	nvlist_set(
	    &extra, "JOBRUN_PHASE", jobrun_phase_name(lc->phase), nowhere);
	nvlist_set(&extra, "JOBRUN_PLUGIN", context->name, nowhere);
	nvlist_set(&extra, "JOBRUN_ENV", env_path, nowhere);
	if (lc->socket_path != NULL) {
		nvlist_set(&extra, "JOBRUN_SOCKET", lc->socket_path, nowhere);
		nvlist_set(&extra, "REACTORCIDE_SECRETS_SOCKET",
		    lc->socket_path, nowhere);
	}
	for (i = 0; env != NULL && env[i] != NULL; i++) {
		char *name;

		if ((equals = strchr(env[i], '=')) == NULL ||
		    !envfile_name_valid(env[i], (size_t)(equals - env[i]))) {
			diag_error("%s: '%s' is not NAME=VALUE", who, env[i]);
			goto out;
		}
		name = xstrndup(env[i], (size_t)(equals - env[i]));
		nvlist_set(&extra, name, equals + 1, nowhere);
		free(name);
	}
	envp = stepenv_build(lc->config, NULL, 0, lc->job_env, &extra);
	if ((program = proc_find_program(argv[0], stepenv_get(envp, "PATH"))) ==
	    NULL) {
		diag_error("%s: cannot run '%s': not found", who, argv[0]);
		goto out;
	}
	out.label = who;
	spec.path = program;
	spec.argv = (char *const *)(uintptr_t)argv;
	spec.envp = envp;
	spec.cwd = is_directory(config_get(lc->config, CONFIG_JOB_DIR))
	    ? config_get(lc->config, CONFIG_JOB_DIR)
	    : NULL;
	spec.timeout_ms = timeout_ms ? timeout_ms : lc->places.timeout_ms;
	spec.mask = lc->mask;
	spec.line = print_line;
	spec.context = &out;
	plugins_watchdog_pause();
	rc = command_run(&spec, exit_status, &error);
	plugins_watchdog_resume();
	if (rc < 0) {
		diag_error("%s: %s", who, error);
		free(error);
		goto out;
	}
	apply_env_file(lc, who, env_path);
out:
	unlink(env_path);
	free(env_path);
	free(program);
	stepenv_free(envp);
	nvlist_release(&extra);
	return rc;
}

/* ---- the lifecycle ---- */

void
plugin_host_init(struct jobrun_host *host)
{
	*host = (struct jobrun_host){
		.abi_version = JOBRUN_PLUGIN_ABI_VERSION,
		.jobrun_version = PACKAGE_VERSION,
		.log = host_log,
		.env_get = host_env_get,
		.env_set = host_env_set,
		.secret_add = host_secret_add,
		.trigger_add = host_trigger_add,
		.fact = host_fact,
		.config_get = host_config_get,
		.config_item = host_config_item,
		.step_count = host_step_count,
		.step_get = host_step_get,
		.run = host_run,
		.check_trusted = host_check_trusted,
	};
}
