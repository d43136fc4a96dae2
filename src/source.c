/*
 * Source preparation (source.h): the SOURCE_PREP phase between the
 * PRE_SOURCE_PREP and POST_SOURCE_PREP hooks.  For each source this file
 * checks where it goes, makes that an empty directory, runs the backend
 * (source-git.c, source-copy.c, source-tarball.c) in jobrun-source
 * (source-exec.h, source-main.c) under a deadline while watching for
 * SIGINT/SIGTERM, shows the backend's notices and its error, prints the
 * one-line report, exports the facts to the steps' environment, and
 * removes the credentials the source named.
 *
 * The backend's side of the reply (source-backend.h) is here too: one
 * record a line, "N text" a notice, "E text" the error, "F name=value" a
 * fact.
 */
#include "config.h"

#include "source.h"

#include <ctype.h>
#include <dirent.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "diag.h"
#include "file.h"
#include "source-backend.h"
#include "source-exec.h"
#include "treepath.h"
#include "xalloc.h"

static const struct srcpos nowhere = { 0, 0 };

/* ---- the child's side: reply records ---- */

/* Sends one record: kind, a space, text without control characters. */
static void
send_record(struct source_reply *reply, char kind, const char *text)
{
	size_t i, len = strlen(text);
	char *line = xmalloc(len + 3);

	line[0] = kind;
	line[1] = ' ';
	for (i = 0; i < len; i++)
		line[i + 2] = (unsigned char)text[i] < 0x20 || text[i] == 0x7f
		    ? ' '
		    : text[i];
	line[len + 2] = '\n';
	(void)file_write_all(reply->fd, line, len + 3);
	free(line);
}

void
source_reply_fact(
    struct source_reply *reply, const char *name, const char *value)
{
	char *text = xasprintf("%s=%s", name, value);

	send_record(reply, 'F', text);
	free(text);
}

static void
send_formatted(
    struct source_reply *reply, char kind, const char *fmt, va_list ap)
{
	char *text;

	if (vasprintf(&text, fmt, ap) < 0)
		diag_fatal(EXIT_JOBRUN_ERROR, "out of memory");
	send_record(reply, kind, text);
	free(text);
}

void
source_reply_notice(struct source_reply *reply, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	send_formatted(reply, 'N', fmt, ap);
	va_end(ap);
}

void
source_reply_error(struct source_reply *reply, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	send_formatted(reply, 'E', fmt, ap);
	va_end(ap);
}

/* ---- URLs and paths ---- */

char *
source_local_path(const char *url)
{
	char *cwd, *path;

	if (strncmp(url, "file://", 7) == 0)
		url += 7;
	else if (strstr(url, "://") != NULL)
		return NULL;
	if (url[0] == '/')
		return treepath_normalize(url);
	if ((cwd = getcwd(NULL, 0)) == NULL)
		cwd = xstrdup(".");
	path = xasprintf("%s/%s", cwd, url);
	free(cwd);
	cwd = treepath_normalize(path);
	free(path);
	return cwd;
}

/* ---- credentials in URLs ---- */

static size_t
scheme_length(const char *url)
{
	size_t n = 0;

	if (!isalpha((unsigned char)url[0]))
		return 0;
	while (isalnum((unsigned char)url[n]) || url[n] == '+' ||
	    url[n] == '-' || url[n] == '.')
		n++;
	return strncmp(url + n, "://", 3) == 0 ? n : 0;
}

/* Splits [start, end) (no user info in it) into host and port: "[v6]"
 * keeps its brackets.  Returns false when it is no "host[:digits]". */
static bool
split_host_port(const char *start, const char *end, struct source_url *out)
{
	const char *colon, *c;

	if (start < end && start[0] == '[') {
		colon = memchr(start, ']', (size_t)(end - start));
		colon = colon != NULL && colon + 1 < end ? colon + 1 : NULL;
	} else {
		colon = memchr(start, ':', (size_t)(end - start));
	}
	out->host = start;
	out->host_length = (size_t)((colon != NULL ? colon : end) - start);
	out->port = NULL;
	out->port_length = 0;
	if (colon == NULL)
		return start[0] != '[' ||
		    memchr(start, ']', out->host_length) != NULL;
	if (*colon != ':')
		return false;
	out->port = colon + 1;
	out->port_length = (size_t)(end - out->port);
	for (c = out->port; c < end; c++)
		if (!isdigit((unsigned char)*c))
			return false;
	return true;
}

