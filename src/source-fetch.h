/*
 * An http(s) download whose body is read as it arrives (source-fetch.c),
 * for the tarball source.  Calls go: source_fetch_open(), then
 * source_fetch_read() until it returns 0 (the end) or -1 (failed:
 * source_fetch_error() says why), then source_fetch_close().
 */
#ifndef JOBRUN_SOURCE_FETCH_H
#define JOBRUN_SOURCE_FETCH_H

#include <stdbool.h>
#include <stdint.h>

#include "source-backend.h"

struct source_fetch;

/*
 * Starts downloading request->url: at most max_size bytes; a stall of
 * stall_ms (no byte received, or no connection) fails it; token (may be
 * NULL; borrowed until close) is sent as the password of the URL's user
 * or of x-access-token.  Returns the download, or NULL with *error (the
 * caller frees it).
 */
struct source_fetch *source_fetch_open(const struct source_request *request,
    const char *token, unsigned long long max_size, uint64_t stall_ms,
    char **error);

/*
 * Waits for the next bytes: returns how many, pointed to by *buffer (valid
 * until the next call), 0 at the end of a download that worked, or -1
 * when it failed.
 */
long source_fetch_read(struct source_fetch *f, const void **buffer);

/* Why the download failed (NULL when it did not; owned by f), and whether
 * trying again later may help. */
const char *source_fetch_error(const struct source_fetch *f, bool *transient);

/* The body's bytes received so far. */
unsigned long long source_fetch_received(const struct source_fetch *f);

/* Ends the download (f may be NULL). */
void source_fetch_close(struct source_fetch *f);

#endif
