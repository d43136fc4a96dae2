/*
 * Gathering the job's secrets into the mask set (secrets.h).  Values are
 * copied as little as possible and every copy is wiped.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"
#include "secrets.h"
#include "source.h"
#include "xalloc.h"

extern char **environ;

#define SECRETS_FILE_MAX (1024 * 1024)

/* Only regular files are read (secrets_for_held_messages()). */
static bool regular_only;

void
secrets_for_held_messages(bool on)
{
	diag_discard(on);
	regular_only = on;
}

/* A credential inside a secret that is a document, and those inside it
 * (a JSON string in a YAML Secret): one too short to mask is no secret. */
struct member_context {
	struct mask_set *set;
	int depth;
};

static void
add_member(void *context, const char *value, size_t length)
{
	struct member_context *c = context, inner = { c->set, c->depth + 1 };
	char *error = NULL;

	if (mask_set_add(c->set, value, length, &error) != 0)
		free(error);
	if (inner.depth < 2)
		secrets_structured_each(value, length, add_member, &inner);
}

/*
 * Adds one value, with its forms or (exact) as it is, and the credentials
 * inside it when it is a document (secrets_structured_each()); origin
 * says where it came from, for the warning.
 */
static int
add_value_as(struct mask_set *set, const char *value, size_t length, bool exact,
    const char *origin, char **error)
{
	struct member_context members = { set, 0 };
	int rc;

	if (length == 0)
		return 0;
	secrets_structured_each(value, length, add_member, &members);
	rc = exact ? mask_set_add_exact(set, value, length, error)
		   : mask_set_add(set, value, length, error);
	if (rc == 1) {
		diag_warn("a secret from %s is too short to mask safely and is "
			  "not masked",
		    origin);
		free(*error);
		*error = NULL;
		return 0;
	}
	if (rc < 0 && *error != NULL) {
		/* Which source: the message never holds the value. */
		char *why = *error;

		*error = xasprintf("the secret from %s: %s", origin, why);
		free(why);
	}
	return rc;
}

static int
add_value(struct mask_set *set, const char *value, size_t length,
    const char *origin, char **error)
{
	return add_value_as(set, value, length, false, origin, error);
}

static const char *
variable(const struct nvlist *job_env, const char *name)
{
	const struct nvpair *pair = nvlist_get(job_env, name);

	return pair != NULL ? pair->value : getenv(name);
}

static int
add_variable(struct mask_set *set, const struct nvlist *job_env,
    const char *name, const char *origin, char **error)
{
	const char *value = variable(job_env, name);
	char *label;
	int rc;

	if (value == NULL) {
		diag_warn("%s names '%s', which is not set: nothing to mask",
		    origin, name);
		return 0;
	}
	label = xasprintf("variable %s", name);
	rc = add_value(set, value, strlen(value), label, error);
	free(label);
	return rc;
}

/* Calls add for each comma-separated item of list, trimmed. */
static int
each_item(
    const char *list, int (*add)(void *, const char *, size_t), void *context)
{
	const char *start = list, *end;
	size_t length;

	for (;;) {
		end = strchr(start, ',');
		length = end != NULL ? (size_t)(end - start) : strlen(start);
		while (length > 0 && (*start == ' ' || *start == '\t')) {
			start++;
			length--;
		}
		while (length > 0 &&
		    (start[length - 1] == ' ' || start[length - 1] == '\t'))
			length--;
		if (length > 0 && add(context, start, length) < 0)
			return -1;
		if (end == NULL)
			return 0;
		start = end + 1;
	}
}

struct item_context {
	struct mask_set *set;
	const struct nvlist *job_env;
	const char *origin;
	char **error;
};

static int
add_named(void *context, const char *name, size_t length)
{
	struct item_context *c = context;
	char *copy = xstrndup(name, length);
	int rc = add_variable(c->set, c->job_env, copy, c->origin, c->error);

	free(copy);
	return rc;
}

static int
add_listed(void *context, const char *value, size_t length)
{
	struct item_context *c = context;

	return add_value(c->set, value, length, c->origin, c->error);
}

/* Reads a whole secrets file (at most SECRETS_FILE_MAX bytes). */
static char *
read_file(const char *path, size_t *size, char **error)
{
	char *data;
	FILE *fp = NULL;
	struct stat st;
	int fd;

	/* Early, at exit with signals blocked: never wait for a FIFO's
	 * writer (secrets_for_held_messages()); opening one without O_NONBLOCK
	 * would. */
	if (regular_only) {
		fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
			close(fd);
			*error = xasprintf("secrets file '%s' is not read "
					   "now: not a regular file",
			    path);
			return NULL;
		}
		if (fd >= 0 && (fp = fdopen(fd, "r")) == NULL)
			close(fd);
	} else {
		fp = fopen(path, "re");
	}
	data = xmalloc(SECRETS_FILE_MAX + 1);
	if (fp == NULL) {
		*error = xasprintf(
		    "cannot read secrets file '%s': %s", path, strerror(errno));
		free(data);
		return NULL;
	}
	*size = fread(data, 1, SECRETS_FILE_MAX + 1, fp);
	/* fopen() opens a directory; reading it is what fails (EISDIR). */
	if (ferror(fp)) {
		*error = xasprintf(
		    "cannot read secrets file '%s': %s", path, strerror(errno));
		fclose(fp);
		wipe(data, *size);
		free(data);
		return NULL;
	}
	fclose(fp);
	if (*size > SECRETS_FILE_MAX) {
		*error = xasprintf("secrets file '%s' is larger than %d bytes",
		    path, SECRETS_FILE_MAX);
		wipe(data, SECRETS_FILE_MAX + 1);
		free(data);
		return NULL;
	}
	data[*size] = '\0';
	return data;
}