/* The user info is [user, at): user name up to the first ':' (as git and
 * curl read it), the password after it. */
static void
set_user_info(struct source_url *out, const char *user, const char *at)
{
	const char *colon = memchr(user, ':', (size_t)(at - user));

	out->user = user;
	out->user_length = (size_t)((colon != NULL ? colon : at) - user);
	out->password = colon != NULL ? colon + 1 : NULL;
	out->password_length = colon != NULL ? (size_t)(at - colon - 1) : 0;
	/* Readers that end the authority at '?' or '#' (RFC 3986, curl)
	 * take another host than the one after '@'; two '@' are a password
	 * to some and a host to others. */
	out->ambiguous = strcspn(user, "?#@") < (size_t)(at - user);
}

bool
source_url_parse(const char *url, struct source_url *out)
{
	const char *start, *end, *at, *last_at;
	size_t n = url != NULL ? scheme_length(url) : 0;
	bool malformed = false;

	memset(out, 0, sizeof(*out));
	if (n == 0)
		return false;
	out->scheme = url;
	out->scheme_length = n;
	start = url + n + 3;
	end = start + strcspn(start, "/");
	at = memrchr(start, '@', (size_t)(end - start));
	last_at = strrchr(start, '@');
	if (at == NULL && last_at != NULL &&
	    !split_host_port(start, end, out)) {
		/* "user:pa/ss@host": before the '/' is no host[:port], so no
		 * reader can use the URL; up to the last '@' is user info. */
		at = last_at;
		end = at + 1 + strcspn(at + 1, "/");
		malformed = true;
	}
	if (at != NULL)
		set_user_info(out, start, at);
	if (!split_host_port(at != NULL ? at + 1 : start, end, out))
		malformed = true;
	out->ambiguous |= malformed;
	out->rest = end;
	/* A '/' in a password cannot be told from a path's ("user:123/pw@h"
	 * is host "user", port 123): what could be user info is not shown. */
	out->shown = at != NULL ? at + 1 : start;
	if (last_at != NULL && last_at >= out->shown &&
	    memchr(start, ':', (size_t)(last_at - start)) != NULL)
		out->shown = last_at + 1;
	return true;
}

static bool
is_http(const struct source_url *u)
{
	return (u->scheme_length == 4 &&
		   strncasecmp(u->scheme, "http", 4) == 0) ||
	    (u->scheme_length == 5 && strncasecmp(u->scheme, "https", 5) == 0);
}

/* A user name that is long enough to be a token. */
#define URL_TOKEN_MIN 20
/* After the '/' of "user:123/password@host", what counts as a password. */
#define URL_HIDDEN_PASSWORD_MIN 8

static bool
user_is_token(const struct source_url *u)
{
	return u->user != NULL && is_http(u) && u->user_length >= URL_TOKEN_MIN;
}

char *
source_redact_url(const char *url)
{
	struct source_url u;
	const char *start;

	if (!source_url_parse(url, &u))
		return xstrdup(url);
	start = url + u.scheme_length + 3;
	if (u.shown == start)
		return xstrdup(url);
	return xasprintf("%.*s***@%s", (int)(start - url), url, u.shown);
}

char *
source_url_sanitized(const char *url)
{
	struct source_url u;
	size_t prefix;

	if (!source_url_parse(url, &u) || u.user == NULL)
		return xstrdup(url);
	prefix = (size_t)(u.user - url);
	if (user_is_token(&u))
		return xasprintf("%.*s%s", (int)prefix, url, u.host);
	return xasprintf("%.*s@%s", (int)(prefix + u.user_length), url, u.host);
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Appends text (len bytes) and, when it differs, its percent-decoded
 * form. */
static void
push_credential(struct strlist *out, const char *text, size_t len)
{
	char *raw = xstrndup(text, len), *decoded = xmalloc(len + 1);
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		if (text[i] == '%' && i + 2 < len &&
		    hex_value(text[i + 1]) >= 0 &&
		    hex_value(text[i + 2]) >= 0) {
			decoded[n++] = (char)(hex_value(text[i + 1]) * 16 +
			    hex_value(text[i + 2]));
			i += 2;
		} else {
			decoded[n++] = text[i];
		}
	}
	decoded[n] = '\0';
	if (len > 0)
		strlist_push(out, raw, nowhere);
	if (n > 0 && strcmp(raw, decoded) != 0)
		strlist_push(out, decoded, nowhere);
	wipe(raw, len);
	wipe(decoded, n);
	free(raw);
	free(decoded);
}

