/*
 * Secrets files read by dotenv rules, as sh reads them
 * (secrets_parse_dotenv(), secrets.h).
 *
 * The file is read as sh reads it, command by command: a command that
 * starts with NAME=VALUE words, or with a declaration word (export,
 * readonly, declare, typeset) and then such words, is a line of
 * assignments; each value is one shell word (sh's token rules: quotes,
 * backslashes, $'...'), read without expanding anything.  Any other
 * command is skipped to the end of its line, quotes or not, so that a
 * stray quote in a file that is one raw secret cannot hide the lines
 * after it.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "list.h"
#include "secrets.h"
#include "xalloc.h"

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool
is_name_char(char c, bool first)
{
	return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (!first && c >= '0' && c <= '9');
}

/* A growing value, wiped when released. */
struct value {
	char *bytes;
	size_t used;
	size_t size;
};

static void
value_put(struct value *v, char c)
{
	char *grown;

	if (v->used + 1 >= v->size) {
		v->size = v->size ? v->size * 2 : 64;
		grown = xmalloc(v->size);
		if (v->used > 0)
			memcpy(grown, v->bytes, v->used);
		if (v->bytes != NULL)
			wipe(v->bytes, v->used);
		free(v->bytes);
		v->bytes = grown;
	}
	v->bytes[v->used++] = c;
}

static bool
value_is(const struct value *v, const char *bytes, size_t length)
{
	return v->used == length &&
	    (length == 0 || memcmp(v->bytes, bytes, length) == 0);
}

static void
value_release(struct value *v)
{
	if (v->bytes != NULL)
		wipe(v->bytes, v->size);
	free(v->bytes);
	memset(v, 0, sizeof(*v));
}

/*
 * A parse in progress: the text left from p, the line p is on, and the
 * two readings of the value being read: what sh sees (shell) and what
 * dotenv loaders see (loader; they differ only on \n, \r and \t in double
 * quotes).  A reader that fails returns -1 with why set and the start of
 * the word it was reading in word and word_line.  rc is the first
 * non-zero return of add.
 */
struct dotenv {
	const char *p;
	const char *end;
	size_t line;
	struct value shell;
	struct value loader;
	const char *word;
	size_t word_line;
	const char *why;
	bool line_start;
	int rc;
	int (*add)(void *context, const char *value, size_t length);
	void *context;
	size_t assignments; /* NAME=VALUE words read */
	size_t others; /* commands that are not assignments, or unreadable */
};

/* Whether the byte ahead bytes past p is c. */
static bool
dotenv_at(const struct dotenv *d, size_t ahead, char c)
{
	return (size_t)(d->end - d->p) > ahead && d->p[ahead] == c;
}

/* Whether a line ends ahead bytes past p ("\n", or "\r\n" unquoted). */
static bool
dotenv_newline_at(const struct dotenv *d, size_t ahead)
{
	return dotenv_at(d, ahead, '\n') ||
	    (dotenv_at(d, ahead, '\r') && dotenv_at(d, ahead + 1, '\n'));
}

static char
dotenv_take(struct dotenv *d)
{
	char c = *d->p++;

	if (c == '\n')
		d->line++;
	return c;
}

/* Skips a line break at p, "\n" or "\r\n". */
static void
dotenv_take_newline(struct dotenv *d)
{
	if (*d->p == '\r')
		d->p++;
	dotenv_take(d);
}

static void
dotenv_put(struct dotenv *d, char c)
{
	value_put(&d->shell, c);
	value_put(&d->loader, c);
}

static int
dotenv_fail(struct dotenv *d, const char *why)
{
	d->why = why;
	return -1;
}

/* Skips to the start of the next line. */
static void
dotenv_skip_line(struct dotenv *d)
{
	const char *eol = memchr(d->p, '\n', (size_t)(d->end - d->p));

	d->p = eol != NULL ? eol + 1 : d->end;
	if (eol != NULL)
		d->line++;
	d->line_start = true;
}

/* Skips blanks and escaped line breaks (a command goes on). */
static void
dotenv_skip_blanks(struct dotenv *d)
{
	for (;;) {
		if (d->p < d->end && is_blank(*d->p))
			d->p++;
		else if (dotenv_at(d, 0, '\\') && dotenv_newline_at(d, 1)) {
			d->p++;
			dotenv_take_newline(d);
		} else
			return;
	}
}

/* Whether c is one of the bytes of set (never NUL). */
static bool
is_one_of(char c, const char *set)
{
	return c != '\0' && strchr(set, c) != NULL;
}

