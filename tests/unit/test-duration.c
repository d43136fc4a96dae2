/* Unit tests for duration.c: durations and integers, accepted and refused. */
#include "config.h"

#include <stdio.h>

#include "duration.h"
#include "tap.h"

static void
accepts(const char *text, uint64_t expected_ms)
{
	char what[128];
	const char *why;
	uint64_t ms = 0;

	snprintf(what, sizeof(what), "'%s' is %llu ms", text,
	    (unsigned long long)expected_ms);
	ok(duration_parse(&ms, text, &why) == 0 && ms == expected_ms, what);
}

static void
refuses(const char *text)
{
	char what[128];
	const char *why = NULL;
	uint64_t ms = 0;

	snprintf(what, sizeof(what), "'%s' is refused with a reason", text);
	ok(duration_parse(&ms, text, &why) < 0 && why != NULL, what);
}

static void
round_trips(uint64_t ms, const char *text)
{
	char buf[64], what[128];

	snprintf(what, sizeof(what), "%llu ms formats as %s",
	    (unsigned long long)ms, text);
	is_str(duration_format(buf, sizeof(buf), ms), text, what);
}

int
main(void)
{
	const char *why;
	long long n;

	accepts("90s", 90000);
	accepts("10m", 600000);
	accepts("1h30m", 5400000);
	accepts("500ms", 500);
	accepts("2d", 172800000);
	accepts("1m500ms", 60500);
	accepts("45", 45000);
	accepts("366d", 366ULL * 86400 * 1000);
	refuses("");
	refuses("0");
	refuses("0s");
	refuses("10x");
	refuses("-5m");
	refuses("1.5h");
	refuses("1h 30m");
	refuses("s");
	refuses("367d");
	refuses("99999999999999999999999s");
	refuses("10mss");
	accepts("1d23h59m59s999ms", 366ULL * 86400 * 1000 / 366 * 2 - 1);
	accepts("365d23h", (365ULL * 24 + 23) * 3600 * 1000);
	accepts("1h0m", 3600000);
	accepts("90m", 5400000);
	accepts("1d30m", 88200000);
	refuses("1h90m");
	refuses("1m60s");
	refuses("1s1000ms");
	refuses("1d24h");
	refuses("30m1h");
	refuses("1h1h");
	refuses("366d1ms");
	refuses("0d0h");
	accepts("0d1h", 3600000);
	round_trips(5400000, "1h30m");
	round_trips(250, "250ms");
	round_trips(0, "0s");
	round_trips(90061001, "1d1h1m1s1ms");

	ok(number_parse(&n, "42", 0, 100, &why) == 0 && n == 42,
	    "42 in 0..100");
	ok(number_parse(&n, "-3", -5, 5, &why) == 0 && n == -3, "-3 in -5..5");
	ok(number_parse(&n, "101", 0, 100, &why) < 0, "101 is out of 0..100");
	ok(number_parse(&n, "4x", 0, 100, &why) < 0, "4x is not a number");
	ok(number_parse(&n, "", 0, 100, &why) < 0, "empty is not a number");
	ok(number_parse(&n, " 4", 0, 100, &why) < 0, "leading space refused");
	ok(number_parse(&n, "+4", 0, 100, &why) < 0, "a plus sign is refused");
	ok(number_parse(&n, "99999999999999999999", 0, 100, &why) < 0,
	    "overflow is refused");
	is_str(why, "expected an integer from 0 to 100",
	    "the reason names the range");
	return done_testing();
}
