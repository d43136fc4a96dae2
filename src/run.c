/*
 * A job's whole life (run.h).  struct run holds what the job has made so
 * far; each stage adds to it, and finish() writes the truth from whatever
 * is there, so a failure at any stage still ends with the job's files
 * written.  The step engine (runner.h) reports step events back here,
 * where they become plugin step hooks and the plugins' view of the steps.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "clock.h"
#include "bundle.h"
#include "console.h"
#include "ctl-server.h"
#include "debug-shell.h"
#include "diag.h"
#include "envfile.h"
#include "facts.h"
#include "file.h"
#include "jobfile.h"
#include "lifecycle.h"
#include "loop.h"
#include "mask-async.h"
#include "plan.h"
#include "result.h"
#include "run.h"
#include "runner.h"
#include "runtime-job.h"
#include "sandbox.h"
#include "secrets.h"
#include "source.h"
#include "step-select.h"
#include "step-summary.h"
#include "supervisor.h"
#include "trigger-file.h"
#include "triggers.h"
#include "workspace.h"
#include "xalloc.h"

/* Shared by the job process with the supervisor (MAP_SHARED). */
struct shared_state {
	bool ended; /* the job process wrote the job's files */
	int status; /* and ended with this status */
	/* Why the job process gave up, when it could say (the plugin
	 * watchdog: plugins_watchdog_record_to()), or "". */
	char last_words[512];
	struct step_record steps[];
};

static size_t
shared_size(size_t n_steps)
{
	return sizeof(struct shared_state) +
	    (n_steps + 1) * sizeof(struct step_record);
}

struct run {
	const struct cli *cli;
	struct config config;
	struct job *job;
	struct nvlist job_env;
	struct plan plan;
	bool planned; /* plan is built */
	struct mask_set *mask;
	struct lifecycle lc;
	bool lifecycle; /* lc is set up */
	struct workspace workspace;
	bool workspace_known; /* the job's files may be written */
	struct loop *loop;
	struct console *console;
	struct ctl_server *control;
	struct worker *worker; /* the control socket's work off the loop */
	struct mask_async *registering; /* its secrets, on the worker */
	struct runner *runner;
	struct sandbox_filter filter;
	struct sandbox_policy policy; /* who untrusted steps run as */
	bool untrusted; /* the plan has an untrusted step */
	struct timespec started;
	uint64_t start_ms;
	char *error; /* why the job ended with 125, for result.json */
	int ended; /* the job's exit status, once finish() has it (or 0) */
	char **shown_names; /* per step: its name masked, when that differs */
	struct job *partial; /* what a refused job file held, for its secrets */
	struct source_report sources; /* what was prepared, for result.json */
	/* What the job process shares with the supervisor (mmap), for the
	 * crash record: the steps' records as it last knew them, and whether
	 * it wrote the job's files; NULL: nothing. */
	struct shared_state *shared;
	size_t n_shared;
	int crash_signal; /* in the supervisor: what ended the job process */
	bool events; /* job_started is out: the job's events follow */
	bool *selected; /* --until/--only (step-select.h); NULL: all */
};

/* ---- the job and its configuration ---- */

static const char *
job_file_path(const struct cli *cli)
{
	const char *env;

	if (cli->job_file != NULL)
		return cli->job_file;
	env = getenv("JOBRUN_JOB_FILE");
	return env != NULL && env[0] != '\0' ? env : NULL;
}

/* run_load_job(); *partial (may be NULL) gets a refused file's part. */
static int
load_job(const struct cli *cli, struct job **out, struct job **partial)
{
	const char *path = job_file_path(cli);
	char *error;

	*out = NULL;
	if (path == NULL)
		return 0;
	if ((*out = jobfile_load_partial(path, &error, partial)) == NULL) {
		diag_error("%s", error);
		free(error);
		return -1;
	}
	return 0;
}

int
run_load_job(const struct cli *cli, struct job **out)
{
	return load_job(cli, out, NULL);
}

int
run_build_config(
    const struct cli *cli, const struct job *job, struct config *out)
{
	struct config_flag flags[CLI_MAX_FLAGS + 1];
	size_t n = cli->n_flags;
	char *error;

	memcpy(flags, cli->flags, n * sizeof(flags[0]));
	if (cli->job_file != NULL) {
		flags[n].key = CONFIG_JOB_FILE;
		flags[n].value = cli->job_file;
		flags[n].flag = "argument";
		n++;
	}
	if (config_build(out, job, flags, n, &error) < 0) {
		diag_error("%s", error);
		free(error);
		return -1;
	}
	return 0;
}

int
run_build_plan(const struct job *job, struct plan *out)
{
	char *error;

	if (plan_build(out, job, &error) < 0) {
		diag_error("%s", error);
		free(error);
		return -1;
	}
	return 0;
}

/*
 * Makes the job runnable: a job command becomes the one step "main" (of a
 * job file without steps, or of no job file at all, as runnerlib does).
 */
static int
complete_job(struct job **job, const struct config *config)
{
	const char *command = config_get(config, CONFIG_JOB_COMMAND);
	struct step *step;

	if (command != NULL && *job != NULL && (*job)->n_steps > 0) {
		diag_error("%s has steps and a job command was given (%s); "
			   "use one or the other",
		    (*job)->file, config->values[CONFIG_JOB_COMMAND].origin);
		return -1;
	}
	if (command == NULL) {
		if (*job == NULL) {
			diag_error("no job to run: give a job file, or a job "
				   "command with --job-command or "
				   "REACTORCIDE_JOB_COMMAND");
			return -1;
		}
		if ((*job)->n_steps == 0) {
			diag_error("%s: the job has no steps: expected a "
				   "'steps' list",
			    (*job)->file);
			return -1;
		}
		return 0;
	}
	if (*job == NULL)
		*job = job_new(NULL);
	step = job_add_step(*job);
	step->name = xstrdup("main");
	step->run = xstrdup(command);
	return 0;
}

/* The job file's env:, then the job environment (--job-env) on top. */
static int
job_environment(
    const struct job *job, const struct config *config, struct nvlist *out)
{
	const char *spec = config_get(config, CONFIG_JOB_ENV);
	size_t i;
	char *error;

	for (i = 0; i < job->env.len; i++)
		nvlist_set(out, job->env.items[i].name, job->env.items[i].value,
		    job->env.items[i].pos);
	if (spec == NULL)
		return 0;
	if (envfile_load(
		out, spec, config->values[CONFIG_JOB_ENV].origin, &error) < 0) {
		diag_error("%s", error);
		free(error);
		return -1;
	}
	return 0;
}

/* ---- messages ---- */

/* A copy of text with every secret masked, for the files we leave. */
static char *
masked(const struct run *run, const char *text)
{
	size_t length;

	if (run->mask == NULL)
		return xstrdup(text);
	return mask_string(run->mask, text, strlen(text), &length);
}

/* Writes a message of jobrun's own to standard error, secrets masked. */
static void
masked_stderr(const char *message, void *context)
{
	size_t length;
	char *text = mask_string(context, message, strlen(message), &length);
	struct iovec iov[3] = { { (void *)(uintptr_t) "jobrun: ", 8 },
		{ text, diag_cut(text, length) },
		{ (void *)(uintptr_t) "\n", 1 } };

	fflush(stdout);
	diag_write(iov, 3);
	free(text);
}

/*
 * Before the console opens (sources, plugins' loading) and in the
 * supervisor: with --log-format json, jobrun's messages are JSON lines
 * on standard output, as the console writes them; else masked_stderr().
 */
static void
early_sink(const char *message, void *context)
{
	const struct run *run = context;
	size_t length;
	char *text, *line;

	if (!run->events) {
		masked_stderr(message, run->mask);
		return;
	}
	text = mask_string(run->mask, message, strlen(message), &length);
	line = console_message_line(text);
	free(text);
	if (line == NULL)
		return;
	fflush(stdout);
	if (file_write_all(STDOUT_FILENO, line, strlen(line)) < 0 ||
	    file_write_all(STDOUT_FILENO, "\n", 1) < 0) {
		/* standard output is gone: nowhere left to report */
	}
	wipe(line, strlen(line));
	free(line);
}

