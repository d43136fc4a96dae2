/* Unit tests for treepath.c and source-gitref.c: lexical paths, the link
 * check on a real tree, and resolving refs against an advertisement. */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source-gitref.h"
#include "tap.h"
#include "treepath.h"

static void
normalizes(const char *path, const char *expected)
{
	char *got = treepath_normalize(path), what[128];

	snprintf(what, sizeof(what), "normalize '%s'", path);
	is_str(got, expected, what);
	free(got);
}

static void
test_lexical(void)
{
	normalizes("/job/src/../ci", "/job/ci");
	normalizes("/job//src/./x/", "/job/src/x");
	normalizes("/..", "/");
	normalizes("a/../../b", "../b");
	normalizes("", ".");
	normalizes("./", ".");
	ok(treepath_is_under("/job/src", "/job"), "/job/src is under /job");
	ok(treepath_is_under("/job", "/job/"), "a directory is under itself");
	ok(!treepath_is_under("/jobs", "/job"), "/jobs is not under /job");
	ok(!treepath_is_under("/job/src/../../etc", "/job"),
	    "'..' out is not under");
	ok(treepath_is_under("/anything", "/"), "everything is under /");
	ok(treepath_has_dotdot("a/../b") && !treepath_has_dotdot("a/..b"),
	    "'..' components, not '..' in names");
}

/* Checks the link at name in the tree open as rootfd. */
static void
link_verdict(int rootfd, const char *name, const char *expected)
{
	const char *why = NULL;
	char what[128];

	snprintf(what, sizeof(what), "link %s", name);
	if (treepath_check_link(rootfd, name, &why) == 0)
		why = "inside";
	is_str(why, expected, what);
}

static void
test_links(void)
{
	char dir[] = "/tmp/jobrun-treepath.XXXXXX", command[64];
	char *bad = NULL;
	const char *why;
	int rootfd;

	if (mkdtemp(dir) == NULL || chdir(dir) < 0)
		return;
	mkdir("sub", 0755);
	mkdir("sub/deep", 0755);
	symlink("deep/../..", "sub/root");
	symlink("../..", "sub/up2");
	symlink(".", "self");
	symlink("self/..", "sneaky");
	symlink("loop", "loop");
	symlink("/etc", "abs");
	symlink("missing/../x", "dangling");
	rootfd = open(".", O_RDONLY | O_DIRECTORY);
	link_verdict(rootfd, "sub/root", "inside");
	link_verdict(rootfd, "sub/up2", "points outside the tree");
	link_verdict(rootfd, "self", "inside");
	link_verdict(rootfd, "sneaky", "points outside the tree");
	link_verdict(rootfd, "loop", "is a symbolic link loop");
	link_verdict(rootfd, "abs", "points to an absolute path");
	link_verdict(rootfd, "dangling", "inside");
	ok(treepath_check_tree(rootfd, &bad, &why) < 0 && bad != NULL,
	    "the tree check finds a bad link");
	free(bad);
	close(rootfd);
	snprintf(command, sizeof(command), "rm -rf '%s'", dir);
	if (chdir("/") < 0 || system(command) != 0)
		printf("# could not remove %s\n", dir);
}

static char name_head[] = "HEAD", name_main[] = "refs/heads/main",
	    name_cafe[] = "refs/heads/cafe", name_v1[] = "refs/tags/v1",
	    name_v1_peeled[] = "refs/tags/v1^{}",
	    name_pull[] = "refs/pull/7/head",
	    name_mr[] = "refs/merge-requests/9/head";

static git_remote_head heads_data[] = {
	{ 0, { { 1 } }, { { 0 } }, name_head, name_main },
	{ 0, { { 1 } }, { { 0 } }, name_main, NULL },
	{ 0, { { 2 } }, { { 0 } }, name_cafe, NULL },
	{ 0, { { 3 } }, { { 0 } }, name_v1, NULL },
	{ 0, { { 4 } }, { { 0 } }, name_v1_peeled, NULL },
	{ 0, { { 5 } }, { { 0 } }, name_pull, NULL },
	{ 0, { { 6 } }, { { 0 } }, name_mr, NULL },
};

static void
resolves(const char *ref, const char *expected)
{
	const git_remote_head *heads[7];
	struct gitref out = GITREF_INIT;
	char *error = NULL, what[128];
	size_t i;

	for (i = 0; i < 7; i++)
		heads[i] = &heads_data[i];
	snprintf(what, sizeof(what), "ref '%s'", ref ? ref : "(none)");
	if (gitref_resolve(&out, ref, heads, 7, &error) < 0)
		is_str(error, expected, what);
	else
		is_str(out.by_id ? out.id : out.remote_name, expected, what);
	free(error);
	gitref_release(&out);
}

static void
test_refs(void)
{
	resolves(NULL, "refs/heads/main");
	resolves("main", "refs/heads/main");
	resolves("v1", "refs/tags/v1");
	resolves("cafe", "refs/heads/cafe");
	resolves("CAFEBABE", "cafebabe");
	resolves("pull/7", "refs/pull/7/head");
	resolves("pull/7/head", "refs/pull/7/head");
	resolves("merge-requests/9", "refs/merge-requests/9/head");
	resolves("refs/pull/7/head", "refs/pull/7/head");
	resolves("0123456789012345678901234567890123456789",
	    "0123456789012345678901234567890123456789");
	resolves("mian",
	    "ref 'mian' not found: it is no branch, tag, pull or merge "
	    "request ref of the remote, nor a commit id; closest: main; "
	    "branches: cafe, main; tags: v1; pull requests: pull/7; merge "
	    "requests: merge-requests/9");
	resolves("pull/8",
	    "ref 'pull/8' not found: it is no branch, tag, "
	    "pull or merge request ref of the remote, nor a "
	    "commit id; closest: pull/7; branches: cafe, main; "
	    "tags: v1; pull requests: pull/7; merge requests: "
	    "merge-requests/9");
}

int
main(void)
{
	test_lexical();
	test_links();
	test_refs();
	return done_testing();
}
