/*
 * Downloads over http(s) with libcurl, for the tarball source
 * (source-fetch.h): the body is handed to the reader as it arrives, never
 * stored, so an archive streams straight into libarchive.  The reader
 * pulls: each source_fetch_read() drives curl's multi interface until
 * some bytes have come or the transfer has ended.
 *
 * Limits: at most max_size bytes (a Content-Length above it is refused
 * before the body, a body that grows past it is cut); at most 5
 * redirects, to http(s) only; a stall (no byte for stall_ms, timed
 * here) or a connection that takes as long ends the transfer.  Credentials (the
 * URL's own, or a token as the password of the URL's user or of
 * x-access-token) go to the URL's host only: curl drops them when a
 * redirect leads elsewhere.  Certificates are checked against the
 * system's store or, in its place, ca_file alone.
 *
 * libcurl is loaded with dlopen() when a download starts, not linked: its
 * dependencies (Kerberos, LDAP, RTMP, ...) would double the time every
 * jobrun takes to start (the dynamic linker's work, measured with
 * callgrind: 12.9 to 23.9 million instructions for `jobrun --version`),
 * and most jobs download nothing.
 */
#include "config.h"

#include "source-fetch.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "clock.h"
#include "source-backend.h"
#include "xalloc.h"

#define FETCH_MAX_REDIRECTS 5L

/* The libcurl functions used, from dlopen(). */
static struct {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char *(*easy_strerror)(CURLcode);
	void (*easy_cleanup)(CURL *);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_add_handle)(CURLM *, CURL *);
	CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode (*multi_perform)(CURLM *, int *);
	CURLMsg *(*multi_info_read)(CURLM *, int *);
	CURLMcode (*multi_poll)(
	    CURLM *, struct curl_waitfd *, unsigned int, int, int *);
	CURLMcode (*multi_cleanup)(CURLM *);
	curl_version_info_data *(*version_info)(CURLversion);
} api;

/* The library's file name: Debian's OpenSSL flavour (libcurl4). */
#define LIBCURL_SONAME "libcurl.so.4"