/* jobrun's own messages take the same path as the steps' output. */
static void
console_sink(const char *message, void *context)
{
	console_message(context, message);
}

/* Remembers why the job fails with 125 (the first reason counts). */
static int
fail(struct run *run, const char *why)
{
	if (run->error == NULL)
		run->error = xstrdup(why);
	if (run->lifecycle)
		lifecycle_set_fact(&run->lc, "error", why);
	return EXIT_JOBRUN_ERROR;
}

/* A signal that cancels the job, taken when pending: 128+N, else 0. */
static int
cancelled_status(void)
{
	static const int cancelling[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct timespec now = { 0, 0 };
	sigset_t set;
	int signo;
	size_t i;

	sigemptyset(&set);
	for (i = 0; i < sizeof(cancelling) / sizeof(cancelling[0]); i++)
		sigaddset(&set, cancelling[i]);
	signo = sigtimedwait(&set, NULL, &now);
	return signo > 0 ? EXIT_SIGNAL_BASE + signo : 0;
}

/*
 * A phase's hooks failed: with a signal that cancels the job pending (a
 * hook killed by it, as the steps would be), the job was cancelled (128+N);
 * else it fails with why (125).
 */
static int
phase_failed(struct run *run, const char *why)
{
	int status = cancelled_status();

	return status != 0 ? status : fail(run, why);
}

/* ---- the event stream (--log-format json) ---- */

/*
 * Writes event name with fields (taken) when the job has an event stream:
 * through the console, in order with the steps' output, or at once before
 * the console opens (and in the supervisor, after a crash).
 */
static void
emit_event(const struct run *run, const char *name, json_t *fields)
{
	char *line, *text;

	if (!run->events) {
		json_decref(fields);
		return;
	}
	if (run->console != NULL) {
		console_event(run->console, name, fields);
		return;
	}
	if ((line = console_event_line(run->mask, name, fields)) == NULL)
		return;
	text = xasprintf("%s\n", line);
	if (file_write_all(STDOUT_FILENO, text, strlen(text)) < 0) {
		/* standard output is gone: nowhere left to report */
	}
	free(text);
	free(line);
}

/* job_started, once the job's configuration and secrets are known. */
static void
start_events(struct run *run)
{
	run->events =
	    strcmp(config_get(&run->config, CONFIG_LOG_FORMAT), "json") == 0;
	emit_event(run, "job_started",
	    json_pack("{s:s}", "job", config_get(&run->config, CONFIG_NAME)));
}

static void
on_phase(void *context, enum jobrun_phase phase, bool finished, bool failed)
{
	const struct run *run = context;

	if (!finished)
		emit_event(run, "phase_started",
		    json_pack("{s:s}", "phase", jobrun_phase_name(phase)));
	else
		emit_event(run, "phase_finished",
		    json_pack("{s:s, s:s}", "phase", jobrun_phase_name(phase),
			"outcome", failed ? "failed" : "success"));
}

/* Lets the lifecycle report its phases as events. */
static void
lifecycle_start(struct run *run)
{
	lifecycle_init(
	    &run->lc, &run->config, run->job, &run->job_env, run->mask);
	run->lifecycle = true;
	run->lc.phase_event = on_phase;
	run->lc.phase_context = run;
}

/* ---- the job's files ---- */

static struct step_record record_of(const struct run *run, size_t index);

/* The reason of a step that never ran because the job ended first. */
#define ENDED_BEFORE "the job ended before it started"

static enum jobrun_outcome
outcome_of(const void *context, size_t index)
{
	return record_of(context, index).outcome;
}

/*
 * A step's record: the engine's; in the supervisor after a crash, what
 * the job process shared; "skipped" when it never ran.
 */
static struct step_record
record_of(const struct run *run, size_t index)
{
	struct step_record rec = { .outcome = JOBRUN_OUTCOME_SKIPPED,
		.exit_code = -1,
		.reason = ENDED_BEFORE };

	if (run->runner != NULL)
		return *runner_step(run->runner, index);
	if (run->shared != NULL && index < run->n_shared)
		rec = run->shared->steps[index];
	/* Cancelled, or timed out, before the engine began (during source
	 * preparation): the steps are cancelled with the job. */
	if (rec.outcome == JOBRUN_OUTCOME_SKIPPED && rec.reason != NULL &&
	    strcmp(rec.reason, ENDED_BEFORE) == 0) {
		if (run->ended == EXIT_JOB_TIMED_OUT) {
			rec.outcome = JOBRUN_OUTCOME_CANCELLED;
			rec.reason = "the job timed out";
		} else if (run->ended > EXIT_SIGNAL_BASE) {
			rec.outcome = JOBRUN_OUTCOME_CANCELLED;
			rec.reason = "cancelled";
		}
	}
	return rec;
}

/* The steps as result.json and the plugins know them. */
static size_t
step_count(const struct run *run)
{
	return run->job != NULL ? run->job->n_steps : 0;
}

/* A masked JSON string, or null for NULL. */
static json_t *
masked_value(const struct run *run, const char *text)
{
	json_t *value;
	char *copy;

	if (text == NULL)
		return json_null();
	copy = masked(run, text);
	value = json_string(copy);
	free(copy);
	return value != NULL ? value : json_null();
}

/* One prepared source for result.json, or null when none was. */
static json_t *
source_value(const struct run *run, const struct source_facts *facts)
{
	json_t *value;

	if (!facts->prepared)
		return json_null();
	value = json_object();
	json_object_set_new(value, "type", masked_value(run, facts->type));
	json_object_set_new(value, "url", masked_value(run, facts->url));
	json_object_set_new(value, "commit", masked_value(run, facts->commit));
	json_object_set_new(value, "ref", masked_value(run, facts->ref));
	json_object_set_new(value, "author", masked_value(run, facts->author));
	json_object_set_new(
	    value, "subject", masked_value(run, facts->subject));
	json_object_set_new(value, "depth", json_integer(facts->depth));
	return value;
}

/* {"ci_source": ..., "source": ...}: what the job's sources were. */
static json_t *
sources_value(const struct run *run)
{
	json_t *value = json_object();

	json_object_set_new(
	    value, "ci_source", source_value(run, &run->sources.ci_source));
	json_object_set_new(
	    value, "source", source_value(run, &run->sources.source));
	return value;
}

/* A copy of a JSON array of strings, each masked. */
static json_t *
masked_strings(const struct run *run, const json_t *strings)
{
	json_t *out = json_array(), *value;
	size_t i;
	char *text;

	json_array_foreach(strings, i, value)
	{
		if (!json_is_string(value))
			continue;
		text = masked(run, json_string_value(value));
		json_array_append_new(out, json_string(text));
		free(text);
	}
	return out;
}

/* "logs/NAME.log" (masked) when step index left a log, else NULL. */
static char *
log_of(const struct run *run, size_t index, const struct step_record *rec)
{
	const char *name = run->job->steps[index].name;
	char *relative, *path, *shown;
	struct stat st;
	bool found;

	if (rec->attempts == 0)
		return NULL;
	relative = xasprintf("logs/%s.log", name);
	path = workspace_file(&run->config, relative);
	found = lstat(path, &st) == 0 && S_ISREG(st.st_mode);
	shown = found ? masked(run, relative) : NULL;
	/* A name that became a secret during the run (registered by an
	 * earlier step): its log keeps the name, which is not shown. */
	if (shown != NULL && strcmp(shown, relative) != 0) {
		free(shown);
		shown = NULL;
	}
	free(path);
	free(relative);
	return shown;
}

/* The names of step index's outputs, masked. */
static json_t *
output_names(const struct run *run, const struct step_record *rec)
{
	json_t *names = json_array();
	size_t i;
	char *name;

	for (i = 0; rec->outputs != NULL && i < rec->outputs->len; i++) {
		name = masked(run, rec->outputs->items[i].name);
		json_array_append_new(names, json_string(name));
		free(name);
	}
	return names;
}

/* Fills step, one of write_result()'s, for step index; what it
 * allocates goes to result_step_release(). */
static void
result_step_fill(const struct run *run, size_t index, struct result_step *step)
{
	const struct step *job_step = &run->job->steps[index];
	struct step_record rec = record_of(run, index);

	step->name = masked(run, job_step->name);
	step->outcome = jobrun_outcome_name(rec.outcome);
	step->exit_code = rec.attempts > 0 ? rec.exit_code : -1;
	step->signal = rec.signal;
	step->oom_killed = rec.oom_killed;
	step->isolation =
	    rec.attempts > 0 ? sandbox_isolation_name(rec.isolation) : NULL;
	step->attempts = rec.attempts;
	step->started = rec.started;
	step->finished = rec.finished;
	step->duration_ms = rec.duration_ms;
	step->log = log_of(run, index, &rec);
	step->trusted = !sandbox_step_untrusted(run->job, job_step);
	step->continue_on_error = job_step->continue_on_error;
	step->reason = rec.reason;
	step->outputs = output_names(run, &rec);
}

static void
result_step_release(struct result_step *step)
{
	free((void *)(uintptr_t)step->name);
	free((void *)(uintptr_t)step->log);
	json_decref(step->outputs);
}

/*
 * Writes result.json: outcome NULL means the job is still running (written
 * at the start, so a reader finds the file from the first moment).
 * Returns 0, or -1 after a message.
 */
static int
write_result(const struct run *run, int status, const char *outcome)
{
	size_t i, n = step_count(run);
	struct result_step *steps = xcalloc(n + 1, sizeof(*steps));
	struct result result = { 0 };
	char *path, *error = NULL, *reason = NULL, *job;
	json_t *errors = NULL, *sources = NULL;
	int rc;

	for (i = 0; i < n; i++)
		result_step_fill(run, i, &steps[i]);
	result.job = job = masked(run, config_get(&run->config, CONFIG_NAME));
	result.outcome = outcome != NULL ? outcome : "running";
	result.exit_status = outcome != NULL ? status : -1;
	result.started = run->started;
	clock_gettime(CLOCK_REALTIME, &result.finished);
	result.duration_ms = clock_now_ms() - run->start_ms;
	result.steps = steps;
	result.n_steps = n;
	result.mask = run->mask;
	if (outcome != NULL && status == EXIT_JOBRUN_ERROR &&
	    run->error != NULL)
		result.error = reason = masked(run, run->error);
	result.signal = run->crash_signal;
	if (outcome != NULL)
		result.sources = sources = sources_value(run);
	if (outcome != NULL && run->lifecycle)
		result.trigger_errors = errors =
		    masked_strings(run, triggers_errors(run->lc.triggers));
	path = workspace_file(&run->config, "result.json");
	rc = result_write(path, &result, outcome != NULL, &error);
	if (rc < 0 && outcome != NULL) {
		/* The one written at the start says "running": never left to
		 * be taken for the truth.  Its room may be what was missing. */
		unlink(path);
		free(error);
		rc = result_write(path, &result, true, &error);
		if (rc < 0)
			diag_error("%s (the result.json of the job's start is "
				   "removed: it said the job was running)",
			    error);
	} else if (rc < 0) {
		diag_error("%s", error);
	}
	free(error);
	free(path);
	free(reason);
	json_decref(errors);
	json_decref(sources);
	for (i = 0; i < n; i++)
		result_step_release(&steps[i]);
	free(steps);
	free(job);
	return rc;
}

/* The job's facts for a trigger's if: (names only; see triggers.h). */
static const char *
trigger_lookup(void *context, const char *name)
{
	const struct run *run = context;
	struct facts facts = { .config = &run->config,
		.job_env = &run->job_env,
		.plan = run->planned ? &run->plan : NULL,
		.outcome = outcome_of,
		.context = run };

	return facts_lookup(&facts, name);
}

/* In local mode, what would run next, one line each. */
static void
print_next(void *context, const char *line)
{
	(void)context;
	if (strncmp(line, "next: ", 6) == 0)
		diag_error("%s", line);
	else
		diag_error("next: %s", line);
}

/*
 * On Kubernetes, /dev/termination-log (JOBRUN_TERMINATION_LOG for tests)
 * says how the container ended: a compact summary, when the file is there
 * and writable.  Failing to write it changes nothing.
 */
static void
write_termination_log(const struct run *run, int status)
{
	const char *path = getenv("JOBRUN_TERMINATION_LOG");
	json_t *facts, *counts;
	const char *name;
	char *text;
	size_t i;
	int fd;

	if (path == NULL || path[0] == '\0')
		path = "/dev/termination-log";
	if (access(path, W_OK) < 0)
		return;
	counts = json_object();
	for (i = 0; i < step_count(run); i++) {
		name = jobrun_outcome_name(outcome_of(run, i));
		json_object_set_new(counts, name,
		    json_integer(
			json_integer_value(json_object_get(counts, name)) + 1));
	}
	facts = json_pack("{s:s, s:s, s:i, s:I, s:o}", "job",
	    config_get(&run->config, CONFIG_NAME), "outcome",
	    lifecycle_status_name(status), "exit_status", status, "steps",
	    (json_int_t)step_count(run), "step_outcomes", counts);
	if (facts == NULL)
		return;
	text = trigger_file_summary(run->lc.triggers, facts, run->mask);
	json_decref(facts);
	/* Not in the workspace, but never a FIFO that blocks us either. */
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd >= 0) {
		if (file_write_all(fd, text, strlen(text)) < 0)
			diag_warn(
			    "cannot write '%s': %s", path, strerror(errno));
		close(fd);
	}
	free(text);
}

