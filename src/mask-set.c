/*
 * The mask set (mask.h, mask-set.h): needles and patterns, the automaton
 * levels built from the needles, and the q-gram filter in front of them.
 * Streams (mask-stream.c) read all of it; only this file changes it.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "list.h"
#include "mask-forms.h"
#include "mask-set.h"
#include "xalloc.h"

/* Needle bytes a set may hold: far more than any job's secrets (a test
 * builds a smaller one). */
#ifndef MASK_ARENA_MAX
#define MASK_ARENA_MAX ((size_t)256 * 1024 * 1024)
#endif

/* What struct mask_gram's needle member holds. */
_Static_assert(MASK_STRIDE_MAX <= 16, "an offset takes 4 bits");
_Static_assert(MASK_ARENA_MAX / MASK_GRAM_MIN < ((size_t)1 << 28),
    "a needle's index takes 28 bits");

/* Filter bitmap: 512 bits per q-gram, 4 KiB to 512 KiB (stays in cache). */
#define FILTER_BITS_MIN 15
#define FILTER_BITS_MAX MASK_FILTER_BITS_MAX
#define FILTER_BITS_PER_GRAM 512
/* How far ahead filter_rebuild() fetches the slots of the q-gram table. */
#define GRAMS_AHEAD 32

static void
wipe_free(void *p, size_t size)
{
	if (p != NULL)
		wipe(p, size);
	free(p);
}

/* Grows a buffer holding secrets: realloc would free the old block unwiped. */
static void *
grow_wiped(void *old, size_t old_size, size_t new_size)
{
	void *p = xmalloc(new_size);

	if (old_size > 0)
		memcpy(p, old, old_size);
	wipe_free(old, old_size);
	return p;
}

