/*
 * KEY=VALUE lines, as runnerlib's job environment passes them.  Values may
 * be secrets, so they never appear in messages and are wiped when freed.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envfile.h"
#include "xalloc.h"

bool
envfile_name_valid(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || isdigit((unsigned char)s[0]))
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

static void
trim(const char **start, const char **end)
{
	while (*start < *end && isspace((unsigned char)**start))
		(*start)++;
	while (*end > *start && isspace((unsigned char)(*end)[-1]))
		(*end)--;
}

/* Parses one line [line, end); blank and comment lines add nothing. */
static int
parse_line(struct nvlist *out, const char *line, const char *end,
    struct srcpos pos, const char *origin, char **error)
{
	const char *eq, *key_end = end, *value;
	char *name, *copy;

	trim(&line, &key_end);
	if (line == key_end || *line == '#')
		return 0;
	eq = memchr(line, '=', (size_t)(key_end - line));
	if (eq == NULL) {
		*error = xasprintf(
		    "%s: line %u: expected KEY=VALUE", origin, pos.line);
		return -1;
	}
	value = eq + 1;
	key_end = eq;
	trim(&line, &key_end);
	if (!envfile_name_valid(line, (size_t)(key_end - line))) {
		*error = xasprintf("%s: line %u: expected a variable name "
				   "before '='",
		    origin, pos.line);
		return -1;
	}
	name = xstrndup(line, (size_t)(key_end - line));
	trim(&value, &end);
	copy = xstrndup(value, (size_t)(end - value));
	nvlist_set(out, name, copy, pos);
	wipe(copy, strlen(copy));
	free(copy);
	free(name);
	return 0;
}

int
envfile_parse(
    struct nvlist *out, const char *text, const char *origin, char **error)
{
	struct srcpos pos = { 0, 1 };
	const char *line, *end;

	*error = NULL;
	for (line = text; *line != '\0'; line = *end ? end + 1 : end) {
		end = strchr(line, '\n');
		if (end == NULL)
			end = line + strlen(line);
		pos.line++;
		if (parse_line(out, line, end, pos, origin, error) < 0)
			return -1;
	}
	return 0;
}

/* One line without '=' cannot be KEY=VALUE lines: it names a file. */
static bool
looks_like_path(const char *spec)
{
	return spec[0] != '\0' && strchr(spec, '=') == NULL &&
	    strchr(spec, '\n') == NULL;
}

int
envfile_load(
    struct nvlist *out, const char *spec, const char *origin, char **error)
{
	char *data, *label;
	size_t n;
	FILE *fp;
	int rc;

	if (!looks_like_path(spec))
		return envfile_parse(out, spec, origin, error);
	if ((fp = fopen(spec, "re")) == NULL) {
		*error = xasprintf(
		    "%s: cannot open '%s': %s", origin, spec, strerror(errno));
		return -1;
	}
	data = xmalloc(ENVFILE_MAX_SIZE + 1);
	n = fread(data, 1, ENVFILE_MAX_SIZE + 1, fp);
	fclose(fp);
	if (n > ENVFILE_MAX_SIZE || memchr(data, '\0', n) != NULL) {
		*error = xasprintf("%s: '%s' is not a text file of at most %d "
				   "bytes",
		    origin, spec, ENVFILE_MAX_SIZE);
		free(data);
		return -1;
	}
	data[n] = '\0';
	label = xasprintf("%s '%s'", origin, spec);
	rc = envfile_parse(out, data, label, error);
	free(label);
	wipe(data, n);
	free(data);
	return rc;
}
