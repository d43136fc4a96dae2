/*
 * Redaction counts of the secret masker (mask.h): the set's random salt,
 * the registered secrets named by HMAC-SHA256 (Nettle's) of
 * their values, which needles are forms of which secrets, and how many
 * redactions each secret and pattern caused.  mask-set.c registers,
 * mask-stream.c credits, the result file reads.  No value is kept here:
 * only its hash.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <nettle/hmac.h>

#include "diag.h"
#include "list.h"
#include "mask-set.h"
#include "xalloc.h"

static void
hex(char *out, const unsigned char *bytes, size_t size)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < size; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 15];
	}
	out[2 * size] = '\0';
}

/*
 * HMAC-SHA256 keyed with the hex salt.  The keyed context (the inner and
 * outer SHA-256 states after the padded key) is made once, at the first
 * secret; each hash starts from a copy of it, so the key schedule is not
 * redone per secret.
 */
static void
hmac(struct mask_set *set, const void *value, size_t size,
    unsigned char hash[MASK_HASH_SIZE])
{
	struct hmac_sha256_ctx work;

	if (set->hmac == NULL) {
		set->hmac = xmalloc(sizeof(*set->hmac));
		hmac_sha256_set_key(set->hmac, strlen(set->salt_hex),
		    (const uint8_t *)set->salt_hex);
	}
	work = *set->hmac;
	hmac_sha256_update(&work, size, value);
	hmac_sha256_digest(&work, MASK_HASH_SIZE, hash);
	wipe(&work, sizeof(work));
}

