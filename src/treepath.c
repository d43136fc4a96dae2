/*
 * Paths inside a tree (treepath.h).  The link check resolves a link the
 * way the kernel does, one component at a time, because a purely lexical
 * check is fooled: with "s -> ." at the root, "b -> s/.." looks like the
 * root but is its parent.  Every component is looked at with fstatat()
 * relative to the tree's root and AT_SYMLINK_NOFOLLOW; links met on the way
 * are expanded in place, and a ".." at the root is an escape.
 */
#include "config.h"

#include "treepath.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xalloc.h"

/* A stack of path components. */
struct parts {
	char **items;
	size_t len;
	size_t cap;
};

static void
parts_push(struct parts *parts, const char *name, size_t len)
{
	xgrow(
	    &parts->items, &parts->cap, parts->len + 1, sizeof(*parts->items));
	parts->items[parts->len++] = xstrndup(name, len);
}

static void
parts_pop(struct parts *parts)
{
	free(parts->items[--parts->len]);
}

static void
parts_release(struct parts *parts)
{
	while (parts->len > 0)
		parts_pop(parts);
	free(parts->items);
}

/* Joins the components with '/', after a leading '/' when absolute. */
static char *
parts_join(const struct parts *parts, bool absolute)
{
	size_t i, size = 2;
	char *path;

	for (i = 0; i < parts->len; i++)
		size += strlen(parts->items[i]) + 1;
	path = xmalloc(size);
	path[0] = '\0';
	if (absolute)
		strcat(path, "/");
	for (i = 0; i < parts->len; i++) {
		if (i > 0)
			strcat(path, "/");
		strcat(path, parts->items[i]);
	}
	if (path[0] == '\0')
		strcat(path, ".");
	return path;
}

/* Points *name at the next component of *cursor and its length; 0 at the
 * end of the path. */
static size_t
next_component(const char **cursor, const char **name)
{
	const char *p = *cursor;
	size_t len;

	while (*p == '/')
		p++;
	len = strcspn(p, "/");
	*name = p;
	*cursor = p + len;
	return len;
}

static bool
is_dot(const char *name, size_t len)
{
	return len == 1 && name[0] == '.';
}

static bool
is_dotdot(const char *name, size_t len)
{
	return len == 2 && name[0] == '.' && name[1] == '.';
}

char *
treepath_normalize(const char *path)
{
	struct parts parts = { 0 };
	bool absolute = path[0] == '/';
	const char *cursor = path, *name;
	size_t len;
	char *result;

	while ((len = next_component(&cursor, &name)) > 0) {
		if (is_dot(name, len))
			continue;
		if (is_dotdot(name, len) && parts.len > 0 &&
		    strcmp(parts.items[parts.len - 1], "..") != 0) {
			parts_pop(&parts);
			continue;
		}
		/* "/.." is "/"; a relative path keeps its climb. */
		if (is_dotdot(name, len) && absolute)
			continue;
		parts_push(&parts, name, len);
	}
	result = parts_join(&parts, absolute);
	parts_release(&parts);
	return result;
}

bool
treepath_is_under(const char *path, const char *dir)
{
	char *p = treepath_normalize(path), *d = treepath_normalize(dir);
	size_t len = strlen(d);
	bool under;

	if (strcmp(d, "/") == 0)
		under = p[0] == '/';
	else
		under = strncmp(p, d, len) == 0 &&
		    (p[len] == '\0' || p[len] == '/');
	free(p);
	free(d);
	return under;
}

bool
treepath_has_dotdot(const char *path)
{
	const char *cursor = path, *name;
	size_t len;

	while ((len = next_component(&cursor, &name)) > 0)
		if (is_dotdot(name, len))
			return true;
	return false;
}

/* Reads the link at path (relative to rootfd); NULL with errno set. */
static char *
read_link(int rootfd, const char *path)
{
	char buf[PATH_MAX];
	ssize_t n = readlinkat(rootfd, path, buf, sizeof(buf) - 1);

	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return xstrdup(buf);
}

/*
 * Resolves the components of rest below parts; see treepath.h for the
 * verdicts.  *hops counts the links followed so far.
 */
