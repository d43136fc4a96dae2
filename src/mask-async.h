/*
 * Secrets registered off the event loop: their forms are computed and
 * their automaton level built on a worker thread (worker.h), the set is
 * changed only on the loop, and no turn of the loop holds more than a
 * slice of the work (a few of a secret's forms added, a copy of needles).
 * The runner's control socket uses it, so that a 1 MiB register request
 * does not stop the steps' output, signals and deadlines meanwhile.
 *
 * Secrets are masked from the moment their level is installed; each
 * call of mask_async_add() gets a ticket, and mask_async_settled() says
 * when every secret up to a ticket is masked in every stream (the
 * settled callback has then run: it rescans the streams).
 */
#ifndef JOBRUN_MASK_ASYNC_H
#define JOBRUN_MASK_ASYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mask.h"
#include "worker.h"

struct mask_async;

/* Called on the loop when more secrets became masked. */
typedef void (*mask_async_fn)(void *context);

/* Adds to set (borrowed) with worker (borrowed). */
struct mask_async *mask_async_new(struct mask_set *set, struct worker *worker,
    mask_async_fn settled, void *context);

/*
 * Queues n secrets (copied at once; the caller may wipe its own) and
 * returns their ticket, 1 and up.  Refusals are the caller's to decide
 * first (mask_set_check()): a secret that the set refuses when it is
 * added is left out silently, but a full set fails the ticket.
 * untrusted: they come from an untrusted step (mask_set_add_untrusted()).
 */
uint64_t mask_async_add(struct mask_async *a, char *const *values,
    const size_t *lengths, size_t n, bool untrusted);

/* The last ticket handed out (0: none). */
uint64_t mask_async_ticket(const struct mask_async *a);

/*
 * Whether every secret up to ticket is masked (or failed: then *error,
 * allocated, says why; error may be NULL).
 */
bool mask_async_settled(
    const struct mask_async *a, uint64_t ticket, char **error);

/* Frees what is queued; call after worker_free() (which ends the jobs
 * still out, and may free their batches) and before mask_set_free(). */
void mask_async_free(struct mask_async *a);

#endif
