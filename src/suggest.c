/*
 * Edit distance for "did you mean" hints: the optimal string alignment
 * distance (Levenshtein plus adjacent swaps), which catches the common
 * "depnds_on" and "dpeends_on" kinds of typo.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "suggest.h"
#include "xalloc.h"

/* Words longer than this are not compared: nobody typos a paragraph. */
#define SUGGEST_MAX_LENGTH 64

static size_t
min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;

	return m < c ? m : c;
}

size_t
suggest_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, cost, result;
	size_t *d, w = lb + 1;

	d = xcalloc((la + 1) * (lb + 1), sizeof(*d));
	for (i = 0; i <= la; i++)
		d[i * w] = i;
	for (j = 0; j <= lb; j++)
		d[j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			cost = tolower((unsigned char)a[i - 1]) ==
				tolower((unsigned char)b[j - 1])
			    ? 0
			    : 1;
			d[i * w + j] =
			    min3(d[(i - 1) * w + j] + 1, d[i * w + j - 1] + 1,
				d[(i - 1) * w + j - 1] + cost);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] &&
			    d[(i - 2) * w + j - 2] + 1 < d[i * w + j])
				d[i * w + j] = d[(i - 2) * w + j - 2] + 1;
		}
	}
	result = d[la * w + lb];
	free(d);
	return result;
}

const char *
suggest_closest(const char *word, const char *const *candidates, size_t n)
{
	const char *best = NULL;
	size_t best_distance = (size_t)-1, limit, distance, i, length;

	length = strlen(word);
	if (length == 0 || length > SUGGEST_MAX_LENGTH)
		return NULL;
	/* One edit per three characters, at least one, at most three. */
	limit = length / 3;
	if (limit < 1)
		limit = 1;
	if (limit > 3)
		limit = 3;
	for (i = 0; i < n; i++) {
		if (strlen(candidates[i]) > SUGGEST_MAX_LENGTH)
			continue;
		distance = suggest_distance(word, candidates[i]);
		if (distance <= limit && distance < best_distance) {
			best = candidates[i];
			best_distance = distance;
		}
	}
	return best;
}