/*
 * Decides the triggers and writes triggers.json and outputs.json, once,
 * at the end of the job.  A limit exceeded is reported and leaves the
 * status alone; only a file that cannot be written is jobrun's failure.
 */
/* Before any step: whether the triggers file can be written.  Returns 0,
 * or -1 after a message. */
static int
check_triggers_file(const struct run *run)
{
	char *path = workspace_triggers_file(&run->config), *error = NULL;
	int rc = file_check_writable(path, &error);

	if (rc < 0) {
		diag_error("%s", error);
		free(error);
	}
	free(path);
	return rc;
}

static int
write_triggers(struct run *run, int status)
{
	struct expr_facts facts = { trigger_lookup, NULL, run };
	struct triggers_outcome outcome = { lifecycle_status_name(status),
		status == EXIT_JOB_SUCCESS,
		(run->runner != NULL && runner_cancel_signal(run->runner)) ||
		    status >= EXIT_SIGNAL_BASE,
		&facts };
	char *error = NULL, *path;
	int rc;

	if (triggers_decide(run->lc.triggers, &outcome, &error) < 0) {
		diag_error("%s", error);
		free(error);
	}
	path = workspace_triggers_file(&run->config);
	rc = trigger_file_write(run->lc.triggers, path,
	    config_get(&run->config, CONFIG_NAME), run->mask, &error);
	free(path);
	if (rc != 0) {
		diag_error("%s", error);
		free(error);
	}
	if (rc < 0) {
		fail(run, "cannot write triggers.json");
		return -1;
	}
	if (config_number(&run->config, CONFIG_LOCAL) != 0 && run->planned)
		trigger_file_describe(
		    run->lc.triggers, run->mask, print_next, NULL);
	path = workspace_file(&run->config, "outputs.json");
	rc = trigger_file_write_outputs(
	    run->lc.triggers, path, run->mask, &error);
	free(path);
	if (rc < 0) {
		diag_error("%s", error);
		free(error);
	}
	return rc;
}

/* artifacts/summary.md from the steps' summaries; a failure is only
 * reported. */
static void
write_summaries(const struct run *run)
{
	size_t i, n = step_count(run);
	const char **summaries = xcalloc(n + 1, sizeof(*summaries));
	char *error = NULL;

	for (i = 0; run->runner != NULL && i < n; i++)
		summaries[i] = runner_step(run->runner, i)->summary;
	if (step_summary_write(config_get(&run->config, CONFIG_WORKSPACE),
		summaries, n, run->mask, &error) < 0) {
		diag_warn("the step summaries are lost: %s", error);
		free(error);
	}
	free(summaries);
}

/*
 * The end of every job that got as far as its workspace: teardown
 * phases, then the files.  Returns the final status.
 */
/* After the grace period, how long secrets already handed to the masker
 * are still waited for: their work is bounded (a job registers at most
 * CTL_SERVER_SECRET_BYTES_JOB), a few seconds at most. */
