/* Unit tests for the credentials in source URLs (source.h): what is kept
 * of a URL, what is registered as a secret, what is shown, and which URLs
 * share an origin; all read the user info with source_url_parse(). */
#include "config.h"

#include <stdlib.h>

#include "list.h"
#include "source-backend.h"
#include "source.h"
#include "tap.h"

static void
sanitizes(const char *url, const char *expected)
{
	char *got = source_url_sanitized(url), what[160];

	snprintf(what, sizeof(what), "sanitize '%s'", url);
	is_str(got, expected, what);
	free(got);
}

/* credentials URL EXPECTED: the credentials found, joined by '|'. */
static void
finds(const char *url, const char *expected)
{
	struct strlist found = STRLIST_INIT;
	char joined[256] = "", what[160];
	size_t i;

	source_url_credentials(url, &found);
	for (i = 0; i < found.len; i++) {
		if (i > 0)
			strcat(joined, "|");
		strcat(joined, found.items[i]);
	}
	snprintf(what, sizeof(what), "credentials of '%s'", url);
	is_str(joined, expected, what);
	strlist_release(&found);
}

/* Every form of one URL: sanitized, its credentials, as shown. */
static void url_forms(const char *url, const char *sanitized,
    const char *credentials, const char *shown);

static void
redacts(const char *url, const char *expected)
{
	char *got = source_redact_url(url), what[160];

	snprintf(what, sizeof(what), "show '%s'", url);
	is_str(got, expected, what);
	free(got);
}

static void
user_of(const char *url, const char *expected)
{
	char *got = source_url_user(url), what[160];

	snprintf(what, sizeof(what), "user of '%s'", url);
	is_str(got != NULL ? got : "(none)", expected, what);
	free(got);
}

static void
same_origin(const char *a, const char *b, bool expected)
{
	char what[200];

	snprintf(what, sizeof(what), "'%s' and '%s' %s", a, b,
	    expected ? "share an origin" : "do not share an origin");
	ok(source_url_same_origin(a, b) == expected, what);
}

/* The forms of a user info that hosts and generated passwords use. */
static void
user_info_forms(void)
{
	const char *gh = "ghp_TOKENUSER0123456789abcdefXYZ";
	char url[200], expected[200];

	/* GitHub's TOKEN:x-oauth-basic: the token is the user name. */
	snprintf(url, sizeof(url),
	    "https://%s:x-oauth-basic@github.com/o/a.git", gh);
	sanitizes(url, "https://github.com/o/a.git");
	snprintf(expected, sizeof(expected), "%s|x-oauth-basic", gh);
	finds(url, expected);
	redacts(url, "https://***@github.com/o/a.git");
	/* A token as the user name alone. */
	snprintf(url, sizeof(url), "https://%s@github.com/o/a.git", gh);
	redacts(url, "https://***@github.com/o/a.git");
	finds(url, gh);

	/* An unencoded '@' in a password: the last '@' before the path. */
	url_forms("http://user:abc@SECRETPART0123456789@127.0.0.1:1/app.git",
	    "http://user@127.0.0.1:1/app.git", "abc@SECRETPART0123456789",
	    "http://***@127.0.0.1:1/app.git");
	/* '?' and '#' in a password: the authority ends at the first '/'. */
	url_forms("https://user:SECRETPART0123456789#x@git.example.org/app.git",
	    "https://user@git.example.org/app.git", "SECRETPART0123456789#x",
	    "https://***@git.example.org/app.git");
	url_forms("https://user:SECRETPART0123456789?x@git.example.org/app.git",
	    "https://user@git.example.org/app.git", "SECRETPART0123456789?x",
	    "https://***@git.example.org/app.git");
	/* A '/' in a password, after which "user:ab" is no host:port: the
	 * user info goes to the last '@'. */
	url_forms("http://user:ab/SECRETPART0123456789@127.0.0.1:1/app.git",
	    "http://user@127.0.0.1:1/app.git", "ab/SECRETPART0123456789",
	    "http://***@127.0.0.1:1/app.git");
	url_forms("https://u:ab/cd@ef/SECRET@host/x", "https://u@host/x",
	    "ab/cd@ef/SECRET", "https://***@host/x");
	/* A '/' in a password after digits ("user:123" is a host and a
	 * port): kept, as a path may hold an '@', but never shown. */
	url_forms("https://user:123/SECRETPART@host/x",
	    "https://user:123/SECRETPART@host/x", "123/SECRETPART",
	    "https://***@host/x");
	/* A path holding an '@' after a port: not a password. */
	url_forms("https://registry:8443/@scope/pkg.tgz",
	    "https://registry:8443/@scope/pkg.tgz", "",
	    "https://***@scope/pkg.tgz");
	/* A path with '@' and nothing like a password: shown whole. */
	url_forms("https://registry.example.org/@scope/pkg.tgz",
	    "https://registry.example.org/@scope/pkg.tgz", "",
	    "https://registry.example.org/@scope/pkg.tgz");
	/* IPv6 addresses. */
	url_forms("https://u:pw-1234@[::1]:8443/x", "https://u@[::1]:8443/x",
	    "pw-1234", "https://***@[::1]:8443/x");
	/* A port and then an '@': could be "user:8443/pw@", not shown. */
	url_forms("https://[::1]:8443/a@b.git", "https://[::1]:8443/a@b.git",
	    "", "https://***@b.git");

	user_of("https://ada:pw@host/x", "ada");
	user_of("https://ada:p@w@host/x", "ada");
	user_of("https://host/a@b", "(none)");
}

