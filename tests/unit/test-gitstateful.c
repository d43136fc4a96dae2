/* Unit tests for which URLs get the transport of source-gitstateful.h:
 * the stateful ones (git://, the ssh spellings, scp-like), and only with
 * a libgit2 that resends its wants (1.7 and 1.8). */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>

#include <git2.h>

#include "source-gitstateful.h"
#include "tap.h"

static bool resends; /* the loaded libgit2 is 1.7 or 1.8 */

static void
needed(const char *url, bool stateful)
{
	char what[160];

	snprintf(what, sizeof(what), "'%s' %s", url ? url : "(null)",
	    stateful && resends ? "is wrapped" : "is not wrapped");
	ok(gitstateful_needed(url) == (stateful && resends), what);
}

int
main(void)
{
	int major = 0, minor = 0, revision = 0;

	git_libgit2_version(&major, &minor, &revision);
	resends = major == 1 && (minor == 7 || minor == 8);
	printf("# libgit2 %d.%d.%d\n", major, minor, revision);

	needed("git://host/app.git", true);
	needed("git://127.0.0.1:9418/app.git", true);
	needed("ssh://git@host:2222/app.git", true);
	needed("ssh+git://host/app.git", true);
	needed("git+ssh://host/app.git", true);
	needed("git@github.com:owner/app.git", true);
	needed("host:app.git", true);
	needed("http://host/app.git", false);
	needed("https://host:8443/app.git", false);
	needed("file:///srv/app.git", false);
	needed("/srv/app.git", false);
	needed("relative/app.git", false);
	needed(NULL, false);
	return done_testing();
}