struct file_context {
	struct mask_set *set;
	const char *path;
	const char *label;
	char **error;
	size_t values; /* dotenv values passed on */
};

static int
add_file_value(void *context, const char *value, size_t length)
{
	struct file_context *c = context;

	c->values++;
	return add_value(c->set, value, length, c->label, c->error);
}

/* A line whose assignment cannot be read: said, never its value. */
static void
skip_file_line(void *context, size_t line, const char *why)
{
	struct file_context *c = context;

	diag_warn("secrets file '%s', line %zu: %s: the line is skipped and "
		  "its value is not masked",
	    c->path, line, why);
}

/*
 * The whole file, trimmed (a file that is one secret, such as a token or
 * a key), and the value of each dotenv assignment in it.  A file of
 * several lines of assignments only is taken whole as it is, without
 * forms: with them each of its lines would be masked on its own, and its
 * comments, names and empty values with them (K_Y=), wherever they show.
 */
static int
add_file(struct mask_set *set, const char *path, char **error)
{
	struct file_context c = { set, path, NULL, error, 0 };
	bool whole;
	const char *start, *end;
	char *data, *label;
	size_t size;
	int rc = 0;

	if ((data = read_file(path, &size, error)) == NULL)
		return -1;
	label = xasprintf("file %s", path);
	c.label = label;
	start = data;
	end = data + size;
	while (start < end &&
	    (*start == ' ' || *start == '\n' || *start == '\r' ||
		*start == '\t'))
		start++;
	while (end > start &&
	    (end[-1] == ' ' || end[-1] == '\n' || end[-1] == '\r' ||
		end[-1] == '\t'))
		end--;
	/* A file too long to be one secret may still be a dotenv file of
	 * short values: then only those are masked. */
	whole = (size_t)(end - start) <= MASK_SECRET_MAX;
	if (whole)
		rc = add_value_as(set, start, (size_t)(end - start),
		    memchr(start, '\n', (size_t)(end - start)) != NULL &&
			secrets_dotenv_only(data, size),
		    label, error);
	if (rc == 0)
		rc = secrets_parse_dotenv(
		    data, size, add_file_value, skip_file_line, &c);
	if (rc == 0 && !whole && c.values == 0) {
		*error = xasprintf("secrets file '%s' holds no assignment and "
				   "is longer than %d bytes, the most one "
				   "secret may be",
		    path, MASK_SECRET_MAX);
		rc = -1;
	}
	free(label);
	wipe(data, size);
	free(data);
	return rc;
}

/* REACTORCIDE_SECRET_VALUES_LIST: values, or the path of a file of them. */
static int
add_values_list(struct mask_set *set, const char *list, char **error)
{
	struct item_context c = { set, NULL, "the secret values list", error };
	struct stat st;
	char *data;
	size_t size, i;
	int rc;

	if (strchr(list, ',') != NULL || stat(list, &st) < 0 ||
	    !S_ISREG(st.st_mode))
		return each_item(list, add_listed, &c);
	if ((data = read_file(list, &size, error)) == NULL)
		return -1;
	for (i = 0; i < size; i++)
		if (data[i] == '\n' || data[i] == '\r')
			data[i] = ',';
	rc = each_item(data, add_listed, &c);
	wipe(data, size);
	free(data);
	return rc;
}

/* Whether name matches one of the globs. */
static bool
glob_matches(const struct strlist *globs, const char *name)
{
	size_t i;

	for (i = 0; i < globs->len; i++)
		if (fnmatch(globs->items[i], name, 0) == 0)
			return true;
	return false;
}

int
secrets_add_env_globs(struct mask_set *set, const struct strlist *globs,
    char *const *envp, bool warn_short, char **error)
{
	char *const *entry;
	const char *eq;
	char *name;
	int rc = 0;

	*error = NULL;
	if (globs == NULL || globs->len == 0 || envp == NULL)
		return 0;
	for (entry = envp; rc == 0 && *entry != NULL; entry++) {
		if ((eq = strchr(*entry, '=')) == NULL || eq[1] == '\0')
			continue;
		name = xstrndup(*entry, (size_t)(eq - *entry));
		if (glob_matches(globs, name)) {
			if (warn_short)
				rc = add_value(
				    set, eq + 1, strlen(eq + 1), name, error);
			else if ((rc = mask_set_add(set, eq + 1, strlen(eq + 1),
				      error)) == 1) {
				free(*error);
				*error = NULL;
				rc = 0;
			}
		}
		free(name);
	}
	return rc;
}

