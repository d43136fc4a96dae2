/*
 * The problems found in one input file, gathered so that a user sees all
 * of them in one run rather than one per run.  Each problem has a position
 * (line 0: none) and a message; the list keeps the PROBLEMS_MAX earliest by
 * position and counts the rest, and joins them into one text, one problem
 * a line, "file:line:column: message", in the order of the file.
 */
#ifndef JOBRUN_PROBLEMS_H
#define JOBRUN_PROBLEMS_H

#include <stdbool.h>
#include <stddef.h>

#include "list.h"

/* How many problems are shown; the rest are counted ("and 3 more"). */
#define PROBLEMS_MAX 20

/*
 * To join problems for one jobrun diagnostic (diag.h): each line after the
 * first starts with "jobrun: " as the first will when printed, so that
 * every line reads as jobrun's own, and the whole fits in what one
 * diagnostic holds (4 KiB), longer lists ending "and N more".
 */
#define PROBLEMS_DIAG_SEPARATOR "\njobrun: "
#define PROBLEMS_DIAG_MAX 3800

struct problem {
	struct srcpos pos;
	char *message; /* owned, on one line */
};

struct problems {
	const char *file; /* borrowed; names the file in every line */
	struct problem items[PROBLEMS_MAX]; /* sorted by position */
	size_t len;
	size_t dropped; /* found but not kept */
};

#define PROBLEMS_INIT(file_name)                                               \
	{                                                                      \
		.file = (file_name)                                            \
	}

/*
 * Adds a problem at pos (line 0: the file as a whole).  Control characters
 * in the message become '?', so it stays on one line whatever the input
 * held.  The same message at the same position is kept once.
 */
void problems_add(struct problems *problems, struct srcpos pos, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

/* Returns how many problems were added (kept or not). */
size_t problems_count(const struct problems *problems);

/*
 * Returns the problems as one new string (the caller frees it): one line
 * per problem, "file:line:column: message" (or "file: message"), joined by
 * separator, then "file: and N more problems" when some were not kept or would
 * take the text past max_size bytes.  NULL when there are none.
 */
char *problems_join(
    const struct problems *problems, const char *separator, size_t max_size);

/* Frees the messages; the list is empty again. */
void problems_release(struct problems *problems);

#endif
