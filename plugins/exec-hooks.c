/*
 * exec-hooks: jobrun's run-parts.  A bundled plugin that runs the
 * executable files of a directory per phase, so that a runner image (or a
 * CI repository) can add behaviour to every job with shell scripts rather
 * than C.
 *
 * USER DOCUMENTATION (for jobrun-plugin(3) / jobrun(1))
 *
 * Loading: plugins: [{path: exec-hooks}], --plugin exec-hooks or
 * JOBRUN_PLUGINS=exec-hooks (the runner image sets the last).
 *
 * Directories.  At each phase, and before and after each step that runs,
 * the plugin looks in two hook directories, in this order:
 *   1. the image's: the setting "dir" when given (an absolute path), else
 *      $(pkgdatadir)/hooks (/usr/share/jobrun/hooks in the runner image);
 *   2. the CI source's: CI_DIR/.jobrun/hooks, where CI_DIR is the job's
 *      CI directory (/job/ci); it exists only after source preparation,
 *      so its hooks first run at post-source-prep.
 * In each it runs the files of the subdirectory named after the phase:
 *   pre-validation.d  post-validation.d  pre-source-prep.d
 *   post-source-prep.d  pre-execution.d  before-step.d  after-step.d
 *   post-execution.d  on-error.d  cleanup.d
 * A missing directory is not an error.  Files run in the byte order of
 * their names (strcmp, as in the C locale), all of the image's before any
 * of the CI source's.  Names starting with '.', ending in '~', or holding
 * ".dpkg-" or ".rpm" are ignored, as are entries that are not regular
 * files (after following symbolic links).  A regular file that is not
 * executable is skipped with a warning.  A file jobrun would not load code
 * from (see check_trusted: owned by root or by jobrun's user, writable by
 * no one else, every directory above it too, not under the code dir) is
 * refused with a warning, and that counts as a failing hook.  A hook is
 * judged where it lies, not where it points: one that is a symbolic link,
 * or that lies in a linked directory below the hook directory (PHASE.d,
 * or the CI source's .jobrun and hooks), is refused the same way, as a
 * link planted under the code dir could name a trusted program (which
 * would then run, in the job dir, as jobrun's user).  The hook directory
 * itself (the setting, CI_DIR) may be reached through links.
 *
 * Running.  Each hook runs as jobrun runs a plugin's command: argv is just
 * its path, no shell, in the job dir, with a step's environment, its
 * output masked and prefixed "hook NAME", in its own process group, killed
 * after the plugin timeout (plugin_timeout, default 60 s).  jobrun sets
 * JOBRUN_PHASE, JOBRUN_PLUGIN and JOBRUN_ENV; NAME=VALUE lines a hook
 * writes to the file $JOBRUN_ENV are set for the steps that follow.  The
 * plugin adds:
 *   JOBRUN_HOOK_PHASE      the phase, as in the directory name
 *                          ("post-source-prep", "after-step", ...)
 *   JOBRUN_JOB_OUTCOME     success|failed|timed_out|cancelled, and
 *   JOBRUN_JOB_STATUS      jobrun's exit status, from post-execution on
 *   JOBRUN_FAILED_STEP     the first step whose failure failed the job
 * and in before-step.d and after-step.d:
 *   JOBRUN_STEP_NAME       the step's name
 * and in after-step.d only:
 *   JOBRUN_STEP_OUTCOME    success|failed|timed_out|cancelled|skipped
 *   JOBRUN_STEP_EXIT_CODE  the exit code of its last attempt, or 128+N
 *                          when signal N killed it (unset when none)
 *
 * Failure policy.  A hook fails when it exits non-zero, cannot be
 * started, or is refused as untrusted.  In pre-validation, post-validation,
 * pre-source-prep, post-source-prep, pre-execution and before-step, the
 * first failing hook stops the phase: no further hook of that phase runs
 * (in either directory) and the plugin reports the failure to jobrun,
 * which fails the job (before-step: fails the step without running it).
 * In post-execution, on-error, cleanup and after-step, every hook runs and
 * the plugin reports a failure if any failed; jobrun reports it and goes
 * on.
 *
 * Messages.  A failing hook is logged, one line, as
 *   hook /usr/share/jobrun/hooks/pre-execution.d/10-x: exit 3 (12 ms)
 * (an error before execution, a warning after it).  With the setting
 * verbose: "true" every hook run is logged that way (as information);
 * by default hooks that succeed are silent apart from their own output.
 *
 * Settings (the plugin's config: mapping in the job file):
 *   dir       the image's hook directory (absolute path)
 *   verbose   "true" or "false" (default): log every hook run
 * Any other key is refused, and so is a bad value: the job then fails
 * with status 125, like any plugin whose init fails.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jobrun/plugin.h>

#ifndef JOBRUN_HOOK_DIR
#define JOBRUN_HOOK_DIR "/usr/share/jobrun/hooks"
#endif

/* The most variables the plugin adds to a hook's environment. */
#define HOOK_ENV_MAX 8

