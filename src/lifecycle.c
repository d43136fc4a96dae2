/*
 * The lifecycle (lifecycle.h): plugins loaded from their places, the
 * phases in order with their failure policy, the step hooks, teardown.
 * The services plugins call back into live in plugin-host.c.
 */
#include "config.h"

#include "lifecycle.h"

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

#include "diag.h"
#include "plugin-host.h"
#include "envfile.h"
#include "console.h"
#include "proc.h"
#include "stepenv.h"
#include "xalloc.h"

static const struct srcpos nowhere = { 0, 0 };

const char *
lifecycle_status_name(int status)
{
	switch (status) {
	case EXIT_JOB_SUCCESS:
		return "success";
	case EXIT_JOB_FAILED:
		return "failed";
	case EXIT_JOB_TIMED_OUT:
		return "timed_out";
	case EXIT_JOBRUN_ERROR:
		return "error";
	default:
		return "cancelled";
	}
}

void
lifecycle_set_fact(struct lifecycle *lc, const char *name, const char *value)
{
	nvlist_set(&lc->facts, name, value ? value : "", nowhere);
}

void
lifecycle_init(struct lifecycle *lc, const struct config *config,
    const struct job *job, struct nvlist *job_env, struct mask_set *mask)
{
	const char *workspace = config_get(config, CONFIG_WORKSPACE);
	char *dir;
	size_t i;

	memset(lc, 0, sizeof(*lc));
	lc->config = config;
	lc->job = job;
	lc->job_env = job_env;
	lc->mask = mask;
	lc->triggers = triggers_new(job);
	lc->places.plugin_dir = config_get(config, CONFIG_PLUGIN_DIR);
	lc->places.code_dir = config_get(config, CONFIG_CODE_DIR);
	lc->places.timeout_ms = config_ms(config, CONFIG_PLUGIN_TIMEOUT);
	lc->plugins = plugins_new(&lc->places);
	plugin_host_init(&lc->host);
	lc->n_steps = job != NULL ? job->n_steps : 0;
	lc->steps = xcalloc(lc->n_steps + 1, sizeof(*lc->steps));
	lc->step_logs = xcalloc(lc->n_steps + 1, sizeof(*lc->step_logs));
	for (i = 0; i < lc->n_steps; i++) {
		lc->steps[i].name = job->steps[i].name;
		lc->steps[i].index = i;
		lc->steps[i].exit_code = -1;
		lc->steps[i].continue_on_error =
		    job->steps[i].continue_on_error;
	}
	dir = xasprintf("%s/artifacts", workspace);
	lifecycle_set_fact(lc, "artifacts_dir", dir);
	free(dir);
	dir = xasprintf("%s/logs", workspace);
	lifecycle_set_fact(lc, "log_dir", dir);
	free(dir);
}

/* The directory of the job file, for its relative plugin paths. */
static char *
job_file_dir(const struct job *job)
{
	const char *slash;

	if (job == NULL || job->file == NULL || strcmp(job->file, "-") == 0 ||
	    (slash = strrchr(job->file, '/')) == NULL)
		return NULL;
	if (slash == job->file)
		return xstrdup("/");
	return xstrndup(job->file, (size_t)(slash - job->file));
}

/* Loads the directories of a colon-separated list. */
static int
load_path(
    struct lifecycle *lc, const char *list, const char *origin, char **error)
{
	char *copy = xstrdup(list), *dir, *next;
	int rc = 0;

	for (dir = copy; rc == 0 && dir != NULL; dir = next) {
		if ((next = strchr(dir, ':')) != NULL)
			*next++ = '\0';
		if (dir[0] != '\0')
			rc = plugins_load_dir(lc->plugins, dir,
			    PLUGIN_DEFAULT_PRIORITY, origin, error);
	}
	free(copy);
	return rc;
}

/* After loading (rc, with *error when -1): reports, or calls the new
 * plugins' init().  Returns 0 or -1. */
static int
init_loaded(struct lifecycle *lc, int rc, char *error)
{
	if (rc < 0) {
		diag_error("%s", error);
		free(error);
		lifecycle_set_fact(lc, "error", "a plugin could not be loaded");
		return -1;
	}
	if (plugins_init(lc->plugins, &lc->host, lc) < 0) {
		lifecycle_set_fact(lc, "error", "a plugin's init failed");
		return -1;
	}
	return 0;
}

