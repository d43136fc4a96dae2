/*
 * "jobrun config --explain" (config-explain.h).  The job's secrets are
 * gathered as a run gathers them (secrets_collect()), into a mask set of
 * the explanation's own, and every value is masked with it before it is
 * printed.  Every URL in a value is shown as source_redact_url() shows it:
 * its user info, and whatever could be user info, as "***".
 */
#include "config.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config-explain.h"
#include "envfile.h"
#include "list.h"
#include "mask.h"
#include "secrets.h"
#include "source.h"
#include "xalloc.h"

/* True when the variable name is a secret's: by name or by glob. */
static bool
secret_name(
    const struct config *config, const struct job *job, const char *name)
{
	const char *names = config_get(config, CONFIG_SECRET_ENV_NAMES), *p;
	size_t i, length = strlen(name);

	for (i = 0; i < job->secrets.env.len; i++)
		if (strcmp(job->secrets.env.items[i], name) == 0)
			return true;
	for (i = 0; i < job->secrets.env_globs.len; i++)
		if (fnmatch(job->secrets.env_globs.items[i], name, 0) == 0)
			return true;
	/* secret_env_names: comma-separated, with blanks around names. */
	for (p = names; p != NULL && (p = strstr(p, name)) != NULL; p++) {
		const char *after = p + length;

		while (*after == ' ' || *after == '\t')
			after++;
		if ((*after == ',' || *after == '\0') &&
		    (p == names || strchr(", \t", p[-1]) != NULL))
			return true;
	}
	return false;
}

/* Appends text to *out (NULL: empty). */
static void
append(char **out, const char *text, size_t length)
{
	size_t used = *out != NULL ? strlen(*out) : 0;

	*out = xreallocarray(*out, used + length + 1, 1);
	memcpy(*out + used, text, length);
	(*out)[used + length] = '\0';
}

/* An inline job env with the values of secret names replaced by ***. */
static char *
job_env_shown(
    const struct config *config, const struct job *job, const char *text)
{
	const char *line = text, *eol, *eq;
	char *out = NULL, *name;

	for (; *line != '\0'; line = *eol != '\0' ? eol + 1 : eol) {
		eol = line + strcspn(line, "\n");
		eq = memchr(line, '=', (size_t)(eol - line));
		if (out != NULL)
			append(&out, "\n", 1);
		if (eq == NULL) {
			append(&out, line, (size_t)(eol - line));
			continue;
		}
		name = xstrndup(line, (size_t)(eq - line));
		/* "export NAME=..." names NAME. */
		if (secret_name(config, job,
			strncmp(name, "export ", 7) == 0 ? name + 7 : name)) {
			append(&out, line, (size_t)(eq - line));
			append(&out, "=***", 4);
		} else {
			append(&out, line, (size_t)(eol - line));
		}
		free(name);
	}
	return out != NULL ? out : xstrdup("");
}

/* text with every URL in it ("curl https://u:pw@host/" as well as a
 * source's URL) as source_redact_url() shows it: a URL starts with its
 * scheme and ends at a blank or a quote. */
static char *
urls_shown(const char *text)
{
	const char *from = text, *sep, *start, *end;
	char *out = NULL, *url, *shown;

	while ((sep = strstr(from, "://")) != NULL) {
		for (start = sep; start > from &&
		     (isalnum((unsigned char)start[-1]) ||
			 strchr("+-.", start[-1]) != NULL);
		     start--)
			;
		end = sep + 3 + strcspn(sep + 3, " \t\r\n\"'`<>");
		append(&out, from, (size_t)(start - from));
		url = xstrndup(start, (size_t)(end - start));
		shown = source_redact_url(url);
		append(&out, shown, strlen(shown));
		wipe(url, strlen(url));
		free(url);
		free(shown);
		from = end;
	}
	append(&out, from, strlen(from));
	return out;
}

