/*
 * The one-shot secret bundle: encoded and read back over a pipe, reading
 * no byte past it (the lifeline follows), applied (variables set, files
 * written 0600), and bad input refused without quoting it.
 */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle.h"
#include "file.h"
#include "tap.h"

static void
test_round_trip(void)
{
	struct bundle b = BUNDLE_INIT, got = BUNDLE_INIT;
	char *wire, *error = NULL, after[16] = { 0 };
	size_t n;
	int p[2];
	const struct nvpair *v;

	bundle_add_env(&b, "API_TOKEN", "s3cr3t-\"quoted\"\nline");
	bundle_add_file(&b, "/run/secrets/token", "file-secret\n");
	b.lifeline = false;
	bundle_encode(&b, &wire, &n);
	ok(strncmp(wire, "JOBRUN-BUNDLE 1 ", 16) == 0, "the header");
	if (pipe(p) < 0)
		return;
	(void)file_write_all(p[1], wire, n);
	(void)file_write_all(p[1], "LIFELINE", 8);
	close(p[1]);
	is_int(bundle_read(p[0], &got, &error), 0, "read back");
	v = nvlist_get(&got.env, "API_TOKEN");
	is_str(v ? v->value : NULL, "s3cr3t-\"quoted\"\nline",
	    "a variable with quotes and a newline");
	v = nvlist_get(&got.files, "/run/secrets/token");
	is_str(v ? v->value : NULL, "file-secret\n", "a file");
	ok(!got.lifeline, "the lifeline flag");
	is_int(read(p[0], after, sizeof(after) - 1), 8,
	    "nothing past the bundle was read");
	is_str(after, "LIFELINE", "what follows is left for the lifeline");
	close(p[0]);
	bundle_wipe_free(wire, n);
	bundle_release(&b);
	bundle_release(&got);
}

static void
expect_refused(const char *input, const char *what)
{
	struct bundle got = BUNDLE_INIT;
	char *error = NULL;
	int p[2];

	if (pipe(p) < 0)
		return;
	(void)file_write_all(p[1], input, strlen(input));
	close(p[1]);
	is_int(bundle_read(p[0], &got, &error), -1, what);
	ok(error != NULL && strstr(error, "hunter2") == NULL,
	    "the message does not quote the input");
	free(error);
	close(p[0]);
	bundle_release(&got);
}

static void
test_apply(void)
{
	char dir[] = "/tmp/test-bundle.XXXXXX", *path, *error = NULL;
	struct bundle b = BUNDLE_INIT;
	struct stat st;

	if (mkdtemp(dir) == NULL)
		return;
	path = malloc(strlen(dir) + 32);
	sprintf(path, "%s/deep/er/secret", dir);
	bundle_add_env(&b, "TEST_BUNDLE_VAR", "value-1");
	bundle_add_file(&b, path, "contents");
	is_int(bundle_apply(&b, &error), 0, "applied");
	is_str(getenv("TEST_BUNDLE_VAR"), "value-1", "the variable is set");
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600,
	    "the file is written 0600");
	bundle_release(&b);
	sprintf(path, "rm -rf %s", dir);
	if (system(path) != 0)
		ok(0, "clean up");
	free(path);
}

/* A relative path of the host's, found inside from the same directory:
 * the bundle carries the file at that directory's path, and its cwd. */
static void
test_cwd(void)
{
	char dir[] = "/tmp/test-bundle.XXXXXX", *path, *error = NULL, *wire;
	struct bundle b = BUNDLE_INIT, got = BUNDLE_INIT;
	char *text = NULL, *body;
	size_t n, length;

	if (mkdtemp(dir) == NULL)
		return;
	path = malloc(strlen(dir) + 64);
	sprintf(path, "%s/work/dir/../up.txt", dir);
	bundle_add_file(&b, path, "up-secret");
	sprintf(path, "%s/work/dir", dir);
	bundle_set_cwd(&b, path);
	bundle_encode(&b, &wire, &length);
	body = (char *)memchr(wire, '\n', length) + 1;
	is_int(
	    bundle_decode(&got, body, length - (size_t)(body - wire), &error),
	    0, "a bundle with a cwd: decoded");
	is_str(got.cwd, path, "the cwd read back");
	is_int(bundle_apply(&got, &error), 0, "a bundle with a cwd: applied");
	ok(file_read_all(AT_FDCWD, "../up.txt", 64, &text, &n, &error) == 0 &&
		strcmp(text, "up-secret") == 0,
	    "the relative path is found from the cwd, which was made");
	free(text);
	bundle_wipe_free(wire, length);
	bundle_release(&b);
	bundle_release(&got);
	expect_refused("JOBRUN-BUNDLE 1 13\n{\"cwd\":\"tmp\"}",
	    "a cwd that is not absolute");
	if (chdir("/") != 0)
		ok(0, "leave the directory");
	sprintf(path, "rm -rf %s", dir);
	if (system(path) != 0)
		ok(0, "clean up");
	free(path);
}

int
main(void)
{
	test_round_trip();
	expect_refused("", "nothing on standard input");
	expect_refused("hunter2\n", "not a bundle");
	expect_refused("JOBRUN-BUNDLE 1 99999999999\n", "too long");
	expect_refused(
	    "JOBRUN-BUNDLE 1 20\n{\"env\":{\"a\":\"hunter2", "cut short");
	expect_refused("JOBRUN-BUNDLE 1 9\nhunter2!!", "not JSON");
	expect_refused("JOBRUN-BUNDLE 1 26\n{\"env\":{\"A\":[\"hunter2\"]}}",
	    "not a string");
	test_apply();
	test_cwd();
	return done_testing();
}