/*
 * Whether an unquoted word ends ahead bytes past p: at a blank, an
 * operator, a line end or the end of the text.
 */
static bool
dotenv_word_ends_at(const struct dotenv *d, size_t ahead)
{
	return (size_t)(d->end - d->p) <= ahead || is_blank(d->p[ahead]) ||
	    is_one_of(d->p[ahead], ";&|<>()") || dotenv_newline_at(d, ahead);
}

static bool
dotenv_word_ends(const struct dotenv *d)
{
	return dotenv_word_ends_at(d, 0);
}

/* 'single-quoted', after the quote: every byte up to the next ' as is. */
static int
dotenv_single(struct dotenv *d)
{
	char c;

	while (d->p < d->end)
		if ((c = dotenv_take(d)) == '\'')
			return 0;
		else
			dotenv_put(d, c);
	return dotenv_fail(d, "a ' is not closed");
}

/*
 * $(...), ${...} or `...`, after its opening (open: ( { or `): copied as
 * written (nothing is expanded) up to the close that matches, skipping
 * quoted and escaped bytes.
 */
static int
dotenv_expansion(struct dotenv *d, char open)
{
	char close = open == '(' ? ')' : open == '{' ? '}' : '`';
	char c, quote = 0;
	size_t depth = 1;

	while (d->p < d->end) {
		dotenv_put(d, c = dotenv_take(d));
		if (c == '\\' && quote != '\'' && d->p < d->end)
			dotenv_put(d, dotenv_take(d));
		else if (quote != 0)
			quote = c == quote ? 0 : quote;
		else if (c == '\'' || c == '"')
			quote = c;
		else if (c == close && --depth == 0)
			return 0;
		else if (c == open && open != '`')
			depth++;
	}
	return dotenv_fail(d,
	    open == '('       ? "a $( is not closed"
		: open == '{' ? "a ${ is not closed"
			      : "a ` is not closed");
}

/*
 * After a $ or a ` already put: the rest of a $(...), ${...} or `...`,
 * as written.  A $ before anything else is only a $.
 */
static int
dotenv_substitution(struct dotenv *d, char c)
{
	if (c == '$') {
		if (!dotenv_at(d, 0, '(') && !dotenv_at(d, 0, '{'))
			return 0;
		dotenv_put(d, c = dotenv_take(d));
	}
	return dotenv_expansion(d, c);
}

/* What a dotenv loader makes of "\c" inside double quotes. */
static int
dotenv_escape(char c)
{
	switch (c) {
	case 'n':
		return '\n';
	case 'r':
		return '\r';
	case 't':
		return '\t';
	case '"':
	case '\\':
	case '$':
	case '`':
		return c;
	}
	return -1;
}

/*
 * "\c" in double quotes, after the backslash: sh drops the backslash only
 * before $ ` " \ and a line break; dotenv loaders also read \n, \r and \t
 * as control characters.
 */
static void
dotenv_double_escape(struct dotenv *d)
{
	char c = dotenv_take(d);
	int loader = dotenv_escape(c);

	if (c == '\n')
		return;
	if (loader == '\n' || loader == '\r' || loader == '\t' || loader < 0)
		value_put(&d->shell, '\\');
	value_put(&d->shell, c);
	if (loader < 0)
		value_put(&d->loader, '\\');
	value_put(&d->loader, (char)(loader < 0 ? c : loader));
}

/* "double-quoted", after the quote, up to the unescaped closing one. */
static int
dotenv_double(struct dotenv *d)
{
	char c;

	while (d->p < d->end) {
		c = dotenv_take(d);
		if (c == '"')
			return 0;
		if (c == '\\' && d->p < d->end) {
			dotenv_double_escape(d);
			continue;
		}
		dotenv_put(d, c);
		if ((c == '$' || c == '`') && dotenv_substitution(d, c) < 0)
			return -1;
	}
	return dotenv_fail(d, "a \" is not closed");
}

static int
digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Up to max digits in base at p; *count says how many there were. */
static unsigned long
dotenv_digits(struct dotenv *d, int base, int max, int *count)
{
	unsigned long n = 0;
	int digit;

	for (*count = 0; *count < max && d->p < d->end; (*count)++) {
		digit = digit_value(*d->p);
		if (digit < 0 || digit >= base)
			break;
		n = n * (unsigned long)base + (unsigned long)digit;
		d->p++;
	}
	return n;
}

