/*
 * The git source (source-backend.h), through libgit2: no git program is
 * needed or run.  In the empty target it makes a repository whose remote
 * "origin" is the source's URL (without any password in it), connects,
 * resolves the ref against what the remote advertises (source-gitref.h),
 * fetches just what that needs, checks the commit out and detaches HEAD
 * at it, so git in later steps sees a normal clone on a detached HEAD.
 *
 * Safety for untrusted repositories: libgit2 runs no hooks, and the
 * checkout applies no filters at all (disable_filters: no smudge or
 * clean drivers, no ident, no line-ending conversion), so a hostile
 * .gitattributes or config has nothing to run.  A submodule is checked
 * out only where the commit holds its gitlink and nothing else of that
 * name, and only through real directories of the checkout: never
 * through a symbolic link the checkout made.  Credentials (a token for
 * https, an SSH key file) are offered only to the source's own host,
 * once, and with credentials no redirect to another host is followed;
 * the token lives in this child process only and is wiped before it
 * exits.  Network errors that may pass (refused or reset connections,
 * timeouts, 5xx answers) are retried three times in all, after 1 s and
 * 2 s; the parent enforces the source's timeout around everything.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>
#if LIBGIT2_VER_MAJOR > 1 || LIBGIT2_VER_MINOR >= 8
#include <git2/sys/errors.h> /* git_error_set_str() moved here in 1.8 */
#endif

#include "diag.h"
#include "list.h"
#include "source-backend.h"
#include "source-gitlocal.h"
#include "source-gitref.h"
#include "source-gitstateful.h"
#include "source-hostkey.h"
#include "source.h"
#include "xalloc.h"

#define GIT_ATTEMPTS 3

/* Returned once the error has been sent to the parent: not retried. */
#define REPORTED (-10000)

struct session {
	const struct source_request *request;
	struct source_reply *reply;
	char *url; /* what is fetched: request->url, local paths absolute */
	const char *fetching; /* a submodule's URL while it is fetched */
	char *host; /* of url; credentials go to it only */
	char *token; /* NULL without one; wiped before it is freed */
	bool offered; /* a secret credential was offered once already */
	bool auth_failed; /* retrying cannot help */
	bool shallow_notice; /* said once that depth is not available */
	char *refusal; /* why a host key or certificate was refused */
	struct timespec last_progress;
	/* The spec's files, absolute: a submodule is updated from its
	 * superproject's work tree (update_in_worktree()). */
	char *ssh_key_file;
	char *known_hosts;
	char *ca_file;
};

/* ---- errors ---- */

/* libgit2's last error, or what failed when it has none. */
static const char *
git_message(void)
{
	const git_error *e = git_error_last();

	return e != NULL && e->message != NULL ? e->message : "unknown error";
}

/* Errors that may pass if we wait: the network's, the OS's during a
 * transfer, and a server's 5xx. */
static bool
transient(const struct session *s, int rc)
{
	const git_error *e = git_error_last();

	if (s->auth_failed || s->refusal != NULL || rc == GIT_EAUTH ||
	    rc == GIT_ECERTIFICATE || e == NULL)
		return false;
	/* A URL libgit2 cannot read stays unreadable ("invalid url:
	 * malformed hostname"), though it says so in the network's class. */
	if (e->message != NULL &&
	    (strstr(e->message, "invalid url") != NULL ||
		strstr(e->message, "malformed") != NULL))
		return false;
	if (e->klass == GIT_ERROR_NET || e->klass == GIT_ERROR_OS)
		return true;
	return e->klass == GIT_ERROR_HTTP && e->message != NULL &&
	    (strstr(e->message, " 50") != NULL ||
		strstr(e->message, "timed out") != NULL);
}

/* ---- credentials ---- */

/* The host (and port) of a URL, or "" for local paths and scp-like
 * addresses' "user@host:" form. */
static char *
url_host(const char *url)
{
	const char *start = strstr(url, "://"), *at, *end;
	size_t len;

	if (start == NULL) {
		/* user@host:path */
		end = strchr(url, ':');
		at = strchr(url, '@');
		start = at != NULL && end != NULL && at < end ? at + 1 : url;
		return end != NULL && url[0] != '/'
		    ? xstrndup(start, (size_t)(end - start))
		    : xstrdup("");
	}
	start += 3;
	len = strcspn(start, "/");
	at = memchr(start, '@', len);
	if (at != NULL) {
		len -= (size_t)(at + 1 - start);
		start = at + 1;
	}
	return xstrndup(start, len);
}

/* True when the URL carries "user:password@". */
static bool
has_password(const char *url)
{
	const char *scheme = strstr(url, "://"), *host, *at;

	if (scheme == NULL)
		return false;
	host = scheme + 3;
	at = strchr(host, '@');
	return at != NULL && at < host + strcspn(host, "/") &&
	    memchr(host, ':', (size_t)(at - host)) != NULL;
}

/* True when the URL carries a user name, which may be a token. */
static bool
has_userinfo(const char *url)
{
	const char *scheme = strstr(url, "://"), *host;

	if (scheme == NULL)
		return false;
	host = scheme + 3;
	return memchr(host, '@', strcspn(host, "/")) != NULL;
}

/* True when something secret may be offered over HTTP(S): a token, or a
 * password or token in the URL. */
static bool
has_credentials(const struct session *s)
{
	return s->token != NULL || has_userinfo(s->url);
}

