/*
 * Tests of the Aho-Corasick automaton (mask-automaton.h) on sets large
 * enough that most states are deep ones (past the dense rows' budget),
 * which the masker's other tests, with their few short needles, never
 * build: every offset where a needle ends, and the longest one ending
 * there, must be what a search of each length in a sorted list finds, and
 * the depths the masker asks for (how much of the text could still begin
 * a match) what the same list says.  One set nests needles inside others,
 * so that a needle ends at states where no needle does, found only through
 * failure links.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mask-automaton.h"
#include "tap.h"

#define NEEDLES 8000
#define SHORTEST 12
#define LONGEST 40
#define TEXT 200000

static uint64_t rng_state = 12345;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

struct needles {
	struct mask_automaton_needle list[NEEDLES];
	unsigned char bytes[NEEDLES][LONGEST];
};

static int
compare(const void *a, const void *b)
{
	const struct mask_automaton_needle *x = a, *y = b;
	size_t n = x->length < y->length ? x->length : y->length;
	int c = memcmp(x->bytes, y->bytes, n);

	return c != 0 ? c : (x->length > y->length) - (x->length < y->length);
}

/* The longest needle ending at text + end, by a search per length. */
static size_t
longest_ending(const struct mask_automaton_needle *sorted,
    const unsigned char *text, size_t end)
{
	struct mask_automaton_needle key;
	size_t length;

	for (length = LONGEST; length >= SHORTEST; length--) {
		if (length > end)
			continue;
		key.bytes = text + end - length;
		key.length = length;
		if (bsearch(&key, sorted, NEEDLES, sizeof(key), compare) !=
		    NULL)
			return length;
	}
	return 0;
}

/*
 * The length of the longest suffix of text[0, end) that is a prefix of a
 * needle (proper: of a longer needle).
 */
static size_t
longest_prefix(const struct mask_automaton_needle *sorted,
    const unsigned char *text, size_t end, int proper)
{
	size_t length, low, high, mid;
	int c;

	for (length = end < LONGEST ? end : LONGEST; length > 0; length--) {
		/* The first needle not below the suffix. */
		low = 0;
		high = NEEDLES;
		while (low < high) {
			mid = (low + high) / 2;
			c = memcmp(sorted[mid].bytes, text + end - length,
			    sorted[mid].length < length ? sorted[mid].length
							: length);
			if (c < 0 || (c == 0 && sorted[mid].length < length))
				low = mid + 1;
			else
				high = mid;
		}
		/* Needles with this prefix follow it, the shortest first. */
		for (; low < NEEDLES; low++) {
			if (sorted[low].length < length ||
			    memcmp(sorted[low].bytes, text + end - length,
				length) != 0)
				break;
			if (!proper || sorted[low].length > length)
				return length;
		}
	}
	return 0;
}

struct found {
	size_t *lengths; /* by end offset */
	size_t count;
};

static void
on_found(void *context, size_t end, size_t length)
{
	struct found *f = context;

	f->lengths[end] = length;
	f->count++;
}

/*
 * Random needles over a small alphabet (their prefixes shared, then
 * apart); nested: every other one is the one before it with random
 * letters around it.  A text of random letters with needles planted.
 */
static void
test_deep(const char *alphabet, size_t letters, int nested)
{
	static struct needles n;
	struct mask_automaton_needle sorted[NEEDLES];
	struct found found = { calloc(TEXT + 1, sizeof(size_t)), 0 };
	unsigned char *text = malloc(TEXT);
	struct mask_automaton *ac;
	size_t i, k, length, wrong = 0, expected = 0, steps_wrong = 0;
	size_t depths_wrong = 0, before, after, inner = 0;
	uint32_t state = MASK_AUTOMATON_ROOT, stepped = MASK_AUTOMATON_ROOT;
	char what[128];

	for (i = 0; i < NEEDLES; i++) {
		length = SHORTEST + rng() % (LONGEST - SHORTEST + 1);
		for (k = 0; k < length; k++)
			n.bytes[i][k] =
			    (unsigned char)alphabet[rng() % letters];
		n.list[i].bytes = n.bytes[i];
		n.list[i].length = length;
		if (!nested || i % 2 == 0 || n.list[i - 1].length > 24)
			continue;
		before = 1 + rng() % 8;
		after = 1 + rng() % 8;
		memcpy(
		    n.bytes[i] + before, n.bytes[i - 1], n.list[i - 1].length);
		n.list[i].length = before + n.list[i - 1].length + after;
		for (k = before + n.list[i - 1].length; k < n.list[i].length;
		     k++)
			n.bytes[i][k] =
			    (unsigned char)alphabet[rng() % letters];
		inner++;
	}
	ac = mask_automaton_build(n.list, NEEDLES);
	snprintf(what, sizeof(what),
	    "over \"%s\": most of the %u states are deep (%u dense)", alphabet,
	    ac->states, ac->dense_states);
	ok(ac->states > 2 * ac->dense_states, what);
	for (i = 0; i < TEXT; i++)
		text[i] = (unsigned char)alphabet[rng() % letters];
	for (i = 0; i + LONGEST < TEXT; i += 50 + rng() % 100) {
		k = rng() % NEEDLES;
		memcpy(text + i, n.list[k].bytes, n.list[k].length);
	}
	mask_automaton_scan(ac, &state, text, TEXT, on_found, &found);
	/* The same, a step at a time. */
	for (i = 0; i < TEXT; i++) {
		stepped = mask_automaton_next(ac, stepped, text[i]);
		if (((stepped & MASK_AUTOMATON_MATCH) != 0) !=
		    (found.lengths[i + 1] != 0))
			steps_wrong++;
		else if (found.lengths[i + 1] != 0 &&
		    mask_automaton_match_length(ac, stepped) !=
			found.lengths[i + 1])
			steps_wrong++;
	}
	memcpy(sorted, n.list, sizeof(sorted));
	qsort(sorted, NEEDLES, sizeof(*sorted), compare);
	for (i = 1; i <= TEXT; i++) {
		length = longest_ending(sorted, text, i);
		expected += length != 0;
		if (found.lengths[i] != length)
			wrong++;
	}
	snprintf(what, sizeof(what),
	    "every needle's end found, with the longest needle (%zu ends)",
	    expected);
	ok(wrong == 0 && expected > TEXT / 150, what);
	ok(steps_wrong == 0, "and stepping a byte at a time agrees");
	if (nested)
		ok(inner > NEEDLES / 8, "many needles hold another");
	/* Depths, a step at a time over the start of the text. */
	stepped = MASK_AUTOMATON_ROOT;
	for (i = 0; i < TEXT / 10; i++) {
		stepped = mask_automaton_next(ac, stepped, text[i]);
		if (mask_automaton_depth(ac, stepped) !=
			longest_prefix(sorted, text, i + 1, 0) ||
		    mask_automaton_open_depth(ac, stepped) !=
			longest_prefix(sorted, text, i + 1, 1))
			depths_wrong++;
	}
	ok(depths_wrong == 0,
	    "the depth and open depth of every state reached are right");
	mask_automaton_free(ac);
	free(text);
	free(found.lengths);
}

int
main(void)
{
	test_deep("abcd", 4, 0);
	test_deep("abcdefghijklmnopqrstuvwxyz0123456789", 36, 0);
	test_deep("abcd", 4, 1);
	return done_testing();
}
