/*
 * Numbers and durations, parsed strictly: the whole string, no sign games,
 * no overflow, and a sentence for the user when the text is not one.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"

struct duration_unit {
	const char *name;
	uint64_t ms;
	uint64_t per_larger; /* how many make the next larger unit */
};

/* Longest names first, so "ms" is not read as "m" followed by "s". */
static const struct duration_unit duration_units[] = {
	{ "ms", 1, 1000 },
	{ "s", 1000, 60 },
	{ "m", 60 * 1000, 60 },
	{ "h", 3600 * 1000, 24 },
	{ "d", 24 * 3600 * 1000, 0 },
};

static const struct duration_unit *
duration_unit_at(const char *p)
{
	size_t i, n;

	for (i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]);
	     i++) {
		n = strlen(duration_units[i].name);
		if (strncmp(p, duration_units[i].name, n) == 0 &&
		    !isalpha((unsigned char)p[n]))
			return &duration_units[i];
	}
	return NULL;
}

/* Reads digits at *p into *out (saturating past DURATION_MAX_MS). */
static int
duration_digits(const char **p, uint64_t *out)
{
	uint64_t value = 0;
	const char *s = *p;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		if (value <= DURATION_MAX_MS)
			value = value * 10 + (uint64_t)(*s - '0');
	}
	*p = s;
	*out = value;
	return 0;
}

/*
 * Adds the parts of text, which starts with digits, into *total (past
 * DURATION_MAX_MS it stops counting).  Units go from the largest down,
 * each once, and a part after the first stays below one of the unit
 * before it ("1h30m", not "1h90m" or "30m1h"), so that the text reads one
 * way and a JSON Schema pattern can bound the total.
 */
static int
duration_parts(const char *text, uint64_t *total, const char **why)
{
	const struct duration_unit *unit, *previous = NULL;
	const char *p = text;
	uint64_t value;

	while (*p != '\0') {
		if (duration_digits(&p, &value) < 0 ||
		    (unit = duration_unit_at(p)) == NULL)
			return -1;
		p += strlen(unit->name);
		if (previous != NULL && unit->ms >= previous->ms) {
			*why = "expected units from the largest down, each "
			       "once, as in 1h30m";
			return -1;
		}
		if (previous != NULL && value >= unit->per_larger) {
			*why = "expected each part after the first below one "
			       "of the unit before it (1h59m, not 1h90m)";
			return -1;
		}
		previous = unit;
		if (*total <= DURATION_MAX_MS)
			*total = value > DURATION_MAX_MS / unit->ms
			    ? DURATION_MAX_MS + 1
			    : *total + value * unit->ms;
	}
	return 0;
}

int
duration_parse(uint64_t *out_ms, const char *text, const char **why)
{
	const char *p = text;
	uint64_t total = 0, value;

	*why = "expected a duration such as 90s, 10m, 1h30m or 500ms";
	if (duration_digits(&p, &value) < 0)
		return -1;
	if (*p == '\0') {
		/* A bare integer counts seconds. */
		total = value > DURATION_MAX_MS ? DURATION_MAX_MS + 1
						: value * 1000;
	} else if (duration_parts(text, &total, why) < 0) {
		return -1;
	}
	if (total == 0) {
		*why = "expected a duration longer than zero";
		return -1;
	}
	if (total > DURATION_MAX_MS) {
		*why = "expected a duration of at most 366d";
		return -1;
	}
	*out_ms = total;
	return 0;
}

char *
duration_format(char *buf, size_t size, uint64_t ms)
{
	size_t used = 0;
	size_t i;
	int n;

	if (ms == 0) {
		snprintf(buf, size, "0s");
		return buf;
	}
	for (i = sizeof(duration_units) / sizeof(duration_units[0]); i-- > 0;) {
		uint64_t unit = duration_units[i].ms, count = ms / unit;

		if (count == 0)
			continue;
		n = snprintf(buf + used, size - used, "%llu%s",
		    (unsigned long long)count, duration_units[i].name);
		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
		ms -= count * unit;
	}
	return buf;
}

int
number_parse(long long *out, const char *text, long long min, long long max,
    const char **why)
{
	static char message[128];
	char *end;
	long long value;

	snprintf(message, sizeof(message),
	    "expected an integer from %lld to %lld", min, max);
	*why = message;
	if (text[0] == '\0' || isspace((unsigned char)text[0]) ||
	    text[0] == '+')
		return -1;
	errno = 0;
	value = strtoll(text, &end, 10);
	if (*end != '\0' || errno == ERANGE || value < min || value > max)
		return -1;
	*out = value;
	return 0;
}
