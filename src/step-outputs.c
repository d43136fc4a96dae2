/*
 * Parsing of $JOBRUN_OUTPUT files (outputs.h).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "envfile.h"
#include "file.h"
#include "step-outputs.h"
#include "xalloc.h"

/* Returns the end of the line at p (its '\n' or text's end). */
static const char *
line_end(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl != NULL ? nl : end;
}

int
step_outputs_parse(
    struct nvlist *out, const char *text, size_t size, char **error)
{
	const char *p = text, *end = text + size, *eol, *eq, *mark, *body;
	struct srcpos pos = { 0, 1 };
	char *key, *delimiter, *value;
	size_t delimiter_len;

	*error = NULL;
	for (; p < end; p = eol + 1) {
		eol = line_end(p, end);
		pos.line++;
		if (eol == p)
			continue;
		eq = memchr(p, '=', (size_t)(eol - p));
		mark = memmem(p, (size_t)(eol - p), "<<", 2);
		if (mark != NULL && (eq == NULL || mark < eq)) {
			if (!envfile_name_valid(p, (size_t)(mark - p)) ||
			    mark + 2 == eol) {
				*error = xasprintf("line %u: expected "
						   "KEY<<DELIMITER",
				    pos.line);
				return -1;
			}
			key = xstrndup(p, (size_t)(mark - p));
			delimiter =
			    xstrndup(mark + 2, (size_t)(eol - mark - 2));
			delimiter_len = strlen(delimiter);
			body = eol + 1;
			for (p = body; p < end; p = eol + 1) {
				eol = line_end(p, end);
				pos.line++;
				if ((size_t)(eol - p) == delimiter_len &&
				    memcmp(p, delimiter, delimiter_len) == 0)
					break;
			}
			if (p >= end) {
				*error = xasprintf("'%s': no line '%s' ends "
						   "the value",
				    key, delimiter);
				free(key);
				free(delimiter);
				return -1;
			}
			/* The value is the lines between, without the last
			 * newline. */
			value = xstrndup(
			    body, p > body ? (size_t)(p - body - 1) : 0);
			nvlist_set(out, key, value, pos);
			free(key);
			free(delimiter);
			wipe(value, strlen(value));
			free(value);
			if (eol == end)
				break;
			continue;
		}
		if (eq == NULL || !envfile_name_valid(p, (size_t)(eq - p))) {
			*error = xasprintf("line %u: expected KEY=VALUE or "
					   "KEY<<DELIMITER",
			    pos.line);
			return -1;
		}
		key = xstrndup(p, (size_t)(eq - p));
		value = xstrndup(eq + 1, (size_t)(eol - eq - 1));
		nvlist_set(out, key, value, pos);
		free(key);
		wipe(value, strlen(value));
		free(value);
		if (eol == end)
			break;
	}
	return 0;
}

int
step_outputs_load(struct nvlist *out, int dirfd, const char *name, char **error)
{
	size_t length;
	char *data;
	int rc;

	*error = NULL;
	/* The file is the step's: a FIFO, a device or a symlink it put
	 * there is refused, never opened in a way that blocks or follows. */
	if (file_read_all(
		dirfd, name, OUTPUTS_MAX_SIZE, &data, &length, error) < 0) {
		if (errno != ENOENT)
			return -1;
		free(*error);
		*error = NULL;
		return 0;
	}
	rc = step_outputs_parse(out, data, length, error);
	wipe(data, length);
	free(data);
	return rc;
}

int
step_outputs_load_fd(struct nvlist *out, int fd, char **error)
{
	char *data = xmalloc(OUTPUTS_MAX_SIZE + 1);
	size_t used = 0;
	ssize_t n;
	int rc;

	*error = NULL;
	while (used <= OUTPUTS_MAX_SIZE &&
	    (n = pread(fd, data + used, OUTPUTS_MAX_SIZE + 1 - used,
		 (off_t)used)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*error = xasprintf("cannot read the outputs file: %s",
			    strerror(errno));
			free(data);
			return -1;
		}
		used += (size_t)n;
	}
	if (used > OUTPUTS_MAX_SIZE) {
		*error = xasprintf("the outputs file is larger than %d bytes",
		    OUTPUTS_MAX_SIZE);
		wipe(data, OUTPUTS_MAX_SIZE + 1);
		free(data);
		return -1;
	}
	rc = step_outputs_parse(out, data, used, error);
	wipe(data, used);
	free(data);
	return rc;
}

char *
step_outputs_variable(const char *step, const char *key)
{
	char *name = xasprintf("JOBRUN_OUTPUT_%s_%s", step, key), *p;

	for (p = name; *p != '\0'; p++)
		*p = isalnum((unsigned char)*p)
		    ? (char)toupper((unsigned char)*p)
		    : '_';
	return name;
}
