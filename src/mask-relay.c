/*
 * The masking relay (mask-relay.h): hand-overs are worker jobs, run on the
 * thread in order; each one's done callback delivers what the masker
 * emitted meanwhile, on the loop, in the same order.  Hand-overs are kept
 * for reuse once delivered, so a stream's bytes go to blocks that are
 * already mapped.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "list.h"
#include "mask-relay.h"
#include "worker.h"
#include "xalloc.h"

/* Bytes handed over and not yet delivered past which the relay is
 * behind: the caller's pipes wait while the thread masks. */
#define RELAY_BEHIND (2 * 1024 * 1024)

/* A stream's bytes go over in blocks of up to this many: fewer hand-overs,
 * fewer wake-ups of either thread. */
#define RELAY_BLOCK (256 * 1024)

/* Hand-overs kept for reuse: enough for RELAY_BEHIND in blocks. */
#define RELAY_SPARE (RELAY_BEHIND / RELAY_BLOCK + 2)

enum relay_op {
	RELAY_FEED,
	RELAY_IDLE,
	RELAY_RESCAN,
};

/* One piece of work on a stream's masker. */
struct hand_over {
	struct mask_relay_stream *stream;
	enum relay_op op;
	unsigned char *in; /* the bytes to mask (wiped once masked) */
	size_t in_size;
	size_t in_cap;
	char *out; /* what the masker emitted */
	size_t out_used;
	size_t out_cap;
	bool ran; /* run() is done with it */
	struct hand_over *next; /* in relay.spare */
};

struct mask_relay {
	struct mask_set *set;
	struct worker *worker; /* NULL: streams mask on the loop */
	size_t out_bytes; /* handed over, not yet delivered */
	struct hand_over *spare; /* delivered, kept for reuse */
	unsigned nspare;
	unsigned char *scratch; /* one read's bytes, masked on the loop */
	struct mask_relay_stream *streams; /* the open ones */
	bool masks; /* the set has had a secret or a pattern (never undone) */
};

struct mask_relay_stream {
	struct mask_relay *relay;
	struct mask_stream *masker;
	mask_emit_fn deliver;
	void *context;
	struct hand_over *collect; /* on the thread: takes what masker emits */
	struct hand_over *filling; /* a block being read into, not over yet */
	size_t pending; /* hand-overs not yet delivered */
	bool direct; /* the last buffer given out was the scratch buffer */
	mask_relay_closed_fn closed; /* closed: the last delivery ends it */
	struct mask_relay_stream *next; /* in relay.streams */
};

struct mask_relay *
mask_relay_new(struct mask_set *set)
{
	struct mask_relay *relay = xcalloc(1, sizeof(*relay));

	relay->set = set;
	return relay;
}

int
mask_relay_start(struct mask_relay *relay, struct loop *loop, char **error)
{
	relay->worker = worker_new(loop, error);
	return relay->worker != NULL ? 0 : -1;
}

static void
drop(struct hand_over *h)
{
	free(h->in);
	free(h->out);
	free(h);
}

void
mask_relay_free(struct mask_relay *relay)
{
	struct hand_over *h;

	if (relay == NULL)
		return;
	mask_relay_sync(relay);
	worker_free(relay->worker);
	while ((h = relay->spare) != NULL) {
		relay->spare = h->next;
		drop(h);
	}
	free(relay->scratch);
	free(relay);
}

/* The masker's emit: delivers, or on the thread keeps for the loop. */
static void
collect(void *context, const char *data, size_t size)
{
	struct mask_relay_stream *rs = context;
	struct hand_over *h = rs->collect;

	if (h == NULL) {
		rs->deliver(rs->context, data, size);
		return;
	}
	xgrow(&h->out, &h->out_cap, h->out_used + size, 1);
	memcpy(h->out + h->out_used, data, size);
	h->out_used += size;
}

