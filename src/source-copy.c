/*
 * The copy source (source-backend.h): copies a local directory into the
 * target, keeping permission bits and modification times.  Nothing is
 * ever followed: every entry is looked at with AT_SYMLINK_NOFOLLOW and
 * opened with O_NOFOLLOW.  A symbolic link is copied as a link only when
 * it resolves inside the copied tree (treepath.h); otherwise, and for
 * FIFOs, sockets and devices, the copy stops with an error naming the
 * entry (what was copied until then stays, and no step runs).  The setuid
 * and setgid bits are dropped and files belong to jobrun's user: a copy
 * must not hand out privileges.  Hard links become separate files.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source-backend.h"
#include "treepath.h"
#include "xalloc.h"

/* Deeper trees are refused rather than risk running out of descriptors. */
#define COPY_MAX_DEPTH 200

struct copy {
	int rootfd; /* the source tree's root, for link checks */
	struct source_reply *reply;
	const char *from; /* the source directory, for messages */
	unsigned long long files, links, dirs, bytes;
};

static const char *
special_kind(mode_t mode)
{
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "a device";
	return "not a file, directory or symbolic link";
}

/* Permission bits to keep: setuid and setgid go. */
static mode_t
kept_mode(mode_t mode)
{
	return mode & (S_IRWXU | S_IRWXG | S_IRWXO | S_ISVTX);
}

/* Reports "'<from>/<relpath>' <what><why>: refused". */
static int
refuse(struct copy *c, const char *relpath, const char *what, const char *why)
{
	source_reply_error(
	    c->reply, "'%s/%s' %s%s: refused", c->from, relpath, what, why);
	return -1;
}

static int
fail(struct copy *c, const char *relpath, const char *what)
{
	source_reply_error(c->reply, "cannot %s '%s/%s': %s", what, c->from,
	    relpath, strerror(errno));
	return -1;
}

static int
copy_bytes(int in, int out)
{
	char buf[65536];
	ssize_t n, done, w;

	for (;;) {
		n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
		if (n == 0)
			return 0;
		if (n < 0)
			break;
	}
	/* Not supported between these files: copy by hand. */
	if (errno != EXDEV && errno != EINVAL && errno != ENOSYS &&
	    errno != EOPNOTSUPP)
		return -1;
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		for (done = 0; done < n; done += w)
			if ((w = write(out, buf + done, (size_t)(n - done))) <
			    0)
				return -1;
	}
	return 0;
}

