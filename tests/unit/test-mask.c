/*
 * Unit tests for the secret masker (mask.h): the leaks other executors
 * have had, each encoding and variant, chunking, registration while a
 * stream holds bytes, patterns, quiet flushes and the one-shot form.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mask-forms.h"
#include "mask.h"
#include "tap.h"

struct output {
	char *data;
	size_t used;
	size_t size;
};

static void
collect(void *context, const char *data, size_t size)
{
	struct output *out = context;

	if (out->used + size + 1 > out->size) {
		out->size = (out->used + size + 1) * 2;
		out->data = realloc(out->data, out->size);
	}
	memcpy(out->data + out->used, data, size);
	out->used += size;
	out->data[out->used] = '\0';
}

/* Feeds the pieces (NULL-terminated) in order; returns the output. */
static char *
feed_pieces(struct mask_set *set, const char *const *pieces)
{
	struct output out = { NULL, 0, 0 };
	struct mask_stream *s = mask_stream_new(set, collect, &out);

	collect(&out, "", 0);
	for (; *pieces != NULL; pieces++)
		mask_stream_feed(s, *pieces, strlen(*pieces));
	mask_stream_flush(s);
	mask_stream_free(s);
	return out.data;
}

static void
masks(struct mask_set *set, const char *in, const char *expected,
    const char *what)
{
	const char *pieces[] = { in, NULL };
	char *got = feed_pieces(set, pieces);

	is_str(got, expected, what);
	free(got);
}

static struct mask_set *
set_of(const char *secret, size_t min_length)
{
	struct mask_set *set = mask_set_new(NULL, min_length);

	if (mask_set_add(set, secret, strlen(secret), NULL) != 0)
		printf("# cannot add the secret\n");
	return set;
}

static void
test_split_writes(void)
{
	struct mask_set *set = set_of("aab", 3);
	const char *pieces[] = { "aa", "ab", NULL };
	struct output out = { NULL, 0, 0 };
	struct mask_stream *s;
	char *got;

	got = feed_pieces(set, pieces);
	is_str(got, "a***", "'aab' written as 'aa' + 'ab' is masked");
	free(got);

	s = mask_stream_new(set, collect, &out);
	mask_stream_feed(s, "xaa", 3);
	is_int(
	    (long long)out.used, 1, "a possible start of the secret is held");
	is_int((long long)mask_stream_held(s), 2, "held: the two bytes");
	mask_stream_feed(s, "ab", 2);
	mask_stream_flush(s);
	is_str(out.data, "xa***", "and masked when the secret completes");
	mask_stream_free(s);
	free(out.data);
	mask_set_free(set);
}

static void
test_base64(void)
{
	struct mask_set *set = set_of("password", 4);

	/*
	 * echo password | base64: 'Q' holds the last 4 bits of 'd' and the
	 * top 2 of '\n' (zero), so it equals the final character of the
	 * secret's own encoding and goes too; 'K' is the newline's.
	 */
	masks(set, "token: cGFzc3dvcmQK\n", "token: ***K\n",
	    "base64 of 'password\\n' (alignment 0)");
	masks(set, "Authorization: Basic dTpwYXNzd29yZAo=\n",
	    "Authorization: Basic dTp***o=\n",
	    "base64 of 'u:password\\n' (alignment 2)");
	masks(set, "x cGFzc3dvcmQ= y\n", "x ***= y\n",
	    "base64 of the secret alone, final character included");
	masks(set, "eHBhc3N3b3Jk\n", "eH***\n", "base64 of 'xpassword'");
	masks(set, "[cGFzc3dvcmQ]\n", "[***]\n", "unpadded base64 (JWT style)");
	mask_set_free(set);

	set = set_of("\xfb\xff\xfe\xfd\xfc\xfb", 4);
	masks(set, "+//+/fz7\n", "***\n", "standard base64 alphabet");
	masks(set, "-__-_fz7\n", "***\n", "URL-safe base64 alphabet");
	mask_set_free(set);
}

static void
test_overlaps(void)
{
	struct mask_set *set = mask_set_new(NULL, 4);

	mask_set_add(set, "abcdef", 6, NULL);
	mask_set_add(set, "defghi", 6, NULL);
	masks(
	    set, "x abcdefghi y", "x *** y", "overlapping secrets: one token");
	masks(set, "abcdefdefghi", "***", "adjacent secrets: one token");
	masks(set, "abcdef defghi", "*** ***", "apart: two tokens");
	masks(set, "abcdefabcdef", "***", "a secret twice in a row: one token");
	mask_set_free(set);
}