/* Loads libcurl once; NULL, or why it cannot be loaded. */
static const char *
load_curl(void)
{
	static const char *error;
	static bool loaded;
	void *handle;

	if (loaded)
		return error;
	loaded = true;
	if ((handle = dlopen(LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL)
		return error = "libcurl (" LIBCURL_SONAME
			       ") cannot be loaded: install libcurl4";
#define LOAD(member, name)                                                     \
	do {                                                                   \
		*(void **)&api.member = dlsym(handle, name);                   \
		if (api.member == NULL)                                        \
			return error = "libcurl lacks " name;                  \
	} while (0)
	LOAD(global_init, "curl_global_init");
	LOAD(easy_init, "curl_easy_init");
	LOAD(easy_setopt, "curl_easy_setopt");
	LOAD(easy_getinfo, "curl_easy_getinfo");
	LOAD(easy_strerror, "curl_easy_strerror");
	LOAD(easy_cleanup, "curl_easy_cleanup");
	LOAD(multi_init, "curl_multi_init");
	LOAD(multi_add_handle, "curl_multi_add_handle");
	LOAD(multi_remove_handle, "curl_multi_remove_handle");
	LOAD(multi_perform, "curl_multi_perform");
	LOAD(multi_info_read, "curl_multi_info_read");
	LOAD(multi_poll, "curl_multi_poll");
	LOAD(multi_cleanup, "curl_multi_cleanup");
	LOAD(version_info, "curl_version_info");
#undef LOAD
	api.global_init(CURL_GLOBAL_DEFAULT);
	return NULL;
}

struct source_fetch {
	CURLM *multi;
	CURL *easy;
	const struct source_request *request;
	char *shown_url; /* without credentials, for messages */
	unsigned long long max_size;
	unsigned long long received;
	char *data; /* what the last pump received */
	size_t len, cap;
	bool done;
	bool too_big;
	bool stalled;
	uint64_t stall_ms;
	uint64_t last_byte_ms; /* when a byte last came (or the start) */
	CURLcode result;
	char curl_error[CURL_ERROR_SIZE];
	char *error; /* set once the transfer failed */
	bool transient;
	struct timespec last_progress;
};

char *
source_fetch_version_text(void)
{
	const curl_version_info_data *info;
	const char *error = load_curl();

	if (error != NULL)
		return xasprintf("libcurl: none (%s)\n", error);
	info = api.version_info(CURLVERSION_NOW);
	return xasprintf("libcurl %s (%shttps)\n", info->version,
	    info->features & CURL_VERSION_SSL ? "" : "no ");
}

static size_t
on_body(char *bytes, size_t size, size_t count, void *payload)
{
	struct source_fetch *f = payload;
	size_t n = size * count;

	if (f->received + n > f->max_size) {
		f->too_big = true;
		return 0; /* curl ends the transfer: CURLE_WRITE_ERROR */
	}
	if (f->len + n > f->cap) {
		f->cap = (f->len + n) * 2;
		f->data = xreallocarray(f->data, f->cap, 1);
	}
	memcpy(f->data + f->len, bytes, n);
	f->len += n;
	f->received += n;
	f->last_byte_ms = clock_now_ms();
	return n;
}

static int
on_progress(void *payload, curl_off_t total, curl_off_t now, curl_off_t up,
    curl_off_t up_now)
{
	struct source_fetch *f = payload;
	struct timespec t;
	long long elapsed;

	(void)up;
	(void)up_now;
	clock_gettime(CLOCK_MONOTONIC, &t);
	elapsed = (t.tv_sec - f->last_progress.tv_sec) * 1000LL +
	    (t.tv_nsec - f->last_progress.tv_nsec) / 1000000;
	if (elapsed < 100)
		return 0;
	f->last_progress = t;
	if (total > 0)
		fprintf(stderr,
		    "\r\033[Kjobrun: %s: downloading %.1f of %.1f MiB",
		    f->request->label, (double)now / 1048576.0,
		    (double)total / 1048576.0);
	else
		fprintf(stderr, "\r\033[Kjobrun: %s: downloading %.1f MiB",
		    f->request->label, (double)now / 1048576.0);
	return 0;
}

/* The options of one transfer; -1 when curl refuses one. */
static int
set_options(struct source_fetch *f, const char *user, const char *token,
    long stall_seconds)
{
	CURL *e = f->easy;
	CURLcode rc = CURLE_OK;

#define SET(option, value)                                                     \
	do {                                                                   \
		if (rc == CURLE_OK)                                            \
			rc = api.easy_setopt(e, option, value);                \
	} while (0)
	SET(CURLOPT_URL, f->request->url);
	SET(CURLOPT_ERRORBUFFER, f->curl_error);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, f);
	SET(CURLOPT_FAILONERROR, 1L);
	SET(CURLOPT_FOLLOWLOCATION, 1L);
	SET(CURLOPT_MAXREDIRS, FETCH_MAX_REDIRECTS);
#if LIBCURL_VERSION_NUM >= 0x075500
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	SET(CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)f->max_size);
	SET(CURLOPT_CONNECTTIMEOUT, stall_seconds);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_ACCEPT_ENCODING, "");
	SET(CURLOPT_USERAGENT, "jobrun/" PACKAGE_VERSION);
	/* A ca_file replaces the system's store: curl's default CA
	 * directory (/etc/ssl/certs) would trust every CA in it still. */
	if (f->request->spec->ca_file != NULL) {
		SET(CURLOPT_CAINFO, f->request->spec->ca_file);
		SET(CURLOPT_CAPATH, (char *)NULL);
	}
	if (token != NULL) {
		SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		SET(CURLOPT_USERNAME, user);
		SET(CURLOPT_PASSWORD, token);
	}
	if (f->request->progress) {
		SET(CURLOPT_NOPROGRESS, 0L);
		SET(CURLOPT_XFERINFOFUNCTION, on_progress);
		SET(CURLOPT_XFERINFODATA, f);
	}
#undef SET
	return rc == CURLE_OK ? 0 : -1;
}

struct source_fetch *
source_fetch_open(const struct source_request *request, const char *token,
    unsigned long long max_size, uint64_t stall_ms, char **error)
{
	struct source_fetch *f = xcalloc(1, sizeof(*f));
	char *user = NULL;
	long stall = (long)((stall_ms + 999) / 1000);

	*error = NULL;
	if (load_curl() != NULL) {
		*error = xstrdup(load_curl());
		free(f);
		return NULL;
	}
	f->request = request;
	f->max_size = max_size;
	f->stall_ms = stall_ms > 0 ? stall_ms : 1000;
	f->last_byte_ms = clock_now_ms();
	f->shown_url = source_redact_url(request->url);
	if (token != NULL)
		user = source_url_user(request->url);
	f->multi = api.multi_init();
	f->easy = api.easy_init();
	if (f->multi == NULL || f->easy == NULL ||
	    set_options(f, user ? user : "x-access-token", token,
		stall > 0 ? stall : 1) < 0 ||
	    api.multi_add_handle(f->multi, f->easy) != CURLM_OK) {
		*error = xstrdup("cannot set up the download (libcurl)");
		free(user);
		source_fetch_close(f);
		return NULL;
	}
	free(user);
	return f;
}

