/*
 * Unit tests for where secrets come from (secrets.h): the variables of a
 * step's final environment that match secrets.env_globs, and the values of
 * a dotenv secrets file as a shell sourcing it would see them.
 */
#include "config.h"

#include <stdbool.h>
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

	ok(secrets_parse_dotenv(text, strlen(text), collect, NULL, &v) == 0,
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

/* What a parse passed on: its values, and the lines it skipped. */
struct parsed {
	char values[1024];
	size_t used;
	char skipped[64];
	bool leaked;
	const char *text;
};

/* Values are joined by '|', each put in brackets. */
static int
parsed_add(void *context, const char *value, size_t length)
{
	struct parsed *p = context;

	if (p->used + length + 3 < sizeof(p->values)) {
		p->values[p->used++] = '[';
		memcpy(p->values + p->used, value, length);
		p->used += length;
		p->values[p->used++] = ']';
	}
	p->values[p->used] = '\0';
	return 0;
}

static void
parsed_skip(void *context, size_t line, const char *why)
{
	struct parsed *p = context;
	size_t used = strlen(p->skipped);

	snprintf(p->skipped + used, sizeof(p->skipped) - used, "%s%zu",
	    used > 0 ? "," : "", line);
	/* The reason is a constant: no byte of the text may reach it. */
	if (why == NULL || strstr(why, "SECRET") != NULL ||
	    strstr(p->text, why) != NULL)
		p->leaked = true;
}

/*
 * Parses text; passes when the values passed on are expected ("[a][b]")
 * and the lines skipped are skipped ("2,5", or "" for none).
 */
static void
reads(const char *text, size_t size, const char *expected, const char *skipped,
    const char *what)
{
	struct parsed p = { .text = text };
	char label[160];

	ok(secrets_parse_dotenv(text, size, parsed_add, parsed_skip, &p) == 0,
	    what);
	snprintf(label, sizeof(label), "  its values (%s)", what);
	is_str(p.values, expected, label);
	snprintf(label, sizeof(label), "  the lines it skips (%s)", what);
	is_str(p.skipped, skipped, label);
	if (p.leaked)
		ok(false, "  a reason given for a skip holds the text");
}

#define READS(text, expected, skipped, what)                                   \
	reads((text), sizeof(text) - 1, (expected), (skipped), (what))

/* The lines of the bug report, as printf %q, ${v@Q}, shlex.quote write. */
static void
test_dotenv_shell_words(void)
{
	READS("U1=unq\\ escaped\\ space-1111\n",
	    "[unq escaped space-1111][unq\\ escaped\\ space-1111]", "",
	    "printf %q: backslashes escape blanks");
	READS("U4='it'\\''s-quoted-4444'\n", "[it's-quoted-4444]", "",
	    "${v@Q}: 'it'\\''s'");
	READS("U10='it'\"'\"'s-shlex-1010'\n", "[it's-shlex-1010]", "",
	    "shlex.quote: 'it'\"'\"'s'");
	READS("U3=abc\\#not-comment-3333\n",
	    "[abc#not-comment-3333][abc\\#not-comment-3333]", "",
	    "an escaped # is a #");
	READS("U5=semi-val-5555;\n", "[semi-val-5555][semi-val-5555;]", "",
	    "a ; ends the command");
	READS("export U7=first-7777 U8=second-8888\n",
	    "[first-7777][first-7777 U8=second-8888][second-8888]", "",
	    "export A=1 B=2: two variables (and the line as loaders read it)");
	READS("U7=first-7777 U8=second-8888\n",
	    "[first-7777][first-7777 U8=second-8888][second-8888]", "",
	    "A=1 B=2 without export");
	READS("A=a-value; B=b-value\n",
	    "[a-value][a-value; B=b-value][b-value]", "", "A=1; B=2");
	READS("U2=\"dq-part-\"'sq-part-2222'\n", "[dq-part-sq-part-2222]", "",
	    "quoted parts are joined");
	READS("U2=unq-\"dq \"'sq '$'ansi\\t'-end\n",
	    "[unq-dq sq ansi\t-end][unq-\"dq \"'sq '$'ansi\\t'-end]", "",
	    "every kind of part at once");
	READS("KEY=value # comment\n", "[value]", "",
	    "a # after a blank is a comment");
	READS("KEY=val#ue\n", "[val#ue]", "", "a # inside a word is not");
	READS("KEY=value\t# tab then comment\n", "[value]", "",
	    "nor after a tab");
	READS("if true; then T_I=in-if-III; fi\n", "[in-if-III]", "",
	    "an assignment after if ...; then");
	READS("{ T_J=brace-JJJ; }\n", "[brace-JJJ][brace-JJJ; }]", "",
	    "inside { ...; } (and the rest of the line, as loaders read it)");
	READS("true && T_M=after-and-MMM\n", "[after-and-MMM]", "",
	    "after another command and &&");
	READS("for x in 1; do T_R=in-for-RRR; done\n", "[in-for-RRR]", "",
	    "inside a for loop's do");
	READS("echo \"a;b\" 'c|d' >/dev/null; T_Q=after-quoted-QQQ\n",
	    "[after-quoted-QQQ]", "",
	    "a command is skipped to its end, not to a ; in quotes");
	READS("echo 'unclosed ; T_U=not-this\nT_N=next-line-NNN\n",
	    "[next-line-NNN]", "",
	    "a quote not closed on its line skips the line");
}

static void
test_dotenv_ansi_c(void)
{
	READS("KEY=$'a\\tb\\nc'\n", "[a\tb\nc]", "", "$'\\t\\n'");
	READS("KEY=$'\\a\\b\\e\\E\\f\\r\\v\\\\\\'\\\"\\?'\n",
	    "[\a\b\033\033\f\r\v\\'\"?]", "", "$'...': the named escapes");
	READS("KEY=$'o\\101\\0101\\7x'\n", "[oA\b1\007x]", "",
	    "octal, three digits at most");
	READS("KEY=$'h\\x41\\x414\\x\\xg'\n", "[hAA4\\x\\xg]", "",
	    "hex, two digits at most; \\x alone stays");
	READS("KEY=$'\\u00e9\\U0001F600\\u41z\\u'\n",
	    "[\303\251\360\237\230\200Az\\u]", "", "\\u and \\U as UTF-8");
	READS("KEY=$'c\\ca\\c[\\c?\\c\\\\x'\n", "[c\001\033\177\034x]", "",
	    "\\cX: control characters");
	READS("KEY=$'ab\\0cd'ef\n", "[abef]", "",
	    "a NUL ends the $'...' part, as in bash");
	READS("KEY=$'\\q\\8'\n", "[\\q\\8]", "", "unknown escapes stay");
	READS("KEY=$'it\\'s'\n", "[it's]", "", "\\' inside $'...'");
	READS("KEY=$\"locale\"\n", "[locale]", "", "$\"...\" is \"...\"");
}

static void
test_dotenv_kept(void)
{
	READS("KEY=\"a \\\"b\\\" \\$c \\\\ \\`d\\` \\z\"\n",
	    "[a \"b\" $c \\ `d` \\z]", "", "double quotes: \\\" \\$ \\\\ \\`");
	READS("KEY=\"one \\\ntwo\"\n", "[one two]", "",
	    "double quotes: backslash-newline");
	READS("KEY='one\ntwo'\nNEXT=next-value\n", "[one\ntwo][next-value]", "",
	    "a single-quoted value over two lines");
	READS("KEY=one\\\ntwo\n", "[onetwo][one\\]", "",
	    "an unquoted backslash-newline joins lines");
	READS("export KEY=exported\n", "[exported]", "", "export");
	READS("declare -x KEY=\"declared\"\n", "[declared]", "",
	    "declare -x, as export -p writes it");
	READS("readonly A=ro-value\n", "[ro-value]", "", "readonly");
	READS("export\nA=after-export\n", "[after-export]", "",
	    "export alone on its line");
	READS("exported=value-1\n", "[value-1]", "",
	    "a name that starts with export");
	READS("# KEY=commented-out\n   # indented\n\n\t\n", "", "",
	    "comments and blank lines");
	READS("A=crlf-1\r\nB='crlf-2'\r\nC=\"crlf-3\" # c\r\n",
	    "[crlf-1][crlf-2][crlf-3]", "", "CRLF lines");
	READS("A=x&& B=y-value || C=z-value\n",
	    "[x][x&& B=y-value || C=z-value][y-value][z-value]", "",
	    "&& and || separate commands");
	READS("A+=appended\n", "[appended]", "", "A+=value");
	READS("A=1 B=2 make all\n", "[1][1 B=2 make all][2]", "",
	    "assignments before a command (A=1 make)");
	READS("echo A=not-an-assignment\n", "", "", "arguments of a command");
	READS("PLAIN=$HOME/x ${Y:-z} $(cmd a b) `cmd c`\n",
	    "[$HOME/x][$HOME/x ${Y:-z} $(cmd a b) `cmd c`]", "",
	    "unquoted $: kept as written");
	READS("E=$(cmd \"a b\" 'c)' $(inner))-tail\n",
	    "[$(cmd \"a b\" 'c)' $(inner))-tail]", "",
	    "$(...) kept whole, quotes and nesting inside");
	READS("E=\"in $(echo \"q\") ${X} `b`\"\n",
	    "[in $(echo \"q\") ${X} `b`]", "",
	    "$(...) in double quotes, kept as written");
	READS("A=x>/dev/null B=y\n", "[x][x>/dev/null B=y]", "",
	    "a redirection ends what is read");
	READS("A= b-word\n", "[b-word]", "",
	    "A= word: empty for sh, \"word\" for loaders");
	READS("1BAD=x\n  SPACED = no\nit's a note\nB=after-note\n",
	    "[after-note]", "",
	    "a line that is no assignment is skipped, a stray quote too");
}

static void
test_dotenv_malformed(void)
{
	static const char nul[] = "A=a\0b\nB=next-value\n";
	struct parsed p = { .text = nul };

	READS("A='SECRET-unterminated\nB=SECRET-next\n", "[SECRET-next]", "1",
	    "an unterminated ' skips its line only");
	READS("A=ok-value B=\"SECRET-open\nC=c-value\n",
	    "[ok-value][ok-value B=\"SECRET-open][c-value]", "1",
	    "an unterminated \" after a good assignment");
	READS("X=1\nA=$'SECRET-lone\n", "[1]", "2", "a $' not closed");
	READS("A=$'\n", "", "1", "a lone $'");
	READS(
	    "A=$(SECRET-cmd\nB=b-value\n", "[b-value]", "1", "a $( not closed");
	READS("A=${SECRET\nB=`SECRET\n", "", "1,2", "${ and ` not closed");
	READS("A=(SECRET-array values)\nB=b-value\n", "[b-value]", "1",
	    "an array");
	READS("A=x)SECRET\n", "", "1", "an unquoted )");
	READS("A=\"SECRET-a\nb\nc\nB='x'\n", "[x]", "1",
	    "the line reported is where the value starts");
	READS("export A=1 'SECRET\n", "[1][1 'SECRET]", "1",
	    "a bad word after export");
	READS("A=end-backslash\\", "[end-backslash\\]", "",
	    "a backslash at the very end stays");
	ok(secrets_parse_dotenv(
	       nul, sizeof(nul) - 1, parsed_add, parsed_skip, &p) == 0 &&
		p.used > 12 &&
		memcmp(p.values + p.used - 12, "[next-value]", 12) == 0,
	    "a NUL byte does not stop the parse");
}

/*
 * ---- against bash ----
 *
 * Random values are written to a file as bash's printf %q and ${v@Q} and
 * python's shlex.quote write them, and as random words of every kind of
 * quoting; bash sources the file and prints what it sees.  Each value the
 * parser passes on first for an assignment must be that.
 */

enum { DIFF_VALUES = 300 };

static unsigned long long diff_seed = 20261204;

static unsigned
diff_random(unsigned bound)
{
	diff_seed ^= diff_seed << 13;
	diff_seed ^= diff_seed >> 7;
	diff_seed ^= diff_seed << 17;
	return (unsigned)(diff_seed % bound);
}

/* A random byte from the classes a quoter must handle; never NUL. */
static void
diff_put_random_char(char *out, size_t *used)
{
	static const char plain[] = "abcXYZ0189_-.,:/+@%^=";
	static const char special[] = " \t\n'\"\\$`#;&|()<>*?[]{}~!";
	static const char *const utf8[] = { "\303\251", "\342\202\254",
		"\360\237\230\200" };
	unsigned kind = diff_random(10);
	const char *s;

	if (kind < 4)
		out[(*used)++] = plain[diff_random(sizeof(plain) - 1)];
	else if (kind < 7)
		out[(*used)++] = special[diff_random(sizeof(special) - 1)];
	else if (kind < 8)
		out[(*used)++] =
		    (char)(diff_random(2) ? 127 : 1 + diff_random(31));
	else if (kind < 9)
		out[(*used)++] = (char)(0x80 + diff_random(128));
	else
		for (s = utf8[diff_random(3)]; *s != '\0'; s++)
			out[(*used)++] = *s;
}

/* A random value of 1 to 24 characters into out (100 bytes). */
static void
diff_value(char *out)
{
	size_t used = 0, length = 1 + diff_random(24);

	while (used < length)
		diff_put_random_char(out, &used);
	out[used] = '\0';
}

/*
 * A random word, written the way a person might: unquoted parts with
 * escapes, 'single', "double" (with escapes), $'ANSI-C' parts.
 */
static void
diff_word(char *out)
{
	static const char *const ansi[] = { "\\n", "\\t", "\\\\", "\\'", "\\\"",
		"\\x41", "\\101", "\\u00e9", "\\cA", "\\E", "\\q", "\\x",
		"\\U0001F600", "\\7", "\\0" };
	static const char *const dquoted[] = { "\\$", "\\`", "\\\"", "\\\\",
		"\\n", "\\z", "\\\n", "'", "#", " ", "a", "\n", ";" };
	static const char *const unquoted[] = { "a", "Z", "9", "-", "\\ ",
		"\\'", "\\\"", "\\$", "\\#", "\\;", "\\\\", "\\\n", "#", "=",
		"\\\t", "\\n", "{", "}", "%" };
	size_t parts = 1 + diff_random(4), i, n, k;

	out[0] = '\0';
	for (i = 0; i < parts; i++) {
		n = 1 + diff_random(5);
		switch (diff_random(4)) {
		case 0:
			for (k = 0; k < n; k++)
				strcat(out, unquoted[diff_random(19)]);
			break;
		case 1:
			strcat(out, "'");
			for (k = 0; k < n; k++)
				strcat(out, dquoted[8 + diff_random(5)]);
			strcat(out, "'");
			break;
		case 2:
			strcat(out, "\"");
			for (k = 0; k < n; k++)
				strcat(out, dquoted[diff_random(13)]);
			strcat(out, "\"");
			break;
		default:
			strcat(out, "$'");
			for (k = 0; k < n; k++)
				strcat(out, ansi[diff_random(15)]);
			strcat(out, "'");
		}
	}
}

/* The bash side: V0... are the values, W0... the words, DIR the place. */
static const char diff_script[] =
    "set -u\n"
    "cd \"$DIR\" || exit 1\n"
    "python3 -c 'import os, shlex, sys\n"
    "for i in range(int(os.environ[\"N\"])):\n"
    "    v = os.environb[b\"V%d\" % i].decode(\"utf-8\", \"surrogateescape\")\n"
    "    q = shlex.quote(v).encode(\"utf-8\", \"surrogateescape\")\n"
    "    sys.stdout.buffer.write(q + b\"\\0\")' >\"$DIR/shlex\" || exit 1\n"
    "mapfile -d '' shlexed <\"$DIR/shlex\"\n"
    "for ((i = 0; i < N; i++)); do\n"
    "	n=V$i; v=${!n}\n"
    "	case $((i % 3)) in\n"
    "	0) q=$(printf %q \"$v\") ;;\n"
    "	1) q=${v@Q} ;;\n"
    "	2) q=${shlexed[i]} ;;\n"
    "	esac\n"
    "	n=W$i; w[2 * i]=\"S$i=$q\"; w[2 * i + 1]=\"R$i=${!n}\"\n"
    "done\n"
    "for ((i = 0; i < 2 * N; i += 2)); do\n"
    "	case $((i / 2 % 5)) in\n"
    "	0) printf '%s\\n%s\\n' \"${w[i]}\" \"${w[i + 1]}\" ;;\n"
    "	1) printf 'export %s %s\\n' \"${w[i]}\" \"${w[i + 1]}\" ;;\n"
    "	2) printf '%s; %s # comment\\n' \"${w[i]}\" \"${w[i + 1]}\" ;;\n"
    "	3) printf '  %s\\t%s\\n' \"${w[i]}\" \"${w[i + 1]}\" ;;\n"
    "	4) printf '%s && %s\\n# a comment\\n\\n' \"${w[i]}\" \"${w[i + 1]}\" "
    ";;\n"
    "	esac\n"
    "done >\"$DIR/secrets.env\"\n"
    ". \"$DIR/secrets.env\" || exit 1\n"
    "for ((i = 0; i < N; i++)); do\n"
    "	n=S$i; printf '%s\\0' \"${!n}\"\n"
    "	n=R$i; printf '%s\\0' \"${!n}\"\n"
    "done\n";

/* A list of byte strings. */
struct diff_list {
	char *items[4 * DIFF_VALUES];
	size_t lengths[4 * DIFF_VALUES];
	size_t count;
	size_t skipped;
};

static int
diff_add(void *context, const char *value, size_t length)
{
	struct diff_list *list = context;

	if (list->count < 4 * DIFF_VALUES) {
		list->items[list->count] = malloc(length + 1);
		memcpy(list->items[list->count], value, length);
		list->items[list->count][length] = '\0';
		list->lengths[list->count++] = length;
	}
	return 0;
}

static void
diff_skip(void *context, size_t line, const char *why)
{
	struct diff_list *list = context;

	printf("# the parser skipped line %zu: %s\n", line, why);
	list->skipped++;
}

static char *
diff_read(FILE *fp, size_t *size)
{
	size_t allocated = 4096;
	char *data = malloc(allocated);
	size_t got;

	*size = 0;
	while ((got = fread(data + *size, 1, allocated - *size, fp)) > 0)
		if ((*size += got) == allocated)
			data = realloc(data, allocated *= 2);
	return data;
}

static bool
diff_same(
    const struct diff_list *list, size_t j, const char *bytes, size_t length)
{
	return j < list->count && list->lengths[j] == length &&
	    memcmp(list->items[j], bytes, length) == 0;
}

static void
diff_show(const char *what, const char *bytes, size_t length)
{
	size_t i;

	printf("#   %s:", what);
	for (i = 0; i < length; i++)
		printf(" %02x", (unsigned char)bytes[i]);
	printf("\n");
}

/* A value that differs: said, with both sides in hex. */
static void
diff_differs(size_t i, const char *value, size_t length,
    const struct diff_list *parsed, size_t j)
{
	static const char *const kinds[] = { "printf %q", "${v@Q}",
		"shlex.quote" };

	printf("# value %zu (%s) differs\n", i / 2,
	    i % 2 == 0 ? kinds[i / 2 % 3] : "a random word");
	diff_show("bash", value, length);
	if (j < parsed->count)
		diff_show("parser", parsed->items[j], parsed->lengths[j]);
}

/*
 * Compares, in order, what bash printed (expected: NUL-separated, the
 * quoted value and the random word of each index in turn) with the
 * parser's values; the readings the parser adds after an assignment's
 * first (for dotenv loaders) are passed over.
 */
static void
diff_compare(const char *expected, size_t size, struct diff_list *parsed)
{
	const char *values[2 * DIFF_VALUES], *p, *next;
	size_t lengths[2 * DIFF_VALUES], count = 0, i, k, j = 0;
	size_t wrong[4] = { 0 };

	for (p = expected; p < expected + size && count < 2 * DIFF_VALUES;
	     p = next + 1) {
		if ((next = memchr(p, '\0', (size_t)(expected + size - p))) ==
		    NULL)
			break;
		values[count] = p;
		lengths[count++] = (size_t)(next - p);
	}
	is_int((long long)count, 2 * DIFF_VALUES, "bash printed every value");
	for (i = 0; i < count; i++) {
		/* Nothing is passed on for an empty value. */
		if (lengths[i] == 0)
			continue;
		if (diff_same(parsed, j, values[i], lengths[i]))
			j++;
		else {
			wrong[i % 2 == 0 ? i / 2 % 3 : 3]++;
			diff_differs(i, values[i], lengths[i], parsed, j);
		}
		/* Past the value's other readings, to the next value's. */
		for (k = i + 1; k < count && lengths[k] == 0; k++)
			;
		while (k < count && j < parsed->count &&
		    !diff_same(parsed, j, values[k], lengths[k]))
			j++;
	}
	is_int((long long)wrong[0], 0,
	    "values quoted by printf %q read as bash reads them");
	is_int((long long)wrong[1], 0,
	    "values quoted by ${v@Q} read as bash reads them");
	is_int((long long)wrong[2], 0,
	    "values quoted by shlex.quote read as bash reads them");
	is_int((long long)wrong[3], 0,
	    "random quoted and escaped words read as bash reads them");
	is_int((long long)parsed->skipped, 0, "no line is skipped");
}

static void
test_dotenv_against_bash(void)
{
	char dir[] = "/tmp/test-dotenv.XXXXXX", name[32], path[64];
	char value[100], word[512];
	struct diff_list parsed = { 0 };
	char *expected, *text, *seed = getenv("TEST_DOTENV_SEED");
	size_t expected_size, text_size, i;
	FILE *fp;

	if (system("command -v bash >/dev/null && "
		   "command -v python3 >/dev/null") != 0) {
		ok(true, "# SKIP against bash: no bash or python3");
		return;
	}
	if (seed != NULL)
		diff_seed = strtoull(seed, NULL, 10) | 1;
	printf("# seed %llu (TEST_DOTENV_SEED)\n", diff_seed);
	if (mkdtemp(dir) == NULL) {
		ok(false, "mkdtemp");
		return;
	}
	for (i = 0; i < DIFF_VALUES; i++) {
		diff_value(value);
		snprintf(name, sizeof(name), "V%zu", i);
		setenv(name, value, 1);
		diff_word(word);
		snprintf(name, sizeof(name), "W%zu", i);
		setenv(name, word, 1);
	}
	snprintf(value, sizeof(value), "%d", DIFF_VALUES);
	setenv("N", value, 1);
	setenv("DIR", dir, 1);
	setenv("LC_ALL", "C.UTF-8", 1);
	setenv("SCRIPT", diff_script, 1);
	fp = popen("bash -c \"$SCRIPT\"", "r");
	expected = diff_read(fp, &expected_size);
	ok(pclose(fp) == 0, "bash writes and sources the file");
	snprintf(path, sizeof(path), "%s/secrets.env", dir);
	fp = fopen(path, "r");
	text = fp != NULL ? diff_read(fp, &text_size) : NULL;
	if (fp != NULL)
		fclose(fp);
	ok(text != NULL &&
		secrets_parse_dotenv(
		    text, text_size, diff_add, diff_skip, &parsed) == 0,
	    "the parser reads the file");
	if (text != NULL && expected_size > 0)
		diff_compare(expected, expected_size, &parsed);
	for (i = 0; i < parsed.count; i++)
		free(parsed.items[i]);
	free(text);
	free(expected);
	/* TEST_DOTENV_KEEP keeps the file, to look at what differed. */
	if (getenv("TEST_DOTENV_KEEP") != NULL)
		return;
	snprintf(word, sizeof(word), "rm -rf '%s'", dir);
	if (system(word) != 0)
		printf("# cannot remove %s\n", dir);
}

/* Files of assignments only, and files that are one secret. */
static void
test_dotenv_only(void)
{
	static const struct {
		const char *text;
		bool only;
		const char *what;
	} cases[] = {
		{ "# settings\n\nexport A=1\nB=\"two\"\nC=\n", true,
		    "comments, blank lines, export and empty values" },
		{ "A=1; B=2\ndeclare -x C=3\nD='multi\nline'\n", true,
		    "several a line, declare -x, a quoted line break" },
		{ "A=1\r\nB=2\r\n", true, "CRLF lines" },
		{ "-----BEGIN KEY-----\nMIIBCgKCAQEA\nAQAB==\n"
		  "-----END KEY-----\n",
		    false, "a PEM key, even with a last line like A==" },
		{ "YWJjZA==\nZWZnaA==\n", false,
		    "padded base64 lines (NAME==...)" },
		{ "ghp_0123456789abcdef", false, "a raw token" },
		{ "A=1 make\n", false, "an assignment before a command" },
		{ "if true; then A=1; fi\n", false, "a script" },
		{ "A=\"not closed\nB=2\n", false,
		    "a line that cannot be read" },
		{ "# only a comment\n\n", false, "no assignment at all" },
		{ "", false, "an empty file" },
	};
	char what[128];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(what, sizeof(what), "assignments only (%s): %s",
		    cases[i].only ? "yes" : "no", cases[i].what);
		ok(secrets_dotenv_only(cases[i].text, strlen(cases[i].text)) ==
			cases[i].only,
		    what);
	}
}

