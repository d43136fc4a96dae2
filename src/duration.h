/*
 * The one parser for numbers and durations in job files, environment
 * variables and flags.  Each checks the whole string and the range, and on
 * failure says what was expected.
 */
#ifndef JOBRUN_DURATION_H
#define JOBRUN_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* The longest duration accepted anywhere: 366 days, in milliseconds. */
#define DURATION_MAX_MS (366ULL * 24 * 3600 * 1000)

/*
 * Parses a duration: one or more <integer><unit> parts with units ms, s, m, h
 * and d ("90s", "10m", "1h30m", "500ms"), or a bare integer of seconds.
 * Units go from the largest down, each at most once, and every part after
 * the first is below one of the unit before it (h < 24, m < 60, s < 60,
 * ms < 1000): "1d12h", "90m" and "1m500ms", not "1h90m" or "30s1m".  The
 * result must be positive and at most DURATION_MAX_MS.  Returns 0 and stores
 * milliseconds in *out_ms; returns -1 and points *why at a static sentence
 * otherwise.
 */
int duration_parse(uint64_t *out_ms, const char *text, const char **why);

/*
 * Formats ms as the shortest duration duration_parse() reads back ("1h30m",
 * "250ms") into buf of size bytes; returns buf.
 */
char *duration_format(char *buf, size_t size, uint64_t ms);

/*
 * Parses a whole decimal integer within [min, max].  Returns 0 and stores it
 * in *out; returns -1 and points *why at a static sentence otherwise.
 */
int number_parse(long long *out, const char *text, long long min, long long max,
    const char **why);

#endif
