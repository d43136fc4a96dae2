/*
 * Registering secrets off the loop (mask-async.h).  One batch at a time
 * goes through five stages: the secrets queued since the last batch are
 * prepared (their forms) on the worker; on the loop, room is made for
 * all their forms at once and they are added to the set ADD_BYTES a
 * turn; the new needles (and those of the levels they absorb) are copied
 * COPY_BYTES a turn; the worker builds the level; the loop installs it,
 * rescans the streams (the settled callback) and settles the batch's
 * tickets.  Buffers that held secrets, and replaced automata, are
 * wiped and freed on the worker too.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "list.h"
#include "mask-async.h"
#include "mask-set.h"
#include "xalloc.h"

/* Forms added to the set, and needles copied for a build, per turn of
 * the loop: well under a millisecond each (tests/bench/ctlbench). */
#define ADD_BYTES (128 * 1024)
#define COPY_BYTES (1024 * 1024)

/* Secrets queued and not yet prepared. */
struct pending {
	char **values;
	size_t *lengths;
	bool *untrusted; /* from an untrusted step */
	size_t n;
	size_t cap;
};

/* A batch: its secrets, then their forms. */
struct batch {
	struct mask_async *a;
	struct pending secrets;
	struct mask_prepared **prepared;
	size_t n;
	size_t min_length;
	uint64_t ticket; /* its last */
	bool failed; /* some of it did not fit */
};

struct mask_async {
	struct mask_set *set;
	struct worker *worker;
	mask_async_fn settled_fn;
	void *context;
	struct pending queued;
	uint64_t ticket; /* handed out */
	uint64_t settled; /* masked */
	/* Tickets [failed_from, failed_to] failed (0: none): from the first
	 * batch that did not fit to the last; later ones may fit again. */
	uint64_t failed_from;
	uint64_t failed_to;
	char *error; /* the last failure's */
	struct batch *batch; /* in progress */
	size_t next; /* its next prepared secret to add */
};

static void pending_release(struct pending *p);
static void start_batch(struct mask_async *a);

struct mask_async *
mask_async_new(struct mask_set *set, struct worker *worker,
    mask_async_fn settled, void *context)
{
	struct mask_async *a = xcalloc(1, sizeof(*a));

	a->set = set;
	a->worker = worker;
	a->settled_fn = settled;
	a->context = context;
	return a;
}

static void
pending_release(struct pending *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		wipe(p->values[i], p->lengths[i]);
		free(p->values[i]);
	}
	free(p->values);
	free(p->lengths);
	free(p->untrusted);
	memset(p, 0, sizeof(*p));
}

static void
batch_free(struct batch *b)
{
	size_t i;

	if (b == NULL)
		return;
	pending_release(&b->secrets);
	for (i = 0; i < b->n; i++)
		mask_prepared_free(b->prepared[i]);
	free(b->prepared);
	free(b);
}

/* ---- the stages ---- */

/* On the worker: what the batch's buffers held is wiped there. */
static void
run_batch_free(void *data)
{
	batch_free(data);
}

/* The batch is masked (or failed): settle its tickets, go on. */
static void
finish_batch(struct mask_async *a)
{
	struct batch *b = a->batch;

	a->batch = NULL;
	a->settled = b->ticket;
	if (b->failed)
		a->failed_to = b->ticket;
	worker_submit(a->worker, run_batch_free, NULL, b);
	start_batch(a);
	if (a->batch == NULL)
		a->settled = a->ticket;
	if (a->settled_fn != NULL)
		a->settled_fn(a->context);
}

/* A build out, with whom it is for. */
struct build_job {
	struct mask_async *a;
	struct mask_build *build;
};

static void
run_build(void *data)
{
	struct build_job *job = data;

	mask_build_run(job->build);
}

static void
run_build_job_free(void *data)
{
	struct build_job *job = data;

	mask_build_free(job->build);
	free(job);
}

static void start_build(struct mask_async *a);

static void
build_done(void *data, bool ran)
{
	struct build_job *job = data;
	struct mask_async *a = job->a;

	if (!ran) {
		/* Shutting down: what is deferred is built by the next
		 * stream that needs it, on the loop. */
		mask_set_lock(a->set);
		if (a->set->build == job->build) {
			a->set->build = NULL;
			a->set->deferred = 0;
		}
		mask_set_unlock(a->set);
		mask_build_free(job->build);
		free(job);
		return;
	}
	/* Installed, or cancelled because everything was built meanwhile;
	 * either way what it replaced is freed off the loop. */
	(void)mask_set_build_finish(a->set, job->build);
	worker_submit(a->worker, run_build_job_free, NULL, job);
	start_build(a);
}

