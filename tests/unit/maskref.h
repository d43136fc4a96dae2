/*
 * A one-shot reference masker for the masker's differential test and fuzz
 * target: as simple as possible, so it is obviously right.  It folds the
 * text (leaves out each line break, "\n" or "\r\n", that has an encoded
 * character on both sides: A-Z a-z 0-9 + / - _, with the spaces and tabs,
 * at most MASK_FOLD_INDENT_MAX, between it and the one after; any other
 * break followed by such an indent and then by something else than a
 * break, not at the text's start, becomes one space) and each needle (the
 * same, an indented break at either end left out,
 * a break at either end counting as between encoded characters when the
 * needle's side is one, and a final "\r" too), marks every text byte from
 * the first to the last of an occurrence of a folded needle in the folded
 * text (found with memcmp at every offset) or of a pattern match (each
 * raw line on its own, whole), then replaces each run of covered bytes by
 * the token: overlapping and adjacent matches become one token.
 * Quadratic; for small inputs only.
 */
#ifndef JOBRUN_MASKREF_H
#define JOBRUN_MASKREF_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "mask-forms.h" /* MASK_FOLD_INDENT_MAX */

struct maskref {
	unsigned char **needles;
	size_t *lengths;
	size_t count;
	pcre2_code **patterns;
	size_t npatterns;
};

static inline bool
maskref_encoded(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '-' ||
	    c == '_';
}

/*
 * The length of the line break at in[i] ("\r\n", "\n", or a "\r" at
 * the very end when final_cr), or 0.
 */
static inline size_t
maskref_break(const unsigned char *in, size_t size, size_t i, bool final_cr)
{
	if (in[i] == '\r' && i + 1 < size && in[i + 1] == '\n')
		return 2;
	if (in[i] == '\n' || (final_cr && in[i] == '\r' && i + 1 == size))
		return 1;
	return 0;
}

/*
 * The length of the colour or erase code at in[0, size): ESC, '[', then
 * digits, ';' and ':', then 'm' or 'K', in at most MASK_FOLD_CSI_MAX bytes; 0
 * when there is none.  *open: in is the start of one, not yet ended.
 */
static inline size_t
maskref_csi(const unsigned char *in, size_t size, bool *open)
{
	size_t i;

	*open = false;
	if (size == 0 || in[0] != 0x1b)
		return 0;
	for (i = 1; i < size && i < MASK_FOLD_CSI_MAX; i++) {
		if (i == 1 ? in[i] != '['
			   : !(in[i] == ';' || in[i] == ':' ||
				 (in[i] >= '0' && in[i] <= '9')))
			return i >= 2 && (in[i] == 'm' || in[i] == 'K') ? i + 1
									: 0;
	}
	*open = i == size && i < MASK_FOLD_CSI_MAX;
	return 0;
}

/*
 * Folds in into out; raw (may be NULL) gets, for each folded byte, its
 * offset in in.  edges: a needle (the ends count as encoded).  Colour and
 * erase codes are left out wherever they are; line breaks are judged by
 * the bytes beside them.
 */
static inline size_t
maskref_fold(unsigned char *out, size_t *raw, const unsigned char *in,
    size_t size, bool edges)
{
	size_t i = 0, n = 0, k, length, indent;
	bool before, after, open;

	while (i < size) {
		if ((length = maskref_csi(in + i, size - i, &open)) > 0) {
			i += length;
			continue;
		}
		length = maskref_break(in, size, i, edges);
		indent = 0;
		if (length > 0 && in[i + length - 1] == '\n')
			while (i + length + indent < size &&
			    (in[i + length + indent] == ' ' ||
				in[i + length + indent] == '\t'))
				indent++;
		if (indent > MASK_FOLD_INDENT_MAX)
			indent = 0;
		before = i == 0 ? edges : maskref_encoded(in[i - 1]);
		after = i + length + indent == size
		    ? edges
		    : maskref_encoded(in[i + length + indent]);
		if (length > 0 && before && after) {
			i += length + indent;
			continue;
		}
		/* A needle: an indented break at either end is left out. */
		if (length > 0 && indent > 0 && edges &&
		    (i == 0 || i + length + indent == size)) {
			i += length + indent;
			continue;
		}
		/* An indented line after a break (not the first byte of the
		 * text): the break and the indent are one space. */
		if (length > 0 && indent > 0 && i > 0 &&
		    i + length + indent < size &&
		    in[i + length + indent] != '\n' &&
		    in[i + length + indent] != '\r') {
			if (raw != NULL)
				raw[n] = i;
			out[n++] = ' ';
			i += length + indent;
			continue;
		}
		if (length == 0)
			length = 1;
		for (k = 0; k < length; k++, i++) {
			if (raw != NULL)
				raw[n] = i;
			out[n++] = in[i];
		}
	}
	return n;
}

