/*
 * The step engine (runner.h).  The scheduler keeps, for each step, how many
 * dependencies are still unfinished; a step whose count drops to zero joins
 * a ready heap (earliest in the file first) and is decided when a slot is
 * free: cancelled, skipped (its condition, its dependencies' outcomes) or
 * started.  An attempt (attempt.c) ends when its main process has exited
 * and its pipe is at end of file; retries start the next attempt in the
 * same slot.
 *
 * The console may not keep up (a pipe nobody reads): the engine then stops
 * reading the steps' pipes, so back-pressure falls on the steps and never
 * on the loop, which goes on acting on deadlines, signals and children.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "attempt.h"
#include "clock.h"
#include "diag.h"
#include "facts.h"
#include "heap.h"
#include "reap.h"
#include "runner.h"
#include "xalloc.h"

void
runner_signals(sigset_t *out)
{
	sigemptyset(out);
	sigaddset(out, SIGCHLD);
	sigaddset(out, SIGINT);
	sigaddset(out, SIGTERM);
	sigaddset(out, SIGHUP);
	sigaddset(out, SIGQUIT);
}

static const char *
step_name(const struct runner *r, size_t index)
{
	return r->plan->steps[index].step->name;
}

/* ---- conditions ---- */

struct condition_context {
	struct runner *runner;
	size_t index;
};

/* A step that failed with continue_on_error still lets its dependants run. */
static bool
counts_as_success(const struct runner *r, size_t index)
{
	enum jobrun_outcome outcome = r->runs[index].record.outcome;

	if (r->selected != NULL && !r->selected[index])
		return true; /* taken as succeeded (--only) */
	return outcome == JOBRUN_OUTCOME_SUCCESS ||
	    (r->plan->steps[index].step->continue_on_error &&
		(outcome == JOBRUN_OUTCOME_FAILED ||
		    outcome == JOBRUN_OUTCOME_TIMED_OUT));
}

static enum jobrun_outcome
outcome_of(const void *context, size_t index)
{
	const struct runner *r = context;

	return r->runs[index].record.outcome;
}

static const char *
fact_lookup(void *context, const char *name)
{
	struct condition_context *c = context;
	struct facts facts = { .config = c->runner->config,
		.job_env = c->runner->job_env,
		.plan = c->runner->plan,
		.outcome = outcome_of,
		.context = c->runner };

	return facts_lookup(&facts, name);
}

static bool
fact_function(void *context, enum expr_function function)
{
	struct condition_context *c = context;
	const struct runner *r = c->runner;
	const struct plan_step *ps = &r->plan->steps[c->index];
	enum jobrun_outcome outcome;
	size_t k;

	switch (function) {
	case EXPR_ALWAYS:
		return true;
	case EXPR_CANCELLED:
		return r->cancel_signal != 0 || r->job_timed_out;
	case EXPR_SUCCESS:
		for (k = 0; k < ps->n_deps; k++)
			if (!counts_as_success(r, ps->deps[k]))
				return false;
		return true;
	case EXPR_FAILURE:
		/* A failure that continue_on_error forgave is no failure. */
		for (k = 0; k < ps->n_deps; k++) {
			outcome = r->runs[ps->deps[k]].record.outcome;
			if ((outcome == JOBRUN_OUTCOME_FAILED ||
				outcome == JOBRUN_OUTCOME_TIMED_OUT) &&
			    !r->plan->steps[ps->deps[k]]
				 .step->continue_on_error)
				return true;
		}
		return false;
	}
	return false;
}

/*
 * Why step index is skipped, or NULL when it runs.  A condition without
 * success(), failure(), ... also needs success().
 */
static const char *
skip_reason(struct runner *r, size_t index)
{
	const struct expr *condition = r->plan->steps[index].condition;
	struct condition_context context = { r, index };
	struct expr_facts facts = { fact_lookup, fact_function, &context };

	if (!expr_uses_status(condition) &&
	    !fact_function(&context, EXPR_SUCCESS))
		return "a dependency failed";
	if (condition != NULL && !expr_eval(condition, &facts))
		return "condition false";
	return NULL;
}

/* ---- finishing ---- */

