/*
 * Unit tests for the masker's redaction counts (mask.h, "Redaction
 * counts"): exact counts per secret and pattern across writes, forms,
 * overlaps, mask_string() and rescans, and the salted hashes that name
 * the secrets.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "mask.h"
#include "tap.h"

struct output {
	char *data;
	size_t used;
	size_t size;
};

static void
collect(void *context, const char *data, size_t size)
{
	struct output *out = context;

	if (out->used + size + 1 > out->size) {
		out->size = (out->used + size + 1) * 2;
		out->data = realloc(out->data, out->size);
	}
	memcpy(out->data + out->used, data, size);
	out->used += size;
	out->data[out->used] = '\0';
}

/* Secret i's count. */
static long
count_of(const struct mask_set *set, size_t i)
{
	char hash[2 * MASK_HASH_SIZE + 1];

	return (long)mask_set_secret_count(set, i, hash);
}

/* Feeds the pieces (NULL-terminated) to a new stream, flushes, frees. */
static char *
feed_pieces(struct mask_set *set, const char *const *pieces)
{
	struct output out = { NULL, 0, 0 };
	struct mask_stream *s = mask_stream_new(set, collect, &out);

	collect(&out, "", 0);
	for (; *pieces != NULL; pieces++)
		mask_stream_feed(s, *pieces, strlen(*pieces));
	mask_stream_flush(s);
	mask_stream_free(s);
	return out.data;
}

static void
test_split_writes(void)
{
	struct mask_set *set = mask_set_new(NULL, 4);
	const char *pieces[] = { "a hunter2-se", "cret b hun", "ter2-secret",
		" c h", "unter2-secret\n", NULL };
	char *got;

	mask_set_add(set, "hunter2-secret", 14, NULL);
	got = feed_pieces(set, pieces);
	is_str(got, "a *** b *** c ***\n", "three occurrences masked");
	is_int(count_of(set, 0), 3, "split across writes: counted 3");
	free(got);
	mask_set_free(set);
}

static void
test_forms(void)
{
	struct mask_set *set = mask_set_new(NULL, 4);
	/* base64 of "hunter2-secret" and its hex */
	const char *pieces[] = { "b64 aHVudGVyMi1zZWNyZXQ= hex ",
		"68756e746572322d736563726574\n", NULL };
	char *got;

	mask_set_add(set, "other-secret-value", 18, NULL);
	mask_set_add(set, "hunter2-secret", 14, NULL);
	got = feed_pieces(set, pieces);
	ok(strstr(got, "aHVudGVy") == NULL && strstr(got, "68756e") == NULL,
	    "the encodings are masked");
	is_int(count_of(set, 1), 2, "base64 and hex count to the secret");
	is_int(count_of(set, 0), 0, "the other secret counts 0");
	free(got);
	mask_set_free(set);
}

static void
test_overlap(void)
{
	struct mask_set *set = mask_set_new(NULL, 4);
	const char *pieces[] = { "x abcdefghi y abcdef z\n", NULL };
	const char *adjacent[] = { "abcdefabcdefabcdef\n", NULL };
	char *got;

	mask_set_add_exact(set, "abcdef", 6, NULL);
	mask_set_add_exact(set, "defghi", 6, NULL);
	got = feed_pieces(set, pieces);
	is_str(got, "x *** y *** z\n", "overlapping secrets merge");
	is_int(count_of(set, 0), 2, "the first: in both ranges");
	is_int(count_of(set, 1), 1, "the second: in the merged one");
	free(got);
	got = feed_pieces(set, adjacent);
	is_str(got, "***\n", "back to back: one token");
	is_int(count_of(set, 0), 3, "and one more count");
	free(got);
	mask_set_free(set);
}

