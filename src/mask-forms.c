/*
 * The secret's forms (mask-forms.h).  Every form is written into one scratch
 * buffer that is wiped after each use and before it is freed, since it
 * holds what the masker must hide.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "list.h"
#include "mask-forms.h"
#include "xalloc.h"

struct scratch {
	unsigned char *bytes;
	size_t used;
	size_t size;
};

/* Makes room for size more bytes. */
static void
scratch_room(struct scratch *s, size_t size)
{
	unsigned char *grown;
	size_t want = s->size ? s->size : 256;

	if (s->used + size > s->size) {
		while (want < s->used + size)
			want *= 2;
		/* Not realloc: the old block would be freed unwiped. */
		grown = xmalloc(want);
		if (s->used > 0)
			memcpy(grown, s->bytes, s->used);
		if (s->bytes != NULL)
			wipe(s->bytes, s->size);
		free(s->bytes);
		s->bytes = grown;
		s->size = want;
	}
}

static void
scratch_put(struct scratch *s, const void *bytes, size_t size)
{
	if (size == 0)
		return;
	scratch_room(s, size);
	memcpy(s->bytes + s->used, bytes, size);
	s->used += size;
}

static inline void
scratch_byte(struct scratch *s, unsigned char c)
{
	if (s->used < s->size)
		s->bytes[s->used++] = c;
	else
		scratch_put(s, &c, 1);
}

static void
scratch_release(struct scratch *s)
{
	if (s->bytes != NULL)
		wipe(s->bytes, s->size);
	free(s->bytes);
	memset(s, 0, sizeof(*s));
}

/*
 * Forms built one after another in a scratch and kept there until the
 * batch ends, so that a form equal to the secret or to one given before
 * in the batch is not given again: form i is bytes [bounds[i],
 * bounds[i + 1]) of the scratch.  encodings() builds at most 56 forms in
 * one batch (more would still be given, only not compared).
 */
#define BATCH_MAX 64

struct batch {
	struct scratch *s; /* empty when the batch begins */
	const unsigned char *secret;
	size_t size;
	size_t count;
	size_t bounds[BATCH_MAX + 1];
};

static bool
batch_seen(const struct batch *b, const unsigned char *form, size_t size)
{
	size_t i;

	if (size == b->size && memcmp(form, b->secret, size) == 0)
		return true;
	for (i = 0; i < b->count; i++)
		if (b->bounds[i + 1] - b->bounds[i] == size &&
		    memcmp(b->s->bytes + b->bounds[i], form, size) == 0)
			return true;
	return false;
}

/* Gives the form built since the last one unless the batch has it. */
static void
batch_give(struct batch *b, mask_forms_fn add, void *context)
{
	struct scratch *s = b->s;
	size_t start = b->bounds[b->count], size = s->used - start;
	bool seen = batch_seen(b, s->bytes + start, size);

	if (!seen)
		add(context, s->bytes + start, size);
	/* A form past BATCH_MAX is given but not kept for comparison. */
	if (!seen && b->count < BATCH_MAX) {
		b->bounds[++b->count] = s->used;
		return;
	}
	if (size > 0)
		wipe(s->bytes + start, size);
	s->used = start;
}

static void
batch_end(struct batch *b)
{
	if (b->s->bytes != NULL)
		wipe(b->s->bytes, b->s->used);
	b->s->used = 0;
	b->count = 0;
}

static bool
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* ---- whitespace variants ---- */

static void
form_crlf(struct scratch *s, const unsigned char *in, size_t size)
{
	size_t i;

	for (i = 0; i < size; i++) {
		if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r'))
			scratch_byte(s, '\r');
		scratch_byte(s, in[i]);
	}
}

static void
form_breaks_as_spaces(struct scratch *s, const unsigned char *in, size_t size)
{
	size_t i;

	for (i = 0; i < size; i++) {
		if (in[i] == '\r' && i + 1 < size && in[i + 1] == '\n')
			continue;
		scratch_byte(s, in[i] == '\n' ? ' ' : in[i]);
	}
}

/* What `echo $X` prints: IFS (space, tab, newline) fields joined by ' '. */
static void
form_words(struct scratch *s, const unsigned char *in, size_t size)
{
	size_t start = s->used, i;
	bool gap = false;

	for (i = 0; i < size; i++) {
		if (in[i] == ' ' || in[i] == '\t' || in[i] == '\n') {
			gap = s->used > start;
			continue;
		}
		if (gap)
			scratch_byte(s, ' ');
		gap = false;
		scratch_byte(s, in[i]);
	}
}