static void
test_whitespace(void)
{
	struct mask_set *set = set_of("first-line\nsecond-line", 4);

	masks(set, "first-line second-line\n", "***\n",
	    "echo $X: the newline as a space");
	masks(set, "first-line\r\nsecond-line\n", "***\n", "\\r\\n line ends");
	masks(set, "+ echo 'first-line\nsecond-line'\n", "+ echo '***'\n",
	    "set -x keeps the newline");
	masks(set, "{\"v\":\"first-line\\nsecond-line\"}", "{\"v\":\"***\"}",
	    "JSON-escaped newline");
	mask_set_free(set);

	set = set_of("  two\twords \n", 4);
	masks(set, "[two words]", "[***]", "echo $X joins the words");
	masks(set, "[two\twords]", "[***]", "trimmed");
	mask_set_free(set);

	set = set_of("hunter22\n", 4);
	masks(set, "pw=hunter22;", "pw=***;",
	    "a secret read from a file, without its newline");
	masks(set, "aHVudGVyMjI=", "***=", "and its base64");
	mask_set_free(set);
}

static void
test_hex_percent_json(void)
{
	struct mask_set *set = set_of("p@ss w/rd!", 4);

	masks(set, "7040737320772f726421\n", "***\n", "hex, lower case");
	masks(set, "7040737320772F726421\n", "***\n", "hex, upper case");
	masks(set, "q=%70%40%73%73%20%77%2F%72%64%21&", "q=***&",
	    "percent-encoding of every byte");
	masks(set, "q=%70%40%73%73%20%77%2f%72%64%21&", "q=***&",
	    "every byte, lower-case hex");
	masks(set, "q=p%40ss%20w%2Frd%21&", "q=***&",
	    "percent-encoding of the reserved bytes (quote(safe=''))");
	masks(set, "q=p%40ss%20w/rd%21&", "q=***&", "quote() keeps '/'");
	masks(set, "q=p%40ss+w%2Frd%21&", "q=***&", "quote_plus()");
	masks(set, "q=p%40ss%20w%2Frd!&", "q=***&", "encodeURIComponent()");
	masks(set, "\"p@ss w\\/rd!\"", "\"***\"", "JSON with \\/");
	mask_set_free(set);

	set = set_of("a\"b\\c\nd\x01"
		     "e/\xc3\xa9",
	    4);
	masks(set, "{\"k\":\"a\\\"b\\\\c\\nd\\u0001e/\xc3\xa9\"}",
	    "{\"k\":\"***\"}", "JSON escaping");
	masks(set, "{\"k\":\"a\\\"b\\\\c\\nd\\u0001e/\\u00e9\"}",
	    "{\"k\":\"***\"}", "JSON with ensure_ascii");
	masks(set, "{\"k\":\"a\\\"b\\\\c\\nd\\u0001e\\/\xc3\xa9\"}",
	    "{\"k\":\"***\"}", "JSON with \\/");
	mask_set_free(set);
}

/* Every way of cutting the text in two, then in three, masks the same. */
static void
test_every_split(void)
{
	static const char text[] = "key=s3cr3t-T0ken! 'czNjcjN0LVQwa2VuIQ=='"
				   " 73336372337"
				   "42d54306b656e21 s3cr3t";
	static const char expected[] = "key=*** '***==' *** s3cr3t";
	struct mask_set *set = set_of("s3cr3t-T0ken!", 4);
	size_t n = strlen(text), i, j, bad = 0;
	char first[128], second[128], third[128];
	const char *pieces[4];
	char *got;

	masks(set, text, expected, "the whole text");
	for (i = 0; i <= n; i++)
		for (j = i; j <= n; j++) {
			memcpy(first, text, i);
			first[i] = '\0';
			memcpy(second, text + i, j - i);
			second[j - i] = '\0';
			strcpy(third, text + j);
			pieces[0] = first;
			pieces[1] = second;
			pieces[2] = third;
			pieces[3] = NULL;
			got = feed_pieces(set, pieces);
			bad += strcmp(got, expected) != 0;
			free(got);
		}
	is_int((long long)bad, 0, "cut in every pair of places: same output");
	mask_set_free(set);
}

