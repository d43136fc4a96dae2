/*
 * Construction and destruction of the job model (job.h).  Parsing lives in
 * jobfile.c and checks across steps in plan.c.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "xalloc.h"

struct job *
job_new(const char *file)
{
	struct job *job = xcalloc(1, sizeof(*job));

	job->file = file != NULL ? xstrdup(file) : NULL;
	job->trusted = TRISTATE_UNSET;
	return job;
}

struct step *
job_add_step(struct job *job)
{
	struct step *step;

	xgrow(&job->steps, &job->steps_cap, job->n_steps + 1,
	    sizeof(*job->steps));
	step = &job->steps[job->n_steps++];
	memset(step, 0, sizeof(*step));
	step->trusted = TRISTATE_UNSET;
	return step;
}

struct plugin_spec *
job_add_plugin(struct job *job)
{
	struct plugin_spec *plugin;

	job->plugins = xreallocarray(
	    job->plugins, job->n_plugins + 1, sizeof(*job->plugins));
	plugin = &job->plugins[job->n_plugins++];
	memset(plugin, 0, sizeof(*plugin));
	plugin->priority = PLUGIN_DEFAULT_PRIORITY;
	return plugin;
}

struct trigger_spec *
job_add_trigger(struct job *job)
{
	struct trigger_spec *trigger;

	job->triggers = xreallocarray(
	    job->triggers, job->n_triggers + 1, sizeof(*job->triggers));
	trigger = &job->triggers[job->n_triggers++];
	memset(trigger, 0, sizeof(*trigger));
	trigger->when = TRIGGER_WHEN_SUCCESS;
	return trigger;
}

long
job_find_step(const struct job *job, const char *name)
{
	size_t i;

	for (i = 0; i < job->n_steps; i++)
		if (job->steps[i].name != NULL &&
		    strcmp(job->steps[i].name, name) == 0)
			return (long)i;
	return -1;
}

const char *
job_setting(const struct job *job, const char *key)
{
	const struct nvpair *pair = nvlist_get(&job->settings, key);

	return pair != NULL ? pair->value : NULL;
}

bool
job_name_valid(const char *name)
{
	size_t i;

	if (!isalnum((unsigned char)name[0]))
		return false;
	for (i = 1; name[i] != '\0'; i++) {
		if (i >= JOB_NAME_MAX)
			return false;
		if (!isalnum((unsigned char)name[i]) && name[i] != '_' &&
		    name[i] != '.' && name[i] != '-')
			return false;
	}
	return true;
}

const char *
trigger_when_name(enum trigger_when when)
{
	switch (when) {
	case TRIGGER_WHEN_SUCCESS:
		return "success";
	case TRIGGER_WHEN_FAILURE:
		return "failure";
	case TRIGGER_WHEN_ALWAYS:
		return "always";
	}
	return "success";
}

static void
source_spec_release(struct source_spec *source)
{
	free(source->token_env);
	free(source->token_file);
	free(source->ssh_key_file);
	free(source->known_hosts);
	free(source->ca_file);
}

static void
step_release(struct step *step)
{
	free(step->name);
	free(step->run);
	strlist_release(&step->depends_on);
	nvlist_release(&step->env);
	free(step->workdir);
	free(step->shell);
	free(step->condition);
	free(step->run_as);
}

static void
trigger_release(struct trigger_spec *trigger)
{
	free(trigger->job);
	free(trigger->condition);
	nvlist_release(&trigger->env);
	strlist_release(&trigger->depends_on);
	free(trigger->worker_condition);
	strlist_release(&trigger->for_each);
	free(trigger->item_var);
	free(trigger->job_command);
	free(trigger->container_image);
	nvlist_release(&trigger->source);
	nvlist_release(&trigger->ci_source);
}

void
job_free(struct job *job)
{
	size_t i;

	if (job == NULL)
		return;
	free(job->file);
	nvlist_release(&job->settings);
	nvlist_release(&job->env);
	strlist_release(&job->secrets.env);
	strlist_release(&job->secrets.env_globs);
	strlist_release(&job->secrets.files);
	strlist_release(&job->secrets.patterns);
	source_spec_release(&job->source);
	source_spec_release(&job->ci_source);
	for (i = 0; i < job->n_plugins; i++) {
		free(job->plugins[i].path);
		nvlist_release(&job->plugins[i].config);
	}
	free(job->plugins);
	for (i = 0; i < job->n_steps; i++)
		step_release(&job->steps[i]);
	free(job->steps);
	for (i = 0; i < job->n_triggers; i++)
		trigger_release(&job->triggers[i]);
	free(job->triggers);
	free(job);
}
