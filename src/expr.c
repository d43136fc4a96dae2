/*
 * The condition language of "if:" (grammar in expr.h): a tokenizer, a
 * recursive-descent parser building a small tree, and an evaluator.  The
 * depth of nesting is bounded so hostile input cannot exhaust the stack.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "expr.h"
#include "suggest.h"
#include "xalloc.h"

#define EXPR_MAX_DEPTH 64
#define EXPR_MAX_LENGTH 4096

enum expr_kind {
	EXPR_OR,
	EXPR_AND,
	EXPR_NOT,
	EXPR_EQUAL,
	EXPR_NOT_EQUAL,
	EXPR_MATCH,
	EXPR_NOT_MATCH,
	EXPR_CALL,
	EXPR_STRING,
	EXPR_NAME,
	EXPR_BOOL,
};

struct expr {
	enum expr_kind kind;
	struct expr *left;
	struct expr *right;
	char *text; /* EXPR_STRING, EXPR_NAME */
	pcre2_code *regex; /* EXPR_MATCH, EXPR_NOT_MATCH */
	enum expr_function function;
	bool value; /* EXPR_BOOL */
};

struct parser {
	const char *text;
	size_t pos;
	int depth;
	char *error;
	size_t error_offset;
	const struct expr_steps *steps; /* NULL: any step name passes */
};

static struct expr *parse_or(struct parser *p);

static struct expr *
node_new(enum expr_kind kind)
{
	struct expr *e = xcalloc(1, sizeof(*e));

	e->kind = kind;
	return e;
}

static struct expr *
fail(struct parser *p, size_t offset, const char *fmt, ...)
{
	va_list ap;

	if (p->error == NULL) {
		va_start(ap, fmt);
		if (vasprintf(&p->error, fmt, ap) < 0)
			p->error = NULL;
		va_end(ap);
		if (p->error == NULL)
			p->error = xstrdup("out of memory");
		p->error_offset = offset;
	}
	return NULL;
}

static void
skip_space(struct parser *p)
{
	while (isspace((unsigned char)p->text[p->pos]))
		p->pos++;
}

/* Consumes token tok if it comes next. */
static bool
accept(struct parser *p, const char *tok)
{
	size_t n = strlen(tok);

	skip_space(p);
	if (strncmp(p->text + p->pos, tok, n) != 0)
		return false;
	p->pos += n;
	return true;
}