static void
test_registration(void)
{
	struct mask_set *set = mask_set_new(NULL, 4);
	struct output out = { NULL, 0, 0 };
	struct mask_stream *s, *other;

	mask_set_add(set, "abcdefgh1", 9, NULL);
	s = mask_stream_new(set, collect, &out);
	other = mask_stream_new(set, collect, &out);
	mask_stream_feed(s, "log: abcdefgh", 13);
	is_str(out.data, "log: ", "a possible start of a secret is held");
	is_int((long long)mask_stream_held(s), 8, "eight bytes held");
	mask_set_add(set, "cdefgh", 6, NULL);
	mask_stream_rescan(s);
	mask_stream_rescan(other);
	is_int((long long)mask_stream_held(s), 8, "still held after rescan");
	mask_stream_flush(s);
	is_str(out.data, "log: ab***",
	    "a secret registered later is masked in the held bytes");
	mask_stream_free(s);
	mask_stream_free(other);
	free(out.data);
	mask_set_free(set);
}

static void
test_many_levels(void)
{
	struct mask_set *set = mask_set_new(NULL, 4);
	struct output out = { NULL, 0, 0 };
	struct mask_stream *s = mask_stream_new(set, collect, &out);
	char secret[32], line[64];
	size_t i, bad = 0;

	for (i = 0; i < 300; i++) {
		snprintf(secret, sizeof(secret), "tok%03zu-%zx", i, i * 7919);
		mask_set_add(set, secret, strlen(secret), NULL);
		mask_stream_rescan(s);
		snprintf(line, sizeof(line), "<%s>", secret);
		out.used = 0;
		mask_stream_feed(s, line, strlen(line));
		bad += out.data == NULL || strcmp(out.data, "<***>") != 0;
	}
	is_int((long long)bad, 0, "each of 300 secrets added one by one");
	mask_set_compact(set);
	out.used = 0;
	snprintf(line, sizeof(line), "<tok000-0><%s>", secret);
	mask_stream_feed(s, line, strlen(line));
	is_str(out.data, "<***><***>", "after compacting the levels");
	mask_stream_free(s);
	free(out.data);
	mask_set_free(set);
}

static void
test_refusals(void)
{
	struct mask_set *set = mask_set_new(NULL, 4);
	char *error = NULL, big[MASK_SECRET_MAX + 1];
	size_t needles;

	is_int(mask_set_add(set, "abc", 3, &error), 1, "a short secret");
	ok(error != NULL && strstr(error, "abc") == NULL,
	    "is refused with a message that does not show it");
	free(error);
	error = NULL;
	is_int(mask_set_add(set, " \n ab\n", 6, &error), 1,
	    "whitespace does not count");
	free(error);
	error = NULL;
	is_int(mask_set_add(set, "ab\n   c", 7, &error), 1,
	    "nor do a line break and indent the secret is matched across");
	ok(error != NULL && strstr(error, "minimum length") != NULL,
	    "it is refused as too short, not taken and never matched");
	free(error);
	memset(big, 'x', sizeof(big));
	is_int(mask_set_add(set, big, sizeof(big), &error), -1,
	    "a secret over MASK_SECRET_MAX is an error");
	free(error);
	is_int(mask_set_add(set, "abcd", 4, NULL), 0, "four bytes are enough");
	needles = mask_set_needles(set);
	is_int((long long)needles, 11,
	    "abcd, 5 base64 runs, 2 base32 runs, hex (also spaced), percent");
	is_int(mask_set_add(set, "abcd", 4, NULL), 0, "a duplicate is fine");
	is_int((long long)mask_set_needles(set), (long long)needles,
	    "and adds nothing");
	masks(set, "abc abcd", "abc ***", "only the secret is masked");
	mask_set_free(set);
}