void
mask_count_init(struct mask_set *set)
{
	size_t got = 0;
	ssize_t n;

	while (got < sizeof(set->salt)) {
		n = getrandom(set->salt + got, sizeof(set->salt) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			diag_fatal(EXIT_JOBRUN_ERROR,
			    "cannot draw a salt for the secrets' hashes: %s",
			    strerror(errno));
		got += (size_t)n;
	}
	hex(set->salt_hex, set->salt, sizeof(set->salt));
	/* The key schedule waits for the first secret. */
	set->secret_slots_size = 64;
	set->secret_slots =
	    xcalloc(set->secret_slots_size, sizeof(*set->secret_slots));
}

static size_t
hash_slot(const unsigned char *hash, size_t size)
{
	uint64_t x;

	memcpy(&x, hash, sizeof(x));
	return (size_t)x & (size - 1);
}

static void
slot_put(
    uint32_t *slots, size_t size, const struct mask_set *set, uint32_t index)
{
	size_t i = hash_slot(set->secrets[index].hash, size);

	while (slots[i] != 0)
		i = (i + 1) & (size - 1);
	slots[i] = index + 1;
}

/* Doubles the table of secrets by hash, which stays at most half full. */
static void
slots_grow(struct mask_set *set)
{
	size_t size = set->secret_slots_size * 2;
	uint32_t *slots = xcalloc(size, sizeof(*slots)), i;

	for (i = 0; i < set->nsecrets; i++)
		slot_put(slots, size, set, i);
	free(set->secret_slots);
	set->secret_slots = slots;
	set->secret_slots_size = size;
}

uint32_t
mask_count_secret(
    struct mask_set *set, const void *value, size_t size, bool untrusted)
{
	unsigned char hash[MASK_HASH_SIZE];
	size_t mask = set->secret_slots_size - 1, i;
	uint32_t index;

	hmac(set, value, size, hash);
	for (i = hash_slot(hash, mask + 1); set->secret_slots[i] != 0;
	     i = (i + 1) & mask) {
		index = set->secret_slots[i] - 1;
		if (memcmp(set->secrets[index].hash, hash, sizeof(hash)) == 0) {
			/* Registered by anyone trusted, it is trusted. */
			set->secrets[index].untrusted =
			    set->secrets[index].untrusted && untrusted;
			return index;
		}
	}
	if (set->nsecrets >= MASK_OWNER_PATTERN - 1)
		BUG("more than 2^31 secrets");
	xgrow(&set->secrets, &set->secrets_cap, set->nsecrets + 1,
	    sizeof(*set->secrets));
	index = (uint32_t)set->nsecrets++;
	memcpy(set->secrets[index].hash, hash, sizeof(hash));
	set->secrets[index].count = 0;
	set->secrets[index].untrusted = untrusted;
	if (set->nsecrets * 2 > set->secret_slots_size)
		slots_grow(set);
	else
		slot_put(set->secret_slots, set->secret_slots_size, set, index);
	return index;
}

size_t
mask_count_first_share(const struct mask_set *set, size_t needle)
{
	size_t low = 0, high = set->nshares, middle;

	while (low < high) {
		middle = low + (high - low) / 2;
		if (set->shares[middle].needle < needle)
			low = middle + 1;
		else
			high = middle;
	}
	return low;
}

/* Shares are kept sorted by needle, then secret, for the search above. */
void
mask_count_share(struct mask_set *set, size_t needle, uint32_t secret)
{
	size_t i;

	if (set->needles[needle].secret == secret)
		return;
	i = mask_count_first_share(set, needle);
	while (i < set->nshares && set->shares[i].needle == needle &&
	    set->shares[i].secret < secret)
		i++;
	if (i < set->nshares && set->shares[i].needle == needle &&
	    set->shares[i].secret == secret)
		return;
	xgrow(&set->shares, &set->shares_cap, set->nshares + 1,
	    sizeof(*set->shares));
	memmove(set->shares + i + 1, set->shares + i,
	    (set->nshares - i) * sizeof(*set->shares));
	set->shares[i].needle = (uint32_t)needle;
	set->shares[i].secret = secret;
	set->nshares++;
	set->needles[needle].shared = true;
}

void
mask_count_credit(struct mask_set *set, uint32_t owner)
{
	if (owner == MASK_OWNER_NONE)
		return;
	if (owner & MASK_OWNER_PATTERN) {
		if ((owner & ~MASK_OWNER_PATTERN) < set->npatterns)
			set->pattern_counts[owner & ~MASK_OWNER_PATTERN]++;
		return;
	}
	if (owner < set->nsecrets)
		set->secrets[owner].count++;
}

void
mask_count_release(struct mask_set *set)
{
	free(set->secrets);
	free(set->secret_slots);
	free(set->shares);
	free(set->pattern_counts);
	wipe(set->salt, sizeof(set->salt));
	wipe(set->salt_hex, sizeof(set->salt_hex));
	if (set->hmac != NULL) {
		wipe(set->hmac, sizeof(*set->hmac));
		free(set->hmac);
	}
}

const char *
mask_set_salt(const struct mask_set *set)
{
	return set->salt_hex;
}

static size_t
mask_set_secrets_unlocked(const struct mask_set *set)
{
	return set->nsecrets;
}

static uint64_t
mask_set_secret_count_unlocked(
    const struct mask_set *set, size_t i, char hash_hex[2 * MASK_HASH_SIZE + 1])
{
	hex(hash_hex, set->secrets[i].hash, MASK_HASH_SIZE);
	return set->secrets[i].count;
}

static size_t
mask_set_patterns_unlocked(const struct mask_set *set)
{
	return set->npatterns;
}

static uint64_t
mask_set_pattern_count_unlocked(const struct mask_set *set, size_t i)
{
	return set->pattern_counts[i];
}

size_t
mask_set_secrets(const struct mask_set *set)
{
	size_t n;

	mask_set_lock(set);
	n = mask_set_secrets_unlocked(set);
	mask_set_unlock(set);
	return n;
}

uint64_t
mask_set_secret_count(
    const struct mask_set *set, size_t i, char hash_hex[2 * MASK_HASH_SIZE + 1])
{
	uint64_t count;

	mask_set_lock(set);
	count = mask_set_secret_count_unlocked(set, i, hash_hex);
	mask_set_unlock(set);
	return count;
}

size_t
mask_set_patterns(const struct mask_set *set)
{
	size_t n;

	mask_set_lock(set);
	n = mask_set_patterns_unlocked(set);
	mask_set_unlock(set);
	return n;
}

uint64_t
mask_set_pattern_count(const struct mask_set *set, size_t i)
{
	uint64_t count;

	mask_set_lock(set);
	count = mask_set_pattern_count_unlocked(set, i);
	mask_set_unlock(set);
	return count;
}

bool
mask_set_empty(const struct mask_set *set)
{
	bool empty;

	mask_set_lock(set);
	empty = set->nsecrets == 0 && set->npatterns == 0;
	mask_set_unlock(set);
	return empty;
}