struct hooks {
	const struct jobrun_host *host;
	char *image_dir;
	bool verbose;
};

/* What one run of a phase's hooks is about. */
struct hooks_run {
	struct jobrun_context *context;
	struct hooks *hooks;
	enum jobrun_phase phase;
	const char *phase_name;
	bool stop_at_failure;
	const char *env[HOOK_ENV_MAX + 1];
	char *env_owned[HOOK_ENV_MAX];
	size_t env_count;
	unsigned int failures;
};

/* Whether run-parts would ignore name: hidden, backup or package files. */
static bool
hooks_ignored_name(const char *name)
{
	size_t length = strlen(name);

	return name[0] == '.' || length == 0 || name[length - 1] == '~' ||
	    strstr(name, ".dpkg-") != NULL || strstr(name, ".rpm") != NULL;
}

static int
hooks_compare_names(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int
hooks_filter(const struct dirent *entry)
{
	return !hooks_ignored_name(entry->d_name);
}

static uint64_t
hooks_now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
}

/* Adds NAME=VALUE to the hook environment; a NULL value adds nothing. */
static int
hooks_env_add(struct hooks_run *run, const char *name, const char *value)
{
	char *pair;

	if (value == NULL)
		return 0;
	if (run->env_count == HOOK_ENV_MAX ||
	    asprintf(&pair, "%s=%s", name, value) < 0) {
		run->hooks->host->log(run->context, JOBRUN_LOG_ERROR,
		    "cannot build the environment of the %s hooks",
		    run->phase_name);
		return -1;
	}
	run->env_owned[run->env_count] = pair;
	run->env[run->env_count++] = pair;
	run->env[run->env_count] = NULL;
	return 0;
}

static void
hooks_run_release(struct hooks_run *run)
{
	for (size_t i = 0; i < run->env_count; i++)
		free(run->env_owned[i]);
	run->env_count = 0;
}

/* The job facts every hook gets, and the step's for the step hooks. */
static int
hooks_env_build(struct hooks_run *run, const struct jobrun_step *step)
{
	const struct jobrun_host *host = run->hooks->host;
	char code[16];

	if (hooks_env_add(run, "JOBRUN_HOOK_PHASE", run->phase_name) < 0 ||
	    hooks_env_add(run, "JOBRUN_JOB_OUTCOME",
		host->fact(run->context, "outcome")) < 0 ||
	    hooks_env_add(run, "JOBRUN_JOB_STATUS",
		host->fact(run->context, "status")) < 0 ||
	    hooks_env_add(run, "JOBRUN_FAILED_STEP",
		host->fact(run->context, "failed_step")) < 0)
		return -1;
	if (step == NULL)
		return 0;
	if (hooks_env_add(run, "JOBRUN_STEP_NAME", step->name) < 0)
		return -1;
	if (run->phase != JOBRUN_PHASE_AFTER_STEP)
		return 0;
	if (hooks_env_add(run, "JOBRUN_STEP_OUTCOME",
		jobrun_outcome_name(step->outcome)) < 0)
		return -1;
	if (step->exit_code >= 0)
		snprintf(code, sizeof(code), "%d", step->exit_code);
	else if (step->signal > 0)
		snprintf(code, sizeof(code), "%d", 128 + step->signal);
	else
		return 0;
	return hooks_env_add(run, "JOBRUN_STEP_EXIT_CODE", code);
}

/*
 * Runs one hook file, found at path, which lies at lies_at once the hook
 * directory is resolved; returns 0 when it ran and succeeded, 1 when it
 * was skipped (not a regular file, not executable), -1 when it failed.
 */