static void
test_patterns(void)
{
	static const char token[] = "ghp_0123456789abcdefghijABCDEFGHIJ012345";
	struct mask_set *set = mask_set_new(NULL, 4);
	const char *pieces[] = { "auth ghp_0123456789", "abcdefghijABCDEFGH",
		"IJ012345 ok\n", NULL };
	char *error = NULL, *got, *line;
	size_t n;

	is_int(mask_set_add_pattern(set, "a(b", &error), -1,
	    "a bad pattern is refused");
	ok(error != NULL && strstr(error, "offset 3") != NULL,
	    "with the offset in the message");
	free(error);
	is_int(mask_set_add_pattern(set, "ghp_[A-Za-z0-9]{36}", NULL), 0,
	    "a token pattern");
	got = feed_pieces(set, pieces);
	is_str(got, "auth *** ok\n", "a token split across writes is masked");
	free(got);
	masks(set, "ghp_short\n", "ghp_short\n", "a non-match passes");

	/* One line longer than a pattern window, a token across its edge. */
	n = MASK_PATTERN_WINDOW + 100;
	line = malloc(n + 2);
	memset(line, '.', n);
	memcpy(line + MASK_PATTERN_WINDOW - 20, token, strlen(token));
	line[n] = '\n';
	line[n + 1] = '\0';
	got = mask_string(set, line, n + 1, NULL);
	ok(strstr(got, "ghp_") == NULL && strstr(got, "***") != NULL &&
		strlen(got) == n + 1 - strlen(token) + 3,
	    "a token across the edge of a pattern window");
	free(got);
	free(line);
	mask_set_free(set);

	set = mask_set_new(NULL, 4);
	mask_set_add_pattern(set, "^secret: \\S+$", NULL);
	masks(set, "secret: abc\nsecret: a b\n", "***\nsecret: a b\n",
	    "patterns see lines: ^ and $");
	mask_set_free(set);
}

static void
test_quiet(void)
{
	struct mask_set *set = set_of("Zq7-secret", 4);
	struct output out = { NULL, 0, 0 };
	struct mask_stream *s = mask_stream_new(set, collect, &out);

	mask_stream_feed(s, "Password: Zq", 12);
	is_str(out.data, "Password: ", "'Zq' is held");
	ok(mask_stream_flush_quiet(s), "a quiet flush may show two bytes");
	is_str(out.data, "Password: Zq", "and does");
	mask_stream_feed(s, "7", 1);
	ok(mask_stream_flush_quiet(s), "three");
	mask_stream_feed(s, "-s", 2);
	ok(!mask_stream_flush_quiet(s), "but not five");
	is_str(out.data, "Password: Zq7", "so two more stay held");
	mask_stream_feed(s, "ecret.", 6);
	is_str(out.data, "Password: Zq7***.", "the rest is masked");
	mask_stream_feed(s, "Zq7-secre", 9);
	mask_stream_flush(s);
	is_str(out.data, "Password: Zq7***.Zq7-secre",
	    "at the end of the stream held bytes go out as they are");
	mask_stream_free(s);
	free(out.data);
	mask_set_free(set);

	/* A needle that begins with a space, which a line break and the
	 * indent after it are in the folded view: the indent counts as
	 * revealed bytes; the break goes out with its line. */
	set = mask_set_new(NULL, 4);
	mask_set_add_exact(set, " .abcdefgh", 10, NULL);
	memset(&out, 0, sizeof(out));
	s = mask_stream_new(set, collect, &out);
	mask_stream_feed(s, "x\r\n     ", 8);
	ok(!mask_stream_flush_quiet(s),
	    "a quiet flush does not show an indent of five");
	is_str(out.data, "x\r\n", "but the line and its break go out");
	mask_stream_feed(s, ".abcdefgh\n", 10);
	mask_stream_flush(s);
	is_str(out.data, "x\r\n***\n", "and the needle is masked whole");
	mask_stream_free(s);
	free(out.data);
	mask_set_free(set);
}

static void
test_mask_string(void)
{
	struct mask_set *set = set_of("s3cr3tval", 4);
	size_t size = 0;
	char *got;

	got = mask_string(set, "cannot use 's3cr3tval': denied", 30, &size);
	is_str(got, "cannot use '***': denied", "mask_string masks");
	is_int((long long)size, 24, "and gives the length");
	free(got);
	got = mask_string(set, "", 0, NULL);
	is_str(got, "", "the empty string");
	free(got);
	got = mask_string(set, "s3cr3", 5, NULL);
	is_str(got, "s3cr3", "a prefix at the end is not a secret");
	free(got);
	mask_set_free(set);
}

