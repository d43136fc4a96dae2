/*
 * jobrun's plugin ABI: the one public header.
 *
 * A plugin is a shared object that exports one data symbol,
 *
 *	const struct jobrun_plugin jobrun_plugin = {
 *		.abi_version = JOBRUN_PLUGIN_ABI_VERSION,
 *		.name = "notify",
 *		...
 *	};
 *
 * jobrun opens it with dlopen(RTLD_NOW | RTLD_LOCAL), reads abi_version
 * before it calls anything in the object, and refuses a plugin whose major
 * version differs from its own, naming both.  A plugin built against an
 * older minor version of this header works with a newer jobrun; one built
 * against a newer minor works with an older jobrun, whose host simply does
 * not know the members added since (see "Versions" below).
 *
 * The life of a plugin in one job:
 *
 *  - init(), once, after loading, before PRE_VALIDATION;
 *  - phase() for PRE_VALIDATION, POST_VALIDATION, PRE_SOURCE_PREP,
 *    POST_SOURCE_PREP and PRE_EXECUTION;
 *  - step() with BEFORE_STEP and AFTER_STEP around each step that runs;
 *  - phase() for POST_EXECUTION, ON_ERROR (only after a failure) and
 *    CLEANUP (always, also after a cancel or a timeout);
 *  - fini(), once, before jobrun unloads the object.
 *
 * Plugins run in priority order, lower first, ties in the order they were
 * configured; POST_EXECUTION, ON_ERROR, CLEANUP and AFTER_STEP run in the
 * reverse order, so what was set up first is torn down last.  A hook
 * returning non-zero before execution fails the job (ON_ERROR and CLEANUP
 * still run); a failing BEFORE_STEP hook fails that step without running
 * it; a failing hook after execution is reported and the others still run.
 * Plugins loaded from /job/ci's plugin directory are loaded after source
 * preparation and first see POST_SOURCE_PREP.
 *
 * Rules across the boundary:
 *  - Nothing is freed by the other side.  Every pointer jobrun passes to a
 *    hook, or returns from a host service, is valid only until that hook
 *    returns, unless the member's comment says otherwise.
 *  - Hooks run in jobrun's main thread, one at a time, while the job waits:
 *    keep them short.  A hook that does not return within the plugin
 *    timeout (plugin_timeout, default 60 s) ends the job with status 125.
 *    Long work belongs in a child process started with host->run(), which
 *    jobrun supervises (time limit, masked output, process group).
 *  - A plugin must not install signal handlers, change the signal mask,
 *    call wait()/waitpid() on children it did not start itself, or exit.
 *  - Everything a plugin writes through host->log() and everything a
 *    command started with host->run() prints passes the secret masker.
 *    Writing to stdout or stderr directly bypasses it: do not.
 *
 * Versions (JOBRUN_PLUGIN_ABI_MAJOR.MINOR):
 *  1.0  2026-11-22  First version: phases, step hooks, host services log,
 *                   env_get, env_set, secret_add, trigger_add, fact,
 *                   config_get, config_item, step_count, step_get, run,
 *                   check_trusted.
 *       2026-12-03  (header only, no ABI change) jobrun_phase_name(),
 *                   jobrun_phase_slug() and jobrun_outcome_name().
 *  1.1  2026-12-03  struct jobrun_step: continue_on_error.
 *
 * How versions move: members are only ever appended to the structs of this
 * header, and every appended member comes with a minor bump and a line
 * above saying which version added it.  A member added in 1.N may be used
 * only when the other side's version is at least 1.N: a plugin checks
 * host->abi_version before it calls a host service or reads a struct
 * member newer than 1.0; jobrun does the same with the plugin's
 * abi_version.  Removing or changing a member, or reordering an enum,
 * bumps the major version, which jobrun refuses across.
 */
#ifndef JOBRUN_PLUGIN_H
#define JOBRUN_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define JOBRUN_PLUGIN_ABI_MAJOR 1
#define JOBRUN_PLUGIN_ABI_MINOR 1
/* A version as stored in abi_version: major in the high 16 bits. */
#define JOBRUN_PLUGIN_ABI(major, minor)                                        \
	((unsigned int)(((major) << 16) | (minor)))
#define JOBRUN_PLUGIN_ABI_VERSION                                              \
	JOBRUN_PLUGIN_ABI(JOBRUN_PLUGIN_ABI_MAJOR, JOBRUN_PLUGIN_ABI_MINOR)
#define JOBRUN_PLUGIN_ABI_MAJOR_OF(version) ((unsigned int)(version) >> 16)
#define JOBRUN_PLUGIN_ABI_MINOR_OF(version) ((unsigned int)(version)&0xffffu)

/* The name of the data symbol every plugin exports. */
#define JOBRUN_PLUGIN_SYMBOL "jobrun_plugin"