/*
 * Code point c in UTF-8 into out (6 bytes at most: bash also encodes what
 * is past U+10FFFF that way); returns the length, 0 for what bash drops.
 */
static size_t
utf8_encode(unsigned long c, char *out)
{
	static const unsigned char lead[] = { 0, 0, 0xc0, 0xe0, 0xf0, 0xf8,
		0xfc };
	size_t length, i;

	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	length = c < 0x800     ? 2
	    : c < 0x10000      ? 3
	    : c < 0x200000     ? 4
	    : c < 0x4000000    ? 5
	    : c < 0x80000000UL ? 6
			       : 0;
	for (i = length; i > 1; i--) {
		out[i - 1] = (char)(0x80 | (c & 0x3f));
		c >>= 6;
	}
	if (length > 0)
		out[0] = (char)(lead[length] | c);
	return length;
}

/*
 * "\c" in $'...', after the backslash, decoded as bash decodes it into
 * out (8 bytes); returns the length.  An escape bash does not know stays
 * as written, backslash and all.
 */
static size_t
dotenv_ansi_escape(struct dotenv *d, char *out)
{
	static const char simple[][2] = { { 'a', '\a' }, { 'b', '\b' },
		{ 'e', 033 }, { 'E', 033 }, { 'f', '\f' }, { 'n', '\n' },
		{ 'r', '\r' }, { 't', '\t' }, { 'v', '\v' }, { '\\', '\\' },
		{ '\'', '\'' }, { '"', '"' }, { '?', '?' } };
	char c = *d->p;
	unsigned long n;
	size_t i;
	int count;

	for (i = 0; i < sizeof(simple) / sizeof(simple[0]); i++)
		if (simple[i][0] == c) {
			d->p++;
			out[0] = simple[i][1];
			return 1;
		}
	if (c >= '0' && c <= '7') {
		out[0] = (char)(dotenv_digits(d, 8, 3, &count) & 0xff);
		return 1;
	}
	dotenv_take(d);
	if (c == 'x' || c == 'u' || c == 'U') {
		n = dotenv_digits(d, 16,
		    c == 'x'       ? 2
			: c == 'u' ? 4
				   : 8,
		    &count);
		if (count > 0 && c == 'x')
			out[0] = (char)n;
		if (count > 0)
			return c == 'x' ? 1 : utf8_encode(n, out);
	} else if (c == 'c' && d->p < d->end && *d->p != '\'') {
		/* Control-c; \c\\ is control-backslash. */
		c = dotenv_take(d);
		if (c == '\\' && dotenv_at(d, 0, '\\'))
			d->p++;
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		out[0] = c == '?' ? 0x7f : (char)(c & 0x1f);
		return 1;
	}
	out[0] = '\\';
	out[1] = c;
	return 2;
}

/*
 * $'...', after the quote: ANSI-C escapes decoded as bash decodes them.
 * bash ends the string at a NUL: what follows one, up to the quote, is
 * dropped.
 */
static int
dotenv_ansi(struct dotenv *d)
{
	char bytes[8];
	size_t length, i;
	bool cut = false;
	int rc = -1;

	while (d->p < d->end) {
		bytes[0] = dotenv_take(d);
		if (bytes[0] == '\'') {
			rc = 0;
			break;
		}
		length = bytes[0] == '\\' && d->p < d->end
		    ? dotenv_ansi_escape(d, bytes)
		    : 1;
		for (i = 0; i < length && !cut; i++)
			if (!(cut = bytes[i] == '\0'))
				dotenv_put(d, bytes[i]);
	}
	wipe(bytes, sizeof(bytes));
	return rc == 0 ? 0 : dotenv_fail(d, "a $' is not closed");
}

/*
 * An unquoted backslash, after it: the next byte as is; before a line
 * break, nothing (the line goes on); at the end of the text, itself.
 */
static void
dotenv_backslash(struct dotenv *d)
{
	if (d->p >= d->end)
		dotenv_put(d, '\\');
	else if (dotenv_newline_at(d, 0))
		dotenv_take_newline(d);
	else
		dotenv_put(d, dotenv_take(d));
}

/* An unquoted $, after it: $'...' and $"..." are quotes. */
static int
dotenv_dollar(struct dotenv *d)
{
	if (dotenv_at(d, 0, '\'') || dotenv_at(d, 0, '"'))
		return dotenv_take(d) == '\'' ? dotenv_ansi(d)
					      : dotenv_double(d);
	dotenv_put(d, '$');
	return dotenv_substitution(d, '$');
}