static void
test_shell_quoting(void)
{
	struct mask_set *set = set_of("Tr0ub's $x\"y\\z", 4);
	struct mask_set *control = set_of("pass\001w\tord\n", 4);

	masks(set, "+ echo 'Tr0ub'\\''s $x\"y\\z'\n", "+ echo '***'\n",
	    "bash set -x of a value holding '");
	masks(set, "x='Tr0ub'\"'\"'s $x\"y\\z'\n", "x='***'\n",
	    "the '\"'\"' idiom (shlex.quote)");
	masks(set, "Tr0ub\\'s\\ \\$x\\\"y\\\\z\n", "***\n", "printf %q");
	masks(set, "declare -- X=\"Tr0ub's \\$x\\\"y\\\\z\"\n",
	    "declare -- X=\"***\"\n", "declare -p");
	masks(control, "+ : $'pass\\001w\\tord\\n'\n", "+ : $'***'\n",
	    "$'...' of control characters");
	mask_set_free(set);
	mask_set_free(control);
}

/* Masks in with pieces of chunk bytes. */
static char *
masked_in_chunks(struct mask_set *set, const char *in, size_t chunk)
{
	struct output out = { NULL, 0, 0 };
	struct mask_stream *s = mask_stream_new(set, collect, &out);
	size_t size = strlen(in), i, n;

	collect(&out, "", 0);
	for (i = 0; i < size; i += n) {
		n = size - i < chunk ? size - i : chunk;
		mask_stream_feed(s, in + i, n);
	}
	mask_stream_flush(s);
	mask_stream_free(s);
	return out.data;
}

static void
base64_encode(char *out, const unsigned char *in, size_t size, bool url)
{
	const char *a = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
			      "vwxyz0123456789-_"
			    : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
			      "vwxyz0123456789+/";
	size_t i, n = 0;
	unsigned v;

	for (i = 0; i < size; i += 3) {
		v = (unsigned)in[i] << 16;
		if (i + 1 < size)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < size)
			v |= in[i + 2];
		out[n++] = a[v >> 18];
		out[n++] = a[(v >> 12) & 63];
		out[n++] = i + 1 < size ? a[(v >> 6) & 63] : '=';
		out[n++] = i + 2 < size ? a[v & 63] : '=';
	}
	out[n] = '\0';
}

static void
hex_encode(char *out, const unsigned char *in, size_t size)
{
	size_t i;

	for (i = 0; i < size; i++)
		sprintf(out + 2 * i, "%02x", in[i]);
}

/* Wraps in at width columns with "\n" or "\r\n". */
static void
wrap(char *out, const char *in, size_t width, bool crlf)
{
	size_t i, n = 0;

	for (i = 0; in[i] != '\0'; i++) {
		if (i > 0 && i % width == 0) {
			if (crlf)
				out[n++] = '\r';
			out[n++] = '\n';
		}
		out[n++] = in[i];
	}
	out[n] = '\0';
}

/* Whether some 6 characters of run show in text once breaks are gone. */
static bool
shows_part(const char *text, const char *run, size_t run_size)
{
	char *joined = malloc(strlen(text) + 1), part[7];
	size_t i, n = 0;
	bool shows = false;

	for (i = 0; text[i] != '\0'; i++)
		if (text[i] != '\n' && text[i] != '\r')
			joined[n++] = text[i];
	joined[n] = '\0';
	for (i = 0; i + 6 <= run_size && !shows; i++) {
		memcpy(part, run + i, 6);
		part[6] = '\0';
		shows = strstr(joined, part) != NULL;
	}
	free(joined);
	return shows;
}

