/*
 * The Aho-Corasick automaton of mask-automaton.h.  mask_automaton_build() sorts
 * the needles, lays the trie out in breadth-first order straight from the
 * sorted list (the children of a state get consecutive ids, so a deep state
 * needs only the index of its first child), sizes the dense rows from the
 * bytes used, moves the deep states' arrays down into their final place,
 * then in one pass in id order computes failure links, match marks and the
 * dense rows straight into the final tables, stepping with
 * mask_automaton_next_deep() over the states already done.  Scratch arrays
 * that are written whole are not cleared first.  The build has no state
 * outside its arguments and the automaton it returns, so it may run on any
 * thread.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mask-automaton.h"
#include "list.h"
#include "xalloc.h"

#define MASK_AUTOMATON_MAX_STATES (1u << 30)

/* A state where a needle ends: its id and depth (the needle's length). */
struct terminal {
	uint32_t id;
	uint32_t length;
};

/* The trie in breadth-first order, before the tables are laid out. */
struct trie {
	uint32_t states;
	unsigned char *label; /* by id: the byte leading to it */
	uint32_t *first_child; /* by id, states + 1 entries */
	struct terminal *terminal; /* ascending, then a sentinel */
	size_t terminals;
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
 * Parents ascend with ids, so the children of a state are consecutive:
 * *filled is the first state whose first child is not yet known.
 */
static size_t
trie_level(struct trie *t, const struct mask_automaton_needle *sorted,
    const uint32_t *lcp, uint32_t *active, size_t count, uint32_t *node_of,
    uint32_t d, uint32_t *filled)
{
	uint32_t last = 0, parent, f = *filled;
	size_t j, kept = 0;

	for (j = 0; j < count; j++) {
		uint32_t i = active[j];

		if (j == 0 || lcp[i] < d) {
			last = t->states++;
			parent = node_of[i];
			while (f <= parent)
				t->first_child[f++] = last;
			t->label[last] = sorted[i].bytes[d - 1];
		}
		node_of[i] = last;
		if (sorted[i].length != d)
			active[kept++] = i;
		else if (t->terminals == 0 ||
		    t->terminal[t->terminals - 1].id != last)
			t->terminal[t->terminals++] =
			    (struct terminal){ last, d };
	}
	*filled = f;
	return kept;
}

/*
 * The arrays by id are written once each, so they are not cleared first
 * (xmalloc): clearing would only fault in pages that are written anyway.
 */
static int
trie_build(
    struct trie *t, const struct mask_automaton_needle *sorted, size_t count)
{
	uint32_t *lcp, *active, *node_of, d, filled = 0;
	size_t i, total = 1, longest = 0, remaining;

