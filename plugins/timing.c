/*
 * timing: a bundled plugin that tells where a job's time went.  It notes
 * the monotonic clock at each phase and around the steps, and at cleanup
 * logs one table: the phases, the steps, the total.
 *
 * USER DOCUMENTATION (for jobrun-plugin(3) / jobrun(1))
 *
 * Loading: plugins: [{path: timing}], --plugin timing or
 * JOBRUN_PLUGINS=timing.
 *
 * At cleanup the plugin logs, as information, one line per row:
 *
 *   phase                                       duration
 *   pre-validation                               0.001 s
 *   ...
 *   pre-execution                                0.004 s
 *   steps                                       12.113 s
 *   post-execution                               0.020 s
 *   cleanup                                      0.000 s
 *   step              outcome    attempts       duration
 *   build             success           1        9.002 s
 *   test              failed            2        3.101 s
 *   total                                       12.150 s
 *
 * Phases are listed as the plugin saw them, each from the moment it
 * started to the moment the next one started (cleanup: to the moment the
 * table is made, so it shows the cleanup hooks of the plugins that ran
 * before this one).  The row "steps" runs from the first step's start to
 * the phase after execution; pre-execution then ends where the first step
 * starts.  A plugin loaded from the CI directory first sees
 * post-source-prep, so its table starts there.  Steps are all the job
 * file's steps, in its order, with jobrun's outcome (success, failed,
 * timed_out, cancelled, skipped, or pending for one never reached), the
 * attempts made and the time of all attempts.  total runs from the first
 * phase the plugin saw to the table.  Columns are aligned with spaces; no
 * colours.
 *
 * Settings:
 *   min_ms   hide steps that took less than this many milliseconds
 *            (default 0: show all); a line then says how many were hidden.
 * Any other key, or a value that is not a decimal number, is refused and
 * fails the job at init (status 125).
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jobrun/plugin.h>

/* More than the phases a job goes through, each seen once. */
#define TIMING_MARKS_MAX 16

/* Column widths after the name column. */
#define TIMING_OUTCOME_WIDTH 9
#define TIMING_ATTEMPTS_WIDTH 8
#define TIMING_DURATION_WIDTH 12

struct timing_mark {
	const char *name;
	uint64_t at_ns;
};

struct timing {
	const struct jobrun_host *host;
	uint64_t min_ms;
	struct timing_mark marks[TIMING_MARKS_MAX];
	size_t mark_count;
	bool step_started;
	uint64_t first_step_ns;
	int name_width;
};

static uint64_t
timing_now_ns(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000000000 + (uint64_t)now.tv_nsec;
}

static void
timing_mark(struct timing *timing, const char *name, uint64_t at_ns)
{
	if (timing->mark_count == TIMING_MARKS_MAX)
		return;
	timing->marks[timing->mark_count].name = name;
	timing->marks[timing->mark_count++].at_ns = at_ns;
}

/* Formats milliseconds as "S.mmm s" in buffer. */
static const char *
timing_format(char *buffer, size_t size, uint64_t ms)
{
	snprintf(buffer, size, "%llu.%03llu s", (unsigned long long)(ms / 1000),
	    (unsigned long long)(ms % 1000));
	return buffer;
}

/* Logs one row of the table; outcome and attempts may be "". */
static void
timing_row(struct jobrun_context *context, struct timing *timing,
    const char *name, const char *outcome, const char *attempts,
    const char *duration)
{
	timing->host->log(context, JOBRUN_LOG_INFO, "%-*s  %-*s  %*s  %*s",
	    timing->name_width, name, TIMING_OUTCOME_WIDTH, outcome,
	    TIMING_ATTEMPTS_WIDTH, attempts, TIMING_DURATION_WIDTH, duration);
}

/* The width of the name column: the longest phase or step name. */
static void
timing_measure(struct jobrun_context *context, struct timing *timing)
{
	const struct jobrun_step *step;
	size_t count = timing->host->step_count(context), length;

	timing->name_width = (int)strlen("post-source-prep");
	for (size_t i = 0; i < count; i++) {
		step = timing->host->step_get(context, i);
		if (step != NULL && step->name != NULL &&
		    (length = strlen(step->name)) > (size_t)timing->name_width)
			timing->name_width = length > 60 ? 60 : (int)length;
	}
}

static void
timing_report_phases(
    struct jobrun_context *context, struct timing *timing, uint64_t now)
{
	const struct timing_mark *mark;
	uint64_t end;
	char duration[32];