static void
test_wrapped(void)
{
	static const size_t widths[] = { 76, 64, 60, 13, 4 };
	unsigned char data[200], secret[100];
	char encoded[400], text[600], *got, label[96];
	unsigned char run[256];
	struct mask_set *set = mask_set_new(NULL, 4);
	size_t w, alignment, run_size, i;
	bool url, crlf, leak;

	for (i = 0; i < sizeof(secret); i++)
		secret[i] = (unsigned char)(i * 37 + 11);
	mask_set_add(set, secret, sizeof(secret), NULL);
	for (w = 0; w < sizeof(widths) / sizeof(*widths); w++) {
		leak = false;
		for (alignment = 0; alignment < 3; alignment++)
			for (i = 0; i < 4; i++) {
				url = i & 1;
				crlf = i & 2;
				memcpy(data, "\x01\x02\x03", alignment);
				memcpy(
				    data + alignment, secret, sizeof(secret));
				memcpy(data + alignment + sizeof(secret),
				    "and then the tail", 17);
				base64_encode(encoded, data,
				    alignment + sizeof(secret) + 17, url);
				wrap(text, encoded, widths[w], crlf);
				got = masked_in_chunks(set, text, 1 + i * 7);
				run_size = mask_forms_base64_run(run, secret,
				    sizeof(secret), (unsigned)alignment, url,
				    0);
				leak = leak ||
				    shows_part(got, (char *)run, run_size);
				free(got);
			}
		snprintf(label, sizeof(label),
		    "a %zu-byte secret in base64 wrapped at %zu: masked "
		    "across the breaks",
		    sizeof(secret), widths[w]);
		ok(!leak, label);
		hex_encode(encoded, data, sizeof(secret) + 20);
		wrap(text, encoded, widths[w], false);
		got = masked_in_chunks(set, text, 5);
		hex_encode((char *)run, secret, sizeof(secret));
		snprintf(label, sizeof(label), "and in hex wrapped at %zu",
		    widths[w]);
		ok(!shows_part(got, (char *)run, 2 * sizeof(secret)), label);
		free(got);
	}
	{
		struct output out = { NULL, 0, 0 };
		struct mask_set *late = mask_set_new(NULL, 4);
		struct mask_stream *st = mask_stream_new(late, collect, &out);

		collect(&out, "", 0);
		mask_stream_feed(st, "no secret yet: abc\n", 19);
		mask_set_add(late, secret, sizeof(secret), NULL);
		mask_stream_rescan(st);
		base64_encode(encoded, secret, sizeof(secret), false);
		wrap(text, encoded, 9, false);
		mask_stream_feed(st, text, strlen(text));
		mask_stream_flush(st);
		mask_stream_free(st);
		is_str(out.data, "no secret yet: abc\n***=\n=",
		    "a stream that had no needle folds once one comes");
		free(out.data);
		mask_set_free(late);
	}
	{
		struct output out = { NULL, 0, 0 };
		struct mask_set *late = mask_set_new(NULL, 4);
		struct mask_stream *st;

		mask_set_add_pattern(late, "^BEGIN.*END$", NULL);
		st = mask_stream_new(late, collect, &out);
		collect(&out, "", 0);
		mask_stream_feed(st, "BEGIN s3cr3t-value-9 ", 21);
		mask_set_add(late, "s3cr3t-value-9", 14, NULL);
		mask_stream_rescan(st);
		mask_stream_flush(st);
		mask_stream_free(st);
		is_str(out.data, "BEGIN *** ",
		    "and a new secret in the bytes a pattern held");
		free(out.data);
		mask_set_free(late);
	}
	base64_encode(encoded, (const unsigned char *)"nothing secret in here",
	    22, false);
	wrap(text, encoded, 7, true);
	got = masked_in_chunks(set, text, 3);
	is_str(got, text, "other wrapped base64 is left alone");
	free(got);
	mask_set_free(set);
}

/*
 * The fold takes long input 64 bytes at a time (mask-stream.c,
 * fold_blocks()): a secret wrapped at every width from 1 to 9, with "\n"
 * or "\r\n", after 0 to 140 bytes of short lines, so that its breaks
 * fall at every offset of a block, at its edges ("\r" ending one block,
 * "\n" beginning the next) and in the bytes left to the line by line
 * path.  Fed whole it must be masked as when fed a byte at a time (which
 * never takes the block path), and no 6 characters of it may show.
 */
static void
test_fold_blocks(void)
{
	static const char secret[] = "Zq7Xw2Lk9Vb4Np6Rt1Hy8Jm3Gc5Fd0SaEuWiOoPq";
	struct mask_set *set = set_of(secret, 8);
	char wrapped[200], text[512], *whole, *bytewise;
	size_t width, lead, n, i, crlf;
	bool same = true, leak = false;

	for (width = 1; width <= 9; width++)
		for (crlf = 0; crlf <= 1; crlf++) {
			wrap(wrapped, secret, width, crlf == 1);
			for (lead = 0; lead <= 140; lead++) {
				/* Lines of 1 to 3 encoded characters. */
				for (n = 0, i = 0; n < lead; n++, i++)
					text[n] = i % 3 == 2 ? '\n' : 'a';
				snprintf(text + lead, sizeof(text) - lead,
				    "%s\nab\ncd\n%s\nline after the "
				    "secret, long enough for one more block "
				    "of the fold to follow it\n",
				    wrapped, wrapped);
				whole = masked_in_chunks(set, text, 4096);
				bytewise = masked_in_chunks(set, text, 1);
				same = same && strcmp(whole, bytewise) == 0;
				leak = leak ||
				    shows_part(whole, secret, strlen(secret));
				free(whole);
				free(bytewise);
			}
		}
	ok(same,
	    "wrapped secrets at every offset of a fold block: "
	    "fed whole as fed a byte at a time");
	ok(!leak, "and masked, whole");
	mask_set_free(set);
}