static void
report_step(struct runner *r, size_t index)
{
	const struct step_record *rec = &r->runs[index].record;
	char how[80] = "", attempts[32] = "";

	if (rec->outcome == JOBRUN_OUTCOME_FAILED && rec->oom_killed &&
	    rec->signal != 0)
		snprintf(how, sizeof(how),
		    ", killed by signal %d from the OOM killer", rec->signal);
	else if (rec->outcome == JOBRUN_OUTCOME_FAILED && rec->oom_killed)
		snprintf(how, sizeof(how),
		    ", exit status %d: the OOM killer killed one of its "
		    "processes",
		    rec->exit_code);
	else if (rec->outcome == JOBRUN_OUTCOME_FAILED && rec->signal != 0)
		snprintf(
		    how, sizeof(how), ", killed by signal %d", rec->signal);
	else if (rec->outcome == JOBRUN_OUTCOME_FAILED)
		snprintf(how, sizeof(how), ", exit status %d", rec->exit_code);
	if (rec->attempts > 1)
		snprintf(attempts, sizeof(attempts), " after %u attempts",
		    rec->attempts);
	if ((rec->outcome == JOBRUN_OUTCOME_SKIPPED ||
		rec->outcome == JOBRUN_OUTCOME_CANCELLED) &&
	    rec->reason != NULL && strcmp(rec->reason, "cancelled") != 0)
		diag_error("step '%s': %s (%s)", step_name(r, index),
		    jobrun_outcome_name(rec->outcome), rec->reason);
	else if (rec->outcome == JOBRUN_OUTCOME_SKIPPED ||
	    rec->outcome == JOBRUN_OUTCOME_CANCELLED)
		diag_error("step '%s': %s", step_name(r, index),
		    jobrun_outcome_name(rec->outcome));
	else
		diag_error("step '%s': %s%s%s (%llu ms)", step_name(r, index),
		    jobrun_outcome_name(rec->outcome), how, attempts,
		    (unsigned long long)rec->duration_ms);
}

/* The status line: what runs, and how many steps are done and failed. */
static void
update_status(struct runner *r)
{
	char line[256];
	size_t i, used, failed = 0;

	for (i = 0; i < r->plan->n_steps; i++)
		if (r->runs[i].record.outcome == JOBRUN_OUTCOME_FAILED ||
		    r->runs[i].record.outcome == JOBRUN_OUTCOME_TIMED_OUT)
			failed++;
	used = (size_t)snprintf(line, sizeof(line),
	    "jobrun: %zu/%zu done, %zu failed, running:", r->n_done,
	    r->plan->n_steps, failed);
	for (i = 0; i < r->n_running && used < sizeof(line) - 1; i++)
		used += (size_t)snprintf(line + used, sizeof(line) - used,
		    " %s", step_name(r, r->running[i]));
	if (used >= sizeof(line) - 1)
		memcpy(line + sizeof(line) - 4, "...", 4);
	console_set_status(
	    r->console, r->n_done < r->plan->n_steps ? line : NULL);
}

void
runner_finish_step(struct runner *r, size_t index, enum jobrun_outcome outcome)
{
	const struct plan_step *ps = &r->plan->steps[index];
	struct step_run *run = &r->runs[index];
	size_t k, d;

	run->record.outcome = outcome;
	run->phase = RUN_DONE;
	r->n_done++;
	report_step(r, index);
	if (r->events->step_finished != NULL)
		r->events->step_finished(r->context, index);
	update_status(r);
	for (k = 0; k < ps->n_dependants; k++) {
		d = ps->dependants[k];
		if (--r->runs[d].waiting == 0) {
			r->runs[d].phase = RUN_READY;
			heap_push(&r->ready, d);
		}
	}
}

void
runner_remove_running(struct runner *r, size_t index)
{
	size_t i;

	for (i = 0; i < r->n_running; i++) {
		if (r->running[i] == index) {
			r->running[i] = r->running[--r->n_running];
			return;
		}
	}
}

/* ---- children and signals ---- */

static long
find_running(const struct runner *r, pid_t pid)
{
	size_t i;

	for (i = 0; i < r->n_running; i++)
		if (r->runs[r->running[i]].pid == pid)
			return (long)r->running[i];
	return -1;
}

