/*
 * The Aho-Corasick automaton of mask-automaton.h.  mask_automaton_build() sorts
 * the needles, lays the trie out in breadth-first order straight from the
 * sorted list (the children of a state get consecutive ids, so a deep state
 * needs only the index of its first child), computes failure links in id
 * order, then writes the tables: full rows for the first states, compact
 * arrays for the rest.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mask-automaton.h"
#include "list.h"
#include "xalloc.h"

#define MASK_AUTOMATON_MAX_STATES (1u << 30)

/* The trie in breadth-first order, before the tables are laid out. */
struct trie {
	uint32_t states;
	uint32_t *parent;
	unsigned char *label;
	uint32_t *terminal; /* length of the needle ending here, or 0 */
	uint32_t *first_child; /* states + 1 entries */
	uint32_t *depth_start; /* max_depth + 2 entries */
	uint32_t max_depth;
};

static void
wipe_free(void *p, size_t size)
{
	if (p != NULL)
		wipe(p, size);
	free(p);
}

static int
compare_needles(const void *a, const void *b)
{
	const struct mask_automaton_needle *x = a, *y = b;
	size_t n = x->length < y->length ? x->length : y->length;
	int c = memcmp(x->bytes, y->bytes, n);

	if (c != 0)
		return c;
	return (x->length > y->length) - (x->length < y->length);
}

/* A needle with its first 8 bytes as a number that sorts as they do. */
struct sort_entry {
	uint64_t key;
	const struct mask_automaton_needle *needle;
};

static int
compare_entries(const void *a, const void *b)
{
	const struct sort_entry *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return compare_needles(x->needle, y->needle);
}

/*
 * Sorts entries by key: a least-significant-digit radix sort, a byte per
 * pass, skipping a pass where every key has the same byte.  tmp has room
 * for count entries.  Linear where qsort() spent a quarter of a set's
 * build in its comparison calls.
 */
static void
radix_sort(struct sort_entry *entries, struct sort_entry *tmp, size_t count)
{
	struct sort_entry *from = entries, *to = tmp, *swap;
	size_t counts[256], i, sum, n;
	unsigned shift;

	for (shift = 0; shift < 64; shift += 8) {
		memset(counts, 0, sizeof(counts));
		for (i = 0; i < count; i++)
			counts[(from[i].key >> shift) & 255]++;
		if (counts[(from[0].key >> shift) & 255] == count)
			continue;
		for (i = 0, sum = 0; i < 256; i++) {
			n = counts[i];
			counts[i] = sum;
			sum += n;
		}
		for (i = 0; i < count; i++)
			to[counts[(from[i].key >> shift) & 255]++] = from[i];
		swap = from;
		from = to;
		to = swap;
	}
	if (from != entries)
		memcpy(entries, from, count * sizeof(*entries));
}

/*
 * The needles in byte order: by their first 8 bytes (radix_sort()),
 * then by memcmp() within a run of needles that share them.
 */
static struct mask_automaton_needle *
sort_needles(const struct mask_automaton_needle *needles, size_t count)
{
	struct sort_entry *entries = xcalloc(count, sizeof(*entries));
	struct sort_entry *tmp = xcalloc(count, sizeof(*tmp));
	struct mask_automaton_needle *sorted = xcalloc(count, sizeof(*sorted));
	unsigned char first[8];
	size_t i, j, n;

	for (i = 0; i < count; i++) {
		memset(first, 0, sizeof(first));
		n = needles[i].length < 8 ? needles[i].length : 8;
		memcpy(first, needles[i].bytes, n);
		entries[i].key = (uint64_t)first[0] << 56 |
		    (uint64_t)first[1] << 48 | (uint64_t)first[2] << 40 |
		    (uint64_t)first[3] << 32 | (uint64_t)first[4] << 24 |
		    (uint64_t)first[5] << 16 | (uint64_t)first[6] << 8 |
		    first[7];
		entries[i].needle = &needles[i];
	}
	if (count > 0)
		radix_sort(entries, tmp, count);
	for (i = 0; i < count; i = j) {
		for (j = i + 1; j < count && entries[j].key == entries[i].key;
		     j++)
			;
		if (j - i > 1)
			qsort(entries + i, j - i, sizeof(*entries),
			    compare_entries);
	}
	for (i = 0; i < count; i++)
		sorted[i] = *entries[i].needle;
	wipe_free(entries, count * sizeof(*entries));
	wipe_free(tmp, count * sizeof(*tmp));
	wipe(first, sizeof(first));
	return sorted;
}

