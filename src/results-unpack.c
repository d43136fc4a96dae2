/*
 * The safe extraction of what a job's workspace gives back to the host
 * (results-unpack.h), with libarchive; part of jobrun-source.  Also the
 * other end on Kubernetes: packing a workspace's results as text for a
 * collector pod's log.
 */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <nettle/base64.h>
#include <nettle/sha2.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "file.h"
#include "results-unpack.h"
#include "xalloc.h"

static const char *const wanted[] = { "result.json", "triggers.json",
	"outputs.json", "logs", "artifacts" };

/* The entry's name without "./" prefixes, or NULL when it is unsafe. */
static const char *
relative_name(const char *path)
{
	while (strncmp(path, "./", 2) == 0)
		path += 2;
	if (path[0] == '/' || strcmp(path, "..") == 0 ||
	    strncmp(path, "../", 3) == 0 || strstr(path, "/../") != NULL ||
	    (strlen(path) >= 3 && strcmp(path + strlen(path) - 3, "/..") == 0))
		return NULL;
	return path;
}

/* Whether rel lies under one of the wanted names. */
static bool
is_wanted(const char *rel)
{
	size_t i, n;

	for (i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
		n = strlen(wanted[i]);
		if (strncmp(rel, wanted[i], n) == 0 &&
		    (rel[n] == '\0' || rel[n] == '/'))
			return true;
	}
	return false;
}

/* A link must stay inside: relative, and no "..". */
static bool
link_is_safe(const char *target)
{
	return target != NULL && target[0] != '/' &&
	    relative_name(target) != NULL && strstr(target, "..") == NULL;
}

/* Returns 1 when the entry is extracted, 0 when skipped as unsafe, 2
 * when it is not wanted, -1 on an error (*error). */
static int
extract_entry(struct archive *in, struct archive *out, struct archive_entry *e,
    char **error)
{
	const char *rel = relative_name(archive_entry_pathname(e));
	mode_t type = archive_entry_filetype(e);

	if (rel == NULL)
		return 0;
	if (!is_wanted(rel))
		return 2;
	if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)
		return 0;
	if (type == AE_IFLNK && !link_is_safe(archive_entry_symlink(e)))
		return 0;
	if (archive_entry_hardlink(e) != NULL)
		return 0;
	archive_entry_set_pathname(e, rel);
	archive_entry_set_perm(e, archive_entry_perm(e) & 0755);
	if (archive_write_header(out, e) != ARCHIVE_OK) {
		/* A path through a link, say: skipped, never followed. */
		return 0;
	}
	if (type == AE_IFREG) {
		const void *block;
		size_t size;
		la_int64_t offset;
		int r;

		while ((r = archive_read_data_block(
			    in, &block, &size, &offset)) == ARCHIVE_OK)
			if (archive_write_data_block(out, block, size, offset) <
			    0)
				break;
		if (r != ARCHIVE_EOF) {
			*error = xasprintf("%s", archive_error_string(in));
			return -1;
		}
	}
	archive_write_finish_entry(out);
	return 1;
}

static int
extract_all(struct archive *in, struct archive *out, char **error)
{
	struct archive_entry *e;
	int r, skipped = 0;

	while ((r = archive_read_next_header(in, &e)) == ARCHIVE_OK) {
		int got = extract_entry(in, out, e, error);

		if (got < 0)
			return -1;
		if (got == 0)
			skipped++;
	}
	if (r != ARCHIVE_EOF) {
		*error = xasprintf("%s", archive_error_string(in));
		return -1;
	}
	return skipped;
}

int
results_unpack_stream(int fd, const char *dir, char **error)
{
	struct archive *in = archive_read_new(),
		       *out = archive_write_disk_new();
	int here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), skipped = -1;

	/* An engine's copy is tar; a pod's packed results are cpio. */
	archive_read_support_format_tar(in);
	archive_read_support_format_cpio(in);
	/* libarchive's checks want relative names: extract from inside dir.
	 * The host side has no threads, so the working directory is ours. */
	archive_write_disk_set_options(out,
	    ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
		ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | ARCHIVE_EXTRACT_TIME |
		ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_UNLINK);
	if (here < 0 || chdir(dir) < 0) {
		*error =
		    xasprintf("cannot enter '%s': %s", dir, strerror(errno));
	} else if (archive_read_open_fd(in, fd, 65536) != ARCHIVE_OK) {
		*error = xasprintf("%s", archive_error_string(in));
	} else {
		skipped = extract_all(in, out, error);
	}
	if (here >= 0) {
		if (fchdir(here) < 0)
			diag_warn("cannot return to the working directory: %s",
			    strerror(errno));
		close(here);
	}
	archive_write_close(out);
	archive_write_free(out);
	archive_read_free(in);
	return skipped;
}

