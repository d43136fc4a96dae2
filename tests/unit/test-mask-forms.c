/*
 * Tests of the secret's forms (mask-forms.h) as mask_forms_each() gives
 * them: every base64 run mask_forms_base64_run() makes (both alphabets,
 * three alignments, with and without the final character) for secrets of
 * every length and kind of byte; exactly the expected forms of a secret of
 * plain bytes, whose quoted and escaped forms are itself; the quoted
 * and escaped forms of a secret that needs them, among them what curl,
 * Python, jq, JavaScript and Go write; that no hex, percent, JSON or shell
 * form is given twice; and that mask_string() masks those tools' output.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mask-forms.h"
#include "mask.h"
#include "tap.h"

#define FORMS_MAX 256

struct forms {
	size_t count;
	unsigned char *bytes[FORMS_MAX];
	size_t sizes[FORMS_MAX];
};

/* Keeps each distinct non-empty form once. */
static void
collect(void *context, const unsigned char *bytes, size_t size)
{
	struct forms *f = context;
	size_t i;

	if (size == 0)
		return;
	for (i = 0; i < f->count; i++)
		if (f->sizes[i] == size &&
		    memcmp(f->bytes[i], bytes, size) == 0)
			return;
	if (f->count == FORMS_MAX)
		return;
	f->bytes[f->count] = malloc(size);
	memcpy(f->bytes[f->count], bytes, size);
	f->sizes[f->count++] = size;
}

static void
forms_free(struct forms *f)
{
	size_t i;

	for (i = 0; i < f->count; i++)
		free(f->bytes[i]);
	f->count = 0;
}

static int
has(const struct forms *f, const void *bytes, size_t size)
{
	size_t i;

	for (i = 0; i < f->count; i++)
		if (f->sizes[i] == size &&
		    memcmp(f->bytes[i], bytes, size) == 0)
			return 1;
	return 0;
}

static int
has_string(const struct forms *f, const char *s)
{
	return has(f, s, strlen(s));
}

static uint64_t rng_state = 99991;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Adds every base64 run of the secret to want; returns how many missing
 * from f. */
static size_t
missing_runs(const struct forms *f, struct forms *want,
    const unsigned char *secret, size_t size)
{
	unsigned char run[FORMS_MAX];
	unsigned alignment;
	size_t n, missing = 0;
	int url, end;

	for (url = 0; url <= 1; url++)
		for (alignment = 0; alignment < 3; alignment++)
			for (end = 0; end <= 1; end++) {
				n = mask_forms_base64_run(
				    run, secret, size, alignment, url, end);
				if (want != NULL)
					collect(want, run, n);
				if (n > 0 && !has(f, run, n))
					missing++;
			}
	return missing;
}

static void
test_base64_runs(void)
{
	static const char *kinds[] = {
		"abcXYZ019",
		"abcXYZ019-_.",
		"?>~\xfb\xff\xbf\x3e",
		"ab/+ '\"\\$`!~#\n\r\t",
	};
	unsigned char secret[80];
	struct forms f = { 0 };
	size_t kind, size, i, missing = 0, tried = 0, k;

	for (kind = 0; kind < 5; kind++)
		for (size = 1; size <= 70; size++)
			for (k = 0; k < 20; k++) {
				for (i = 0; i < size; i++)
					secret[i] = kind == 4
					    ? (unsigned char)rng()
					    : (unsigned char)kinds[kind][rng() %
						  strlen(kinds[kind])];
				mask_forms_each(secret, size, collect, &f);
				missing += missing_runs(&f, NULL, secret, size);
				forms_free(&f);
				tried++;
			}
	ok(missing == 0 && tried == 7000,
	    "every base64 run of 7,000 secrets of every kind is a form");
}

static void
put_hex(struct forms *want, const char *secret, const char *digits,
    const char *before)
{
	unsigned char out[FORMS_MAX];
	size_t i, n = 0, size = strlen(secret);

	for (i = 0; i < size; i++) {
		if (before != NULL)
			out[n++] = (unsigned char)*before;
		out[n++] = (unsigned char)digits[(unsigned char)secret[i] >> 4];
		out[n++] = (unsigned char)digits[secret[i] & 15];
	}
	collect(want, out, n);
}

/*
 * base32 of the secret alone, as RFC 4648 spells it out (five bytes, eight
 * characters): the characters wholly from its bits, and all of them.
 */
