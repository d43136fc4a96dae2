/*
 * Tests of the secret's forms (mask-forms.h) as mask_forms_each() gives
 * them: every base64 run mask_forms_base64_run() makes (both alphabets,
 * three alignments, with and without the final character) for secrets of
 * every length and kind of byte; exactly the expected forms of a secret of
 * plain bytes, whose quoted and escaped forms are itself; and the quoted
 * and escaped forms of a secret that needs them.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mask-forms.h"
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

/* A secret of plain bytes: itself, base64, hex and %XX, nothing else. */
static void
test_plain(const char *secret)
{
	struct forms f = { 0 }, want = { 0 };
	size_t size = strlen(secret), i, extra = 0;
	char what[128];

	mask_forms_each((const unsigned char *)secret, size, collect, &f);
	collect(&want, (const unsigned char *)secret, size);
	missing_runs(&f, &want, (const unsigned char *)secret, size);
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

int
main(void)
{
	test_base64_runs();
	test_plain("Tr0ub4dor-and_3.more");
	test_plain("abcd");
	test_plain("ghp_0123456789abcdefABCDEF-xyz.9");
	test_escaped("a/b'c d<", quoted, sizeof(quoted) / sizeof(*quoted));
	test_escaped("ab/cd/ef", slashed, 2);
	test_escaped("~abcdef", tilde, 1);
	return done_testing();
}