struct mask_relay_stream *
mask_relay_open(struct mask_relay *relay, mask_emit_fn deliver, void *context)
{
	struct mask_relay_stream *rs = xcalloc(1, sizeof(*rs));

	rs->relay = relay;
	rs->deliver = deliver;
	rs->context = context;
	rs->masker = mask_stream_new(relay->set, collect, rs);
	rs->next = relay->streams;
	relay->streams = rs;
	return rs;
}

void
mask_relay_trusted_only(struct mask_relay_stream *rs)
{
	mask_stream_trusted_only(rs->masker);
}

/* ---- the thread's side ---- */

/* On the thread (or on the loop once the thread is gone). */
static void
run(void *job)
{
	struct hand_over *h = job;
	struct mask_relay_stream *rs = h->stream;

	rs->collect = h;
	switch (h->op) {
	case RELAY_FEED:
		mask_stream_feed(rs->masker, h->in, h->in_size);
		break;
	case RELAY_IDLE:
		mask_stream_flush_quiet(rs->masker);
		break;
	case RELAY_RESCAN:
		mask_stream_rescan(rs->masker);
		break;
	}
	rs->collect = NULL;
	if (h->in_size > 0)
		wipe(h->in, h->in_size);
	h->ran = true;
}

static void finish(struct mask_relay_stream *rs);

/* On the loop, in the order of the hand-overs. */
static void
done(void *job, bool ran)
{
	struct hand_over *h = job;
	struct mask_relay_stream *rs = h->stream;
	struct mask_relay *relay = rs->relay;

	/* Not run when the thread stopped first (a freed worker says !ran
	 * also of jobs it ran): run here, never twice. */
	if (!ran && !h->ran)
		run(h);
	relay->out_bytes -= h->in_size;
	/* Counted out until delivered: a close from deliver waits for this. */
	if (h->out_used > 0)
		rs->deliver(rs->context, h->out, h->out_used);
	rs->pending--;
	if (relay->nspare < RELAY_SPARE) {
		h->next = relay->spare;
		relay->spare = h;
		relay->nspare++;
	} else {
		drop(h);
	}
	if (rs->closed != NULL && rs->pending == 0)
		finish(rs);
}

/* ---- the loop's side ---- */

/* A hand-over of op on rs, with room for size bytes. */
static struct hand_over *
take(struct mask_relay_stream *rs, enum relay_op op, size_t size)
{
	struct mask_relay *relay = rs->relay;
	struct hand_over *h = relay->spare;

	if (h != NULL) {
		relay->spare = h->next;
		relay->nspare--;
	} else {
		h = xcalloc(1, sizeof(*h));
	}
	h->stream = rs;
	h->op = op;
	h->in_size = 0;
	h->out_used = 0;
	h->ran = false;
	/* What in held was wiped once masked: growing it copies no secret. */
	if (size > 0)
		xgrow(&h->in, &h->in_cap, size, 1);
	return h;
}

static void
submit(struct hand_over *h)
{
	struct mask_relay_stream *rs = h->stream;

	rs->relay->out_bytes += h->in_size;
	rs->pending++;
	worker_submit(rs->relay->worker, run, done, h);
}

/* Hands the block being read into over, if it holds anything. */
static void
push_filling(struct mask_relay_stream *rs)
{
	struct hand_over *h = rs->filling;

	if (h == NULL)
		return;
	rs->filling = NULL;
	if (h->in_size > 0) {
		submit(h);
		return;
	}
	h->next = rs->relay->spare;
	rs->relay->spare = h;
	rs->relay->nspare++;
}

/* Hands an idle flush or a rescan over, behind the stream's bytes. */
static void
hand_over(struct mask_relay_stream *rs, enum relay_op op)
{
	push_filling(rs);
	submit(take(rs, op, 0));
}

/* Whether rs masks on the loop for now: no thread, or nothing to mask
 * yet and none of rs's work out. */