/* The lifecycle, in the order a job goes through it (1.0). */
enum jobrun_phase {
	JOBRUN_PHASE_PRE_VALIDATION = 0,
	JOBRUN_PHASE_POST_VALIDATION = 1,
	JOBRUN_PHASE_PRE_SOURCE_PREP = 2,
	JOBRUN_PHASE_POST_SOURCE_PREP = 3,
	JOBRUN_PHASE_PRE_EXECUTION = 4,
	JOBRUN_PHASE_POST_EXECUTION = 5,
	JOBRUN_PHASE_ON_ERROR = 6,
	JOBRUN_PHASE_CLEANUP = 7,
	/* Only ever passed to the step hook. */
	JOBRUN_PHASE_BEFORE_STEP = 8,
	JOBRUN_PHASE_AFTER_STEP = 9,
};

/* How a step ended (1.0); PENDING before it has. */
enum jobrun_outcome {
	JOBRUN_OUTCOME_PENDING = 0,
	JOBRUN_OUTCOME_SUCCESS = 1,
	JOBRUN_OUTCOME_FAILED = 2,
	JOBRUN_OUTCOME_TIMED_OUT = 3,
	JOBRUN_OUTCOME_CANCELLED = 4,
	JOBRUN_OUTCOME_SKIPPED = 5,
};

/*
 * The name of a phase as jobrun's messages and $JOBRUN_PHASE spell it
 * ("PRE_VALIDATION", ... "AFTER_STEP"); "UNKNOWN" for another value.
 */
static inline const char *
jobrun_phase_name(enum jobrun_phase phase)
{
	static const char *const names[] = { "PRE_VALIDATION",
		"POST_VALIDATION", "PRE_SOURCE_PREP", "POST_SOURCE_PREP",
		"PRE_EXECUTION", "POST_EXECUTION", "ON_ERROR", "CLEANUP",
		"BEFORE_STEP", "AFTER_STEP" };

	return (unsigned int)phase < sizeof(names) / sizeof(names[0])
	    ? names[phase]
	    : "UNKNOWN";
}

/*
 * The name of a phase as hook directories spell it ("pre-validation",
 * ... "after-step"); NULL for another value.
 */
static inline const char *
jobrun_phase_slug(enum jobrun_phase phase)
{
	static const char *const slugs[] = { "pre-validation",
		"post-validation", "pre-source-prep", "post-source-prep",
		"pre-execution", "post-execution", "on-error", "cleanup",
		"before-step", "after-step" };

	return (unsigned int)phase < sizeof(slugs) / sizeof(slugs[0])
	    ? slugs[phase]
	    : NULL;
}

/*
 * The name of an outcome as result.json and $JOBRUN_STEP_OUTCOME spell it
 * ("pending", "success", "failed", "timed_out", "cancelled", "skipped");
 * "pending" for another value.
 */
static inline const char *
jobrun_outcome_name(enum jobrun_outcome outcome)
{
	static const char *const names[] = { "pending", "success", "failed",
		"timed_out", "cancelled", "skipped" };

	return (unsigned int)outcome < sizeof(names) / sizeof(names[0])
	    ? names[outcome]
	    : "pending";
}

/* What host->log() is about (1.0). */
enum jobrun_log_level {
	JOBRUN_LOG_INFO = 0,
	JOBRUN_LOG_WARNING = 1,
	JOBRUN_LOG_ERROR = 2,
};

/*
 * A step as jobrun knows it at the moment of the call (1.0).  Owned by
 * jobrun; valid until the hook that received it returns.
 */
struct jobrun_step {
	const char *name;
	size_t index; /* in the job file's order, from 0 */
	enum jobrun_outcome outcome;
	int exit_code; /* of the last attempt; -1 if none or killed */
	int signal; /* that killed the last attempt; 0 if none */
	unsigned int attempts; /* attempts made */
	uint64_t duration_ms; /* of all its attempts; 0 before it ran */
	const char *log_file; /* its log, masked; NULL before it ran */
	/* 1.1: non-zero when its failure does not fail the job (read it
	 * only when host->abi_version is at least 1.1). */
	int continue_on_error;
};

/* A job to run after this one, for host->trigger_add() (1.0). */
struct jobrun_trigger {
	const char *job_name; /* required */
	/* "NAME=VALUE" strings, NULL-terminated; NULL for none. */
	const char *const *env;
	/* Names of jobs it waits for, NULL-terminated; NULL for none. */
	const char *const *depends_on;
	const char *condition; /* NULL: the worker's default */
};

/*
 * Identifies the calling plugin to jobrun; passed to every hook and every
 * host service.  Opaque, owned by jobrun, valid from init() to fini().
 */
struct jobrun_context;

/*
 * What jobrun offers a plugin (1.0).  Passed to init(); the struct and
 * its function pointers stay valid until fini() returns.  Services that
 * return int return 0 on success and -1 on failure, after jobrun has
 * reported why.
 */
struct jobrun_host {
	/* jobrun's JOBRUN_PLUGIN_ABI_VERSION; first, like the plugin's. */
	unsigned int abi_version;
	const char *jobrun_version; /* "0.1.0" */

	/* Writes one message, masked, where jobrun's own messages go,
	 * naming the plugin. */
	void (*log)(struct jobrun_context *context, enum jobrun_log_level level,
	    const char *format, ...) __attribute__((format(printf, 3, 4)));

	/* The value a later step would see for name, or NULL. */
	const char *(*env_get)(
	    struct jobrun_context *context, const char *name);

