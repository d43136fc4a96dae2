/* Unit tests for expr.c: parsing, errors with offsets, and evaluation. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "tap.h"

struct facts {
	bool success, failure, cancelled;
};

static const char *
lookup(void *context, const char *name)
{
	if (strcmp(name, "branch") == 0)
		return "release/1.2";
	if (strcmp(name, "event") == 0)
		return "push";
	if (strcmp(name, "env.CC") == 0)
		return "gcc";
	if (strcmp(name, "steps.build.outcome") == 0 ||
	    strcmp(name, "steps.build") == 0)
		return "failed";
	return NULL;
}

static bool
function(void *context, enum expr_function f)
{
	struct facts *facts = context;

	switch (f) {
	case EXPR_SUCCESS:
		return facts->success;
	case EXPR_FAILURE:
		return facts->failure;
	case EXPR_ALWAYS:
		return true;
	case EXPR_CANCELLED:
		return facts->cancelled;
	}
	return false;
}

static bool
known(const void *context, const char *name)
{
	return strcmp(name, "build") == 0 || strcmp(name, "v1.2") == 0;
}

static void
evaluates(const char *text, bool expected)
{
	struct facts state = { true, false, false };
	struct expr_facts facts = { lookup, function, &state };
	struct expr *e;
	char *error, what[256];
	size_t offset;

	snprintf(
	    what, sizeof(what), "%s is %s", text, expected ? "true" : "false");
	e = expr_parse(text, &error, &offset, known, NULL);
	if (e == NULL) {
		ok(false, what);
		printf("#   error at %zu: %s\n", offset, error);
		free(error);
		return;
	}
	ok(expr_eval(e, &facts) == expected, what);
	expr_free(e);
}

static void
fails(const char *text, size_t expected_offset, const char *expected)
{
	char *error = NULL, what[256];
	struct expr *e;
	size_t offset = 99;

	snprintf(what, sizeof(what), "'%s' is refused", text);
	e = expr_parse(text, &error, &offset, known, NULL);
	ok(e == NULL, what);
	expr_free(e);
	snprintf(what, sizeof(what), "'%s': %s", text, expected);
	is_str(error, expected, what);
	is_int((long long)offset, (long long)expected_offset,
	    "the error offset points at the problem");
	free(error);
}

int
main(void)
{
	struct expr *e;
	char *error;
	size_t offset;

	evaluates("always()", true);
	evaluates("success()", true);
	evaluates("failure()", false);
	evaluates("!failure()", true);
	evaluates("branch == 'release/1.2'", true);
	evaluates("branch != 'main'", true);
	evaluates("branch =~ '^release/'", true);
	evaluates("branch !~ '^release/'", false);
	evaluates("event == \"push\" && env.CC == 'gcc'", true);
	evaluates("event == 'tag' || env.CC == 'clang'", false);
	evaluates("(event == 'tag' || true) && !cancelled()", true);
	evaluates("steps.build.outcome == 'failed'", true);
	evaluates("steps.build == 'failed'", true);
	evaluates("env.UNSET", false);
	evaluates("env.CC", true);
	evaluates("'it''s' == \"it's\"", true);
	evaluates("!!true", true);

	fails("brnch == 'main'", 0,
	    "unknown name 'brnch' (did you mean 'branch'?)");
	fails("sucess()", 0,
	    "unknown function 'sucess': expected success(), failure(), "
	    "always() or cancelled()");
	fails("branch == 'main", 10,
	    "unterminated string: expected a closing single quote");
	fails("branch =~ '('", 10,
	    "bad pattern: missing closing parenthesis at offset 1");
	fails("branch =~ env.CC", 10,
	    "the right side of =~ must be a quoted pattern");
	fails("steps.nosuch.outcome == 'x'", 0,
	    "unknown step in 'steps.nosuch.outcome': expected steps.STEP or "
	    "steps.STEP.outcome naming a step of this job");
	fails("failure", 0, "'failure' is a function: expected 'failure()'");
	fails("branch == 'main' && cancelled", 20,
	    "'cancelled' is a function: expected 'cancelled()'");
	fails("${{ failure() }}", 0,
	    "'${{ }}' is GitHub Actions' syntax: expected the plain "
	    "expression: failure()");
	fails("success() && ${{ env.CC }}", 13,
	    "'${{ }}' is GitHub Actions' syntax: expected the expression "
	    "without it");
	fails("github.ref_name == 'main'", 0,
	    "unknown name 'github.ref_name' (GitHub Actions'; did you mean "
	    "'branch'?)");
	fails("github.event_name == 'push'", 0,
	    "unknown name 'github.event_name' (GitHub Actions'; did you mean "
	    "'event'?)");
	fails("needs.build.result == 'success'", 0,
	    "unknown name 'needs.build.result': GitHub Actions' needs.JOB is "
	    "steps.STEP here: expected steps.STEP.outcome");
	fails("githubx == 'a'", 0,
	    "unknown name 'githubx': expected branch, tag, event, job, "
	    "env.NAME or steps.NAME.outcome");
	evaluates("tag == ''", true);
	fails("always() always()", 9,
	    "unexpected 'always()': expected '&&', '||', a comparison or the "
	    "end of the condition");
	fails("(always()", 9, "expected ')'");
	fails("", 0, "unexpected end of condition");
	fails("success(1)", 8, "success() takes no arguments: expected ')'");

	e = expr_parse(
	    "steps.v1.2.outcome == 'success'", &error, &offset, known, NULL);
	ok(e != NULL, "step names with dots are found");
	expr_free(e);

	e = expr_parse("branch == 'x'", &error, &offset, NULL, NULL);
	ok(e != NULL && !expr_uses_status(e), "no status function");
	expr_free(e);
	e = expr_parse(
	    "branch == 'x' || failure()", &error, &offset, NULL, NULL);
	ok(e != NULL && expr_uses_status(e), "a status function is seen");
	expr_free(e);

	{
		char deep[400];

		memset(deep, '(', 200);
		deep[200] = '\0';
		e = expr_parse(deep, &error, &offset, NULL, NULL);
		ok(e == NULL && strstr(error, "nested too deeply") != NULL,
		    "deep nesting is refused, not a stack overflow");
		free(error);
	}
	{
		char *huge = malloc(10000);

		memset(huge, '!', 9999);
		huge[9999] = '\0';
		e = expr_parse(huge, &error, &offset, NULL, NULL);
		ok(e == NULL, "a very long condition is refused");
		free(error);
		free(huge);
	}
	return done_testing();
}