static void
test_shared_needle(void)
{
	struct mask_set *set = mask_set_new(NULL, 4);
	const char *pieces[] = { "[abcd efgh]\n", NULL };
	char *got;

	/* The others' whitespace variants are the first secret itself. */
	mask_set_add(set, "abcd efgh", 9, NULL);
	mask_set_add(set, "wxyz\t1234", 9, NULL);
	mask_set_add(set, "abcd\tefgh", 9, NULL);
	mask_set_add(set, "wxyz 1234", 9, NULL);
	mask_set_add(set, "abcd\nefgh", 9, NULL);
	got = feed_pieces(set, pieces);
	is_str(got, "[***]\n", "a needle of three secrets is masked");
	is_int(count_of(set, 0), 1, "it counts for the first");
	is_int(count_of(set, 2), 1, "for the second");
	is_int(count_of(set, 4), 1, "and for the third");
	is_int(count_of(set, 1) + count_of(set, 3), 0, "not for the others");
	free(got);
	mask_set_free(set);
}

static void
test_mask_string(void)
{
	struct mask_set *set = mask_set_new(NULL, 4);
	char *got;

	mask_set_add(set, "s3cr3tval", 9, NULL);
	got = mask_string(set, "use 's3cr3tval', not s3cr3tval", 30, NULL);
	is_str(got, "use '***', not ***", "mask_string masks");
	is_int(count_of(set, 0), 2, "mask_string counts");
	free(got);
	got = mask_string(set, "s3cr3", 5, NULL);
	is_int(count_of(set, 0), 2, "half a secret at the end: no count");
	free(got);
	mask_set_free(set);
}

/*
 * A complete match held back (a longer secret could still extend it) and
 * rescanned several times counts once, when it goes out.
 */
static void
test_rescan(void)
{
	struct mask_set *set = mask_set_new(NULL, 4);
	struct output out = { NULL, 0, 0 };
	struct mask_stream *s = mask_stream_new(set, collect, &out);

	collect(&out, "", 0);
	mask_set_add_exact(set, "abcdefgh", 8, NULL);
	mask_set_add_exact(set, "abcdefghijklmnop", 16, NULL);
	mask_stream_feed(s, "one abcdefgh", 12);
	ok(mask_stream_held(s) > 0, "a match that may grow is held");
	is_int(count_of(set, 0), 0, "not counted while held");
	mask_set_add_exact(set, "unrelated-1", 11, NULL);
	mask_stream_rescan(s);
	mask_set_add_exact(set, "unrelated-2", 11, NULL);
	mask_stream_rescan(s);
	mask_set_compact(set);
	mask_stream_rescan(s);
	mask_stream_feed(s, "ij two\n", 7);
	is_str(out.data, "one ***ij two\n", "the held match is masked");
	is_int(count_of(set, 0), 1, "counted once after rescans");
	is_int(count_of(set, 1), 0, "the longer one did not match");
	mask_stream_feed(s, "abcdefghijklmnop\n", 17);
	mask_stream_flush(s);
	is_int(count_of(set, 1), 1, "the longer one, once");
	is_int(count_of(set, 0), 2, "with the shorter inside it");
	mask_stream_free(s);
	free(out.data);
	mask_set_free(set);
}

/* A secret registered while the stream holds its beginning. */
static void
test_late_secret(void)
{
	struct mask_set *set = mask_set_new(NULL, 4);
	struct output out = { NULL, 0, 0 };
	struct mask_stream *s = mask_stream_new(set, collect, &out);

	collect(&out, "", 0);
	mask_set_add_exact(set, "late-secret-xyzzy", 17, NULL);
	mask_stream_feed(s, "v=late-secret-x", 15);
	mask_set_add_exact(set, "late-secret-x", 13, NULL);
	mask_stream_rescan(s);
	mask_stream_rescan(s);
	mask_stream_feed(s, "!\n", 2);
	mask_stream_flush(s);
	is_str(out.data, "v=***!\n", "a late secret masks the held bytes");
	is_int(count_of(set, 1), 1, "and counts once");
	is_int(count_of(set, 0), 0, "the longer one: no match");
	mask_stream_free(s);
	free(out.data);
	mask_set_free(set);
}

