/*
 * An Aho-Corasick automaton over bytes: built once from a set of needles,
 * then read-only, so any number of streams can run it at the same time
 * (each keeps its own state, a uint32_t).  The secret masker (mask.h) is
 * its only user.
 *
 * A state is a uint32_t "value".  The shallowest states (breadth-first
 * order, up to MASK_AUTOMATON_DENSE_BYTES of table) have a full row of next
 * values, one per byte class, so a step is one table load; the deeper
 * states are stored compactly (children, failure link: about 9 bytes per
 * state) and a step from them follows failure links.  A value has
 * MASK_AUTOMATON_MATCH set when some needle ends at that state.
 *
 * The struct is in the header only so that mask_automaton_next() can be
 * inlined; treat it as opaque.  Its tables are derived from the needles, so
 * mask_automaton_free() wipes them.
 */
#ifndef JOBRUN_MASK_AUTOMATON_H
#define JOBRUN_MASK_AUTOMATON_H

#include <stddef.h>
#include <stdint.h>

#define MASK_AUTOMATON_ROOT 0u
#define MASK_AUTOMATON_MATCH 0x80000000u

/* Budget for the full rows of the shallow states (tests build smaller). */
#ifndef MASK_AUTOMATON_DENSE_BYTES
#define MASK_AUTOMATON_DENSE_BYTES (1024 * 1024)
#endif

struct mask_automaton_needle {
	const unsigned char *bytes;
	size_t length; /* at least 1 */
};

struct mask_automaton {
	uint32_t dense_limit; /* values below are dense rows; a power of 2 */
	uint32_t classes; /* width of a dense row */
	uint32_t dense_states;
	uint32_t states;
	uint32_t *dense; /* dense_states rows of classes values */
	uint32_t *first_child; /* per deep state (+1): index of its first */
	uint32_t *fail; /* per deep state: value of its failure state */
	unsigned char *label; /* per deep state: the byte leading to it */
	uint64_t *match_bits; /* per deep state: MASK_AUTOMATON_MATCH wanted */
	uint32_t *match_ids; /* states where a needle ends, ascending */
	uint32_t *match_lengths; /* the longest needle ending there */
	size_t matches;
	uint64_t *leaf_bits; /* per state: it has no children */
	uint32_t *dense_fail; /* per dense state: id of its failure state */
	uint32_t *depth_start; /* first state id of each depth; +1 entry */
	uint32_t max_depth; /* the longest needle */
	uint32_t min_length; /* the shortest needle */
	unsigned char class_of[256];
};

/*
 * Builds the automaton of count needles (count >= 1; duplicates are
 * allowed).  The needles' bytes are copied into the tables; the caller
 * keeps ownership of its arrays.  Returns NULL (and builds nothing) when
 * the needles would need more than 2^30 states.
 */
struct mask_automaton *mask_automaton_build(
    const struct mask_automaton_needle *needles, size_t count);

/* Wipes the tables and frees the automaton; NULL is allowed. */
void mask_automaton_free(struct mask_automaton *ac);

/* Frees the tables without wiping them (mask_set_discard()). */
void mask_automaton_discard(struct mask_automaton *ac);

/* The step from a deep state; use mask_automaton_next(). */
uint32_t mask_automaton_next_deep(
    const struct mask_automaton *ac, uint32_t value, unsigned char byte);

/* Returns the state after reading byte in state value. */
static inline uint32_t
mask_automaton_next(
    const struct mask_automaton *ac, uint32_t value, unsigned char byte)
{
	value &= ~MASK_AUTOMATON_MATCH;
	if (value >= ac->dense_limit)
		return mask_automaton_next_deep(ac, value, byte);
	return ac->dense[value + ac->class_of[byte]];
}

/*
 * Called by mask_automaton_scan() at offset end (just after the needle's last
 * byte) with the length of the longest needle ending there.
 */
typedef void (*mask_automaton_found_fn)(
    void *context, size_t end, size_t length);

/*
 * Runs the automaton from *state over size bytes, calling found() for
 * every offset at which a needle ends, and leaves the final state in
 * *state.
 */
void mask_automaton_scan(const struct mask_automaton *ac, uint32_t *state,
    const unsigned char *bytes, size_t size, mask_automaton_found_fn found,
    void *context);

/*
 * The length of the longest suffix of the bytes read so far that is a
 * prefix of some needle: the number of bytes that could still begin a
 * match.
 */
uint32_t mask_automaton_depth(const struct mask_automaton *ac, uint32_t value);

/*
 * The length of the longest suffix of the bytes read so far that is a
 * proper prefix of some needle: what could still begin a match that ends
 * later.  At most mask_automaton_depth(); less after a needle that no other
 * needle extends.
 */
uint32_t mask_automaton_open_depth(
    const struct mask_automaton *ac, uint32_t value);

/* Whether mask_automaton_depth(ac, value) < depth, in constant time. */
static inline int
mask_automaton_shallower(
    const struct mask_automaton *ac, uint32_t value, uint32_t depth)
{
	uint32_t limit;

	if (value & MASK_AUTOMATON_MATCH)
		return 0;
	limit = depth > ac->max_depth ? ac->states : ac->depth_start[depth];
	if (limit <= ac->dense_states)
		return value < limit * ac->classes;
	return value < ac->dense_limit ||
	    value - ac->dense_limit < limit - ac->dense_states;
}

/* The length of the longest needle ending in state value (0: none). */
uint32_t mask_automaton_match_length(
    const struct mask_automaton *ac, uint32_t value);

/* Bytes of memory the automaton uses. */
size_t mask_automaton_memory(const struct mask_automaton *ac);

#endif