/* Bit b of the secret, from the most significant bit of its first byte. */
static unsigned
bit_of(const char *secret, size_t b)
{
	return ((unsigned char)secret[b / 8] >> (7 - b % 8)) & 1u;
}

static void
put_base32(struct forms *want, const char *secret)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	unsigned char out[FORMS_MAX];
	size_t size = strlen(secret), bits = 8 * size, i, b, n = 0;
	unsigned v;

	for (i = 0; 5 * i < bits; i++) {
		/* Bits [5i, 5i + 5) of the secret, zeros past its end. */
		v = 0;
		for (b = 5 * i; b < 5 * i + 5; b++)
			v = v << 1 | (b < bits ? bit_of(secret, b) : 0u);
		out[n++] = (unsigned char)alphabet[v];
	}
	collect(want, out, bits / 5);
	if (bits % 5 != 0)
		collect(want, out, n);
}

/* Lower case hex with a space between two bytes (Node's Buffer). */
static void
put_hex_spaced(struct forms *want, const char *secret)
{
	unsigned char out[FORMS_MAX];
	size_t i, n = 0;

	for (i = 0; secret[i] != '\0'; i++) {
		if (i > 0)
			out[n++] = ' ';
		out[n++] = (unsigned char)"0123456789abcdef"
		    [(unsigned char)secret[i] >> 4];
		out[n++] = (unsigned char)"0123456789abcdef"[secret[i] & 15];
	}
	collect(want, out, n);
}

/* A secret of plain bytes: itself, base64, base32, hex (also spaced) and
 * %XX, nothing else. */
static void
test_plain(const char *secret)
{
	struct forms f = { 0 }, want = { 0 };
	size_t size = strlen(secret), i, extra = 0;
	char what[128];

	mask_forms_each((const unsigned char *)secret, size, collect, &f);
	collect(&want, (const unsigned char *)secret, size);
	missing_runs(&f, &want, (const unsigned char *)secret, size);
	put_base32(&want, secret);
	put_hex_spaced(&want, secret);
	put_hex(&want, secret, "0123456789abcdef", NULL);
	put_hex(&want, secret, "0123456789ABCDEF", NULL);
	put_hex(&want, secret, "0123456789ABCDEF", "%");
	put_hex(&want, secret, "0123456789abcdef", "%");
	for (i = 0; i < f.count; i++)
		extra += !has(&want, f.bytes[i], f.sizes[i]);
	snprintf(what, sizeof(what), "'%s': the %zu expected forms, no other",
	    secret, want.count);
	ok(f.count == want.count && extra == 0, what);
	forms_free(&f);
	forms_free(&want);
}

/* Whether every one of the expected forms of secret is given. */
static void
test_escaped(const char *secret, const char **expected, size_t count)
{
	struct forms f = { 0 };
	size_t i, missing = 0;
	char what[128];

	mask_forms_each(
	    (const unsigned char *)secret, strlen(secret), collect, &f);
	for (i = 0; i < count; i++)
		if (!has_string(&f, expected[i])) {
			printf("# missing: %s\n", expected[i]);
			missing++;
		}
	snprintf(what, sizeof(what), "'%s': its %zu quoted and escaped forms",
	    secret, count);
	ok(missing == 0, what);
	forms_free(&f);
}

static const char *quoted[] = {
	"a\\/b'c d<", /* JSON, PHP */
	"a/b'c d\\u003c", /* JSON, Go */
	"a/b'\\''c d<", /* set -x */
	"a/b'\"'\"'c d<", /* shlex.quote */
	"a/b\\'c\\ d\\<", /* printf %q */
	"a/b\\'c d<", /* $'...' */
	"a%2Fb%27c%20d%3C", /* quote(safe='') */
	"a/b%27c%20d%3C", /* quote() */
	"a%2Fb%27c+d%3C", /* quote_plus() */
	"a%2Fb'c%20d%3C", /* encodeURIComponent() */
};

/* One byte short of plain: '/' and '~' are quoted by some. */
static const char *slashed[] = {
	"ab\\/cd\\/ef", /* JSON, PHP */
	"ab%2Fcd%2Fef", /* quote(safe='') */
};
static const char *tilde[] = {
	"\\~abcdef", /* printf %q */
};