/* Credentials go to the source's own scheme, host and port only. */
static void
origins(void)
{
	same_origin(
	    "https://localhost/app.git", "https://localhost/sub.git", true);
	same_origin("https://LocalHost:443/a", "https://localhost/b", true);
	same_origin("https://u:pw@host/a", "https://other@host/b", true);
	same_origin(
	    "https://localhost/app.git", "http://localhost/sub.git", false);
	same_origin(
	    "http://localhost/app.git", "https://localhost/sub.git", false);
	same_origin("https://host/a", "https://host:8443/b", false);
	same_origin("https://host:8443/a", "https://host:8443/b", true);
	same_origin("https://host/a", "https://host.evil/b", false);
	same_origin("ssh://git@host/a", "git@host:b", true);
	same_origin("ssh://git@host:2222/a", "git@host:b", false);
	same_origin("https://[::1]:8443/a", "https://[::1]:8443/b", true);
	/* Where readers disagree on the host: never the same. */
	same_origin("https://host/a", "http://EVIL#@host/b", false);
	same_origin("http://host/a", "http://EVIL#@host/b", false);
	same_origin("http://host/a", "http://EVIL?@host/b", false);
	same_origin("http://host/a", "http://a@EVIL@host/b", false);
	same_origin("/srv/a.git", "/srv/b.git", false);
	same_origin("https://host/a", NULL, false);
}

static void
url_forms(const char *url, const char *sanitized, const char *credentials,
    const char *shown)
{
	sanitizes(url, sanitized);
	finds(url, credentials);
	redacts(url, shown);
}

int
main(void)
{
	sanitizes("https://u:s3cret@host/app.git", "https://u@host/app.git");
	sanitizes("https://:s3cret@host/app.git", "https://@host/app.git");
	sanitizes("https://ghp_0123456789abcdefghij@github.com/a.git",
	    "https://github.com/a.git");
	sanitizes("https://ada@host/app.git", "https://ada@host/app.git");
	sanitizes("ssh://git@host:22/app.git", "ssh://git@host:22/app.git");
	sanitizes("https://host/a@b.git", "https://host/a@b.git");
	sanitizes("git@host:app.git", "git@host:app.git");
	sanitizes("/srv/app.git", "/srv/app.git");

	finds("https://u:s3cret@host/app.git", "s3cret");
	finds("https://u:p%40ss%2Fw0rd@host/x", "p%40ss%2Fw0rd|p@ss/w0rd");
	finds("https://ghp_0123456789abcdefghij@github.com/a.git",
	    "ghp_0123456789abcdefghij");
	finds("ssh://ghp_0123456789abcdefghij@host/a.git", "");
	finds("https://ada@host/app.git", "");
	finds("https://u:@host/x", "");
	finds("https://host/a:b@c", "");
	finds(NULL, "");
	finds("https://u:bad%zz%4@host/x", "bad%zz%4");

	redacts("https://u:s3cret@host/app.git", "https://***@host/app.git");
	redacts("https://host/a@b.git", "https://host/a@b.git");
	redacts("git@host:app.git", "git@host:app.git");
	user_info_forms();
	origins();
	return done_testing();
}
