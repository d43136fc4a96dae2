/*
 * The contract between source.c and the backends that fill a directory:
 * source-git.c, source-copy.c and source-tarball.c.
 *
 * source.c checks the target directory (it exists, is empty and lies where
 * it may), then runs one backend in jobrun-source (source-main.c, a
 * program of its own, so that jobrun links none of the backends'
 * libraries) with a deadline: the backend may block, crash or be killed
 * without harming the runner, and what it held in memory (a token) goes
 * with the process.  The backend
 * tells the parent what happened through a reply: notices to show,
 * facts to export, and at most one error.  It never prints to standard
 * error itself, except progress on a terminal when request->progress says
 * so.
 */
#ifndef JOBRUN_SOURCE_BACKEND_H
#define JOBRUN_SOURCE_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "job.h"
#include "source.h" /* source_redact_url() */

/* What to prepare; every pointer is borrowed for the backend's run. */
struct source_request {
	const char *label; /* "source" or "ci_source": prefixes messages */
	const char *type; /* "git", "copy" or "tarball" */
	const char *url; /* as configured */
	const char *ref; /* NULL: the default (the remote's HEAD for git) */
	const char *target; /* absolute; an existing empty directory */
	const char *workspace; /* absolute */
	const struct source_spec *spec; /* depth, credentials, ... */
	bool progress; /* standard error is a terminal */
};

/*
 * The request as JSON (source-request.c), the form jobrun-source reads
 * on its standard input; the caller wipes and frees the text (a URL may
 * hold a password).  A token is never in it: the backend reads
 * token_env's variable or token_file itself.
 */
char *source_request_to_json(const struct source_request *request);

/* A request read back, owning its strings and its spec. */
struct source_request_owned {
	struct source_request request; /* points into the members below */
	struct source_spec spec;
	char *label, *type, *url, *ref, *target, *workspace;
};

/* Returns 0, or -1 with *error (the caller frees it). */
int source_request_from_json(const char *text, size_t size,
    struct source_request_owned *out, char **error);
void source_request_owned_release(struct source_request_owned *r);

/* Where a backend's reply goes: the write end of a pipe to the parent. */
struct source_reply {
	int fd;
};

/*
 * Reply records.  A fact is exported to steps by source.c under the
 * request's prefix (commit, ref, author, subject for git; summary for
 * every backend: what the console line says after "->").  Values lose
 * control characters on the way.  source_reply_error() may be called once,
 * just before the backend returns -1.
 */
void source_reply_fact(
    struct source_reply *reply, const char *name, const char *value);
void source_reply_notice(struct source_reply *reply, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void source_reply_error(struct source_reply *reply, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * The backends.  Each runs in the child, fills request->target and returns
 * 0, or returns -1 after source_reply_error().
 */
int source_git(
    const struct source_request *request, struct source_reply *reply);
int source_copy(
    const struct source_request *request, struct source_reply *reply);
int source_tarball(
    const struct source_request *request, struct source_reply *reply);

/*
 * One line each ("libgit2 1.8.4 (https, ssh, shallow)\n") for
 * source_print_version(); the caller frees the result.
 */
char *source_git_version_text(void);
char *source_fetch_version_text(void);

/*
 * Reads the token request->spec names (token_env's variable, or the
 * token_file without its final newline) into *out, NULL when it names
 * none.  Returns 0, or -1 after source_reply_error().  The caller wipes
 * and frees *out.
 */
int source_load_token(const struct source_request *request,
    struct source_reply *reply, char **out);

/* The user name of a URL ("ada" of "https://ada:pw@host/", as
 * source_url_parse() reads it), or NULL without one.  The caller frees
 * it. */
char *source_url_user(const char *url);

/*
 * Returns a local path for a copy or tarball url: a "file://" prefix is
 * dropped, a relative path is taken from the current directory.  Returns
 * NULL for a URL of any other scheme ("https://...").  The caller frees
 * the result.
 */
char *source_local_path(const char *url);

#endif
