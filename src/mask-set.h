/*
 * The inside of a mask_set, shared by mask-set.c (which owns it) and
 * mask-stream.c (which reads it while scanning).  Nothing else includes
 * this header: the rest of jobrun uses mask.h.
 *
 * Needles live in one arena, deduplicated through a hash table.  Needles
 * [0, built) are searched by the automaton levels, each covering a run of
 * consecutive needles; needles added later wait for mask_set_sync().
 *
 * The q-gram filter samples: with q = min(8, shortest needle) and a stride
 * s = min(16, shortest - q + 1), every needle's q-grams at offsets 0 to
 * s - 1 go into it, so an occurrence of any needle puts one of them at
 * every s-th text offset, and a stream looks up only those.  The q-grams
 * are held twice: hashed into a bitmap small enough to stay in cache, and
 * as 32-bit fingerprints in a hash set, to confirm a bitmap hit.  A stream
 * between hits knows every automaton is shallower than s + q - 1 (the "reach"),
 * so it can rebuild their states from the last reach - 1 bytes.
 */
#ifndef JOBRUN_MASK_SET_H
#define JOBRUN_MASK_SET_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "mask-automaton.h"
#include "mask.h"

/* The filter needs needles at least this long; below, plain automata. */
#define MASK_GRAM_MIN 4
#define MASK_GRAM_MAX 8
/* log2 of the filter's bitmap at its largest (512 KiB, for about 8,000
 * needles and more): mask-stream.c searches it with constant shifts. */
#define MASK_FILTER_BITS_MAX 22
#define MASK_STRIDE_MAX 16

struct mask_needle {
	size_t offset; /* in the arena */
	size_t length;
	uint32_t secret; /* the first secret it is a form of */
	uint32_t hash; /* of its bytes: the table grows without reading them */
	bool shared; /* other secrets have it too (mask_set.shares) */
};

/* Who caused a match: a secret's index, or a pattern's with this bit. */
#define MASK_OWNER_PATTERN 0x80000000u
#define MASK_OWNER_NONE UINT32_MAX

/* A registered secret: its HMAC-SHA256 (mask-count.c), never its value. */
struct mask_secret {
	unsigned char hash[MASK_HASH_SIZE];
	uint64_t count;
	bool untrusted; /* registered only by untrusted steps */
};

/*
 * A needle that is a form of more than one secret: one entry per extra
 * secret, sorted by needle, then secret.
 */
struct mask_share {
	uint32_t needle;
	uint32_t secret;
};

/* A sampled q-gram: its fingerprint, its needle and offset in it. */
struct mask_gram {
	uint32_t fingerprint;
	/* needle << 4 | offset: offset < MASK_STRIDE_MAX, and a set holds
	 * fewer than 2^28 needles (MASK_ARENA_MAX bytes, 4 or more each) */
	uint32_t needle;
};

struct mask_level {
	struct mask_automaton *ac;
	size_t first; /* its needles: [first, first + count) */
	size_t count;
	size_t bytes;
};

struct mask_set {
	char *token;
	size_t token_size;
	size_t min_length;

	unsigned char *arena;
	size_t arena_used;
	size_t arena_size;
	struct mask_needle *needles;
	size_t count;
	size_t needles_cap;
	uint32_t *slots; /* needle index + 1, 0 when empty */
	size_t slots_size; /* a power of 2 */

	size_t built;
	struct mask_level *levels;
	size_t nlevels;
	size_t levels_cap;
	size_t longest; /* the longest built needle */
	size_t shortest; /* the shortest built needle (SIZE_MAX: none) */
	/* A built needle begins with "\r", "\n" or a space (which a line
	 * break and an indent can be in the folded view). */
	bool break_first;

	unsigned gram; /* q, or 0: no filter */
	unsigned stride; /* s */
	unsigned reach; /* s + q - 1: no match in progress is this long */
	uint64_t gram_mask;
	unsigned filter_shift; /* 64 - log2(bits in the bitmap) */
	uint64_t *filter;
	size_t filter_words;
	/* The sampled q-grams: a fingerprint and where it comes from, for
	 * each needle and offset; fingerprint 0: a free slot. */
	struct mask_gram *grams;
	size_t grams_size; /* a power of 2 */
	size_t grams_used;

	pcre2_code **patterns;
	uint64_t *pattern_counts; /* redactions per pattern */
	size_t npatterns;

	struct hmac_sha256_ctx *hmac; /* keyed with salt_hex; NULL until used */
	unsigned char salt[MASK_SALT_SIZE];
	char salt_hex[2 * MASK_SALT_SIZE + 1];
	struct mask_secret *secrets; /* in registration order */
	size_t nsecrets;
	size_t secrets_cap;
	uint32_t *secret_slots; /* secret index + 1 by hash, 0 when empty */
	size_t secret_slots_size; /* a power of 2 */
	struct mask_share *shares;
	size_t nshares;
	size_t shares_cap;