static bool
on_loop(struct mask_relay_stream *rs)
{
	struct mask_relay *relay = rs->relay;

	if (relay->worker == NULL)
		return true;
	if (rs->filling != NULL || rs->pending > 0)
		return false;
	/* A set never empties: once it masks, the lock need not be taken
	 * (the thread may hold it for a block) to ask again. */
	if (!relay->masks)
		relay->masks = !mask_set_empty(relay->set);
	return !relay->masks;
}

char *
mask_relay_buffer(struct mask_relay_stream *rs, size_t *size)
{
	struct mask_relay *relay = rs->relay;
	struct hand_over *h;

	if ((rs->direct = on_loop(rs))) {
		if (relay->scratch == NULL)
			relay->scratch = xmalloc(MASK_RELAY_READ_MAX);
		*size = MASK_RELAY_READ_MAX;
		return (char *)relay->scratch;
	}
	if ((h = rs->filling) == NULL)
		h = rs->filling = take(rs, RELAY_FEED, RELAY_BLOCK);
	*size = h->in_cap - h->in_size;
	if (*size > MASK_RELAY_READ_MAX)
		*size = MASK_RELAY_READ_MAX;
	return (char *)h->in + h->in_size;
}

void
mask_relay_commit(struct mask_relay_stream *rs, size_t size)
{
	struct hand_over *h = rs->filling;

	if (rs->direct) {
		if (size > 0) {
			mask_stream_feed(rs->masker, rs->relay->scratch, size);
			wipe(rs->relay->scratch, size);
		}
		return;
	}
	h->in_size += size;
	/* A short read (the pipe is empty) or a full block: over it goes. */
	if (size < MASK_RELAY_READ_MAX ||
	    h->in_cap - h->in_size < MASK_RELAY_READ_MAX)
		push_filling(rs);
}

void
mask_relay_push(struct mask_relay_stream *rs)
{
	push_filling(rs);
}

void
mask_relay_idle(struct mask_relay_stream *rs)
{
	if (on_loop(rs))
		mask_stream_flush_quiet(rs->masker);
	else
		hand_over(rs, RELAY_IDLE);
}

void
mask_relay_rescan(struct mask_relay *relay)
{
	struct mask_relay_stream *rs;

	for (rs = relay->streams; rs != NULL; rs = rs->next) {
		if (relay->worker == NULL)
			mask_stream_rescan(rs->masker);
		else
			hand_over(rs, RELAY_RESCAN);
	}
}

void
mask_relay_sync(struct mask_relay *relay)
{
	struct mask_relay_stream *rs;

	if (relay == NULL || relay->worker == NULL || mask_in_call())
		return;
	for (rs = relay->streams; rs != NULL; rs = rs->next)
		push_filling(rs);
	worker_sync(relay->worker);
}

/* Flushes the masker, says the stream is closed, frees it. */
static void
finish(struct mask_relay_stream *rs)
{
	mask_stream_flush(rs->masker);
	mask_stream_free(rs->masker);
	rs->closed(rs->context);
	free(rs);
}

void
mask_relay_close(struct mask_relay_stream *rs, mask_relay_closed_fn closed)
{
	struct mask_relay_stream **link;

	push_filling(rs);
	/* Unlinked first: no rescan is handed over for it from here on. */
	for (link = &rs->relay->streams; *link != NULL; link = &(*link)->next) {
		if (*link == rs) {
			*link = rs->next;
			break;
		}
	}
	/* Inside a masker's call, finishing a stream could free the one
	 * that call is feeding (its emit closing it). */
	if (mask_in_call())
		BUG("a relay stream closed inside a call on its mask set");
	mask_relay_sync(rs->relay);
	/* Where the relay cannot wait (from another delivery, or this
	 * stream's own): the last delivery finishes it. */
	rs->closed = closed;
	if (rs->pending == 0)
		finish(rs);
}

bool
mask_relay_behind(const struct mask_relay *relay)
{
	return relay->out_bytes > RELAY_BEHIND;
}