#define SETTLE_HARD_MS 60000

/*
 * Secrets still on their way into the mask set when the steps ended (a
 * request that was never answered: its step ended, or was killed, while
 * it waited; a request still being read or parsed) are masked before
 * jobrun writes anything more.  The loop turns until no request is in
 * progress and every secret handed over is masked, for the grace period;
 * after it, requests still arriving are given up, but the secrets already
 * handed over are still waited for (bounded work), so none of them is
 * left out of the files.  A connection that sent nothing is not waited
 * for.
 */
static void
settle_registrations(struct run *run)
{
	uint64_t now, deadline, hard;
	int wait, due;
	bool settled;

	if (run->control == NULL || run->loop == NULL)
		return;
	deadline =
	    clock_now_ms() + config_ms(&run->config, CONFIG_GRACE_PERIOD);
	hard = deadline + SETTLE_HARD_MS;
	/* What the socket holds already is read first. */
	if (loop_once(run->loop, 0) < 0)
		return;
	for (;;) {
		now = clock_now_ms();
		due = ctl_server_expire(run->control, now);
		settled = run->registering == NULL ||
		    mask_async_settled(run->registering,
			mask_async_ticket(run->registering), NULL);
		if (settled &&
		    (now >= deadline || !ctl_server_busy(run->control)))
			return;
		if (now >= hard) {
			diag_warn("secrets registered as the job ended were "
				  "not ready to mask within %d s",
			    SETTLE_HARD_MS / 1000);
			return;
		}
		wait = hard - now < 100 ? (int)(hard - now) : 100;
		if (due >= 0 && due < wait)
			wait = due;
		if (loop_once(run->loop, wait) < 0)
			return;
	}
}

/* A workspace removed while the job ran is made again for the results. */
static void
repin_workspace(const struct run *run)
{
	char *error = NULL;
	bool removed;

	if (workspace_repin(&run->config, &removed, &error) < 0) {
		diag_error("%s", error);
		free(error);
	} else if (removed) {
		diag_warn("the workspace '%s' was removed while the job ran (a "
			  "step's git clean?): its logs are lost; the result "
			  "files go to a new one",
		    config_get(&run->config, CONFIG_WORKSPACE));
	}
}

static int
finish(struct run *run, int status)
{
	const char *name = lifecycle_status_name(status);

	run->ended = status;
	settle_registrations(run);
	if (run->lifecycle)
		lifecycle_teardown(&run->lc, status);
	/* A job that is not valid got its one message already. */
	if (run->planned)
		diag_error("job '%s': %s",
		    config_get(&run->config, CONFIG_NAME), name);
	repin_workspace(run);
	write_summaries(run);
	if (write_triggers(run, status) < 0)
		status = EXIT_JOBRUN_ERROR;
	if (write_result(run, status, lifecycle_status_name(status)) < 0)
		status = EXIT_JOBRUN_ERROR;
	write_termination_log(run, status);
	emit_event(run, "job_finished",
	    json_pack("{s:s, s:s, s:i, s:I}", "job",
		config_get(&run->config, CONFIG_NAME), "outcome",
		lifecycle_status_name(status), "exit_status", status,
		"duration_ms", (json_int_t)(clock_now_ms() - run->start_ms)));
	return status;
}

/* ---- plugins' view of the steps ---- */

/*
 * Plugins see a step's name masked (junit.xml, notifications): it may have
 * become a secret during the run, registered by an earlier step.
 */
static void
show_name(struct run *run, size_t index, struct jobrun_step *view)
{
	const char *name = run->job->steps[index].name;
	char *shown;

	if (run->mask == NULL)
		return;
	shown = masked(run, name);
	if (strcmp(shown, name) == 0) {
		free(shown);
		return;
	}
	if (run->shown_names == NULL)
		run->shown_names =
		    xcalloc(step_count(run), sizeof(*run->shown_names));
	free(run->shown_names[index]);
	run->shown_names[index] = shown;
	view->name = shown;
}

/* Brings the plugins' view of step index up to date. */
static void
publish_step(struct run *run, size_t index)
{
	struct lifecycle *lc = &run->lc;
	struct step_record rec = record_of(run, index);
	struct jobrun_step *view;
	struct stat st;
	char *log;

	if (index >= lc->n_steps)
		return;
	view = &lc->steps[index];
	show_name(run, index, view);
	view->outcome = rec.outcome;
	view->attempts = rec.attempts;
	view->exit_code =
	    rec.attempts > 0 && rec.signal == 0 ? rec.exit_code : -1;
	view->signal = rec.signal;
	view->duration_ms = rec.duration_ms;
	if (run->workspace.logs_path == NULL || rec.attempts == 0 ||
	    lc->step_logs[index] != NULL)
		return;
	log = xasprintf(
	    "%s/%s.log", run->workspace.logs_path, run->job->steps[index].name);
	if (stat(log, &st) == 0) {
		lc->step_logs[index] = log;
		view->log_file = log;
	} else {
		free(log);
	}
}

static void
publish_all(struct run *run)
{
	size_t i;

	for (i = 0; i < step_count(run); i++)
		publish_step(run, i);
}

/* ---- the engine's events ---- */

/* What the supervisor will know of step index if the job process dies. */
static void
share_record(struct run *run, size_t index, enum jobrun_outcome outcome)
{
	if (run->shared == NULL || index >= run->n_shared)
		return;
	run->shared->steps[index] = *runner_step(run->runner, index);
	run->shared->steps[index].outcome = outcome;
	run->shared->steps[index].outputs = NULL;
	run->shared->steps[index].summary = NULL;
}

static bool
on_step_starting(void *context, size_t index)
{
	struct run *run = context;

	/* Should the job process die now, this step was running. */
	share_record(run, index, JOBRUN_OUTCOME_CANCELLED);
	return lifecycle_step(&run->lc, JOBRUN_PHASE_BEFORE_STEP, index) == 0;
}

static void
on_attempt_started(void *context, size_t index)
{
	struct run *run = context;

	emit_event(run, "step_started",
	    json_pack("{s:s, s:i}", "step", run->job->steps[index].name,
		"attempt", (int)runner_step(run->runner, index)->attempts));
}

/* step_finished: how step index ended. */
static void
step_finished_event(struct run *run, size_t index)
{
	const struct step_record *rec = runner_step(run->runner, index);
	json_t *fields;

	fields = json_pack("{s:s, s:s}", "step", run->job->steps[index].name,
	    "outcome", jobrun_outcome_name(rec->outcome));
	if (fields == NULL)
		return;
	json_object_set_new(fields, "exit_status",
	    rec->attempts > 0 && rec->signal == 0 && rec->exit_code >= 0
		? json_integer(rec->exit_code)
		: json_null());
	json_object_set_new(fields, "signal",
	    rec->signal != 0 ? json_integer(rec->signal) : json_null());
	json_object_set_new(fields, "attempt", json_integer(rec->attempts));
	json_object_set_new(
	    fields, "duration_ms", json_integer((json_int_t)rec->duration_ms));
	json_object_set_new(fields, "reason",
	    rec->reason != NULL ? json_string(rec->reason) : json_null());
	emit_event(run, "step_finished", fields);
}

static void
on_step_finished(void *context, size_t index)
{
	struct run *run = context;

	step_finished_event(run, index);

	share_record(run, index, runner_step(run->runner, index)->outcome);
	publish_step(run, index);
	if (runner_step(run->runner, index)->attempts > 0)
		lifecycle_step(&run->lc, JOBRUN_PHASE_AFTER_STEP, index);
}

static void
on_step_environment(void *context, size_t index, struct nvlist *extra)
{
	struct run *run = context;
	const char *path;

	(void)index;
	if (run->control == NULL)
		return;
	path = ctl_server_path(run->control);
	nvlist_set(extra, "JOBRUN_SOCKET", path, (struct srcpos){ 0, 0 });
	nvlist_set(
	    extra, "REACTORCIDE_SECRETS_SOCKET", path, (struct srcpos){ 0, 0 });
}

static int
on_step_user(void *context, size_t index, uid_t uid, char **error)
{
	struct run *run = context;

	(void)index;
	return run->control != NULL
	    ? ctl_server_allow_uid(run->control, uid, CTL_PEER_UNTRUSTED, error)
	    : 0;
}