static void
test_lines(void)
{
	const char *key = "-----BEGIN KEY-----\n"
			  "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n"
			  "  BKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n"
			  "short\n"
			  "-----END KEY-----\n";
	struct mask_set *set = set_of(key, 8);

	masks(set,
	    "    MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n"
	    "      BKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n",
	    "    ***\n      ***\n", "each line masked when indented");
	masks(set, "     2\tMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n",
	    "     2\t***\n", "numbered (nl)");
	masks(set, "key: BKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n", "key: ***\n",
	    "a line alone, with its surrounding whitespace dropped");
	masks(set, "-----BEGIN KEY-----\nshort\n",
	    "-----BEGIN KEY-----\nshort\n",
	    "PEM armour and lines shorter than the minimum are not masked");
	mask_set_free(set);
}

/*
 * A filter hit is settled by comparing the needles behind its q-gram, or,
 * when one may go on past the bytes fed or too many share the q-gram, by
 * the automata: each way masks the same.
 */
static void
test_gram_hits(void)
{
	struct mask_set *set = mask_set_new(NULL, 4);
	struct output out = { NULL, 0, 0 };
	struct mask_stream *s;
	char secret[64], text[8192], *p;
	size_t i, bad = 0;
	const char *pieces[4];
	char *got;

	/* 40 secrets behind one q-gram ("sharedpr" at offset 0). */
	for (i = 0; i < 40; i++) {
		snprintf(secret, sizeof(secret), "sharedprefix-%03zu-k9Qz", i);
		mask_set_add(set, secret, strlen(secret), NULL);
	}
	mask_set_add(set, "Xq9Zt2Lm8Pw4Rv7Ks1Ty", 20, NULL);
	for (i = 0; i < 40; i++) {
		p = text;
		p += sprintf(p, "%0200d ", 0);
		p += sprintf(p, "<sharedprefix-%03zu-k9Qz> ", i);
		p += sprintf(p, "sharedprefix-%03zu-k9QZ ", i);
		sprintf(p, "%0200d", 0);
		snprintf(secret, sizeof(secret),
		    "<***> sharedprefix-%03zu-k9QZ ", i);
		got = feed_pieces(set, (const char *[]){ text, NULL });
		bad +=
		    strstr(got, secret) == NULL || strstr(got, "k9Qz") != NULL;
		free(got);
	}
	is_int((long long)bad, 0,
	    "40 secrets sharing a q-gram are masked, a near miss is not");

	p = text;
	p += sprintf(p, "%0300d Xq9Zt2Lm8Pw4 Xq9Zt2Lm8Pw4Rv7Ks1Tx ", 0);
	sprintf(p, "%0300d", 0);
	got = feed_pieces(set, (const char *[]){ text, NULL });
	is_str(got, text, "a secret's q-grams without the secret stay");
	free(got);

	/* A long secret cut by the end of what was fed, at every place. */
	mask_set_add(set, "Jw3Nc8Vb1Hx6Gd0Fs5Ue2Ya7Qm4Lp9Ok3Ri8Tz6E", 40, NULL);
	for (i = 1; i < 40; i++) {
		memset(text, '.', 400);
		memcpy(
		    text + 390, "Jw3Nc8Vb1Hx6Gd0Fs5Ue2Ya7Qm4Lp9Ok3Ri8Tz6E", i);
		text[390 + i] = '\0';
		pieces[0] = text;
		pieces[1] = "Jw3Nc8Vb1Hx6Gd0Fs5Ue2Ya7Qm4Lp9Ok3Ri8Tz6E" + i;
		pieces[2] = " end";
		pieces[3] = NULL;
		got = feed_pieces(set, pieces);
		bad += strcmp(got + 390, "*** end") != 0;
		free(got);
	}
	is_int(
	    (long long)bad, 0, "a secret cut by the end of a piece is masked");

	/* A long needle behind the hit's q-gram that differs inside the
	 * bytes at hand and would run past them: never compared past them
	 * (the sanitizer build catches a read past the fold). */
	memset(text, 'Q', 200);
	memcpy(text, "XXXXXXXXabcdefghijklmno", 23);
	mask_set_add_exact(set, text, 200, NULL);
	mask_set_add_exact(set, "XXXXXXXXabcdefghijklmnop", 24, NULL);
	memset(text, 'z', 4000);
	memcpy(text + 4000, "XXXXXXXXabcdefghijklmnop.", 26);
	got = feed_pieces(set, (const char *[]){ text, NULL });
	is_str(got + 4000, "***.",
	    "a needle that would run past the bytes at hand is not read past "
	    "them");
	free(got);

	s = mask_stream_new(set, collect, &out);
	memset(text, '-', 1000);
	memcpy(text + 500, "Xq9Zt2Lm8Pw4Rv7Ks1Ty", 20);
	mask_stream_feed(s, text, 1000);
	mask_stream_flush(s);
	is_int((long long)out.used, 500 + 3 + 480,
	    "a secret in the middle of a long piece is masked once");
	mask_stream_free(s);
	free(out.data);
	mask_set_free(set);
}