static void
trimmed(const unsigned char *in, size_t size, size_t *start, size_t *length)
{
	size_t a = 0, b = size;

	while (a < b && is_space(in[a]))
		a++;
	while (b > a && is_space(in[b - 1]))
		b--;
	*start = a;
	*length = b - a;
}

/* ---- base64 ---- */

static const char base64_standard[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char base64_url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Byte i of the aligned secret: alignment zeros, the secret, zeros. */
static inline unsigned
aligned_byte(
    const unsigned char *secret, size_t size, unsigned alignment, size_t i)
{
	return i >= alignment && i - alignment < size ? secret[i - alignment]
						      : 0;
}

/*
 * The characters of a base-2^width encoding (base64: 6, base32: 5) that
 * come wholly from the size bytes of secret after alignment unknown bytes,
 * with the final partial character when at_end.
 */
static size_t
encoded_run(unsigned char *out, const unsigned char *secret, size_t size,
    unsigned alignment, unsigned width, const char *alphabet, int at_end)
{
	size_t bits = 8 * (alignment + size), first, last, j, n = 0;
	unsigned held = 0, mask = (1u << width) - 1;
	size_t have = 0, next;

	if (size == 0)
		return 0;
	/* Character j covers bits [width * j, width * j + width): wholly
	 * secret from the first j with width * j >= 8 * alignment to the
	 * last with width * j + width <= bits. */
	first = (8 * alignment + width - 1) / width;
	if (bits < width || (bits - width) / width < first)
		return 0;
	last = (bits - width) / width;
	if (at_end)
		last = (bits + width - 1) / width - 1;
	/* The bits of the aligned secret (zero filled) from bit width *
	 * first, taken a byte at a time: `held` keeps the `have` bits not
	 * used. */
	next = width * first / 8;
	have = 8 - width * first % 8;
	held =
	    aligned_byte(secret, size, alignment, next++) & ((1u << have) - 1);
	for (j = first; j <= last; j++) {
		if (have < width) {
			held = held << 8 |
			    aligned_byte(secret, size, alignment, next++);
			have += 8;
		}
		have -= width;
		out[n++] = (unsigned char)alphabet[(held >> have) & mask];
		held &= (1u << have) - 1;
	}
	return n;
}

size_t
mask_forms_base64_run(unsigned char *out, const unsigned char *secret,
    size_t size, unsigned alignment, int url_safe, int at_end)
{
	return encoded_run(out, secret, size, alignment, 6,
	    url_safe ? base64_url : base64_standard, at_end);
}

/*
 * The twelve base64 forms from three runs: the run without the final
 * character is a prefix of the one with it, and the URL-safe run is the
 * standard one with - and _ for + and /.  A form equal to one given
 * before it (no final partial character; no + or / in the run) is not
 * given again.
 */
static void
forms_base64(
    const unsigned char *in, size_t size, mask_forms_fn add, void *context)
{
	size_t max = mask_forms_base64_max(size), n[3], whole[3], i;
	unsigned char *runs = xmalloc(3 * max), *run;
	unsigned alignment;
	bool url_differs = false, changed;
	int url;

	for (alignment = 0; alignment < 3; alignment++) {
		run = runs + alignment * max;
		n[alignment] =
		    mask_forms_base64_run(run, in, size, alignment, 0, 1);
		/* Without the final character when bits are left over. */
		whole[alignment] = n[alignment] -
		    (n[alignment] > 0 && 8 * (alignment + size) % 6 != 0);
		for (i = 0; i < n[alignment]; i++)
			url_differs =
			    url_differs || run[i] == '+' || run[i] == '/';
	}
	for (url = 0; url <= 1; url++) {
		if (url == 1 && !url_differs)
			break;
		for (alignment = 0; alignment < 3; alignment++) {
			run = runs + alignment * max;
			changed = false;
			for (i = 0; i < n[alignment] && url == 1; i++)
				if (run[i] == '+' || run[i] == '/') {
					run[i] = run[i] == '+' ? '-' : '_';
					changed = true;
				}
			if (url == 1 && !changed)
				continue;
			if (whole[alignment] > 0)
				add(context, run, whole[alignment]);
			if (n[alignment] > whole[alignment])
				add(context, run, n[alignment]);
		}
	}
	wipe(runs, 3 * max);
	free(runs);
}

/*
 * base32 (RFC 4648: coreutils' base32, Python's b32encode(), Go) of data
 * that begins with the secret (`base32 <<< "$TOKEN"`, a file that is the
 * secret): the characters wholly from secret bytes, and the same run with
 * the final character when bits are left over.  Only that alignment: the
 * other four would double the needles of every secret (setup and search
 * time) for an encoding seldom used to wrap a secret inside other data.
 */
static void
forms_base32(
    const unsigned char *in, size_t size, mask_forms_fn add, void *context)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	size_t max = (size + 5) / 5 * 8 + 8, n, whole;
	unsigned char *run = xmalloc(max);

	n = encoded_run(run, in, size, 0, 5, alphabet, 1);
	whole = n - (n > 0 && 8 * size % 5 != 0);
	if (whole > 0)
		add(context, run, whole);
	if (n > whole)
		add(context, run, n);
	wipe(run, max);
	free(run);
}