int
lifecycle_load(struct lifecycle *lc)
{
	const char *path = config_get(lc->config, CONFIG_PLUGIN_PATH);
	const char *list = config_get(lc->config, CONFIG_PLUGINS);
	char *error = NULL, *base = job_file_dir(lc->job), *origin;
	const struct plugin_spec *spec;
	size_t i;
	int rc = 0;

	if (path != NULL)
		rc = load_path(lc, path,
		    lc->config->values[CONFIG_PLUGIN_PATH].origin, &error);
	if (rc == 0 && list != NULL)
		rc = plugins_load_list(lc->plugins, list,
		    lc->config->values[CONFIG_PLUGINS].origin, &error);
	for (i = 0; rc == 0 && lc->job != NULL && i < lc->job->n_plugins; i++) {
		spec = &lc->job->plugins[i];
		origin = xasprintf("%s:%u:%u", lc->job->file, spec->pos.line,
		    spec->pos.column);
		rc = plugins_load(lc->plugins, spec->path, base, spec->priority,
		    &spec->config, origin, &error);
		free(origin);
	}
	free(base);
	return init_loaded(lc, rc, error);
}

int
lifecycle_load_ci(struct lifecycle *lc)
{
	const char *ci_dir = config_get(lc->config, CONFIG_CI_SOURCE_DIR);
	char *dir, *error = NULL;
	int rc;

	if (strcmp(config_get(lc->config, CONFIG_CI_SOURCE_TYPE), "none") == 0)
		return 0;
	dir = xasprintf("%s/.jobrun/plugins", ci_dir);
	rc = plugins_load_dir(
	    lc->plugins, dir, PLUGIN_DEFAULT_PRIORITY, "ci_source", &error);
	free(dir);
	return init_loaded(lc, rc, error);
}

int
lifecycle_phase(struct lifecycle *lc, enum jobrun_phase phase)
{
	char *why;
	int rc;

	lc->phase = phase;
	if (lc->phase_event != NULL)
		lc->phase_event(lc->phase_context, phase, false, false);
	rc = plugins_phase(lc->plugins, phase);
	if (lc->phase_event != NULL)
		lc->phase_event(lc->phase_context, phase, true, rc != 0);
	if (rc == 0) {
		if (phase == JOBRUN_PHASE_PRE_EXECUTION)
			lc->executing = true;
		return 0;
	}
	if (nvlist_get(&lc->facts, "error") == NULL ||
	    nvlist_get(&lc->facts, "error")->value[0] == '\0') {
		why = xasprintf(
		    "a plugin's %s hook failed", jobrun_phase_name(phase));
		lifecycle_set_fact(lc, "error", why);
		free(why);
	}
	return -1;
}

int
lifecycle_step(struct lifecycle *lc, enum jobrun_phase when, size_t index)
{
	if (index >= lc->n_steps)
		return 0;
	return plugins_step(lc->plugins, when, &lc->steps[index]);
}

void
lifecycle_teardown(struct lifecycle *lc, int status)
{
	char number[16];
	size_t i;

	if (lc->torn_down)
		return;
	lc->torn_down = true;
	snprintf(number, sizeof(number), "%d", status);
	lifecycle_set_fact(lc, "status", number);
	lifecycle_set_fact(lc, "outcome", lifecycle_status_name(status));
	/* The first step whose failure failed the job: a failure forgiven
	 * by continue_on_error did not. */
	for (i = 0; i < lc->n_steps; i++)
		if ((lc->steps[i].outcome == JOBRUN_OUTCOME_FAILED ||
			lc->steps[i].outcome == JOBRUN_OUTCOME_TIMED_OUT) &&
		    !lc->job->steps[i].continue_on_error) {
			lifecycle_set_fact(
			    lc, "failed_step", lc->steps[i].name);
			break;
		}
	/* Without plugins the phases still run (and are reported as
	 * events); no hook is called. */
	if (lc->executing)
		lifecycle_phase(lc, JOBRUN_PHASE_POST_EXECUTION);
	if (status != EXIT_JOB_SUCCESS)
		lifecycle_phase(lc, JOBRUN_PHASE_ON_ERROR);
	lifecycle_phase(lc, JOBRUN_PHASE_CLEANUP);
}

void
lifecycle_release(struct lifecycle *lc)
{
	size_t i;

	plugins_free(lc->plugins);
	lc->plugins = NULL;
	triggers_free(lc->triggers);
	lc->triggers = NULL;
	for (i = 0; i < lc->n_steps; i++)
		free(lc->step_logs[i]);
	free(lc->step_logs);
	free(lc->steps);
	nvlist_release(&lc->facts);
}
