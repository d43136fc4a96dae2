/*
 * Files in places a step can also write to (file.h).  Every open here is
 * close-on-exec and never follows a symlink in the last component;
 * directories are walked through descriptors (openat/unlinkat), so a
 * symlink a step swaps in cannot send jobrun outside the workspace.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "list.h"
#include "xalloc.h"

/* After EAGAIN on a non-blocking descriptor: wait until it takes more. */
static bool
wait_writable(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };

	if (errno != EAGAIN)
		return false;
	return poll(&pfd, 1, -1) >= 0 || errno == EINTR;
}

int
file_write_all(int fd, const void *data, size_t size)
{
	const char *p = data;
	ssize_t n;

	while (size > 0) {
		n = write(fd, p, size);
		if (n < 0 && (errno == EINTR || wait_writable(fd)))
			continue;
		if (n < 0)
			return -1;
		p += n;
		size -= (size_t)n;
	}
	return 0;
}

/* The directory part of path ("." for a bare name). */
static char *
directory_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

static void
fsync_directory_of(const char *path)
{
	char *dir = directory_of(path);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	free(dir);
	if (fd < 0)
		return;
	/* Some file systems cannot sync a directory (EINVAL): nothing lost. */
	(void)fsync(fd);
	close(fd);
}

/*
 * Creates the temporary file that stands for path until it is renamed
 * there: PATH.tmp.PID.XXXXXX (file_remove_stale_temps() reads the PID), a
 * name nobody can plant something at first (a step that plants a
 * directory at a name it can guess stops the write), made with O_EXCL:
 * never written through a link.  Returns its descriptor, *temp its name
 * (the caller frees it), or -1 with errno.
 */
static int
temp_create(const char *path, char **temp)
{
	*temp = xasprintf("%s.tmp.%ld.XXXXXX", path, (long)getpid());
	return mkostemp(*temp, O_CLOEXEC);
}