/*
 * What the tools write, taken from running them once (curl 7.88.1,
 * Python 3.11, jq 1.6, node 20; Go's from encoding/json's rules, as no Go
 * toolchain was at hand).  Percent-encoding with
 *   curl -s --get --data-urlencode "token=$S" URL   (the request line)
 *   curl -s --data-urlencode "token=$S" URL         (the body)
 *   python3 -c 'print(urllib.parse.urlencode({"token": S}))'
 *   jq -rn --arg s "$S" '$s|@uri'; node: encodeURIComponent(S)
 *   case $c in [a-zA-Z0-9.~_-]) ... *) printf '%%%02x' "'$c"
 * curl keeps A-Z a-z 0-9 - . _ ~ and writes space as '+', in upper case hex
 * in a body and in lower case in a --get query.
 */
static const char *curl_reserved[] = {
	"p%40ss%3aw0rd%2fWith%26Reserved%23Chars", /* curl --get, printf */
	"p%40ss%3Aw0rd%2FWith%26Reserved%23Chars", /* curl, Python, jq, JS */
};
static const char *curl_space[] = {
	"open+sesame%3a42%2fx~y", /* curl --get */
	"open+sesame%3A42%2Fx~y", /* curl, Python's urlencode() */
	"open%20sesame%3A42%2Fx~y", /* jq's @uri, encodeURIComponent() */
	"open%20sesame%3a42%2fx~y", /* printf '%%%02x' */
};

/*
 * JSON, from
 *   python3 -c 'print(json.dumps(os.environ["S"]))'   (ensure_ascii)
 *   jq -n --arg s "$S" '$s'; jq -an (ASCII output)
 *   node -e 'console.log(JSON.stringify(process.env.S))'
 * Python and jq -a write DEL as \u007f and every non-ASCII character as
 * \uXXXX, Python a byte that is not UTF-8 as \udcXX (os.environ decodes
 * with surrogateescape); jq writes DEL as \u007f, other characters as they
 * are; JavaScript (and Python without ensure_ascii) writes DEL as it is.
 */
static const char *json_del[] = {
	"del\\u007f-secret-bbb", /* Python, jq, jq -a */
	"del\177-secret-bbb", /* JSON.stringify() */
};
static const char *json_del_utf8[] = {
	"d\303\251l\\u007f-secret", /* jq */
	"d\\u00e9l\\u007f-secret", /* Python, jq -a */
	"d\303\251l\177-secret", /* JSON.stringify() */
};
static const char *json_not_utf8[] = {
	"ab\\udcffcd\\u007f-secret", /* Python */
};

/*
 * Go's encoding/json escapes < > & as \u003c \u003e \u0026 (unless
 * SetEscapeHTML(false)) and U+2028 and U+2029 always, in lower case hex;
 * it writes DEL as it is.  Python and jq -a write U+2028 as \u2028 too.
 */
static const char *json_go[] = {
	"a\\u003cb\\u2028c\\u0026d-secret", /* Go */
	"a<b\\u2028c&d-secret", /* Go without HTML escaping, Python */
};
static const char *json_go_utf8[] = {
	"\303\251a\\u003cb\\u2029c-secret", /* Go */
	"\303\251a<b\\u2029c-secret", /* Go without HTML escaping */
	"\\u00e9a<b\\u2029c-secret", /* Python */
};

/*
 * HTML and XML escaping, from Python 3.11's html.escape() (with and
 * without quote) and the rules of Go's html.EscapeString(), Ruby's
 * ERB::Util.html_escape, PHP's htmlspecialchars() (ENT_QUOTES, the
 * default since 8.1, and ENT_COMPAT before it) and XML's &apos;.
 */
static const char *html[] = {
	"p&amp;ss&lt;w&gt;&quot;q&#x27;d", /* html.escape() */
	"p&amp;ss&lt;w&gt;\"q'd", /* html.escape(quote=False), XML text */
	"p&amp;ss&lt;w&gt;&#34;q&#39;d", /* Go, Jinja2 */
	"p&amp;ss&lt;w&gt;&quot;q&#39;d", /* Ruby */
	"p&amp;ss&lt;w&gt;&quot;q&#039;d", /* PHP */
	"p&amp;ss&lt;w&gt;&quot;q&apos;d", /* XML attributes */
	"p&amp;ss&lt;w&gt;&quot;q'd", /* PHP before 8.1 */
};
/* Go's html/template also writes + as &#43; (a base64 token's). */
static const char *html_plus[] = {
	"ab&#43;cd/ef&#43;&amp;gh", /* html/template */
	"ab+cd/ef+&amp;gh", /* html.escape() */
};

