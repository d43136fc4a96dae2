/*
 * The one clock jobrun measures time with: milliseconds on the monotonic
 * clock (deadlines, durations, quiet periods), which no change of the
 * wall-clock time moves.  Wall-clock times, for people and result files,
 * are taken with clock_gettime(CLOCK_REALTIME) where they are recorded.
 */
#ifndef JOBRUN_CLOCK_H
#define JOBRUN_CLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Milliseconds since an arbitrary fixed point; never goes back. */
uint64_t clock_now_ms(void);

/* Milliseconds from now until deadline (0 when it has passed), capped
 * at INT_MAX so it fits poll(2)'s and epoll_wait(2)'s timeout. */
int clock_wait_ms(uint64_t deadline);

/* The size clock_utc_text() needs, its NUL included. */
#define CLOCK_UTC_TEXT_SIZE 32

/*
 * Writes the wall-clock time ts (NULL: now) as 2026-11-22T06:10:23.123Z,
 * UTC with milliseconds, into buf (CLOCK_UTC_TEXT_SIZE bytes).  Returns
 * buf.
 */
char *clock_utc_text(char *buf, const struct timespec *ts);

#endif
