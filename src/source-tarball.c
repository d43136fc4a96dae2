/*
 * The tarball source (source-backend.h): extracts a local archive (tar,
 * plain or compressed with gzip, xz, zstd or bzip2; any format libarchive
 * reads but xar) into the target.  Each entry is checked before anything
 * of it is written, and refused with an error naming it when it has an
 * absolute path or a ".." component, is a device node, FIFO or socket,
 * has the setuid bit (or setgid on a file), is a symbolic link pointing
 * out of the target, or a hard link to something outside or through a
 * link.  libarchive then writes with every ARCHIVE_EXTRACT_SECURE_* flag,
 * a second line of defence, and a last pass checks every link in the
 * tree as the kernel resolves it (treepath.h), which catches links that
 * only escape with the help of links extracted after them.
 *
 * An http(s) URL is refused: downloading is not built in (no libcurl).
 * The backend runs in a child process (source.c), so it may chdir() into
 * the target, which libarchive's relative paths need.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "source-backend.h"
#include "treepath.h"
#include "xalloc.h"

#define EXTRACT_FLAGS                                                          \
	(ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |                         \
	    ARCHIVE_EXTRACT_SECURE_SYMLINKS |                                  \
	    ARCHIVE_EXTRACT_SECURE_NODOTDOT |                                  \
	    ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS)

struct extract {
	struct source_reply *reply;
	const char *file; /* the archive, for messages */
	struct archive *in, *out;
	unsigned long long entries, bytes;
};

static int
refuse(struct extract *x, const char *name, const char *why)
{
	source_reply_error(
	    x->reply, "entry '%s' in '%s' %s: refused", name, x->file, why);
	return -1;
}

static const char *
type_problem(mode_t type)
{
	switch (type) {
	case AE_IFREG:
	case AE_IFDIR:
	case AE_IFLNK:
		return NULL;
	case AE_IFCHR:
	case AE_IFBLK:
		return "is a device node";
	case AE_IFIFO:
		return "is a FIFO";
	case AE_IFSOCK:
		return "is a socket";
	}
	return "is of an unknown type";
}

/* A symbolic link's target must stay inside, counted from the link's
 * directory; links met on the way are checked at the end. */
static const char *
symlink_problem(const char *name, const char *target)
{
	const char *slash = strrchr(name, '/');
	char *joined, *normal;
	bool escapes;

	if (target[0] == '/')
		return "is a symbolic link to an absolute path";
	joined = slash == NULL
	    ? xstrdup(target)
	    : xasprintf("%.*s/%s", (int)(slash - name), name, target);
	normal = treepath_normalize(joined);
	escapes = strcmp(normal, "..") == 0 || strncmp(normal, "../", 3) == 0;
	free(joined);
	free(normal);
	return escapes ? "is a symbolic link that points outside the target"
		       : NULL;
}

/* A hard link may only name a file already extracted, by a path that
 * passes through no symbolic link. */
static const char *
hardlink_problem(const char *target)
{
	char *path = xstrdup(target), *slash = path;
	const char *problem = NULL;
	struct stat st;

	if (target[0] == '/' || treepath_has_dotdot(target)) {
		free(path);
		return "is a hard link to a path outside the target";
	}
	while (problem == NULL && slash != NULL) {
		slash = strchr(slash + 1, '/');
		if (slash != NULL)
			*slash = '\0';
		if (lstat(path, &st) < 0)
			problem = "is a hard link to a file not extracted "
				  "before it";
		else if (S_ISLNK(st.st_mode))
			problem = "is a hard link through a symbolic link";
		else if (slash == NULL && !S_ISREG(st.st_mode))
			problem = "is a hard link to something other than a "
				  "file";
		if (slash != NULL)
			*slash = '/';
	}
	free(path);
	return problem;
}

/* Checks one entry before it is written; -1 after a message. */
static int
check_entry(struct extract *x, struct archive_entry *entry)
{
	const char *name = archive_entry_pathname(entry);
	const char *link = archive_entry_hardlink(entry);
	mode_t type = archive_entry_filetype(entry);
	mode_t perm = archive_entry_perm(entry);
	const char *problem = NULL;

	if (name == NULL || name[0] == '\0')
		return refuse(x, "(no name)", "has no usable name");
	if (name[0] == '/')
		problem = "has an absolute path";
	else if (treepath_has_dotdot(name))
		problem = "has a '..' component";
	else if (link != NULL)
		problem = hardlink_problem(link);
	else if ((problem = type_problem(type)) == NULL && type == AE_IFLNK)
		problem = symlink_problem(name,
		    archive_entry_symlink(entry) ? archive_entry_symlink(entry)
						 : "");
	if (problem == NULL && (perm & S_ISUID))
		problem = "has the setuid bit";
	if (problem == NULL && (perm & S_ISGID) && type != AE_IFDIR)
		problem = "has the setgid bit";
	if (problem != NULL)
		return refuse(x, name, problem);
	/* A directory's setgid bit is harmless, but it is not ours to keep. */
	archive_entry_set_perm(entry, perm & ~(mode_t)S_ISGID);
	return 0;
}

static int
copy_data(struct extract *x, const char *name)
{
	const void *block;
	size_t size;
	la_int64_t offset;
	int rc;

	while ((rc = archive_read_data_block(x->in, &block, &size, &offset)) ==
	    ARCHIVE_OK) {
		if (archive_write_data_block(x->out, block, size, offset) <
		    ARCHIVE_OK) {
			source_reply_error(x->reply, "cannot write '%s': %s",
			    name, archive_error_string(x->out));
			return -1;
		}
		x->bytes += size;
	}
	if (rc != ARCHIVE_EOF) {
		source_reply_error(x->reply, "cannot read '%s' from '%s': %s",
		    name, x->file, archive_error_string(x->in));
		return -1;
	}
	return 0;
}