static size_t
common_prefix(const struct mask_automaton_needle *x,
    const struct mask_automaton_needle *y)
{
	size_t n = x->length < y->length ? x->length : y->length, i = 0;

	while (i < n && x->bytes[i] == y->bytes[i])
		i++;
	return i;
}

/*
 * Creates the states of depth d.  active holds the needles of length >= d
 * in sorted order; a needle opens a new state unless it shares its first d
 * bytes with the one before it (lcp).  Needles ending here leave the list.
 */
static size_t
trie_level(struct trie *t, const struct mask_automaton_needle *sorted,
    const uint32_t *lcp, uint32_t *active, size_t count, uint32_t *node_of,
    uint32_t d)
{
	uint32_t last = 0;
	size_t j, kept = 0;

	for (j = 0; j < count; j++) {
		uint32_t i = active[j];

		if (j == 0 || lcp[i] < d) {
			last = t->states++;
			t->parent[last] = node_of[i];
			t->label[last] = sorted[i].bytes[d - 1];
			t->terminal[last] = 0;
		}
		node_of[i] = last;
		if (sorted[i].length == d)
			t->terminal[last] = d;
		else
			active[kept++] = i;
	}
	return kept;
}

static int
trie_build(
    struct trie *t, const struct mask_automaton_needle *sorted, size_t count)
{
	uint32_t *lcp, *active, *node_of, d, u, c;
	size_t i, total = 1, longest = 0, remaining;

	for (i = 0; i < count; i++) {
		total += sorted[i].length;
		if (sorted[i].length > longest)
			longest = sorted[i].length;
		if (total >= MASK_AUTOMATON_MAX_STATES)
			return -1;
	}
	t->parent = xcalloc(total, sizeof(*t->parent));
	t->label = xcalloc(total, 1);
	t->terminal = xcalloc(total, sizeof(*t->terminal));
	t->depth_start = xcalloc(longest + 2, sizeof(*t->depth_start));
	lcp = xcalloc(count, sizeof(*lcp));
	active = xcalloc(count, sizeof(*active));
	node_of = xcalloc(count, sizeof(*node_of));
	for (i = 0; i < count; i++) {
		lcp[i] = i == 0 ? 0 : common_prefix(&sorted[i - 1], &sorted[i]);
		active[i] = i;
	}
	t->states = 1;
	remaining = count;
	for (d = 1; remaining > 0; d++) {
		t->depth_start[d] = t->states;
		remaining =
		    trie_level(t, sorted, lcp, active, remaining, node_of, d);
	}
	t->max_depth = d - 1;
	t->depth_start[d] = t->states;
	free(lcp);
	free(active);
	free(node_of);

	/* Parents ascend with ids, so children are consecutive. */
	t->first_child = xcalloc(t->states + 1, sizeof(*t->first_child));
	for (u = 0, c = 1; u < t->states; u++) {
		while (c < t->states && t->parent[c] < u)
			c++;
		t->first_child[u] = c;
	}
	t->first_child[t->states] = t->states;
	return 0;
}

static void
trie_release(struct trie *t)
{
	free(t->parent);
	wipe_free(t->label, t->states);
	free(t->terminal);
	free(t->first_child);
	free(t->depth_start);
}

/* Builder state: the trie and the failure links, by state id. */
struct builder {
	struct mask_automaton *ac;
	struct trie trie;
	uint32_t *fail; /* by id */
	uint32_t *match; /* by id: longest needle ending there (the trie's
			    terminal array, overwritten) */
	uint32_t *rows; /* dense rows holding ids, not values */
};

/* The next state id while building (failure links of smaller ids known). */
static uint32_t
builder_delta(const struct builder *b, uint32_t x, unsigned char byte)
{
	const struct trie *t = &b->trie;
	uint32_t c;

	for (;;) {
		if (x < b->ac->dense_states)
			return b->rows[(size_t)x * b->ac->classes +
			    b->ac->class_of[byte]];
		for (c = t->first_child[x]; c < t->first_child[x + 1]; c++)
			if (t->label[c] == byte)
				return c;
		x = b->fail[x];
	}
}

