/*
 * The lifecycle of a job: the plugins, their phases in order and their
 * step hooks, and the state plugins see and change (the job's facts, the
 * environment of later steps, the secrets, the triggers, the steps'
 * outcomes), which the host services (plugin-host.h) work on.  The run
 * flow (run.c) drives it:
 *
 *	load plugins, init            lifecycle_load()
 *	PRE_VALIDATION .. POST_SOURCE_PREP   lifecycle_phase()
 *	/job/ci's plugins, init       lifecycle_load_ci()
 *	PRE_EXECUTION, step hooks     lifecycle_phase()/lifecycle_step()
 *	POST_EXECUTION, ON_ERROR, CLEANUP   lifecycle_teardown()
 *	fini, unload                  lifecycle_release()
 */
#ifndef JOBRUN_LIFECYCLE_H
#define JOBRUN_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>

#include <jobrun/plugin.h>

#include "configuration.h"
#include "job.h"
#include "list.h"
#include "mask.h"
#include "plugins.h"
#include "triggers.h"

struct console;

struct lifecycle {
	const struct config *config;
	const struct job *job;
	struct nvlist *job_env; /* later steps' environment; plugins add */
	struct mask_set *mask;
	struct triggers *triggers; /* owned */
	struct plugins *plugins; /* owned */
	struct plugin_places places;
	struct jobrun_host host;
	enum jobrun_phase phase;
	bool executing; /* PRE_EXECUTION passed: POST_EXECUTION is due */
	bool torn_down;
	/* Set by the run flow once the workspace is open, else NULL. */
	struct console *output;
	const char *socket_path;
	/* The steps as plugins see them; the run flow keeps them current. */
	struct jobrun_step *steps;
	char **step_logs;
	size_t n_steps;
	/* outcome, status, failed_step, error, artifacts_dir, log_dir */
	struct nvlist facts;
	/* Told as each phase of lifecycle_phase() starts and ends (failed:
	 * a hook failed), for the event stream; NULL: nobody listens. */
	void (*phase_event)(
	    void *context, enum jobrun_phase phase, bool finished, bool failed);
	void *phase_context;
};

/*
 * Sets up lc for a job: everything is borrowed and must outlive it; job
 * may be NULL.  No plugin is loaded yet.
 */
void lifecycle_init(struct lifecycle *lc, const struct config *config,
    const struct job *job, struct nvlist *job_env, struct mask_set *mask);

/*
 * Loads the plugins of plugin_path's directories, of plugins (JOBRUN_PLUGINS,
 * --plugin) and of the job file, in that order, then calls their init().
 * Returns 0, or -1 after reporting (the job then fails with 125).
 */
int lifecycle_load(struct lifecycle *lc);

/* After source preparation: loads and initialises the plugins in
 * CI_SOURCE_DIR/.jobrun/plugins.  Returns 0 or -1 after reporting. */
int lifecycle_load_ci(struct lifecycle *lc);

/*
 * Runs phase in every plugin.  Returns 0, or -1 when a hook failed (the
 * "error" fact says which); a failure before execution fails the job.
 */
int lifecycle_phase(struct lifecycle *lc, enum jobrun_phase phase);

/* Runs the step hook when (BEFORE_STEP or AFTER_STEP) for step index,
 * whose lc->steps entry the run flow brought up to date.  Returns 0 or
 * -1. */
int lifecycle_step(struct lifecycle *lc, enum jobrun_phase when, size_t index);

/* Sets a fact (host->fact()); value NULL removes it. */
void lifecycle_set_fact(
    struct lifecycle *lc, const char *name, const char *value);

/*
 * The job is over with status: sets the outcome facts and runs
 * POST_EXECUTION (when PRE_EXECUTION passed), ON_ERROR (when status is
 * not 0) and CLEANUP.  Only the first call does anything.
 */
void lifecycle_teardown(struct lifecycle *lc, int status);

/* Calls every plugin's fini(), unloads them and frees what lc owns. */
void lifecycle_release(struct lifecycle *lc);

/* The name of an exit status: success, failed, timed_out, error,
 * cancelled. */
const char *lifecycle_status_name(int status);

#endif
