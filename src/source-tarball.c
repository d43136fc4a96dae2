/*
 * The tarball source (source-backend.h): extracts a local archive (tar,
 * plain or compressed with gzip, xz, zstd or bzip2; any format libarchive
 * reads but xar) into the target.  Those four compressions are read with
 * libarchive's own code only, never through a program it would run (lzop
 * -d, ...), and no other is enabled.  Each entry is checked before anything
 * of it is written, and refused with an error naming it when it has an
 * absolute path or a ".." component, is a device node, FIFO or socket,
 * has the setuid bit (or setgid on a file), is a symbolic link pointing
 * out of the target, or a hard link to something outside or through a
 * link.  libarchive then writes with every ARCHIVE_EXTRACT_SECURE_* flag,
 * a second line of defence, and a last pass checks every link in the
 * tree as the kernel resolves it (treepath.h), which catches links that
 * only escape with the help of links extracted after them.
 *
 * An http(s) URL is downloaded (source-fetch.h) and its body fed to
 * libarchive as it arrives: no temporary file.  A download that fails in
 * a way that may pass (no connection, a stall, a 5xx answer) is tried
 * again, three times in all, after 1 s and 2 s, from an emptied target.
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

#include "file.h"
#include "source-backend.h"
#include "source-fetch.h"
#include "source.h"
#include "treepath.h"
#include "xalloc.h"

#define DOWNLOAD_ATTEMPTS 3
#define DEFAULT_MAX_SIZE (2ULL << 30)
#define DEFAULT_STALL_MS (30ULL * 1000)
#define HEAD_SIZE 16 /* the bytes kept to say what an archive is */

/* libarchive's errno for "Unrecognized archive format", as its private
 * header defines it (ARCHIVE_ERRNO_FILE_FORMAT). */
#ifdef EFTYPE
#define UNRECOGNIZED EFTYPE
#else
#define UNRECOGNIZED EILSEQ
#endif

#define EXTRACT_FLAGS                                                          \
	(ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |                         \
	    ARCHIVE_EXTRACT_SECURE_SYMLINKS |                                  \
	    ARCHIVE_EXTRACT_SECURE_NODOTDOT |                                  \
	    ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS)

struct extract {
	struct source_reply *reply;
	const char *file; /* the archive, for messages */
	struct archive *in, *out;
	struct source_fetch *fetch; /* NULL for a local archive */
	unsigned long long entries, bytes;
	unsigned char head[HEAD_SIZE]; /* a download's first bytes */
	size_t head_len;
	unsigned compressions; /* bit i: compressions[i] is read */
};

/* The compressions jobrun reads (jobrun(1)), by their first bytes. */
static const struct {
	const char *name;
	int (*support)(struct archive *);
	const char *magic;
	size_t len;
} compressions[] = {
	{ "gzip", archive_read_support_filter_gzip, "\x1f\x8b", 2 },
	{ "bzip2", archive_read_support_filter_bzip2, "BZh", 3 },
	{ "xz", archive_read_support_filter_xz,
	    "\xfd"
	    "7zXZ\0",
	    6 },
	{ "zstd", archive_read_support_filter_zstd, "\x28\xb5\x2f\xfd", 4 },
};

/* What else an archive libarchive did not recognize may be, by its first
 * bytes: what libarchive's other filters (most of them programs) and xar
 * would read. */
static const struct {
	const char *what;
	const char *magic;
	size_t len;
} others[] = {
	{ "compressed with lzop", "\x89LZO\0\r\n\x1a\n", 9 },
	{ "compressed with lrzip", "LRZI", 4 },
	{ "compressed with grzip", "GRZipII", 7 },
	{ "compressed with lz4", "\x04\x22\x4d\x18", 4 },
	{ "compressed with lz4", "\x02\x21\x4c\x18", 4 },
	{ "compressed with lzip", "LZIP", 4 },
	{ "compressed with lzma", "\x5d\0\0", 3 },
	{ "compressed with compress", "\x1f\x9d", 2 },
	{ "uuencoded", "begin ", 6 },
	{ "an RPM package", "\xed\xab\xee\xdb", 4 },
	{ "a xar archive", "xar!", 4 },
};

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

/* The archive's first bytes: a download's as they came, a file's read
 * again; how many. */
