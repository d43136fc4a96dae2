/*
 * The OOM kill counter of jobrun's memory cgroup (see oom.h): finding the
 * right file among cgroup v2, hybrid and v1 layouts, inside a container or
 * not, and reading it cheaply (the file stays open; each read is one
 * pread() at offset 0, which makes the kernel render it afresh).
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oom.h"
#include "xalloc.h"

/* memory.events is about 100 bytes, memory.oom_control about 50. */
#define COUNTER_TEXT_MAX 512

bool
oom_parse_kills(const char *text, size_t len, uint64_t *out)
{
	static const char key[] = "oom_kill ";
	const size_t key_len = sizeof(key) - 1;
	const char *line = text, *end = text + len, *eol, *p;
	uint64_t n = 0;

	for (; line < end; line = eol + 1) {
		eol = memchr(line, '\n', (size_t)(end - line));
		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - line) <= key_len ||
		    memcmp(line, key, key_len) != 0)
			continue;
		for (p = line + key_len; p < eol && *p >= '0' && *p <= '9'; p++)
			n = n * 10 + (uint64_t)(*p - '0');
		*out = n;
		return true;
	}
	return false;
}

/* Reads the counter of the open file fd; false if it cannot. */
static bool
read_counter(int fd, uint64_t *out)
{
	char text[COUNTER_TEXT_MAX];
	ssize_t n = pread(fd, text, sizeof(text), 0);

	return n > 0 && oom_parse_kills(text, (size_t)n, out);
}

/* Opens path if it holds a counter; -1 if not. */
static int
open_counter(const char *path)
{
	uint64_t kills;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0 && !read_counter(fd, &kills)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Splits "ID:CONTROLLERS:PATH" in place; false if line is not one. */
static bool
split_line(char *line, char **controllers, char **path)
{
	char *first = strchr(line, ':'), *second;

	if (first == NULL || (second = strchr(first + 1, ':')) == NULL)
		return false;
	*first = *second = '\0';
	*controllers = first + 1;
	*path = second + 1;
	return true;
}

/* True when the comma-separated list names the memory controller. */
static bool
has_memory(const char *controllers)
{
	const char *p = controllers;

	for (;;) {
		if (strncmp(p, "memory", 6) == 0 &&
		    (p[6] == ',' || p[6] == '\0'))
			return true;
		if ((p = strchr(p, ',')) == NULL)
			return false;
		p++;
	}
}

/*
 * The cgroup paths of this process from a /proc/PID/cgroup file: the
 * cgroup v2 one ("0::PATH") and the v1 memory controller's
 * ("N:...,memory,...:PATH").  Each is NULL when absent; the caller frees.
 */
static void
read_paths(const char *proc_cgroup, char **v2, char **v1)
{
	char *line = NULL, *controllers, *path;
	size_t cap = 0;
	ssize_t len;
	FILE *fp = fopen(proc_cgroup, "re");

	*v2 = *v1 = NULL;
	while (fp != NULL && (len = getline(&line, &cap, fp)) > 0) {
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		if (!split_line(line, &controllers, &path))
			continue;
		if (strcmp(line, "0") == 0 && *controllers == '\0') {
			if (*v2 == NULL)
				*v2 = xstrdup(path);
		} else if (*v1 == NULL && has_memory(controllers)) {
			*v1 = xstrdup(path);
		}
	}
	free(line);
	if (fp != NULL)
		fclose(fp);
}

/* Tries root/dir/path/file, then root/dir/file; the fd or -1. */
static int
try_counter(
    const char *root, const char *dir, const char *path, const char *file)
{
	char *name;
	int fd = -1;

	if (path != NULL) {
		name = xasprintf("%s%s%s/%s", root, dir, path, file);
		fd = open_counter(name);
		free(name);
	}
	/* In a container the cgroup's own directory is the root. */
	if (fd < 0) {
		name = xasprintf("%s%s/%s", root, dir, file);
		fd = open_counter(name);
		free(name);
	}
	return fd;
}

void
oom_watch_open(
    struct oom_watch *watch, const char *cgroup_root, const char *proc_cgroup)
{
	char *v2, *v1;

	read_paths(proc_cgroup, &v2, &v1);
	watch->fd = -1;
	/* cgroup v2, then a hybrid host's unified tree, then v1. */
	if (v2 != NULL)
		watch->fd = try_counter(cgroup_root, "", v2, "memory.events");
	if (watch->fd < 0 && v2 != NULL)
		watch->fd =
		    try_counter(cgroup_root, "/unified", v2, "memory.events");
	if (watch->fd < 0 && v1 != NULL)
		watch->fd = try_counter(
		    cgroup_root, "/memory", v1, "memory.oom_control");
	free(v2);
	free(v1);
}

uint64_t
oom_watch_kills(const struct oom_watch *watch)
{
	uint64_t kills = 0;

	if (watch->fd >= 0)
		read_counter(watch->fd, &kills);
	return kills;
}

bool
oom_watch_active(const struct oom_watch *watch)
{
	return watch->fd >= 0;
}

void
oom_watch_close(struct oom_watch *watch)
{
	if (watch->fd >= 0)
		close(watch->fd);
	watch->fd = -1;
}