static void set_error(char **error, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
set_error(char **error, const char *fmt, ...)
{
	va_list ap;

	if (error == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(error, fmt, ap) < 0)
		*error = NULL;
	va_end(ap);
}

static uint64_t
hash_bytes(const unsigned char *p, size_t size)
{
	uint64_t h = 0xcbf29ce484222325ull ^ size, tail = 0;

	/* Eight bytes a step: needles are hashed whenever they are added. */
	for (; size >= 8; p += 8, size -= 8) {
		h = (h ^ mask_load64(p)) * MASK_HASH_MULTIPLIER;
		h ^= h >> 32;
	}
	memcpy(&tail, p, size);
	h = (h ^ tail) * MASK_HASH_MULTIPLIER;
	return h ^ (h >> 29);
}

struct mask_set *
mask_set_new(const char *token, size_t min_length)
{
	struct mask_set *set = xcalloc(1, sizeof(*set));
	pthread_mutexattr_t attr;

	set->token = xstrdup(token != NULL ? token : MASK_TOKEN_DEFAULT);
	set->token_size = strlen(set->token);
	set->min_length = min_length ? min_length : MASK_MIN_LENGTH_DEFAULT;
	set->slots_size = 64;
	set->slots = xcalloc(set->slots_size, sizeof(*set->slots));
	set->shortest = SIZE_MAX;
	mask_count_init(set);
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&set->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	return set;
}

/* ---- needles ---- */

static const unsigned char *
needle_bytes(const struct mask_set *set, size_t i)
{
	return set->arena + set->needles[i].offset;
}

static void
slots_insert(
    uint32_t *slots, size_t size, const struct mask_set *set, size_t index)
{
	size_t i = set->needles[index].hash & (size - 1);

	while (slots[i] != 0)
		i = (i + 1) & (size - 1);
	slots[i] = (uint32_t)index + 1;
}

size_t
mask_set_find_needle(
    const struct mask_set *set, const unsigned char *bytes, size_t size)
{
	uint64_t h = hash_bytes(bytes, size);
	size_t i = h & (set->slots_size - 1);
	const struct mask_needle *n;

	for (; set->slots[i] != 0; i = (i + 1) & (set->slots_size - 1)) {
		n = &set->needles[set->slots[i] - 1];
		if (n->length == size && n->hash == (uint32_t)h &&
		    memcmp(set->arena + n->offset, bytes, size) == 0)
			return set->slots[i] - 1;
	}
	return SIZE_MAX;
}

static void
needle_append(struct mask_set *set, const unsigned char *bytes, size_t size,
    uint32_t secret)
{
	size_t want, i;

	if (set->arena_used + size > set->arena_size) {
		want = set->arena_size ? set->arena_size * 2 : 4096;
		while (want < set->arena_used + size)
			want *= 2;
		set->arena = grow_wiped(set->arena, set->arena_used, want);
		set->arena_size = want;
	}
	memcpy(set->arena + set->arena_used, bytes, size);
	xgrow(&set->needles, &set->needles_cap, set->count + 1,
	    sizeof(*set->needles));
	set->needles[set->count].offset = set->arena_used;
	set->needles[set->count].length = size;
	set->needles[set->count].secret = secret;
	set->needles[set->count].hash = (uint32_t)hash_bytes(bytes, size);
	set->needles[set->count].shared = false;
	set->arena_used += size;
	set->count++;
	if (set->count * 2 > set->slots_size) {
		free(set->slots);
		/* Four times: fewer needles hashed again as the set grows. */
		set->slots_size *= 4;
		set->slots = xcalloc(set->slots_size, sizeof(*set->slots));
		for (i = 0; i < set->count; i++)
			slots_insert(set->slots, set->slots_size, set, i);
	} else {
		slots_insert(set->slots, set->slots_size, set, set->count - 1);
	}
}

struct adding {
	struct mask_set *set;
	uint32_t secret;
	bool full;
};

/*
 * Takes one folded form of a secret: too short or too many are dropped; a
 * known one becomes a form of this secret too.
 */
static void
add_folded(struct adding *a, const unsigned char *bytes, size_t size)
{
	struct mask_set *set = a->set;
	size_t known;

	if (size < set->min_length)
		return;
	if ((known = mask_set_find_needle(set, bytes, size)) != SIZE_MAX) {
		mask_count_share(set, known, a->secret);
		return;
	}
	if (set->arena_used + size > MASK_ARENA_MAX) {
		a->full = true;
		return;
	}
	needle_append(set, bytes, size, a->secret);
}

/*
 * Takes one form of a secret as the streams search for it: with the line
 * breaks that their folded view leaves out left out too (mask-forms.h).
 */
static void
add_form(void *context, const unsigned char *form, size_t size)
{
	struct adding *a = context;
	unsigned char stack[256], *bytes = stack;

	if (size < a->set->min_length)
		return;
	if (memchr(form, '\n', size) == NULL &&
	    (size == 0 || form[size - 1] != '\r')) {
		add_folded(a, form, size);
		return;
	}
	if (size > sizeof(stack))
		bytes = xmalloc(size);
	add_folded(a, bytes, mask_forms_fold(bytes, form, size));
	wipe(bytes, size);
	if (bytes != stack)
		free(bytes);
}

static bool
is_blank_or_break(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * The length the minimum applies to: without leading and trailing
 * whitespace, and without the line breaks (and indents) that the folded
 * view leaves out, as the secret is matched when printed as it is.
 */
static size_t
matched_length(const unsigned char *p, size_t size)
{
	size_t a = 0, b = size;

	while (a < b && is_blank_or_break(p[a]))
		a++;
	while (b > a && is_blank_or_break(p[b - 1]))
		b--;
	return mask_forms_fold(NULL, p + a, b - a);
}

static int
add_checked(struct mask_set *set, const void *secret, size_t size, bool forms,
    bool untrusted, char **error)
{
	struct adding a = { set, 0, false };

	if (size > MASK_SECRET_MAX) {
		set_error(error,
		    "a secret is longer than %d bytes, the most the masker "
		    "takes",
		    MASK_SECRET_MAX);
		return -1;
	}
	if ((forms ? matched_length(secret, size) : size) < set->min_length) {
		set_error(error,
		    "not masking a secret shorter than the minimum length "
		    "(%zu bytes): it would hide ordinary output",
		    set->min_length);
		return 1;
	}
	a.secret = mask_count_secret(set, secret, size, untrusted);
	if (forms)
		mask_forms_each(secret, size, add_form, &a);
	else
		add_form(&a, secret, size);
	if (a.full) {
		set_error(error,
		    "cannot mask more secrets: %zu MiB of them "
		    "already",
		    MASK_ARENA_MAX / 1024 / 1024);
		return -1;
	}
	return 0;
}

static int
mask_set_add_unlocked(
    struct mask_set *set, const void *secret, size_t size, char **error)
{
	return add_checked(set, secret, size, true, false, error);
}

static int
mask_set_add_exact_unlocked(
    struct mask_set *set, const void *needle, size_t size, char **error)
{
	return add_checked(set, needle, size, false, false, error);
}

static size_t
mask_set_needles_unlocked(const struct mask_set *set)
{
	return set->count;
}

/* ---- the q-gram filter ---- */

static uint64_t
needle_gram(const struct mask_set *set, size_t i, size_t offset)
{
	unsigned char bytes[8] = { 0 };

	memcpy(bytes, needle_bytes(set, i) + offset, set->gram);
	return mask_load64(bytes) & set->gram_mask;
}

/*
 * The q-gram table keeps 32-bit fingerprints, not the q-grams: a false
 * candidate only costs a stream a comparison with a needle.  A fingerprint
 * is never 0 (a free slot) and gives its own slot.
 */
static uint32_t
gram_fingerprint(uint64_t x)
{
	return (uint32_t)((x * 0xc2b2ae3d27d4eb4full) >> 32) | 1;
}

size_t
mask_set_gram_needles(
    const struct mask_set *set, uint64_t x, uint32_t *refs, size_t max)
{
	uint32_t fingerprint = gram_fingerprint(x);
	size_t mask = set->grams_size - 1, i = (fingerprint >> 1) & mask, n = 0;

	for (; set->grams[i].fingerprint != 0; i = (i + 1) & mask)
		if (set->grams[i].fingerprint == fingerprint) {
			if (n == max)
				return max + 1;
			refs[n++] = set->grams[i].needle;
		}
	return n;
}

static void
grams_put(struct mask_gram *grams, size_t size, struct mask_gram g)
{
	size_t i = (g.fingerprint >> 1) & (size - 1);

	for (; grams[i].fingerprint != 0; i = (i + 1) & (size - 1))
		;
	grams[i] = g;
}

/* Resizes the q-gram table to size slots (a power of 2). */
static void
grams_resize(struct mask_set *set, size_t size)
{
	struct mask_gram *grams = xcalloc(size, sizeof(*grams));
	size_t i;

	for (i = 0; i < set->grams_size; i++)
		if (set->grams[i].fingerprint != 0)
			grams_put(grams, size, set->grams[i]);
	wipe_free(set->grams, set->grams_size * sizeof(*set->grams));
	set->grams = grams;
	set->grams_size = size;
}

/* Sets the two bits of the bitmap that mask_set_filter_bits() tests. */
static void
filter_set(struct mask_set *set, uint64_t x)
{
	uint64_t p = x * MASK_HASH_MULTIPLIER, h = p >> set->filter_shift;

	set->filter[h >> 6] |= (uint64_t)1 << (h & 63);
	set->filter[h >> 6] |= (uint64_t)1
	    << ((p >> (set->filter_shift - 6)) & 63);
}

static void
gram_insert(struct mask_set *set, uint64_t x, size_t needle, size_t offset)
{
	filter_set(set, x);
	/* The table stays at most half full. */
	if ((set->grams_used + 1) * 2 > set->grams_size)
		grams_resize(set, set->grams_size * 2);
	grams_put(set->grams, set->grams_size,
	    (struct mask_gram){
		gram_fingerprint(x), (uint32_t)(needle << 4 | offset) });
	set->grams_used++;
}

/* The needle's q-gram at offset: a whole load while it stays inside the
 * arena. */
static uint64_t
needle_gram_at(const struct mask_set *set, size_t needle, size_t offset)
{
	if (set->needles[needle].offset + offset + 8 <= set->arena_size)
		return mask_load64(needle_bytes(set, needle) + offset) &
		    set->gram_mask;
	return needle_gram(set, needle, offset);
}

/* Adds the needle's q-grams at offsets 0 to s - 1. */
static void
filter_insert(struct mask_set *set, size_t needle)
{
	size_t offset;

	for (offset = 0; offset < set->stride; offset++)
		gram_insert(
		    set, needle_gram_at(set, needle, offset), needle, offset);
}

/* Sizes the filter for the built needles and fills it again. */
static void
filter_rebuild(struct mask_set *set)
{
	unsigned char mask[8] = { 0 };
	unsigned bits = FILTER_BITS_MIN;
	size_t i, offset, k = 0, total;
	struct mask_gram *all;
	uint64_t x;

	wipe_free(set->filter, set->filter_words * sizeof(*set->filter));
	wipe_free(set->grams, set->grams_size * sizeof(*set->grams));
	set->filter = NULL;
	set->grams = NULL;
	set->filter_words = set->grams_size = set->grams_used = 0;
	set->gram = set->shortest < MASK_GRAM_MAX ? (unsigned)set->shortest
						  : MASK_GRAM_MAX;
	if (set->gram < MASK_GRAM_MIN) {
		set->gram = 0;
		return;
	}
	set->stride = set->shortest - set->gram + 1;
	if (set->stride > MASK_STRIDE_MAX)
		set->stride = MASK_STRIDE_MAX;
	set->reach = set->stride + set->gram - 1;
	total = set->built * set->stride;
	memset(mask, 0xff, set->gram);
	set->gram_mask = mask_load64(mask);
	while (bits < FILTER_BITS_MAX &&
	    ((size_t)1 << bits) < total * FILTER_BITS_PER_GRAM)
		bits++;
	set->filter_shift = 64 - bits;
	set->filter_words = ((size_t)1 << bits) / 64;
	set->filter = xcalloc(set->filter_words, sizeof(*set->filter));
	/* Sized once for every q-gram, not grown a doubling at a time. */
	set->grams_size = 64;
	while (set->grams_size < 2 * total)
		set->grams_size *= 2;
	set->grams = xcalloc(set->grams_size, sizeof(*set->grams));
	/*
	 * Each entry lands in a slot at random, out of the caches: the
	 * entries are made first, then put in with their slots fetched
	 * GRAMS_AHEAD entries ahead, so that the misses overlap.
	 */
	all = xmalloc(total * sizeof(*all));
	for (i = 0; i < set->built; i++)
		for (offset = 0; offset < set->stride; offset++) {
			x = needle_gram_at(set, i, offset);
			filter_set(set, x);
			all[k++] = (struct mask_gram){ gram_fingerprint(x),
				(uint32_t)(i << 4 | offset) };
		}
	for (k = 0; k < total; k++) {
		if (k + GRAMS_AHEAD < total)
			__builtin_prefetch(
			    &set->grams[(all[k + GRAMS_AHEAD].fingerprint >>
					    1) &
				(set->grams_size - 1)],
			    1);
		grams_put(set->grams, set->grams_size, all[k]);
	}
	set->grams_used = total;
	wipe_free(all, total * sizeof(*all));
}

/* Adds needles [first, built) to the filter, resizing it when due. */
static void
filter_add(struct mask_set *set, size_t first)
{
	size_t i, shortest = set->shortest;
	bool rebuild;

	for (i = first; i < set->built; i++)
		if (set->needles[i].length < set->shortest)
			set->shortest = set->needles[i].length;
	rebuild = first == 0 || set->shortest != shortest ||
	    (set->filter_shift > 64 - FILTER_BITS_MAX &&
		set->filter_words * 64 <
		    set->built * set->stride * FILTER_BITS_PER_GRAM);
	if (rebuild) {
		filter_rebuild(set);
		return;
	}
	if (set->gram == 0)
		return;
	for (i = first; i < set->built; i++)
		filter_insert(set, i);
}

/* ---- automaton levels ---- */

static struct mask_automaton *
build_range(const struct mask_set *set, size_t first, size_t count)
{
	struct mask_automaton_needle *needles =
	    xcalloc(count, sizeof(*needles));
	struct mask_automaton *ac;
	size_t i;

	for (i = 0; i < count; i++) {
		needles[i].bytes = needle_bytes(set, first + i);
		needles[i].length = set->needles[first + i].length;
	}
	ac = mask_automaton_build(needles, count);
	free(needles);
	if (ac == NULL)
		BUG("the set's needles need more than 2^30 states");
	return ac;
}

/* The build off the loop is out of date: its finish will drop it. */
static void
sync_cancel(struct mask_set *set)
{
	if (set->build != NULL)
		set->build->cancelled = true;
	set->build = NULL;
	set->deferred = 0;
}

/*
 * Builds needles [built, count) into a level, first absorbing the newest
 * levels while they hold no more than twice its bytes, so level sizes
 * fall geometrically: O(log n) levels, each needle rebuilt O(log n) times.
 */
void
mask_set_sync(struct mask_set *set)
{
	struct mask_level level = { NULL, set->built, set->count - set->built,
		0 };
	size_t i;

	if (set->built == set->count)
		return;
	/* Reserved for a build off the loop (mask_set_build_start()); a
	 * needle added here since must be searched now: all are built. */
	if (set->count <= set->deferred)
		return;
	sync_cancel(set);
	for (i = level.first; i < set->count; i++) {
		level.bytes += set->needles[i].length;
		if (set->needles[i].length > set->longest)
			set->longest = set->needles[i].length;
		if (needle_bytes(set, i)[0] == '\n' ||
		    needle_bytes(set, i)[0] == '\r' ||
		    needle_bytes(set, i)[0] == ' ')
			set->break_first = true;
	}
	while (set->nlevels > 0 &&
	    set->levels[set->nlevels - 1].bytes <= 2 * level.bytes) {
		struct mask_level *last = &set->levels[--set->nlevels];

		mask_automaton_free(last->ac);
		level.first = last->first;
		level.count += last->count;
		level.bytes += last->bytes;
	}
	level.ac = build_range(set, level.first, level.count);
	xgrow(&set->levels, &set->levels_cap, set->nlevels + 1,
	    sizeof(*set->levels));
	set->levels[set->nlevels++] = level;
	i = set->built;
	set->built = set->count;
	filter_add(set, i);
	set->generation++;
}

static void
mask_set_compact_unlocked(struct mask_set *set)
{
	struct mask_level all = { NULL, 0, 0, 0 };
	size_t i;

	mask_set_sync(set);
	if (set->nlevels <= 1)
		return;
	sync_cancel(set);
	for (i = 0; i < set->nlevels; i++) {
		all.count += set->levels[i].count;
		all.bytes += set->levels[i].bytes;
		mask_automaton_free(set->levels[i].ac);
	}
	all.ac = build_range(set, 0, all.count);
	set->levels[0] = all;
	set->nlevels = 1;
	set->generation++;
}

/*
 * Off the loop (mask.h): a secret's forms are computed by mask_prepare()
 * and added by mask_set_add_prepared(); a level is built from a private
 * copy of its needles (mask_set_build_start(), mask_build_run()) and
 * installed by mask_set_build_finish().  Until then the needles are
 * "deferred": mask_set_sync() leaves them to the build, and the streams
 * search with the levels they have.
 */

/* Takes one form as add_form() would, into p's private list. */
static void
prepared_form(void *context, const unsigned char *form, size_t size)
{
	struct mask_prepared *p = context;
	size_t want;

	if (size < p->min_length)
		return;
	if (p->forms_used + size > p->forms_size) {
		want = p->forms_size ? p->forms_size * 2 : 4096;
		while (want < p->forms_used + size)
			want *= 2;
		p->forms = grow_wiped(p->forms, p->forms_used, want);
		p->forms_size = want;
	}
	if (memchr(form, '\n', size) != NULL || form[size - 1] == '\r')
		size = mask_forms_fold(p->forms + p->forms_used, form, size);
	else
		memcpy(p->forms + p->forms_used, form, size);
	if (size < p->min_length) {
		/* Past forms_used, where grow_wiped() would not wipe it. */
		wipe(p->forms + p->forms_used, size);
		return;
	}
	xgrow(&p->lengths, &p->lengths_cap, p->nforms + 1, sizeof(*p->lengths));
	p->lengths[p->nforms++] = size;
	p->forms_used += size;
}

static int
mask_set_check_unlocked(
    const struct mask_set *set, const void *secret, size_t size, char **error)
{
	if (size > MASK_SECRET_MAX) {
		set_error(error,
		    "a secret is longer than %d bytes, the most the masker "
		    "takes",
		    MASK_SECRET_MAX);
		return -1;
	}
	if (matched_length(secret, size) < set->min_length) {
		set_error(error,
		    "not masking a secret shorter than the minimum length "
		    "(%zu bytes): it would hide ordinary output",
		    set->min_length);
		return 1;
	}
	return 0;
}

struct mask_prepared *
mask_prepare(const void *secret, size_t size, size_t min_length)
{
	struct mask_prepared *p = xcalloc(1, sizeof(*p));

	p->min_length = min_length ? min_length : MASK_MIN_LENGTH_DEFAULT;
	p->size = size;
	p->value = xmalloc(size > 0 ? size : 1);
	memcpy(p->value, secret, size);
	if (size <= MASK_SECRET_MAX &&
	    matched_length(p->value, size) >= p->min_length) {
		p->ready = true;
		mask_forms_each(p->value, size, prepared_form, p);
	}
	return p;
}

static void
mask_set_reserve_unlocked(struct mask_set *set, size_t bytes)
{
	size_t want;

	if (bytes > MASK_ARENA_MAX - set->arena_used)
		bytes = MASK_ARENA_MAX - set->arena_used;
	if (set->arena_used + bytes <= set->arena_size)
		return;
	want = set->arena_size ? set->arena_size * 2 : 4096;
	while (want < set->arena_used + bytes)
		want *= 2;
	set->arena = grow_wiped(set->arena, set->arena_used, want);
	set->arena_size = want;
}

bool
mask_prepared_done(const struct mask_prepared *p)
{
	return p->next == p->nforms;
}

size_t
mask_prepared_bytes(const struct mask_prepared *p)
{
	return p->forms_used;
}

void
mask_prepared_free(struct mask_prepared *p)
{
	if (p == NULL)
		return;
	wipe_free(p->value, p->size);
	wipe_free(p->forms, p->forms_size);
	free(p->lengths);
	free(p);
}

static int
mask_set_add_prepared_unlocked(
    struct mask_set *set, struct mask_prepared *p, size_t budget, char **error)
{
	struct adding a = { set, 0, false };
	size_t bytes = 0;

	/* A refusal says what mask_set_add() would, without the forms. */
	if (!p->ready || p->min_length != set->min_length) {
		p->next = p->nforms;
		return add_checked(
		    set, p->value, p->size, true, p->untrusted, error);
	}
	/* Needles added by others are not held back with these. */
	if (set->count > set->deferred)
		mask_set_sync(set);
	if (p->next == 0)
		p->secret =
		    mask_count_secret(set, p->value, p->size, p->untrusted);
	a.secret = p->secret;
	while (p->next < p->nforms && (bytes == 0 || bytes < budget)) {
		add_folded(&a, p->forms + p->offset, p->lengths[p->next]);
		bytes += p->lengths[p->next];
		p->offset += p->lengths[p->next++];
	}
	if (set->count > set->built)
		set->deferred = set->count;
	if (a.full) {
		p->next = p->nforms;
		set_error(error,
		    "cannot mask more secrets: %zu MiB of them "
		    "already",
		    MASK_ARENA_MAX / 1024 / 1024);
		return -1;
	}
	return 0;
}

static struct mask_build *
mask_set_build_start_unlocked(struct mask_set *set)
{
	struct mask_build *b;
	size_t k, i, at = 0;

	if (set->build != NULL || set->built == set->count)
		return NULL;
	b = xcalloc(1, sizeof(*b));
	b->first = set->built;
	b->end = set->count;
	for (i = b->first; i < b->end; i++)
		b->bytes += set->needles[i].length;
	/* Absorbs levels as mask_set_sync() does. */
	for (k = set->nlevels;
	     k > 0 && set->levels[k - 1].bytes <= 2 * b->bytes; k--) {
		b->first = set->levels[k - 1].first;
		b->bytes += set->levels[k - 1].bytes;
	}
	b->keep = k;
	b->count = b->end - b->first;
	b->copy_size = b->bytes;
	b->copy = xmalloc(b->bytes > 0 ? b->bytes : 1);
	b->needles = xcalloc(b->count, sizeof(*b->needles));
	for (i = 0; i < b->count; i++) {
		b->needles[i].length = set->needles[b->first + i].length;
		b->needles[i].bytes = b->copy + at;
		at += b->needles[i].length;
	}
	set->build = b;
	set->deferred = b->end;
	return b;
}

static bool
mask_set_build_copy_unlocked(
    struct mask_set *set, struct mask_build *b, size_t budget)
{
	const struct mask_automaton_needle *n;
	size_t bytes = 0;

	/* Needles are never changed nor removed: the range stays valid
	 * even if the build was cancelled meanwhile. */
	while (b->copied < b->count && (bytes == 0 || bytes < budget)) {
		n = &b->needles[b->copied];
		memcpy(b->copy + (n->bytes - b->copy),
		    needle_bytes(set, b->first + b->copied), n->length);
		bytes += n->length;
		b->copied++;
	}
	return b->copied == b->count;
}

void
mask_build_run(struct mask_build *b)
{
	if (b->ac == NULL && b->needles != NULL)
		b->ac = mask_automaton_build(b->needles, b->count);
	if (b->ac == NULL)
		BUG("the set's needles need more than 2^30 states");
	wipe_free(b->copy, b->copy_size);
	free(b->needles);
	b->copy = NULL;
	b->needles = NULL;
}

static bool
mask_set_build_finish_unlocked(struct mask_set *set, struct mask_build *b)
{
	struct mask_level level = { b->ac, b->first, b->count, b->bytes };
	size_t i;

	if (b->cancelled || b->ac == NULL)
		return false;
	set->build = NULL;
	for (i = set->built; i < b->end; i++) {
		if (set->needles[i].length > set->longest)
			set->longest = set->needles[i].length;
		if (needle_bytes(set, i)[0] == '\n' ||
		    needle_bytes(set, i)[0] == '\r' ||
		    needle_bytes(set, i)[0] == ' ')
			set->break_first = true;
	}
	/* The levels it replaces are freed off the loop too. */
	b->nold = set->nlevels - b->keep;
	b->old = xcalloc(b->nold + 1, sizeof(*b->old));
	for (i = 0; i < b->nold; i++)
		b->old[i] = set->levels[b->keep + i].ac;
	b->ac = NULL;
	xgrow(
	    &set->levels, &set->levels_cap, b->keep + 1, sizeof(*set->levels));
	set->levels[b->keep] = level;
	set->nlevels = b->keep + 1;
	i = set->built;
	set->built = b->end;
	if (set->deferred <= set->built)
		set->deferred = 0;
	filter_add(set, i);
	set->generation++;
	return true;
}

void
mask_build_free(struct mask_build *b)
{
	size_t i;

	if (b == NULL)
		return;
	mask_automaton_free(b->ac);
	for (i = 0; i < b->nold; i++)
		mask_automaton_free(b->old[i]);
	free(b->old);
	wipe_free(b->copy, b->copy_size);
	free(b->needles);
	free(b);
}

/* ---- patterns ---- */

static int
mask_set_add_pattern_unlocked(
    struct mask_set *set, const char *pattern, char **error)
{
	PCRE2_UCHAR message[256];
	PCRE2_SIZE offset;
	pcre2_code *code;
	int status;

	code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
	    PCRE2_NEVER_UTF | PCRE2_NEVER_UCP, &status, &offset, NULL);
	if (code == NULL) {
		pcre2_get_error_message(status, message, sizeof(message));
		set_error(error,
		    "cannot compile pattern '%s' at offset %zu: %s", pattern,
		    (size_t)offset, (const char *)message);
		return -1;
	}
	/* Without JIT the interpreter runs the pattern: slower, same result. */
	(void)pcre2_jit_compile(
	    code, PCRE2_JIT_COMPLETE | PCRE2_JIT_PARTIAL_HARD);
	set->patterns = xreallocarray(
	    set->patterns, set->npatterns + 1, sizeof(*set->patterns));
	set->pattern_counts = xreallocarray(set->pattern_counts,
	    set->npatterns + 1, sizeof(*set->pattern_counts));
	set->pattern_counts[set->npatterns] = 0;
	set->patterns[set->npatterns++] = code;
	set->generation++;
	return 0;
}

/* ---- the rest ---- */

static size_t
mask_set_memory_unlocked(struct mask_set *set)
{
	size_t bytes = sizeof(*set) + set->arena_size +
	    set->needles_cap * sizeof(*set->needles) +
	    set->slots_size * sizeof(*set->slots) +
	    set->filter_words * sizeof(*set->filter) +
	    set->grams_size * sizeof(*set->grams),
	       i;

	mask_set_sync(set);
	for (i = 0; i < set->nlevels; i++)
		bytes += mask_automaton_memory(set->levels[i].ac);
	return bytes;
}

/* Frees what the set holds, wiping it first unless discarding. */
static void
set_free(struct mask_set *set, bool wiping)
{
	size_t i;

	if (set == NULL)
		return;
	if (set->streams > 0)
		BUG("mask set freed with %zu streams still open", set->streams);
	for (i = 0; i < set->nlevels; i++)
		if (wiping)
			mask_automaton_free(set->levels[i].ac);
		else
			mask_automaton_discard(set->levels[i].ac);
	free(set->levels);
	for (i = 0; i < set->npatterns; i++)
		pcre2_code_free(set->patterns[i]);
	free(set->patterns);
	if (wiping) {
		wipe_free(set->arena, set->arena_size);
		wipe_free(
		    set->needles, set->needles_cap * sizeof(*set->needles));
		wipe_free(set->slots, set->slots_size * sizeof(*set->slots));
		wipe_free(
		    set->filter, set->filter_words * sizeof(*set->filter));
		wipe_free(set->grams, set->grams_size * sizeof(*set->grams));
	} else {
		free(set->arena);
		free(set->needles);
		free(set->slots);
		free(set->filter);
		free(set->grams);
	}
	mask_count_release(set);
	free(set->token);
	pthread_mutex_destroy(&set->lock);
	free(set);
}

void
mask_set_free(struct mask_set *set)
{
	set_free(set, true);
}

void
mask_set_discard(struct mask_set *set)
{
	set_free(set, false);
}

/* ---- the lock ---- */

/* How deep the calling thread is in calls on mask sets. */
static _Thread_local unsigned lock_depth;

void
mask_set_lock(const struct mask_set *set)
{
	pthread_mutex_lock((pthread_mutex_t *)(uintptr_t)&set->lock);
	lock_depth++;
}

void
mask_set_unlock(const struct mask_set *set)
{
	lock_depth--;
	pthread_mutex_unlock((pthread_mutex_t *)(uintptr_t)&set->lock);
}

bool
mask_in_call(void)
{
	return lock_depth > 0;
}

int
mask_set_add(
    struct mask_set *set, const void *secret, size_t size, char **error)
{
	int rc;

	mask_set_lock(set);
	rc = mask_set_add_unlocked(set, secret, size, error);
	mask_set_unlock(set);
	return rc;
}

int
mask_set_add_untrusted(
    struct mask_set *set, const void *secret, size_t size, char **error)
{
	int rc;

	mask_set_lock(set);
	rc = add_checked(set, secret, size, true, true, error);
	mask_set_unlock(set);
	return rc;
}

void
mask_prepared_untrusted(struct mask_prepared *p)
{
	p->untrusted = true;
}

int
mask_set_add_exact(
    struct mask_set *set, const void *needle, size_t size, char **error)
{
	int rc;

	mask_set_lock(set);
	rc = mask_set_add_exact_unlocked(set, needle, size, error);
	mask_set_unlock(set);
	return rc;
}

size_t
mask_set_needles(const struct mask_set *set)
{
	size_t n;

	mask_set_lock(set);
	n = mask_set_needles_unlocked(set);
	mask_set_unlock(set);
	return n;
}

void
mask_set_compact(struct mask_set *set)
{
	mask_set_lock(set);
	mask_set_compact_unlocked(set);
	mask_set_unlock(set);
}

int
mask_set_check(
    const struct mask_set *set, const void *secret, size_t size, char **error)
{
	int rc;

	mask_set_lock(set);
	rc = mask_set_check_unlocked(set, secret, size, error);
	mask_set_unlock(set);
	return rc;
}

void
mask_set_reserve(struct mask_set *set, size_t bytes)
{
	mask_set_lock(set);
	mask_set_reserve_unlocked(set, bytes);
	mask_set_unlock(set);
}

int
mask_set_add_prepared(
    struct mask_set *set, struct mask_prepared *p, size_t budget, char **error)
{
	int rc;

	mask_set_lock(set);
	rc = mask_set_add_prepared_unlocked(set, p, budget, error);
	mask_set_unlock(set);
	return rc;
}

struct mask_build *
mask_set_build_start(struct mask_set *set)
{
	struct mask_build *b;

	mask_set_lock(set);
	b = mask_set_build_start_unlocked(set);
	mask_set_unlock(set);
	return b;
}

bool
mask_set_build_copy(struct mask_set *set, struct mask_build *b, size_t budget)
{
	bool done;

	mask_set_lock(set);
	done = mask_set_build_copy_unlocked(set, b, budget);
	mask_set_unlock(set);
	return done;
}

bool
mask_set_build_finish(struct mask_set *set, struct mask_build *b)
{
	bool installed;

	mask_set_lock(set);
	installed = mask_set_build_finish_unlocked(set, b);
	mask_set_unlock(set);
	return installed;
}

int
mask_set_add_pattern(struct mask_set *set, const char *pattern, char **error)
{
	int rc;

	mask_set_lock(set);
	rc = mask_set_add_pattern_unlocked(set, pattern, error);
	mask_set_unlock(set);
	return rc;
}

size_t
mask_set_memory(struct mask_set *set)
{
	size_t bytes;

	mask_set_lock(set);
	bytes = mask_set_memory_unlocked(set);
	mask_set_unlock(set);
	return bytes;
}