/* The length in bytes of the (UTF-8) character at s, for messages. */
static int
character_length(const char *s)
{
	int n = 1;

	if ((unsigned char)s[0] >= 0xc0)
		while (n < 4 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n++;
	return n;
}

/* The length of at most max bytes of s that does not split a character. */
static int
prefix_length(const char *s, int max)
{
	int n = 0, c;

	while (s[n] != '\0' && n + (c = character_length(s + n)) <= max)
		n += c;
	return n;
}

static bool
is_name_char(char c, bool first)
{
	return isalpha((unsigned char)c) || c == '_' ||
	    (!first && (isdigit((unsigned char)c) || c == '.' || c == '-'));
}

static struct expr *
parse_string(struct parser *p)
{
	char quote = p->text[p->pos];
	size_t start = p->pos, cap = 16, len = 0;
	char *out = xmalloc(cap), c;
	struct expr *e;

	p->pos++;
	for (;;) {
		c = p->text[p->pos];
		if (c == '\0') {
			free(out);
			return fail(p, start,
			    "unterminated string: expected a closing %s "
			    "quote",
			    quote == '"' ? "double" : "single");
		}
		p->pos++;
		if (c == quote) {
			if (quote == '\'' && p->text[p->pos] == '\'') {
				p->pos++;
			} else {
				break;
			}
		} else if (quote == '"' && c == '\\') {
			c = p->text[p->pos];
			if (c != '"' && c != '\\') {
				free(out);
				return fail(p, p->pos - 1,
				    "unknown escape in string: only \\\" and "
				    "\\\\ are known");
			}
			p->pos++;
		}
		xgrow(&out, &cap, len + 2, 1);
		out[len++] = c;
	}
	out[len] = '\0';
	e = node_new(EXPR_STRING);
	e->text = out;
	return e;
}

static const char *const function_names[] = { "success", "failure", "always",
	"cancelled" };
static const char *const fact_names[] = { "branch", "tag", "event", "job" };

#define N_FACTS (sizeof(fact_names) / sizeof(fact_names[0]))

/* GitHub Actions' names for the facts, and jobrun's. */
static const struct {
	const char *foreign;
	const char *name;
} foreign_facts[] = {
	{ "github.ref_name", "branch" }, { "github.head_ref", "branch" },
	{ "github.base_ref", "branch" }, { "github.ref", "branch" },
	{ "github.event_name", "event" }, { "github.job", "job" },
	{ "github.workflow", "job" },
	{ "needs.", "steps" }, /* a prefix: needs.JOB.result */
};

static struct expr *
parse_call(struct parser *p, const char *name, size_t start)
{
	struct expr *e;
	size_t i;

	for (i = 0; i < 4; i++) {
		if (strcmp(name, function_names[i]) == 0) {
			if (!accept(p, ")"))
				return fail(p, p->pos,
				    "%s() takes no arguments: expected ')'",
				    name);
			e = node_new(EXPR_CALL);
			e->function = (enum expr_function)i;
			return e;
		}
	}
	return fail(p, start,
	    "unknown function '%s': expected success(), failure(), always() "
	    "or cancelled()",
	    name);
}

/* True when reference ends with ".outcome" after at least one character. */
static bool
has_outcome(const char *reference)
{
	size_t length = strlen(reference);

	return length > 8 && strcmp(reference + length - 8, ".outcome") == 0;
}

/*
 * Checks "STEP" or "STEP.outcome" (the part after "steps.").  Step names may
 * hold dots, so both readings are tried.
 */
static bool
step_reference_known(struct parser *p, const char *reference)
{
	const struct expr_steps *steps = p->steps;
	char *step;
	bool known;

	if (steps == NULL || steps->known(steps->context, reference))
		return true;
	if (!has_outcome(reference))
		return false;
	step = xstrndup(reference, strlen(reference) - 8);
	known = steps->known(steps->context, step);
	free(step);
	return known;
}

/* Fails on a step reference no step answers, with a hint when one is near. */
static struct expr *
unknown_step(struct parser *p, const char *name, size_t start)
{
	const char *reference = name + 6, *hint = NULL;
	char *step;

	step = has_outcome(reference)
	    ? xstrndup(reference, strlen(reference) - 8)
	    : xstrdup(reference);
	if (p->steps->closest != NULL)
		hint = p->steps->closest(p->steps->context, step);
	if (hint != NULL)
		fail(p, start,
		    "unknown step '%s' in '%s' (did you mean 'steps.%s%s'?)",
		    step, name, hint, has_outcome(reference) ? ".outcome" : "");
	else
		fail(p, start,
		    "unknown step in '%s': expected steps.STEP or "
		    "steps.STEP.outcome naming a step of this job",
		    name);
	free(step);
	return NULL;
}

/*
 * Fails on a name that is not a fact, saying what was meant when it is a
 * function without its parentheses, a GitHub Actions name, or a typo.
 */
static struct expr *
unknown_name(struct parser *p, const char *name, size_t start)
{
	const char *hint;
	size_t i;

	for (i = 0; i < 4; i++)
		if (strcmp(name, function_names[i]) == 0)
			return fail(p, start,
			    "'%s' is a function: expected '%s()'", name, name);
	for (i = 0; i < sizeof(foreign_facts) / sizeof(foreign_facts[0]); i++) {
		const char *foreign = foreign_facts[i].foreign;
		size_t length = strlen(foreign);

		if (foreign[length - 1] == '.'
			? strncmp(name, foreign, length) != 0
			: strcmp(name, foreign) != 0)
			continue;
		if (strcmp(foreign_facts[i].name, "steps") == 0)
			return fail(p, start,
			    "unknown name '%s': GitHub Actions' needs.JOB is "
			    "steps.STEP here: expected steps.STEP.outcome",
			    name);
		return fail(p, start,
		    "unknown name '%s' (GitHub Actions'; did you mean "
		    "'%s'?)",
		    name, foreign_facts[i].name);
	}
	hint = suggest_closest(name, fact_names, N_FACTS);
	if (hint != NULL)
		return fail(p, start, "unknown name '%s' (did you mean '%s'?)",
		    name, hint);
	return fail(p, start,
	    "unknown name '%s': expected branch, tag, event, job, env.NAME "
	    "or steps.NAME.outcome",
	    name);
}

/* Checks that a dotted name is one the facts know. */
static struct expr *
check_name(struct parser *p, char *name, size_t start)
{
	struct expr *e;
	size_t i;

	for (i = 0; i < N_FACTS; i++)
		if (strcmp(name, fact_names[i]) == 0)
			goto ok;
	if (strncmp(name, "env.", 4) == 0 && name[4] != '\0')
		goto ok;
	if (strncmp(name, "steps.", 6) == 0 && name[6] != '\0') {
		if (!step_reference_known(p, name + 6)) {
			unknown_step(p, name, start);
			free(name);
			return NULL;
		}
		goto ok;
	}
	unknown_name(p, name, start);
	free(name);
	return NULL;
ok:
	e = node_new(EXPR_NAME);
	e->text = name;
	return e;
}

static struct expr *
parse_primary(struct parser *p)
{
	struct expr *e;
	size_t start;
	char *name;

	skip_space(p);
	start = p->pos;
	if (accept(p, "(")) {
		if (++p->depth > EXPR_MAX_DEPTH)
			return fail(p, start, "expression nested too deeply");
		e = parse_or(p);
		p->depth--;
		if (e != NULL && !accept(p, ")")) {
			expr_free(e);
			return fail(p, p->pos, "expected ')'");
		}
		return e;
	}
	if (p->text[p->pos] == '\'' || p->text[p->pos] == '"')
		return parse_string(p);
	if (!is_name_char(p->text[p->pos], true)) {
		if (p->text[p->pos] == '\0')
			return fail(p, start, "unexpected end of condition");
		return fail(p, start,
		    "unexpected '%.*s': expected a name, a quoted string, a "
		    "function such as always() or '('",
		    character_length(p->text + p->pos), p->text + p->pos);
	}
	while (is_name_char(p->text[p->pos], p->pos == start))
		p->pos++;
	name = xstrndup(p->text + start, p->pos - start);
	if (accept(p, "(")) {
		e = parse_call(p, name, start);
		free(name);
		return e;
	}
	if (strcmp(name, "true") == 0 || strcmp(name, "false") == 0) {
		e = node_new(EXPR_BOOL);
		e->value = name[0] == 't';
		free(name);
		return e;
	}
	return check_name(p, name, start);
}

static struct expr *
compile_regex(struct parser *p, struct expr *e, size_t start)
{
	PCRE2_UCHAR message[256];
	PCRE2_SIZE offset;
	int status;

	if (e->right->kind != EXPR_STRING) {
		expr_free(e);
		return fail(
		    p, start, "the right side of =~ must be a quoted pattern");
	}
	e->regex = pcre2_compile((PCRE2_SPTR)e->right->text,
	    PCRE2_ZERO_TERMINATED, PCRE2_UTF, &status, &offset, NULL);
	if (e->regex == NULL) {
		pcre2_get_error_message(status, message, sizeof(message));
		fail(p, start, "bad pattern: %s at offset %zu", (char *)message,
		    (size_t)offset);
		expr_free(e);
		return NULL;
	}
	return e;
}

static struct expr *
parse_compare(struct parser *p)
{
	static const struct {
		const char *tok;
		enum expr_kind kind;
	} ops[] = {
		{ "==", EXPR_EQUAL },
		{ "!=", EXPR_NOT_EQUAL },
		{ "=~", EXPR_MATCH },
		{ "!~", EXPR_NOT_MATCH },
	};
	struct expr *left, *e;
	size_t i, start;

	if ((left = parse_primary(p)) == NULL)
		return NULL;
	for (i = 0; i < 4; i++)
		if (accept(p, ops[i].tok))
			break;
	if (i == 4)
		return left;
	e = node_new(ops[i].kind);
	e->left = left;
	skip_space(p);
	start = p->pos;
	if ((e->right = parse_primary(p)) == NULL) {
		expr_free(e);
		return NULL;
	}
	if (e->kind == EXPR_MATCH || e->kind == EXPR_NOT_MATCH)
		return compile_regex(p, e, start);
	return e;
}

static struct expr *
parse_unary(struct parser *p)
{
	struct expr *e, *operand;

	skip_space(p);
	if (p->text[p->pos] == '!' && p->text[p->pos + 1] != '=' &&
	    p->text[p->pos + 1] != '~') {
		p->pos++;
		if (++p->depth > EXPR_MAX_DEPTH)
			return fail(p, p->pos, "expression nested too deeply");
		operand = parse_unary(p);
		p->depth--;
		if (operand == NULL)
			return NULL;
		e = node_new(EXPR_NOT);
		e->left = operand;
		return e;
	}
	return parse_compare(p);
}

static struct expr *
parse_binary(struct parser *p, const char *tok, enum expr_kind kind,
    struct expr *(*operand)(struct parser *))
{
	struct expr *left, *e;

	if ((left = operand(p)) == NULL)
		return NULL;
	while (accept(p, tok)) {
		e = node_new(kind);
		e->left = left;
		if ((e->right = operand(p)) == NULL) {
			expr_free(e);
			return NULL;
		}
		left = e;
	}
	return left;
}

static struct expr *
parse_and(struct parser *p)
{
	return parse_binary(p, "&&", EXPR_AND, parse_unary);
}

static struct expr *
parse_or(struct parser *p)
{
	return parse_binary(p, "||", EXPR_OR, parse_and);
}

/*
 * Refuses GitHub Actions' "${{ ... }}" around an expression: a condition
 * here is the expression itself.  The message shows the condition without
 * it.
 */
static bool
foreign_braces(struct parser *p)
{
	const char *open = strstr(p->text, "${{"), *close;
	size_t length = strlen(p->text), start, end;

	if (open == NULL)
		return false;
	close = strstr(open + 3, "}}");
	start = (size_t)(open - p->text) + 3;
	end = close != NULL ? (size_t)(close - p->text) : length;
	while (start < end && isspace((unsigned char)p->text[start]))
		start++;
	while (end > start && isspace((unsigned char)p->text[end - 1]))
		end--;
	length = end - start;
	if (length > 200)
		length = (size_t)prefix_length(p->text + start, 200);
	if (open == p->text && close != NULL && close[2] == '\0')
		fail(p, 0,
		    "'${{ }}' is GitHub Actions' syntax: expected the plain "
		    "expression: %.*s",
		    (int)length, p->text + start);
	else
		fail(p, (size_t)(open - p->text),
		    "'${{ }}' is GitHub Actions' syntax: expected the "
		    "expression without it");
	return true;
}

struct expr *
expr_parse(const char *text, char **error, size_t *error_offset,
    bool (*step_known)(const void *, const char *), const void *context)
{
	struct expr_steps steps = { step_known, NULL, context };

	return expr_parse_steps(
	    text, error, error_offset, step_known != NULL ? &steps : NULL);
}

struct expr *
expr_parse_steps(const char *text, char **error, size_t *error_offset,
    const struct expr_steps *steps)
{
	struct parser p = { text, 0, 0, NULL, 0, steps };
	struct expr *e;

	*error = NULL;
	*error_offset = 0;
	if (strlen(text) > EXPR_MAX_LENGTH) {
		*error = xasprintf("condition too long: at most %d characters",
		    EXPR_MAX_LENGTH);
		return NULL;
	}
	if (foreign_braces(&p)) {
		*error = p.error;
		*error_offset = p.error_offset;
		return NULL;
	}
	e = parse_or(&p);
	if (e != NULL) {
		skip_space(&p);
		if (p.text[p.pos] == '=') {
			expr_free(e);
			e = fail(&p, p.pos,
			    "unexpected '=': expected '==' or '=~' to compare");
		} else if (p.text[p.pos] != '\0') {
			expr_free(e);
			e = fail(&p, p.pos,
			    "unexpected '%.*s': expected '&&', '||', a "
			    "comparison or the end of the condition",
			    prefix_length(p.text + p.pos, 20), p.text + p.pos);
		}
	}
	if (e == NULL) {
		*error = p.error;
		*error_offset = p.error_offset;
	}
	return e;
}

bool
expr_uses_status(const struct expr *e)
{
	if (e == NULL)
		return false;
	if (e->kind == EXPR_CALL)
		return true;
	return expr_uses_status(e->left) || expr_uses_status(e->right);
}

bool
expr_calls(const struct expr *e, enum expr_function function)
{
	if (e == NULL)
		return false;
	if (e->kind == EXPR_CALL)
		return e->function == function;
	return expr_calls(e->left, function) || expr_calls(e->right, function);
}

/* The string value of a leaf; booleans read as "true" and "false". */
static const char *
value_of(const struct expr *e, const struct expr_facts *facts)
{
	const char *value;

	switch (e->kind) {
	case EXPR_STRING:
		return e->text;
	case EXPR_NAME:
		value = facts->lookup(facts->context, e->text);
		return value != NULL ? value : "";
	default:
		return expr_eval(e, facts) ? "true" : "false";
	}
}

static bool
regex_matches(const struct expr *e, const char *subject)
{
	pcre2_match_data *match;
	int rc;

	match = pcre2_match_data_create_from_pattern(e->regex, NULL);
	if (match == NULL)
		return false;
	rc = pcre2_match(e->regex, (PCRE2_SPTR)subject, PCRE2_ZERO_TERMINATED,
	    0, 0, match, NULL);
	pcre2_match_data_free(match);
	return rc >= 0;
}

bool
expr_eval(const struct expr *e, const struct expr_facts *facts)
{
	switch (e->kind) {
	case EXPR_OR:
		return expr_eval(e->left, facts) || expr_eval(e->right, facts);
	case EXPR_AND:
		return expr_eval(e->left, facts) && expr_eval(e->right, facts);
	case EXPR_NOT:
		return !expr_eval(e->left, facts);
	case EXPR_EQUAL:
		return strcmp(value_of(e->left, facts),
			   value_of(e->right, facts)) == 0;
	case EXPR_NOT_EQUAL:
		return strcmp(value_of(e->left, facts),
			   value_of(e->right, facts)) != 0;
	case EXPR_MATCH:
		return regex_matches(e, value_of(e->left, facts));
	case EXPR_NOT_MATCH:
		return !regex_matches(e, value_of(e->left, facts));
	case EXPR_CALL:
		return facts->function(facts->context, e->function);
	case EXPR_STRING:
	case EXPR_NAME:
		return value_of(e, facts)[0] != '\0';
	case EXPR_BOOL:
		return e->value;
	}
	return false;
}

void
expr_free(struct expr *e)
{
	if (e == NULL)
		return;
	expr_free(e->left);
	expr_free(e->right);
	free(e->text);
	if (e->regex != NULL)
		pcre2_code_free(e->regex);
	free(e);
}