static int
hooks_run_one(struct hooks_run *run, const char *path, const char *lies_at,
    const char *name)
{
	const struct jobrun_host *host = run->hooks->host;
	const char *argv[2];
	char label[NAME_MAX + 8], *real;
	enum jobrun_log_level level;
	struct stat st;
	uint64_t start;
	int status, result;

	if (stat(path, &st) < 0) {
		host->log(run->context, JOBRUN_LOG_WARNING,
		    "skipping hook '%s': %s", path, strerror(errno));
		return 1;
	}
	if (!S_ISREG(st.st_mode))
		return 1;
	if (access(path, X_OK) < 0) {
		host->log(run->context, JOBRUN_LOG_WARNING,
		    "skipping hook '%s': not executable", path);
		return 1;
	}
	if ((real = realpath(path, NULL)) == NULL) {
		host->log(run->context, JOBRUN_LOG_WARNING,
		    "skipping hook '%s': %s", path, strerror(errno));
		return 1;
	}
	/* Judged where it lies: a link below the hook directory would make
	 * check_trusted() judge its target instead. */
	if (strcmp(real, lies_at) != 0) {
		host->log(run->context, JOBRUN_LOG_WARNING,
		    "refusing hook '%s': a symbolic link, or in a linked "
		    "directory (a hook is judged where it lies, not where it "
		    "points)",
		    path);
		free(real);
		return -1;
	}
	if (host->check_trusted(run->context, real) < 0) {
		host->log(run->context, JOBRUN_LOG_WARNING,
		    "refusing hook '%s': not a trusted file", path);
		free(real);
		return -1;
	}

	argv[0] = real;
	argv[1] = NULL;
	snprintf(label, sizeof(label), "hook %s", name);
	start = hooks_now_ms();
	result = host->run(run->context, argv, run->env, label, 0, &status);
	if (result < 0) {
		host->log(run->context, JOBRUN_LOG_ERROR,
		    "hook %s: could not be started", path);
		free(real);
		return -1;
	}
	if (status == 0)
		level = JOBRUN_LOG_INFO;
	else if (run->stop_at_failure)
		level = JOBRUN_LOG_ERROR;
	else
		level = JOBRUN_LOG_WARNING;
	if (status != 0 || run->hooks->verbose)
		host->log(run->context, level, "hook %s: exit %d (%llu ms)",
		    path, status, (unsigned long long)(hooks_now_ms() - start));
	free(real);
	return status == 0 ? 0 : -1;
}

/*
 * DIR/PHASE.d, where DIR is base, or base/below when below is not NULL;
 * with resolve, base is resolved first: where the hooks lie when no link
 * is below base.  NULL on failure, with errno set.
 */
static char *
hooks_phase_dir(const struct hooks_run *run, const char *base,
    const char *below, bool resolve)
{
	char *resolved = NULL, *dir;

	if (resolve) {
		if ((resolved = realpath(base, NULL)) == NULL)
			return NULL;
		base = strcmp(resolved, "/") == 0 ? "" : resolved;
	}
	if (asprintf(&dir, "%s%s%s/%s.d", base, below != NULL ? "/" : "",
		below != NULL ? below : "", run->phase_name) < 0)
		dir = NULL;
	free(resolved);
	return dir;
}

static void
hooks_free_entries(struct dirent **entries, int count)
{
	for (int i = 0; i < count; i++)
		free(entries[i]);
	free(entries);
}

/*
 * Runs the hooks of DIR/PHASE.d (see hooks_phase_dir()) in name order;
 * returns -1 when the phase must stop (a hook failed and the phase stops
 * at the first failure).
 */
static int
hooks_run_dir(struct hooks_run *run, const char *base, const char *below)
{
	struct dirent **entries;
	char *phase_dir, *lies_in = NULL, *path, *lies_at;
	int count, i, stop = 0, saved;

	if ((phase_dir = hooks_phase_dir(run, base, below, false)) == NULL)
		return -1;
	count = scandir(phase_dir, &entries, hooks_filter, hooks_compare_names);
	if (count >= 0 &&
	    (lies_in = hooks_phase_dir(run, base, below, true)) == NULL) {
		saved = errno;
		hooks_free_entries(entries, count);
		count = -1;
		errno = saved;
	}
	if (count < 0) {
		if (errno != ENOENT && errno != ENOTDIR) {
			run->hooks->host->log(run->context, JOBRUN_LOG_WARNING,
			    "cannot read hook directory '%s': %s", phase_dir,
			    strerror(errno));
			run->failures++;
			stop = run->stop_at_failure ? -1 : 0;
		}
		free(phase_dir);
		return stop;
	}
	for (i = 0; i < count && stop == 0; i++) {
		if (asprintf(&path, "%s/%s", phase_dir, entries[i]->d_name) < 0)
			path = NULL;
		if (asprintf(&lies_at, "%s/%s", lies_in, entries[i]->d_name) <
		    0)
			lies_at = NULL;
		if (path == NULL || lies_at == NULL ||
		    hooks_run_one(run, path, lies_at, entries[i]->d_name) < 0) {
			run->failures++;
			if (run->stop_at_failure)
				stop = -1;
		}
		free(lies_at);
		free(path);
	}
	hooks_free_entries(entries, count);
	free(lies_in);
	free(phase_dir);
	return stop;
}