/* ---- hex and percent-encoding ---- */

static void
put_hex(struct scratch *s, unsigned char c, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";

	scratch_byte(s, (unsigned char)digits[c >> 4]);
	scratch_byte(s, (unsigned char)digits[c & 15]);
}

/* Lower case hex of every byte, a space between two (Node's Buffer,
 * Python's bytes.hex(' ')). */
static void
form_hex_spaced(struct scratch *s, const unsigned char *in, size_t size)
{
	size_t i;

	for (i = 0; i < size; i++) {
		if (i > 0)
			scratch_byte(s, ' ');
		put_hex(s, in[i], false);
	}
}

/* Hex of every byte, each after prefix when it is not 0 ('%'). */
static void
form_hex(struct scratch *s, const unsigned char *in, size_t size, bool upper,
    unsigned char prefix)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	unsigned char *out;
	size_t i;

	scratch_room(s, 3 * size);
	out = s->bytes + s->used;
	for (i = 0; i < size; i++) {
		if (prefix != 0)
			*out++ = prefix;
		*out++ = (unsigned char)digits[in[i] >> 4];
		*out++ = (unsigned char)digits[in[i] & 15];
	}
	s->used = (size_t)(out - s->bytes);
}

/*
 * How percent-encoders write a byte they escape and which ones they keep:
 * letters, digits and those of keeps, space as '+' when plus.
 */
struct percent_style {
	const char *keeps;
	bool plus;
	bool lower;
};

static const struct percent_style percent_styles[] = {
	/* RFC 3986: curl_easy_escape(), Python's quote(safe=''), jq's @uri */
	{ .keeps = "-._~" },
	/* the same with printf '%%%02x', as shell scripts write it */
	{ .keeps = "-._~", .lower = true },
	/* Python's quote() */
	{ .keeps = "-._~/" },
	/* curl's --data-urlencode, Python's quote_plus(), Go's QueryEscape */
	{ .keeps = "-._~", .plus = true },
	/* curl's --get --data-urlencode (its URL has lower case hex) */
	{ .keeps = "-._~", .plus = true, .lower = true },
	/* JavaScript's encodeURIComponent() */
	{ .keeps = "-._~!'()*" },
	/* PHP's urlencode() */
	{ .keeps = "-._", .plus = true },
	/* Java's URLEncoder, JavaScript's URLSearchParams (form bodies) */
	{ .keeps = "-._*", .plus = true },
	/* a URL's user info as WHATWG URL writes it (Node's, browsers') */
	{ .keeps = "!$%&'()*+,-._~" },
};

static bool
percent_keeps(unsigned char c, const struct percent_style *style)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr(style->keeps, c) != NULL);
}

static void
form_percent(struct scratch *s, const unsigned char *in, size_t size,
    const struct percent_style *style)
{
	size_t i;

	for (i = 0; i < size; i++) {
		if (percent_keeps(in[i], style)) {
			scratch_byte(s, in[i]);
		} else if (in[i] == ' ' && style->plus) {
			scratch_byte(s, '+');
		} else {
			scratch_byte(s, '%');
			put_hex(s, in[i], !style->lower);
		}
	}
}

/* ---- JSON string escaping ---- */

/* What a JSON encoder escapes besides " \ and the control characters,
 * which every encoder escapes. */
struct json_style {
	bool upper; /* \u00XX in upper case */
	bool slash; /* / as \/ */
	bool del; /* DEL as \u007f */
	/* DEL and every non-ASCII character as \uXXXX (a surrogate pair
	 * above U+FFFF), and a byte that is no UTF-8 as \udcXX: Python's
	 * ensure_ascii, with os.environ's surrogateescape decoding */
	bool ascii;
	bool keep_del; /* DEL as it is, with ascii (PHP) */
	bool html; /* < > & as \u003c \u003e \u0026 */
	bool apos; /* ' as \u0027 */
	bool quot_hex; /* " as \u0022, not \" */
	bool plus; /* + as \u002b */
	bool html_upper; /* those four in upper case hex */
	bool separators; /* U+2028 and U+2029 as \u2028 and \u2029 */
};