void
source_url_credentials(const char *url, struct strlist *out)
{
	struct source_url u;
	const char *start, *colon, *slash, *at;

	if (!source_url_parse(url, &u))
		return;
	start = url + u.scheme_length + 3;
	if (u.user == NULL) {
		/* "user:123/password@host", read as host and port, is not
		 * shown up to its last '@': what follows the first ':' is
		 * masked too, when at least 8 characters follow its '/' (not
		 * "host:8443/@scope", a path holding an '@'). */
		at = u.shown - 1;
		if (u.shown > start &&
		    (colon = memchr(start, ':', (size_t)(at - start))) !=
			NULL &&
		    (slash = memchr(colon, '/', (size_t)(at - colon))) !=
			NULL &&
		    at - slash > URL_HIDDEN_PASSWORD_MIN)
			push_credential(
			    out, colon + 1, (size_t)(at - (colon + 1)));
		return;
	}
	if (user_is_token(&u))
		push_credential(out, u.user, u.user_length);
	if (u.password != NULL)
		push_credential(out, u.password, u.password_length);
}

void
source_scrub_environment(void)
{
	static const char *const names[] = { "JOBRUN_SOURCE_URL",
		"REACTORCIDE_SOURCE_URL", "JOBRUN_CI_SOURCE_URL",
		"REACTORCIDE_CI_SOURCE_URL" };
	char *value, *clean;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if ((value = getenv(names[i])) == NULL)
			continue;
		clean = source_url_sanitized(value);
		if (strcmp(clean, value) != 0) {
			wipe(value, strlen(value));
			setenv(names[i], clean, 1);
		}
		free(clean);
	}
}

char *
source_url_user(const char *url)
{
	struct source_url u;

	if (!source_url_parse(url, &u) || u.user == NULL)
		return NULL;
	return xstrndup(u.user, u.user_length);
}

/* The port a scheme uses when a URL names none; NULL when unknown. */
static const char *
default_port(const char *scheme, size_t length)
{
	static const struct {
		const char *scheme, *port;
	} ports[] = { { "http", "80" }, { "https", "443" }, { "ssh", "22" },
		{ "ssh+git", "22" }, { "git+ssh", "22" }, { "git", "9418" } };
	size_t i;

	for (i = 0; i < sizeof(ports) / sizeof(ports[0]); i++)
		if (strlen(ports[i].scheme) == length &&
		    strncasecmp(scheme, ports[i].scheme, length) == 0)
			return ports[i].port;
	return NULL;
}

static bool
is_ssh(const char *scheme, size_t length)
{
	const char *port = default_port(scheme, length);

	return port != NULL && strcmp(port, "22") == 0;
}

/* Reads url (a URL, or scp-like "[user@]host:path", which is ssh) into
 * *scheme (ssh for all its spellings) and u's host and port.  Returns
 * false for a local path, or a URL whose host its readers disagree on. */
static bool
origin_of(const char *url, const char **scheme, size_t *scheme_length,
    struct source_url *u)
{
	const char *start, *colon, *slash;

	if (source_url_parse(url, u)) {
		bool ssh = is_ssh(u->scheme, u->scheme_length);

		*scheme = ssh ? "ssh" : u->scheme;
		*scheme_length = ssh ? 3 : u->scheme_length;
		return !u->ambiguous && u->host_length > 0;
	}
	if (url == NULL || url[0] == '/' || (colon = strchr(url, ':')) == NULL)
		return false;
	if ((slash = strchr(url, '/')) != NULL && slash < colon)
		return false;
	start = memrchr(url, '@', (size_t)(colon - url));
	start = start != NULL ? start + 1 : url;
	*scheme = "ssh";
	*scheme_length = 3;
	u->host = start;
	u->host_length = (size_t)(colon - start);
	return u->host_length > 0;
}