/* Runs a phase's hooks in both hook directories, with the policy above. */
static int
hooks_run_phase(struct jobrun_context *context, struct hooks *hooks,
    enum jobrun_phase phase, const struct jobrun_step *step)
{
	struct hooks_run run = { .context = context, .hooks = hooks };
	const char *ci_dir;
	int result = 0;

	if (jobrun_phase_slug(phase) == NULL)
		return 0;
	run.phase = phase;
	run.phase_name = jobrun_phase_slug(phase);
	run.stop_at_failure = phase <= JOBRUN_PHASE_PRE_EXECUTION ||
	    phase == JOBRUN_PHASE_BEFORE_STEP;
	if (hooks_env_build(&run, step) < 0) {
		hooks_run_release(&run);
		return -1;
	}
	if (hooks_run_dir(&run, hooks->image_dir, NULL) < 0)
		result = -1;
	ci_dir = hooks->host->fact(context, "ci_dir");
	if (result == 0 && ci_dir != NULL &&
	    hooks_run_dir(&run, ci_dir, ".jobrun/hooks") < 0)
		result = -1;
	hooks_run_release(&run);
	return result < 0 || run.failures > 0 ? -1 : 0;
}

static int
hooks_configure(struct jobrun_context *context, struct hooks *hooks)
{
	const struct jobrun_host *host = hooks->host;
	const char *key, *value, *dir = JOBRUN_HOOK_DIR;

	for (size_t i = 0; host->config_item(context, i, &key, &value) == 0;
	     i++) {
		if (strcmp(key, "dir") == 0 && value != NULL &&
		    value[0] == '/') {
			dir = value;
		} else if (strcmp(key, "dir") == 0) {
			host->log(context, JOBRUN_LOG_ERROR,
			    "setting 'dir': expected an absolute path");
			return -1;
		} else if (strcmp(key, "verbose") == 0 && value != NULL &&
		    (strcmp(value, "true") == 0 ||
			strcmp(value, "false") == 0)) {
			hooks->verbose = strcmp(value, "true") == 0;
		} else if (strcmp(key, "verbose") == 0) {
			host->log(context, JOBRUN_LOG_ERROR,
			    "setting 'verbose': expected true or false");
			return -1;
		} else {
			host->log(context, JOBRUN_LOG_ERROR,
			    "unknown setting '%s' (expected dir or verbose)",
			    key);
			return -1;
		}
	}
	if ((hooks->image_dir = strdup(dir)) == NULL) {
		host->log(context, JOBRUN_LOG_ERROR, "out of memory");
		return -1;
	}
	return 0;
}

static int
hooks_init(struct jobrun_context *context, const struct jobrun_host *host,
    void **state)
{
	struct hooks *hooks;

	if ((hooks = calloc(1, sizeof(*hooks))) == NULL) {
		host->log(context, JOBRUN_LOG_ERROR, "out of memory");
		return -1;
	}
	hooks->host = host;
	if (hooks_configure(context, hooks) < 0) {
		free(hooks);
		return -1;
	}
	*state = hooks;
	return 0;
}

static int
hooks_phase(
    struct jobrun_context *context, void *state, enum jobrun_phase phase)
{
	return hooks_run_phase(context, state, phase, NULL);
}

static int
hooks_step(struct jobrun_context *context, void *state, enum jobrun_phase when,
    const struct jobrun_step *step)
{
	return hooks_run_phase(context, state, when, step);
}

static void
hooks_fini(struct jobrun_context *context, void *state)
{
	struct hooks *hooks = state;

	if (hooks == NULL)
		return;
	free(hooks->image_dir);
	free(hooks);
}

const struct jobrun_plugin jobrun_plugin = {
	.abi_version = JOBRUN_PLUGIN_ABI_VERSION,
	.name = "exec-hooks",
	.version = PACKAGE_VERSION,
	.init = hooks_init,
	.phase = hooks_phase,
	.step = hooks_step,
	.fini = hooks_fini,
};