static void
builder_links(struct builder *b)
{
	const struct trie *t = &b->trie;
	struct mask_automaton *ac = b->ac;
	uint32_t v, c, f;
	uint32_t *row;

	for (v = 0; v < t->states; v++) {
		f = 0;
		if (v > 0 && t->parent[v] != 0)
			f = builder_delta(
			    b, b->fail[t->parent[v]], t->label[v]);
		b->fail[v] = f;
		b->match[v] = t->terminal[v] ? t->terminal[v] : b->match[f];
		if (v >= ac->dense_states)
			continue;
		row = b->rows + (size_t)v * ac->classes;
		if (v == 0)
			memset(row, 0, ac->classes * sizeof(*row));
		else
			memcpy(row, b->rows + (size_t)f * ac->classes,
			    ac->classes * sizeof(*row));
		for (c = t->first_child[v]; c < t->first_child[v + 1]; c++)
			row[ac->class_of[t->label[c]]] = c;
	}
}

static uint32_t
builder_value(const struct builder *b, uint32_t id)
{
	const struct mask_automaton *ac = b->ac;
	uint32_t value;

	if (id < ac->dense_states)
		value = id * ac->classes;
	else
		value = ac->dense_limit + (id - ac->dense_states);
	return b->match[id] ? value | MASK_AUTOMATON_MATCH : value;
}

/*
 * Hands an array of the builder to the automaton: its first keep entries
 * of size bytes stay, the rest (up to had) is wiped.  Not realloc, which
 * could leave a copy behind unwiped; the slack is a few dense states.
 */
static void *
hand_over(void **from, size_t keep, size_t had, size_t size)
{
	void *p = *from;

	if (had > keep)
		wipe((unsigned char *)p + keep * size, (had - keep) * size);
	*from = NULL;
	return p;
}

/* Tables per state, from the trie's arrays before they are handed over. */
static void
builder_state_tables(struct builder *b)
{
	const struct trie *t = &b->trie;
	struct mask_automaton *ac = b->ac;
	uint32_t id;
	size_t m = 0;

	ac->leaf_bits = xcalloc(t->states / 64 + 1, sizeof(*ac->leaf_bits));
	ac->dense_fail = xcalloc(ac->dense_states, sizeof(*ac->dense_fail));
	for (id = 0; id < t->states; id++) {
		if (t->first_child[id] == t->first_child[id + 1])
			ac->leaf_bits[id / 64] |= (uint64_t)1 << (id % 64);
		if (id < ac->dense_states)
			ac->dense_fail[id] = b->fail[id];
		if (b->match[id])
			ac->matches++;
	}
	ac->match_ids = xcalloc(ac->matches + 1, sizeof(*ac->match_ids));
	ac->match_lengths = xcalloc(ac->matches + 1, sizeof(uint32_t));
	for (id = 0; id < t->states; id++) {
		if (!b->match[id])
			continue;
		ac->match_ids[m] = id;
		ac->match_lengths[m++] = b->match[id];
	}
}

/*
 * Writes the final tables from the trie and the links.  The deep states'
 * tables are the trie's and the builder's arrays moved down in place (an
 * entry moves to a lower index, after every entry it needs was read), not
 * copies: fewer fresh pages to fault in.
 */
static void
builder_tables(struct builder *b)
{
	struct trie *t = &b->trie;
	struct mask_automaton *ac = b->ac;
	uint32_t dense = ac->dense_states, deep = t->states - dense, id, k;
	size_t i, cells = (size_t)dense * ac->classes;

	/* The rows of ids become the rows of values, in place. */
	for (i = 0; i < cells; i++)
		b->rows[i] = builder_value(b, b->rows[i]);
	ac->dense =
	    hand_over((void **)&b->rows, cells, cells, sizeof(*ac->dense));
	builder_state_tables(b);
	ac->match_bits = xcalloc(deep / 64 + 1, sizeof(*ac->match_bits));
	for (k = 0; k < deep; k++) {
		id = dense + k;
		t->first_child[k] = t->first_child[id] - dense;
		b->fail[k] =
		    builder_value(b, b->fail[id]) & ~MASK_AUTOMATON_MATCH;
		t->label[k] = t->label[id];
		if (b->match[id])
			ac->match_bits[k / 64] |= (uint64_t)1 << (k % 64);
	}
	t->first_child[deep] = deep;
	ac->first_child = hand_over((void **)&t->first_child, deep + 1,
	    t->states + 1, sizeof(*ac->first_child));
	ac->fail = hand_over(
	    (void **)&b->fail, deep ? deep : 1, t->states, sizeof(*ac->fail));
	ac->label =
	    hand_over((void **)&t->label, deep ? deep : 1, t->states, 1);
}