/* Reads dir from the disk, links as links, descending only into what
 * is wanted; extracts as results_unpack_stream() does. */
static int
extract_from_disk(const char *dir, char **error)
{
	struct archive *in = archive_read_disk_new(),
		       *out = archive_write_disk_new();
	struct archive_entry *e = archive_entry_new();
	size_t prefix = strlen(dir);
	int r, skipped = 0;

	archive_read_disk_set_symlink_physical(in);
	archive_write_disk_set_options(out,
	    ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
		ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | ARCHIVE_EXTRACT_TIME |
		ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_UNLINK);
	if (archive_read_disk_open(in, dir) != ARCHIVE_OK) {
		*error = xasprintf("%s", archive_error_string(in));
		skipped = -1;
	}
	while (skipped >= 0 &&
	    (r = archive_read_next_header2(in, e)) == ARCHIVE_OK) {
		const char *path = archive_entry_pathname(e);
		char *rel;
		int got;

		if (strcmp(path, dir) == 0) {
			archive_read_disk_descend(in);
			continue;
		}
		if (strncmp(path, dir, prefix) != 0 || path[prefix] != '/')
			continue;
		rel = xasprintf(".%s", path + prefix);
		archive_entry_set_pathname(e, rel);
		free(rel);
		got = extract_entry(in, out, e, error);
		if (got < 0)
			skipped = -1;
		else if (got == 0)
			skipped++;
		else if (archive_entry_filetype(e) == AE_IFDIR)
			archive_read_disk_descend(in);
	}
	archive_entry_free(e);
	archive_write_close(out);
	archive_write_free(out);
	archive_read_free(in);
	return skipped;
}

int
results_unpack_dir(const char *from, const char *dir, char **error)
{
	int here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), skipped = -1;
	char *real = realpath(from, NULL);

	if (real == NULL || here < 0 || chdir(dir) < 0)
		*error = xasprintf("cannot collect from '%s' into '%s': %s",
		    from, dir, strerror(errno));
	else
		skipped = extract_from_disk(real, error);
	if (here >= 0) {
		if (fchdir(here) < 0)
			diag_warn("cannot return to the working directory: %s",
			    strerror(errno));
		close(here);
	}
	free(real);
	return skipped;
}

/* ---- packing (the collector pod's side) ---- */

/* The text framing of a packed archive (results-unpack.h). */
struct packer {
	int fd;
	struct sha256_ctx sha;
	uint64_t bytes;
	uint8_t rest[RESULTS_PACK_GROUP]; /* not yet a whole line's worth */
	size_t rest_length;
	bool failed;
};

static void
pack_line(struct packer *p, const uint8_t *data, size_t n)
{
	char line[BASE64_ENCODE_RAW_LENGTH(RESULTS_PACK_GROUP) + 1];
	size_t len = BASE64_ENCODE_RAW_LENGTH(n);

	base64_encode_raw(line, n, data);
	line[len] = '\n';
	if (file_write_all(p->fd, line, len + 1) < 0)
		p->failed = true;
}

static la_ssize_t
pack_write(struct archive *a, void *context, const void *buf, size_t n)
{
	struct packer *p = context;
	const uint8_t *data = buf;
	size_t left = n, take;

	(void)a;
	sha256_update(&p->sha, n, data);
	p->bytes += n;
	while (left > 0 && !p->failed) {
		take = RESULTS_PACK_GROUP - p->rest_length;
		if (take > left)
			take = left;
		memcpy(p->rest + p->rest_length, data, take);
		p->rest_length += take;
		data += take;
		left -= take;
		if (p->rest_length == RESULTS_PACK_GROUP) {
			pack_line(p, p->rest, p->rest_length);
			p->rest_length = 0;
		}
	}
	return p->failed ? -1 : (la_ssize_t)n;
}

