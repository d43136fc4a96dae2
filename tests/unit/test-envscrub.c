/*
 * Unit tests for envscrub.h: which variables an untrusted step loses, by
 * value (anything the mask set masks, also copied or encoded) and by name
 * (secrets.env, secret_env_names, env_globs, token_env, jobrun's secret
 * settings), and that everything else stays in order.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envscrub.h"
#include "list.h"
#include "tap.h"
#include "xalloc.h"

static const struct srcpos nowhere = { 0, 0 };

/* Returns a heap vector of copies of the NULL-terminated list. */
static char **
vector(const char *const *items)
{
	size_t n = 0, i;
	char **out;

	while (items[n] != NULL)
		n++;
	out = xcalloc(n + 1, sizeof(*out));
	for (i = 0; i < n; i++)
		out[i] = xstrdup(items[i]);
	return out;
}

/* The vector's names, comma-separated, then frees it. */
static char *
names(char **envp)
{
	char buffer[1024] = "";
	size_t i;

	for (i = 0; envp[i] != NULL; i++) {
		if (i > 0)
			strcat(buffer, ",");
		strncat(buffer, envp[i], strcspn(envp[i], "="));
		free(envp[i]);
	}
	free(envp);
	return xstrdup(buffer);
}

int
main(void)
{
	static const char *const env[] = {
		"PATH=/usr/bin",
		"DECLARED=short",
		"LISTED=value-listed-1",
		"DEPLOY_TOKEN=tok",
		"GIT_TOKEN_VAR=gt",
		"COPY=before-hunter2-secret-after",
		"B64=aHVudGVyMi1zZWNyZXQ=",
		"JOBRUN_SECRET_VALUES_LIST=a,b",
		"REACTORCIDE_SECRETS_FILE=/run/secrets",
		"JOBRUN_SOCKET=/tmp/jobrun-x/control.sock",
		"HOME=/root",
		"EMPTY=",
		NULL,
	};
	struct mask_set *mask = mask_set_new("***", 6);
	struct job *job = job_new(NULL);
	struct config config = { 0 };
	char listed[] = "OTHER, LISTED", **envp;
	char *left;

	mask_set_add(mask, "hunter2-secret", strlen("hunter2-secret"), NULL);
	strlist_push(&job->secrets.env, "DECLARED", nowhere);
	strlist_push(&job->secrets.env_globs, "*_TOKEN", nowhere);
	job->source.token_env = xstrdup("GIT_TOKEN_VAR");
	config.values[CONFIG_SECRET_ENV_NAMES].text = listed;

	envp = vector(env);
	is_int((long long)envscrub_apply(envp, mask, job, &config), 8,
	    "eight variables go");
	left = names(envp);
	is_str(left, "PATH,JOBRUN_SOCKET,HOME,EMPTY",
	    "the rest stay, in order, the socket among them");
	free(left);

	envp = vector(env);
	envscrub_apply(envp, NULL, job, &config);
	left = names(envp);
	is_str(left, "PATH,COPY,B64,JOBRUN_SOCKET,HOME,EMPTY",
	    "without a mask set, only names count");
	free(left);

	config.values[CONFIG_SECRET_ENV_NAMES].text = NULL;
	job_free(job);
	mask_set_free(mask);
	return done_testing();
}