static const struct json_style json_styles[] = {
	{ 0 }, /* Python without ensure_ascii, JavaScript, most encoders */
	{ .upper = true }, /* jansson */
	/* PHP's json_encode() */
	{ .slash = true, .ascii = true, .keep_del = true },
	/* with JSON_UNESCAPED_UNICODE (U+2028 U+2029 escaped since 7.1) */
	{ .slash = true, .separators = true },
	{ .slash = true }, /* and JSON_UNESCAPED_LINE_TERMINATORS too */
	{ .del = true }, /* jq */
	{ .ascii = true }, /* Python, jq -a */
	{ .html = true, .separators = true }, /* Go */
	{ .separators = true }, /* Go without HTML escaping */
	/* Jinja2's and Flask's tojson */
	{ .ascii = true, .html = true, .apos = true },
	/* Django's json_script */
	{ .ascii = true, .html = true, .html_upper = true },
	/* PHP with JSON_HEX_TAG, _AMP, _APOS and _QUOT (Laravel's @json) */
	{ .slash = true,
	    .ascii = true,
	    .keep_del = true,
	    .html = true,
	    .apos = true,
	    .quot_hex = true,
	    .html_upper = true },
	/* Go's html/template in a JavaScript string */
	{ .slash = true,
	    .html = true,
	    .apos = true,
	    .quot_hex = true,
	    .plus = true },
};

static void
put_unicode(struct scratch *s, unsigned code, bool upper)
{
	scratch_put(s, "\\u", 2);
	put_hex(s, (unsigned char)(code >> 8), upper);
	put_hex(s, (unsigned char)(code & 0xff), upper);
}

/* Decodes one UTF-8 character at in[*i]; returns -1 when it is invalid. */
static long
utf8_next(const unsigned char *in, size_t size, size_t *i)
{
	unsigned char c = in[*i];
	unsigned long code, min;
	size_t n, k;

	if (c < 0x80) {
		(*i)++;
		return c;
	}
	if (c >= 0xc2 && c <= 0xdf)
		n = 1, code = c & 0x1f, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		n = 2, code = c & 0x0f, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 3, code = c & 0x07, min = 0x10000;
	else
		return -1;
	if (*i + n >= size)
		return -1;
	for (k = 1; k <= n; k++) {
		if ((in[*i + k] & 0xc0) != 0x80)
			return -1;
		code = (code << 6) | (in[*i + k] & 0x3f);
	}
	if (code < min || code > 0x10ffff || (code >= 0xd800 && code < 0xe000))
		return -1;
	*i += n + 1;
	return (long)code;
}

/* Writes the escape for code when the style escapes it; returns false
 * when the character stands for itself. */
static bool
json_escape(struct scratch *s, unsigned code, const struct json_style *style)
{
	static const char shorts[] = "\"\"\\\\\bb\ff\nn\rr\tt";
	const char *p;

	/* Most characters of most secrets stand for themselves. */
	if (code >= 0x20 && code < 0x7f && code != '"' && code != '\\' &&
	    code != '/' && code != '<' && code != '>' && code != '&' &&
	    code != '\'' && code != '+')
		return false;
	if (((code == '<' || code == '>' || code == '&') && style->html) ||
	    (code == '\'' && style->apos) || (code == '"' && style->quot_hex) ||
	    (code == '+' && style->plus)) {
		put_unicode(s, code, style->upper || style->html_upper);
		return true;
	}
	for (p = shorts; *p != '\0'; p += 2)
		if ((unsigned char)*p == code) {
			scratch_byte(s, '\\');
			scratch_byte(s, (unsigned char)p[1]);
			return true;
		}
	if (code >= 0x10000 && style->ascii) {
		code -= 0x10000;
		put_unicode(s, 0xd800 + (code >> 10), false);
		put_unicode(s, 0xdc00 + (code & 0x3ff), false);
		return true;
	}
	if (code < 0x20 ||
	    (code == 0x7f &&
		(style->del || (style->ascii && !style->keep_del))) ||
	    (code >= 0x80 && style->ascii) ||
	    ((code == 0x2028 || code == 0x2029) && style->separators)) {
		put_unicode(s, code, style->upper);
		return true;
	}
	if (code == '/' && style->slash) {
		scratch_put(s, "\\/", 2);
		return true;
	}
	return false;
}

static void
form_json(struct scratch *s, const unsigned char *in, size_t size,
    const struct json_style *style)
{
	bool decode = style->ascii || style->separators;
	size_t i = 0, start;
	long code;

	while (i < size) {
		start = i;
		if (in[i] < 0x80 || !decode) {
			code = in[i++];
		} else if ((code = utf8_next(in, size, &i)) < 0) {
			/* Not UTF-8: Python's surrogateescape, or as it is. */
			code = style->ascii ? 0xdc00 + in[i] : in[i];
			i++;
		}
		if (!json_escape(s, (unsigned)code, style))
			scratch_put(s, in + start, i - start);
	}
}

