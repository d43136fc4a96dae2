/*
 * Differential test of the streaming masker (mask.h) against the one-shot
 * reference of maskref.h: random needles over small alphabets (so prefixes
 * repeat and occurrences overlap), random input built from needles, their
 * pieces and noise, random chunking with rescans and compactions in
 * between; the stream's output must equal the reference's, and a stream
 * must never hold more than the longest suffix that is a proper prefix of
 * a needle.  Prints the number of trials; the seed comes from
 * MASK_DIFF_SEED or the clock and is printed, so a failure can be
 * replayed.
 *
 * Built a second time as test-mask-diff-deep, with the automaton's dense
 * rows limited to 64 bytes (a state or two) and fewer sets: the same
 * trials through automata whose states are nearly all deep ones.
 */
#include "config.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mask.h"
#include "mask-forms.h"
#include "maskref.h"
#include "tap.h"

#ifndef SETS
#define SETS 20000
#endif
#define INPUTS_PER_SET 50
#define INPUT_MAX 96
/* One input in 10 is long, fed in long chunks too: the fold takes 64
 * bytes at a time when 128 or more come at once. */
#define INPUT_LONG 600

static uint64_t rng_state;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static size_t
below(size_t n)
{
	return (size_t)(rng() % n);
}

struct output {
	unsigned char *data;
	size_t used;
	size_t size;
};

static void
collect(void *context, const char *data, size_t size)
{
	struct output *out = context;

	if (out->used + size > out->size) {
		out->size = (out->used + size) * 2;
		out->data = realloc(out->data, out->size);
	}
	memcpy(out->data + out->used, data, size);
	out->used += size;
}

/* One random case: the set's needles (and patterns), then its inputs. */
struct trial {
	struct maskref ref;
	struct mask_set *set;
	const char *alphabet;
	const char *token;
	size_t longest;
	unsigned long long trials;
	unsigned long long masked; /* trials where something was masked */
	unsigned long long failures;
};

static const char *const alphabets[] = { "ab", "abc", "ab\n", "a b\n",
	"ab%\"\\", "a\tb\n\r", "a'b $\n", "aB9+\n\r" };

static const char *const patterns[] = { "ab+a", "b{2,}", "a.b", "^ab", "ba$",
	"(?<=a)bb", "\\bab", "a(?=b)", "[ab]{3}c?", "b\\s+a", "x*" };

static void
random_bytes(unsigned char *out, size_t size, const char *alphabet)
{
	size_t i, n = strlen(alphabet);

	for (i = 0; i < size; i++)
		out[i] = (unsigned char)alphabet[below(n)];
}

static void
ref_add_form(void *context, const unsigned char *bytes, size_t size)
{
	struct trial *t = context;

	if (size >= 4)
		maskref_add(&t->ref, bytes, size, 4);
}

/* Adds needles one way or another; sometimes a level per needle. */
static void
make_set(struct trial *t)
{
	unsigned char bytes[32];
	struct mask_stream *levels = NULL;
	size_t count = 1 + below(6), i, length, mode = below(4), min, max;

	t->alphabet = alphabets[below(sizeof(alphabets) / sizeof(*alphabets))];
	t->token = below(2) ? "*" : "<>";
	t->set = mask_set_new(t->token, mode == 2 ? 4 : 1);
	if (below(2))
		levels = mask_stream_new(t->set, collect, NULL);
	/* 0: short needles, no filter; 1: the filter, stride 1 mostly;
	 * 2: secrets and their forms; 3: long needles, strides 2 to 8. */
	min = mode == 0 ? 1 : mode == 3 ? 9 : 4;
	max = mode == 0 ? 6 : mode == 1 ? 12 : mode == 2 ? 9 : 16;
	for (i = 0; i < count; i++) {
		length = min + below(max - min + 1);
		random_bytes(bytes, length, t->alphabet);
		if (mode == 2) {
			if (mask_set_add(t->set, bytes, length, NULL) == 0)
				mask_forms_each(bytes, length, ref_add_form, t);
		} else {
			mask_set_add_exact(t->set, bytes, length, NULL);
			maskref_add(&t->ref, bytes, length, 1);
		}
		if (levels != NULL)
			mask_stream_rescan(levels);
	}
	mask_stream_free(levels);
	if (below(4) == 0)
		for (i = 1 + below(2); i > 0; i--) {
			const char *p = patterns[below(
			    sizeof(patterns) / sizeof(*patterns))];

			mask_set_add_pattern(t->set, p, NULL);
			maskref_add_pattern(&t->ref, p);
		}
	t->longest = 0;
	for (i = 0; i < t->ref.count; i++)
		if (t->ref.lengths[i] > t->longest)
			t->longest = t->ref.lengths[i];
}

/*
 * Copies k bytes of a needle wrapped as base64 and xxd -p wrap theirs: a
 * line break ("\n" or "\r\n") every width bytes (1 to 9, or 64 or 76)
 * from a random column; one time in three each line indented as sed or
 * YAML would (spaces or tabs, now and then about MASK_FOLD_INDENT_MAX of
 * them, one side of the limit or the other), and then some of its spaces
 * written as a line break and the indent, as a YAML emitter wraps a long
 * value.  Returns how many bytes it wrote, at most room.
 */