static int
on_tick(void *context, uint64_t now)
{
	struct run *run = context;

	return run->control != NULL ? ctl_server_expire(run->control, now) : -1;
}

static const struct runner_events engine_events = {
	.step_starting = on_step_starting,
	.attempt_started = on_attempt_started,
	.step_finished = on_step_finished,
	.step_environment = on_step_environment,
	.step_user = on_step_user,
	.tick = on_tick,
};

/* ---- the control socket ---- */

/* Copies of the credentials inside registered secrets that are
 * documents (secrets_structured_each()). */
struct members {
	char **values;
	size_t *lengths;
	size_t n, cap;
	int depth; /* in a member: those inside it too, once */
};

static void
keep_member(void *context, const char *value, size_t length)
{
	struct members *m = context;

	if (m->depth == 0) {
		m->depth++;
		secrets_structured_each(value, length, keep_member, m);
		m->depth--;
	}
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 8;
		m->values =
		    xreallocarray(m->values, m->cap, sizeof(*m->values));
		m->lengths =
		    xreallocarray(m->lengths, m->cap, sizeof(*m->lengths));
	}
	m->values[m->n] = xmalloc(length + 1);
	memcpy(m->values[m->n], value, length);
	m->lengths[m->n++] = length;
}

/*
 * The credentials inside the registered secrets join the set as secrets
 * of their own, as those of the job's secrets do (secrets.c): directly,
 * or after kept[0, *accepted) for the worker (kept has room).  One that
 * cannot be masked is left out without a word: the client registered the
 * document, which is masked.
 */
static void
register_members(struct run *run, char **kept, size_t *kept_lengths,
    long *accepted, struct members *m, bool untrusted)
{
	char *error = NULL;
	size_t i;
	int rc;

	for (i = 0; i < m->n; i++) {
		if (run->registering != NULL)
			rc = mask_set_check(
			    run->mask, m->values[i], m->lengths[i], &error);
		else if (untrusted)
			rc = mask_set_add_untrusted(
			    run->mask, m->values[i], m->lengths[i], &error);
		else
			rc = mask_set_add(
			    run->mask, m->values[i], m->lengths[i], &error);
		free(error);
		error = NULL;
		if (rc == 0 && run->registering != NULL) {
			kept[*accepted] = m->values[i];
			kept_lengths[(*accepted)++] = m->lengths[i];
		}
	}
}

/*
 * A register request from the control socket: each secret joins the mask
 * set, then every stream rescans what it holds back; only then does the
 * client get its reply.  With the worker, the secrets are checked here
 * and handed to it (mask-async.h), and the reply waits for their level
 * (on_settled(), registration_settled()).
 */
static long
on_register(void *context, char *const *values, const size_t *lengths, size_t n,
    bool untrusted, char **error)
{
	struct run *run = context;
	struct members members = { 0 };
	long accepted = 0, given;
	char **kept;
	size_t *kept_lengths;
	size_t i;
	int rc = 0;

	for (i = 0; i < n; i++)
		secrets_structured_each(
		    values[i], lengths[i], keep_member, &members);
	kept = xcalloc(n + members.n + 1, sizeof(*kept));
	kept_lengths = xcalloc(n + members.n + 1, sizeof(*kept_lengths));

	for (i = 0; i < n; i++) {
		if (run->registering != NULL)
			rc = mask_set_check(
			    run->mask, values[i], lengths[i], error);
		else if (untrusted)
			rc = mask_set_add_untrusted(
			    run->mask, values[i], lengths[i], error);
		else
			rc = mask_set_add(
			    run->mask, values[i], lengths[i], error);
		if (rc < 0)
			break;
		if (rc == 1) {
			diag_warn("a secret registered over the control socket "
				  "is too short to mask safely and is not "
				  "masked");
			free(*error);
			*error = NULL;
			continue;
		}
		kept[accepted] = values[i];
		kept_lengths[accepted++] = lengths[i];
	}
	given = accepted;
	if (rc == 0)
		register_members(
		    run, kept, kept_lengths, &accepted, &members, untrusted);
	/* Those accepted before a refusal are masked all the same, as
	 * mask_set_add() did for them on the path without the worker. */
	if (run->registering != NULL && accepted > 0)
		mask_async_add(run->registering, kept, kept_lengths,
		    (size_t)accepted, untrusted);
	else if (run->console != NULL)
		console_rescan(run->console);
	for (i = 0; i < members.n; i++) {
		wipe(members.values[i], members.lengths[i]);
		free(members.values[i]);
	}
	free(members.values);
	free(members.lengths);
	free(kept);
	free(kept_lengths);
	return rc < 0 ? -1 : given;
}

/* Secrets registered off the loop are masked now: the streams look at
 * what they hold again; the control socket answers on its next tick. */
static void
on_settled(void *context)
{
	struct run *run = context;

	if (run->console != NULL)
		console_rescan(run->console);
}

static uint64_t
registration_ticket(void *context)
{
	struct run *run = context;

	return mask_async_ticket(run->registering);
}

static bool
registration_settled(void *context, uint64_t ticket, char **error)
{
	struct run *run = context;

	return mask_async_settled(run->registering, ticket, error);
}

static int
on_trigger(void *context, json_t *request, char **error)
{
	struct run *run = context;

	return triggers_add_request(run->lc.triggers, request, error);
}

static int
on_output_set(void *context, json_t *request, char **error)
{
	struct run *run = context;

	return triggers_set_output(run->lc.triggers, request, error);
}

/* ---- stages ---- */

static enum console_format
choose_format(const struct run *run)
{
	const char *format = config_get(&run->config, CONFIG_LOG_FORMAT);

	if (strcmp(format, "json") == 0)
		return CONSOLE_JSON;
	/* Lines carry their step's name only when steps can overlap. */
	return config_number(&run->config, CONFIG_JOBS) > 1 &&
		run->plan.n_steps > 1
	    ? CONSOLE_PREFIXED
	    : CONSOLE_PLAIN;
}

/* Whether the plan has an untrusted step. */
static bool
has_untrusted(const struct run *run)
{
	size_t i;

	for (i = 0; i < run->plan.n_steps; i++)
		if (sandbox_step_untrusted(
			run->plan.job, run->plan.steps[i].step))
			return true;
	return false;
}

/*
 * Before anything is prepared: with an untrusted step in the plan, the
 * containment model must hold (sandbox_policy_init()), else the job is
 * refused here.  Returns 0, or -1 after reporting.
 */
static int
check_containment(struct run *run)
{
	char *error;

	if (!(run->untrusted = has_untrusted(run)))
		return 0;
	if (sandbox_policy_init(&run->policy,
		config_get(&run->config, CONFIG_UNTRUSTED_USER),
		config_get(&run->config, CONFIG_ISOLATION), &error) < 0) {
		diag_error("%s", error);
		fail(run, error);
		free(error);
		return -1;
	}
	return 0;
}

/* The users untrusted steps run as, into uids (room for n_steps + 1);
 * their number, or -1 with *error. */
static long
untrusted_uids(const struct run *run, uid_t *uids, char **error)
{
	const struct plan *plan = &run->plan;
	struct sandbox ids = { 0 };
	const struct step *step;
	size_t i, n = 0;

	if (run->policy.switch_ids)
		uids[n++] = run->policy.uid;
	for (i = 0; i < plan->n_steps; i++) {
		step = plan->steps[i].step;
		if (!sandbox_step_untrusted(plan->job, step) ||
		    step->run_as == NULL)
			continue;
		if (sandbox_step_ids(&ids, &run->policy, step->run_as, error) <
		    0)
			return -1;
		uids[n++] = ids.uid;
	}
	return (long)n;
}

/*
 * With an untrusted step in the plan, once the workspace is open: builds
 * the seccomp filter, opens the code directory to the untrusted users
 * (sandbox_prepare_dirs()), and makes jobrun undumpable so that its memory
 * and environment are closed to the steps.  Returns 0, or -1 after
 * reporting.
 */