/* ---- \x escapes: Python's repr() and ascii(), PyYAML ---- */

/*
 * How a writer escapes a string with \x: \ \t \n \r, other control
 * characters and DEL as \xNN; a character above ASCII kept, or as \xNN,
 * \uNNNN or \UNNNNNNNN (ascii), or each of its bytes as \xNN (bytes).
 */
struct x_style {
	bool ascii;
	bool bytes;
	bool upper; /* upper case hex */
	bool quot; /* " as \" */
};

static const struct x_style x_styles[] = {
	{ 0 }, /* Python's repr() */
	{ .ascii = true }, /* Python's ascii() */
	{ .bytes = true }, /* Python's repr() of bytes */
	{ .ascii = true, .upper = true, .quot = true }, /* PyYAML, "..." */
};

static void
put_x(struct scratch *s, const char *prefix, unsigned long code, int digits,
    bool upper)
{
	char out[16];

	snprintf(out, sizeof(out), upper ? "%s%0*lX" : "%s%0*lx", prefix,
	    digits, code);
	scratch_put(s, out, strlen(out));
}

static void
form_x(struct scratch *s, const unsigned char *in, size_t size,
    const struct x_style *style)
{
	size_t i = 0;
	long code;

	while (i < size) {
		if (in[i] == '\\' || (in[i] == '"' && style->quot)) {
			scratch_byte(s, '\\');
			scratch_byte(s, in[i++]);
		} else if (in[i] == '\t' || in[i] == '\n' || in[i] == '\r') {
			scratch_byte(s, '\\');
			scratch_byte(s,
			    in[i] == '\t'       ? 't'
				: in[i] == '\n' ? 'n'
						: 'r');
			i++;
		} else if (in[i] < 0x20 || in[i] == 0x7f ||
		    (in[i] >= 0x80 && style->bytes)) {
			put_x(s, "\\x", in[i++], 2, style->upper);
		} else if (in[i] < 0x80 || !style->ascii) {
			scratch_byte(s, in[i++]);
		} else if ((code = utf8_next(in, size, &i)) < 0) {
			put_x(s, "\\x", in[i++], 2, style->upper);
		} else if (code <= 0xff) {
			put_x(s, "\\x", (unsigned long)code, 2, style->upper);
		} else if (code <= 0xffff) {
			put_x(s, "\\u", (unsigned long)code, 4, style->upper);
		} else {
			put_x(s, "\\U", (unsigned long)code, 8, style->upper);
		}
	}
}

/* ---- cat -v ---- */

/*
 * As cat -v shows bytes: M- before one above 0x7f, then ^ and the letter
 * for a control character (^@ to ^_, ^? for DEL), line breaks kept, and
 * tabs kept or (-T, -A) shown as ^I.
 */
static void
form_cat_v(
    struct scratch *s, const unsigned char *in, size_t size, bool tabs_shown)
{
	unsigned char c;
	size_t i;

	for (i = 0; i < size; i++) {
		c = in[i];
		if (c >= 0x80) {
			scratch_put(s, "M-", 2);
			c -= 0x80;
		} else if (c == '\n' || (c == '\t' && !tabs_shown)) {
			scratch_byte(s, c);
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			scratch_byte(s, '^');
			scratch_byte(
			    s, c == 0x7f ? '?' : (unsigned char)(c + 64));
		} else {
			scratch_byte(s, c);
		}
	}
}

/* ---- HTML and XML escaping ---- */

/* The characters an HTML escaper may write as references besides & < >,
 * which every one writes as &amp; &lt; &gt;. */
static const char html_optional[] = "\"'+=/`";

/* How an escaper writes each of html_optional (NULL: as it is), and a
 * tab, "\n" and "\r" (XML attribute values; NULL: as they are). */
struct html_style {
	const char *as[sizeof(html_optional) - 1];
	const char *const *space;
};

static const char *const xml_space_decimal[] = { "&#9;", "&#10;", "&#13;" };
static const char *const xml_space_padded[] = { "&#09;", "&#10;", "&#13;" };
static const char *const xml_space_hex[] = { "&#x9;", "&#xA;", "&#xD;" };

