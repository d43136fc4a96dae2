/*
 * Copying a local repository's objects (source-gitlocal.h).  git clone
 * hard-links them; this copies (copy_file_range(), which shares blocks on
 * file systems that can), because a hard link would let a step that
 * writes into its checkout's .git/objects change the source repository.
 * No symbolic link is followed: objects are regular files in plain
 * directories.  objects/info/alternates is not copied (a relative path in
 * it would mean another place here): what the source borrows from
 * elsewhere is left to the fetch.
 */
#include "config.h"

#include "source-gitlocal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#include "xalloc.h"

/* Copies the regular file name from one directory to the other. */
static int
copy_file(int from_dir, int to_dir, const char *name, mode_t mode)
{
	int in, out, rc = 0;
	ssize_t n;

	if ((in = openat(from_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) <
	    0)
		return -1;
	out = openat(
	    to_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 0444);
	if (out < 0) {
		close(in);
		return errno == EEXIST ? 0 : -1;
	}
	while ((n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0)) > 0)
		continue;
	if (n < 0) {
		/* No copy_file_range() here: read and write. */
		char buf[65536];
		ssize_t got;

		rc = lseek(in, 0, SEEK_SET) == 0 && ftruncate(out, 0) == 0 ? 0
									   : -1;
		while (rc == 0 && (got = read(in, buf, sizeof(buf))) > 0)
			rc = write(out, buf, (size_t)got) == got ? 0 : -1;
	}
	close(in);
	if (close(out) < 0)
		rc = -1;
	return rc;
}

static int copy_dir(int from_dir, int to_dir, int depth);

/* Copies one entry of a directory: a file, or a directory recursively. */
static int
copy_entry(int from_dir, int to_dir, const char *name, int depth)
{
	struct stat st;
	int from, to, rc;

	if (fstatat(from_dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	if (S_ISREG(st.st_mode))
		return copy_file(from_dir, to_dir, name, st.st_mode);
	if (!S_ISDIR(st.st_mode) || depth > 3)
		return 0;
	if (mkdirat(to_dir, name, 0755) < 0 && errno != EEXIST)
		return -1;
	from = openat(
	    from_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	to = openat(
	    to_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	rc = from >= 0 && to >= 0 ? copy_dir(from, to, depth + 1) : -1;
	if (from >= 0)
		close(from);
	if (to >= 0)
		close(to);
	return rc;
}

/* Copies what from_dir holds into to_dir (both borrowed). */
static int
copy_dir(int from_dir, int to_dir, int depth)
{
	struct dirent *entry;
	int fd = dup(from_dir), rc = 0;
	DIR *dir;

	if (fd < 0 || (dir = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while (rc == 0 && (entry = readdir(dir)) != NULL) {
		if (strcmp(entry->d_name, ".") == 0 ||
		    strcmp(entry->d_name, "..") == 0 ||
		    strncmp(entry->d_name, "tmp_", 4) == 0 ||
		    strstr(entry->d_name, "alternates") != NULL)
			continue;
		rc = copy_entry(from_dir, to_dir, entry->d_name, depth);
	}
	closedir(dir);
	return rc;
}

int
source_gitlocal_copy_objects(const char *path, const char *gitdir, char **error)
{
	git_repository *source = NULL;
	char *from_path = NULL, *to_path = NULL;
	int from = -1, to = -1, rc = -1;

	*error = NULL;
	if (git_repository_open_ext(
		&source, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
		const git_error *e = git_error_last();

		*error = xasprintf("cannot open '%s': %s", path,
		    e && e->message ? e->message : "not a repository");
		return -1;
	}
	from_path = xasprintf("%sobjects", git_repository_commondir(source));
	to_path = xasprintf("%s/objects", gitdir);
	from = open(from_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	to = open(to_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (from >= 0 && to >= 0)
		rc = copy_dir(from, to, 0);
	if (rc < 0)
		*error = xasprintf("cannot copy the objects of '%s': %s",
		    from_path, strerror(errno));
	if (from >= 0)
		close(from);
	if (to >= 0)
		close(to);
	free(from_path);
	free(to_path);
	git_repository_free(source);
	return rc;
}
