/*
 * A bounded, non-blocking writer for one console descriptor (standard
 * output or standard error).  Writes never wait: what the descriptor does
 * not take at once is queued, and the queue is written out as the
 * descriptor becomes writable (the caller's event loop watches it).  A
 * console nobody reads therefore never delays jobrun's deadlines, signals
 * or children; the caller stops feeding the queue while it is behind
 * (console_queue_behind()), and past a hard limit bytes are dropped from
 * the console only (never from logs) and counted.
 *
 * A pipe or a terminal is reopened non-blocking through /proc/self/fd (its
 * own open file description: nothing changes for the processes sharing
 * it); a socket is switched to non-blocking mode and switched back by
 * console_queue_close() (and by the supervisor, should the job process
 * die first).  Files and /dev/null are written as they are.
 */
#ifndef JOBRUN_CONSOLE_QUEUE_H
#define JOBRUN_CONSOLE_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* Queued bytes past which the queue is behind, and past which the console
 * loses bytes. */
#define CONSOLE_QUEUE_BEHIND (256 * 1024)
#define CONSOLE_QUEUE_LIMIT (16 * 1024 * 1024)

struct console_queue {
	int fd; /* what is written to; -1 when closed */
	int original_fd; /* the descriptor it stands for */
	int restore_flags; /* file status flags to put back; -1: none */
	bool watchable; /* epoll can watch fd (not a file or a terminal) */
	char *data;
	size_t head; /* first unwritten byte */
	size_t len; /* end of queued bytes */
	size_t cap;
	uint64_t dropped; /* bytes the console lost past the limit */
	bool failed; /* the descriptor is gone (EPIPE, ...): drop all */
};

/* Sets q up for descriptor fd (1 or 2). */
void console_queue_open(struct console_queue *q, int fd);

/* Writes count buffers, queueing what fd does not take now. */
void console_queue_writev(
    struct console_queue *q, const struct iovec *iov, int count);

/* Writes as much of the queue as fd takes now.  Returns true when the
 * queue is empty. */
bool console_queue_flush(struct console_queue *q);

/* Bytes waiting in the queue. */
size_t console_queue_pending(const struct console_queue *q);

/* Whether the queue holds more than CONSOLE_QUEUE_BEHIND bytes. */
bool console_queue_behind(const struct console_queue *q);

/*
 * Waits for the queue to be written out, until deadline (clock.h) or
 * until fd takes nothing for a second; what is left is dropped.
 */
void console_queue_drain(struct console_queue *q, uint64_t deadline);

/* Drops what is queued, restores fd's mode and frees the queue. */
void console_queue_close(struct console_queue *q);

#endif