static const struct html_style html_styles[] = {
	/* Python's html.escape() */
	{ { "&quot;", "&#x27;" }, NULL },
	/* Go's html.EscapeString(), Jinja2 */
	{ { "&#34;", "&#39;" }, NULL },
	/* Go's html/template */
	{ { "&#34;", "&#39;", "&#43;" }, NULL },
	/* Handlebars */
	{ { "&quot;", "&#x27;", NULL, "&#x3D;", NULL, "&#x60;" }, NULL },
	/* mustache.js */
	{ { "&quot;", "&#39;", NULL, "&#x3D;", "&#x2F;", "&#x60;" }, NULL },
	/* Ruby's ERB::Util.html_escape, Rails */
	{ { "&quot;", "&#39;" }, NULL },
	/* PHP's htmlspecialchars() */
	{ { "&quot;", "&#039;" }, NULL },
	/* XML attributes */
	{ { "&quot;", "&apos;" }, NULL },
	/* PHP before 8.1, Apache Commons' escapeHtml4 */
	{ { "&quot;" }, NULL },
	/* XML text, html.escape(quote=False) */
	{ { NULL }, NULL },
	/* XML attributes with whitespace escaped: Python's ElementTree, */
	{ { "&quot;" }, xml_space_padded },
	/* libxml2, lxml and Java's serializers, */
	{ { "&quot;" }, xml_space_decimal },
	/* Go's encoding/xml, */
	{ { "&#34;", "&#39;" }, xml_space_hex },
	/* .NET's XmlWriter */
	{ { "&quot;" }, xml_space_hex },
};

static void
form_html(struct scratch *s, const unsigned char *in, size_t size,
    const struct html_style *style)
{
	const char *escape, *optional;
	size_t i;

	for (i = 0; i < size; i++) {
		optional = in[i] != '\0' ? strchr(html_optional, in[i]) : NULL;
		if (in[i] == '&')
			escape = "&amp;";
		else if (in[i] == '<')
			escape = "&lt;";
		else if (in[i] == '>')
			escape = "&gt;";
		else if (optional != NULL)
			escape = style->as[optional - html_optional];
		else if (style->space != NULL &&
		    (in[i] == '\t' || in[i] == '\n' || in[i] == '\r'))
			escape = style->space[in[i] == '\t' ? 0
				: in[i] == '\n'             ? 1
							    : 2];
		else
			escape = NULL;
		if (escape != NULL)
			scratch_put(s, escape, strlen(escape));
		else
			scratch_byte(s, in[i]);
	}
}

/* ---- shell quoting ---- */

/* POSIX single quotes: ' as '\'' (bash's set -x) or as '"'"' (shlex). */
static void
form_single_quoted(
    struct scratch *s, const unsigned char *in, size_t size, const char *quote)
{
	size_t i;

	for (i = 0; i < size; i++) {
		if (in[i] == '\'')
			scratch_put(s, quote, strlen(quote));
		else
			scratch_byte(s, in[i]);
	}
}

/* Every quote character q doubled. */
static void
form_quote_doubled(
    struct scratch *s, const unsigned char *in, size_t size, unsigned char q)
{
	size_t i;

	for (i = 0; i < size; i++) {
		if (in[i] == q)
			scratch_byte(s, q);
		scratch_byte(s, in[i]);
	}
}

/*
 * Quoted-printable (RFC 2045, a mail's body): '=', control characters
 * but the tab, and bytes above 0x7e as =XX, upper case.
 */
static void
form_quoted_printable(struct scratch *s, const unsigned char *in, size_t size)
{
	size_t i;

	for (i = 0; i < size; i++) {
		if (in[i] == '=' || (in[i] < 0x20 && in[i] != '\t') ||
		    in[i] > 0x7e) {
			scratch_byte(s, '=');
			put_hex(s, in[i], true);
		} else {
			scratch_byte(s, in[i]);
		}
	}
}

/* Inside double quotes (declare -p): \ before " \ $ and `. */
static void
form_double_quoted(struct scratch *s, const unsigned char *in, size_t size)
{
	size_t i;

	for (i = 0; i < size; i++) {
		if (strchr("\"\\$`", in[i]) != NULL && in[i] != '\0')
			scratch_byte(s, '\\');
		scratch_byte(s, in[i]);
	}
}

/* printf %q of printable text: \ before the shell's special characters,
 * and before # and ~ only at the start. */
static void
form_backslashed(struct scratch *s, const unsigned char *in, size_t size)
{
	size_t i;

	for (i = 0; i < size; i++) {
		if ((in[i] != '\0' &&
			strchr(" !\"$&'()*,;<>?[\\]^`{|}", in[i])) ||
		    (i == 0 && (in[i] == '#' || in[i] == '~')))
			scratch_byte(s, '\\');
		scratch_byte(s, in[i]);
	}
}