/* Byte classes: each byte that occurs in a needle gets its own. */
static void
layout(struct mask_automaton *ac, const struct trie *t)
{
	bool used[256] = { false };
	uint32_t id, cells;

	for (id = 1; id < t->states; id++)
		used[t->label[id]] = true;
	ac->classes = 1;
	for (id = 0; id < 256; id++)
		ac->class_of[id] = used[id] ? ac->classes++ : 0;
	ac->states = t->states;
	ac->dense_states =
	    MASK_AUTOMATON_DENSE_BYTES / (ac->classes * sizeof(uint32_t));
	if (ac->dense_states > t->states)
		ac->dense_states = t->states;
	if (ac->dense_states == 0)
		ac->dense_states = 1;
	cells = ac->dense_states * ac->classes;
	ac->dense_limit = 1;
	while (ac->dense_limit < cells)
		ac->dense_limit *= 2;
	ac->max_depth = t->max_depth;
	ac->depth_start = xcalloc(t->max_depth + 2, sizeof(*ac->depth_start));
	memcpy(ac->depth_start, t->depth_start,
	    (t->max_depth + 2) * sizeof(*ac->depth_start));
}

struct mask_automaton *
mask_automaton_build(const struct mask_automaton_needle *needles, size_t count)
{
	struct builder b = { 0 };
	struct mask_automaton_needle *sorted;
	size_t i;

	sorted = sort_needles(needles, count);
	if (trie_build(&b.trie, sorted, count) < 0) {
		free(sorted);
		return NULL;
	}
	b.ac = xcalloc(1, sizeof(*b.ac));
	b.ac->min_length = UINT32_MAX;
	for (i = 0; i < count; i++)
		if (sorted[i].length < b.ac->min_length)
			b.ac->min_length = (uint32_t)sorted[i].length;
	free(sorted);
	layout(b.ac, &b.trie);
	b.fail = xcalloc(b.trie.states, sizeof(*b.fail));
	/* In place: a state's failure state comes before it. */
	b.match = b.trie.terminal;
	b.rows = xcalloc(
	    (size_t)b.ac->dense_states * b.ac->classes, sizeof(*b.rows));
	builder_links(&b);
	builder_tables(&b);
	trie_release(&b.trie);
	return b.ac;
}

void
mask_automaton_free(struct mask_automaton *ac)
{
	uint32_t deep;

	if (ac == NULL)
		return;
	deep = ac->states - ac->dense_states;
	wipe_free(ac->dense,
	    (size_t)ac->dense_states * ac->classes * sizeof(*ac->dense));
	wipe_free(ac->first_child, (deep + 1) * sizeof(*ac->first_child));
	wipe_free(ac->fail, (deep ? deep : 1) * sizeof(*ac->fail));
	wipe_free(ac->label, deep ? deep : 1);
	wipe_free(ac->match_bits, (deep / 64 + 1) * sizeof(*ac->match_bits));
	wipe_free(ac->match_ids, (ac->matches + 1) * sizeof(*ac->match_ids));
	wipe_free(ac->match_lengths, (ac->matches + 1) * sizeof(uint32_t));
	wipe_free(ac->leaf_bits, (ac->states / 64 + 1) * sizeof(uint64_t));
	wipe_free(ac->dense_fail, ac->dense_states * sizeof(uint32_t));
	wipe_free(
	    ac->depth_start, (ac->max_depth + 2) * sizeof(*ac->depth_start));
	wipe(ac, sizeof(*ac));
	free(ac);
}