	/* Sets name=value for every step and command that has not started
	 * yet.  Names are [A-Za-z_][A-Za-z0-9_]*; value may be empty, not
	 * NULL. */
	int (*env_set)(struct jobrun_context *context, const char *name,
	    const char *value);

	/* Registers a secret: from now on every output masks it.  A value
	 * shorter than the minimum length is refused (-1), and reported
	 * without being shown. */
	int (*secret_add)(
	    struct jobrun_context *context, const char *value, size_t length);

	/* Adds a job to triggers.json, after the job file's triggers. */
	int (*trigger_add)(struct jobrun_context *context,
	    const struct jobrun_trigger *trigger);

	/*
	 * A fact about the job, or NULL when it is not known (yet):
	 *   "job"            the job's name
	 *   "phase"          the phase being run ("PRE_VALIDATION", ...)
	 *   "workspace", "ci_dir", "code_dir", "job_dir", "artifacts_dir",
	 *   "log_dir"        directories
	 *   "branch", "event"
	 *   "commit", "ci_commit"   after source preparation
	 *   "outcome"        in the teardown phases: "success", "failed",
	 *                    "timed_out", "cancelled", or "error" (jobrun
	 *                    or a plugin failed before the steps: 125)
	 *   "status"         in the teardown phases: the exit status
	 *   "failed_step"    the first step whose failure failed the job
	 *                    (not one continue_on_error forgave), if one did
	 *   "error"          why the job failed before its steps, if it did
	 */
	const char *(*fact)(struct jobrun_context *context, const char *name);

	/* The plugin's own settings from the job file's config: mapping,
	 * as strings; NULL when key is not set. */
	const char *(*config_get)(
	    struct jobrun_context *context, const char *key);

	/* The index-th setting (from 0) in *key and *value; -1 past the
	 * last. */
	int (*config_item)(struct jobrun_context *context, size_t index,
	    const char **key, const char **value);

	/* The job's steps, in the job file's order. */
	size_t (*step_count)(struct jobrun_context *context);
	const struct jobrun_step *(*step_get)(
	    struct jobrun_context *context, size_t index);

	/*
	 * Runs argv[0] (found along PATH when it has no '/') with argv,
	 * without a shell, in the job dir, with the environment a step
	 * would get plus env ("NAME=VALUE", NULL-terminated, may be NULL),
	 * and JOBRUN_PHASE, JOBRUN_PLUGIN and JOBRUN_ENV set.  Its output
	 * goes, masked, where jobrun's own messages go (standard error, or
	 * the JSON log), one line at a time as "jobrun: plugin NAME:
	 * LABEL: line" (label NULL: the program's name).  It runs in its own
	 * process group, which is killed when it outlives timeout_ms (0: the
	 * plugin timeout) or when the job is cancelled.  Lines NAME=VALUE
	 * it writes to the file $JOBRUN_ENV are set for later steps, as
	 * env_set() would.  Returns 0 with the exit status in
	 * *exit_status (128+N when killed by signal N, 124 on timeout),
	 * or -1 when it could not be started.
	 */
	int (*run)(struct jobrun_context *context, const char *const *argv,
	    const char *const *env, const char *label, uint64_t timeout_ms,
	    int *exit_status);

	/* Whether jobrun would load code from path: 0 when the file and
	 * every directory above it are owned by root or by jobrun's user
	 * and writable by no one else, and path is not under the code dir;
	 * otherwise -1, after saying why (as a warning). */
	int (*check_trusted)(struct jobrun_context *context, const char *path);
};

/*
 * The one symbol a plugin exports, named JOBRUN_PLUGIN_SYMBOL (1.0).
 * Any hook may be NULL.  state is the plugin's own, set by init().
 */
struct jobrun_plugin {
	/* JOBRUN_PLUGIN_ABI_VERSION, always the first member. */
	unsigned int abi_version;
	const char *name; /* short, for messages: [a-z0-9_-]+ */
	const char *version; /* the plugin's own, for messages */

	/* Once, before any phase.  Non-zero refuses the job (status 125):
	 * the plugin then gets no hook but fini(), while the others run
	 * ON_ERROR and CLEANUP.  host stays valid until fini() returns. */
	int (*init)(struct jobrun_context *context,
	    const struct jobrun_host *host, void **state);

	/* At each phase. */
	int (*phase)(struct jobrun_context *context, void *state,
	    enum jobrun_phase phase);

	/* Before (JOBRUN_PHASE_BEFORE_STEP) and after
	 * (JOBRUN_PHASE_AFTER_STEP, with its outcome) each step that
	 * runs; a skipped step gets neither. */
	int (*step)(struct jobrun_context *context, void *state,
	    enum jobrun_phase when, const struct jobrun_step *step);

	/* Once, last, also when the job failed or was cancelled. */
	void (*fini)(struct jobrun_context *context, void *state);
};

/* Declared here so that a plugin's definition is checked against it;
 * exported even when the plugin builds with -fvisibility=hidden. */
extern __attribute__((visibility("default")))
const struct jobrun_plugin jobrun_plugin;

#ifdef __cplusplus
}
#endif

#endif