static int
resolve(
    int rootfd, struct parts *parts, char *rest, int *hops, const char **why)
{
	const char *cursor = rest, *name;
	char *path, *target, *spliced;
	struct stat st;
	size_t len;
	int rc;

	while ((len = next_component(&cursor, &name)) > 0) {
		if (is_dot(name, len))
			continue;
		if (is_dotdot(name, len)) {
			if (parts->len == 0) {
				*why = "points outside the tree";
				return -1;
			}
			parts_pop(parts);
			continue;
		}
		parts_push(parts, name, len);
		path = parts_join(parts, false);
		rc = fstatat(rootfd, path, &st, AT_SYMLINK_NOFOLLOW);
		if (rc < 0 && errno != ENOENT && errno != ENOTDIR) {
			free(path);
			*why = "cannot be read";
			return -1;
		}
		/* What does not exist resolves by its name from here on. */
		if (rc < 0 || !S_ISLNK(st.st_mode)) {
			free(path);
			continue;
		}
		target = read_link(rootfd, path);
		free(path);
		if (target == NULL) {
			*why = "cannot be read";
			return -1;
		}
		parts_pop(parts);
		if (++*hops > TREEPATH_MAX_LINKS || target[0] == '/') {
			*why = target[0] == '/' ? "points outside the tree"
						: "is a symbolic link loop";
			free(target);
			return -1;
		}
		spliced = xasprintf("%s/%s", target, cursor);
		free(target);
		rc = resolve(rootfd, parts, spliced, hops, why);
		free(spliced);
		return rc;
	}
	return 0;
}

int
treepath_check_link(int rootfd, const char *relpath, const char **why)
{
	struct parts parts = { 0 };
	const char *cursor = relpath, *name;
	char *target;
	size_t len;
	int hops = 1, rc;

	if ((target = read_link(rootfd, relpath)) == NULL) {
		*why = "cannot be read";
		return -1;
	}
	if (target[0] == '/') {
		free(target);
		*why = "points to an absolute path";
		return -1;
	}
	/* The link's own directory is where its target starts from. */
	while ((len = next_component(&cursor, &name)) > 0)
		if (*cursor != '\0')
			parts_push(&parts, name, len);
	rc = resolve(rootfd, &parts, target, &hops, why);
	free(target);
	parts_release(&parts);
	return rc;
}

/* Checks the directory relpath (open as dirfd) and everything below it. */
static int
check_dir(
    int rootfd, int dirfd, const char *relpath, char **bad, const char **why)
{
	struct dirent *entry;
	struct stat st;
	char *path;
	int fd, rc = 0;
	DIR *dir;

	if ((dir = fdopendir(dirfd)) == NULL) {
		close(dirfd);
		*bad = xstrdup(relpath);
		*why = "cannot be read";
		return -1;
	}
	while (rc == 0 && (entry = readdir(dir)) != NULL) {
		if (strcmp(entry->d_name, ".") == 0 ||
		    strcmp(entry->d_name, "..") == 0)
			continue;
		path = relpath[0] == '\0'
		    ? xstrdup(entry->d_name)
		    : xasprintf("%s/%s", relpath, entry->d_name);
		if (fstatat(dirfd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) <
		    0) {
			*why = "cannot be read";
			rc = -1;
		} else if (S_ISLNK(st.st_mode)) {
			rc = treepath_check_link(rootfd, path, why);
		} else if (S_ISDIR(st.st_mode)) {
			fd = openat(dirfd, entry->d_name,
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			rc =
			    fd < 0 ? -1 : check_dir(rootfd, fd, path, bad, why);
			if (fd < 0)
				*why = "cannot be read";
			else if (rc < 0) {
				free(path);
				path = NULL;
			}
		}
		if (rc < 0 && path != NULL)
			*bad = path;
		else
			free(path);
	}
	closedir(dir);
	return rc;
}

int
treepath_check_tree(int rootfd, char **bad, const char **why)
{
	int fd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	*bad = NULL;
	if (fd < 0) {
		*bad = xstrdup(".");
		*why = "cannot be read";
		return -1;
	}
	return check_dir(rootfd, fd, "", bad, why);
}