/*
 * HTML-safe JSON and template escapers, by their rules: Jinja2's tojson
 * (< > & ' as lower-case \u escapes), Django's json_script (< > & in
 * upper case), PHP with JSON_HEX_* (Laravel's @json: also " and ', upper
 * case, \/), Go's html/template in a JavaScript string (+ as \u002b, \/),
 * Handlebars (= as &#x3D;, ` as &#x60;) and mustache.js (/ as &#x2F; too).
 */
static const char *jinja2[] = { "it\\u0027s-a-pass\\u003cx\\u003e" };
static const char *django[] = { "p\\u003Ca\\u003Ess\\u0026word" };
static const char *laravel[] = {
	"p\\u0026ss\\u003Cw\\u003Erd\\u0022it\\u0027s\\/x",
};
static const char *go_js[] = { "tok\\u002ben\\/abcd\\u002befgh" };
static const char *handlebars[] = {
	"dG9rZW4tdmFsdWU&#x3D;", /* Handlebars, mustache.js */
};
static const char *mustache[] = {
	"ab&#x2F;cd+ef&#x2F;gh&#x3D;&#x60;", /* mustache.js */
	"ab/cd+ef/gh&#x3D;&#x60;", /* Handlebars */
};

/*
 * \x escapes, from Python 3.11 and PyYAML 6: repr() and ascii() of a str,
 * repr() of its UTF-8 bytes, and yaml.dump() (double-quoted, upper case).
 */
static const char *python_repr[] = {
	"P\303\244ss\\x01\\x7f\\\\x\"y", /* repr() */
};
static const char *python_ascii[] = {
	"P\\xe4ss\\u20ac\\U0001f600\\x01\\x7f", /* ascii() */
	"P\\xE4ss\\u20AC\\U0001F600\\x01\\x7F", /* yaml.dump() */
};
static const char *python_bytes[] = {
	"P\\xc3\\xa4ss\\x01-b", /* repr() of bytes */
};

/* Each secret of the web escapers above, with its forms. */
static const struct {
	const char *secret;
	const char **want;
	size_t count;
} web[] = {
	{ "ab+cd/ef+&gh", html_plus, 2 },
	{ "it's-a-pass<x>", jinja2, 1 },
	{ "p<a>ss&word", django, 1 },
	{ "p&ss<w>rd\"it's/x", laravel, 1 },
	{ "tok+en/abcd+efgh", go_js, 1 },
	{ "dG9rZW4tdmFsdWU=", handlebars, 1 },
	{ "ab/cd+ef/gh=`", mustache, 2 },
	{ "P\303\244ss\001\177\\x\"y", python_repr, 1 },
	{ "P\303\244ss\342\202\254\360\237\230\200\001\177", python_ascii, 2 },
	{ "P\303\244ss\001-b", python_bytes, 1 },
};

/* PHP's json_encode() (\/ and \uXXXX) and urlencode() ('~' as %7E). */
static const char *php[] = {
	"a\\/b\\u00e9c~d e", /* json_encode() */
	"a%2Fb%C3%A9c%7Ed+e", /* urlencode() */
};
/* PHP writes DEL as it is, and U+2028 escaped even with
 * JSON_UNESCAPED_UNICODE (since 7.1). */
static const char *php_del[] = {
	"pa\177ss\\u00e9\\/word", /* json_encode() */
};
static const char *php_separators[] = {
	"ab\\/c\\u2028d\303\251fg", /* JSON_UNESCAPED_UNICODE */
};

/* The whitespace variants, built in a scratch that holds other forms. */
static const char *words[] = {
	"many words", /* echo $X */
	"many  words", /* $(cat file) */
};

/* Counts each form given, and each distinct one. */
struct counted {
	struct forms distinct;
	size_t given;
};

static void
count_form(void *context, const unsigned char *bytes, size_t size)
{
	struct counted *c = context;

	c->given++;
	collect(&c->distinct, bytes, size);
}

/*
 * No form is given twice: the lower case percent forms only when an
 * escaped byte has a hex letter, the JSON variants only when they differ.
 */
static void
test_once(const char *secret)
{
	struct counted c = { { 0 }, 0 };
	char what[128];

	mask_forms_each(
	    (const unsigned char *)secret, strlen(secret), count_form, &c);
	snprintf(what, sizeof(what), "%zu forms of '%s', each given once",
	    c.distinct.count, secret);
	ok(c.given == c.distinct.count, what);
	forms_free(&c.distinct);
}

