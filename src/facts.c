/*
 * The job's facts for conditions (facts.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "facts.h"
#include "xalloc.h"

/* steps.NAME or steps.NAME.outcome: a step's name may hold dots. */
static const char *
step_fact(const struct facts *facts, const char *name)
{
	char *step_name = xstrdup(name);
	size_t length = strlen(step_name);
	long step;

	step = plan_find(facts->plan, step_name);
	if (step < 0 && length > 8 &&
	    strcmp(step_name + length - 8, ".outcome") == 0) {
		step_name[length - 8] = '\0';
		step = plan_find(facts->plan, step_name);
	}
	free(step_name);
	if (step < 0 || facts->outcome == NULL)
		return NULL;
	return jobrun_outcome_name(
	    facts->outcome(facts->context, (size_t)step));
}

const char *
facts_lookup(const struct facts *facts, const char *name)
{
	const struct nvpair *pair;

	if (strcmp(name, "branch") == 0)
		return config_get(facts->config, CONFIG_BRANCH);
	if (strcmp(name, "event") == 0)
		return config_get(facts->config, CONFIG_EVENT);
	if (strcmp(name, "tag") == 0)
		return config_get(facts->config, CONFIG_TAG);
	if (strcmp(name, "job") == 0)
		return config_get(facts->config, CONFIG_NAME);
	if (strncmp(name, "env.", 4) == 0) {
		pair = facts->job_env != NULL
		    ? nvlist_get(facts->job_env, name + 4)
		    : NULL;
		return pair != NULL ? pair->value : getenv(name + 4);
	}
	if (strncmp(name, "steps.", 6) == 0 && facts->plan != NULL)
		return step_fact(facts, name + 6);
	return NULL;
}