/* Adds the entry e (read by in from the disk) to out. */
static int
pack_entry(struct archive *in, struct archive *out, struct archive_entry *e,
    char **error)
{
	mode_t type = archive_entry_filetype(e);
	char block[65536];
	la_ssize_t n;

	if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)
		return 0;
	if (archive_write_header(out, e) != ARCHIVE_OK) {
		*error = xasprintf("%s", archive_error_string(out));
		return -1;
	}
	if (type == AE_IFREG)
		while ((n = archive_read_data(in, block, sizeof(block))) > 0)
			if (archive_write_data(out, block, (size_t)n) < 0) {
				*error =
				    xasprintf("%s", archive_error_string(out));
				return -1;
			}
	return 1;
}

static int
pack_tree(struct archive *out, const char *dir, char **error)
{
	struct archive *in = archive_read_disk_new();
	struct archive_entry *e = archive_entry_new();
	size_t prefix = strlen(dir);
	int r, rc = 0;

	archive_read_disk_set_symlink_physical(in);
	if (archive_read_disk_open(in, dir) != ARCHIVE_OK) {
		*error = xasprintf("%s", archive_error_string(in));
		rc = -1;
	}
	while (
	    rc == 0 && (r = archive_read_next_header2(in, e)) == ARCHIVE_OK) {
		const char *path = archive_entry_pathname(e);
		const char *rel;

		if (strcmp(path, dir) == 0) {
			archive_read_disk_descend(in);
			continue;
		}
		if (strncmp(path, dir, prefix) != 0 || path[prefix] != '/')
			continue;
		rel = path + prefix + 1;
		if (!is_wanted(rel))
			continue;
		{
			char *name = xstrdup(rel);

			archive_entry_set_pathname(e, name);
			free(name);
		}
		if (pack_entry(in, out, e, error) < 0)
			rc = -1;
		else if (archive_entry_filetype(e) == AE_IFDIR)
			archive_read_disk_descend(in);
	}
	archive_entry_free(e);
	archive_read_free(in);
	return rc;
}

int
results_pack(const char *dir, int fd, char **error)
{
	struct archive *out = archive_write_new();
	struct packer p = { .fd = fd };
	uint8_t digest[SHA256_DIGEST_SIZE];
	char hex[2 * SHA256_DIGEST_SIZE + 1], *trailer;
	char *real = realpath(dir, NULL);
	int rc = -1;
	size_t i;

	sha256_init(&p.sha);
	/* cpio, not tar: libarchive's tar writers pull in its table of every
	 * writer, xar's with libxml2, which the runner image leaves out. */
	archive_write_set_format_cpio_newc(out);
	archive_write_set_bytes_per_block(out, 512);
	if (real == NULL) {
		*error =
		    xasprintf("cannot pack '%s': %s", dir, strerror(errno));
	} else if (file_write_all(fd, RESULTS_PACK_BEGIN "\n",
		       sizeof(RESULTS_PACK_BEGIN)) < 0) {
		*error = xasprintf("cannot write: %s", strerror(errno));
	} else if (archive_write_open(out, &p, NULL, pack_write, NULL) !=
	    ARCHIVE_OK) {
		*error = xasprintf("%s", archive_error_string(out));
	} else if (pack_tree(out, real, error) == 0 &&
	    archive_write_close(out) == ARCHIVE_OK && !p.failed) {
		rc = 0;
	} else if (*error == NULL) {
		*error = xasprintf("cannot write the archive: %s",
		    p.failed ? strerror(errno) : archive_error_string(out));
	}
	archive_write_free(out);
	free(real);
	if (rc < 0)
		return -1;
	if (p.rest_length > 0)
		pack_line(&p, p.rest, p.rest_length);
	sha256_digest(&p.sha, sizeof(digest), digest);
	for (i = 0; i < sizeof(digest); i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	trailer = xasprintf(
	    RESULTS_PACK_END " %llu %s\n", (unsigned long long)p.bytes, hex);
	if (p.failed || file_write_all(fd, trailer, strlen(trailer)) < 0) {
		*error = xasprintf("cannot write: %s", strerror(errno));
		rc = -1;
	}
	free(trailer);
	return rc;
}