	uint64_t generation; /* changes whenever streams must rescan */
	size_t streams;

	/* Needles [built, deferred) wait for a build off the loop. */
	size_t deferred;
	struct mask_build *build; /* the one out, or NULL */

	/* Held by every call of mask.h on the set or one of its streams,
	 * which nest (a recursive mutex): a stream may be fed on another
	 * thread than the loop that adds secrets (console.c). */
	pthread_mutex_t lock;
};

/* A secret's forms, computed off the loop (mask_prepare()). */
struct mask_prepared {
	unsigned char *value; /* a copy */
	size_t size;
	size_t min_length;
	bool ready; /* long enough and not too long: the forms are here */
	unsigned char *forms; /* folded, each at least min_length */
	size_t forms_used;
	size_t forms_size;
	size_t *lengths;
	size_t nforms;
	size_t lengths_cap;
	bool untrusted; /* from an untrusted step (mask_prepared_untrusted()) */
	size_t next; /* the next form to add, and where it is */
	size_t offset;
	uint32_t secret;
};

/* A level built off the loop (mask_set_build_start()). */
struct mask_build {
	size_t first; /* the level's needles: [first, end) */
	size_t end;
	size_t count;
	size_t bytes;
	size_t keep; /* the levels below it, which stay */
	unsigned char *copy; /* the needles' bytes, private */
	size_t copy_size;
	struct mask_automaton_needle *needles; /* into copy */
	size_t copied; /* needles copied so far */
	struct mask_automaton *ac;
	struct mask_automaton **old; /* the levels it replaced */
	size_t nold;
	bool cancelled; /* the set changed under it: dropped */
};

#define MASK_HASH_MULTIPLIER 0x9e3779b97f4a7c15ull

/* Builds the needles added since the last call into a level. */
void mask_set_sync(struct mask_set *set);

/* The index of the needle with exactly these bytes, or SIZE_MAX. */
size_t mask_set_find_needle(
    const struct mask_set *set, const unsigned char *bytes, size_t size);

/*
 * mask-count.c.  mask_count_init() draws the set's salt (getrandom; fatal
 * when the kernel cannot give one).  mask_count_secret() returns the index
 * of the secret with this value, registering it (its hash, count 0) when
 * new; the value is only read.  A secret is untrusted while only untrusted
 * steps have registered it.  mask_count_share() records that a needle
 * first added for another secret is a form of secret too;
 * mask_count_first_share() is the index of the needle's first share (its
 * others follow it), or where it would be.
 * mask_count_credit() counts one redaction for owner.  mask_count_release()
 * frees what the others allocated.
 */
void mask_count_init(struct mask_set *set);
uint32_t mask_count_secret(
    struct mask_set *set, const void *value, size_t size, bool untrusted);
void mask_count_share(struct mask_set *set, size_t needle, uint32_t secret);
size_t mask_count_first_share(const struct mask_set *set, size_t needle);
void mask_count_credit(struct mask_set *set, uint32_t owner);
void mask_count_release(struct mask_set *set);

static inline uint64_t
mask_load64(const unsigned char *p)
{
	uint64_t x;

	memcpy(&x, p, sizeof(x));
	return x;
}

/*
 * The filter is a blocked Bloom filter: a q-gram sets two bits of one
 * 64-bit word (the word and the first bit from the top bits of one
 * multiplication, the second bit from the 6 bits below them), so a miss
 * costs one load and a false hit is about the square of the fill.
 * Returns the word shifted so that bit 0 is set when both bits are.
 */
static inline __attribute__((always_inline)) uint64_t
mask_set_filter_bits_shift(const uint64_t *filter, uint64_t x, unsigned shift)
{
	uint64_t p = x * MASK_HASH_MULTIPLIER, h = p >> shift;
	uint64_t w = filter[h >> 6];

	return (w >> (h & 63)) & (w >> ((p >> (shift - 6)) & 63));
}

static inline uint64_t
mask_set_filter_bits(const struct mask_set *set, uint64_t x)
{
	return mask_set_filter_bits_shift(set->filter, x, set->filter_shift);
}

/* Whether the q-gram x (little-endian, masked) may be in a needle. */
static inline bool
mask_set_filter_maybe(const struct mask_set *set, uint64_t x)
{
	return mask_set_filter_bits(set, x) & 1;
}

/*
 * The needles and offsets whose sampled q-gram may be x (its fingerprint
 * is x's): up to max of them into refs (needle << 4 | offset); returns how
 * many there are, max + 1 when there are more.
 */
size_t mask_set_gram_needles(
    const struct mask_set *set, uint64_t x, uint32_t *refs, size_t max);

/*
 * Takes and releases set->lock.  A set given as const is still locked: the
 * lock is the one member every reader changes.
 */
void mask_set_lock(const struct mask_set *set);
void mask_set_unlock(const struct mask_set *set);

#endif