/* The body of bash's $'...' (printf %q, declare -p and set -x of a value
 * holding control characters): C escapes, \ooo for other bytes that are
 * not printable; high bytes kept (a UTF-8 locale) or as \ooo (C locale). */
static void
form_ansi_c(
    struct scratch *s, const unsigned char *in, size_t size, bool octal_high)
{
	static const char escapes[] = "\aa\bb\033E\ff\nn\rr\tt\vv\\\\''";
	const char *p;
	char octal[5];
	size_t i;

	for (i = 0; i < size; i++) {
		for (p = escapes; *p != '\0'; p += 2)
			if ((unsigned char)*p == in[i])
				break;
		if (*p != '\0') {
			scratch_byte(s, '\\');
			scratch_byte(s, (unsigned char)p[1]);
		} else if (in[i] < 0x20 || in[i] == 0x7f ||
		    (in[i] >= 0x80 && octal_high)) {
			snprintf(octal, sizeof(octal), "\\%03o", in[i]);
			scratch_put(s, octal, 4);
		} else {
			scratch_byte(s, in[i]);
		}
	}
}

static void
forms_shell(struct batch *b, mask_forms_fn add, void *context)
{
	struct scratch *s = b->s;

	form_single_quoted(s, b->secret, b->size, "'\\''");
	batch_give(b, add, context);
	form_single_quoted(s, b->secret, b->size, "'\"'\"'");
	batch_give(b, add, context);
	/* ' doubled: SQL string literals, YAML's single quotes */
	form_single_quoted(s, b->secret, b->size, "''");
	batch_give(b, add, context);
	/* " doubled: CSV fields, PowerShell and VB strings */
	form_quote_doubled(s, b->secret, b->size, '"');
	batch_give(b, add, context);
	form_double_quoted(s, b->secret, b->size);
	batch_give(b, add, context);
	form_backslashed(s, b->secret, b->size);
	batch_give(b, add, context);
	form_ansi_c(s, b->secret, b->size, false);
	batch_give(b, add, context);
	form_ansi_c(s, b->secret, b->size, true);
	batch_give(b, add, context);
}

/* ---- lines of a multi-line secret ---- */

/* PEM armour is no secret: masking it would hide every certificate. */
static bool
is_armour(const unsigned char *line, size_t size)
{
	return (size >= 11 && memcmp(line, "-----BEGIN ", 11) == 0) ||
	    (size >= 9 && memcmp(line, "-----END ", 9) == 0);
}

/* Each line, without its surrounding whitespace, on its own. */
static void
forms_lines(
    const unsigned char *in, size_t size, mask_forms_fn add, void *context)
{
	const unsigned char *line = in, *end = in + size, *newline;
	size_t start, length;

	if (memchr(in, '\n', size) == NULL)
		return;
	while (line < end) {
		newline = memchr(line, '\n', (size_t)(end - line));
		if (newline == NULL)
			newline = end;
		trimmed(line, (size_t)(newline - line), &start, &length);
		if (length > 0 && !is_armour(line + start, length))
			add(context, line + start, length);
		line = newline + 1;
	}
}

/* ---- all forms ---- */

/*
 * Whether every byte is a letter, a digit, '-', '_' or '.': bytes that
 * every percent-encoding but the every-byte ones, every JSON escaping and
 * every shell quoting above write as they are, so those forms are the
 * secret itself.
 */
static bool
plain_bytes(const unsigned char *in, size_t size)
{
	size_t i;

	for (i = 0; i < size; i++)
		if (!((in[i] >= 'a' && in[i] <= 'z') ||
			(in[i] >= 'A' && in[i] <= 'Z') ||
			(in[i] >= '0' && in[i] <= '9') || in[i] == '-' ||
			in[i] == '_' || in[i] == '.'))
			return false;
	return true;
}

/* The percent, JSON, HTML and shell forms that escape some bytes, not
 * all. */
static void
forms_escaped(struct batch *b, mask_forms_fn add, void *context)
{
	size_t i;

	for (i = 0; i < sizeof(percent_styles) / sizeof(*percent_styles); i++) {
		form_percent(b->s, b->secret, b->size, &percent_styles[i]);
		batch_give(b, add, context);
	}
	for (i = 0; i < sizeof(json_styles) / sizeof(*json_styles); i++) {
		form_json(b->s, b->secret, b->size, &json_styles[i]);
		batch_give(b, add, context);
	}
	for (i = 0; i < sizeof(html_styles) / sizeof(*html_styles); i++) {
		form_html(b->s, b->secret, b->size, &html_styles[i]);
		batch_give(b, add, context);
	}
	for (i = 0; i < sizeof(x_styles) / sizeof(*x_styles); i++) {
		form_x(b->s, b->secret, b->size, &x_styles[i]);
		batch_give(b, add, context);
	}
	form_quoted_printable(b->s, b->secret, b->size);
	batch_give(b, add, context);
	form_cat_v(b->s, b->secret, b->size, false);
	batch_give(b, add, context);
	form_cat_v(b->s, b->secret, b->size, true);
	batch_give(b, add, context);
	forms_shell(b, add, context);
}