static size_t
wrapped(unsigned char *out, size_t room, const unsigned char *needle, size_t k)
{
	size_t width = below(8) == 0 ? (below(2) ? 64 : 76) : 1 + below(9),
	       column = below(width), n = 0, i, j, indent = 0;
	bool crlf = below(3) == 0;
	unsigned char blank = below(4) == 0 ? '\t' : ' ';

	if (below(3) == 0)
		indent = below(8) == 0 ? MASK_FOLD_INDENT_MAX - 1 + below(3)
				       : 1 + below(4);
	for (i = 0; i < k; i++) {
		if (column == width) {
			if (n + 2 + crlf + indent > room)
				break;
			if (crlf)
				out[n++] = '\r';
			out[n++] = '\n';
			for (j = 0; j < indent; j++)
				out[n++] = blank;
			column = 0;
		}
		if (n + 1 > room)
			break;
		if (needle[i] == ' ' && indent > 0 && below(2) == 0 &&
		    n + 1 + indent <= room) {
			/* A YAML emitter's wrap at a space. */
			out[n++] = '\n';
			for (j = 0; j < indent; j++)
				out[n++] = blank;
			column = 0;
			continue;
		}
		out[n++] = needle[i];
		column++;
	}
	return n;
}

/* Colour and erase codes as tools write them, and some that are not
 * (cut short, another final byte, too long), to glue in anywhere. */
static const char *const codes[] = { "\033[m", "\033[K", "\033[01;31m",
	"\033[38;5;196m", "\033[0m\033[K", "\033[3", "\033", "\033[1;2H",
	"\033[", "\033[11111111111111111111111111111111m",
	"\033[38:2::255:0:0m",
	"\033[1;2;3;4;5;6;7;8;9;10;11;12;13;14;15;16;17;18;19;20;21;22;23m",
	"\033[1;2;3;4;5;6;7;8;9;10;11;12;13;14;15;16;17;18;19;20;21;22;23;24;"
	"25;26m" };

#define CODE_MAX 80 /* the longest of codes[] */

static size_t
put_code(unsigned char *out, size_t room)
{
	const char *code = codes[below(sizeof(codes) / sizeof(*codes))];
	size_t n = strlen(code);

	if (n > room)
		return 0;
	memcpy(out, code, n);
	return n;
}

/* Input: noise, needles whole, in part, wrapped or with a colour code
 * inside, colour codes, glued at random. */
static size_t
make_input(const struct trial *t, unsigned char *in, size_t max)
{
	size_t size = 0, want = below(max), n, k, from, cut, code;

	while (size < want) {
		n = below(5);
		if (n == 4) {
			size += put_code(in + size, max - size);
			continue;
		}
		if (n == 0 || t->ref.count == 0) {
			k = 1 + below(6);
			if (size + k > max)
				break;
			random_bytes(in + size, k, t->alphabet);
		} else {
			n = below(t->ref.count);
			from = below(3) == 0 ? below(t->ref.lengths[n]) : 0;
			k = t->ref.lengths[n] - from;
			if (below(3) == 0)
				k = 1 + below(k);
			if (below(3) == 0) {
				k = wrapped(in + size, max - size,
				    t->ref.needles[n] + from, k);
			} else if (below(4) == 0 && k >= 2) {
				/* A match coloured inside it (grep). */
				cut = 1 + below(k - 1);
				if (size + k + CODE_MAX > max)
					break;
				memcpy(
				    in + size, t->ref.needles[n] + from, cut);
				code = put_code(in + size + cut, CODE_MAX);
				memcpy(in + size + cut + code,
				    t->ref.needles[n] + from + cut, k - cut);
				k += code;
			} else {
				if (size + k > max)
					break;
				memcpy(in + size, t->ref.needles[n] + from, k);
			}
		}
		size += k;
	}
	return size;
}

/* The most a stream may hold after in[0, size) (maskref.h). */
static size_t
reference_hold(const struct trial *t, const unsigned char *in, size_t size)
{
	return maskref_hold(&t->ref, in, size);
}

static void
show(const char *what, const unsigned char *bytes, size_t size)
{
	size_t i;

	printf("# %s (%zu): \"", what, size);
	for (i = 0; i < size; i++)
		if (bytes[i] >= 0x20 && bytes[i] < 0x7f && bytes[i] != '\\')
			putchar(bytes[i]);
		else
			printf("\\x%02x", bytes[i]);
	printf("\"\n");
}

static void
report(const struct trial *t, const unsigned char *in, size_t size,
    const size_t *chunks, size_t nchunks, const unsigned char *want,
    size_t want_size, const struct output *got, const char *why)
{
	size_t i;

	printf("# difference (%s), trial %llu\n", why, t->trials);
	for (i = 0; i < t->ref.count; i++)
		show("needle", t->ref.needles[i], t->ref.lengths[i]);
	printf("# patterns: %zu\n", t->ref.npatterns);
	show("input", in, size);
	printf("# chunks:");
	for (i = 0; i < nchunks; i++)
		printf(" %zu", chunks[i]);
	printf("\n");
	show("expected", want, want_size);
	show("got", got->data, got->used);
}