/*
 * One word at p, up to an unquoted blank, operator or line end, into the
 * values: quotes removed, escapes decoded, nothing expanded.
 */
static int
dotenv_word(struct dotenv *d)
{
	char c;
	int rc = 0;

	while (rc == 0 && !dotenv_word_ends(d)) {
		c = dotenv_take(d);
		if (c == '\'')
			rc = dotenv_single(d);
		else if (c == '"')
			rc = dotenv_double(d);
		else if (c == '$')
			rc = dotenv_dollar(d);
		else if (c == '\\')
			dotenv_backslash(d);
		else {
			dotenv_put(d, c);
			if (c == '`')
				rc = dotenv_substitution(d, c);
		}
	}
	return rc;
}

/*
 * What dotenv loaders read for the value at *start: for one that starts
 * unquoted, the rest of the line up to a " #" comment, without blanks
 * around (KEY=a b is "a b" to them).  Moves *start to it and returns its
 * length, 0 for a quoted value.
 */
static size_t
dotenv_bare(const char **start, const char *end)
{
	const char *p = *start, *stop = *start;

	while (stop < end && *stop != '\n' &&
	    !(*stop == '#' && stop > *start && is_blank(stop[-1])))
		stop++;
	while (p < stop && is_blank(*p))
		p++;
	while (stop > p && (is_blank(stop[-1]) || stop[-1] == '\r'))
		stop--;
	if (p < stop &&
	    (*p == '\'' || *p == '"' ||
		(*p == '$' && p + 1 < stop && (p[1] == '\'' || p[1] == '"'))))
		return 0;
	*start = p;
	return (size_t)(stop - p);
}

/* Passes each distinct reading of the value to add, then empties them. */
static void
dotenv_emit(struct dotenv *d, const char *bare, size_t bare_length)
{
	struct value *shell = &d->shell, *loader = &d->loader;

	if (shell->used > 0)
		d->rc = d->add(d->context, shell->bytes, shell->used);
	if (d->rc == 0 && loader->used > 0 &&
	    !value_is(loader, shell->bytes, shell->used))
		d->rc = d->add(d->context, loader->bytes, loader->used);
	if (d->rc == 0 && bare_length > 0 &&
	    !value_is(shell, bare, bare_length) &&
	    !value_is(loader, bare, bare_length))
		d->rc = d->add(d->context, bare, bare_length);
	shell->used = loader->used = 0;
}

/*
 * The value of NAME=VALUE at p, after the '=', passed to add; with how
 * dotenv loaders read it when first_on_line (they read one assignment a
 * line).
 */
static int
dotenv_value(struct dotenv *d, bool first_on_line)
{
	const char *bare = d->p;
	size_t bare_length = first_on_line ? dotenv_bare(&bare, d->end) : 0;

	if (dotenv_word(d) < 0)
		return -1;
	if (d->p < d->end && (*d->p == '(' || *d->p == ')'))
		return dotenv_fail(
		    d, "a ( or ) is not quoted (arrays are not read)");
	dotenv_emit(d, bare, bare_length);
	return 0;
}

/* The length of "NAME=" or "NAME+=" at p, or 0 when none starts there. */
static size_t
dotenv_name(const struct dotenv *d)
{
	size_t n = 0;

	while (d->p + n < d->end && is_name_char(d->p[n], n == 0))
		n++;
	if (n == 0)
		return 0;
	if (dotenv_at(d, n, '+'))
		n++;
	return dotenv_at(d, n, '=') ? n + 1 : 0;
}

/* The length of the one of words (count of them) that is the word at p,
 * or 0. */
static size_t
dotenv_one_of(const struct dotenv *d, const char *const *words, size_t count)
{
	size_t i, length;

	for (i = 0; i < count; i++) {
		length = strlen(words[i]);
		if ((size_t)(d->end - d->p) >= length &&
		    memcmp(d->p, words[i], length) == 0 &&
		    dotenv_word_ends_at(d, length))
			return length;
	}
	return 0;
}

/* The length of a declaration word at p (export NAME=VALUE ...), or 0. */
static size_t
dotenv_declaration(const struct dotenv *d)
{
	static const char *const words[] = { "export", "readonly", "declare",
		"typeset" };

	return dotenv_one_of(d, words, sizeof(words) / sizeof(words[0]));
}

/* The length of a reserved word that may begin a command at p, or 0. */
static size_t
dotenv_reserved(const struct dotenv *d)
{
	static const char *const words[] = { "if", "then", "else", "elif", "do",
		"while", "until", "{", "!" };

	return dotenv_one_of(d, words, sizeof(words) / sizeof(words[0]));
}