/* At each end only the longest needle counts, found whichever way. */
static void
test_counts_longest(void)
{
	struct mask_set *set = mask_set_new(NULL, 4);
	const char *pieces[] = { NULL, NULL };
	char text[512], hash[2 * MASK_HASH_SIZE + 1];
	char *got;

	mask_set_add_exact(set, "prefix-ghijKLMNOPqrstuvwxyz0123", 31, NULL);
	mask_set_add_exact(set, "ghijKLMNOPqrstuvwxyz0123", 24, NULL);
	mask_set_add_pattern(set, "wxyz0123", NULL);
	snprintf(text, sizeof(text),
	    "%0300d prefix-ghijKLMNOPqrstuvwxyz0123 "
	    "world\n",
	    0);
	pieces[0] = text;
	got = feed_pieces(set, pieces);
	ok(strstr(got, " *** world") != NULL,
	    "a secret ending in another is "
	    "masked whole");
	free(got);
	is_int((long long)mask_set_secret_count(set, 0, hash), 1,
	    "the longer secret counts");
	is_int((long long)mask_set_secret_count(set, 1, hash), 0,
	    "the one it ends with adds nothing");
	is_int((long long)mask_set_pattern_count(set, 0), 1,
	    "a pattern's match there counts");
	mask_set_free(set);
}

/*
 * A set as large as a job's 1,000 secrets with their forms: the filter at
 * its largest, searched with constant shifts (mask-stream.c).
 */
static void
test_large_set(void)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	struct mask_set *set = mask_set_new(NULL, 4);
	char secrets[1000][25], *text, *p, *got;
	uint64_t state = 0x243f6a8885a308d3ull;
	const char *pieces[] = { NULL, NULL };
	size_t i, j, shown = 0, masked = 0;

	for (i = 0; i < 1000; i++) {
		for (j = 0; j < 24; j++) {
			state = state * 6364136223846793005ull +
			    1442695040888963407ull;
			secrets[i][j] = alphabet[(state >> 33) % 62];
		}
		secrets[i][24] = '\0';
		mask_set_add(set, secrets[i], 24, NULL);
	}
	text = p = malloc(200 * 1000);
	for (i = 0; i < 1000; i += 7) {
		p += sprintf(p, "%0100zu line %zu ok\n", i, i);
		p += sprintf(p, "token=%s next\n", secrets[i]);
	}
	pieces[0] = text;
	got = feed_pieces(set, pieces);
	for (i = 0; i < 1000; i++)
		shown += strstr(got, secrets[i]) != NULL;
	for (p = got; (p = strstr(p, "token=*** next")) != NULL; p++)
		masked++;
	is_int((long long)(shown * 1000 + masked), 143,
	    "1,000 secrets with their forms: each printed one masked");
	free(got);
	free(text);
	mask_set_free(set);
}

int
main(void)
{
	test_split_writes();
	test_base64();
	test_overlaps();
	test_whitespace();
	test_hex_percent_json();
	test_every_split();
	test_registration();
	test_many_levels();
	test_refusals();
	test_patterns();
	test_quiet();
	test_mask_string();
	test_shell_quoting();
	test_lines();
	test_wrapped();
	test_fold_blocks();
	test_gram_hits();
	test_counts_longest();
	test_large_set();
	return done_testing();
}