static int
prepare_sandbox(struct run *run)
{
	const struct config *config = &run->config;
	uid_t *uids;
	char *error = NULL;
	long n = -1;

	if (!run->untrusted)
		return 0;
	uids = xcalloc(run->plan.n_steps + 1, sizeof(*uids));
	if (sandbox_filter_build(&run->filter, &error) < 0 ||
	    (n = untrusted_uids(run, uids, &error)) < 0 ||
	    sandbox_prepare_dirs(config_get(config, CONFIG_CI_SOURCE_DIR),
		config_get(config, CONFIG_CODE_DIR),
		config_get(config, CONFIG_WORKSPACE), uids, (size_t)n,
		&error) < 0) {
		diag_error("%s", error);
		fail(run, error);
		free(error);
		free(uids);
		return -1;
	}
	free(uids);
	if (workspace_logs_private(&run->workspace, true) < 0) {
		diag_error("cannot close the logs to untrusted steps: %s",
		    strerror(errno));
		fail(run, "cannot close the logs to untrusted steps");
		return -1;
	}
	if (sandbox_protect_self() < 0) {
		diag_error("cannot close jobrun to untrusted steps: %s",
		    strerror(errno));
		fail(run, "cannot close jobrun to untrusted steps");
		return -1;
	}
	return 0;
}

/* The workspace, the loop, the control socket and the console. */
static int
open_workspace(struct run *run)
{
	char *error;

	if (workspace_open(&run->workspace, &run->config, &error) < 0) {
		diag_error("%s", error);
		fail(run, error);
		free(error);
		return -1;
	}
	if ((run->loop = loop_new()) == NULL) {
		diag_error("cannot start the event loop: %s", strerror(errno));
		fail(run, "cannot start the event loop");
		return -1;
	}
	run->control = ctl_server_open(run->loop, on_register, run, &error);
	if (run->control == NULL) {
		diag_error("%s", error);
		fail(run, error);
		free(error);
		return -1;
	}
	/* Without a thread, secrets are registered on the loop. */
	if ((run->worker = worker_new(run->loop, &error)) != NULL) {
		run->registering =
		    mask_async_new(run->mask, run->worker, on_settled, run);
		ctl_server_use_worker(run->control, run->worker);
		ctl_server_settle(
		    run->control, registration_ticket, registration_settled);
	} else {
		diag_warn("%s: large secrets registered over the control "
			  "socket hold the event loop",
		    error);
		free(error);
		error = NULL;
	}
	ctl_server_on(run->control, "trigger", on_trigger, run);
	ctl_server_on(run->control, "output", on_output_set, run);
	run->console =
	    console_new(choose_format(run), run->workspace.logs, run->mask);
	console_set_timestamps(
	    run->console, config_number(&run->config, CONFIG_TIMESTAMPS) != 0);
	console_attach(run->console, run->loop);
	diag_set_sink(console_sink, run->console);
	run->lc.output = run->console;
	run->lc.socket_path = ctl_server_path(run->control);
	return 0;
}

/* The engine whose steps the plugin watchdog kills before jobrun exits. */
static struct runner *watched;

/* In a signal handler (plugins.h): kills every step's process group. */
static void
kill_all_groups(void)
{
	runner_kill_all(watched);
}

/* PRE_EXECUTION, the steps, and the engine's records. */
static int
execute(struct run *run)
{
	struct runner_options options = {
		.plan = &run->plan,
		.config = &run->config,
		.job_env = &run->job_env,
		.mask = run->mask,
		.console = run->console,
		.loop = run->loop,
		.outputs_dir = run->workspace.outputs,
		.outputs_path = run->workspace.outputs_path,
		.filter = &run->filter,
		.policy = &run->policy,
		.has_untrusted = run->untrusted,
		.selected = run->selected,
		.shell_on_failure = run->cli->shell_on_failure,
		.events = &engine_events,
		.context = run,
		.job_start_ms = run->start_ms,
	};
	int status;

	if ((run->runner = runner_new(&options)) == NULL)
		return fail(run, "cannot watch signals");
	watched = run->runner;
	plugins_watchdog_on_fire(kill_all_groups);
	if (lifecycle_phase(&run->lc, JOBRUN_PHASE_PRE_EXECUTION) < 0) {
		/* A plugin refused the job, or it was cancelled meanwhile: no
		 * step runs. */
		status =
		    phase_failed(run, "a plugin's PRE_EXECUTION hook failed");
		if (status == EXIT_JOBRUN_ERROR)
			runner_skip_all(run->runner, "refused by a plugin");
		else
			runner_cancel_all(run->runner, "cancelled");
		publish_all(run);
		return status;
	}
	status = runner_run(run->runner);
	if (status == EXIT_JOBRUN_ERROR)
		fail(run, "the event loop failed");
	return status;
}

/* --until and --only: which steps run.  Returns 0, or -1 after a
 * message. */
static int
select_steps(struct run *run)
{
	char *error;

	if (step_select(&run->plan, run->cli->until, run->cli->only,
		&run->selected, &error) == 0)
		return 0;
	diag_error("%s", error);
	fail(run, error);
	free(error);
	return -1;
}

/* In a dry run: the steps --until or --only leave out, on one line. */
static void
print_unselected(FILE *out, const struct run *run)
{
	bool any = false;
	size_t i;

	for (i = 0; run->selected != NULL && i < run->plan.n_steps; i++) {
		if (run->selected[i])
			continue;
		fprintf(out, "%s%s", any ? ", " : "not selected (skipped): ",
		    run->plan.steps[i].step->name);
		any = true;
	}
	if (any)
		fputc('\n', out);
}

/* --dry-run's plan, masked: conditions and names may hold secrets. */
static void
print_dry_run(const struct run *run)
{
	char *text = NULL, *masked;
	size_t size = 0, length;
	FILE *out = open_memstream(&text, &size);

	if (out == NULL)
		diag_fatal(EXIT_JOBRUN_ERROR, "out of memory");
	plan_print_waves(out, &run->plan, config_get(&run->config, CONFIG_NAME),
	    config_ms(&run->config, CONFIG_TIMEOUT));
	print_unselected(out, run);
	if (fclose(out) != 0)
		diag_fatal(EXIT_JOBRUN_ERROR, "out of memory");
	masked = mask_string(run->mask, text, size, &length);
	fwrite(masked, 1, length, stdout);
	wipe(text, size);
	free(text);
	free(masked);
}

/*
 * The phases before the steps: validation, sources, plugins.  Returns 0
 * to go on, else the job's status (125, or 128+N when signal N cancelled
 * the job meanwhile).
 */
static int
prepare(struct run *run)
{
	const struct config *config = &run->config;
	int status;

	if (lifecycle_load(&run->lc) < 0)
		return fail(run, "a plugin could not be loaded or initialised");
	if (lifecycle_phase(&run->lc, JOBRUN_PHASE_PRE_VALIDATION) < 0)
		return phase_failed(
		    run, "a plugin's PRE_VALIDATION hook failed");
	if (run_build_plan(run->job, &run->plan) < 0 ||
	    source_check_dirs(config) < 0)
		return fail(run, "the job is not valid");
	run->planned = true;
	if (select_steps(run) < 0)
		return EXIT_JOBRUN_ERROR;
	if (check_containment(run) < 0)
		return EXIT_JOBRUN_ERROR;
	if (lifecycle_phase(&run->lc, JOBRUN_PHASE_POST_VALIDATION) < 0)
		return phase_failed(
		    run, "a plugin's POST_VALIDATION hook failed");
	if (lifecycle_phase(&run->lc, JOBRUN_PHASE_PRE_SOURCE_PREP) < 0)
		return phase_failed(
		    run, "a plugin's PRE_SOURCE_PREP hook failed");
	if ((status = cancelled_status()) != 0)
		return status;
	/* /job/ci, then /job/src, before any step; the job's timeout counts
	 * from jobrun's start. */
	if (config_ms(config, CONFIG_TIMEOUT) != 0)
		source_set_job_deadline(
		    run->start_ms + config_ms(config, CONFIG_TIMEOUT));
	status = source_prepare(config, run->job, &run->job_env, &run->sources);
	if (status == EXIT_JOBRUN_ERROR)
		return fail(run, "source preparation failed");
	if (status != 0)
		return status;
	if (lifecycle_load_ci(&run->lc) < 0)
		return fail(run,
		    "a plugin from the CI source could not be "
		    "loaded or initialised");
	if (lifecycle_phase(&run->lc, JOBRUN_PHASE_POST_SOURCE_PREP) < 0)
		return phase_failed(
		    run, "a plugin's POST_SOURCE_PREP hook failed");
	if ((status = cancelled_status()) != 0)
		return status;
	if (open_workspace(run) < 0 || prepare_sandbox(run) < 0)
		return EXIT_JOBRUN_ERROR;
	return 0;
}

