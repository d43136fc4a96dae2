/*
 * Masking beside the event loop.  A relay runs the mask streams (mask.h)
 * of one set on a thread of its own (worker.h): the loop hands a stream's
 * bytes over -- read straight into the relay's blocks, no copy -- and goes
 * on reading pipes and writing while the thread masks; the masked bytes
 * come back through the stream's deliver callback, on the loop's thread,
 * in the order the bytes were handed over.  Secrets added to the set
 * meanwhile mask every byte handed over and not yet masked (a stream takes
 * up its set's changes at every call).
 *
 * While the set masks nothing (no secret, no pattern) and a stream has no
 * work out, its bytes are masked on the loop at once: a job without
 * secrets pays nothing for the thread.  Where no thread can be started
 * (or before mask_relay_start()), every stream masks on the loop, as a
 * plain mask_stream would.
 *
 * Every call is the loop's.  deliver is called from mask_relay_commit(),
 * _write(), _idle(), _rescan(), _sync() and _close() as well as from the
 * loop's callbacks.  It may call mask_relay_sync() (which then only hands
 * over partly filled blocks: it does not wait inside a delivery) and
 * mask_relay_close() of a stream (not from inside a masker's call: see
 * there), nothing else of the relay.
 */
#ifndef JOBRUN_MASK_RELAY_H
#define JOBRUN_MASK_RELAY_H

#include <stdbool.h>
#include <stddef.h>

#include "mask.h"

/* The most bytes mask_relay_buffer() offers at once (one pipe read). */
#define MASK_RELAY_READ_MAX (64 * 1024)

struct loop;
struct mask_relay;
struct mask_relay_stream;

/* Called once every byte of a closed stream has been delivered. */
typedef void (*mask_relay_closed_fn)(void *context);

/* A relay masking with set (borrowed: it outlives the relay). */
struct mask_relay *mask_relay_new(struct mask_set *set);

/*
 * Starts the thread, watched by loop (borrowed).  Returns 0, or -1 with
 * *error (the caller frees) when it cannot: streams then mask on the loop.
 */
int mask_relay_start(struct mask_relay *relay, struct loop *loop, char **error);

/* Waits for the thread, delivers what is left, frees.  Every stream must
 * be closed first.  NULL is allowed. */
void mask_relay_free(struct mask_relay *relay);

/* A stream whose masked bytes go to deliver(context, ...). */
struct mask_relay_stream *mask_relay_open(
    struct mask_relay *relay, mask_emit_fn deliver, void *context);

/* mask_stream_trusted_only() for the stream, before it is fed. */
void mask_relay_trusted_only(struct mask_relay_stream *stream);

/*
 * Reading without a copy: a buffer of *size bytes (at most 64 KiB) to read
 * into, then mask_relay_commit() with the number of bytes read (0 when the
 * read gave nothing: end of file, or nothing to read now, which hands
 * over what was read before).  No other call on the stream in between.
 */
char *mask_relay_buffer(struct mask_relay_stream *stream, size_t *size);
void mask_relay_commit(struct mask_relay_stream *stream, size_t size);

/* Hands over the block being read into now, however full (the end of a
 * batch of reads: its bytes are not kept waiting for more). */
void mask_relay_push(struct mask_relay_stream *stream);

/* The stream has been silent for a while: mask_stream_flush_quiet(),
 * after the bytes handed over before. */
void mask_relay_idle(struct mask_relay_stream *stream);

/*
 * After secrets were added to the set: every open stream rescans what it
 * holds back, after the bytes handed over before (which are masked with
 * the new secrets anyway).
 */
void mask_relay_rescan(struct mask_relay *relay);

/*
 * Delivers every byte handed over so far, waiting for the thread, so that
 * what the caller writes next comes after them.  Does nothing inside a
 * deliver callback or a call on a mask set (mask_in_call()), where waiting
 * could deadlock.
 */
void mask_relay_sync(struct mask_relay *relay);

/*
 * Ends the stream: flushes it (mask_stream_flush()), delivers everything,
 * calls closed(context) and frees it -- at once, unless called from a
 * delivery while the stream still has work out (mask_relay_sync() does
 * not wait there): then once its last bytes are delivered.  Never from
 * inside a call on the mask set (an emit): that is a bug (BUG()).
 */
void mask_relay_close(
    struct mask_relay_stream *stream, mask_relay_closed_fn closed);

/* Whether the thread has so much to mask that the caller should stop
 * reading for a while. */
bool mask_relay_behind(const struct mask_relay *relay);

#endif