static int
credentials(git_credential **out, const char *url, const char *user,
    unsigned int allowed, void *payload)
{
	struct session *s = payload;
	const char *key = s->ssh_key_file;
	/* Same scheme, host and port only: a submodule at http://samehost
	 * gets no https token in cleartext. */
	bool same_host = source_url_same_origin(s->url, url);

	s->auth_failed = true;
	if (!same_host) {
		git_error_set_str(GIT_ERROR_NET,
		    "a server other than the source's asks for credentials; "
		    "none are sent to it");
		return GIT_EAUTH;
	}
	if (s->offered) {
		git_error_set_str(GIT_ERROR_NET,
		    "authentication failed: the server refused the "
		    "credentials");
		return GIT_EAUTH;
	}
	if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) && s->token) {
		s->offered = true;
		return git_credential_userpass_plaintext_new(
		    out, user ? user : "x-access-token", s->token);
	}
	if ((allowed & GIT_CREDENTIAL_SSH_KEY) && key != NULL) {
		s->offered = true;
		return git_credential_ssh_key_new(
		    out, user ? user : "git", NULL, key, NULL);
	}
	if ((allowed & GIT_CREDENTIAL_SSH_KEY) && getenv("SSH_AUTH_SOCK")) {
		s->offered = true;
		return git_credential_ssh_key_from_agent(
		    out, user ? user : "git");
	}
	if (allowed & GIT_CREDENTIAL_USERNAME) {
		s->auth_failed = false;
		return git_credential_username_new(out, user ? user : "git");
	}
	if (has_password(s->url)) {
		git_error_set_str(GIT_ERROR_NET,
		    "authentication failed: the server refused the "
		    "credentials in the URL");
		return GIT_EAUTH;
	}
	git_error_set_str(GIT_ERROR_NET,
	    "the server asks for credentials and none were given: set "
	    "token_env, token_file or ssh_key_file in the job file");
	return GIT_EAUTH;
}

/* ---- who the server is ---- */

/* The port of an ssh URL ("ssh://host:2222/..."); 22 when it gives
 * none (and for the scp-like "host:path"). */
static int
url_port(const char *url)
{
	char *host = strstr(url, "://") != NULL ? url_host(url) : NULL;
	const char *colon = NULL;
	int port = 22;

	if (host != NULL)
		colon = host[0] == '['
		    ? (strstr(host, "]:") ? strstr(host, "]:") + 1 : NULL)
		    : strrchr(host, ':');
	if (colon != NULL && atoi(colon + 1) > 0)
		port = atoi(colon + 1);
	free(host);
	return port;
}

/* An ssh host key must be listed in known_hosts; an https certificate
 * must have passed libgit2's check against the CA file or the system's
 * store.  Nothing is ever accepted because it was offered. */
static int
certificate_check(git_cert *cert, int valid, const char *host, void *payload)
{
	struct session *s = payload;
	const char *ca_file = s->ca_file;
	char *error = NULL;

	if (cert->cert_type == GIT_CERT_HOSTKEY_LIBSSH2) {
		/* The port of what is fetched now: a submodule may be on
		 * another one than the source. */
		if (source_hostkey_check(cert, host,
			url_port(s->fetching != NULL ? s->fetching : s->url),
			s->known_hosts, &error) == 0)
			return 0;
	} else if (valid) {
		return 0;
	} else {
		error = xasprintf("the certificate of '%s' is not trusted: it "
				  "is signed by no CA in %s%s%s, or is for "
				  "another name, or has expired; refused",
		    host, ca_file ? "'" : "the system's certificate store",
		    ca_file ? ca_file : "", ca_file ? "' (ca_file)" : "");
	}
	/* libgit2 puts a message of its own in place of ours. */
	git_error_set_str(GIT_ERROR_NET, error);
	free(s->refusal);
	s->refusal = error;
	return GIT_ECERTIFICATE;
}

/* ---- progress, on a terminal only ---- */

static bool
progress_due(struct session *s, bool last)
{
	struct timespec now;
	long long elapsed;

	if (!s->request->progress)
		return false;
	clock_gettime(CLOCK_MONOTONIC, &now);
	elapsed = (now.tv_sec - s->last_progress.tv_sec) * 1000LL +
	    (now.tv_nsec - s->last_progress.tv_nsec) / 1000000;
	if (!last && elapsed < 100)
		return false;
	s->last_progress = now;
	return true;
}

static int
transfer_progress(const git_indexer_progress *stats, void *payload)
{
	struct session *s = payload;
	bool last = stats->received_objects == stats->total_objects;

	if (!progress_due(s, last))
		return 0;
	fprintf(stderr,
	    "\r\033[Kjobrun: %s: receiving objects %u%% (%u/%u), %.1f MiB",
	    s->request->label,
	    stats->total_objects ? (unsigned)(100ULL * stats->received_objects /
				       stats->total_objects)
				 : 0,
	    stats->received_objects, stats->total_objects,
	    (double)stats->received_bytes / (1024.0 * 1024.0));
	return 0;
}

static void
checkout_progress(
    const char *path, size_t completed, size_t total, void *payload)
{
	struct session *s = payload;

	if (progress_due(s, completed == total))
		fprintf(stderr,
		    "\r\033[Kjobrun: %s: checking out files %zu/%zu",
		    s->request->label, completed, total);
}

