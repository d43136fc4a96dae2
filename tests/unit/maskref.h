/*
 * A one-shot reference masker for the masker's differential test and fuzz
 * target: as simple as possible, so it is obviously right.  It marks every
 * byte covered by an occurrence of a needle (found with memcmp at every
 * offset) or by a pattern match (each line on its own, whole), then
 * replaces each run of covered bytes by the token: overlapping and
 * adjacent matches become one token.  Quadratic; for small inputs only.
 */
#ifndef JOBRUN_MASKREF_H
#define JOBRUN_MASKREF_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

struct maskref {
	unsigned char **needles;
	size_t *lengths;
	size_t count;
	pcre2_code **patterns;
	size_t npatterns;
};

static inline void
maskref_add(struct maskref *ref, const void *bytes, size_t size)
{
	ref->needles = realloc(ref->needles, (ref->count + 1) * sizeof(void *));
	ref->lengths = realloc(ref->lengths, (ref->count + 1) * sizeof(size_t));
	ref->needles[ref->count] = malloc(size ? size : 1);
	memcpy(ref->needles[ref->count], bytes, size);
	ref->lengths[ref->count++] = size;
}

static inline bool
maskref_add_pattern(struct maskref *ref, const char *pattern)
{
	PCRE2_SIZE offset;
	pcre2_code *code;
	int status;

	code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
	    PCRE2_NEVER_UTF | PCRE2_NEVER_UCP, &status, &offset, NULL);
	if (code == NULL)
		return false;
	ref->patterns = realloc(
	    ref->patterns, (ref->npatterns + 1) * sizeof(*ref->patterns));
	ref->patterns[ref->npatterns++] = code;
	return true;
}

static inline void
maskref_release(struct maskref *ref)
{
	size_t i;

	for (i = 0; i < ref->count; i++)
		free(ref->needles[i]);
	for (i = 0; i < ref->npatterns; i++)
		pcre2_code_free(ref->patterns[i]);
	free(ref->needles);
	free(ref->lengths);
	free(ref->patterns);
	memset(ref, 0, sizeof(*ref));
}

/* Marks the matches of every pattern in one line, searched whole. */
static inline void
maskref_line(const struct maskref *ref, const unsigned char *line,
    size_t length, bool *covered, pcre2_match_data *data)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(data);
	size_t i, offset, k;
	int rc;

	for (i = 0; i < ref->npatterns; i++) {
		offset = 0;
		while (offset <= length) {
			rc = pcre2_match(ref->patterns[i], line, length, offset,
			    0, data, NULL);
			if (rc < 0)
				break;
			for (k = ov[0]; k < ov[1]; k++)
				covered[k] = true;
			offset = ov[1] > ov[0] ? ov[1] : ov[1] + 1;
		}
	}
}

/* Returns the masked input (allocated) and its length in *out_size. */
static inline unsigned char *
maskref_mask(const struct maskref *ref, const unsigned char *in, size_t size,
    const char *token, size_t *out_size)
{
	bool *covered = calloc(size + 1, sizeof(bool));
	unsigned char *out = malloc(size * (strlen(token) + 1) + 1);
	pcre2_match_data *data = pcre2_match_data_create(1, NULL);
	size_t i, j, k, n = 0, line = 0;

	for (i = 0; i < ref->count; i++)
		for (j = 0; j + ref->lengths[i] <= size; j++)
			if (in[j] == ref->needles[i][0] &&
			    memcmp(in + j, ref->needles[i], ref->lengths[i]) ==
				0)
				for (k = 0; k < ref->lengths[i]; k++)
					covered[j + k] = true;
	for (i = 0; i <= size && ref->npatterns > 0; i++)
		if (i == size || in[i] == '\n') {
			maskref_line(
			    ref, in + line, i - line, covered + line, data);
			line = i + 1;
		}
	for (i = 0; i < size; i++) {
		if (!covered[i]) {
			out[n++] = in[i];
		} else if (i == 0 || !covered[i - 1]) {
			memcpy(out + n, token, strlen(token));
			n += strlen(token);
		}
	}
	pcre2_match_data_free(data);
	free(covered);
	*out_size = n;
	return out;
}

#endif
