/*
 * The console's non-blocking writer (console-queue.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "console-queue.h"
#include "xalloc.h"

/* How long the final drain waits for a console that takes nothing. */
#define STALL_MS 1000

void
console_queue_open(struct console_queue *q, int fd)
{
	char path[64];
	struct stat st;
	int flags, own;

	memset(q, 0, sizeof(*q));
	q->fd = fd;
	q->original_fd = fd;
	q->restore_flags = -1;
	if (fstat(fd, &st) < 0)
		return;
	/* A pipe or a terminal gets a description of its own, non-blocking:
	 * a stalled terminal (a frozen ssh session) must not hold the loop
	 * any more than a pipe nobody reads. */
	if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		own = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (own >= 0) {
			q->fd = own;
			q->watchable = true;
			return;
		}
	}
	if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) {
		flags = fcntl(fd, F_GETFL);
		if (flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0) {
			q->restore_flags = flags;
			q->watchable = true;
		}
	}
}

size_t
console_queue_pending(const struct console_queue *q)
{
	return q->len - q->head;
}

bool
console_queue_behind(const struct console_queue *q)
{
	return console_queue_pending(q) > CONSOLE_QUEUE_BEHIND;
}

/* Writes what it can of data without waiting; returns the bytes taken. */
static size_t
write_now(struct console_queue *q, const struct iovec *iov, int count)
{
	ssize_t n;

	if (q->failed)
		return SIZE_MAX;
	do
		n = writev(q->fd, iov, count);
	while (n < 0 && errno == EINTR);
	if (n >= 0)
		return (size_t)n;
	if (errno != EAGAIN) {
		/* Nobody will ever read it: stop trying. */
		q->failed = true;
		return SIZE_MAX;
	}
	return 0;
}

static void
enqueue(struct console_queue *q, const char *data, size_t size)
{
	if (size == 0)
		return;
	if (console_queue_pending(q) + size > CONSOLE_QUEUE_LIMIT) {
		q->dropped += size;
		return;
	}
	if (q->head > 0 && q->len + size > q->cap) {
		memmove(q->data, q->data + q->head, q->len - q->head);
		q->len -= q->head;
		q->head = 0;
	}
	if (q->len + size > q->cap)
		xgrow(&q->data, &q->cap, q->len + size, 1);
	memcpy(q->data + q->len, data, size);
	q->len += size;
}

void
console_queue_writev(
    struct console_queue *q, const struct iovec *iov, int count)
{
	size_t taken = 0, total = 0, skip;
	int i;

	for (i = 0; i < count; i++)
		total += iov[i].iov_len;
	if (total == 0)
		return;
	/* Order: nothing overtakes what is already queued. */
	if (console_queue_pending(q) == 0 || console_queue_flush(q))
		taken = write_now(q, iov, count);
	if (taken == SIZE_MAX || taken >= total)
		return;
	for (i = 0; i < count; i++) {
		skip = taken < iov[i].iov_len ? taken : iov[i].iov_len;
		taken -= skip;
		enqueue(q, (const char *)iov[i].iov_base + skip,
		    iov[i].iov_len - skip);
	}
}

bool
console_queue_flush(struct console_queue *q)
{
	struct iovec iov;
	size_t n;

	while (console_queue_pending(q) > 0) {
		iov.iov_base = q->data + q->head;
		iov.iov_len = console_queue_pending(q);
		n = write_now(q, &iov, 1);
		if (n == SIZE_MAX) {
			q->head = q->len = 0;
			break;
		}
		if (n == 0)
			return false;
		q->head += n;
	}
	q->head = q->len = 0;
	return true;
}

void
console_queue_drain(struct console_queue *q, uint64_t deadline)
{
	struct pollfd pfd = { .fd = q->fd, .events = POLLOUT };
	uint64_t stalled_at = clock_now_ms() + STALL_MS;
	size_t before;
	int wait;

	while (!console_queue_flush(q)) {
		wait = clock_wait_ms(
		    deadline < stalled_at ? deadline : stalled_at);
		if (wait == 0)
			break;
		before = console_queue_pending(q);
		if (poll(&pfd, 1, wait) < 0 && errno != EINTR)
			break;
		if (console_queue_flush(q))
			return;
		if (console_queue_pending(q) < before)
			stalled_at = clock_now_ms() + STALL_MS;
	}
	q->dropped += console_queue_pending(q);
	q->head = q->len = 0;
}

void
console_queue_close(struct console_queue *q)
{
	if (q->restore_flags >= 0)
		fcntl(q->original_fd, F_SETFL, q->restore_flags);
	if (q->fd >= 0 && q->fd != q->original_fd)
		close(q->fd);
	q->fd = -1;
	free(q->data);
	q->data = NULL;
	q->head = q->len = q->cap = 0;
}