static int
add_credentials(struct mask_set *set, const struct source_spec *source,
    const struct nvlist *job_env, char **error)
{
	struct stat st;

	if (source->token_env != NULL &&
	    variable(job_env, source->token_env) != NULL &&
	    add_variable(
		set, job_env, source->token_env, "a source token", error) < 0)
		return -1;
	/* A token or key file that is missing is the source's error to
	 * report.  A private key is secret as a token is: a step that can
	 * read it may print it. */
	if (source->token_file != NULL && stat(source->token_file, &st) == 0 &&
	    add_file(set, source->token_file, error) < 0)
		return -1;
	if (source->ssh_key_file != NULL &&
	    stat(source->ssh_key_file, &st) == 0 &&
	    add_file(set, source->ssh_key_file, error) < 0)
		return -1;
	return 0;
}

/* A password or token in a source's URL (source_url_credentials()); one
 * too short to mask is warned of. */
static int
add_url_credentials(
    struct mask_set *set, const char *url, const char *origin, char **error)
{
	struct strlist found = STRLIST_INIT;
	size_t i;
	int rc = 0;

	source_url_credentials(url, &found);
	for (i = 0; i < found.len && rc >= 0; i++) {
		rc = add_value_as(set, found.items[i], strlen(found.items[i]),
		    false, origin, error);
		wipe(found.items[i], strlen(found.items[i]));
	}
	strlist_release(&found);
	return rc < 0 ? -1 : 0;
}

int
secrets_collect(struct mask_set *set, const struct job *job,
    const struct config *config, const struct nvlist *job_env, char **error)
{
	const char *names = config_get(config, CONFIG_SECRET_ENV_NAMES);
	const char *list = config_get(config, CONFIG_SECRET_VALUES_LIST);
	const char *file = config_get(config, CONFIG_SECRETS_FILE);
	struct item_context c = { set, job_env, "secret_env_names", error };
	static const struct job none; /* a job command, without a job file */
	size_t i;

	*error = NULL;
	if (job == NULL)
		job = &none;
	for (i = 0; i < job->secrets.env.len; i++)
		if (add_variable(set, job_env, job->secrets.env.items[i],
			"secrets.env", error) < 0)
			return -1;
	if (names != NULL && each_item(names, add_named, &c) < 0)
		return -1;
	if (secrets_add_env_globs(
		set, &job->secrets.env_globs, environ, true, error) < 0)
		return -1;
	if (list != NULL && add_values_list(set, list, error) < 0)
		return -1;
	for (i = 0; i < job->secrets.files.len; i++)
		if (add_file(set, job->secrets.files.items[i], error) < 0)
			return -1;
	if (file != NULL && add_file(set, file, error) < 0)
		return -1;
	/* The sources' credentials are secrets of the job too. */
	if (add_credentials(set, &job->source, job_env, error) < 0 ||
	    add_credentials(set, &job->ci_source, job_env, error) < 0 ||
	    add_url_credentials(set, config_get(config, CONFIG_SOURCE_URL),
		"the source URL", error) < 0 ||
	    add_url_credentials(set, config_get(config, CONFIG_CI_SOURCE_URL),
		"the CI source URL", error) < 0)
		return -1;
	for (i = 0; i < job->secrets.patterns.len; i++)
		if (mask_set_add_pattern(
			set, job->secrets.patterns.items[i], error) < 0)
			return -1;
	return 0;
}

/* Adds one setting's value (from a flag or a variable) to the set. */
static void
add_setting(struct mask_set *set, enum config_key key, const char *value)
{
	struct nvlist none = NVLIST_INIT;
	struct item_context c = { set, &none, "secret_env_names", NULL };
	char *error = NULL;

	c.error = &error;
	if (value == NULL)
		return;
	if (key == CONFIG_SECRET_VALUES_LIST)
		add_values_list(set, value, &error);
	else if (key == CONFIG_SECRET_ENV_NAMES)
		each_item(value, add_named, &c);
	else
		add_file(set, value, &error);
	free(error);
}

void
secrets_collect_settings(
    struct mask_set *set, const struct config_flag *flags, size_t n_flags)
{
	static const enum config_key keys[] = { CONFIG_SECRET_VALUES_LIST,
		CONFIG_SECRET_ENV_NAMES, CONFIG_SECRETS_FILE };
	const char *alias;
	size_t i, k;

	for (k = 0; k < sizeof(keys) / sizeof(*keys); k++) {
		add_setting(set, keys[k], getenv(config_key_env(keys[k])));
		alias = config_key_alias(keys[k]);
		if (alias != NULL)
			add_setting(set, keys[k], getenv(alias));
		for (i = 0; i < n_flags; i++)
			if (flags[i].key == keys[k])
				add_setting(set, keys[k], flags[i].value);
	}
}
