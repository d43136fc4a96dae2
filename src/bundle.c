/*
 * The one-shot secret bundle (bundle.h): encoded by the host side of a
 * containerised run (runtime-job.c), read and applied by the jobrun
 * inside, which then keeps standard input as its lifeline.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "bundle.h"
#include "diag.h"
#include "file.h"
#include "xalloc.h"

#define BUNDLE_MAGIC "JOBRUN-BUNDLE 1 "

void
bundle_add_env(struct bundle *b, const char *name, const char *value)
{
	nvlist_set(&b->env, name, value, (struct srcpos){ 0 });
}

void
bundle_add_file(struct bundle *b, const char *path, const char *content)
{
	nvlist_set(&b->files, path, content, (struct srcpos){ 0 });
}

void
bundle_set_cwd(struct bundle *b, const char *dir)
{
	free(b->cwd);
	b->cwd = xstrdup(dir);
}

static json_t *
object_of(const struct nvlist *list)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < list->len; i++)
		json_object_set_new(
		    o, list->items[i].name, json_string(list->items[i].value));
	return o;
}

void
bundle_encode(const struct bundle *b, char **out, size_t *out_length)
{
	json_t *root = json_pack("{s:o, s:o, s:b}", "env", object_of(&b->env),
	    "files", object_of(&b->files), "lifeline", b->lifeline);
	char *body;
	size_t n;
	char header[64];
	int h;

	if (b->cwd != NULL)
		json_object_set_new(root, "cwd", json_string(b->cwd));
	body = json_dumps(root, JSON_COMPACT);
	n = strlen(body);
	h = snprintf(header, sizeof(header), BUNDLE_MAGIC "%zu\n", n);

	*out = xmalloc((size_t)h + n);
	memcpy(*out, header, (size_t)h);
	memcpy(*out + h, body, n);
	*out_length = (size_t)h + n;
	/* jansson's blocks are wiped when freed (main's allocator). */
	wipe(body, n);
	free(body);
	json_decref(root);
}

void
bundle_wipe_free(char *data, size_t length)
{
	if (data == NULL)
		return;
	wipe(data, length);
	free(data);
}

static int
take_object(struct nvlist *out, json_t *o, const char *what, char **error)
{
	const char *key;
	json_t *v;

	if (o == NULL)
		return 0;
	if (!json_is_object(o)) {
		*error = xasprintf("the bundle's %s is not an object", what);
		return -1;
	}
	json_object_foreach(o, key, v)
	{
		if (!json_is_string(v)) {
			*error = xasprintf("the bundle's %s '%s' is not a "
					   "string",
			    what, key);
			return -1;
		}
		nvlist_set(
		    out, key, json_string_value(v), (struct srcpos){ 0 });
	}
	return 0;
}

int
bundle_decode(struct bundle *out, const char *json, size_t length, char **error)
{
	json_error_t e;
	json_t *root = json_loadb(json, length, 0, &e), *lifeline, *cwd;
	int rc = -1;

	if (!json_is_object(root)) {
		/* e.text never quotes the input. */
		*error = xasprintf("the bundle is not a JSON object");
		goto out;
	}
	if (take_object(&out->env, json_object_get(root, "env"), "env", error) <
		0 ||
	    take_object(&out->files, json_object_get(root, "files"), "files",
		error) < 0)
		goto out;
	cwd = json_object_get(root, "cwd");
	if (cwd != NULL &&
	    (!json_is_string(cwd) || json_string_value(cwd)[0] != '/')) {
		*error = xstrdup("the bundle's cwd is not an absolute path");
		goto out;
	}
	if (cwd != NULL)
		bundle_set_cwd(out, json_string_value(cwd));
	lifeline = json_object_get(root, "lifeline");
	out->lifeline = lifeline == NULL || json_is_true(lifeline);
	rc = 0;
out:
	json_decref(root);
	return rc;
}