static void
encodings(struct scratch *s, const unsigned char *in, size_t size,
    mask_forms_fn add, void *context)
{
	struct batch b = { .s = s, .secret = in, .size = size };

	forms_base64(in, size, add, context);
	forms_base32(in, size, add, context);
	form_hex(s, in, size, false, 0);
	batch_give(&b, add, context);
	form_hex(s, in, size, true, 0);
	batch_give(&b, add, context);
	form_hex_spaced(s, in, size);
	batch_give(&b, add, context);
	/* Node shows a Buffer's first 50 bytes only. */
	if (size > 50) {
		form_hex_spaced(s, in, 50);
		batch_give(&b, add, context);
	}
	/* Percent-encoding of every byte. */
	form_hex(s, in, size, true, '%');
	batch_give(&b, add, context);
	form_hex(s, in, size, false, '%');
	batch_give(&b, add, context);
	/* The other forms of plain bytes are the bytes. */
	if (!plain_bytes(in, size))
		forms_escaped(&b, add, context);
	batch_end(&b);
}

/* The whitespace variants and the trimmed secret (mask-forms.h). */
static void
forms_whitespace(struct scratch *s, const unsigned char *in, size_t size,
    mask_forms_fn add, void *context)
{
	struct batch b = { .s = s, .secret = in, .size = size };
	size_t start, length;

	form_crlf(s, in, size);
	batch_give(&b, add, context);
	form_breaks_as_spaces(s, in, size);
	batch_give(&b, add, context);
	form_words(s, in, size);
	batch_give(&b, add, context);
	trimmed(in, size, &start, &length);
	if (length > 0) {
		scratch_put(s, in + start, length);
		batch_give(&b, add, context);
	}
	batch_end(&b);
}

void
mask_forms_each(
    const unsigned char *secret, size_t size, mask_forms_fn add, void *context)
{
	struct scratch s = { 0 };
	size_t i, start, length;
	bool space = false;

	add(context, secret, size);
	for (i = 0; i < size; i++)
		space = space || is_space(secret[i]);
	if (space)
		forms_whitespace(&s, secret, size, add, context);
	encodings(&s, secret, size, add, context);
	forms_lines(secret, size, add, context);
	trimmed(secret, size, &start, &length);
	if (length < size && length > 0)
		encodings(&s, secret + start, length, add, context);
	scratch_release(&s);
}

size_t
mask_forms_fold(unsigned char *out, const unsigned char *in, size_t size)
{
	size_t i = 0, n = 0, length, indent;
	bool before, after, partial;

	while (i < size) {
		if (in[i] == 0x1b &&
		    (length = mask_forms_csi(in + i, size - i, &partial)) > 0) {
			i += length;
			continue;
		}
		if (in[i] == '\r' && i + 1 < size && in[i + 1] == '\n')
			length = 2;
		else if (in[i] == '\n' || (in[i] == '\r' && i + 1 == size))
			length = 1;
		else
			length = 0;
		if (length == 0) {
			if (out != NULL)
				out[n] = in[i];
			n++;
			i++;
			continue;
		}
		before = i == 0 || mask_forms_encoded(in[i - 1]);
		indent = 0;
		if (in[i + length - 1] == '\n')
			while (indent <= MASK_FOLD_INDENT_MAX &&
			    i + length + indent < size &&
			    (in[i + length + indent] == ' ' ||
				in[i + length + indent] == '\t'))
				indent++;
		if (indent > MASK_FOLD_INDENT_MAX)
			indent = 0;
		after = i + length + indent == size ||
		    mask_forms_encoded(in[i + length + indent]);
		/* Left out between encoded characters, and with an indent
		 * at either end (the text's break may be one space there). */
		if ((before && after) ||
		    (indent > 0 && (i == 0 || i + length + indent == size))) {
			i += length + indent;
			continue;
		}
		/* One space: a line wrapped at a space, and indented. */
		if (indent > 0 && in[i + length + indent] != '\n' &&
		    in[i + length + indent] != '\r') {
			if (out != NULL)
				out[n] = ' ';
			n++;
			i += length + indent;
			continue;
		}
		if (out != NULL)
			memmove(out + n, in + i, length);
		n += length;
		i += length;
	}
	return n;
}
