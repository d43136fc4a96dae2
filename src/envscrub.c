/*
 * Scrubbing an untrusted step's environment.  Two nets: by name (every
 * variable the job declares as secret, and jobrun's own secret settings),
 * and by value (anything the mask set would mask, which also catches a
 * secret copied into another variable, a registered one, or one matching a
 * pattern).  The by-name net catches a declared secret that is too short
 * for the mask set to hold.
 */
#include "config.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "envscrub.h"
#include "list.h"
#include "xalloc.h"

/* jobrun's secret settings: their values are secrets or say where some are. */
static const char *const settings[] = {
	"JOBRUN_SECRET_VALUES_LIST",
	"JOBRUN_SECRET_ENV_NAMES",
	"JOBRUN_SECRETS_FILE",
	"REACTORCIDE_SECRET_VALUES_LIST",
	"REACTORCIDE_SECRET_ENV_NAMES",
	"REACTORCIDE_SECRETS_FILE",
};

/* True when name is one item of the comma-separated list (spaces ignored). */
static bool
in_list(const char *list, const char *name, size_t length)
{
	const char *item = list, *end;
	size_t n;

	while (list != NULL && *item != '\0') {
		while (*item == ' ' || *item == ',')
			item++;
		end = item + strcspn(item, ",");
		n = (size_t)(end - item);
		while (n > 0 && item[n - 1] == ' ')
			n--;
		if (n == length && n > 0 && memcmp(item, name, n) == 0)
			return true;
		item = end;
	}
	return false;
}

static bool
named_secret(
    const char *name, const struct job *job, const struct config *config)
{
	size_t i, length = strlen(name);

	for (i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
		if (strcmp(name, settings[i]) == 0)
			return true;
	if (strlist_find(&job->secrets.env, name) >= 0 ||
	    in_list(config_get(config, CONFIG_SECRET_ENV_NAMES), name, length))
		return true;
	for (i = 0; i < job->secrets.env_globs.len; i++)
		if (fnmatch(job->secrets.env_globs.items[i], name, 0) == 0)
			return true;
	return (job->source.token_env != NULL &&
		   strcmp(job->source.token_env, name) == 0) ||
	    (job->ci_source.token_env != NULL &&
		strcmp(job->ci_source.token_env, name) == 0);
}

static bool
holds_secret(struct mask_set *mask, const char *value)
{
	size_t length = strlen(value), masked_length;
	char *masked;
	bool differs;

	if (mask == NULL || length == 0)
		return false;
	masked = mask_string(mask, value, length, &masked_length);
	differs = masked_length != length || memcmp(masked, value, length) != 0;
	wipe(masked, masked_length);
	free(masked);
	return differs;
}

size_t
envscrub_apply(char **envp, struct mask_set *mask, const struct job *job,
    const struct config *config)
{
	size_t from, to = 0, removed = 0;
	char *eq, *name;
	bool drop;

	for (from = 0; envp[from] != NULL; from++) {
		eq = strchr(envp[from], '=');
		drop = eq == NULL || holds_secret(mask, eq + 1);
		if (!drop) {
			name = xstrndup(envp[from], (size_t)(eq - envp[from]));
			drop = named_secret(name, job, config);
			free(name);
		}
		if (drop) {
			wipe(envp[from], strlen(envp[from]));
			free(envp[from]);
			removed++;
		} else {
			envp[to++] = envp[from];
		}
	}
	envp[to] = NULL;
	return removed;
}