static void
progress_done(struct session *s)
{
	if (s->request->progress)
		fprintf(stderr, "\r\033[K");
}

/* ---- fetching ---- */

static void
fetch_options(struct session *s, git_fetch_options *opts)
{
	git_fetch_options_init(opts, GIT_FETCH_OPTIONS_VERSION);
	opts->callbacks.credentials = credentials;
	opts->callbacks.certificate_check = certificate_check;
	opts->callbacks.transfer_progress = transfer_progress;
	opts->callbacks.payload = s;
	opts->proxy_opts.type = GIT_PROXY_AUTO;
	/* libgit2 asks for credentials with the source's URL even after a
	 * redirect, so credentials() cannot see where they would go: with
	 * credentials, no redirect to another host name is followed (libgit2
	 * still follows one to the same name, whatever the port).  Without,
	 * libgit2's default: another host on the first request only. */
	opts->follow_redirects = has_credentials(s)
	    ? GIT_REMOTE_REDIRECT_NONE
	    : GIT_REMOTE_REDIRECT_INITIAL;
	/* The connection is made before a fetch says its depth: a shallow
	 * source's connections are all made this way. */
	if (s->request->spec->depth > 0 && gitstateful_needed(s->url))
		opts->callbacks.transport = gitstateful_transport;
}

/* How much history a fetch asks for. */
enum history {
	HISTORY_FULL,
	HISTORY_SHALLOW, /* the source's depth, when it has one */
};

static bool
starts_with(const char *text, const char *prefix)
{
	return strncmp(text, prefix, strlen(prefix)) == 0;
}

/* The path of a local repository's URL (a path, or file://), else NULL;
 * borrowed from url. */
static const char *
local_path(const char *url)
{
	if (starts_with(url, "file://"))
		return url + strlen("file://");
	if (strstr(url, "://") == NULL && strchr(url, ':') == NULL)
		return url;
	return NULL;
}

/*
 * Whether libgit2 can fetch this source's URL shallow; NULL when it can,
 * else why not.  Depth came with 1.7 (over git:// and ssh only through
 * source-gitstateful.h before 1.9); the local transport has none.
 */
static const char *
shallow_unavailable(const struct session *s)
{
#ifndef HAVE_GIT_FETCH_DEPTH
	(void)s;
	return "libgit2 " LIBGIT2_VERSION " cannot fetch shallow (1.7 and "
	       "later can)";
#else
	if (local_path(s->url) != NULL)
		return "a local repository is not fetched shallow";
	return NULL;
#endif
}

/* True when fetches of this source are shallow: it has a depth that can
 * be used; says once why not otherwise. */
static bool
shallow_wanted(struct session *s)
{
	const char *why;

	if (s->request->spec->depth <= 0)
		return false;
	if ((why = shallow_unavailable(s)) == NULL)
		return true;
	if (!s->shallow_notice)
		source_reply_notice(s->reply,
		    "depth %lld asked, but %s: fetching the whole history",
		    s->request->spec->depth, why);
	s->shallow_notice = true;
	return false;
}

static void
set_history(struct session *s, git_fetch_options *opts, enum history history)
{
#ifdef HAVE_GIT_FETCH_DEPTH
	if (history == HISTORY_SHALLOW && shallow_wanted(s))
		opts->depth = (int)s->request->spec->depth;
#else
	if (history == HISTORY_SHALLOW)
		(void)shallow_wanted(s);
#endif
}

static int
fetch_refspecs(struct session *s, git_remote *remote, const char *const *specs,
    size_t n, enum history history)
{
	git_strarray array = { xcalloc(n, sizeof(char *)), n };
	git_fetch_options opts;
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		array.strings[i] = xstrdup(specs[i]);
	fetch_options(s, &opts);
	set_history(s, &opts, history);
	rc = git_remote_fetch(remote, &array, &opts, "jobrun: fetch");
	for (i = 0; i < n; i++)
		free(array.strings[i]);
	free(array.strings);
	return rc;
}

/* Looks the commit id (maybe abbreviated) up among what was fetched. */
static int
lookup_id(git_repository *repo, const char *id, git_commit **out)
{
	git_object *object = NULL;
	git_oid oid;
	size_t len = strlen(id);
	int rc;

	if (git_oid_fromstrn(&oid, id, len) < 0)
		return -1;
	rc = git_object_lookup_prefix(&object, repo, &oid, len, GIT_OBJECT_ANY);
	if (rc < 0)
		return rc;
	rc = git_object_peel((git_object **)out, object, GIT_OBJECT_COMMIT);
	git_object_free(object);
	return rc;
}

/* Fetches the one ref ref names into its local name. */
static int
fetch_ref(struct session *s, git_remote *remote, const struct gitref *ref)
{
	char *spec = xasprintf("+%s:%s", ref->remote_name, ref->local_name);
	const char *specs[] = { spec };
	int rc;

	rc = fetch_refspecs(s, remote, specs, 1, HISTORY_SHALLOW);
	free(spec);
	return rc;
}

/* The branches and tags, then (when the remote has them) the pull and
 * merge request refs, until the commit is among what was fetched.
 * Returns 0 when it is, 1 when it is not, or a libgit2 error. */