/* The one reaper: every exited child, steps' and orphans' alike. */
static void
reap(struct runner *r)
{
	pid_t pid;
	long index;
	int status;

	while ((pid = reap_next(&status)) > 0) {
		if ((index = find_running(r, pid)) < 0)
			continue; /* an orphan, now gone */
		attempt_exited(r, (size_t)index, status);
	}
}

/*
 * An attempt whose main process has exited while its group still holds
 * the pipe: the wait for the pipe ends now (attempt_check() then signals
 * what is left in the group), with this outcome.
 */
static void
end_drain(struct step_run *run, enum jobrun_outcome ended_by, uint64_t now)
{
	if (run->ended_by == JOBRUN_OUTCOME_PENDING)
		run->ended_by = ended_by;
	run->drain_until = now;
}

static void
signal_running(struct runner *r, int signo)
{
	struct step_run *run;
	size_t i;

	for (i = 0; i < r->n_running; i++) {
		run = &r->runs[r->running[i]];
		if (run->pid <= 0) {
			end_drain(
			    run, JOBRUN_OUTCOME_CANCELLED, clock_now_ms());
			continue;
		}
		/* Begun after the first request (a clean-up step): killed
		 * by the job's cancel, not failed. */
		if (run->ended_by == JOBRUN_OUTCOME_PENDING)
			run->ended_by = JOBRUN_OUTCOME_CANCELLED;
		kill(-run->group, signo);
	}
}

static void
cancel(struct runner *r, int signo)
{
	struct step_run *run;
	uint64_t kill_at = clock_now_ms() + r->grace_ms;
	size_t i;

	if (r->cancel_signal != 0) {
		/* A second request: stop waiting politely. */
		r->aborting = true;
		signal_running(r, SIGKILL);
		return;
	}
	r->cancel_signal = signo;
	diag_error("received %s: cancelling the job", strsignal(signo));
	for (i = 0; i < r->n_running; i++) {
		run = &r->runs[r->running[i]];
		if (run->pid <= 0) {
			end_drain(
			    run, JOBRUN_OUTCOME_CANCELLED, clock_now_ms());
			continue;
		}
		run->ended_by = JOBRUN_OUTCOME_CANCELLED;
		kill(-run->group, signo);
		kill(-run->group, SIGCONT);
		if (run->kill_at == 0 || kill_at < run->kill_at)
			run->kill_at = kill_at;
	}
}

static void
on_signal(struct loop *loop, int fd, uint32_t events, void *data)
{
	struct runner *r = data;
	struct signalfd_siginfo info;
	bool child = false;

	(void)loop;
	(void)events;
	while (read(fd, &info, sizeof(info)) == (ssize_t)sizeof(info)) {
		if (info.ssi_signo == SIGCHLD)
			child = true;
		else
			cancel(r, (int)info.ssi_signo);
	}
	if (child)
		reap(r);
}

/* ---- deadlines ---- */

static void
time_out(struct runner *r, struct step_run *run, uint64_t now)
{
	if (run->pid == 0) {
		/* Its shell is gone, not what it left writing to the pipe. */
		end_drain(run, JOBRUN_OUTCOME_TIMED_OUT, now);
	} else {
		run->ended_by = JOBRUN_OUTCOME_TIMED_OUT;
		kill(-run->group, SIGTERM);
		kill(-run->group, SIGCONT);
		run->kill_at = now + r->grace_ms;
	}
	if (r->job_deadline != 0 && now >= r->job_deadline &&
	    !r->job_timed_out) {
		r->job_timed_out = true;
		diag_error("the job timed out");
	}
}

/* Ends the attempts whose main process exited and whose pipe's time is
 * up.  attempt_check() changes the running list, so collect them first. */
static void
close_quiet_pipes(struct runner *r, uint64_t now)
{
	size_t i, n = 0, *due = xcalloc(r->n_running + 1, sizeof(*due));

	for (i = 0; i < r->n_running; i++)
		if (r->runs[r->running[i]].pid == 0 &&
		    now >= r->runs[r->running[i]].drain_until)
			due[n++] = r->running[i];
	for (i = 0; i < n; i++)
		attempt_check(r, due[i]);
	free(due);
}

static uint64_t
earliest(uint64_t next, uint64_t t)
{
	return t != 0 && t < next ? t : next;
}