uint32_t
mask_automaton_next_deep(
    const struct mask_automaton *ac, uint32_t value, unsigned char byte)
{
	const unsigned char *hit;
	uint32_t k, first, end, c;

	for (;;) {
		if (value < ac->dense_limit)
			return ac->dense[value + ac->class_of[byte]];
		k = value - ac->dense_limit;
		first = ac->first_child[k];
		end = ac->first_child[k + 1];
		c = end;
		if (end - first <= 4) {
			for (c = first; c < end; c++)
				if (ac->label[c] == byte)
					break;
		} else {
			hit = memchr(ac->label + first, byte, end - first);
			if (hit != NULL)
				c = (uint32_t)(hit - ac->label);
		}
		if (c < end) {
			value = ac->dense_limit + c;
			if (ac->match_bits[c / 64] & ((uint64_t)1 << (c % 64)))
				value |= MASK_AUTOMATON_MATCH;
			return value;
		}
		value = ac->fail[k];
	}
}

static uint32_t
state_id(const struct mask_automaton *ac, uint32_t value)
{
	value &= ~MASK_AUTOMATON_MATCH;
	if (value < ac->dense_limit)
		return value / ac->classes;
	return ac->dense_states + (value - ac->dense_limit);
}

static uint32_t
id_depth(const struct mask_automaton *ac, uint32_t id)
{
	uint32_t low = 0, high = ac->max_depth;

	/* The largest depth whose first id is <= id. */
	while (low < high) {
		uint32_t mid = (low + high + 1) / 2;

		if (ac->depth_start[mid] <= id)
			low = mid;
		else
			high = mid - 1;
	}
	return low;
}

uint32_t
mask_automaton_depth(const struct mask_automaton *ac, uint32_t value)
{
	return id_depth(ac, state_id(ac, value));
}

uint32_t
mask_automaton_open_depth(const struct mask_automaton *ac, uint32_t value)
{
	uint32_t id = state_id(ac, value);

	/* Leaves end needles nothing extends: fall back to a state that has
	 * children (the root has, the needles being non-empty). */
	while (id != 0 && (ac->leaf_bits[id / 64] >> (id % 64)) & 1) {
		if (id < ac->dense_states)
			id = ac->dense_fail[id];
		else
			id = state_id(ac, ac->fail[id - ac->dense_states]);
	}
	return id_depth(ac, id);
}

uint32_t
mask_automaton_match_length(const struct mask_automaton *ac, uint32_t value)
{
	uint32_t id = state_id(ac, value);
	size_t low = 0, high = ac->matches;

	while (low < high) {
		size_t mid = (low + high) / 2;

		if (ac->match_ids[mid] < id)
			low = mid + 1;
		else
			high = mid;
	}
	if (low < ac->matches && ac->match_ids[low] == id)
		return ac->match_lengths[low];
	return 0;
}

void
mask_automaton_scan(const struct mask_automaton *ac, uint32_t *state,
    const unsigned char *bytes, size_t size, mask_automaton_found_fn found,
    void *context)
{
	const uint32_t *dense = ac->dense;
	uint32_t value = *state & ~MASK_AUTOMATON_MATCH,
		 limit = ac->dense_limit;
	size_t i = 0;

	while (i < size) {
		/* The hot loop: dense states that end no needle. */
		while (value < limit && i < size)
			value = dense[value + ac->class_of[bytes[i++]]];
		if (value >= limit && value & MASK_AUTOMATON_MATCH) {
			found(
			    context, i, mask_automaton_match_length(ac, value));
			value &= ~MASK_AUTOMATON_MATCH;
		}
		while (value >= limit && i < size) {
			value = mask_automaton_next_deep(ac, value, bytes[i++]);
			if (value & MASK_AUTOMATON_MATCH) {
				found(context, i,
				    mask_automaton_match_length(ac, value));
				value &= ~MASK_AUTOMATON_MATCH;
			}
		}
	}
	*state = value;
}

size_t
mask_automaton_memory(const struct mask_automaton *ac)
{
	size_t deep = ac->states - ac->dense_states;

	return sizeof(*ac) +
	    (size_t)ac->dense_states * ac->classes * sizeof(uint32_t) +
	    deep * (2 * sizeof(uint32_t) + 1) + deep / 8 +
	    ac->matches * 2 * sizeof(uint32_t) + ac->states / 8 +
	    ac->dense_states * sizeof(uint32_t) +
	    (ac->max_depth + 2) * sizeof(uint32_t);
}
