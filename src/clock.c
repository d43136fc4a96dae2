/*
 * The monotonic clock (clock.h), in one place so that every deadline in
 * jobrun is on the same scale.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <time.h>

#include "clock.h"

uint64_t
clock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
clock_wait_ms(uint64_t deadline)
{
	uint64_t now = clock_now_ms();

	if (deadline <= now)
		return 0;
	return deadline - now > INT_MAX ? INT_MAX : (int)(deadline - now);
}

char *
clock_utc_text(char *buf, const struct timespec *ts)
{
	struct timespec now;
	struct tm tm;
	size_t n;

	if (ts == NULL) {
		clock_gettime(CLOCK_REALTIME, &now);
		ts = &now;
	}
	gmtime_r(&ts->tv_sec, &tm);
	n = strftime(buf, CLOCK_UTC_TEXT_SIZE, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(
	    buf + n, CLOCK_UTC_TEXT_SIZE - n, ".%03ldZ", ts->tv_nsec / 1000000);
	return buf;
}
