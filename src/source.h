/*
 * Source preparation: fills the CI directory (trusted, first) and then the
 * code directory (possibly untrusted) from their configured sources, before
 * any step runs.  This is the lifecycle's SOURCE_PREP phase; the plugin
 * hooks PRE_SOURCE_PREP and POST_SOURCE_PREP sit around it (lifecycle.h,
 * run from main.c).
 *
 * Types: git (libgit2), copy (a local directory), tarball (a local archive)
 * and none (nothing to do: the directory is used as it is).  Each source is
 * reported on standard error as one line:
 *
 *   jobrun: ci_source: git https://example.org/ci.git ref v3 -> 1f2e... (0.8 s)
 */
#ifndef JOBRUN_SOURCE_H
#define JOBRUN_SOURCE_H

#include <stdbool.h>
#include <stdio.h>

#include "configuration.h"
#include "job.h"
#include "list.h"

/* How long preparing one source may take when its timeout: is not set. */
#define SOURCE_DEFAULT_TIMEOUT_MS (10ULL * 60 * 1000)

/*
 * Prepares ci_source into the CI directory, then source into the code
 * directory, as config and job (the job file's source: and ci_source:
 * details; may be NULL) say.  Facts about what was prepared are added to
 * job_env for the steps: JOBRUN_GIT_COMMIT, JOBRUN_GIT_REF,
 * JOBRUN_GIT_AUTHOR, JOBRUN_GIT_SUBJECT, JOBRUN_GIT_DEPTH for a git source and
 * the same with JOBRUN_CI_GIT_ for a git CI source.  A token named by token_env
 * is removed from jobrun's environment afterwards, and a token_file inside the
 * workspace is deleted, whether preparation worked or not.
 *
 * Returns 0, or the job's exit status after a message: 125 when a source
 * could not be prepared (nothing has run), 128+N when signal N cancelled
 * the preparation.
 */
int source_prepare_all(
    const struct config *config, const struct job *job, struct nvlist *job_env);

/*
 * What was prepared, for result.json: one source_facts for each of
 * ci_source and source.  prepared is false for a source of type none or
 * one that failed.  commit (40 hex digits), ref (the full ref name
 * fetched, or the commit id when one was asked), author ("Name <mail>")
 * and subject are set for git only (NULL otherwise); depth is the depth
 * the clone has (0: the whole history, also where depth: could not be
 * used).  url is the source's URL without credentials
 * (source_url_sanitized()).  Every string is owned by the struct.
 */
struct source_facts {
	bool prepared;
	char *type; /* "git", "copy", "tarball" */
	char *url;
	char *target; /* the directory it went to, as configured */
	char *commit;
	char *ref;
	char *author;
	char *subject;
	long long depth;
};

struct source_report {
	struct source_facts ci_source;
	struct source_facts source;
};

#define SOURCE_REPORT_INIT                                                     \
	{                                                                      \
		{ 0 },                                                         \
		{                                                              \
			0                                                      \
		}                                                              \
	}

/*
 * source_prepare_all() that also fills out (may be NULL) with what was
 * prepared, also when it fails (the sources prepared before the failure).
 * Release out with source_report_release() in any case.
 */
int source_prepare(const struct config *config, const struct job *job,
    struct nvlist *job_env, struct source_report *out);

/*
 * The job's timeout counts source preparation: a source's own timeout is
 * cut to what is left before deadline_ms (clock_now_ms(); 0: none), and
 * a preparation that runs into it returns 124.
 */
void source_set_job_deadline(uint64_t deadline_ms);

/* Frees what facts or report hold and zeroes them. */
void source_facts_release(struct source_facts *facts);
void source_report_release(struct source_report *report);

/*
 * Checks the directories a job's sources go to without touching them:
 * each must stay inside the workspace when written below it (no ".."
 * climbing out), a prepared one must not hold the workspace (nor be "/"),
 * and when both are prepared neither may lie inside the other.  Returns 0,
 * or -1 after a message.
 */
int source_check_dirs(const struct config *config);