/* A turn at a time, the build's copy of its needles; then to the worker. */
static void
copy_some(void *data, bool ran)
{
	struct build_job *job = data;

	if (!ran) {
		build_done(job, false);
		return;
	}
	if (!mask_set_build_copy(job->a->set, job->build, COPY_BYTES))
		worker_submit(job->a->worker, NULL, copy_some, job);
	else
		worker_submit(job->a->worker, run_build, build_done, job);
}

/* Builds what is deferred, or finishes the batch when nothing is. */
static void
start_build(struct mask_async *a)
{
	struct mask_build *build = mask_set_build_start(a->set);
	struct build_job *job;

	if (build == NULL) {
		finish_batch(a);
		return;
	}
	job = xcalloc(1, sizeof(*job));
	job->a = a;
	job->build = build;
	copy_some(job, true);
}

/* On the loop, a turn at a time: the batch's forms into the set. */
static void
add_some(void *data, bool ran)
{
	struct mask_async *a = data;
	struct batch *b = a->batch;
	char *error = NULL;

	if (!ran)
		return;
	if (a->next < b->n) {
		if (mask_set_add_prepared(
			a->set, b->prepared[a->next], ADD_BYTES, &error) < 0) {
			b->failed = true;
			if (a->failed_from == 0)
				a->failed_from = a->settled + 1;
			free(a->error);
			a->error = error;
			error = NULL;
		}
		free(error);
		if (mask_prepared_done(b->prepared[a->next]))
			a->next++;
		worker_submit(a->worker, NULL, add_some, a);
		return;
	}
	start_build(a);
}

static void
run_prepare(void *data)
{
	struct batch *b = data;
	size_t i;

	b->prepared = xcalloc(b->secrets.n + 1, sizeof(*b->prepared));
	for (i = 0; i < b->secrets.n; i++) {
		b->prepared[i] = mask_prepare(
		    b->secrets.values[i], b->secrets.lengths[i], b->min_length);
		if (b->secrets.untrusted[i])
			mask_prepared_untrusted(b->prepared[i]);
	}
	b->n = b->secrets.n;
	pending_release(&b->secrets);
}

static void
prepare_done(void *data, bool ran)
{
	struct batch *b = data;
	struct mask_async *a = b->a;
	size_t i, bytes = 0;

	if (!ran) {
		batch_free(b);
		a->batch = NULL;
		return;
	}
	for (i = 0; i < b->n; i++)
		bytes += mask_prepared_bytes(b->prepared[i]);
	mask_set_reserve(a->set, bytes);
	a->next = 0;
	add_some(a, true);
}

/* Takes every secret queued into a batch, when none is in progress. */
static void
start_batch(struct mask_async *a)
{
	struct batch *b;

	if (a->batch != NULL || a->queued.n == 0)
		return;
	b = xcalloc(1, sizeof(*b));
	b->a = a;
	b->secrets = a->queued;
	b->min_length = a->set->min_length;
	b->ticket = a->ticket;
	memset(&a->queued, 0, sizeof(a->queued));
	a->batch = b;
	worker_submit(a->worker, run_prepare, prepare_done, b);
}

/* ---- the interface ---- */

uint64_t
mask_async_add(struct mask_async *a, char *const *values, const size_t *lengths,
    size_t n, bool untrusted)
{
	struct pending *q = &a->queued;
	size_t i;

	for (i = 0; i < n; i++) {
		if (q->n == q->cap) {
			q->cap = q->cap ? 2 * q->cap : 16;
			q->values = xreallocarray(
			    q->values, q->cap, sizeof(*q->values));
			q->lengths = xreallocarray(
			    q->lengths, q->cap, sizeof(*q->lengths));
			q->untrusted = xreallocarray(
			    q->untrusted, q->cap, sizeof(*q->untrusted));
		}
		q->untrusted[q->n] = untrusted;
		q->values[q->n] = xmalloc(lengths[i] > 0 ? lengths[i] : 1);
		memcpy(q->values[q->n], values[i], lengths[i]);
		q->lengths[q->n++] = lengths[i];
	}
	a->ticket++;
	start_batch(a);
	if (a->batch == NULL)
		a->settled = a->ticket;
	return a->ticket;
}

uint64_t
mask_async_ticket(const struct mask_async *a)
{
	return a->ticket;
}

bool
mask_async_settled(const struct mask_async *a, uint64_t ticket, char **error)
{
	if (error != NULL)
		*error = NULL;
	if (a->settled < ticket)
		return false;
	if (a->failed_from != 0 && ticket >= a->failed_from &&
	    ticket <= a->failed_to && error != NULL)
		*error = xstrdup(a->error);
	return true;
}

void
mask_async_free(struct mask_async *a)
{
	if (a == NULL)
		return;
	pending_release(&a->queued);
	batch_free(a->batch);
	free(a->error);
	free(a);
}
