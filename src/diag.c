/*
 * The single path for jobrun's own messages.  Each message is formatted whole,
 * masked whole, and written with one writev(2), so concurrent writers never
 * split a line and a cut never shows part of a secret.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "diag.h"
#include "list.h"
#include "mask.h"

/* Writes "jobrun: <message>\n" to standard error with one writev(2). */
static void
write_line(const char *message, size_t length)
{
	struct iovec iov[3] = { { (void *)(uintptr_t) "jobrun: ", 8 },
		{ (void *)(uintptr_t)message, length },
		{ (void *)(uintptr_t) "\n", 1 } };

	fflush(stdout);
	if (writev(STDERR_FILENO, iov, 3) < 0) {
		/* standard error is gone: nowhere left to report */
	}
}

/* A message written to standard error is cut to this many bytes. */
#define DIAG_LINE_MAX 4096

static diag_sink_fn diag_sink;
static void *diag_sink_context;
static struct mask_set *diag_mask;

void
diag_set_sink(diag_sink_fn sink, void *context)
{
	diag_sink = sink;
	diag_sink_context = context;
}

void
diag_set_mask(struct mask_set *set)
{
	diag_mask = set;
}

/* Cuts a message that is too long, with a marker rather than mid-way. */
static size_t
cut(char *message, size_t length)
{
	if (length <= DIAG_LINE_MAX - strlen("jobrun: \n"))
		return length;
	length = DIAG_LINE_MAX - strlen("jobrun: \n") - 3;
	memcpy(message + length, "...", 3);
	message[length + 3] = '\0';
	return length + 3;
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
	char *body = NULL, *message = NULL, *masked;
	size_t length;

	if (vasprintf(&body, fmt, ap) < 0 ||
	    asprintf(&message, "%s%s", prefix, body) < 0) {
		free(body);
		write_line("cannot format a message: out of memory", 38);
		return;
	}
	free(body);
	if (diag_sink != NULL) {
		diag_sink(message, diag_sink_context);
		free(message);
		return;
	}
	length = strlen(message);
	if (diag_mask != NULL) {
		masked = mask_string(diag_mask, message, length, &length);
		wipe(message, strlen(message));
		free(message);
		message = masked;
	}
	length = cut(message, length);
	write_line(message, length);
	wipe(message, length);
	free(message);
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