static size_t
archive_head(struct extract *x, unsigned char *head)
{
	ssize_t n;
	int fd;

	if (x->fetch != NULL) {
		memcpy(head, x->head, x->head_len);
		return x->head_len;
	}
	if ((fd = open(x->file, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, head, HEAD_SIZE);
	close(fd);
	return n > 0 ? (size_t)n : 0;
}

static bool
starts_with(
    const unsigned char *head, size_t len, const char *magic, size_t magic_len)
{
	return len >= magic_len && memcmp(head, magic, magic_len) == 0;
}

/* When libarchive recognized no format, says what the archive is if its
 * first bytes tell; true then, after the message. */
static bool
unrecognized(struct extract *x)
{
	unsigned char head[HEAD_SIZE];
	size_t len, i;

	if (x->entries > 0 || archive_errno(x->in) != UNRECOGNIZED)
		return false;
	len = archive_head(x, head);
	for (i = 0; i < COUNT(compressions); i++)
		if (starts_with(head, len, compressions[i].magic,
			compressions[i].len)) {
			if (x->compressions & (1U << i))
				return false;
			source_reply_error(x->reply,
			    "cannot read '%s': it is compressed with %s, "
			    "which this libarchive reads only by running a "
			    "program: refused",
			    x->file, compressions[i].name);
			return true;
		}
	for (i = 0; i < COUNT(others); i++)
		if (starts_with(head, len, others[i].magic, others[i].len)) {
			source_reply_error(x->reply,
			    "cannot read '%s': it is %s, which a tarball "
			    "source is not (plain, or compressed with gzip, "
			    "bzip2, xz or zstd): refused",
			    x->file, others[i].what);
			return true;
		}
	return false;
}

/* A read failed: a download's failure is its caller's to report (it may
 * retry); any other is reported here. */
static void
read_failed(struct extract *x, const char *name)
{
	bool transient;

	if (x->fetch != NULL && source_fetch_error(x->fetch, &transient))
		return;
	if (name == NULL && unrecognized(x))
		return;
	if (name != NULL)
		source_reply_error(x->reply, "cannot read '%s' from '%s': %s",
		    name, x->file, archive_error_string(x->in));
	else
		source_reply_error(x->reply, "cannot read '%s': %s", x->file,
		    archive_error_string(x->in));
}

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
		read_failed(x, name);
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
			read_failed(x, NULL);
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

/*
 * The compressions jobrun reads, each with libarchive's own code only.
 * Built without its library, libarchive reads one by running a program
 * (gzip -d, ...), and says so with ARCHIVE_WARN: such a compression is
 * tried on a spare handle first and left out.  libarchive's other
 * filters (lzop, lz4, lrzip, grzip, uuencode, rpm, ...; most of them
 * programs) are never enabled: unrecognized() names what they would read.
 */
static void
support_compressions(struct extract *x)
{
	struct archive *spare;
	size_t i;

	x->compressions = 0;
	for (i = 0; i < COUNT(compressions); i++) {
		if ((spare = archive_read_new()) == NULL)
			continue;
		if (compressions[i].support(spare) == ARCHIVE_OK &&
		    compressions[i].support(x->in) == ARCHIVE_OK)
			x->compressions |= 1U << i;
		archive_read_free(spare);
	}
}

/* libarchive's read callback over a download; keeps its first bytes. */
static la_ssize_t
read_download(struct archive *in, void *payload, const void **buffer)
{
	struct extract *x = payload;
	long n = source_fetch_read(x->fetch, buffer);
	size_t more;
	bool transient;

	if (n < 0)
		archive_set_error(
		    in, EIO, "%s", source_fetch_error(x->fetch, &transient));
	if (n > 0 && x->head_len < HEAD_SIZE) {
		more = HEAD_SIZE - x->head_len;
		if ((size_t)n < more)
			more = (size_t)n;
		memcpy(x->head + x->head_len, *buffer, more);
		x->head_len += more;
	}
	return n;
}

/* Opens the archive: the file, or the download's stream. */
static int
open_input(struct extract *x, const char *path)
{
	support_compressions(x);
	support_formats(x->in);
	if (x->fetch != NULL) {
		if (archive_read_open(x->in, x, NULL, read_download, NULL) >=
		    ARCHIVE_OK)
			return 0;
		read_failed(x, NULL);
		return -1;
	}
	if (archive_read_open_filename(x->in, path, 65536) < ARCHIVE_OK) {
		if (!unrecognized(x))
			source_reply_error(x->reply, "cannot open '%s': %s",
			    path, archive_error_string(x->in));
		return -1;
	}
	return 0;
}

/* One extraction into the current directory (the target). */
static int
extract_once(struct extract *x, const char *path)
{
	int rc = -1;

	x->entries = x->bytes = 0;
	x->head_len = 0;
	x->in = archive_read_new();
	x->out = archive_write_disk_new();
	if (x->in == NULL || x->out == NULL) {
		source_reply_error(x->reply, "out of memory");
		goto out;
	}
	archive_write_disk_set_options(x->out, EXTRACT_FLAGS);
	if (open_input(x, path) < 0 || extract_all(x) < 0 || check_links(x) < 0)
		goto out;
	rc = 0;
out:
	if (x->in != NULL)
		archive_read_free(x->in);
	if (x->out != NULL)
		archive_write_free(x->out);
	x->in = x->out = NULL;
	return rc;
}

/* Empties the target (the current directory) for another attempt. */
static int
clear_target(struct extract *x)
{
	int fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	rc = fd >= 0 ? file_clear_dir(fd) : -1;
	if (rc < 0)
		source_reply_error(x->reply,
		    "cannot empty '.' to try again: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Downloads and extracts, retrying what may pass. */
static int
extract_download(struct extract *x, const struct source_request *request)
{
	const struct source_spec *spec = request->spec;
	unsigned long long max = spec->max_size > 0
	    ? (unsigned long long)spec->max_size
	    : DEFAULT_MAX_SIZE;
	uint64_t stall = DEFAULT_STALL_MS;
	char *token = NULL, *error = NULL;
	const char *why;
	unsigned attempt, pause = 1;
	bool transient = false;
	int rc = -1;

	/* A stall is at most a quarter of the source's own time, so that
	 * a retry fits in it. */
	if (spec->timeout_ms > 0 && spec->timeout_ms / 4 < stall)
		stall = spec->timeout_ms / 4;
	if (source_load_token(request, x->reply, &token) < 0)
		return -1;
	for (attempt = 1;; attempt++, pause *= 2) {
		x->fetch =
		    source_fetch_open(request, token, max, stall, &error);
		if (x->fetch == NULL) {
			source_reply_error(x->reply, "%s", error);
			break;
		}
		rc = extract_once(x, NULL);
		why = source_fetch_error(x->fetch, &transient);
		if (rc == 0 || why == NULL)
			break;
		if (attempt == DOWNLOAD_ATTEMPTS || !transient) {
			source_reply_error(x->reply, "%s%s", why,
			    attempt > 1 ? " (after retries)" : "");
			break;
		}
		source_reply_notice(x->reply,
		    "attempt %u of %u failed: %s; retrying in %u s", attempt,
		    DOWNLOAD_ATTEMPTS, why, pause);
		source_fetch_close(x->fetch);
		x->fetch = NULL;
		if (clear_target(x) < 0)
			break;
		sleep(pause);
	}
	source_fetch_close(x->fetch);
	x->fetch = NULL;
	free(error);
	if (token != NULL) {
		wipe(token, strlen(token));
		free(token);
	}
	return rc;
}

static bool
is_download(const char *url)
{
	return strncmp(url, "http://", 7) == 0 ||
	    strncmp(url, "https://", 8) == 0;
}

int
source_tarball(const struct source_request *request, struct source_reply *reply)
{
	struct extract x = { .reply = reply };
	char *path = NULL, *shown = NULL, summary[256];
	int rc = -1;

	if (is_download(request->url)) {
		shown = source_url_sanitized(request->url);
		x.file = shown;
	} else if ((path = source_local_path(request->url)) != NULL) {
		x.file = path;
	} else {
		source_reply_error(reply,
		    "a tarball source is a local path, a file:// URL or an "
		    "http(s) URL");
		return -1;
	}
	if (chdir(request->target) < 0) {
		source_reply_error(reply, "cannot enter '%s': %s",
		    request->target, strerror(errno));
		goto out;
	}
	if ((path != NULL ? extract_once(&x, path)
			  : extract_download(&x, request)) < 0)
		goto out;
	snprintf(summary, sizeof(summary), "%s (%llu entries, %llu bytes)",
	    request->target, x.entries, x.bytes);
	source_reply_fact(reply, "summary", summary);
	rc = 0;
out:
	free(path);
	free(shown);
	return rc;
}