static int
fetch_all_for_id(struct session *s, git_repository *repo, git_remote *remote,
    const struct gitref *ref, git_commit **out)
{
	static const char *const common[] = {
		"+refs/heads/*:refs/remotes/origin/*",
		"+refs/tags/*:refs/tags/*"
	};
	static const char *const special[] = { "+refs/pull/*:refs/pull/*",
		"+refs/merge-requests/*:refs/merge-requests/*" };
	int rc;

	if ((rc = fetch_refspecs(s, remote, common, 2, HISTORY_FULL)) < 0)
		return rc;
	if (lookup_id(repo, ref->id, out) == 0)
		return 0;
	if (!ref->has_special)
		return 1;
	if ((rc = fetch_refspecs(s, remote, special, 2, HISTORY_FULL)) < 0)
		return rc;
	return lookup_id(repo, ref->id, out) == 0 ? 0 : 1;
}

/*
 * A commit id, fetched as narrowly as the remote allows: the ref at whose
 * tip it is (shallow), else the object itself by its full id (shallow,
 * when the server allows single commits: allow-reachable-sha1-in-want),
 * else every branch and tag (and pull and merge request refs) whole.
 * libgit2 1.8 cannot deepen a shallow repository, so that last fetch is
 * never shallow.
 */
static int
fetch_by_id(struct session *s, git_repository *repo, git_remote *remote,
    const struct gitref *ref, git_commit **out)
{
	const char *specs[] = { ref->id };
	bool shallow = shallow_wanted(s);
	int rc;

	if (ref->remote_name != NULL) {
		if ((rc = fetch_ref(s, remote, ref)) < 0)
			return rc;
		if (lookup_id(repo, ref->id, out) == 0)
			return 0;
	}
	if (shallow && strlen(ref->id) == GIT_OID_HEXSZ) {
		if (fetch_refspecs(s, remote, specs, 1, HISTORY_SHALLOW) == 0 &&
		    lookup_id(repo, ref->id, out) == 0)
			return 0;
		git_error_clear();
	}
	if (shallow)
		source_reply_notice(s->reply,
		    "depth %lld is not used for '%s': it is no ref's tip, and "
		    "the server gives out no single commit; fetching the "
		    "whole history",
		    s->request->spec->depth, ref->id);
	rc = fetch_all_for_id(s, repo, remote, ref, out);

	if (rc <= 0)
		return rc;
	source_reply_error(s->reply,
	    "no commit '%s' (unique) among the fetched refs of the remote%s",
	    ref->id, ref->listing);
	return REPORTED;
}

static int
fetch_named(struct session *s, git_repository *repo, git_remote *remote,
    const struct gitref *ref, git_commit **out)
{
	git_object *object = NULL;
	int rc;

	if ((rc = fetch_ref(s, remote, ref)) < 0)
		return rc;
	/* An annotated tag peels to its commit. */
	rc = git_object_lookup(&object, repo, &ref->oid, GIT_OBJECT_ANY);
	if (rc == 0)
		rc = git_object_peel(
		    (git_object **)out, object, GIT_OBJECT_COMMIT);
	git_object_free(object);
	return rc;
}

/* One attempt: connect, resolve the ref, fetch.  Returns a libgit2 code,
 * or REPORTED after a message when the ref does not resolve. */
static int
fetch_once(struct session *s, git_repository *repo, git_remote *remote,
    struct gitref *ref, git_commit **out)
{
	const git_remote_head **heads;
	git_remote_connect_options connect;
	git_fetch_options opts;
	char *error;
	size_t n;
	int rc;

	fetch_options(s, &opts);
	/* The connection's first request is where a redirect is followed:
	 * it takes the fetch's redirect rule (git_remote_connect() would
	 * take libgit2's default). */
	git_remote_connect_options_init(
	    &connect, GIT_REMOTE_CONNECT_OPTIONS_VERSION);
	connect.callbacks = opts.callbacks;
	connect.proxy_opts = opts.proxy_opts;
	connect.follow_redirects = opts.follow_redirects;
	rc = git_remote_connect_ext(remote, GIT_DIRECTION_FETCH, &connect);
	if (rc == 0)
		rc = git_remote_ls(&heads, &n, remote);
	if (rc < 0)
		return rc;
	gitref_release(ref);
	if (gitref_resolve(ref, s->request->ref, heads, n, &error) < 0) {
		source_reply_error(s->reply, "%s", error);
		free(error);
		return REPORTED;
	}
	if (ref->by_id) {
		(void)gitref_find_tip(ref, heads, n);
		return fetch_by_id(s, repo, remote, ref, out);
	}
	return fetch_named(s, repo, remote, ref, out);
}

/*
 * When libgit2 did not follow a redirect ("cannot redirect from 'A' to
 * 'B'": another host, or from https to http), what to say; NULL for any
 * other error.  Waiting does not change a redirect, so it is not retried.
 * The caller frees the text.
 */
static char *
redirect_refusal(const struct session *s)
{
	static const char prefix[] = "cannot redirect from '";
	const char *message = git_message(), *from, *to;
	size_t len;

	if (strncmp(message, prefix, sizeof(prefix) - 1) != 0 ||
	    (to = strstr(message, "' to '")) == NULL)
		return NULL;
	from = message + sizeof(prefix) - 1;
	len = (size_t)(to - from);
	to += strlen("' to '");
	/* From the source's scheme to another: not about hosts. */
	if (!has_credentials(s) ||
	    (strncmp(s->url, from, len) == 0 &&
		strncmp(s->url + len, "://", 3) == 0))
		return xstrdup(message);
	return xasprintf("the server redirects to another host ('%.*s'): a "
			 "source with credentials follows no redirect to "
			 "another host, so that they are sent to the "
			 "source's host only; give the URL it redirects to "
			 "instead",
	    (int)strcspn(to, "'"), to);
}