	for (i = 0; i < count; i++) {
		total += sorted[i].length;
		if (sorted[i].length > longest)
			longest = sorted[i].length;
		if (total >= MASK_AUTOMATON_MAX_STATES)
			return -1;
	}
	t->label = xmalloc(total);
	t->first_child = xmalloc((total + 1) * sizeof(*t->first_child));
	t->terminal = xmalloc((count + 1) * sizeof(*t->terminal));
	t->depth_start = xcalloc(longest + 2, sizeof(*t->depth_start));
	lcp = xmalloc(count * sizeof(*lcp));
	active = xmalloc(count * sizeof(*active));
	node_of = xcalloc(count, sizeof(*node_of));
	for (i = 0; i < count; i++) {
		lcp[i] = i == 0 ? 0 : common_prefix(&sorted[i - 1], &sorted[i]);
		active[i] = (uint32_t)i;
	}
	t->states = 1;
	t->label[0] = 0;
	remaining = count;
	for (d = 1; remaining > 0; d++) {
		t->depth_start[d] = t->states;
		remaining = trie_level(
		    t, sorted, lcp, active, remaining, node_of, d, &filled);
	}
	t->max_depth = d - 1;
	t->depth_start[d] = t->states;
	while (filled <= t->states)
		t->first_child[filled++] = t->states;
	t->terminal[t->terminals].id = UINT32_MAX;
	free(lcp);
	free(active);
	free(node_of);
	return 0;
}

/*
 * Builder state.  The automaton's tables are filled in their final layout
 * as the links are computed, so that the builder's step is the reader's
 * (mask_automaton_next_deep() on the states done so far); the dense
 * states' children, labels and failure values wait in arrays by id.
 */
struct builder {
	struct mask_automaton *ac;
	struct trie trie;
	uint32_t *dense_first; /* dense states' first children (ids) */
	unsigned char *dense_label;
	uint32_t *dense_fail; /* dense states' failure values */
	size_t matches_cap;
	const struct terminal *next_terminal;
};

static uint32_t
builder_value(const struct mask_automaton *ac, uint32_t id)
{
	if (id < ac->dense_states)
		return id * ac->classes;
	return ac->dense_limit + (id - ac->dense_states);
}

/* Grows match_ids and match_lengths, wiping the old blocks. */
static void
builder_grow_matches(struct builder *b)
{
	struct mask_automaton *ac = b->ac;
	size_t cap = b->matches_cap * 2, size = sizeof(uint32_t);
	uint32_t *ids = xmalloc(cap * size), *lengths = xmalloc(cap * size);

	memcpy(ids, ac->match_ids, ac->matches * size);
	memcpy(lengths, ac->match_lengths, ac->matches * size);
	wipe_free(ac->match_ids, b->matches_cap * size);
	wipe_free(ac->match_lengths, b->matches_cap * size);
	ac->match_ids = ids;
	ac->match_lengths = lengths;
	b->matches_cap = cap;
}

/* Records that the needle of this length is the longest ending at id. */
static void
builder_match(struct builder *b, uint32_t id, uint32_t length)
{
	struct mask_automaton *ac = b->ac;

	if (ac->matches + 1 >= b->matches_cap)
		builder_grow_matches(b);
	ac->match_ids[ac->matches] = id;
	ac->match_lengths[ac->matches++] = length;
}

/*
 * Sets up state c, a child of a state whose failure value is fu (parent:
 * not the root), reached by byte: its failure link and match mark.
 * Returns its value.
 */
static inline uint32_t
builder_child(
    struct builder *b, uint32_t c, uint32_t fu, bool parent, unsigned char byte)
{
	struct mask_automaton *ac = b->ac;
	uint32_t dense = ac->dense_states, f = 0, value;