int
file_write_atomic(
    const char *path, const char *data, size_t size, bool durable, char **error)
{
	char *temp;
	int fd, saved;

	*error = NULL;
	fd = temp_create(path, &temp);
	if (fd < 0)
		goto fail;
	if (fchmod(fd, 0644) < 0) {
		saved = errno;
		close(fd);
		unlink(temp);
		errno = saved;
		goto fail;
	}
	if (file_write_all(fd, data, size) < 0 ||
	    file_write_all(fd, "\n", 1) < 0 || (durable && fsync(fd) < 0)) {
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

int
file_check_writable(const char *path, char **error)
{
	char *temp;
	int fd = temp_create(path, &temp);

	if (fd < 0) {
		*error =
		    xasprintf("cannot write '%s': %s", path, strerror(errno));
		free(temp);
		return -1;
	}
	close(fd);
	unlink(temp);
	free(temp);
	return 0;
}

void
file_remove_stale_temps(const char *path)
{
	char *dir = directory_of(path);
	const char *slash = strrchr(path, '/');
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
		/* NAME.tmp.PID.XXXXXX (temp_create(); NAME.tmp.PID before) */
		pid = strtol(entry->d_name + length + 5, &end, 10);
		if (*end == '.' && strlen(end) == 7)
			end += 7;
		if (*end != '\0' || pid <= 0)
			continue;
		/* A writer that is still alive keeps its file. */
		if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
			unlinkat(dirfd(d), entry->d_name, 0);
	}
	closedir(d);
	free(dir);
}

int
file_open_read(int dirfd, const char *name, char **error)
{
	struct stat st;
	int fd, flags;

	fd = openat(dirfd, name,
	    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int saved = errno;

		*error = saved == ELOOP
		    ? xasprintf("cannot read '%s': it is a symbolic link", name)
		    : xasprintf("cannot read '%s': %s", name, strerror(saved));
		errno = saved;
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		*error =
		    xasprintf("cannot read '%s': not a regular file", name);
		close(fd);
		errno = EINVAL;
		return -1;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags >= 0)
		fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	return fd;
}

char *
file_read_fd(int fd, size_t limit, size_t *size)
{
	size_t cap = 4096, used = 0;
	char *data = xmalloc(cap), *bigger;
	ssize_t n;

	for (;;) {
		if (used + 1 == cap) {
			if (used > limit) {
				errno = EFBIG;
				break;
			}
			bigger = xmalloc(cap * 2);
			memcpy(bigger, data, used);
			wipe(data, used);
			free(data);
			data = bigger;
			cap *= 2;
		}
		n = read(fd, data + used, cap - used - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (n == 0) {
			if (used > limit) {
				errno = EFBIG;
				break;
			}
			data[used] = '\0';
			*size = used;
			return data;
		}
		used += (size_t)n;
	}
	wipe(data, used);
	free(data);
	return NULL;
}

int
file_read_all(int dirfd, const char *name, size_t limit, char **out,
    size_t *length, char **error)
{
	size_t used = 0, cap = 4096;
	char *buf;
	ssize_t n;
	int fd, saved;

	*out = NULL;
	*length = 0;
	if ((fd = file_open_read(dirfd, name, error)) < 0)
		return -1;
	buf = xmalloc(cap);
	for (;;) {
		if (used + 1 >= cap) {
			if (cap > limit + 1) {
				*error = xasprintf("cannot read '%s': larger "
						   "than %zu bytes",
				    name, limit);
				errno = EFBIG;
				goto fail;
			}
			cap *= 2;
			buf = xreallocarray(buf, cap, 1);
		}
		n = read(fd, buf + used, cap - used - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*error = xasprintf(
			    "cannot read '%s': %s", name, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	if (used > limit) {
		*error = xasprintf(
		    "cannot read '%s': larger than %zu bytes", name, limit);
		errno = EFBIG;
		goto fail;
	}
	close(fd);
	buf[used] = '\0';
	*out = buf;
	*length = used;
	return 0;
fail:
	saved = errno;
	close(fd);
	wipe(buf, cap);
	free(buf);
	errno = saved;
	return -1;
}

int
file_create(int dirfd, const char *name, mode_t mode, char **error)
{
	int fd;

	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT) {
		*error = xasprintf("cannot replace '%s': %s", name,
		    errno == EISDIR || errno == EPERM ? "it is a directory"
						      : strerror(errno));
		return -1;
	}
	fd = openat(dirfd, name,
	    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
	    mode);
	if (fd < 0)
		*error =
		    xasprintf("cannot create '%s': %s", name, strerror(errno));
	return fd;
}

int
file_open_dir(int dirfd, const char *name, mode_t mode, char **error)
{
	int fd;

	if (mkdirat(dirfd, name, mode) < 0 && errno != EEXIST) {
		*error = xasprintf("cannot create the directory '%s': %s", name,
		    strerror(errno));
		return -1;
	}
	fd = openat(
	    dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		*error = errno == ELOOP || errno == ENOTDIR
		    ? xasprintf("cannot use '%s': not a directory (a "
				"symbolic link or a file is in its place)",
			  name)
		    : xasprintf("cannot open the directory '%s': %s", name,
			  strerror(errno));
	return fd;
}

int
file_make_dirs(const char *path, char **error)
{
	char *copy = xstrdup(path), *p;

	/* The parents are the user's: they may be symlinks (/job on a
	 * volume, say); only the last component is checked. */
	for (p = copy + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0755) < 0 && errno != EEXIST) {
			*error = xasprintf("cannot create the directory "
					   "'%s': %s",
			    copy, strerror(errno));
			free(copy);
			return -1;
		}
		*p = '/';
	}
	free(copy);
	return file_open_dir(AT_FDCWD, path, 0755, error);
}

int
file_clear_dir(int dirfd)
{
	struct dirent *entry;
	int fd = dup(dirfd), rc = 0;
	DIR *d;

	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	rewinddir(d);
	while ((entry = readdir(d)) != NULL) {
		if (strcmp(entry->d_name, ".") == 0 ||
		    strcmp(entry->d_name, "..") == 0)
			continue;
		if (file_remove_tree(dirfd, entry->d_name) < 0)
			rc = -1;
	}
	closedir(d);
	return rc;
}

int
file_remove_tree(int dirfd, const char *name)
{
	int fd, rc, saved;

	if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -1;
	fd = openat(
	    dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = file_clear_dir(fd);
	saved = errno;
	close(fd);
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0)
		return -1;
	errno = saved;
	return rc;
}
