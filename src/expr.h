/*
 * Condition expressions, as written in a step's or a trigger's "if:".
 *
 *   expr    := or
 *   or      := and { "||" and }
 *   and     := unary { "&&" unary }
 *   unary   := "!" unary | compare
 *   compare := primary [ ("==" | "!=" | "=~" | "!~") primary ]
 *   primary := "(" expr ")" | func "()" | string | "true" | "false" | name
 *   func    := success | failure | always | cancelled
 *   name    := branch | tag | event | job | env.NAME | steps.STEP[.outcome]
 *   string  := '...' ('' for a quote) | "..." (\" and \\ escapes)
 *
 * The right side of =~ and !~ is a string literal holding a PCRE2 pattern;
 * it is compiled when the expression is parsed, so a bad pattern is a
 * validation error, not a run-time surprise.  A name or string used where a
 * truth value is wanted is true when it is not empty.
 */
#ifndef JOBRUN_EXPR_H
#define JOBRUN_EXPR_H

#include <stdbool.h>
#include <stddef.h>

enum expr_function {
	EXPR_SUCCESS,
	EXPR_FAILURE,
	EXPR_ALWAYS,
	EXPR_CANCELLED,
};

/* What an expression may ask about while it is evaluated. */
struct expr_facts {
	/* Returns the value of a name ("branch", "env.CC",
	 * "steps.build.outcome"); NULL reads as "". */
	const char *(*lookup)(void *context, const char *name);
	/* Returns the value of success(), failure(), ... */
	bool (*function)(void *context, enum expr_function function);
	void *context;
};

struct expr;

/*
 * Parses text.  Returns the expression, or NULL with a message in *error
 * (owned by the caller) and the offset in text where it went wrong in
 * *error_offset.  step_known (may be NULL) is asked whether a step named in
 * steps.NAME exists; when it returns false the message says so.
 */
struct expr *expr_parse(const char *text, char **error, size_t *error_offset,
    bool (*step_known)(const void *context, const char *name),
    const void *context);

/* The steps a condition may name, for expr_parse_steps(). */
struct expr_steps {
	/* True when a step of that name exists. */
	bool (*known)(const void *context, const char *name);
	/* Returns the step name closest to name, for a "did you mean"
	 * (borrowed), or NULL; the member may be NULL. */
	const char *(*closest)(const void *context, const char *name);
	const void *context;
};

/*
 * As expr_parse(), with steps (may be NULL: any name passes) to check the
 * step names in steps.NAME and suggest one for a misspelt name.  Words of
 * GitHub Actions get a hint: "${{ ... }}" around the expression, a function
 * without its parentheses ("failure"), github.ref_name and the like.
 */
struct expr *expr_parse_steps(const char *text, char **error,
    size_t *error_offset, const struct expr_steps *steps);

/*
 * True when expr calls success(), failure(), always() or cancelled()
 * anywhere.  A condition without one is read as "success() && (expr)", so a
 * step whose dependency failed is skipped unless its condition says
 * otherwise.
 */
bool expr_uses_status(const struct expr *expr);

/* True when expr calls function anywhere. */
bool expr_calls(const struct expr *expr, enum expr_function function);

/* Evaluates expr against facts. */
bool expr_eval(const struct expr *expr, const struct expr_facts *facts);

/* Frees expr; NULL is a no-op. */
void expr_free(struct expr *expr);

#endif