/* mask_string() of a line a tool printed: the secret's form is "***". */
static void
test_masked(
    const char *secret, const char *printed, const char *want, const char *what)
{
	struct mask_set *set = mask_set_new(NULL, 0);
	char *masked;

	mask_set_add(set, secret, strlen(secret), NULL);
	masked = mask_string(set, printed, strlen(printed), NULL);
	if (strcmp(masked, want) != 0)
		printf("# got: %s\n", masked);
	ok(strcmp(masked, want) == 0, what);
	free(masked);
	mask_set_free(set);
}

static void
test_tools_masked(void)
{
	test_masked("p@ss:w0rd/With&Reserved#Chars",
	    "> GET /?token=p%40ss%3aw0rd%2fWith%26Reserved%23Chars HTTP/1.1",
	    "> GET /?token=*** HTTP/1.1",
	    "curl --get --data-urlencode's request line is masked");
	test_masked("open sesame:42/x~y", "token=open+sesame%3a42%2fx~y",
	    "token=***", "curl --get's '+' for space, lower case hex");
	test_masked("del\177-secret-bbb",
	    "{\"token\":\"del\\u007f-secret-bbb\"}", "{\"token\":\"***\"}",
	    "jq -c's \\u007f is masked");
	test_masked("d\303\251l\177-secret", "\"d\303\251l\\u007f-secret\"",
	    "\"***\"", "jq's \\u007f beside UTF-8 is masked");
	test_masked("ab\377cd\177-secret", "\"ab\\udcffcd\\u007f-secret\"",
	    "\"***\"", "Python's \\udcXX for a byte that is no UTF-8");
	test_masked("a<b\342\200\250c&d-secret",
	    "{\"t\":\"a\\u003cb\\u2028c\\u0026d-secret\"}", "{\"t\":\"***\"}",
	    "Go's \\u2028 beside \\u003c is masked");
	test_masked("p&ss<w>\"q'd",
	    "<input value=\"p&amp;ss&lt;w&gt;&quot;q&#x27;d\">",
	    "<input value=\"***\">", "html.escape() in an attribute is masked");
	test_masked("p\303\244ss-w\001rd\t42\177",
	    "secret: pM-CM-$ss-w^Ard\t42^?$\n", "secret: ***$\n",
	    "cat -v's M- and ^ forms are masked");
	test_masked("p\303\244ss-w\001rd\t42\177",
	    "secret: pM-CM-$ss-w^Ard^I42^?$\n", "secret: ***$\n",
	    "and cat -A's, with the tab as ^I");
	test_masked("Zq8-ghp_Tr0ub4dor&3xK9mLp2vWn7Yc",
	    "LJYTQLLHNBYF6VDSGB2W\nENDEN5ZCMM3YJM4W2TDQ\nGJ3FO3RXLFRQ====\n",
	    "***====\n", "base32 -w 20 is masked across its line breaks");
	test_masked("Zq8-ghp_Tr0ub4dor&3xK9mLp2vWn7Yc",
	    "LJYTQLLHNBYF6VDSGB2WENDEN5ZCMM3YJM4W2TDQGJ3FO3RXLFRQU===\n",
	    "***U===\n", "and so is base32 of the secret and a newline");
	test_masked("Zq8-ghp_Tr0ub4dor3xK9mLp2vWn7Yc",
	    "\033[32m\033[K1\033[m\033[K:token: Zq8-\033[01;31m\033[Kghp_"
	    "\033[m\033[KTr0ub4dor3xK9mLp2vWn7Yc\n",
	    "\033[32m\033[K1\033[m\033[K:token: ***\n",
	    "grep --color=always's colour inside a secret");
	test_masked("Zq8-ghp_Tr0ub4dor",
	    "token: <Buffer 5a 71 38 2d 67 68 70 5f 54 72 30 75 62 34 64 6f "
	    "72>",
	    "token: <Buffer ***>", "Node's Buffer of a secret is masked");
	test_masked(
	    "ghp_A1b2C3d4E5A1b2C3d4E5A1b2C3d4E5A1b2C3d4E5A1b2C3d4E5A1b2",
	    "<Buffer 67 68 70 5f 41 31 62 32 43 33 64 34 45 35 41 31 62 32 43 "
	    "33 64 34 45 35 41 31 62 32 43 33 64 34 45 35 41 31 62 32 43 33 64 "
	    "34 45 35 41 31 62 32 43 33 ... 8 more bytes>",
	    "<Buffer *** ... 8 more bytes>",
	    "Node's Buffer of a long secret, its first 50 bytes");
	test_masked("Xk9!mP2*vL8@qR7~wZ",
	    "user=ci&password=Xk9%21mP2*vL8%40qR7%7EwZ", "user=ci&password=***",
	    "URLSearchParams' and URLEncoder's form");
	test_masked("q1W+e/r5Ty7=Ui9oP0a+sD2f=",
	    "https://ci:q1W+e%2Fr5Ty7%3DUi9oP0a+sD2f%3D@registry.example/",
	    "https://ci:***@registry.example/", "a WHATWG URL's user info");
	test_masked("q1W+e/r5Ty7=Ui9oP0a+sD2f=",
	    "API key=3D q1W+e/r5Ty7=3DUi9oP0a+sD2f=3D\n", "API key=3D ***\n",
	    "quoted-printable");
	test_masked("p@ss'w\"rd$X9!k\\ze~", "id,\"p@ss'w\"\"rd$X9!k\\ze~\"\n",
	    "id,\"***\"\n", "a CSV field's doubled quote");
	test_masked("line-one-secret\tand\nline-two-secret-xyz",
	    "<a v=\"line-one-secret&#09;and&#10;line-two-secret-xyz\" />",
	    "<a v=\"***\" />", "ElementTree's XML attribute is masked");
	test_masked("x-secret\t\"quoted\"\r\nsecond-line",
	    "<a v=\"x-secret&#9;&quot;quoted&quot;&#13;&#10;second-line\"/>",
	    "<a v=\"***\"/>", "so are libxml2's and Java's");
	test_masked("x-secret\t'quoted'\r\nsecond-line",
	    "<a v=\"x-secret&#x9;&#39;quoted&#39;&#xD;&#xA;second-line\"/>",
	    "<a v=\"***\"/>", "and Go's");
	test_masked("abcd\n  efgh", "key: |\n    abcd\n        efgh\n",
	    "key: |\n    ***\n",
	    "a multi-line secret printed indented again is masked whole");
}

