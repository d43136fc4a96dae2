/*
 * The step engine: runs a checked plan's steps as soon as their
 * dependencies allow, up to --jobs at once, each in its own process group
 * with one pipe for its standard output and error.  One event loop
 * (epoll over a signalfd and the pipes, shared with the owner's control
 * socket) supervises everything: it reaps every child (jobrun is PID 1 of
 * its job process or a subreaper), enforces step and job deadlines,
 * forwards SIGINT/SIGTERM/SIGHUP/SIGQUIT, and ends what a step leaves
 * behind in its process group.
 *
 * The engine knows steps, processes and output, nothing else: it reports
 * what happens through struct runner_events, and its owner (run.c) runs
 * the plugins' step hooks, the control socket and the job's files.
 *
 * Order of calls: runner_new(), then runner_run() (or runner_skip_all()
 * when the job is refused before its steps), then runner_step() for each
 * step's record and runner_end_children(), then runner_free().
 */
#ifndef JOBRUN_RUNNER_H
#define JOBRUN_RUNNER_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <jobrun/plugin.h>

#include "configuration.h"
#include "console.h"
#include "list.h"
#include "loop.h"
#include "mask.h"
#include "plan.h"
#include "sandbox.h"

/* What the engine knows of one step. */
struct step_record {
	enum jobrun_outcome outcome;
	unsigned attempts;
	int exit_code; /* of the last attempt; -1 when killed or never ran */
	int signal; /* 0 when none */
	bool oom_killed; /* failed while the OOM killer struck (oom.h) */
	/* how its last attempt was kept apart from the rest */
	enum sandbox_isolation isolation;
	struct timespec started; /* wall clock; tv_sec 0: never started */
	struct timespec finished;
	uint64_t duration_ms;
	const struct nvlist *outputs; /* what it wrote to $JOBRUN_OUTPUT */
	/* What its last attempt wrote to $JOBRUN_STEP_SUMMARY (Markdown,
	 * unmasked, NUL-terminated, at most RUNNER_SUMMARY_MAX bytes);
	 * NULL: nothing. */
	const char *summary;
	/* Why it never ran (a static string: "condition false", "a
	 * dependency failed", "cancelled", "refused by a plugin", ...);
	 * NULL when it ran or has no outcome yet. */
	const char *reason;
};

/*
 * What the engine tells its owner; every member may be NULL.  The calls
 * come from inside runner_run(), one at a time.
 */
struct runner_events {
	/* Step index is about to start (its condition holds): false
	 * refuses it, and it fails without running. */
	bool (*step_starting)(void *context, size_t index);
	/* Step index starts an attempt (its first or a retry); the
	 * record's attempts counts it already. */
	void (*attempt_started)(void *context, size_t index);
	/* Step index has its final outcome, in runner_step(). */
	void (*step_finished)(void *context, size_t index);
	/* Variables step index gets on top of the job's (the control
	 * socket's path, say), added to extra. */
	void (*step_environment)(
	    void *context, size_t index, struct nvlist *extra);
	/* Step index will run as uid (run_as): the owner may let that
	 * user reach what it serves.  Returns 0, or -1 with *error set,
	 * which fails the step. */
	int (*step_user)(void *context, size_t index, uid_t uid, char **error);
	/* Every round of the loop: the owner's own deadlines.  Returns the
	 * milliseconds until the next one, or -1 for none. */
	int (*tick)(void *context, uint64_t now_ms);
};

/* The most of a step summary that is kept; the rest is cut off. */
#define RUNNER_SUMMARY_MAX (1024 * 1024)

struct sandbox_filter;
struct sandbox_policy;

struct runner_options {
	const struct plan *plan;
	const struct config *config;
	const struct nvlist *job_env; /* on top of jobrun's environment */
	struct mask_set *mask; /* the job's secrets (scrubbed, masked) */
	struct console *console; /* every byte of output goes here */
	struct loop *loop; /* shared with the owner */
	int outputs_dir; /* directory descriptor for $JOBRUN_OUTPUT files */
	const char *outputs_path; /* the same directory, as a path */
	const struct sandbox_filter *filter; /* for untrusted steps */
	const struct sandbox_policy *policy; /* who untrusted steps run as */
	bool has_untrusted; /* outputs files are made 0600 for every step */
	/* Steps that run (step-select.h), n_steps flags; NULL: every step.
	 * A step not selected is skipped ("not selected") and counts as a
	 * success for the steps that depend on it. */
	const bool *selected;
	/* --shell-on-failure: a failed trusted step opens an interactive
	 * shell (debug-shell.h) before it finishes. */
	bool shell_on_failure;
	const struct runner_events *events;
	void *context; /* passed to every event */
	uint64_t job_start_ms; /* the job's timeout counts from it (0: now) */
};

/*
 * The signals jobrun handles itself (SIGCHLD, SIGINT, SIGTERM, SIGHUP,
 * SIGQUIT).  main() blocks them before anything else; the runner reads them
 * from a signalfd, and children start with them unblocked.
 */
void runner_signals(sigset_t *out);

/*
 * Returns an engine for options' plan; everything in options is borrowed
 * and must outlive it.  Returns NULL after a message when the signalfd
 * cannot be made.
 */
struct runner *runner_new(const struct runner_options *options);

/*
 * Runs the steps until every one has an outcome.  Returns the job's exit
 * status: 0 success, 1 a step failed, 124 timed out, 128+N cancelled by
 * signal N, 125 when the loop itself failed (what had no outcome is then
 * cancelled).
 */
int runner_run(struct runner *r);

/* Gives every step the outcome skipped without running any, with
 * reason (a static string) as the why. */
void runner_skip_all(struct runner *r, const char *reason);
/* The same, with every step cancelled (the job was, before any ran). */
void runner_cancel_all(struct runner *r, const char *reason);

/* The record of step index (borrowed, lives as long as r). */
const struct step_record *runner_step(const struct runner *r, size_t index);

/* The signal that cancelled the job, 0 if none. */
int runner_cancel_signal(const struct runner *r);

/*
 * Kills every running step's process group and what finished steps left
 * behind, at once.  Async-signal-safe: the plugin watchdog calls it.
 */
void runner_kill_all(const struct runner *r);

/*
 * Kills what untrusted steps left running under their uids, then kills
 * and reaps every child still around (escaped orphans included), so the
 * job leaves no process and no zombie behind.
 */
void runner_end_children(struct runner *r);

/* Frees the engine (NULL is fine); its records go with it. */
void runner_free(struct runner *r);

#endif
