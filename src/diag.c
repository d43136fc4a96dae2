/*
 * The single path for jobrun's own messages.  Each message is formatted whole,
 * masked whole, and written with one writev(2), so concurrent writers never
 * split a line and a cut never shows part of a secret.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "diag.h"
#include "list.h"
#include "mask.h"

/* How long a message waits for a standard error that takes nothing. */
#define STDERR_WAIT_MS 1000

/*
 * Standard error as jobrun writes to it: a pipe or a terminal reopened
 * non-blocking (a description of jobrun's own), so that a stalled reader
 * delays a message by STDERR_WAIT_MS at most and never holds jobrun.
 */
static int
stderr_fd(void)
{
	static int fd = -1;
	struct stat st;

	if (fd >= 0)
		return fd;
	fd = STDERR_FILENO;
	if (fstat(STDERR_FILENO, &st) == 0 &&
	    (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))) {
		int own = open("/proc/self/fd/2",
		    O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

		if (own >= 0)
			fd = own;
	}
	return fd;
}

void
diag_write(struct iovec *iov, int count)
{
	struct pollfd pfd = { .fd = stderr_fd(), .events = POLLOUT };
	ssize_t n;

	while (count > 0) {
		n = writev(pfd.fd, iov, count);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN &&
		    poll(&pfd, 1, STDERR_WAIT_MS) > 0)
			continue;
		if (n < 0)
			return; /* gone, or stalled: nowhere left to report */
		while (count > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			count--;
		}
		if (count > 0) {
			iov->iov_base = (char *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
}

/* Writes "jobrun: <message>\n" to standard error with one writev(2). */
static void
write_line(const char *message, size_t length)
{
	struct iovec iov[3] = { { (void *)(uintptr_t) "jobrun: ", 8 },
		{ (void *)(uintptr_t)message, length },
		{ (void *)(uintptr_t) "\n", 1 } };

	fflush(stdout);
	diag_write(iov, 3);
}

/* A message written to standard error is cut to this many bytes. */
#define DIAG_LINE_MAX 4096

static diag_sink_fn diag_sink;
static void *diag_sink_context;
static struct mask_set *diag_mask;

/* Messages held until the secrets are known (diag_hold()). */
static struct {
	bool on;
	bool discard; /* diag_discard(): while an early() runs */
	diag_early_mask_fn early;
	char **messages;
	size_t count;
	size_t cap;
} held;

void
diag_set_sink(diag_sink_fn sink, void *context)
{
	diag_sink = sink;
	diag_sink_context = context;
}

size_t
diag_cut(char *message, size_t length)
{
	if (length <= DIAG_LINE_MAX - strlen("jobrun: \n"))
		return length;
	length = DIAG_LINE_MAX - strlen("jobrun: \n") - 3;
	memcpy(message + length, "...", 3);
	message[length + 3] = '\0';
	return length + 3;
}

/* Masks a message (with set, if any), cuts it, writes it, wipes it. */
static void
write_masked(char *message, struct mask_set *set)
{
	size_t length = strlen(message);
	char *masked;

	if (set != NULL) {
		masked = mask_string(set, message, length, &length);
		wipe(message, strlen(message));
		free(message);
		message = masked;
	}
	length = diag_cut(message, length);
	write_line(message, length);
	wipe(message, length);
	free(message);
}

/* Keeps a message; not xgrow(): running out of memory reports here. */
static int
hold(char *message)
{
	size_t cap = held.cap ? 2 * held.cap : 8;
	char **grown;

	if (held.count == held.cap) {
		grown = realloc(held.messages, cap * sizeof(*grown));
		if (grown == NULL)
			return -1;
		held.messages = grown;
		held.cap = cap;
	}
	held.messages[held.count++] = message;
	return 0;
}

void
diag_release(struct mask_set *set)
{
	size_t i;

	held.on = false;
	for (i = 0; i < held.count; i++)
		write_masked(held.messages[i], set);
	free(held.messages);
	held.messages = NULL;
	held.count = held.cap = 0;
}

void
diag_discard(bool on)
{
	held.discard = on;
}

void
diag_release_early(void)
{
	struct mask_set *set = NULL;

	if (!held.on)
		return;
	if (held.count > 0 && held.early != NULL)
		set = held.early();
	diag_release(set);
	mask_set_free(set);
}

/* At exit, messages still held go out masked with what can be known. */
static void
release_at_exit(void)
{
	diag_release_early();
}

void
diag_hold(diag_early_mask_fn early)
{
	static bool registered;

	held.on = true;
	held.early = early;
	if (!registered && atexit(release_at_exit) == 0)
		registered = true;
}

void
diag_set_mask(struct mask_set *set)
{
	diag_mask = set;
	if (set != NULL && held.on)
		diag_release(set);
}

/*
 * Formats the whole message, masks it, and only then cuts it for standard
 * error: cutting first could leave the start of a secret that the masker,
 * seeing it incomplete, would let through.  A sink gets the whole message
 * and masks it itself.
 */
void
diag_verror(const char *prefix, const char *fmt, va_list ap)
{
	char *body = NULL, *message = NULL;

	if (vasprintf(&body, fmt, ap) < 0 ||
	    asprintf(&message, "%s%s", prefix, body) < 0) {
		free(body);
		write_line("cannot format a message: out of memory", 38);
		return;
	}
	wipe(body, strlen(body));
	free(body);
	/* The sink (the console) is the loop's: a thread beside it (a fatal
	 * error on a worker, before abort()) writes standard error itself. */
	if (diag_sink != NULL && (pid_t)syscall(SYS_gettid) == getpid()) {
		diag_sink(message, diag_sink_context);
		wipe(message, strlen(message));
		free(message);
		return;
	}
	if (held.discard) {
		wipe(message, strlen(message));
		free(message);
		return;
	}
	if (held.on) {
		if (hold(message) < 0) {
			wipe(message, strlen(message));
			free(message);
			write_line("a message was dropped: out of memory", 36);
		}
		return;
	}
	write_masked(message, diag_mask);
}

void
diag_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_verror("", fmt, ap);
	va_end(ap);
}

void
diag_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_verror("warning: ", fmt, ap);
	va_end(ap);
}

void
diag_fatal(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_verror("", fmt, ap);
	va_end(ap);
	exit(status);
}

void
diag_bug(const char *file, int line, const char *fmt, ...)
{
	char prefix[256];
	va_list ap;

	snprintf(prefix, sizeof(prefix), "BUG: %s:%d: ", file, line);
	va_start(ap, fmt);
	diag_verror(prefix, fmt, ap);
	va_end(ap);
	abort();
}
