/*
 * "Did you mean" suggestions for misspelt keys and names.
 */
#ifndef JOBRUN_SUGGEST_H
#define JOBRUN_SUGGEST_H

#include <stddef.h>

/*
 * Returns the candidate closest to word by edit distance (insertions,
 * deletions, substitutions and swaps of adjacent characters), or NULL when
 * none is close enough to be a plausible typo.  The result is borrowed from
 * candidates, an array of n strings.
 */
const char *suggest_closest(
    const char *word, const char *const *candidates, size_t n);

/* Returns the edit distance between a and b, as suggest_closest() counts. */
size_t suggest_distance(const char *a, const char *b);

#endif
