/*
 * Building a step's environment and command line (stepenv.h).  Values may
 * hold secrets, so every copy is wiped before it is freed.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stepenv.h"
#include "xalloc.h"

extern char **environ;

static const struct srcpos nowhere = { 0, 0 };

static void
env_from_process(struct nvlist *env)
{
	char **entry, *name;
	const char *eq;

	for (entry = environ; *entry != NULL; entry++) {
		if ((eq = strchr(*entry, '=')) == NULL)
			continue;
		name = xstrndup(*entry, (size_t)(eq - *entry));
		nvlist_set(env, name, eq + 1, nowhere);
		free(name);
	}
}

static void
env_merge(struct nvlist *env, const struct nvlist *add)
{
	size_t i;

	for (i = 0; add != NULL && i < add->len; i++)
		nvlist_set(env, add->items[i].name, add->items[i].value,
		    add->items[i].pos);
}

/*
 * Appends the directory of the running jobrun to PATH (last, so it
 * overrides nothing), so a step can run "jobrun secret add" even when
 * jobrun is not installed, as when it runs from a build tree.
 */
static void
add_own_directory(struct nvlist *env)
{
	static char self[4096];
	const struct nvpair *path;
	char *slash, *joined, *needle;
	ssize_t n;

	if (self[0] == '\0') {
		n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n <= 0 || (slash = memrchr(self, '/', (size_t)n)) == NULL)
			return;
		*slash = '\0';
	}
	path = nvlist_get(env, "PATH");
	if (path == NULL) {
		nvlist_set(env, "PATH", self, nowhere);
		return;
	}
	joined = xasprintf(":%s:", path->value);
	needle = xasprintf(":%s:", self);
	if (strstr(joined, needle) == NULL) {
		free(joined);
		joined = xasprintf("%s:%s", path->value, self);
		nvlist_set(env, "PATH", joined, nowhere);
	}
	free(needle);
	free(joined);
}

char **
stepenv_build(const struct config *config, const struct step *step,
    unsigned attempt, const struct nvlist *job_env, const struct nvlist *extra)
{
	static const struct {
		const char *name;
		enum config_key key;
	} facts[] = {
		{ "JOBRUN_JOB_NAME", CONFIG_NAME },
		{ "JOBRUN_WORKSPACE", CONFIG_WORKSPACE },
		{ "JOBRUN_CODE_DIR", CONFIG_CODE_DIR },
		{ "JOBRUN_JOB_DIR", CONFIG_JOB_DIR },
		{ "JOBRUN_CI_SOURCE_DIR", CONFIG_CI_SOURCE_DIR },
	};
	struct nvlist env = NVLIST_INIT;
	char number[32], **envp;
	size_t i;

	env_from_process(&env);
	for (i = 0; i < sizeof(facts) / sizeof(facts[0]); i++)
		nvlist_set(&env, facts[i].name,
		    config_get(config, facts[i].key), nowhere);
	if (step != NULL) {
		nvlist_set(&env, "JOBRUN_STEP_NAME", step->name, nowhere);
		snprintf(number, sizeof(number), "%u", attempt);
		nvlist_set(&env, "JOBRUN_STEP_ATTEMPT", number, nowhere);
	}
	env_merge(&env, job_env);
	env_merge(&env, extra);
	if (step != NULL)
		env_merge(&env, &step->env);
	add_own_directory(&env);

	envp = xcalloc(env.len + 1, sizeof(*envp));
	for (i = 0; i < env.len; i++)
		envp[i] =
		    xasprintf("%s=%s", env.items[i].name, env.items[i].value);
	nvlist_release(&env);
	return envp;
}

/* Shells that stop at the first failing command with -e. */
static const char *const errexit_shells[] = { "sh", "bash", "dash", "ash",
	"ksh", "mksh", "zsh" };

/* True when program (a path or a name) is one of errexit_shells. */
static bool
is_errexit_shell(const char *program)
{
	const char *base = strrchr(program, '/');
	size_t i;

	base = base != NULL ? base + 1 : program;
	for (i = 0; i < sizeof(errexit_shells) / sizeof(errexit_shells[0]); i++)
		if (strcmp(base, errexit_shells[i]) == 0)
			return true;
	return false;
}

char **
stepenv_argv(const char *shell, const char *command)
{
	char **argv = xcalloc(strlen(shell) / 2 + 5, sizeof(*argv));
	const char *p = shell, *start;
	size_t n = 0;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		start = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		argv[n++] = xstrndup(start, (size_t)(p - start));
	}
	/* A shell named alone stops at the first failing command; one given
	 * with options runs exactly as written. */
	if (n == 1 && is_errexit_shell(argv[0]))
		argv[n++] = xstrdup("-e");
	argv[n++] = xstrdup("-c");
	argv[n++] = xstrdup(command);
	argv[n] = NULL;
	return argv;
}

const char *
stepenv_get(char *const *envp, const char *name)
{
	size_t length = strlen(name);

	for (; *envp != NULL; envp++)
		if (strncmp(*envp, name, length) == 0 && (*envp)[length] == '=')
			return *envp + length + 1;
	return NULL;
}

const char *
stepenv_workdir(
    const struct config *config, const struct step *step, char **owned)
{
	*owned = NULL;
	if (step->workdir == NULL)
		return config_get(config, CONFIG_JOB_DIR);
	if (step->workdir[0] == '/')
		return step->workdir;
	*owned = xasprintf(
	    "%s/%s", config_get(config, CONFIG_JOB_DIR), step->workdir);
	return *owned;
}

void
stepenv_free(char **vector)
{
	size_t i;

	for (i = 0; vector != NULL && vector[i] != NULL; i++) {
		wipe(vector[i], strlen(vector[i]));
		free(vector[i]);
	}
	free(vector);
}