bool
source_url_same_origin(const char *a, const char *b)
{
	struct source_url ua, ub;
	const char *sa, *sb, *pa, *pb;
	size_t la, lb, pla, plb;

	if (!origin_of(a, &sa, &la, &ua) || !origin_of(b, &sb, &lb, &ub))
		return false;
	pa = ua.port_length > 0 ? ua.port : default_port(sa, la);
	pb = ub.port_length > 0 ? ub.port : default_port(sb, lb);
	pla = ua.port_length > 0 ? ua.port_length : pa ? strlen(pa) : 0;
	plb = ub.port_length > 0 ? ub.port_length : pb ? strlen(pb) : 0;
	return la == lb && strncasecmp(sa, sb, la) == 0 &&
	    ua.host_length == ub.host_length &&
	    strncasecmp(ua.host, ub.host, ua.host_length) == 0 && pla == plb &&
	    (pla == 0 || memcmp(pa, pb, pla) == 0);
}

int
source_load_token(const struct source_request *request,
    struct source_reply *reply, char **out)
{
	const struct source_spec *spec = request->spec;
	char buf[4096];
	ssize_t n;
	int fd;

	*out = NULL;
	if (spec->token_env != NULL) {
		const char *value = getenv(spec->token_env);

		if (value == NULL || value[0] == '\0') {
			source_reply_error(reply,
			    "token_env names '%s', which is not set",
			    spec->token_env);
			return -1;
		}
		*out = xstrdup(value);
		return 0;
	}
	if (spec->token_file == NULL)
		return 0;
	if ((fd = open(spec->token_file, O_RDONLY | O_CLOEXEC)) < 0 ||
	    (n = read(fd, buf, sizeof(buf) - 1)) < 0) {
		source_reply_error(reply, "cannot read the token file '%s': %s",
		    spec->token_file, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	*out = xstrdup(buf);
	wipe(buf, sizeof(buf));
	return 0;
}

/* ---- where sources go ---- */

struct target {
	const char *label; /* "source", "ci_source" */
	enum config_key type_key, dir_key;
	const char *type; /* borrowed from the config */
	const char *dir; /* borrowed from the config */
	char *path; /* dir, normalized */
};

/* Refuses a directory written below the workspace that ".." takes out. */
static int
check_inside_workspace(const struct config *config, const struct target *t)
{
	const char *workspace = config_get(config, CONFIG_WORKSPACE);
	const char *raw = t->dir, *dotdot = strstr(raw, "/..");
	char *before;
	bool written_under;

	if (!treepath_has_dotdot(raw) || dotdot == NULL)
		return 0;
	before = xstrndup(raw, (size_t)(dotdot - raw));
	written_under = treepath_is_under(before, workspace);
	free(before);
	if (!written_under || treepath_is_under(t->path, workspace))
		return 0;
	diag_error("%s '%s' (%s) climbs out of the workspace '%s' with '..'",
	    config_key_name(t->dir_key), raw,
	    config->values[t->dir_key].origin
		? config->values[t->dir_key].origin
		: "default",
	    workspace);
	return -1;
}

/* A prepared source must not fill "/", the workspace or what holds it. */
static int
check_target(const struct config *config, const struct target *t)
{
	const char *workspace = config_get(config, CONFIG_WORKSPACE);

	if (check_inside_workspace(config, t) < 0)
		return -1;
	if (strcmp(t->type, "none") == 0)
		return 0;
	if (treepath_is_under(workspace, t->path)) {
		diag_error("%s: cannot prepare a %s source into '%s': the "
			   "workspace '%s' is there; choose another %s",
		    t->label, t->type, t->path, workspace,
		    config_key_name(t->dir_key));
		return -1;
	}
	return 0;
}

static void
target_init(struct target *t, const struct config *config, bool ci)
{
	t->label = ci ? "ci_source" : "source";
	t->type_key = ci ? CONFIG_CI_SOURCE_TYPE : CONFIG_SOURCE_TYPE;
	t->dir_key = ci ? CONFIG_CI_SOURCE_DIR : CONFIG_CODE_DIR;
	t->type = config_get(config, t->type_key);
	t->dir = config_get(config, t->dir_key);
	t->path = treepath_normalize(t->dir);
}

int
source_check_dirs(const struct config *config)
{
	struct target ci, src;
	int rc = -1;

	target_init(&ci, config, true);
	target_init(&src, config, false);
	if (check_target(config, &ci) < 0 || check_target(config, &src) < 0)
		goto out;
	rc = 0;
	if (strcmp(ci.type, "none") == 0 || strcmp(src.type, "none") == 0)
		goto out;
	if (treepath_is_under(ci.path, src.path) ||
	    treepath_is_under(src.path, ci.path)) {
		diag_error("the CI directory '%s' and the code directory '%s' "
			   "overlap: each prepared source needs its own",
		    ci.path, src.path);
		rc = -1;
	}
out:
	free(ci.path);
	free(src.path);
	return rc;
}

/* mkdir -p with mode 0755 for what it creates. */
static int
make_dirs(const char *path)
{
	char *copy = xstrdup(path), *slash;
	int rc = 0;

	for (slash = copy + 1; rc == 0 && (slash = strchr(slash, '/')) != NULL;
	     slash++) {
		*slash = '\0';
		if (mkdir(copy, 0755) < 0 && errno != EEXIST)
			rc = -1;
		*slash = '/';
	}
	if (rc == 0 && mkdir(copy, 0755) < 0 && errno != EEXIST)
		rc = -1;
	free(copy);
	return rc;
}

/*
 * With no source, steps still start in the code directory.  A fresh
 * workspace (a new volume mounted at /job, a new --workspace) has none
 * yet: one inside the workspace is made empty; one elsewhere is the
 * user's to make.
 */
static int
make_code_dir(const struct config *config)
{
	const char *dir = config_get(config, CONFIG_CODE_DIR);
	char *path = treepath_normalize(dir);
	int rc = 0;

	if (treepath_is_under(path, config_get(config, CONFIG_WORKSPACE)) &&
	    access(path, F_OK) < 0 && errno == ENOENT && make_dirs(path) < 0) {
		diag_error("source: cannot make the code directory '%s': %s",
		    dir, strerror(errno));
		rc = -1;
	}
	free(path);
	return rc;
}

static bool
dir_is_empty(const char *path)
{
	struct dirent *entry;
	bool empty = true;
	DIR *dir;

	if ((dir = opendir(path)) == NULL)
		return false;
	while (empty && (entry = readdir(dir)) != NULL)
		empty = strcmp(entry->d_name, ".") == 0 ||
		    strcmp(entry->d_name, "..") == 0;
	closedir(dir);
	return empty;
}

/*
 * The mark jobrun leaves beside a target it prepared in local mode, so
 * that the next local run may replace it: DIR/.NAME.jobrun-source.
 */
static char *
mark_path(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xasprintf(".%s.jobrun-source", path);
	return xasprintf(
	    "%.*s/.%s.jobrun-source", (int)(slash - path), path, slash + 1);
}

/* Whether path carries jobrun's mark (a regular file, never followed). */
static bool
is_marked(const char *path)
{
	char *mark = mark_path(path);
	struct stat st;
	bool marked = lstat(mark, &st) == 0 && S_ISREG(st.st_mode);

	free(mark);
	return marked;
}

/* In local mode, a target jobrun prepared itself is replaced. */
static int
reclaim_target(const char *label, const char *path)
{
	if (!is_marked(path) || file_remove_tree(AT_FDCWD, path) == 0)
		return 0;
	diag_error("%s: cannot remove the directory '%s' an earlier run "
		   "prepared: %s",
	    label, path, strerror(errno));
	return -1;
}

static int
mark_target(const char *label, const char *path)
{
	char *mark = mark_path(path), *error = NULL;
	int fd = file_create(AT_FDCWD, mark, 0644, &error);

	free(mark);
	if (fd < 0) {
		diag_error("%s: %s", label, error);
		free(error);
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * Makes path an empty directory (not a link to one); -1 after a message.
 * In local mode a directory an earlier run prepared (marked) is replaced
 * and the new one is marked; one it did not prepare is refused.
 */
static int
make_empty_target(const char *label, const char *path, bool local)
{
	struct stat st;

	if (local && reclaim_target(label, path) < 0)
		return -1;
	if (make_dirs(path) < 0) {
		diag_error("%s: cannot create the directory '%s': %s", label,
		    path, strerror(errno));
		return -1;
	}
	if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		diag_error("%s: '%s' is not a directory (a symbolic link is "
			   "not followed)",
		    label, path);
		return -1;
	}
	if (!dir_is_empty(path)) {
		diag_error("%s: the directory '%s' is not empty: a source is "
			   "prepared only into an empty or missing directory%s",
		    label, path,
		    local ? " (jobrun did not prepare this one: remove it)"
			  : "");
		return -1;
	}
	return local ? mark_target(label, path) : 0;
}

/* ---- the parent's side: running a backend ---- */

/*
 * The request as jobrun-source reads it on its standard input: a JSON
 * object in a memory file (never on a command line, where any
 * process could read the URL).  Returns the descriptor, or -1 with
 * errno.
 */
static int
request_file(const struct source_request *request)
{
	char *text = source_request_to_json(request);
	int fd = memfd_create("jobrun-source-request", MFD_CLOEXEC);

	if (fd < 0 || file_write_all(fd, text, strlen(text)) < 0 ||
	    lseek(fd, 0, SEEK_SET) < 0) {
		int saved = errno;

		if (fd >= 0)
			close(fd);
		wipe(text, strlen(text));
		free(text);
		errno = saved;
		return -1;
	}
	wipe(text, strlen(text));
	free(text);
	return fd;
}

/* Runs the request's backend in jobrun-source within timeout_ms. */
static void
run_backend(const struct source_request *request, uint64_t timeout_ms,
    struct source_outcome *o)
{
	static const char *const args[] = { "prepare", NULL };
	int fd = request_file(request);

	if (fd < 0) {
		o->error = xasprintf("cannot pass the request to %s: %s",
		    SOURCE_EXEC_PROGRAM, strerror(errno));
		o->status = EXIT_JOBRUN_ERROR;
		return;
	}
	source_exec_run(request->label, args, fd, timeout_ms, true, o);
	close(fd);
}

/* ---- credentials ---- */

/* The token's variable leaves jobrun's environment, wiped in place, so no
 * step inherits it. */
static void
remove_token_env(const char *name)
{
	char *value;

	if (name == NULL || (value = getenv(name)) == NULL)
		return;
	wipe(value, strlen(value));
	unsetenv(name);
}

/* A token file in the workspace was put there for us: delete it. */
static void
remove_token_file(const char *path, const char *workspace, const char *label)
{
	char *absolute;

	if (path == NULL || (absolute = source_local_path(path)) == NULL)
		return;
	if (treepath_is_under(absolute, workspace) && unlink(absolute) < 0 &&
	    errno != ENOENT)
		diag_warn("%s: cannot remove the token file '%s': %s", label,
		    absolute, strerror(errno));
	free(absolute);
}

/* Whatever happened, the credentials a source named are gone after it. */
static void
forget_credentials(
    const struct source_spec *spec, const char *workspace, const char *label)
{
	remove_token_env(spec->token_env);
	remove_token_file(spec->token_file, workspace, label);
}

/* ---- one source ---- */

/* Adds the git facts to the environment as JOBRUN_GIT_* (or _CI_GIT_). */
static void
export_facts(const struct source_outcome *o, bool ci, struct nvlist *job_env)
{
	static const char *const names[] = { "commit", "ref", "author",
		"subject", "depth" };
	const struct nvpair *fact;
	char *variable, *upper;
	size_t i, k;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if ((fact = nvlist_get(&o->facts, names[i])) == NULL)
			continue;
		upper = xstrdup(names[i]);
		for (k = 0; upper[k] != '\0'; k++)
			upper[k] = (char)(upper[k] - 'a' + 'A');
		variable = xasprintf("JOBRUN_%sGIT_%s", ci ? "CI_" : "", upper);
		nvlist_set(job_env, variable, fact->value, nowhere);
		free(variable);
		free(upper);
	}
}

/* What result.json is to say of a prepared source. */
static void
fill_facts(struct source_facts *facts, const struct source_request *request,
    const struct source_outcome *o)
{
	static const struct {
		const char *name;
		size_t offset;
	} fields[] = {
		{ "commit", offsetof(struct source_facts, commit) },
		{ "ref", offsetof(struct source_facts, ref) },
		{ "author", offsetof(struct source_facts, author) },
		{ "subject", offsetof(struct source_facts, subject) },
	};
	const struct nvpair *fact;
	size_t i;

	source_facts_release(facts);
	facts->prepared = true;
	facts->type = xstrdup(request->type);
	facts->url = source_url_sanitized(request->url);
	facts->target = xstrdup(request->target);
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if ((fact = nvlist_get(&o->facts, fields[i].name)) != NULL)
			*(char **)((char *)facts + fields[i].offset) =
			    xstrdup(fact->value);
	if ((fact = nvlist_get(&o->facts, "depth")) != NULL)
		facts->depth = strtoll(fact->value, NULL, 10);
}

/* A failed preparation leaves nothing behind: the directory it made is
 * removed, one that was there (empty) is emptied again. */
static void
discard_target(const char *label, const char *path, bool existed)
{
	char *error = NULL;
	int fd, rc;

	if (!existed) {
		rc = file_remove_tree(AT_FDCWD, path);
	} else if ((fd = file_open_dir(AT_FDCWD, path, 0755, &error)) >= 0) {
		rc = file_clear_dir(fd);
		close(fd);
	} else {
		rc = -1;
	}
	if (rc < 0)
		diag_warn("%s: cannot remove what a failed preparation left "
			  "in '%s': %s",
		    label, path, error ? error : strerror(errno));
	free(error);
}

/* The one line that says what was prepared; diag_error() is jobrun's one
 * channel for messages about itself. */
static void
report(const struct source_request *request, const struct source_outcome *o,
    uint64_t elapsed_ms)
{
	const struct nvpair *summary = nvlist_get(&o->facts, "summary");
	char *shown = source_redact_url(request->url);

	diag_error("%s: %s %s%s%s -> %s (%.1f s)", request->label,
	    request->type, shown, request->ref ? " ref " : "",
	    request->ref ? request->ref : "",
	    summary ? summary->value : request->target,
	    (double)elapsed_ms / 1000.0);
	free(shown);
}

/* When the job's timeout passes (0: never), in clock_now_ms() time. */
static uint64_t job_deadline;

void
source_set_job_deadline(uint64_t deadline_ms)
{
	job_deadline = deadline_ms;
}

static int
prepare_one(const struct config *config, const struct source_spec *spec,
    bool ci, struct nvlist *job_env, struct source_facts *facts)
{
	struct source_outcome o = SOURCE_OUTCOME_INIT;
	struct source_request request = { 0 };
	struct target t;
	uint64_t started = clock_now_ms(), timeout, now = 0;
	struct stat st;
	bool existed, made = false, job_bound;
	char *shown;

	target_init(&t, config, ci);
	request.label = t.label;
	request.type = t.type;
	request.url =
	    config_get(config, ci ? CONFIG_CI_SOURCE_URL : CONFIG_SOURCE_URL);
	request.ref =
	    config_get(config, ci ? CONFIG_CI_SOURCE_REF : CONFIG_SOURCE_REF);
	/* As written: the job dir derives from it, and ".." is fine as long
	 * as it stays in the workspace (checked above). */
	request.target = t.dir;
	request.workspace = config_get(config, CONFIG_WORKSPACE);
	request.spec = spec;
	request.progress = isatty(STDERR_FILENO) == 1;
	existed = lstat(t.dir, &st) == 0;
	if (request.url == NULL) {
		diag_error("%s: a %s source needs a URL: set %s.url, %s or "
			   "--%ssource-url",
		    t.label, t.type, t.label,
		    config_key_env(
			ci ? CONFIG_CI_SOURCE_URL : CONFIG_SOURCE_URL),
		    ci ? "ci-" : "");
		o.status = EXIT_JOBRUN_ERROR;
	} else if (make_empty_target(t.label, t.dir,
		       config_number(config, CONFIG_LOCAL) != 0) < 0) {
		o.status = EXIT_JOBRUN_ERROR;
	} else if (job_deadline != 0 &&
	    (now = clock_now_ms()) >= job_deadline) {
		o.error = xstrdup("the job timed out before it began");
		o.status = EXIT_JOB_TIMED_OUT;
	} else {
		made = true;
		timeout = spec->timeout_ms ? spec->timeout_ms
					   : SOURCE_DEFAULT_TIMEOUT_MS;
		/* The job's timeout counts preparation too (now is before the
		 * deadline: what is left is never 0, which means no limit). */
		job_bound = job_deadline != 0 && job_deadline - now < timeout;
		if (job_bound)
			timeout = job_deadline - now;
		run_backend(&request, timeout, &o);
		if (job_bound && o.timed_out) {
			free(o.error);
			o.error = xstrdup("the job timed out");
			o.status = EXIT_JOB_TIMED_OUT;
		}
	}
	if (made && o.status != 0)
		discard_target(t.label, t.dir, existed);
	forget_credentials(spec, request.workspace, t.label);
	if (o.error != NULL) {
		shown = source_redact_url(request.url);
		diag_error("%s: cannot prepare %s %s into '%s': %s", t.label,
		    t.type, shown, t.dir, o.error);
		free(shown);
	} else if (o.status == 0) {
		report(&request, &o, clock_now_ms() - started);
		export_facts(&o, ci, job_env);
		if (facts != NULL)
			fill_facts(facts, &request, &o);
	}
	source_outcome_release(&o);
	free(t.path);
	return o.status;
}

void
source_facts_release(struct source_facts *facts)
{
	free(facts->type);
	free(facts->url);
	free(facts->target);
	free(facts->commit);
	free(facts->ref);
	free(facts->author);
	free(facts->subject);
	memset(facts, 0, sizeof(*facts));
}

void
source_report_release(struct source_report *report)
{
	source_facts_release(&report->ci_source);
	source_facts_release(&report->source);
}

int
source_prepare_all(
    const struct config *config, const struct job *job, struct nvlist *job_env)
{
	return source_prepare(config, job, job_env, NULL);
}

int
source_prepare(const struct config *config, const struct job *job,
    struct nvlist *job_env, struct source_report *out)
{
	static const struct source_spec no_spec = { 0 };
	const struct source_spec *ci_spec = job ? &job->ci_source : &no_spec;
	const struct source_spec *spec = job ? &job->source : &no_spec;
	const char *workspace = config_get(config, CONFIG_WORKSPACE);
	int status;

	if (source_check_dirs(config) < 0) {
		status = EXIT_JOBRUN_ERROR;
		goto fail;
	}
	/* A source not prepared (its type overridden to none) holds on to
	 * no credential either: the steps never see its token. */
	if (strcmp(config_get(config, CONFIG_CI_SOURCE_TYPE), "none") == 0)
		forget_credentials(ci_spec, workspace, "ci_source");
	if (strcmp(config_get(config, CONFIG_SOURCE_TYPE), "none") == 0)
		forget_credentials(spec, workspace, "source");
	/* The trusted CI code first: it may hold what judges the rest. */
	if (strcmp(config_get(config, CONFIG_CI_SOURCE_TYPE), "none") != 0 &&
	    (status = prepare_one(config, ci_spec, true, job_env,
		 out ? &out->ci_source : NULL)) != 0)
		goto fail;
	if (strcmp(config_get(config, CONFIG_SOURCE_TYPE), "none") != 0 &&
	    (status = prepare_one(
		 config, spec, false, job_env, out ? &out->source : NULL)) != 0)
		goto out;
	if (strcmp(config_get(config, CONFIG_SOURCE_TYPE), "none") == 0 &&
	    make_code_dir(config) < 0) {
		status = EXIT_JOBRUN_ERROR;
		goto out;
	}
	status = 0;
	goto out;
fail:
	forget_credentials(ci_spec, workspace, "ci_source");
	forget_credentials(spec, workspace, "source");
out:
	source_scrub_environment();
	return status;
}

void
source_print_version(FILE *out)
{
	static const char *const args[] = { "version", NULL };
	struct source_outcome o = SOURCE_OUTCOME_INIT;
	const struct nvpair *line;

	source_exec_run(SOURCE_EXEC_PROGRAM, args, -1, 0, false, &o);
	if (o.status != 0) {
		fprintf(out, "sources: cannot be prepared: %s\n", o.error);
	} else {
		if ((line = nvlist_get(&o.facts, "git")) != NULL)
			fprintf(out, "%s\n", line->value);
		if ((line = nvlist_get(&o.facts, "fetch")) != NULL)
			fprintf(out, "%s\n", line->value);
	}
	source_outcome_release(&o);
}