static void
collect_member(void *context, const char *value, size_t length)
{
	collect(context, value, length);
}

/* The credentials secrets_structured_each() finds in text, joined by '|'. */
static void
structured_is(const char *text, const char *want, const char *what)
{
	struct values v = { 0 };
	char got[512] = "";
	size_t i;

	secrets_structured_each(text, strlen(text), collect_member, &v);
	for (i = 0; i < v.count && i < 16; i++) {
		if (i > 0)
			strcat(got, "|");
		strncat(got, v.list[i], sizeof(got) - strlen(got) - 1);
	}
	if (strcmp(got, want) != 0)
		printf("# got: %s\n", got);
	ok(strcmp(got, want) == 0, what);
}

static void
test_structured(void)
{
	structured_is("{\"type\":\"service_account\",\"project_id\":\"acme\","
		      "\"private_key_id\":\"9f8e7d6c\",\"private_key\":\"-----"
		      "BEGIN\",\"client_email\":\"ci@acme.example\","
		      "\"token_uri\":\"https://oauth2.example.com/token\"}",
	    "9f8e7d6c|-----BEGIN",
	    "a service account's key and key id, not its type, e-mail or "
	    "token URL");
	structured_is("{\"auths\":{\"ghcr.io\":{\"username\":\"ci\","
		      "\"password\":\"pw-123\",\"auth\":\"Y2k6cHc=\"}}}",
	    "pw-123|Y2k6cHc=",
	    "a Docker auth file's password and auth, nested");
	structured_is("{\"tokens\":[\"tok-aaa-1\",[\"tok-bbb-2\"],{\"n\":"
		      "\"not-me\"}],\"names\":[\"not-me-either\"]}",
	    "tok-aaa-1|tok-bbb-2", "the strings of a credential's array");
	structured_is("apiVersion: v1\nusers:\n- name: ci\n  user:\n"
		      "    token: eyJhbGci.x.y\n    client-key-data: LS0tLS1C\n"
		      "    username: deployer\n",
	    "eyJhbGci.x.y|LS0tLS1C", "a kubeconfig's token and key, not names");
	structured_is("data:\n  password: \"quoted pw\"\n  list: [a, b]\n"
		      "  secretRef: {name: x}\n  apiKey: k-1\n",
	    "quoted pw|k-1",
	    "YAML values of credential names only, no mapping");
	structured_is("api_keys:\n- key-one-1\n- key-two-2\nnames: [a-b-c-d]\n"
		      "? [complex, key]\n: not-a-token\ntoken: after-it\n",
	    "key-one-1|key-two-2|after-it",
	    "the items of a credential's list; a complex key is no name");
	structured_is("[default]\naws_access_key_id = AKIAEXAMPLE\n"
		      "; comment\naws_secret_access_key = wJalr/K7\n"
		      "region = eu-west-1\n",
	    "AKIAEXAMPLE|wJalr/K7", "an AWS credentials file's keys");
	structured_is("//registry.npmjs.org/:_authToken=npm_abc123\n"
		      "registry=https://registry.npmjs.org/\n",
	    "npm_abc123", "an .npmrc token, not its registry");
	structured_is("machine example.com\n  login ci-bot\n"
		      "  password s3cr3t-pw\nmachine b login x password y2\n",
	    "s3cr3t-pw|y2", "a .netrc file's passwords");
	structured_is("ghp_0123456789abcdef", "", "a plain token holds none");
	structured_is("-----BEGIN PRIVATE KEY-----\nMIIC\n-----END PRIVATE "
		      "KEY-----\n",
	    "", "a PEM key holds none");
	structured_is("TOKEN=tok-1\nNAME=build\n", "tok-1",
	    "a dotenv file: the credential-named value");
	structured_is("{\"url\":\"https://u:pw-1234567@host/x\",\"token_type\":"
		      "\"Bearer\",\"auth_method\":\"password\",\"keyring\":"
		      "\"default\",\"role_session_name\":\"ci\","
		      "\"accessToken\":\"at-123\",\"tokenUri\":\"x-y\"}",
	    "pw-1234567|at-123",
	    "a URL's password; not what names say is about a credential");
	structured_is("{\"user\":\"bob\",\"password\":98765432101,"
		      "\"pin\":1234}",
	    "98765432101", "a number under a credential's name");
	structured_is("[distutils]\nindex-servers = pypi\n[pypi]\n"
		      "username: __token__\npassword: pypi-ColonSep12345\n",
	    "pypi-ColonSep12345", "a .pypirc's 'name: value' line");
	structured_is("machine api.example.com login bob password "
		      "\"Quoted Pass word99\"\n",
	    "Quoted Pass word99", "a quoted .netrc password");
	structured_is("https://bob:ghp_ZZtokenValue1234@github.com\n"
		      "db.example.com:5432:app:appuser:PgP4ss\\:w0rd\n",
	    "ghp_ZZtokenValue1234|PgP4ss\\:w0rd",
	    ".git-credentials and .pgpass passwords");
	structured_is("{\"a\": [", "", "broken JSON holds none");
}

int
main(void)
{
	test_env_globs();
	test_dotenv();
	test_dotenv_shell_words();
	test_dotenv_ansi_c();
	test_dotenv_kept();
	test_dotenv_only();
	test_dotenv_malformed();
	test_dotenv_against_bash();
	test_structured();
	return done_testing();
}
