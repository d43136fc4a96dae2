/*
 * The step engine: runs a checked plan's steps as soon as their
 * dependencies allow, up to --jobs at once, each in its own process group
 * with one pipe for its standard output and error.  One event loop
 * (epoll over a signalfd and the pipes) supervises everything: it reaps
 * every child (jobrun is PID 1 or a subreaper), enforces step and job
 * deadlines, forwards SIGINT/SIGTERM/SIGHUP/SIGQUIT, and ends what a step
 * leaves behind in its process group.
 */
#ifndef JOBRUN_RUNNER_H
#define JOBRUN_RUNNER_H

#include <signal.h>

#include "configuration.h"
#include "lifecycle.h"
#include "list.h"
#include "mask.h"
#include "plan.h"

enum step_outcome {
	OUTCOME_PENDING,
	OUTCOME_SUCCESS,
	OUTCOME_FAILED,
	OUTCOME_TIMED_OUT,
	OUTCOME_CANCELLED,
	OUTCOME_SKIPPED,
};

/* Returns "success", "failed", "timed_out", "cancelled", "skipped" or
 * "pending". */
const char *outcome_name(enum step_outcome outcome);

/*
 * The signals jobrun handles itself (SIGCHLD, SIGINT, SIGTERM, SIGHUP,
 * SIGQUIT).  main() blocks them before anything else; the runner reads them
 * from a signalfd, and children start with them unblocked.
 */
void runner_signals(sigset_t *out);

/*
 * Runs the plan with config; job_env holds the variables every step gets on
 * top of jobrun's own environment (the job file's env:, then the job
 * environment of --job-env).  mask (borrowed) holds the job's secrets;
 * everything the job emits passes it, and the control socket (its path in
 * the steps' $JOBRUN_SOCKET) adds to it while the job runs.  Creates the
 * workspace and its logs/ and outputs/ directories, and writes result.json
 * there at the end, also when the job fails or is cancelled.  lc (borrowed)
 * is the job's lifecycle: the runner runs PRE_EXECUTION before the first
 * step (a failure there skips every step: status 125), the step hooks
 * around each step, and lifecycle_teardown() before it writes
 * triggers.json and result.json.  Returns the job's
 * exit status: 0 success, 1 a step failed, 124 timed out, 128+N cancelled by
 * signal N, 125 when jobrun itself failed before any step ran.
 */
int runner_run(const struct plan *plan, const struct config *config,
    const struct nvlist *job_env, struct mask_set *mask, struct lifecycle *lc);

#endif
