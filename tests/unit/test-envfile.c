/* Unit tests for envfile.c: runnerlib's KEY=VALUE job environment. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "envfile.h"
#include "tap.h"

static const char *
value(const struct nvlist *list, const char *name)
{
	const struct nvpair *pair = nvlist_get(list, name);

	return pair != NULL ? pair->value : NULL;
}

int
main(void)
{
	struct nvlist env = NVLIST_INIT;
	char *error = NULL, path[] = "/tmp/jobrun-envfile-XXXXXX";
	FILE *fp;
	int fd;

	ok(envfile_parse(&env, "A=1\n# comment\n\n  B = two words  \nC=x=y",
	       "test", &error) == 0,
	    "inline lines parse");
	is_str(value(&env, "A"), "1", "A=1");
	is_str(value(&env, "B"), "two words", "spaces around are trimmed");
	is_str(value(&env, "C"), "x=y", "the first = splits");
	is_int((long long)env.len, 3, "comments and blank lines add nothing");
	nvlist_release(&env);

	ok(envfile_parse(&env, "A=1\nnot a pair\n", "JOB_ENV", &error) < 0,
	    "a line without = is refused");
	is_str(error, "JOB_ENV: line 2: expected KEY=VALUE",
	    "the message names the line");
	free(error);
	nvlist_release(&env);

	ok(envfile_parse(&env, "1A=x", "JOB_ENV", &error) < 0,
	    "a bad name is refused");
	free(error);
	nvlist_release(&env);

	fd = mkstemp(path);
	fp = fdopen(fd, "w");
	fputs("FROM_FILE=yes\n", fp);
	fclose(fp);
	ok(envfile_load(&env, path, "--job-env", &error) == 0,
	    "a path is read as a file");
	is_str(value(&env, "FROM_FILE"), "yes", "its lines are read");
	nvlist_release(&env);
	unlink(path);
	ok(envfile_load(&env, path, "--job-env", &error) < 0,
	    "a missing file is an error");
	free(error);
	ok(envfile_load(&env, "./X=1", "--job-env", &error) < 0,
	    "text with = is read inline, not as a path");
	free(error);
	nvlist_release(&env);
	ok(envfile_load(&env, "X=./y", "--job-env", &error) == 0,
	    "a value that looks like a path stays a value");
	is_str(value(&env, "X"), "./y", "X=./y");
	nvlist_release(&env);
	return done_testing();
}