/* Adds a needle, folded; dropped when shorter than min_length then. */
static inline void
maskref_add(
    struct maskref *ref, const void *bytes, size_t size, size_t min_length)
{
	unsigned char *folded = malloc(size ? size : 1);

	size = maskref_fold(folded, NULL, bytes, size, true);
	if (size < min_length || size == 0) {
		free(folded);
		return;
	}
	ref->needles = realloc(ref->needles, (ref->count + 1) * sizeof(void *));
	ref->lengths = realloc(ref->lengths, (ref->count + 1) * sizeof(size_t));
	ref->needles[ref->count] = folded;
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
	unsigned char *folded = malloc(size + 1);
	size_t *raw = malloc((size + 1) * sizeof(size_t));
	pcre2_match_data *data = pcre2_match_data_create(1, NULL);
	size_t i, j, k, n = 0, line = 0, fsize;

	fsize = maskref_fold(folded, raw, in, size, false);
	for (i = 0; i < ref->count; i++)
		for (j = 0; j + ref->lengths[i] <= fsize; j++)
			if (folded[j] == ref->needles[i][0] &&
			    memcmp(folded + j, ref->needles[i],
				ref->lengths[i]) == 0)
				for (k = raw[j];
				     k <= raw[j + ref->lengths[i] - 1]; k++)
					covered[k] = true;
	free(folded);
	free(raw);
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

/*
 * The line break (or final "\r") at the end of in[0, size), with the
 * spaces and tabs after it, that a stream keeps until the next byte
 * tells whether it folds, or a colour code not yet ended: its length, or
 * 0.
 */
static inline size_t
maskref_pending(const unsigned char *in, size_t size)
{
	size_t start, end = size, i;
	bool open;

	/* A colour code not yet ended waits for its end, and so does a line
	 * break just before it (the reference cannot judge a break at the
	 * end of what it folds). */
	for (i = size; i > 0 && size - i < MASK_FOLD_CSI_MAX; i--)
		if (in[i - 1] == 0x1b) {
			maskref_csi(in + i - 1, size - (i - 1), &open);
			if (open)
				return size - (i - 1) +
				    maskref_pending(in, i - 1);
			break;
		}
	if (size >= 2 && in[size - 1] == '\r')
		return 1;
	while (end > 0 && size - end <= MASK_FOLD_INDENT_MAX &&
	    (in[end - 1] == ' ' || in[end - 1] == '\t'))
		end--;
	if (end == 0 || in[end - 1] != '\n' ||
	    size - end > MASK_FOLD_INDENT_MAX)
		return 0;
	start = end >= 2 && in[end - 2] == '\r' ? end - 2 : end - 1;
	/* What follows may fold it, or make it one space with an indent. */
	return start >= 1 ? size - start : 0;
}

/*
 * The most a stream without patterns may hold after in[0, size): from the
 * longest suffix of the folded text that is a proper prefix of a folded
 * needle, else the pending line break.
 */
static inline size_t
maskref_hold(const struct maskref *ref, const unsigned char *in, size_t size)
{
	size_t pending = maskref_pending(in, size), best = 0, i, k, n;
	unsigned char *folded = malloc(size + 1);
	size_t *raw = malloc((size + 1) * sizeof(size_t)), hold;

	n = maskref_fold(folded, raw, in, size - pending, false);
	for (i = 0; i < ref->count; i++)
		for (k = best + 1; k < ref->lengths[i] && k <= n; k++)
			if (folded[n - k] == ref->needles[i][0] &&
			    memcmp(folded + n - k, ref->needles[i], k) == 0)
				best = k;
	hold = best > 0 ? size - raw[n - best] : pending;
	free(folded);
	free(raw);
	return hold;
}

#endif