/* Acts on one running step's deadlines; returns the next one. */
static uint64_t
step_deadlines(struct runner *r, struct step_run *run, uint64_t now)
{
	uint64_t next = UINT64_MAX;

	/* Also once the main process has exited, while the pipe is read. */
	if (run->ended_by == JOBRUN_OUTCOME_PENDING && run->deadline != 0 &&
	    now >= run->deadline)
		time_out(r, run, now);
	if (run->kill_at != 0 && now >= run->kill_at) {
		kill(-run->group, SIGKILL);
		run->kill_at = 0;
	}
	if (run->ended_by == JOBRUN_OUTCOME_PENDING)
		next = earliest(next, run->deadline);
	next = earliest(next, run->kill_at);
	if (run->pid == 0)
		next = earliest(next, run->drain_until);
	if (run->idle_at != 0 && now >= run->idle_at) {
		console_stream_idle(run->stream);
		run->idle_at = 0;
	}
	return earliest(next, run->idle_at);
}

/* Acts on every deadline that has passed; returns ms to the next, or -1. */
static int
check_deadlines(struct runner *r)
{
	uint64_t now = clock_now_ms(), next = UINT64_MAX;
	int owner_wait;
	size_t i;

	for (i = 0; i < r->n_running; i++)
		next = earliest(
		    next, step_deadlines(r, &r->runs[r->running[i]], now));
	if (r->events->tick != NULL &&
	    (owner_wait = r->events->tick(r->context, now)) >= 0)
		next = earliest(next, now + (uint64_t)owner_wait);
	for (i = 0; i < r->n_leftovers; i++) {
		if (now >= r->leftovers[i].kill_at) {
			kill(-r->leftovers[i].group, SIGKILL);
			r->leftovers[i--] = r->leftovers[--r->n_leftovers];
			continue;
		}
		next = earliest(next, r->leftovers[i].kill_at);
	}
	close_quiet_pipes(r, now);
	if (next == UINT64_MAX)
		return -1;
	return clock_wait_ms(next);
}

/* ---- the console's back-pressure ---- */

/*
 * While the console is behind, the steps' pipes are not read (their
 * writers block on a full pipe); once it has caught up they are read
 * again.  The loop itself never waits for the console.
 */
static void
pace_pipes(struct runner *r)
{
	bool behind = console_behind(r->console);
	size_t i;

	if (behind == r->pipes_paused)
		return;
	r->pipes_paused = behind;
	for (i = 0; i < r->n_running; i++)
		attempt_watch(r, r->running[i], !behind);
}

/* ---- scheduling ---- */

static void
start_step(struct runner *r, size_t index)
{
	struct step_run *run = &r->runs[index];

	run->stream = console_stream_open(r->console, step_name(r, index));
	if (sandbox_step_untrusted(r->plan->job, r->plan->steps[index].step))
		console_stream_untrusted(run->stream);
	else
		console_stream_trusted(run->stream);
	r->running[r->n_running++] = index;
	run->start_ms = clock_now_ms();
	clock_gettime(CLOCK_REALTIME, &run->record.started);
	attempt_start(r, index);
	update_status(r);
}

/*
 * Once the job is cancelled or timed out, only steps whose condition calls
 * always() or cancelled() may still run (clean-up steps); a second signal
 * stops even those.
 */
static bool
runs_when_cancelled(const struct runner *r, size_t index)
{
	const struct expr *condition = r->plan->steps[index].condition;

	return !r->aborting && condition != NULL &&
	    (expr_calls(condition, EXPR_ALWAYS) ||
		expr_calls(condition, EXPR_CANCELLED));
}

static bool
owner_allows(struct runner *r, size_t index)
{
	if (r->events->step_starting == NULL ||
	    r->events->step_starting(r->context, index))
		return true;
	diag_error("step '%s': not started: a plugin's BEFORE_STEP hook "
		   "failed",
	    step_name(r, index));
	r->runs[index].record.exit_code = -1;
	return false;
}

/* Ends step index without running it, for reason. */
static void
never_runs(struct runner *r, size_t index, enum jobrun_outcome outcome,
    const char *reason)
{
	r->runs[index].record.reason = reason;
	runner_finish_step(r, index, outcome);
}

