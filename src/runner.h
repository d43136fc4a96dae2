/*
 * The step runner: takes a checked plan and runs its steps, one at a time
 * in plan order, each in its own process group, supervising it with one
 * signal-driven wait loop (timeouts, retries, SIGTERM/SIGINT forwarding).
 *
 * This is the seam where the parallel engine goes: it takes the same plan
 * and configuration and returns the same exit status.
 */
#ifndef JOBRUN_RUNNER_H
#define JOBRUN_RUNNER_H

#include <signal.h>

#include "configuration.h"
#include "list.h"
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
 * SIGQUIT).  main() blocks them before anything else; the runner waits for
 * them with sigtimedwait(2), and children start with them unblocked.
 */
void runner_signals(sigset_t *out);

/*
 * Runs the plan with config; job_env holds the variables every step gets on
 * top of jobrun's own environment (the job file's env:, then the job
 * environment of --job-env).  Returns the job's exit status: 0 success, 1 a
 * step failed, 124 timed out, 128+N cancelled by signal N, 125 when jobrun
 * itself failed.
 */
int runner_run(const struct plan *plan, const struct config *config,
    const struct nvlist *job_env);

#endif