/* What --explain shows of key's value (allocated), or NULL when unset. */
static char *
shown_value(const struct config *config, const struct job *job,
    struct mask_set *mask, enum config_key key)
{
	const char *text = config_get(config, key);
	char *named, *shown, *masked;
	size_t size;

	if (text == NULL)
		return NULL;
	if (config_key_secret(key))
		return xstrdup(MASK_TOKEN_DEFAULT);
	if (key == CONFIG_JOB_ENV && strchr(text, '=') != NULL) {
		named = job_env_shown(config, job, text);
		shown = urls_shown(named);
		wipe(named, strlen(named));
		free(named);
	} else {
		shown = urls_shown(text);
	}
	masked = mask_string(mask, shown, strlen(shown), &size);
	wipe(shown, strlen(shown));
	free(shown);
	return masked;
}

/* The job's secrets, gathered as a run gathers them (warnings and all). */
static struct mask_set *
explain_mask(const struct config *config, const struct job *job)
{
	struct mask_set *mask = mask_set_new(
	    NULL, (size_t)config_number(config, CONFIG_SECRET_MIN_LENGTH));
	const char *spec = config_get(config, CONFIG_JOB_ENV);
	struct nvlist job_env = NVLIST_INIT;
	char *error = NULL;
	size_t i;

	for (i = 0; i < job->env.len; i++)
		nvlist_set(&job_env, job->env.items[i].name,
		    job->env.items[i].value, job->env.items[i].pos);
	if (spec != NULL &&
	    envfile_load(&job_env, spec, "job_env", &error) < 0) {
		free(error);
		error = NULL;
	}
	/* What cannot be gathered is hidden by name or not at all: the
	 * explanation goes on, as a run would have stopped already. */
	if (secrets_collect(mask, job, config, &job_env, &error) < 0)
		free(error);
	nvlist_release(&job_env);
	return mask;
}

static void
explain_json(
    const struct config *config, const struct job *job, struct mask_set *mask)
{
	json_t *root = json_object(), *entry, *shown_json;
	const struct config_value *value;
	size_t key;
	char *text, *shown;

	for (key = 0; key < CONFIG_KEY_COUNT; key++) {
		value = &config->values[key];
		shown = shown_value(config, job, mask, (enum config_key)key);
		shown_json = shown != NULL ? json_string(shown) : NULL;
		entry = json_pack("{s:o, s:s, s:o}", "value",
		    shown_json != NULL ? shown_json : json_null(), "source",
		    config_source_name(value->source), "origin",
		    value->origin ? json_string(value->origin) : json_null());
		json_object_set_new(root, config_key_name(key), entry);
		free(shown);
	}
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (text != NULL)
		printf("%s\n", text);
	free(text);
	json_decref(root);
}

/* A table row is one line: a value's line breaks become spaces. */
static void
one_line(char *text)
{
	for (; text != NULL && *text != '\0'; text++)
		if (*text == '\n' || *text == '\r')
			*text = ' ';
}

void
config_explain(const struct config *config, const struct job *job, bool json)
{
	struct job *empty = job == NULL ? job_new(NULL) : NULL;
	const struct job *j = job != NULL ? job : empty;
	struct mask_set *mask = explain_mask(config, j);
	const struct config_value *value;
	size_t key;
	char *shown;

	if (json)
		explain_json(config, j, mask);
	for (key = 0; !json && key < CONFIG_KEY_COUNT; key++) {
		value = &config->values[key];
		shown = shown_value(config, j, mask, (enum config_key)key);
		one_line(shown);
		printf("%-19s %-30s %s", config_key_name(key),
		    shown != NULL ? shown : "(unset)",
		    config_source_name(value->source));
		if (value->origin != NULL)
			printf(value->source == CONFIG_FROM_DEFAULT ? " (%s)"
								    : " %s",
			    value->origin);
		printf("\n");
		free(shown);
	}
	mask_set_free(mask);
	job_free(empty);
}