static int
extract_entry(struct extract *x, struct archive_entry *entry)
{
	const char *name;

	if (check_entry(x, entry) < 0)
		return -1;
	name = archive_entry_pathname(entry);
	if (archive_write_header(x->out, entry) < ARCHIVE_OK) {
		source_reply_error(x->reply,
		    "entry '%s' in '%s' cannot be "
		    "extracted: %s: refused",
		    name, x->file, archive_error_string(x->out));
		return -1;
	}
	if (archive_entry_size(entry) > 0 && copy_data(x, name) < 0)
		return -1;
	if (archive_write_finish_entry(x->out) < ARCHIVE_OK) {
		source_reply_error(x->reply, "cannot finish '%s': %s", name,
		    archive_error_string(x->out));
		return -1;
	}
	x->entries++;
	return 0;
}

static int
extract_all(struct extract *x)
{
	struct archive_entry *entry;
	int rc;

	for (;;) {
		rc = archive_read_next_header(x->in, &entry);
		if (rc == ARCHIVE_EOF)
			break;
		if (rc < ARCHIVE_WARN) {
			source_reply_error(x->reply, "cannot read '%s': %s",
			    x->file, archive_error_string(x->in));
			return -1;
		}
		if (extract_entry(x, entry) < 0)
			return -1;
	}
	/* Directory modes and times are set here, after their contents. */
	if (archive_write_close(x->out) < ARCHIVE_OK) {
		source_reply_error(x->reply,
		    "cannot finish extracting '%s': %s", x->file,
		    archive_error_string(x->out));
		return -1;
	}
	return 0;
}

/* The last pass: every link in the tree resolves inside it. */
static int
check_links(struct extract *x)
{
	const char *why;
	char *bad;
	int rootfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (rootfd < 0) {
		source_reply_error(
		    x->reply, "cannot open the target: %s", strerror(errno));
		return -1;
	}
	rc = treepath_check_tree(rootfd, &bad, &why);
	close(rootfd);
	if (rc < 0) {
		source_reply_error(x->reply,
		    "entry '%s' in '%s' is a symbolic link that %s: refused",
		    bad, x->file, why);
		free(bad);
	}
	return rc;
}

static char *
archive_path(const struct source_request *request, struct source_reply *reply)
{
	char *path = source_local_path(request->url);

	if (path != NULL)
		return path;
	if (strncmp(request->url, "http://", 7) == 0 ||
	    strncmp(request->url, "https://", 8) == 0)
		source_reply_error(reply,
		    "downloading a tarball is not built into this jobrun: "
		    "give a local path, or download it in a CI step");
	else
		source_reply_error(
		    reply, "a tarball source is a local path (or file:// URL)");
	return NULL;
}

/*
 * What archive_read_support_format_all() enables, but xar: its reader is
 * the only part of libarchive that needs libxml2, which needs ICU (36 MB
 * in Debian), so leaving it out lets the runner image link libarchive
 * statically and stay small (images/runner/Dockerfile).  xar is Apple's
 * installer format; no source tree comes as one.
 */
static void
support_formats(struct archive *in)
{
	archive_read_support_format_ar(in);
	archive_read_support_format_cpio(in);
	archive_read_support_format_empty(in);
	archive_read_support_format_lha(in);
	archive_read_support_format_mtree(in);
	archive_read_support_format_tar(in);
	archive_read_support_format_warc(in);
	archive_read_support_format_7zip(in);
	archive_read_support_format_cab(in);
	archive_read_support_format_rar(in);
	archive_read_support_format_rar5(in);
	archive_read_support_format_iso9660(in);
	archive_read_support_format_zip(in);
	/* As format_all does: a format that cannot register leaves an
	 * error that is not this archive's. */
	archive_clear_error(in);
}

int
source_tarball(const struct source_request *request, struct source_reply *reply)
{
	struct extract x = { reply, NULL, NULL, NULL, 0, 0 };
	char *path = archive_path(request, reply), summary[256];
	int rc = -1;

	if (path == NULL)
		return -1;
	x.file = path;
	x.in = archive_read_new();
	x.out = archive_write_disk_new();
	if (x.in == NULL || x.out == NULL) {
		source_reply_error(reply, "out of memory");
		goto out;
	}
	archive_read_support_filter_all(x.in);
	support_formats(x.in);
	archive_write_disk_set_options(x.out, EXTRACT_FLAGS);
	if (archive_read_open_filename(x.in, path, 65536) < ARCHIVE_OK) {
		source_reply_error(reply, "cannot open '%s': %s", path,
		    archive_error_string(x.in));
		goto out;
	}
	if (chdir(request->target) < 0) {
		source_reply_error(reply, "cannot enter '%s': %s",
		    request->target, strerror(errno));
		goto out;
	}
	if (extract_all(&x) < 0 || check_links(&x) < 0)
		goto out;
	snprintf(summary, sizeof(summary), "%s (%llu entries, %llu bytes)",
	    request->target, x.entries, x.bytes);
	source_reply_fact(reply, "summary", summary);
	rc = 0;
out:
	if (x.in != NULL)
		archive_read_free(x.in);
	if (x.out != NULL)
		archive_write_free(x.out);
	free(path);
	return rc;
}
