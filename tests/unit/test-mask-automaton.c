/*
 * Tests of the Aho-Corasick automaton (mask-automaton.h) on sets large
 * enough that most states are deep ones (past the dense rows' budget),
 * which the masker's other tests, with their few short needles, never
 * build: every offset where a needle ends, and the longest one ending
 * there, must be what a search of each length in a sorted list finds.
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
 * apart); a text of random letters with needles planted.
 */
static void
test_deep(const char *alphabet, size_t letters)
{
	static struct needles n;
	struct mask_automaton_needle sorted[NEEDLES];
	struct found found = { calloc(TEXT + 1, sizeof(size_t)), 0 };
	unsigned char *text = malloc(TEXT);
	struct mask_automaton *ac;
	size_t i, k, length, wrong = 0, expected = 0, steps_wrong = 0;
	uint32_t state = MASK_AUTOMATON_ROOT, stepped = MASK_AUTOMATON_ROOT;
	char what[128];

	for (i = 0; i < NEEDLES; i++) {
		length = SHORTEST + rng() % (LONGEST - SHORTEST + 1);
		for (k = 0; k < length; k++)
			n.bytes[i][k] =
			    (unsigned char)alphabet[rng() % letters];
		n.list[i].bytes = n.bytes[i];
		n.list[i].length = length;
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
	mask_automaton_free(ac);
	free(text);
	free(found.lengths);
}

int
main(void)
{
	test_deep("abcd", 4);
	test_deep("abcdefghijklmnopqrstuvwxyz0123456789", 36);
	return done_testing();
}