/* Transient: may pass if tried again later. */
static bool
transient_result(CURLcode result, long status)
{
	switch (result) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	case CURLE_HTTP_RETURNED_ERROR:
		return status >= 500 || status == 429 || status == 408;
	default:
		return false;
	}
}

/* Says why the finished transfer failed; nothing when it did not. */
static void
explain(struct source_fetch *f)
{
	long status = 0;

	if (f->result == CURLE_OK || f->error != NULL)
		return;
	api.easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &status);
	f->transient = transient_result(f->result, status);
	if (f->stalled)
		f->error = xasprintf("downloading '%s' stalled: nothing came "
				     "for %llu ms",
		    f->shown_url, (unsigned long long)f->stall_ms);
	else if (f->too_big || f->result == CURLE_FILESIZE_EXCEEDED)
		f->error = xasprintf("'%s' is larger than max_size (%llu "
				     "bytes): download stopped",
		    f->shown_url, f->max_size);
	else if (f->result == CURLE_TOO_MANY_REDIRECTS)
		f->error = xasprintf("'%s' redirects more than %ld times",
		    f->shown_url, FETCH_MAX_REDIRECTS);
	else if (f->result == CURLE_OPERATION_TIMEDOUT)
		f->error = xasprintf("downloading '%s' stalled: %s",
		    f->shown_url, f->curl_error);
	else if (f->result == CURLE_HTTP_RETURNED_ERROR)
		f->error =
		    xasprintf("'%s' answered HTTP %ld", f->shown_url, status);
	else if (f->result == CURLE_PEER_FAILED_VERIFICATION ||
	    f->result == CURLE_SSL_CACERT_BADFILE)
		f->error = xasprintf("the certificate of '%s' is not trusted "
				     "(checked against %s): %s",
		    f->shown_url,
		    f->request->spec->ca_file ? f->request->spec->ca_file
					      : "the system's store",
		    f->curl_error[0] ? f->curl_error
				     : api.easy_strerror(f->result));
	else
		f->error = xasprintf("cannot download '%s': %s", f->shown_url,
		    f->curl_error[0] ? f->curl_error
				     : api.easy_strerror(f->result));
}

/* Drives curl until bytes came or the transfer ended. */
static void
pump(struct source_fetch *f)
{
	CURLMsg *message;
	int running = 1, left;

	while (f->len == 0 && !f->done) {
		if (api.multi_perform(f->multi, &running) != CURLM_OK)
			running = 0;
		while ((message = api.multi_info_read(f->multi, &left)) != NULL)
			if (message->msg == CURLMSG_DONE) {
				f->result = message->data.result;
				f->done = true;
			}
		if (f->len > 0 || f->done || running == 0)
			break;
		/* curl's own low-speed check averages over seconds, so a
		 * burst hides a stall for long: the stall is timed here. */
		if (clock_now_ms() - f->last_byte_ms >= f->stall_ms) {
			f->stalled = true;
			f->result = CURLE_OPERATION_TIMEDOUT;
			f->done = true;
			break;
		}
		api.multi_poll(f->multi, NULL, 0, 100, NULL);
	}
	if (running == 0)
		f->done = true;
}

long
source_fetch_read(struct source_fetch *f, const void **buffer)
{
	f->len = 0;
	if (!f->done)
		pump(f);
	*buffer = f->data;
	if (f->len > 0)
		return (long)f->len;
	/* The end: bytes of the last pump were handed out before. */
	explain(f);
	if (f->request->progress)
		fprintf(stderr, "\r\033[K");
	return f->error != NULL ? -1 : 0;
}

const char *
source_fetch_error(const struct source_fetch *f, bool *transient)
{
	*transient = f->transient;
	return f->error;
}

unsigned long long
source_fetch_received(const struct source_fetch *f)
{
	return f->received;
}

void
source_fetch_close(struct source_fetch *f)
{
	if (f == NULL)
		return;
	if (f->multi != NULL && f->easy != NULL)
		api.multi_remove_handle(f->multi, f->easy);
	if (f->easy != NULL)
		api.easy_cleanup(f->easy);
	if (f->multi != NULL)
		api.multi_cleanup(f->multi);
	free(f->data);
	free(f->shown_url);
	free(f->error);
	free(f);
}
