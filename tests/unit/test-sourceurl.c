/* Unit tests for the credentials in source URLs (source.h): what is kept
 * of a URL, and what is registered as a secret. */
#include "config.h"

#include <stdlib.h>

#include "list.h"
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
	return done_testing();
}