/*
 * The user info of a URL ("https://user:password@host/...") is read in
 * one place, source_url_parse(), as git and curl read it, and where they
 * may disagree, so that nothing of it can show:
 *
 *   - the authority runs from "://" to the first '/' (as libgit2 reads
 *     it); a '?' or '#' before that '/' is part of it;
 *   - the user info ends at the last '@' of the authority, so a password
 *     may hold unencoded '@', '?' and '#'; the user name ends at its first
 *     ':' and the password follows;
 *   - a '/' in a password cannot be told from a path's.  When an '@' comes
 *     after the first '/' and what precedes that '/' is no host[:port]
 *     ("user:pa/ss@host/"), no reader can use the URL: the user info
 *     runs to the last '@'.  When it is a host and a port
 *     ("user:123/ss@host/"), it may be a path ("host:8080/@scope/")
 *     and is kept, but never shown: source_redact_url() hides what comes
 *     before the last '@' whenever a ':' precedes it.
 *
 * Only a URL with "scheme://" has user info; "user@host:path" (scp-like)
 * names an ssh user, never a credential.  Every pointer of a
 * source_url points into the URL parsed.  ambiguous: readers may take
 * another host than host (a '?', '#' or '@' in the user info, or no
 * usable authority); such a URL shares no origin with any other.
 */
struct source_url {
	const char *scheme; /* NULL: no "scheme://" */
	size_t scheme_length;
	const char *user; /* NULL: no user info */
	size_t user_length;
	const char *password; /* NULL: no ':' in the user info */
	size_t password_length;
	const char *host; /* "[v6]" with its brackets */
	size_t host_length;
	const char *port; /* NULL: none given */
	size_t port_length;
	const char *rest; /* the path, query and fragment */
	const char *shown; /* what may be shown after "***@" */
	bool ambiguous;
};

/* Fills out; returns false (out zeroed) when url (may be NULL) has no
 * "scheme://". */
bool source_url_parse(const char *url, struct source_url *out);

/*
 * The credentials of a URL: its password, and its user name when it is
 * 20 characters or more in an http(s) URL ("https://ghp_...@github.com/",
 * "https://TOKEN:x-oauth-basic@github.com/"), which is how hosts take
 * tokens.  A shorter user name ("x-access-token", "git") is no secret.
 *
 * source_url_sanitized() returns url without them ("https://user@host/..."
 * or "https://host/..."), fit to store and to hand to steps; the caller
 * frees it.  source_url_credentials() appends each credential to out as
 * written in the URL and, when that differs, percent-decoded: the values
 * to register as secrets before anything prints the URL (in `jobrun
 * config`, the triggers' command lines).  url may be NULL (nothing).
 */
char *source_url_sanitized(const char *url);
void source_url_credentials(const char *url, struct strlist *out);

/*
 * Returns url with its user info, and whatever else could be user info,
 * replaced by "***" (as "***@host/..." after the scheme), fit for
 * messages.  The caller frees the result.
 */
char *source_redact_url(const char *url);

/*
 * Whether credentials for url a may go to url b: the same scheme (ssh
 * however spelt, scp-like included), host (case aside) and port (the
 * scheme's default when none is given).  False when either is a local
 * path, NULL, or ambiguous: http and https, or two ports of one host, are
 * two servers.
 */
bool source_url_same_origin(const char *a, const char *b);

/*
 * Rewrites the source URL variables of jobrun's own environment
 * (JOBRUN_SOURCE_URL, JOBRUN_CI_SOURCE_URL and their REACTORCIDE_
 * aliases) to their sanitized form, so that no step inherits a
 * credential in them.  source_prepare_all() calls it once it is done.
 */
void source_scrub_environment(void);

/*
 * Prints what the source backends are built with, for --version: lines
 * such as
 *
 *   libgit2 1.8.4 (https, ssh, shallow)
 *   libcurl 7.88.1 (https)
 *
 * a missing feature written "no ssh".
 */
void source_print_version(FILE *out);

#endif