/* Decides ready steps while there are free slots. */
static void
schedule(struct runner *r)
{
	const char *reason;
	size_t index;

	while (r->ready.len > 0 && (long)r->n_running < r->slots) {
		index = heap_pop(&r->ready);
		if (r->selected != NULL && !r->selected[index])
			never_runs(
			    r, index, JOBRUN_OUTCOME_SKIPPED, "not selected");
		else if ((r->cancel_signal != 0 || r->job_timed_out) &&
		    !runs_when_cancelled(r, index))
			never_runs(r, index, JOBRUN_OUTCOME_CANCELLED,
			    r->cancel_signal != 0 ? "cancelled"
						  : "the job timed out");
		else if ((reason = skip_reason(r, index)) != NULL)
			never_runs(r, index, JOBRUN_OUTCOME_SKIPPED, reason);
		else if (!owner_allows(r, index))
			never_runs(r, index, JOBRUN_OUTCOME_FAILED,
			    "refused by a plugin");
		else
			start_step(r, index);
	}
}

/* ---- the job ---- */

/* The job's exit status from its steps' outcomes (runner.h). */
static int
job_status(const struct runner *r)
{
	bool failed = false, timed_out = r->job_timed_out;
	size_t i;

	if (r->cancel_signal != 0)
		return EXIT_SIGNAL_BASE + r->cancel_signal;
	for (i = 0; i < r->plan->n_steps; i++) {
		if (r->plan->steps[i].step->continue_on_error)
			continue;
		if (r->runs[i].record.outcome == JOBRUN_OUTCOME_FAILED)
			failed = true;
		if (r->runs[i].record.outcome == JOBRUN_OUTCOME_TIMED_OUT)
			timed_out = true;
	}
	if (timed_out)
		return EXIT_JOB_TIMED_OUT;
	return failed ? EXIT_JOB_FAILED : EXIT_JOB_SUCCESS;
}

void
runner_end_children(struct runner *r)
{
	size_t i;

	for (i = 0; r != NULL && i < r->plan->n_steps; i++)
		attempt_end_untrusted(r, i);
	for (i = 0; r != NULL && i < r->n_leftovers; i++)
		kill(-r->leftovers[i].group, SIGKILL);
	if (r != NULL)
		r->n_leftovers = 0;
	reap_all();
}

/*
 * Runs steps until every one has an outcome; false if the loop failed.
 * The wait is computed after the last step was started, so a step started
 * in this round has its deadline counted.
 */
static bool
run_steps(struct runner *r)
{
	int timeout;

	for (;;) {
		schedule(r);
		timeout = check_deadlines(r);
		if (r->n_done == r->plan->n_steps)
			return true;
		/* Deadlines may have ended steps and freed slots. */
		if (r->ready.len > 0 && (long)r->n_running < r->slots)
			continue;
		pace_pipes(r);
		if (loop_once(r->loop, timeout) < 0) {
			diag_error(
			    "the event loop failed: %s", strerror(errno));
			return false;
		}
	}
}

/* After a failure of jobrun itself: what has no outcome is cancelled. */
static void
abandon_steps(struct runner *r)
{
	size_t i;

	signal_running(r, SIGKILL);
	for (i = 0; i < r->plan->n_steps; i++) {
		if (r->runs[i].phase == RUN_DONE)
			continue;
		r->runs[i].record.outcome = JOBRUN_OUTCOME_CANCELLED;
		if (r->runs[i].record.attempts == 0)
			r->runs[i].record.reason = "cancelled";
	}
}