static int
fetch_with_retries(struct session *s, git_repository *repo, git_remote *remote,
    struct gitref *ref, git_commit **out)
{
	unsigned attempt, pause = 1;
	char after[64] = "";
	int rc;

	for (attempt = 1;; attempt++, pause *= 2) {
		s->offered = false;
		s->auth_failed = false;
		rc = fetch_once(s, repo, remote, ref, out);
		git_remote_disconnect(remote);
		progress_done(s);
		if (rc == 0 || rc == REPORTED)
			return rc;
		if (s->refusal == NULL)
			s->refusal = redirect_refusal(s);
		if (attempt == GIT_ATTEMPTS || !transient(s, rc))
			break;
		source_reply_notice(s->reply,
		    "attempt %u of %u failed: %s; retrying in %u s", attempt,
		    GIT_ATTEMPTS, git_message(), pause);
		sleep(pause);
	}
	if (attempt > 1)
		snprintf(after, sizeof(after), " (after %u attempts)", attempt);
	source_reply_error(s->reply, "%s%s",
	    s->refusal != NULL ? s->refusal : git_message(), after);
	return rc;
}

/* ---- the repository and the checkout ---- */

static int
open_repository(struct session *s, git_repository **repo, git_remote **remote)
{
	git_repository_init_options init;
	/* The URL kept in .git/config: no credential in it. */
	char *kept = source_url_sanitized(s->url);
	int rc;

	git_repository_init_options_init(
	    &init, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	/* libgit2's built-in template: no sample hooks copied in. */
	init.flags = GIT_REPOSITORY_INIT_NO_REINIT;
	rc = git_repository_init_ext(repo, s->request->target, &init);
	if (rc == 0)
		rc = git_remote_create(remote, *repo, "origin", kept);
	if (rc == 0 && strcmp(kept, s->url) != 0)
		rc = git_remote_set_instance_url(*remote, s->url);
	free(kept);
	if (rc < 0)
		source_reply_error(s->reply,
		    "cannot make a repository in '%s': "
		    "%s",
		    s->request->target, git_message());
	return rc;
}

static int
checkout(struct session *s, git_repository *repo, git_commit *commit)
{
	git_checkout_options opts;
	int rc;

	git_checkout_options_init(&opts, GIT_CHECKOUT_OPTIONS_VERSION);
	opts.checkout_strategy = GIT_CHECKOUT_FORCE;
	/* No filter of the fetched repository runs: no drivers, no ident, no
	 * line-ending conversion; files are the blobs' bytes. */
	opts.disable_filters = 1;
	opts.progress_cb = checkout_progress;
	opts.progress_payload = s;
	rc = git_checkout_tree(repo, (const git_object *)commit, &opts);
	progress_done(s);
	if (rc == 0)
		rc = git_repository_set_head_detached(
		    repo, git_commit_id(commit));
	if (rc < 0)
		source_reply_error(s->reply, "cannot check out %s: %s",
		    git_oid_tostr_s(git_commit_id(commit)), git_message());
	return rc;
}

/* ---- submodules ---- */

static int update_submodules(struct session *s, git_repository *repo,
    const char *worktree, const char *gitdir, int depth);

/* A submodule of a remote repository must be remote too: a local path
 * would copy other repositories of this machine into the checkout. */
static bool
submodule_url_allowed(const struct session *s, const char *url)
{
	/* A local source (a path, or file://) may have local submodules. */
	bool parent_local = local_path(s->url) != NULL;
	bool local = strncmp(url, "file://", 7) == 0 || url[0] == '/' ||
	    (strstr(url, "://") == NULL && strchr(url, ':') == NULL);

	return parent_local || !local;
}

struct submodule_walk {
	struct session *s;
	git_repository *repo;
	/* Where repo is, from the target: its work tree ("" or "a/b/") and
	 * its .git directory (".git" or ".git/modules/a/b"). */
	const char *prefix;
	const char *gitdir;
	int depth;
	int rc;
};

/* The submodule's URL, relative ones resolved against the superproject's
 * origin; NULL when it may not be fetched (after a message). */
static char *
submodule_url(struct session *s, git_repository *repo, git_submodule *sm,
    const char *name)
{
	const char *raw = git_submodule_url(sm);
	git_buf resolved = { 0 };
	char *url = NULL;

	if (raw != NULL && git_submodule_resolve_url(&resolved, repo, raw) == 0)
		url = xstrdup(resolved.ptr);
	git_buf_dispose(&resolved);
	if (url != NULL && submodule_url_allowed(s, url))
		return url;
	if (url == NULL)
		source_reply_error(s->reply,
		    "submodule '%s' has a URL that cannot be read ('%s'): "
		    "refused",
		    name, raw != NULL ? raw : "");
	else
		source_reply_error(s->reply,
		    "submodule '%s' has the local URL '%s': refused for a "
		    "remote repository",
		    name, url);
	free(url);
	return NULL;
}

/* True when path is relative and each of its components a plain name:
 * none empty, ".", ".." or ".git" (in any case). */
static bool
plain_path(const char *path)
{
	size_t len;

	if (path[0] == '/')
		return false;
	for (;; path += len + 1) {
		len = strcspn(path, "/");
		if (len == 0 || (len == 1 && path[0] == '.') ||
		    (len == 2 && strncmp(path, "..", 2) == 0) ||
		    (len == 4 && strncasecmp(path, ".git", 4) == 0))
			return false;
		if (path[len] == '\0')
			return true;
	}
}

static const char *
entry_kind(const git_tree_entry *entry)
{
	switch (git_tree_entry_filemode(entry)) {
	case GIT_FILEMODE_TREE:
		return "a directory";
	case GIT_FILEMODE_LINK:
		return "a symbolic link";
	case GIT_FILEMODE_COMMIT:
		return "a submodule";
	default:
		return "a file";
	}
}

/* The one entry named name in tree (borrowed from it), or NULL when there
 * is none; *twice is set when there are two or more. */
static const git_tree_entry *
entry_once(const git_tree *tree, const char *name, size_t len,
    const git_tree_entry **twice)
{
	const git_tree_entry *found = NULL, *entry;
	size_t i, n = git_tree_entrycount(tree);

	*twice = NULL;
	for (i = 0; i < n; i++) {
		entry = git_tree_entry_byindex(tree, i);
		if (strlen(git_tree_entry_name(entry)) != len ||
		    memcmp(git_tree_entry_name(entry), name, len) != 0)
			continue;
		if (found != NULL) {
			*twice = entry;
			break;
		}
		found = entry;
	}
	return found;
}

/*
 * Whether repo's checked-out commit holds a submodule (a gitlink) at
 * path: 1 when it does, 0 when it does not (a .gitmodules entry alone is
 * not checked out, as git does), -1 after a message when a directory on
 * the way holds a name twice: a tree can hold "x" as a link and as a
 * gitlink, and the submodule would then be checked out through the link.
 */
static int
gitlink_in_head(struct submodule_walk *w, const char *path)
{
	const git_tree_entry *entry = NULL, *twice;
	git_reference *head = NULL;
	git_tree *tree = NULL, *next;
	const char *name = path;
	size_t len;
	int rc = 0;

	if (git_repository_head(&head, w->repo) < 0 ||
	    git_reference_peel((git_object **)&tree, head, GIT_OBJECT_TREE) <
		0) {
		source_reply_error(w->s->reply,
		    "cannot read the tree of '%s': %s",
		    w->prefix[0] ? w->prefix : "the checkout", git_message());
		git_reference_free(head);
		return -1;
	}
	git_reference_free(head);
	for (;; name += len + 1) {
		len = strcspn(name, "/");
		entry = entry_once(tree, name, len, &twice);
		if (twice != NULL) {
			source_reply_error(w->s->reply,
			    "the tree holds '%s%.*s' twice (%s and %s): "
			    "refused",
			    w->prefix, (int)(name + len - path), path,
			    entry_kind(entry), entry_kind(twice));
			rc = -1;
			break;
		}
		if (entry == NULL || name[len] == '\0')
			break;
		if (git_tree_entry_filemode(entry) != GIT_FILEMODE_TREE ||
		    git_tree_lookup(&next, w->repo, git_tree_entry_id(entry)) <
			0)
			break;
		git_tree_free(tree);
		tree = next;
	}
	if (rc == 0 && entry != NULL && name[len] == '\0' &&
	    git_tree_entry_filemode(entry) == GIT_FILEMODE_COMMIT)
		rc = 1;
	git_tree_free(tree);
	return rc;
}

/*
 * Checks that each component of path (from the target) that exists is a
 * real directory, never a symbolic link: libgit2 makes what is missing
 * and writes into the last.  Returns 0, or -1 after a message.
 */
static int
real_directories(struct session *s, const char *name, const char *path)
{
	char *copy = xstrdup(path), *component, *save = NULL;
	int dir = open(s->request->target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int next = dir, error, len;
	struct stat st;

	for (component = strtok_r(copy, "/", &save);
	     dir >= 0 && component != NULL;
	     component = strtok_r(NULL, "/", &save)) {
		next = openat(dir, component,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0)
			break;
		close(dir);
		dir = next;
	}
	error = errno;
	if (dir < 0 || next >= 0 || error == ENOENT) {
		if (dir >= 0)
			close(dir);
		free(copy);
		if (dir >= 0)
			return 0;
		source_reply_error(s->reply, "cannot open '%s': %s",
		    s->request->target, strerror(error));
		return -1;
	}
	len = (int)(component - copy + strlen(component));
	if (fstatat(dir, component, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		source_reply_error(s->reply,
		    "submodule '%s': '%.*s' is a symbolic link, and no "
		    "submodule is written through one: refused",
		    name, len, path);
	else
		source_reply_error(s->reply,
		    "submodule '%s': '%.*s' is not a directory of the "
		    "checkout (%s): refused",
		    name, len, path, strerror(error));
	close(dir);
	free(copy);
	return -1;
}

/*
 * Where a submodule may be written: its path is plain, the commit holds a
 * gitlink there (and nothing else of that name), and its work tree and
 * its .git directory (libgit2 puts it at modules/PATH in the
 * superproject's) are reached through real directories only.  Returns 1
 * when it may be checked out, 0 when it is not in the commit, -1 after a
 * message.
 */
static int
submodule_place(struct submodule_walk *w, git_submodule *sm, const char *name,
    char **worktree, char **gitdir)
{
	const char *path = git_submodule_path(sm);
	int rc;

	if (path == NULL || !plain_path(path)) {
		source_reply_error(w->s->reply,
		    "submodule '%s' has the path '%s%s', which is not a plain "
		    "path inside the checkout: refused",
		    name, w->prefix, path ? path : "");
		return -1;
	}
	if ((rc = gitlink_in_head(w, path)) <= 0)
		return rc;
	*worktree = xasprintf("%s%s", w->prefix, path);
	*gitdir = xasprintf("%s/modules/%s", w->gitdir, path);
	if (real_directories(w->s, name, *worktree) < 0 ||
	    real_directories(w->s, name, *gitdir) < 0)
		return -1;
	return 1;
}

static void
submodule_failed(struct session *s, const char *name)
{
	char *refusal = redirect_refusal(s);

	source_reply_error(s->reply, "submodule '%s': %s", name,
	    refusal != NULL ? refusal : git_message());
	free(refusal);
}

/*
 * git_submodule_update() from repo's work tree: when the clone fails,
 * libgit2 removes what it began by the submodule's path taken from the
 * working directory, not from the work tree.  From jobrun's own (where a
 * directory of that name may be anyone's, "usr" under "/") it removed
 * that directory and everything in it.
 */
static int
update_in_worktree(
    git_repository *repo, git_submodule *sm, git_submodule_update_options *opts)
{
	const char *worktree = git_repository_workdir(repo);
	char *why;
	int here, rc;

	if (worktree == NULL) {
		git_error_set_str(
		    GIT_ERROR_SUBMODULE, "the superproject has no work tree");
		return -1;
	}
	/* O_PATH: a working directory jobrun may only search, not read. */
	if ((here = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    chdir(worktree) < 0) {
		if (here < 0)
			why = xasprintf("cannot hold the working directory: %s",
			    strerror(errno));
		else
			why = xasprintf("cannot enter the work tree '%s': %s",
			    worktree, strerror(errno));
		git_error_set_str(GIT_ERROR_OS, why);
		free(why);
		if (here >= 0)
			close(here);
		return -1;
	}
	rc = git_submodule_update(sm, 1, opts);
	if (fchdir(here) < 0) {
		/* Never go on from inside the checkout. */
		diag_fatal(EXIT_JOBRUN_ERROR,
		    "source: cannot come back from the work tree '%s': %s",
		    worktree, strerror(errno));
	}
	close(here);
	return rc;
}

static int
update_one(git_submodule *sm, const char *name, void *payload)
{
	struct submodule_walk *w = payload;
	git_submodule_update_options opts;
	git_repository *sub = NULL;
	char *url, *worktree = NULL, *gitdir = NULL;
	int rc;

	if ((url = submodule_url(w->s, w->repo, sm, name)) == NULL)
		return w->rc = -1;
	if ((rc = submodule_place(w, sm, name, &worktree, &gitdir)) <= 0)
		goto out;
	git_submodule_update_options_init(
	    &opts, GIT_SUBMODULE_UPDATE_OPTIONS_VERSION);
	fetch_options(w->s, &opts.fetch_opts);
	opts.checkout_opts.checkout_strategy = GIT_CHECKOUT_FORCE;
	opts.checkout_opts.disable_filters = 1;
	w->s->offered = false;
	w->s->fetching = url;
	rc = update_in_worktree(w->repo, sm, &opts);
	w->s->fetching = NULL;
	progress_done(w->s);
	if (rc == 0)
		rc = git_submodule_open(&sub, sm);
	if (rc == 0)
		rc = update_submodules(
		    w->s, sub, worktree, gitdir, w->depth + 1);
	else
		submodule_failed(w->s, name);
	git_repository_free(sub);
out:
	free(url);
	free(worktree);
	free(gitdir);
	return w->rc = rc < 0 ? -1 : 0;
}

/* The submodules of repo, whose work tree and .git directory are at
 * worktree and gitdir from the target. */
static int
update_submodules(struct session *s, git_repository *repo, const char *worktree,
    const char *gitdir, int depth)
{
	char *prefix = xasprintf("%s%s", worktree, worktree[0] ? "/" : "");
	struct submodule_walk walk = { .s = s,
		.repo = repo,
		.prefix = prefix,
		.gitdir = gitdir,
		.depth = depth };

	if (depth > 10) {
		source_reply_error(s->reply, "submodules nest deeper than 10");
		free(prefix);
		return -1;
	}
	if (git_submodule_foreach(repo, update_one, &walk) < 0 &&
	    walk.rc == 0) {
		source_reply_error(
		    s->reply, "cannot list submodules: %s", git_message());
		walk.rc = -1;
	}
	free(prefix);
	return walk.rc;
}

/* ---- facts and the whole ---- */

static void
report_facts(struct session *s, const struct gitref *ref, git_commit *commit)
{
	const git_signature *author = git_commit_author(commit);
	const char *id = git_oid_tostr_s(git_commit_id(commit));
	const char *subject = git_commit_summary(commit);
	char *text;

	source_reply_fact(s->reply, "commit", id);
	source_reply_fact(s->reply, "ref", ref->by_id ? id : ref->remote_name);
	text = xasprintf("%s <%s>", author->name, author->email);
	source_reply_fact(s->reply, "author", text);
	free(text);
	source_reply_fact(s->reply, "subject", subject ? subject : "");
	text = xasprintf("%lld",
	    git_repository_is_shallow(git_commit_owner(commit)) == 1
		? s->request->spec->depth
		: 0LL);
	source_reply_fact(s->reply, "depth", text);
	free(text);
	text = ref->by_id ? xstrdup(id)
			  : xasprintf("%s (%s)", id, ref->remote_name);
	source_reply_fact(s->reply, "summary", text);
	free(text);
}

/* A local repository's objects are copied in first: the fetch then finds
 * them and transfers nothing (source-gitlocal.h). */
static void
copy_local_objects(struct session *s, git_repository *repo)
{
	const char *path = local_path(s->url);
	char *error = NULL;

	if (path != NULL &&
	    source_gitlocal_copy_objects(
		path, git_repository_path(repo), &error) < 0)
		source_reply_notice(
		    s->reply, "%s; fetching them instead", error);
	free(error);
}

/*
 * *out: path taken from the working directory (NULL for NULL).  Returns
 * -1 after a message when the working directory cannot be told: a
 * relative path would later be read from a submodule's work tree.
 */
static int
absolute(struct session *s, const char *path, char **out)
{
	char *cwd;

	*out = NULL;
	if (path == NULL || path[0] == '/') {
		*out = path != NULL ? xstrdup(path) : NULL;
		return 0;
	}
	if ((cwd = getcwd(NULL, 0)) == NULL) {
		source_reply_error(s->reply,
		    "cannot tell where '%s' is (the working directory: %s)",
		    path, strerror(errno));
		return -1;
	}
	*out = xasprintf("%s/%s", cwd, path);
	free(cwd);
	return 0;
}

/* A ca_file replaces the system's store for https. */
static int
use_ca_file(struct session *s)
{
	const char *file = s->ca_file;

	if (file == NULL)
		return 0;
	if (access(file, R_OK) < 0 ||
	    git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, file, NULL) < 0) {
		source_reply_error(s->reply, "cannot use the ca_file '%s': %s",
		    file,
		    access(file, R_OK) < 0 ? strerror(errno) : git_message());
		return -1;
	}
	return 0;
}

static void
session_release(struct session *s)
{
	if (s->token != NULL) {
		wipe(s->token, strlen(s->token));
		free(s->token);
	}
	free(s->url);
	free(s->host);
	free(s->refusal);
	free(s->ssh_key_file);
	free(s->known_hosts);
	free(s->ca_file);
}

int
source_git(const struct source_request *request, struct source_reply *reply)
{
	struct session s = { .request = request, .reply = reply };
	git_repository *repo = NULL;
	git_remote *remote = NULL;
	git_commit *commit = NULL;
	struct gitref ref = GITREF_INIT;
	int rc = -1;

	git_libgit2_init();
	/* Every object's id was computed when the fetched pack was indexed;
	 * hashing each blob again as the checkout reads it only costs time. */
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
	/* A file:/// URL is fetched as its path: libgit2 resolves a
	 * submodule's relative URL against file:///a/b as file://a/..., which
	 * it cannot open, and against the path as git does. */
	s.url = (strncmp(request->url, "file:///", 8) != 0 ||
		    strchr(request->url, '%') != NULL) &&
		(strncmp(request->url, "file://", 7) == 0 ||
		    strstr(request->url, "://") != NULL ||
		    strchr(request->url, ':') != NULL)
	    ? xstrdup(request->url)
	    : source_local_path(request->url);
	s.host = url_host(s.url);
	if (absolute(&s, request->spec->ssh_key_file, &s.ssh_key_file) < 0 ||
	    absolute(&s, request->spec->known_hosts, &s.known_hosts) < 0 ||
	    absolute(&s, request->spec->ca_file, &s.ca_file) < 0 ||
	    source_load_token(request, reply, &s.token) < 0 ||
	    use_ca_file(&s) < 0 || open_repository(&s, &repo, &remote) < 0)
		goto out;
	copy_local_objects(&s, repo);
	if (fetch_with_retries(&s, repo, remote, &ref, &commit) < 0 ||
	    checkout(&s, repo, commit) < 0)
		goto out;
	if (request->spec->submodules &&
	    update_submodules(&s, repo, "", ".git", 0) < 0)
		goto out;
	report_facts(&s, &ref, commit);
	rc = 0;
out:
	gitref_release(&ref);
	git_commit_free(commit);
	git_remote_free(remote);
	git_repository_free(repo);
	session_release(&s);
	git_libgit2_shutdown();
	return rc;
}

/* ---- what this build can do ---- */

/* The libgit2 line of source_version_text(); the libcurl line is
 * source-fetch.c's. */
char *
source_git_version_text(void)
{
	int major = 0, minor = 0, revision = 0, features;
	bool shallow = false;

	git_libgit2_version(&major, &minor, &revision);
	features = git_libgit2_features();
#ifdef HAVE_GIT_FETCH_DEPTH
	shallow = true;
#endif
	return xasprintf("libgit2 %d.%d.%d (%shttps, %sssh, %sshallow)\n",
	    major, minor, revision, features & GIT_FEATURE_HTTPS ? "" : "no ",
	    features & GIT_FEATURE_SSH ? "" : "no ", shallow ? "" : "no ");
}
