/*
 * The single path for jobrun's own messages.  Each message is formatted whole
 * and written with one write(2), so concurrent writers never split a line.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"

static diag_sink_fn diag_sink;
static void *diag_sink_context;

void
diag_set_sink(diag_sink_fn sink, void *context)
{
	diag_sink = sink;
	diag_sink_context = context;
}

void
diag_verror(const char *prefix, const char *fmt, va_list ap)
{
	char line[4096];
	int used, n;

	used = snprintf(line, sizeof(line), "jobrun: %s", prefix);
	n = vsnprintf(line + used, sizeof(line) - (size_t)used, fmt, ap);
	if (n < 0)
		n = 0;
	used += n;
	if ((size_t)used >= sizeof(line) - 1) {
		/* Too long: end it with a marker rather than mid-character. */
		used = (int)sizeof(line) - 5;
		memcpy(line + used, "...", 3);
		used += 3;
	}
	line[used] = '\0';
	if (diag_sink != NULL) {
		diag_sink(line + strlen("jobrun: "), diag_sink_context);
		return;
	}
	line[used++] = '\n';
	fflush(stdout);
	if (write(STDERR_FILENO, line, (size_t)used) < 0) {
		/* standard error is gone: nowhere left to report */
	}
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
