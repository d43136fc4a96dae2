/*
 * Unit tests for where secrets come from (secrets.h): the variables of a
 * step's final environment that match secrets.env_globs, and the values of
 * a dotenv secrets file as a shell sourcing it would see them.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "list.h"
#include "mask.h"
#include "secrets.h"
#include "tap.h"

static void
masks(struct mask_set *set, const char *in, const char *expected,
    const char *what)
{
	char *got = mask_string(set, in, strlen(in), NULL);

	is_str(got, expected, what);
	free(got);
}

static void
test_env_globs(void)
{
	struct mask_set *set = mask_set_new(NULL, 4);
	struct strlist globs = { 0 };
	struct srcpos pos = { 0 };
	/* Writable, as a real environment is. */
	char e0[] = "PATH=/usr/bin:/bin",
	     e1[] = "DEPLOY_TOKEN=from-job-env-1234",
	     e2[] = "API_TOKEN=from-env-set-5678", e3[] = "SHORT_TOKEN=ab",
	     e4[] = "EMPTY_TOKEN=", e5[] = "NOT_A_SECRET=plain-value-9999",
	     e6[] = "DB_PASSWORD=out put-of-a-step";
	char *env[] = { e0, e1, e2, e3, e4, e5, e6, NULL };
	char *error = NULL;

	strlist_push(&globs, "*_TOKEN", pos);
	strlist_push(&globs, "DB_PASS*", pos);
	ok(secrets_add_env_globs(set, &globs, env, false, &error) == 0 &&
		error == NULL,
	    "registering a step's environment succeeds");
	masks(set, "a=from-job-env-1234 b=from-env-set-5678\n", "a=*** b=***\n",
	    "every variable matching a glob is masked");
	masks(set, "c=out put-of-a-step\n", "c=***\n", "whatever its layer");
	masks(set, "plain-value-9999 /usr/bin:/bin ab\n",
	    "plain-value-9999 /usr/bin:/bin ab\n",
	    "others, and values too short, are not");
	ok(mask_set_secrets(set) == 3, "three secrets registered");
	ok(secrets_add_env_globs(set, &globs, env, false, &error) == 0 &&
		mask_set_secrets(set) == 3,
	    "registering again at the next step adds nothing");
	ok(secrets_add_env_globs(set, NULL, env, false, &error) == 0,
	    "no globs: nothing to do");
	strlist_release(&globs);
	mask_set_free(set);
}

struct values {
	char list[16][64];
	size_t count;
};

static int
collect(void *context, const char *value, size_t length)
{
	struct values *v = context;

	if (v->count < 16 && length < 64) {
		memcpy(v->list[v->count], value, length);
		v->list[v->count][length] = '\0';
	}
	v->count++;
	return 0;
}

static void
test_dotenv(void)
{
	static const char text[] =
	    "# secrets\n"
	    "\n"
	    "PLAIN=plain-value\n"
	    "export EXPORTED=exported-value\n"
	    "DOUBLE=\"Tr0ub's \\\"x\\\" \\$HOME\\\\ a\\nb\" # trailing\n"
	    "SINGLE='single \"quoted\" \\n $x'\n"
	    "COMMENTED=value-before # a comment\n"
	    "  SPACED = not an assignment\n"
	    "MULTI=\"line one\n"
	    "line two\"\n"
	    "EMPTY=\n"
	    "CRLF=crlf-value\r\n"
	    "1BAD=bad name\n";
	struct values v = { 0 };

	ok(secrets_parse_dotenv(text, strlen(text), collect, &v) == 0,
	    "a dotenv file parses");
	ok(v.count == 8, "eight values (DOUBLE read two ways)");
	is_str(v.list[0], "plain-value", "KEY=VALUE");
	is_str(v.list[1], "exported-value", "export KEY=VALUE");
	is_str(v.list[2], "Tr0ub's \"x\" $HOME\\ a\\nb",
	    "KEY=\"VALUE\": what sh sees, never the quotes");
	is_str(v.list[3], "Tr0ub's \"x\" $HOME\\ a\nb",
	    "and what dotenv loaders see (\\n a newline)");
	is_str(v.list[4], "single \"quoted\" \\n $x",
	    "KEY='VALUE': literal, never the quotes");
	is_str(v.list[5], "value-before", "a comment after a bare value");
	is_str(v.list[6], "line one\nline two", "a quoted value over lines");
	is_str(v.list[7], "crlf-value", "a CRLF line");
}

int
main(void)
{
	test_env_globs();
	test_dotenv();
	return done_testing();
}