/*
 * Skips a command that is not an assignment (true in "true && A=1", the
 * "for x in y" of a loop) up to the ; & | that ends it, outside quotes,
 * on its line; a quote not closed on the line skips the line.
 */
static void
dotenv_skip_command(struct dotenv *d)
{
	const char *p = d->p;
	char quote = 0;

	for (; p < d->end && *p != '\n'; p++) {
		if (quote != 0) {
			if (*p == quote)
				quote = 0;
			else if (*p == '\\' && quote == '"' && p + 1 < d->end &&
			    p[1] != '\n')
				p++;
		} else if (*p == '\'' || *p == '"') {
			quote = *p;
		} else if (*p == '\\' && p + 1 < d->end && p[1] != '\n') {
			p++;
		} else if (is_one_of(*p, ";&|")) {
			d->p = p;
			return;
		}
	}
	dotenv_skip_line(d);
}

/*
 * One command at p, through its end (a line break, or ; & |): the values
 * of its assignments go to add, alone or after a declaration word or a
 * reserved word that may begin a command (if, then, do, {, ...).  A
 * command that is not assignments, or what follows them (A=1 make), is
 * skipped to its end on the line (dotenv_skip_command()).  Returns -1,
 * with the word that failed in d->word, when a word cannot be read.
 */
static int
dotenv_command(struct dotenv *d)
{
	bool first = true, declaring = false, first_on_line = d->line_start;
	bool next_first;
	size_t length;

	for (; d->rc == 0; first = next_first) {
		next_first = false;
		dotenv_skip_blanks(d);
		d->word = d->p;
		d->word_line = d->line;
		if (d->p >= d->end)
			return 0;
		if (dotenv_newline_at(d, 0)) {
			dotenv_take_newline(d);
			d->line_start = true;
			return 0;
		}
		if (is_one_of(*d->p, ";&|")) {
			while (d->p < d->end && is_one_of(*d->p, ";&|"))
				d->p++;
			d->line_start = false;
			return 0;
		}
		if (*d->p == '#') {
			dotenv_skip_line(d);
			return 0;
		}
		if ((length = dotenv_name(d)) > 0) {
			d->p += length;
			/* NAME==...: more likely a padded base64 line. */
			if (dotenv_at(d, 0, '='))
				d->others++;
			else
				d->assignments++;
			if (dotenv_value(d, first_on_line) < 0)
				return -1;
			first_on_line = false;
		} else if (first && (length = dotenv_declaration(d)) > 0) {
			d->p += length;
			declaring = true;
		} else if (first && (length = dotenv_reserved(d)) > 0) {
			d->p += length;
			next_first = true;
		} else if (declaring && !dotenv_word_ends(d)) {
			/* An option (declare -x) or a name alone. */
			if (dotenv_word(d) < 0)
				return -1;
			d->shell.used = d->loader.used = 0;
		} else {
			d->others++;
			dotenv_skip_command(d);
			return 0;
		}
	}
	return 0;
}

/* Parses text into d (set up by the caller but for the text). */
static void
dotenv_parse(struct dotenv *d, const char *text, size_t size,
    void (*skip)(void *context, size_t line, const char *why))
{
	d->p = text;
	d->end = text + size;
	d->line = 1;
	d->line_start = true;
	while (d->rc == 0 && d->p < d->end) {
		if (dotenv_command(d) == 0)
			continue;
		d->others++;
		if (skip != NULL)
			skip(d->context, d->word_line, d->why);
		d->p = d->word;
		d->line = d->word_line;
		dotenv_skip_line(d);
		d->shell.used = d->loader.used = 0;
	}
	value_release(&d->shell);
	value_release(&d->loader);
}

int
secrets_parse_dotenv(const char *text, size_t size,
    int (*add)(void *context, const char *value, size_t length),
    void (*skip)(void *context, size_t line, const char *why), void *context)
{
	struct dotenv d = { .add = add, .context = context };

	dotenv_parse(&d, text, size, skip);
	return d.rc;
}

static int
ignore_value(void *context, const char *value, size_t length)
{
	(void)context;
	(void)value;
	(void)length;
	return 0;
}

bool
secrets_dotenv_only(const char *text, size_t size)
{
	struct dotenv d = { .add = ignore_value };

	dotenv_parse(&d, text, size, NULL);
	return d.assignments > 0 && d.others == 0;
}