/* What jobrun makes in a workspace, and --clean removes. */
static const char *const workspace_entries[] = { "logs", "outputs", "artifacts",
	"result.json", "outputs.json", "triggers.json" };

/*
 * --clean: in local mode, what earlier runs made in the workspace is
 * removed first: jobrun's own files and directories, and the source
 * directories it prepared (marked).  Nothing else, even when the
 * workspace is a directory of the user's.
 */
static int
clean_workspace(const struct run *run)
{
	const char *path = config_get(&run->config, CONFIG_WORKSPACE);
	struct dirent *entry;
	size_t i, length;
	char *target;
	DIR *dir;
	int fd;

	if (config_number(&run->config, CONFIG_LOCAL) == 0) {
		diag_error("--clean empties the local workspace only: '%s' is "
			   "not one (local mode is off)",
		    path);
		return -1;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0 || (dir = fdopendir(dup(fd))) == NULL) {
		diag_error("cannot clean the workspace '%s': %s", path,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	for (i = 0; i < sizeof(workspace_entries) / sizeof(*workspace_entries);
	     i++)
		file_remove_tree(fd, workspace_entries[i]);
	/* .NAME.jobrun-source marks a source directory NAME jobrun made. */
	while ((entry = readdir(dir)) != NULL) {
		length = strlen(entry->d_name);
		if (entry->d_name[0] != '.' || length <= 15 ||
		    strcmp(entry->d_name + length - 14, ".jobrun-source") != 0)
			continue;
		target = xstrndup(entry->d_name + 1, length - 15);
		file_remove_tree(fd, target);
		unlinkat(fd, entry->d_name, 0);
		free(target);
	}
	closedir(dir);
	close(fd);
	return 0;
}

/* workspace_pin(), reporting; -1 after a message. */
static int
pin_workspace(struct run *run)
{
	char *error = NULL;

	if (workspace_pin(&run->config, &error) == 0)
		return 0;
	diag_error("%s", error);
	free(error);
	return -1;
}

/*
 * A job file that is not valid has said why; the workspace is known all
 * the same (no job file sets it), so the truth is written there too.
 */
static void
job_file_invalid(struct run *run)
{
	const struct cli *cli = run->cli;
	struct config_flag flags[CLI_MAX_FLAGS];
	char *error = NULL;

	if (cli->dry_run)
		return;
	memcpy(flags, cli->flags, cli->n_flags * sizeof(flags[0]));
	if (config_build(&run->config, NULL, flags, cli->n_flags, &error) < 0) {
		free(error);
		return;
	}
	if (pin_workspace(run) < 0)
		return;
	workspace_remove_earlier(&run->config);
	run->workspace_known = true;
	fail(run, "the job file is not valid");
}

/* Whether text holds one of the job's secrets. */
static bool
holds_secret(const struct run *run, const char *text)
{
	char *shown = masked(run, text);
	bool secret = strcmp(shown, text) != 0;

	free(shown);
	return secret;
}

/*
 * A job or step name is shown everywhere (console prefixes, JSON fields,
 * log file names, junit.xml): one that holds a secret is refused before
 * anything shows it, without showing it here either.  Returns 0, or -1
 * after a message.
 */
static int
names_hold_no_secret(struct run *run)
{
	size_t i;
	char *why;

	if (holds_secret(run, config_get(&run->config, CONFIG_NAME))) {
		diag_error("the job's name holds a secret: rename the job");
		fail(run, "the job's name holds a secret");
		return -1;
	}
	for (i = 0; i < step_count(run); i++) {
		if (!holds_secret(run, run->job->steps[i].name))
			continue;
		why = xasprintf("the name of step %zu (in the order of the job "
				"file, from 1) holds a secret: rename the step",
		    i + 1);
		diag_error("%s", why);
		fail(run, why);
		free(why);
		return -1;
	}
	return 0;
}

/*
 * secrets.env_globs over the job's environment (the job file's env: and
 * the job env), from the start: hooks and triggers see it before any step
 * does.  Steps add plugins' env_set and outputs as each starts (attempt.c).
 */
static int
add_job_env_globs(struct mask_set *set, const struct run *run, char **error)
{
	const struct nvlist *env = &run->job_env;
	char **envp = xcalloc(env->len + 1, sizeof(*envp));
	size_t i;
	int rc;

	for (i = 0; i < env->len; i++)
		envp[i] =
		    xasprintf("%s=%s", env->items[i].name, env->items[i].value);
	rc = secrets_add_env_globs(
	    set, &run->job->secrets.env_globs, envp, true, error);
	for (i = 0; i < env->len; i++) {
		wipe(envp[i], strlen(envp[i]));
		free(envp[i]);
	}
	free(envp);
	return rc;
}

/* The run whose messages are held until its secrets are known. */
static struct run *configuring;

/*
 * The secrets known so far, as far as they can be read (errors ignored):
 * for messages written before the job's secrets are (diag_hold()), and the
 * result files of a run that failed before it knew them all.
 */
static struct mask_set *
early_mask(void)
{
	struct run *run = configuring;
	struct mask_set *set;
	char *error = NULL;

	if (run == NULL)
		return NULL;
	set = mask_set_new(NULL,
	    (size_t)config_number(&run->config, CONFIG_SECRET_MIN_LENGTH));
	if (set == NULL)
		return NULL;
	secrets_for_held_messages(true);
	secrets_collect_settings(set, run->cli->flags, run->cli->n_flags);
	if (run->job != NULL &&
	    secrets_collect(
		set, run->job, &run->config, &run->job_env, &error) == 0)
		add_job_env_globs(set, run, &error);
	free(error);
	error = NULL;
	/* A refused job file: the secrets of what could be read of it. */
	if (run->job == NULL && run->partial != NULL)
		secrets_collect(
		    set, run->partial, &run->config, &run->job_env, &error);
	secrets_for_held_messages(false);
	free(error);
	return set;
}

/*
 * Writes the messages still held (masked with early_mask()) while the run
 * is there to build it from, and forgets the run; returns status.
 */
static int
end_holding(int status)
{
	diag_release_early();
	configuring = NULL;
	return status;
}

/* Configuration, job, environment, secrets: what all else needs. */
static int
configure(struct run *run)
{
	const struct cli *cli = run->cli;
	char *error;

	if (cli->work_dir != NULL && chdir(cli->work_dir) < 0) {
		diag_error("cannot change to directory '%s': %s", cli->work_dir,
		    strerror(errno));
		return -1;
	}
	if (load_job(cli, &run->job, &run->partial) < 0) {
		job_file_invalid(run);
		return -1;
	}
	if (run_build_config(cli, run->job, &run->config) < 0)
		return -1;
	/* From here on the workspace is known: nothing of an earlier run
	 * may be taken for this one's. */
	if (cli->clean && !cli->dry_run && clean_workspace(run) < 0)
		return -1;
	if (!cli->dry_run && pin_workspace(run) < 0)
		return -1;
	workspace_remove_earlier(&run->config);
	run->workspace_known = !cli->dry_run;
	if (complete_job(&run->job, &run->config) < 0 ||
	    job_environment(run->job, &run->config, &run->job_env) < 0) {
		fail(run, "the job is not valid");
		return -1;
	}
	run->mask = mask_set_new("***",
	    (size_t)config_number(&run->config, CONFIG_SECRET_MIN_LENGTH));
	if (run->mask == NULL) {
		diag_error("cannot set up secret masking");
		fail(run, "cannot set up secret masking");
		return -1;
	}
	if (secrets_collect(
		run->mask, run->job, &run->config, &run->job_env, &error) < 0 ||
	    add_job_env_globs(run->mask, run, &error) < 0) {
		diag_error("%s", error);
		fail(run, error);
		free(error);
		return -1;
	}
	/* From here on, jobrun's own messages are masked too, whole, before
	 * any cut. */
	diag_set_mask(run->mask);
	diag_set_sink(early_sink, run);
	return names_hold_no_secret(run);
}

static void
release(struct run *run)
{
	size_t i;

	if (run->console != NULL)
		console_drain(run->console,
		    clock_now_ms() +
			config_ms(&run->config, CONFIG_GRACE_PERIOD));
	plugins_watchdog_record_to(NULL, 0);
	if (run->shared != NULL)
		munmap(run->shared, shared_size(run->n_shared));
	plugins_watchdog_on_fire(NULL);
	watched = NULL;
	diag_set_sink(NULL, NULL);
	if (run->lifecycle)
		lifecycle_release(&run->lc);
	diag_set_mask(NULL);
	runner_free(run->runner);
	console_free(run->console);
	ctl_server_close(run->control);
	worker_free(run->worker);
	mask_async_free(run->registering);
	loop_free(run->loop);
	/* Every step is over: the logs are for whoever reads the results. */
	if (run->untrusted &&
	    workspace_logs_private(&run->workspace, false) < 0)
		diag_warn("cannot open the logs again (they stay 0700): %s",
		    strerror(errno));
	workspace_close(&run->workspace);
	sandbox_filter_release(&run->filter);
	sandbox_policy_release(&run->policy);
	source_report_release(&run->sources);
	nvlist_release(&run->job_env);
	/* The process ends next (both the job process and the supervisor). */
	mask_set_discard(run->mask);
	plan_release(&run->plan);
	config_release(&run->config);
	for (i = 0; run->shown_names != NULL && i < step_count(run); i++)
		free(run->shown_names[i]);
	free(run->shown_names);
	job_free(run->job);
	job_free(run->partial);
	free(run->selected);
	free(run->error);
}

/*
 * In the supervisor, after the job process crashed: the truth as far as
 * the supervisor knows it (the steps' records the job process shared,
 * what had no outcome cancelled).  Returns 125.
 */
static int
record_crash(struct run *run, int signo, int exit_status)
{
	const char *words = run->shared != NULL ? run->shared->last_words : "";
	char *why = signo != 0
	    ? xasprintf("jobrun's job process was killed by signal %d (%s)",
		  signo, strsignal(signo))
	    : words[0] != '\0'
	    ? xasprintf("jobrun's job process exited with status %d before "
			"the job ended: %.*s",
		  exit_status, (int)sizeof(run->shared->last_words), words)
	    : xasprintf("jobrun's job process exited with status %d before "
			"the job ended",
		  exit_status);

	diag_error("%s", why);
	run->crash_signal = signo;
	fail(run, why);
	free(why);
	lifecycle_init(
	    &run->lc, &run->config, run->job, &run->job_env, run->mask);
	run->lifecycle = true;
	run->planned = run_build_plan(run->job, &run->plan) == 0;
	/* No plugin is loaded here: the teardown phases do not run. */
	run->lc.torn_down = true;
	return finish(run, EXIT_JOBRUN_ERROR);
}

/*
 * Starts the job process (supervisor.h).  Returns -1 in the job process,
 * which goes on with the job; in the supervisor, the job's exit status
 * once the job process is gone (125 when it crashed or could not start).
 */
static int
supervise(struct run *run)
{
	size_t i, n = step_count(run);
	int wait_status;
	void *shared;

	shared = mmap(NULL, shared_size(n), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared != MAP_FAILED) {
		run->shared = shared;
		run->n_shared = n;
		/* A step the job process never started was skipped. */
		for (i = 0; i < n; i++) {
			run->shared->steps[i].outcome = JOBRUN_OUTCOME_SKIPPED;
			run->shared->steps[i].exit_code = -1;
			run->shared->steps[i].reason = ENDED_BEFORE;
		}
	}
	switch (supervisor_fork(&wait_status)) {
	case 0:
		if (run->shared != NULL)
			plugins_watchdog_record_to(run->shared->last_words,
			    sizeof(run->shared->last_words));
		return -1;
	case 1:
		break;
	default:
		return fail(run, "cannot start the job process");
	}
	/* The job process wrote its files; ours would be stale copies. */
	run->workspace_known = false;
	/* Killed after it wrote the truth (in its clean-up): the truth
	 * stands. */
	if (run->shared != NULL && run->shared->ended)
		return run->shared->status;
	if (!WIFEXITED(wait_status))
		return record_crash(run, WTERMSIG(wait_status), 0);
	/* A plugin that called exit() ended the job process early. */
	if (run->shared != NULL && !run->shared->ended)
		return record_crash(run, 0, WEXITSTATUS(wait_status));
	return WEXITSTATUS(wait_status);
}

/* The workspace directory itself, so that the job's files can be
 * written there; -1 after a message. */
static int
make_workspace(struct run *run)
{
	char *error;
	int fd =
	    file_make_dirs(config_get(&run->config, CONFIG_WORKSPACE), &error);

	if (fd < 0) {
		diag_error("%s", error);
		free(error);
		return -1;
	}
	close(fd);
	return pin_workspace(run);
}

int
run_job(const struct cli *cli)
{
	struct run run = { .cli = cli,
		.job_env = NVLIST_INIT,
		.plan = PLAN_INIT,
		.workspace = WORKSPACE_INIT };
	int status;

	/* In a container started by `--runtime`: the secret bundle, before
	 * the configuration sees the environment.  Elsewhere, with a runtime:
	 * the job runs in a container (runtime-job.h). */
	configuring = &run;
	diag_hold(early_mask);
	if (bundle_receive() < 0)
		return end_holding(EXIT_JOBRUN_ERROR);
	if (runtime_job_wanted(cli) && !cli->dry_run) {
		end_holding(0);
		return runtime_job_run(cli);
	}
	clock_gettime(CLOCK_REALTIME, &run.started);
	run.start_ms = clock_now_ms();
	if (cli->shell_on_failure && !cli->dry_run && !debug_shell_possible()) {
		diag_error("--shell-on-failure needs a terminal: standard "
			   "input, output and error must be one");
		return end_holding(EXIT_JOBRUN_ERROR);
	}
	if (configure(&run) < 0) {
		status = EXIT_JOBRUN_ERROR;
		goto out;
	}
	if (cli->dry_run) {
		/* Nothing runs, plugins included. */
		status = EXIT_JOBRUN_ERROR;
		if (run_build_plan(run.job, &run.plan) == 0 &&
		    source_check_dirs(&run.config) == 0 &&
		    select_steps(&run) == 0) {
			print_dry_run(&run);
			status = EXIT_JOB_SUCCESS;
		}
		goto out;
	}
	start_events(&run);
	if ((status = supervise(&run)) >= 0)
		goto out;
	/* The job process.  Orphans of the steps come back to it. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		diag_warn("cannot become a subreaper: %s", strerror(errno));
	lifecycle_start(&run);
	/* A workspace where result.json cannot be written fails now, before
	 * any step runs, not silently at the end. */
	if (make_workspace(&run) < 0 || write_result(&run, 0, NULL) < 0) {
		status = fail(&run, "cannot write result.json");
		goto out;
	}
	/* So does one where triggers.json cannot be: a deploy step would
	 * have run, and the jobs after it be lost. */
	if (check_triggers_file(&run) < 0)
		status = fail(&run, "cannot write triggers.json");
	else if ((status = prepare(&run)) == 0)
		status = execute(&run);
	run.ended = status;
	publish_all(&run);
	status = finish(&run, status);
	if (run.runner != NULL)
		runner_end_children(run.runner);
out:
	/* The job process got to its end (the supervisor checks this only
	 * before it gets here). */
	if (run.shared != NULL) {
		run.shared->status = status;
		run.shared->ended = true;
	}
	if (run.workspace_known && !run.lifecycle) {
		/* Failed before the lifecycle: the truth is written anyway,
		 * masked with what secrets are known. */
		if (run.mask == NULL && (run.mask = early_mask()) != NULL)
			diag_set_mask(run.mask);
		lifecycle_start(&run);
		if (make_workspace(&run) == 0)
			status = finish(&run, status);
	}
	end_holding(0);
	release(&run);
	return status;
}
