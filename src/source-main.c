/*
 * jobrun-source: the program that handles foreign bytes for jobrun
 * (source-exec.h).  jobrun starts it; it is not meant to be run by hand.
 *
 *   jobrun-source prepare                 the request as JSON on stdin
 *   jobrun-source unpack-results DIR      a tar stream on stdin
 *   jobrun-source copy-results FROM DIR
 *   jobrun-source pack-results DIR        the results as text on stdout
 *   jobrun-source version
 *
 * It answers on descriptor 3 in source-backend.h's records and exits 0,
 * or 1 after an "E" record.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "file.h"
#include "list.h"
#include "results-unpack.h"
#include "source-backend.h"
#include "xalloc.h"

#define REPLY_FD 3

/* The largest request read: a URL and a few paths. */
#define REQUEST_MAX (1024 * 1024)

typedef int (*backend_fn)(const struct source_request *, struct source_reply *);

static backend_fn
backend_for(const char *type)
{
	if (strcmp(type, "git") == 0)
		return source_git;
	if (strcmp(type, "copy") == 0)
		return source_copy;
	if (strcmp(type, "tarball") == 0)
		return source_tarball;
	return NULL;
}

static int
prepare(struct source_reply *reply)
{
	struct source_request_owned r;
	char *text = NULL, *error = NULL;
	size_t size = 0;
	backend_fn backend;
	int rc;

	if ((text = file_read_fd(STDIN_FILENO, REQUEST_MAX, &size)) == NULL) {
		source_reply_error(
		    reply, "cannot read the request: %s", strerror(errno));
		return 1;
	}
	rc = source_request_from_json(text, size, &r, &error);
	wipe(text, size);
	free(text);
	if (rc < 0) {
		source_reply_error(reply, "%s", error);
		free(error);
		return 1;
	}
	if ((backend = backend_for(r.request.type)) == NULL) {
		source_reply_error(
		    reply, "no backend for source type '%s'", r.request.type);
		rc = -1;
	} else {
		rc = backend(&r.request, reply);
	}
	source_request_owned_release(&r);
	return rc == 0 ? 0 : 1;
}

/* A version line without its newline, as a fact. */
static void
version_fact(struct source_reply *reply, const char *name, char *text)
{
	size_t n = strlen(text);

	while (n > 0 && text[n - 1] == '\n')
		text[--n] = '\0';
	source_reply_fact(reply, name, text);
	free(text);
}

static int
unpacked(struct source_reply *reply, int skipped, char *error)
{
	char count[32];

	if (skipped < 0) {
		source_reply_error(reply, "%s", error);
		free(error);
		return 1;
	}
	snprintf(count, sizeof(count), "%d", skipped);
	source_reply_fact(reply, "skipped", count);
	return 0;
}

int
main(int argc, char **argv)
{
	struct source_reply reply = { REPLY_FD };
	char *error = NULL;

	/* Descriptor 3 is the reply, for this process alone: nothing it
	 * starts may hold the pipe open once it has ended. */
	if (fcntl(REPLY_FD, F_SETFD, FD_CLOEXEC) < 0) {
		fprintf(stderr,
		    "jobrun-source: jobrun runs this program (descriptor 3 "
		    "is not open)\n");
		return 2;
	}
	/* The request's URL may hold a password: jansson's blocks, and
	 * the request's text, are wiped when freed. */
	json_set_alloc_funcs(xmalloc, xfree_wiped);
	if (argc == 2 && strcmp(argv[1], "prepare") == 0)
		return prepare(&reply);
	if (argc == 2 && strcmp(argv[1], "version") == 0) {
		version_fact(&reply, "git", source_git_version_text());
		version_fact(&reply, "fetch", source_fetch_version_text());
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "unpack-results") == 0)
		return unpacked(&reply,
		    results_unpack_stream(STDIN_FILENO, argv[2], &error),
		    error);
	if (argc == 4 && strcmp(argv[1], "copy-results") == 0)
		return unpacked(&reply,
		    results_unpack_dir(argv[2], argv[3], &error), error);
	if (argc == 3 && strcmp(argv[1], "pack-results") == 0) {
		if (results_pack(argv[2], STDOUT_FILENO, &error) == 0)
			return 0;
		source_reply_error(&reply, "%s", error);
		free(error);
		return 1;
	}
	source_reply_error(
	    &reply, "unknown request '%s'", argc > 1 ? argv[1] : "(none)");
	return 2;
}