/* Reads exactly n bytes. */
static int
read_exactly(int fd, char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

int
bundle_read(int fd, struct bundle *out, char **error)
{
	char header[64], *body;
	size_t n = 0;
	unsigned long long length;
	int rc;

	/* Byte by byte up to the newline: nothing after it is consumed. */
	while (n < sizeof(header) - 1) {
		if (read_exactly(fd, header + n, 1) < 0) {
			*error = xstrdup("no bundle on standard input");
			return -1;
		}
		if (header[n++] == '\n')
			break;
	}
	header[n] = '\0';
	if (strncmp(header, BUNDLE_MAGIC, strlen(BUNDLE_MAGIC)) != 0 ||
	    sscanf(header + strlen(BUNDLE_MAGIC), "%llu", &length) != 1 ||
	    length > BUNDLE_MAX) {
		*error = xstrdup("standard input does not start with a bundle");
		return -1;
	}
	body = xmalloc((size_t)length + 1);
	if (read_exactly(fd, body, (size_t)length) < 0) {
		*error = xstrdup("the bundle on standard input is cut short");
		bundle_wipe_free(body, (size_t)length + 1);
		return -1;
	}
	rc = bundle_decode(out, body, (size_t)length, error);
	bundle_wipe_free(body, (size_t)length + 1);
	return rc;
}

/* Writes one secret file, 0600, its directory made first. */
static int
write_file(const char *path, const char *content, char **error)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	int fd, rc = 0;

	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if ((fd = file_make_dirs(dir, error)) < 0) {
			free(dir);
			return -1;
		}
		close(fd);
	}
	free(dir);
	if ((fd = file_create(AT_FDCWD, path, 0600, error)) < 0)
		return -1;
	if (file_write_all(fd, content, strlen(content)) < 0) {
		*error =
		    xasprintf("cannot write '%s': %s", path, strerror(errno));
		rc = -1;
	}
	close(fd);
	return rc;
}

/* The host's working directory, whose relative paths the files keep. */
static int
bundle_enter_cwd(const struct bundle *b, char **error)
{
	int fd;

	if (b->cwd == NULL)
		return 0;
	if ((fd = file_make_dirs(b->cwd, error)) < 0)
		return -1;
	if (fchdir(fd) < 0) {
		*error = xasprintf("cannot change to directory '%s': %s",
		    b->cwd, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int
bundle_apply(const struct bundle *b, char **error)
{
	size_t i;

	for (i = 0; i < b->env.len; i++)
		if (setenv(b->env.items[i].name, b->env.items[i].value, 1) <
		    0) {
			*error = xasprintf("cannot set '%s' from the bundle: "
					   "%s",
			    b->env.items[i].name, strerror(errno));
			return -1;
		}
	for (i = 0; i < b->files.len; i++)
		if (write_file(b->files.items[i].name, b->files.items[i].value,
			error) < 0)
			return -1;
	return bundle_enter_cwd(b, error);
}

void
bundle_release(struct bundle *b)
{
	nvlist_release(&b->env);
	nvlist_release(&b->files);
	free(b->cwd);
	b->cwd = NULL;
}

/* The lifeline: blocks reading standard input; its end is a SIGTERM.
 * The runner blocks SIGTERM and reads it from its signalfd, as it would
 * from "podman stop". */
static void *
lifeline_watch(void *arg)
{
	char buf[256];
	ssize_t n;

	(void)arg;
	while ((n = read(STDIN_FILENO, buf, sizeof(buf))) != 0)
		if (n < 0 && errno != EINTR)
			break;
	kill(getpid(), SIGTERM);
	return NULL;
}

static int
lifeline_start(void)
{
	pthread_attr_t attr;
	pthread_t thread;
	sigset_t all, old;
	int rc;

	/* The thread takes no signal: they stay the runner's. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	rc = pthread_create(&thread, &attr, lifeline_watch, NULL);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		diag_error("cannot watch the lifeline: %s", strerror(rc));
		return -1;
	}
	return 0;
}

int
bundle_receive(void)
{
	const char *how = getenv("JOBRUN_BUNDLE");
	struct bundle b = BUNDLE_INIT;
	char *error = NULL;
	int rc;

	int fd = STDIN_FILENO;

	if (how == NULL || (strcmp(how, "stdin") != 0 && how[0] != '/'))
		return 0;
	/* A file (a Kubernetes Secret volume): no lifeline. */
	if (how[0] == '/' && (fd = file_open_read(AT_FDCWD, how, &error)) < 0) {
		diag_error("cannot read the bundle: %s", error);
		free(error);
		return -1;
	}
	/* Steps must not try to read a bundle of their own. */
	unsetenv("JOBRUN_BUNDLE");
	rc = bundle_read(fd, &b, &error) < 0 || bundle_apply(&b, &error) < 0
	    ? -1
	    : 0;
	if (fd != STDIN_FILENO) {
		close(fd);
		b.lifeline = false;
	}
	if (rc < 0) {
		diag_error("%s", error);
		free(error);
	} else if (b.lifeline) {
		rc = lifeline_start();
	}
	bundle_release(&b);
	return rc;
}
