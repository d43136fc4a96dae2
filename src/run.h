/*
 * A job's whole life, in one place: configuration, validation, the
 * workspace, the sources, the plugins' phases, the step engine, teardown,
 * and the files the job leaves (result.json, triggers.json, outputs.json,
 * the termination message).  This is the only writer of those files, and
 * it writes them on every path once the workspace is known: a failure
 * before the steps (validation, sources, plugins, workspace) leaves
 * result.json with outcome "error", exit status 125 and the reason, and
 * triggers.json with the triggers whose `when` matches.
 *
 *	configuration, secrets         before anything can fail: the earlier
 *	                               run's files are removed
 *	PRE_VALIDATION, plan, POST_VALIDATION
 *	PRE_SOURCE_PREP, /job/ci, /job/src, POST_SOURCE_PREP
 *	workspace, control socket, PRE_EXECUTION, the steps (runner.h)
 *	POST_EXECUTION, ON_ERROR, CLEANUP (lifecycle.h)
 *	triggers.json, outputs.json, result.json, termination message
 */
#ifndef JOBRUN_RUN_H
#define JOBRUN_RUN_H

#include "cli.h"
#include "configuration.h"
#include "job.h"
#include "plan.h"

/*
 * Runs the job the command line names ("jobrun run").  Returns the job's
 * exit status: 0 success, 1 a step failed, 124 timed out, 125 jobrun's
 * own or a configuration error, 128+N cancelled by signal N.
 */
int run_job(const struct cli *cli);

/* Loads the job file the command line or JOBRUN_JOB_FILE names into *out
 * (NULL when none is named).  Returns 0, or -1 after a message. */
int run_load_job(const struct cli *cli, struct job **out);

/* Builds the configuration from its layers.  Returns 0, or -1 after a
 * message. */
int run_build_config(
    const struct cli *cli, const struct job *job, struct config *out);

/* Checks the job's steps against each other into a plan.  Returns 0, or
 * -1 after a message. */
int run_build_plan(const struct job *job, struct plan *out);

#endif