	timing_row(context, timing, "phase", "", "", "duration");
	for (size_t i = 0; i < timing->mark_count; i++) {
		mark = &timing->marks[i];
		end = i + 1 < timing->mark_count ? mark[1].at_ns : now;
		timing_row(context, timing, mark->name, "", "",
		    timing_format(duration, sizeof(duration),
			(end - mark->at_ns) / 1000000));
	}
}

static void
timing_report_steps(struct jobrun_context *context, struct timing *timing)
{
	const struct jobrun_step *step;
	size_t count = timing->host->step_count(context), hidden = 0;
	char duration[32], attempts[16];
	const char *outcome;

	timing_row(context, timing, "step", "outcome", "attempts", "duration");
	for (size_t i = 0; i < count; i++) {
		if ((step = timing->host->step_get(context, i)) == NULL)
			continue;
		if (step->duration_ms < timing->min_ms) {
			hidden++;
			continue;
		}
		outcome = jobrun_outcome_name(step->outcome);
		snprintf(attempts, sizeof(attempts), "%u", step->attempts);
		timing_row(context, timing, step->name ? step->name : "",
		    outcome, attempts,
		    timing_format(
			duration, sizeof(duration), step->duration_ms));
	}
	if (hidden > 0)
		timing->host->log(context, JOBRUN_LOG_INFO,
		    "(%zu step%s under %llu ms not shown)", hidden,
		    hidden == 1 ? "" : "s", (unsigned long long)timing->min_ms);
}

static void
timing_report(struct jobrun_context *context, struct timing *timing)
{
	uint64_t now = timing_now_ns();
	char duration[32];

	timing_measure(context, timing);
	timing_report_phases(context, timing, now);
	timing_report_steps(context, timing);
	timing_row(context, timing, "total", "", "",
	    timing_format(duration, sizeof(duration),
		timing->mark_count > 0
		    ? (now - timing->marks[0].at_ns) / 1000000
		    : 0));
}

static int
timing_init(struct jobrun_context *context, const struct jobrun_host *host,
    void **state)
{
	const char *key, *value;
	struct timing *timing;
	unsigned long long min_ms = 0;
	char *end;

	for (size_t i = 0; host->config_item(context, i, &key, &value) == 0;
	     i++) {
		if (strcmp(key, "min_ms") != 0) {
			host->log(context, JOBRUN_LOG_ERROR,
			    "unknown setting '%s' (expected min_ms)", key);
			return -1;
		}
		errno = 0;
		if (value != NULL && value[0] >= '0' && value[0] <= '9')
			min_ms = strtoull(value, &end, 10);
		if (value == NULL || value[0] < '0' || value[0] > '9' ||
		    *end != '\0' || errno != 0) {
			host->log(context, JOBRUN_LOG_ERROR,
			    "setting 'min_ms': expected a number of "
			    "milliseconds");
			return -1;
		}
	}
	if ((timing = calloc(1, sizeof(*timing))) == NULL) {
		host->log(context, JOBRUN_LOG_ERROR, "out of memory");
		return -1;
	}
	timing->host = host;
	timing->min_ms = min_ms;
	*state = timing;
	return 0;
}

static int
timing_phase(
    struct jobrun_context *context, void *state, enum jobrun_phase phase)
{
	struct timing *timing = state;
	uint64_t now = timing_now_ns();

	/* The step hooks are timed as steps, not as phases. */
	if (phase > JOBRUN_PHASE_CLEANUP)
		return 0;
	/* The steps ran between pre-execution and this phase. */
	if (timing->step_started && timing->mark_count > 0 &&
	    timing->marks[timing->mark_count - 1].at_ns <=
		timing->first_step_ns &&
	    phase >= JOBRUN_PHASE_POST_EXECUTION)
		timing_mark(timing, "steps", timing->first_step_ns);
	timing_mark(timing, jobrun_phase_slug(phase), now);
	if (phase == JOBRUN_PHASE_CLEANUP)
		timing_report(context, timing);
	return 0;
}

static int
timing_step(struct jobrun_context *context, void *state, enum jobrun_phase when,
    const struct jobrun_step *step)
{
	struct timing *timing = state;
	uint64_t now = timing_now_ns();

	if (when == JOBRUN_PHASE_BEFORE_STEP && !timing->step_started) {
		timing->step_started = true;
		timing->first_step_ns = now;
	}
	return 0;
}

static void
timing_fini(struct jobrun_context *context, void *state)
{
	free(state);
}

const struct jobrun_plugin jobrun_plugin = {
	.abi_version = JOBRUN_PLUGIN_ABI_VERSION,
	.name = "timing",
	.version = PACKAGE_VERSION,
	.init = timing_init,
	.phase = timing_phase,
	.step = timing_step,
	.fini = timing_fini,
};
