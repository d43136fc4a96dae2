/*
 * result.json with jansson, and the atomic file write every result file of
 * jobrun uses: write a temporary file next to the target, fsync it, rename
 * it over the target, fsync the directory.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "mask.h"
#include "output.h"
#include "result.h"
#include "xalloc.h"

static json_t *
time_value(const struct timespec *ts)
{
	char buf[40];
	struct tm tm;
	size_t n;

	if (ts->tv_sec == 0)
		return json_null();
	gmtime_r(&ts->tv_sec, &tm);
	n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, sizeof(buf) - n, ".%03ldZ", ts->tv_nsec / 1000000);
	return json_string(buf);
}

static json_t *
step_value(const struct result_step *step)
{
	json_t *object = json_object();

	json_object_set_new(object, "name", json_string(step->name));
	json_object_set_new(object, "outcome", json_string(step->outcome));
	json_object_set_new(object, "exit_code",
	    step->exit_code >= 0 ? json_integer(step->exit_code) : json_null());
	json_object_set_new(object, "signal",
	    step->signal > 0 ? json_integer(step->signal) : json_null());
	json_object_set_new(
	    object, "oom_killed", json_boolean(step->oom_killed));
	json_object_set_new(object, "attempts", json_integer(step->attempts));
	json_object_set_new(object, "started_at", time_value(&step->started));
	json_object_set_new(object, "finished_at", time_value(&step->finished));
	json_object_set_new(
	    object, "duration_ms", json_integer((json_int_t)step->duration_ms));
	return object;
}

/*
 * "redactions": the salt, every registered secret's hash and count in
 * registration order (count 0 included), every pattern's count in the
 * job file's order (mask.h, "Redaction counts").
 */
static json_t *
redactions_value(const struct mask_set *mask)
{
	json_t *object = json_object(), *secrets = json_array(),
	       *patterns = json_array();
	char hash[2 * MASK_HASH_SIZE + 1];
	uint64_t count;
	size_t i;

	json_object_set_new(object, "salt", json_string(mask_set_salt(mask)));
	for (i = 0; i < mask_set_secrets(mask); i++) {
		count = mask_set_secret_count(mask, i, hash);
		json_array_append_new(secrets,
		    json_pack("{s:s, s:I}", "hash", hash, "count",
			(json_int_t)count));
	}
	for (i = 0; i < mask_set_patterns(mask); i++)
		json_array_append_new(patterns,
		    json_pack("{s:I, s:I}", "pattern", (json_int_t)i, "count",
			(json_int_t)mask_set_pattern_count(mask, i)));
	json_object_set_new(object, "secrets", secrets);
	json_object_set_new(object, "patterns", patterns);
	return object;
}

int
result_write(
    const char *path, const struct result *result, bool durable, char **error)
{
	json_t *root = json_object(), *steps = json_array();
	char *text;
	size_t i;
	int rc;

	json_object_set_new(root, "version", json_integer(1));
	json_object_set_new(root, "job", json_string(result->job));
	json_object_set_new(root, "outcome", json_string(result->outcome));
	json_object_set_new(
	    root, "exit_status", json_integer(result->exit_status));
	json_object_set_new(root, "started_at", time_value(&result->started));
	json_object_set_new(root, "finished_at", time_value(&result->finished));
	json_object_set_new(
	    root, "duration_ms", json_integer((json_int_t)result->duration_ms));
	for (i = 0; i < result->n_steps; i++)
		json_array_append_new(steps, step_value(&result->steps[i]));
	json_object_set_new(root, "steps", steps);
	if (result->mask != NULL)
		json_object_set_new(
		    root, "redactions", redactions_value(result->mask));
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (text == NULL) {
		*error = xasprintf("cannot encode '%s'", path);
		return -1;
	}
	rc = result_write_file(path, text, strlen(text), durable, error);
	free(text);
	return rc;
}

static int
fsync_directory_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash == NULL ? xstrdup(".")
	    : slash == path       ? xstrdup("/")
				  : xstrndup(path, (size_t)(slash - path));
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	free(dir);
	if (fd < 0)
		return -1;
	if (fsync(fd) < 0 && errno != EINVAL)
		rc = -1;
	close(fd);
	return rc;
}

int
result_write_file(
    const char *path, const char *data, size_t size, bool durable, char **error)
{
	char *temp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	int fd, saved;

	*error = NULL;
	fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		goto fail;
	if (output_write_all(fd, data, size) < 0 ||
	    output_write_all(fd, "\n", 1) < 0 || (durable && fsync(fd) < 0)) {
		saved = errno;
		close(fd);
		unlink(temp);
		errno = saved;
		goto fail;
	}
	if (close(fd) < 0 || rename(temp, path) < 0) {
		saved = errno;
		unlink(temp);
		errno = saved;
		goto fail;
	}
	if (durable)
		fsync_directory_of(path);
	free(temp);
	return 0;
fail:
	*error = xasprintf("cannot write '%s': %s", path, strerror(errno));
	free(temp);
	return -1;
}

void
result_remove_stale(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash != NULL ? xstrndup(path, (size_t)(slash - path + 1))
				  : xstrdup(".");
	const char *base = slash != NULL ? slash + 1 : path;
	size_t length = strlen(base);
	struct dirent *entry;
	char *end;
	long pid;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		free(dir);
		return;
	}
	while ((entry = readdir(d)) != NULL) {
		if (strncmp(entry->d_name, base, length) != 0 ||
		    strncmp(entry->d_name + length, ".tmp.", 5) != 0)
			continue;
		pid = strtol(entry->d_name + length + 5, &end, 10);
		if (*end != '\0' || pid <= 0)
			continue;
		/* A writer that is still alive keeps its file. */
		if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
			unlinkat(dirfd(d), entry->d_name, 0);
	}
	closedir(d);
	free(dir);
}