struct runner *
runner_new(const struct runner_options *options)
{
	static const struct runner_events no_events = { 0 };
	struct runner *r = xcalloc(1, sizeof(*r));
	size_t i, n = options->plan->n_steps;
	sigset_t signals;

	r->plan = options->plan;
	r->config = options->config;
	r->job_env = options->job_env;
	r->mask = options->mask;
	r->console = options->console;
	r->loop = options->loop;
	r->outputs_dir = options->outputs_dir;
	r->outputs_path = options->outputs_path;
	r->filter = options->filter;
	r->policy = options->policy;
	r->has_untrusted = options->has_untrusted;
	r->selected = options->selected;
	r->shell_on_failure = options->shell_on_failure;
	r->events = options->events != NULL ? options->events : &no_events;
	r->context = options->context;
	r->job_start_ms = options->job_start_ms;
	r->runs = xcalloc(n + 1, sizeof(*r->runs));
	r->running = xcalloc(n + 1, sizeof(*r->running));
	r->slots = (long)config_number(r->config, CONFIG_JOBS);
	r->grace_ms = config_ms(r->config, CONFIG_GRACE_PERIOD);
	oom_watch_open(&r->oom, "/sys/fs/cgroup", "/proc/self/cgroup");
	for (i = 0; i < n; i++) {
		r->runs[i].runner = r;
		r->runs[i].index = i;
		r->runs[i].pipe_fd = -1;
		r->runs[i].outputs_fd = -1;
		r->runs[i].summary_fd = -1;
		r->runs[i].status_fd = -1;
		r->runs[i].record.exit_code = -1;
		r->runs[i].record.outputs = &r->runs[i].outputs;
		r->runs[i].waiting = r->plan->steps[i].n_deps;
	}
	runner_signals(&signals);
	r->signal_fd = signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);
	if (r->signal_fd < 0 ||
	    loop_add(r->loop, r->signal_fd, EPOLLIN, on_signal, r) < 0) {
		diag_error("cannot watch signals: %s", strerror(errno));
		runner_free(r);
		return NULL;
	}
	return r;
}

int
runner_run(struct runner *r)
{
	uint64_t timeout = config_ms(r->config, CONFIG_TIMEOUT);
	size_t i;

	if (timeout != 0)
		r->job_deadline =
		    (r->job_start_ms != 0 ? r->job_start_ms : clock_now_ms()) +
		    timeout;
	for (i = 0; i < r->plan->n_steps; i++) {
		if (r->runs[i].waiting == 0) {
			r->runs[i].phase = RUN_READY;
			heap_push(&r->ready, i);
		}
	}
	if (!run_steps(r)) {
		abandon_steps(r);
		return EXIT_JOBRUN_ERROR;
	}
	return job_status(r);
}

/* Every step done with outcome and reason, none started. */
static void
end_all(struct runner *r, enum jobrun_outcome outcome, const char *reason)
{
	size_t i;

	for (i = 0; i < r->plan->n_steps; i++) {
		r->runs[i].record.outcome = outcome;
		r->runs[i].record.reason = reason;
		r->runs[i].phase = RUN_DONE;
	}
}

void
runner_skip_all(struct runner *r, const char *reason)
{
	end_all(r, JOBRUN_OUTCOME_SKIPPED, reason);
}

void
runner_cancel_all(struct runner *r, const char *reason)
{
	end_all(r, JOBRUN_OUTCOME_CANCELLED, reason);
}

const struct step_record *
runner_step(const struct runner *r, size_t index)
{
	return &r->runs[index].record;
}

int
runner_cancel_signal(const struct runner *r)
{
	return r->cancel_signal;
}

void
runner_kill_all(const struct runner *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n_running; i++)
		if (r->runs[r->running[i]].group > 0)
			kill(-r->runs[r->running[i]].group, SIGKILL);
	for (i = 0; i < r->n_leftovers; i++)
		kill(-r->leftovers[i].group, SIGKILL);
}

void
runner_free(struct runner *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->plan->n_steps; i++) {
		if (r->runs[i].pipe_fd >= 0) {
			loop_remove(r->loop, r->runs[i].pipe_fd);
			close(r->runs[i].pipe_fd);
		}
		console_stream_close(r->runs[i].stream);
		nvlist_release(&r->runs[i].outputs);
		if (r->runs[i].status_fd >= 0)
			close(r->runs[i].status_fd);
		free(r->runs[i].cgroup);
		if (r->runs[i].outputs_fd >= 0)
			close(r->runs[i].outputs_fd);
		if (r->runs[i].summary_fd >= 0)
			close(r->runs[i].summary_fd);
		if (r->runs[i].summary != NULL)
			wipe(r->runs[i].summary, strlen(r->runs[i].summary));
		free(r->runs[i].summary);
		free(r->runs[i].start_error);
	}
	if (r->signal_fd >= 0) {
		loop_remove(r->loop, r->signal_fd);
		close(r->signal_fd);
	}
	oom_watch_close(&r->oom);
	heap_release(&r->ready);
	free(r->runs);
	free(r->running);
	free(r->leftovers);
	free(r->shell_name);
	free(r->shell_search);
	free(r->shell_path);
	free(r);
}