static int
copy_file(struct copy *c, int srcdir, int dstdir, const char *name,
    const char *relpath, const struct stat *st)
{
	struct timespec times[2] = { st->st_atim, st->st_mtim };
	int in, out, rc;

	in = openat(srcdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return fail(c, relpath, "open");
	out = openat(dstdir, name,
	    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		close(in);
		return fail(c, relpath, "create a copy of");
	}
	rc = copy_bytes(in, out);
	if (rc == 0)
		rc = fchmod(out, kept_mode(st->st_mode));
	if (rc == 0)
		rc = futimens(out, times);
	close(in);
	if (close(out) < 0)
		rc = -1;
	if (rc < 0)
		return fail(c, relpath, "copy");
	c->files++;
	c->bytes += (unsigned long long)st->st_size;
	return 0;
}

static int
copy_link(struct copy *c, int srcdir, int dstdir, const char *name,
    const char *relpath, const struct stat *st)
{
	struct timespec times[2] = { st->st_atim, st->st_mtim };
	char target[PATH_MAX];
	const char *why;
	ssize_t n;

	if (treepath_check_link(c->rootfd, relpath, &why) < 0)
		return refuse(c, relpath, "is a symbolic link that ", why);
	n = readlinkat(srcdir, name, target, sizeof(target) - 1);
	if (n < 0)
		return fail(c, relpath, "read the link");
	target[n] = '\0';
	if (symlinkat(target, dstdir, name) < 0 ||
	    utimensat(dstdir, name, times, AT_SYMLINK_NOFOLLOW) < 0)
		return fail(c, relpath, "copy the link");
	c->links++;
	return 0;
}

static int copy_dir(
    struct copy *c, int srcfd, int dstfd, const char *relpath, int depth);

static int
copy_subdir(struct copy *c, int srcdir, int dstdir, const char *name,
    const char *relpath, const struct stat *st, int depth)
{
	struct timespec times[2] = { st->st_atim, st->st_mtim };
	int in, out, rc;

	if (depth >= COPY_MAX_DEPTH)
		return refuse(c, relpath, "is nested too deep", "");
	if (mkdirat(dstdir, name, 0700) < 0)
		return fail(c, relpath, "create a copy of");
	in = openat(
	    srcdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	out = openat(
	    dstdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0 || out < 0) {
		rc = fail(c, relpath, "open");
		if (in >= 0)
			close(in);
		if (out >= 0)
			close(out);
		return rc;
	}
	rc = copy_dir(c, in, out, relpath, depth + 1);
	/* Modes and times last: the contents went in first. */
	if (rc == 0 &&
	    (fchmod(out, kept_mode(st->st_mode)) < 0 ||
		futimens(out, times) < 0))
		rc = fail(c, relpath, "set the mode and times of");
	close(out);
	c->dirs++;
	return rc;
}

static int
copy_entry(struct copy *c, int srcfd, int dstfd, const char *name,
    const char *relpath, int depth)
{
	struct stat st;

	if (fstatat(srcfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return fail(c, relpath, "read");
	if (S_ISREG(st.st_mode))
		return copy_file(c, srcfd, dstfd, name, relpath, &st);
	if (S_ISLNK(st.st_mode))
		return copy_link(c, srcfd, dstfd, name, relpath, &st);
	if (S_ISDIR(st.st_mode))
		return copy_subdir(c, srcfd, dstfd, name, relpath, &st, depth);
	return refuse(c, relpath, "is ", special_kind(st.st_mode));
}

/* Copies what the directory srcfd holds into dstfd; takes srcfd. */
static int
copy_dir(struct copy *c, int srcfd, int dstfd, const char *relpath, int depth)
{
	struct dirent *entry;
	char *path;
	DIR *dir;
	int rc = 0;

	if ((dir = fdopendir(srcfd)) == NULL) {
		close(srcfd);
		return fail(c, relpath, "read the directory");
	}
	while (rc == 0 && (errno = 0, entry = readdir(dir)) != NULL) {
		if (strcmp(entry->d_name, ".") == 0 ||
		    strcmp(entry->d_name, "..") == 0)
			continue;
		path = relpath[0] == '\0'
		    ? xstrdup(entry->d_name)
		    : xasprintf("%s/%s", relpath, entry->d_name);
		rc = copy_entry(
		    c, dirfd(dir), dstfd, entry->d_name, path, depth);
		free(path);
	}
	if (rc == 0 && errno != 0)
		rc = fail(c, relpath, "read the directory");
	closedir(dir);
	return rc;
}

/* Gives the target the root's mode and times, once it is filled. */
static int
finish_root(struct copy *c, int dstfd)
{
	struct timespec times[2];
	struct stat st;

	if (fstat(c->rootfd, &st) < 0)
		return fail(c, ".", "read");
	times[0] = st.st_atim;
	times[1] = st.st_mtim;
	if (fchmod(dstfd, kept_mode(st.st_mode)) < 0 ||
	    futimens(dstfd, times) < 0)
		return fail(c, ".", "set the mode and times of");
	return 0;
}

int
source_copy(const struct source_request *request, struct source_reply *reply)
{
	struct copy c = { -1, reply, NULL, 0, 0, 0, 0 };
	char *from = source_local_path(request->url), summary[256];
	int srcfd, dstfd, rc = -1;

	if (from == NULL) {
		source_reply_error(
		    reply, "a copy source is a local directory, not a URL");
		return -1;
	}
	c.from = from;
	/* The root itself may be a link the user chose; below it, none is
	 * followed. */
	c.rootfd = open(from, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	dstfd = open(request->target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c.rootfd < 0 || dstfd < 0) {
		source_reply_error(reply, "cannot open '%s': %s",
		    c.rootfd < 0 ? from : request->target, strerror(errno));
		goto out;
	}
	srcfd = openat(c.rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (srcfd < 0) {
		fail(&c, ".", "open");
		goto out;
	}
	if (copy_dir(&c, srcfd, dstfd, "", 0) < 0 || finish_root(&c, dstfd) < 0)
		goto out;
	snprintf(summary, sizeof(summary),
	    "%s (%llu files, %llu directories, %llu links, %llu bytes)",
	    request->target, c.files, c.dirs, c.links, c.bytes);
	source_reply_fact(reply, "summary", summary);
	rc = 0;
out:
	if (c.rootfd >= 0)
		close(c.rootfd);
	if (dstfd >= 0)
		close(dstfd);
	free(from);
	return rc;
}
