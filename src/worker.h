/*
 * A thread beside the event loop for work that would hold the loop too
 * long (a large frame's JSON, a secret's forms, an automaton; a step's
 * output to mask):
 * jobs run in the order they were submitted, one at a time, and each one's
 * done callback then runs on the loop's thread, woken through an eventfd.
 * A job's run callback must touch only memory the job owns (private
 * copies), or shared state under its own lock (a mask set's, which
 * mask-relay.c's jobs take): the loop goes on meanwhile.  Every other
 * call is the loop's.
 *
 * The thread blocks every signal, and takes no lock of the loop's
 * besides malloc's, the queue's and a mask set's; children that jobrun
 * starts with a raw clone (proc.c) take none of them (see ARCHITECTURE.md,
 * Threads and raw clones).
 */
#ifndef JOBRUN_WORKER_H
#define JOBRUN_WORKER_H

#include <stdbool.h>

#include "loop.h"

struct worker;

/* On the worker's thread. */
typedef void (*worker_run_fn)(void *job);

/* On the loop's thread, once run returned (ran); or when the worker is
 * freed first (!ran, whether run ran or not): then only free what the job
 * holds, and submit nothing.  NULL: nothing to do after run (a job that
 * only frees; one that did not run when the worker is freed is run then,
 * on the caller's thread). */
typedef void (*worker_done_fn)(void *job, bool ran);

/* Starts the thread and watches its eventfd with loop; NULL with
 * *error (caller frees) when it cannot. */
struct worker *worker_new(struct loop *loop, char **error);

/*
 * Queues a job: run(job) on the worker, then done(job, true) on the
 * loop.  run may be NULL: done is then called on the loop's next turn
 * (work cut into pieces goes on that way without holding a turn).
 */
void worker_submit(
    struct worker *w, worker_run_fn run, worker_done_fn done, void *job);

/*
 * Waits until every job submitted so far has run, then calls the done of
 * each finished one, in order, as the loop would have.  Called from a done
 * callback it does nothing: the finished jobs are being delivered already;
 * nor once worker_free() has stopped the thread.
 * The caller must hold nothing a job's run may wait for.  NULL is allowed.
 */
void worker_sync(struct worker *w);

/*
 * Stops the thread after the job it runs (waits for it), calls
 * done(job, false) for every job left, in order (or run, for a job
 * without done that did not run), and frees the worker.
 * NULL is allowed.
 */
void worker_free(struct worker *w);

#endif