/*
 * The size of the next piece to feed from in[pos, size).  Styles: a byte at
 * a time; all at once; long pieces (a long input; the fold takes 64 bytes
 * at a time when 128 or more come at once); short ones; pieces that end
 * right before, inside or after a line break (a break at the end of a
 * piece waits for the next byte), or at a random offset from one.
 */
static size_t
piece(size_t style, const unsigned char *in, size_t pos, size_t size)
{
	size_t n, i;

	switch (style) {
	case 0:
		return 1;
	case 1:
		return size - pos;
	case 2:
		if (size > INPUT_MAX)
			return 1 + below(400);
		return 1 + below(8);
	case 4:
		/* To the next "\r" or "\n" (or just after it), give or take. */
		for (i = pos; i < size && in[i] != '\r' && in[i] != '\n'; i++)
			;
		n = i - pos + below(2);
		if (below(4) == 0)
			n += below(3);
		if (below(4) == 0 && n > 0)
			n -= below(n + 1);
		return n > 0 ? n : 1;
	default:
		return 1 + below(8);
	}
}

/*
 * Feeds a copy of the piece that is overwritten and freed once fed: the
 * stream searches the caller's bytes where they are, and must neither
 * read outside them (AddressSanitizer) nor keep them past the call.
 */
static void
feed_copy(struct mask_stream *s, const unsigned char *piece, size_t size)
{
	unsigned char *copy = malloc(size);

	if (copy == NULL)
		abort();
	memcpy(copy, piece, size);
	mask_stream_feed(s, copy, size);
	memset(copy, 'Z', size);
	free(copy);
}

static void
run_input(struct trial *t, const unsigned char *in, size_t size)
{
	struct output got = { NULL, 0, 0 };
	struct mask_stream *s = mask_stream_new(t->set, collect, &got);
	size_t chunks[INPUT_LONG + 1], nchunks = 0, pos = 0, n, want_size;
	size_t style = below(5);
	bool check_hold =
	    t->ref.npatterns == 0 && (t->ref.count < 16 || below(4) == 0);
	unsigned char *want;
	const char *why = NULL;

	while (pos < size) {
		n = piece(style, in, pos, size);
		if (n > size - pos)
			n = size - pos;
		chunks[nchunks++] = n;
		feed_copy(s, in + pos, n);
		pos += n;
		if (check_hold &&
		    mask_stream_held(s) > reference_hold(t, in, pos))
			why = "held too much";
		if (below(8) == 0)
			mask_stream_rescan(s);
		if (below(32) == 0)
			mask_set_compact(t->set);
	}
	mask_stream_flush(s);
	mask_stream_free(s);
	want = maskref_mask(&t->ref, in, size, t->token, &want_size);
	if (why == NULL &&
	    (want_size != got.used ||
		(got.used > 0 && memcmp(want, got.data, got.used) != 0)))
		why = "output";
	t->trials++;
	if (want_size != size || memcmp(want, in, size) != 0)
		t->masked++;
	if (why != NULL && ++t->failures <= 5)
		report(
		    t, in, size, chunks, nchunks, want, want_size, &got, why);
	free(want);
	free(got.data);
}

int
main(void)
{
	struct trial t = { 0 };
	unsigned char in[INPUT_LONG + 16];
	const char *seed = getenv("MASK_DIFF_SEED");
	uint64_t first;
	size_t sets, i, j, size;
	double elapsed;
	clock_t start = clock();

	first = seed != NULL ? strtoull(seed, NULL, 0) : (uint64_t)time(NULL);
	rng_state = first ? first : 1;
	printf("# seed %" PRIu64 "\n", first);
	for (sets = 0; sets < SETS && t.failures == 0; sets++) {
		make_set(&t);
		for (i = 0; i < INPUTS_PER_SET; i++) {
			size = make_input(
			    &t, in, i % 10 == 9 ? INPUT_LONG : INPUT_MAX);
			run_input(&t, in, size);
		}
		for (j = 0; j < 4 && t.ref.npatterns == 0; j++) {
			size = make_input(&t, in, INPUT_MAX);
			run_input(&t, in, size);
		}
		mask_set_free(t.set);
		maskref_release(&t.ref);
	}
	elapsed = (double)(clock() - start) / CLOCKS_PER_SEC;
	printf("# %llu trials (%llu with something masked) over %zu sets "
	       "in %.1f s, %llu differences\n",
	    t.trials, t.masked, sets, elapsed, t.failures);
	ok(t.failures == 0, "the stream masks like the one-shot reference");
	ok(t.trials >= (unsigned long long)SETS * INPUTS_PER_SET ||
		t.failures > 0,
	    SETS == 20000 ? "at least 10^6 trials" : "every trial ran");
	return done_testing();
}