	if (parent && fu < ac->dense_limit)
		f = ac->dense[fu + ac->class_of[byte]];
	else if (parent)
		f = mask_automaton_next_deep(ac, fu, byte);
	value = builder_value(ac, c);
	if (c == b->next_terminal->id) {
		builder_match(b, c, b->next_terminal->length);
		b->next_terminal++;
		value |= MASK_AUTOMATON_MATCH;
	} else if (f & MASK_AUTOMATON_MATCH) {
		builder_match(b, c, mask_automaton_match_length(ac, f));
		value |= MASK_AUTOMATON_MATCH;
	}
	f &= ~MASK_AUTOMATON_MATCH;
	if (c < dense) {
		b->dense_fail[c] = f;
	} else {
		ac->fail[c - dense] = f;
		if (value & MASK_AUTOMATON_MATCH)
			ac->match_bits[(c - dense) / 64] |= (uint64_t)1
			    << ((c - dense) % 64);
	}
	return value;
}

/*
 * Failure links, match marks, leaves and dense rows in one pass over the
 * states in id order, each state setting up its children: a child's
 * failure state is the step of its parent's failure state by its label,
 * shallower, so already done.  A dense row is its failure state's row with
 * its own children written over it.
 */
static void
builder_links(struct builder *b)
{
	struct mask_automaton *ac = b->ac;
	uint32_t dense = ac->dense_states, deep = ac->states - dense, u, c, k,
		 first, end, fu, f, value;
	uint32_t *row;
	unsigned char byte;

	b->next_terminal = b->trie.terminal;
	for (u = 0; u < dense; u++) {
		first = b->dense_first[u];
		end = b->dense_first[u + 1];
		fu = b->dense_fail[u];
		row = ac->dense + (size_t)u * ac->classes;
		if (u == 0)
			memset(row, 0, ac->classes * sizeof(*row));
		else
			memcpy(row, ac->dense + fu, ac->classes * sizeof(*row));
		if (first == end)
			ac->leaf_bits[u / 64] |= (uint64_t)1 << (u % 64);
		for (c = first; c < end; c++) {
			byte = c < dense ? b->dense_label[c]
					 : ac->label[c - dense];
			value = builder_child(b, c, fu, u != 0, byte);
			row[ac->class_of[byte]] = value;
		}
	}
	/* The deep states' children are deep: the same, specialised. */
	for (k = 0; k < deep; k++) {
		first = ac->first_child[k];
		end = ac->first_child[k + 1];
		if (first == end) {
			ac->leaf_bits[(dense + k) / 64] |= (uint64_t)1
			    << ((dense + k) % 64);
			continue;
		}
		fu = ac->fail[k];
		for (c = first; c < end; c++) {
			byte = ac->label[c];
			if (fu < ac->dense_limit)
				f = ac->dense[fu + ac->class_of[byte]];
			else
				f = mask_automaton_next_deep(ac, fu, byte);
			if (dense + c == b->next_terminal->id) {
				builder_match(
				    b, dense + c, b->next_terminal->length);
				b->next_terminal++;
			} else if (f & MASK_AUTOMATON_MATCH) {
				builder_match(b, dense + c,
				    mask_automaton_match_length(ac, f));
			} else {
				ac->fail[c] = f;
				continue;
			}
			ac->fail[c] = f & ~MASK_AUTOMATON_MATCH;
			ac->match_bits[c / 64] |= (uint64_t)1 << (c % 64);
		}
	}
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
}

/*
 * Splits the trie's arrays: the dense states' parts are copied out, the
 * deep states' moved down to index 0 (their first children renumbered)
 * and handed to the automaton, the vacated tail wiped.
 */
static void
builder_split(struct builder *b)
{
	struct trie *t = &b->trie;
	struct mask_automaton *ac = b->ac;
	uint32_t dense = ac->dense_states, deep = t->states - dense, k;

	b->dense_first = xmalloc((dense + 1) * sizeof(*b->dense_first));
	memcpy(b->dense_first, t->first_child,
	    (dense + 1) * sizeof(*b->dense_first));
	b->dense_label = xmalloc(dense);
	memcpy(b->dense_label, t->label, dense);
	memmove(t->first_child, t->first_child + dense,
	    (deep + 1) * sizeof(*t->first_child));
	for (k = 0; k <= deep; k++)
		t->first_child[k] -= dense;
	wipe(t->first_child + deep + 1, dense * sizeof(*t->first_child));
	memmove(t->label, t->label + dense, deep);
	wipe(t->label + deep, dense);
	ac->first_child = t->first_child;
	ac->label = t->label;
	t->first_child = NULL;
	t->label = NULL;
	ac->depth_start = t->depth_start;
	t->depth_start = NULL;
	ac->fail = xmalloc((deep ? deep : 1) * sizeof(*ac->fail));
	ac->fail[0] = 0;
	ac->match_bits = xcalloc(deep / 64 + 1, sizeof(*ac->match_bits));
	ac->leaf_bits = xcalloc(t->states / 64 + 1, sizeof(*ac->leaf_bits));
	ac->dense = xmalloc((size_t)dense * ac->classes * sizeof(*ac->dense));
	b->dense_fail = xmalloc(dense * sizeof(*b->dense_fail));
	b->dense_fail[0] = 0;
}

struct mask_automaton *
mask_automaton_build(const struct mask_automaton_needle *needles, size_t count)
{
	struct builder b = { 0 };
	struct mask_automaton_needle *sorted;
	struct mask_automaton *ac;
	size_t i;

	sorted = sort_needles(needles, count);
	if (trie_build(&b.trie, sorted, count) < 0) {
		free(sorted);
		return NULL;
	}
	ac = b.ac = xcalloc(1, sizeof(*b.ac));
	ac->min_length = UINT32_MAX;
	for (i = 0; i < count; i++)
		if (sorted[i].length < ac->min_length)
			ac->min_length = (uint32_t)sorted[i].length;
	free(sorted);
	layout(ac, &b.trie);
	builder_split(&b);
	b.matches_cap = count + 2;
	ac->match_ids = xmalloc(b.matches_cap * sizeof(*ac->match_ids));
	ac->match_lengths = xmalloc(b.matches_cap * sizeof(uint32_t));
	builder_links(&b);
	/* The dense states' failure values become their ids. */
	for (i = 0; i < ac->dense_states; i++)
		b.dense_fail[i] /= ac->classes;
	ac->dense_fail = b.dense_fail;
	free(b.dense_first);
	wipe_free(b.dense_label, ac->dense_states);
	free(b.trie.terminal);
	return ac;
}

void
mask_automaton_discard(struct mask_automaton *ac)
{
	if (ac == NULL)
		return;
	free(ac->dense);
	free(ac->first_child);
	free(ac->fail);
	free(ac->label);
	free(ac->match_bits);
	free(ac->match_ids);
	free(ac->match_lengths);
	free(ac->leaf_bits);
	free(ac->dense_fail);
	free(ac->depth_start);
	free(ac);
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