int
main(void)
{
	size_t i;

	test_base64_runs();
	test_plain("Tr0ub4dor-and_3.more");
	test_plain("abcd");
	test_plain("ghp_0123456789abcdefABCDEF-xyz.9");
	test_escaped("a/b'c d<", quoted, sizeof(quoted) / sizeof(*quoted));
	test_escaped("ab/cd/ef", slashed, 2);
	test_escaped("~abcdef", tilde, 1);
	test_escaped("p@ss:w0rd/With&Reserved#Chars", curl_reserved, 2);
	test_escaped("open sesame:42/x~y", curl_space, 4);
	test_escaped("del\177-secret-bbb", json_del, 2);
	test_escaped("d\303\251l\177-secret", json_del_utf8, 3);
	test_escaped("ab\377cd\177-secret", json_not_utf8, 1);
	test_escaped("a<b\342\200\250c&d-secret", json_go, 2);
	test_escaped("\303\251a<b\342\200\251c-secret", json_go_utf8, 3);
	test_once("p@ss:w0rd/With&Reserved#Chars");
	test_once("open sesame:42/x~y");
	test_once("a/b'c d<");
	test_once("d\303\251l\177-secret");
	test_once("a<b\342\200\250c&d-secret");
	test_once("pass word 1234!"); /* %20 %21: no hex letter to lower */
	test_once("first-line\nsecond line");
	test_escaped(" \tmany  words\n", words, 2);
	test_escaped("p&ss<w>\"q'd", html, sizeof(html) / sizeof(*html));
	test_once("p&ss<w>\"q'd");
	for (i = 0; i < sizeof(web) / sizeof(*web); i++) {
		test_escaped(web[i].secret, web[i].want, web[i].count);
		test_once(web[i].secret);
	}
	test_masked("p@ss'w:rd#1", "ALTER USER ci PASSWORD 'p@ss''w:rd#1';",
	    "ALTER USER ci PASSWORD '***';",
	    "an SQL literal's doubled quote is masked");
	test_masked("p@ss'w:rd#1", "password: 'p@ss''w:rd#1'",
	    "password: '***'", "and a YAML single-quoted scalar's");
	test_escaped("a/b\303\251c~d e", php, 2);
	test_escaped("pa\177ss\303\251/word", php_del, 1);
	test_escaped("ab/c\342\200\250d\303\251fg", php_separators, 1);
	test_once("a/b\303\251c~d e");
	test_tools_masked();
	return done_testing();
}
