/*
 * A minimal TAP producer for the unit tests: ok(), is_int(), is_str() and
 * done_testing(), which prints the plan and returns main()'s exit status.
 */
#ifndef JOBRUN_TAP_H
#define JOBRUN_TAP_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int tap_count;
static int tap_failed;

static inline bool
tap_ok(bool pass, const char *what)
{
	tap_count++;
	printf("%sok %d - %s\n", pass ? "" : "not ", tap_count, what);
	if (!pass)
		tap_failed++;
	return pass;
}

static inline bool
tap_is_int(long long got, long long expected, const char *what)
{
	if (!tap_ok(got == expected, what)) {
		printf(
		    "#   got:      %lld\n#   expected: %lld\n", got, expected);
		return false;
	}
	return true;
}

static inline bool
tap_is_str(const char *got, const char *expected, const char *what)
{
	bool same = (got == NULL && expected == NULL) ||
	    (got != NULL && expected != NULL && strcmp(got, expected) == 0);

	if (!tap_ok(same, what)) {
		printf("#   got:      %s\n#   expected: %s\n",
		    got ? got : "(null)", expected ? expected : "(null)");
		return false;
	}
	return true;
}

static inline int
tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed == 0 ? 0 : 1;
}

#define ok(cond, what) tap_ok((cond), (what))
#define is_int(got, expected, what) tap_is_int((got), (expected), (what))
#define is_str(got, expected, what) tap_is_str((got), (expected), (what))
#define done_testing() tap_done()

#endif