static void
test_patterns(void)
{
	struct mask_set *set = mask_set_new(NULL, 4);
	const char *pieces[] = { "t ghp_abcdefgh and ghp_", "12345678 ",
		"hunter2-secret\n", NULL };
	char *got;

	mask_set_add_pattern(set, "x{9}", NULL);
	mask_set_add_pattern(set, "ghp_[a-z0-9]{8}", NULL);
	mask_set_add(set, "hunter2-secret", 14, NULL);
	got = feed_pieces(set, pieces);
	is_str(got, "t *** and *** ***\n", "patterns and a secret masked");
	is_int(mask_set_patterns(set), 2, "two patterns");
	is_int(mask_set_pattern_count(set, 0), 0, "pattern 0: none");
	is_int(mask_set_pattern_count(set, 1), 2, "pattern 1: twice");
	is_int(count_of(set, 0), 1, "the secret: once");
	free(got);
	mask_set_free(set);
}

/* An emitted token counts even when the stream is freed unflushed. */
static void
test_free_unflushed(void)
{
	struct mask_set *set = mask_set_new(NULL, 4);
	struct output out = { NULL, 0, 0 };
	struct mask_stream *s = mask_stream_new(set, collect, &out);

	mask_set_add_exact(set, "abcdefgh", 8, NULL);
	mask_set_add_exact(set, "ghijklmnop", 10, NULL);
	mask_stream_feed(s, "abcdefghij", 10);
	mask_stream_free(s);
	is_int(count_of(set, 0), 1, "the announced range counts");
	free(out.data);
	mask_set_free(set);
}

static void
test_hashes(void)
{
	struct mask_set *set = mask_set_new(NULL, 4);
	char hash[2 * MASK_HASH_SIZE + 1], want[2 * MASK_HASH_SIZE + 1];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_size = 0, i;
	const char *salt = mask_set_salt(set), *p;
	struct mask_set *other = mask_set_new(NULL, 4);
	char other_hash[2 * MASK_HASH_SIZE + 1];

	ok(strlen(salt) == 32 && strspn(salt, "0123456789abcdef") == 32,
	    "the salt is 32 hex digits");
	ok(strcmp(salt, mask_set_salt(other)) != 0, "each set its own salt");
	is_int(mask_set_add(set, "abc", 3, NULL), 1, "a short secret refused");
	is_int(mask_set_secrets(set), 0, "and not listed");
	mask_set_add(set, "hunter2-secret", 14, NULL);
	mask_set_add_exact(set, "hunter2-secret", 14, NULL);
	mask_set_add(set, "hunter2-secret", 14, NULL);
	is_int(mask_set_secrets(set), 1, "a value given thrice: one");
	mask_set_secret_count(set, 0, hash);
	HMAC(EVP_sha256(), salt, (int)strlen(salt),
	    (const unsigned char *)"hunter2-secret", 14, md, &md_size);
	for (i = 0; i < md_size; i++)
		snprintf(want + 2 * i, 3, "%02x", md[i]);
	is_str(hash, want, "the hash is HMAC-SHA256 keyed with the hex salt");
	mask_set_add(other, "hunter2-secret", 14, NULL);
	mask_set_secret_count(other, 0, other_hash);
	ok(strcmp(hash, other_hash) != 0, "another salt, another hash");
	for (p = hash; *p != '\0'; p++)
		if (strstr(p, "hunter2") == p)
			break;
	ok(*p == '\0', "the hash is not the value");
	mask_set_free(other);
	mask_set_free(set);
}

int
main(void)
{
	test_split_writes();
	test_forms();
	test_overlap();
	test_shared_needle();
	test_mask_string();
	test_rescan();
	test_late_secret();
	test_patterns();
	test_free_unflushed();
	test_hashes();
	return done_testing();
}
