/*
 * The step engine (runner.h).  The scheduler keeps, for each step, how many
 * dependencies are still unfinished; a step whose count drops to zero joins
 * a ready heap (earliest in the file first) and is decided when a slot is
 * free: cancelled, skipped (its condition, its dependencies' outcomes) or
 * started.  An attempt ends when its main process has exited and its pipe
 * is at end of file.  When something it left behind keeps the pipe open,
 * the pipe is closed once it has been silent for LEFTOVER_QUIET_MS, or at
 * the latest a grace period after the exit; only then is what is left in
 * the step's process group sent SIGTERM (and SIGKILL LEFTOVER_GRACE_MS
 * later), so a forwarder such as tee can still deliver the last lines.
 * Retries start the next attempt in the same slot.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctl-server.h"
#include "clock.h"
#include "diag.h"
#include "envscrub.h"
#include "file.h"
#include "heap.h"
#include "lifecycle.h"
#include "loop.h"
#include "oom.h"
#include "output.h"
#include "outputs.h"
#include "proc.h"
#include "result.h"
#include "sandbox.h"
#include "runner.h"
#include "stepenv.h"
#include "trigger-file.h"
#include "triggers.h"
#include "xalloc.h"

/* How long what a step left behind may take to go after SIGTERM. */
#define LEFTOVER_GRACE_MS 2000
/* After the main process exited, a pipe silent this long is closed: what
 * holds it open is then a daemon, not output still on its way. */
#define LEFTOVER_QUIET_MS 100
/* A stream silent this long lets its masker emit what it held back. */
#define MASK_QUIET_MS 200

/* Bytes read from a pipe per callback, so one chatty step cannot starve
 * the others. */
#define READ_CHUNK (64 * 1024)
#define READS_PER_CALLBACK 4

enum phase {
	PHASE_WAITING, /* for dependencies */
	PHASE_READY, /* in the ready heap */
	PHASE_RUNNING, /* an attempt is under way */
	PHASE_DONE,
};

struct step_run {
	struct runner *runner;
	size_t index;
	enum phase phase;
	enum step_outcome outcome;
	size_t waiting; /* unfinished dependencies */
	unsigned attempts;
	pid_t pid; /* the attempt's main process; 0 once it exited */
	pid_t group; /* its process group */
	int pipe_fd; /* read end of its output; -1 once closed */
	struct output_stream *stream;
	int exit_code;
	int signal;
	uint64_t oom_kills; /* the cgroup's OOM kill count at the start */
	bool oom_killed; /* the attempt failed while that count rose */
	enum step_outcome ended_by; /* what jobrun did to the attempt */
	uint64_t deadline; /* of the attempt; 0: none */
	uint64_t kill_at; /* SIGKILL time after SIGTERM; 0: none */
	uint64_t drain_until; /* after the exit: close the pipe at this time */
	uint64_t drain_cap; /* drain_until never goes past this */
	uint64_t idle_at; /* when the masker may flush what it holds */
	uint64_t start_ms;
	struct timespec started;
	struct timespec finished;
	uint64_t duration_ms;
	char *outputs_file;
	struct nvlist outputs;
};

/* A process group a finished step left behind, to be killed. */
struct leftover {
	pid_t group;
	uint64_t kill_at;
};

struct runner {
	const struct plan *plan;
	const struct config *config;
	const struct nvlist *job_env;
	struct loop *loop;
	struct output *output;
	struct step_run *runs;
	struct heap ready;
	size_t *running; /* indices of steps in PHASE_RUNNING */
	size_t n_running;
	size_t n_done;
	long slots;
	struct leftover *leftovers;
	size_t n_leftovers;
	size_t leftovers_cap;
	int signal_fd;
	int cancel_signal; /* the first SIGINT/SIGTERM/... received */
	bool aborting; /* a second signal came: run nothing more */
	bool job_timed_out;
	uint64_t job_deadline; /* 0: none */
	uint64_t grace_ms;
	struct oom_watch oom;
	char *outputs_dir;
	struct mask_set *mask;
	struct ctl_server *control;
	struct triggers *triggers; /* the lifecycle's */
	struct lifecycle *lifecycle;
	const char *log_dir;
	char *shell_name; /* the last shell looked up, */
	char *shell_search; /* along this PATH, */
	char *shell_path; /* found here (NULL: not found) */
	struct sandbox_filter filter; /* built when a step is untrusted */
};

const char *
outcome_name(enum step_outcome outcome)
{
	switch (outcome) {
	case OUTCOME_PENDING:
		return "pending";
	case OUTCOME_SUCCESS:
		return "success";
	case OUTCOME_FAILED:
		return "failed";
	case OUTCOME_TIMED_OUT:
		return "timed_out";
	case OUTCOME_CANCELLED:
		return "cancelled";
	case OUTCOME_SKIPPED:
		return "skipped";
	}
	return "pending";
}

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

static uint64_t
min_time(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
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
	enum step_outcome outcome = r->runs[index].outcome;

	return outcome == OUTCOME_SUCCESS ||
	    (r->plan->steps[index].step->continue_on_error &&
		(outcome == OUTCOME_FAILED || outcome == OUTCOME_TIMED_OUT));
}

static const char *
fact_lookup(void *context, const char *name)
{
	struct condition_context *c = context;
	const struct config *config = c->runner->config;
	const struct nvpair *pair;
	char *step_name;
	size_t length;
	long step;

	if (strcmp(name, "branch") == 0)
		return config_get(config, CONFIG_BRANCH);
	if (strcmp(name, "event") == 0)
		return config_get(config, CONFIG_EVENT);
	if (strcmp(name, "job") == 0)
		return config_get(config, CONFIG_NAME);
	if (strncmp(name, "env.", 4) == 0) {
		pair = nvlist_get(c->runner->job_env, name + 4);
		return pair != NULL ? pair->value : getenv(name + 4);
	}
	if (strncmp(name, "steps.", 6) != 0)
		return NULL;
	step_name = xstrdup(name + 6);
	length = strlen(step_name);
	step = plan_find(c->runner->plan, step_name);
	if (step < 0 && length > 8 &&
	    strcmp(step_name + length - 8, ".outcome") == 0) {
		step_name[length - 8] = '\0';
		step = plan_find(c->runner->plan, step_name);
	}
	free(step_name);
	return step >= 0 ? outcome_name(c->runner->runs[step].outcome) : NULL;
}

static bool
fact_function(void *context, enum expr_function function)
{
	struct condition_context *c = context;
	const struct plan_step *ps = &c->runner->plan->steps[c->index];
	enum step_outcome outcome;
	size_t k;

	switch (function) {
	case EXPR_ALWAYS:
		return true;
	case EXPR_CANCELLED:
		return c->runner->cancel_signal != 0 ||
		    c->runner->job_timed_out;
	case EXPR_SUCCESS:
		for (k = 0; k < ps->n_deps; k++)
			if (!counts_as_success(c->runner, ps->deps[k]))
				return false;
		return true;
	case EXPR_FAILURE:
		/* A failure that continue_on_error forgave is no failure. */
		for (k = 0; k < ps->n_deps; k++) {
			outcome = c->runner->runs[ps->deps[k]].outcome;
			if ((outcome == OUTCOME_FAILED ||
				outcome == OUTCOME_TIMED_OUT) &&
			    !c->runner->plan->steps[ps->deps[k]]
				 .step->continue_on_error)
				return true;
		}
		return false;
	}
	return false;
}

/* A condition without success(), failure(), ... also needs success(). */
static bool
should_run(struct runner *r, size_t index)
{
	const struct expr *condition = r->plan->steps[index].condition;
	struct condition_context context = { r, index };
	struct expr_facts facts = { fact_lookup, fact_function, &context };

	if (!expr_uses_status(condition) &&
	    !fact_function(&context, EXPR_SUCCESS))
		return false;
	return condition == NULL || expr_eval(condition, &facts);
}

/* ---- finishing ---- */

static void
report_step(struct runner *r, size_t index)
{
	const struct step_run *run = &r->runs[index];
	char how[80] = "", attempts[32] = "";

	if (run->outcome == OUTCOME_FAILED && run->oom_killed &&
	    run->signal != 0)
		snprintf(how, sizeof(how),
		    ", killed by signal %d from the OOM killer", run->signal);
	else if (run->outcome == OUTCOME_FAILED && run->oom_killed)
		snprintf(how, sizeof(how),
		    ", exit status %d: the OOM killer killed one of its "
		    "processes",
		    run->exit_code);
	else if (run->outcome == OUTCOME_FAILED && run->signal != 0)
		snprintf(
		    how, sizeof(how), ", killed by signal %d", run->signal);
	else if (run->outcome == OUTCOME_FAILED)
		snprintf(how, sizeof(how), ", exit status %d", run->exit_code);
	if (run->attempts > 1)
		snprintf(attempts, sizeof(attempts), " after %u attempts",
		    run->attempts);
	if (run->outcome == OUTCOME_SKIPPED ||
	    run->outcome == OUTCOME_CANCELLED)
		diag_error("step '%s': %s", step_name(r, index),
		    outcome_name(run->outcome));
	else
		diag_error("step '%s': %s%s%s (%llu ms)", step_name(r, index),
		    outcome_name(run->outcome), how, attempts,
		    (unsigned long long)run->duration_ms);
}

/* The status line: what runs, and how many steps are done and failed. */
static void
update_status(struct runner *r)
{
	char line[256];
	size_t i, used, failed = 0;

	for (i = 0; i < r->plan->n_steps; i++)
		if (r->runs[i].outcome == OUTCOME_FAILED ||
		    r->runs[i].outcome == OUTCOME_TIMED_OUT)
			failed++;
	used = (size_t)snprintf(line, sizeof(line),
	    "jobrun: %zu/%zu done, %zu failed, running:", r->n_done,
	    r->plan->n_steps, failed);
	for (i = 0; i < r->n_running && used < sizeof(line) - 1; i++)
		used += (size_t)snprintf(line + used, sizeof(line) - used,
		    " %s", step_name(r, r->running[i]));
	if (used >= sizeof(line) - 1)
		memcpy(line + sizeof(line) - 4, "...", 4);
	output_set_status(
	    r->output, r->n_done < r->plan->n_steps ? line : NULL);
}

/* Brings the plugins' view of step index up to date. */
static void
publish_step(struct runner *r, size_t index)
{
	static const enum jobrun_outcome outcomes[] = {
		[OUTCOME_PENDING] = JOBRUN_OUTCOME_PENDING,
		[OUTCOME_SUCCESS] = JOBRUN_OUTCOME_SUCCESS,
		[OUTCOME_FAILED] = JOBRUN_OUTCOME_FAILED,
		[OUTCOME_TIMED_OUT] = JOBRUN_OUTCOME_TIMED_OUT,
		[OUTCOME_CANCELLED] = JOBRUN_OUTCOME_CANCELLED,
		[OUTCOME_SKIPPED] = JOBRUN_OUTCOME_SKIPPED,
	};
	struct lifecycle *lc = r->lifecycle;
	const struct step_run *run = &r->runs[index];
	struct jobrun_step *view;
	struct stat st;
	char *log;

	if (index >= lc->n_steps)
		return;
	view = &lc->steps[index];
	view->outcome = outcomes[run->outcome];
	view->attempts = run->attempts;
	view->exit_code =
	    run->attempts > 0 && run->signal == 0 ? run->exit_code : -1;
	view->signal = run->signal;
	view->duration_ms = run->duration_ms;
	if (r->log_dir == NULL || run->attempts == 0 ||
	    lc->step_logs[index] != NULL)
		return;
	log = xasprintf("%s/%s.log", r->log_dir, step_name(r, index));
	if (stat(log, &st) == 0) {
		lc->step_logs[index] = log;
		view->log_file = log;
	} else {
		free(log);
	}
}

/* Records the final outcome of a step and releases its dependants. */
static void
finish(struct runner *r, size_t index, enum step_outcome outcome)
{
	const struct plan_step *ps = &r->plan->steps[index];
	struct step_run *run = &r->runs[index];
	size_t k, d;

	run->outcome = outcome;
	run->phase = PHASE_DONE;
	r->n_done++;
	report_step(r, index);
	publish_step(r, index);
	if (run->attempts > 0)
		lifecycle_step(r->lifecycle, JOBRUN_PHASE_AFTER_STEP, index);
	update_status(r);
	for (k = 0; k < ps->n_dependants; k++) {
		d = ps->dependants[k];
		if (--r->runs[d].waiting == 0) {
			r->runs[d].phase = PHASE_READY;
			heap_push(&r->ready, d);
		}
	}
}

/* ---- attempts ---- */

static void on_output(struct loop *loop, int fd, uint32_t events, void *data);

/* The outputs of the step's direct dependencies, as variables. */
static void
dependency_outputs(const struct runner *r, size_t index, struct nvlist *out)
{
	const struct plan_step *ps = &r->plan->steps[index];
	const struct nvlist *outputs;
	char *name;
	size_t k, i;

	for (k = 0; k < ps->n_deps; k++) {
		outputs = &r->runs[ps->deps[k]].outputs;
		for (i = 0; i < outputs->len; i++) {
			name = outputs_variable(
			    step_name(r, ps->deps[k]), outputs->items[i].name);
			nvlist_set(out, name, outputs->items[i].value,
			    outputs->items[i].pos);
			free(name);
		}
	}
}

/* Creates the attempt's pipe; returns the write end, or -1. */
static int
open_pipe(struct step_run *run, char **error)
{
	int fds[2];

	if (pipe2(fds, O_CLOEXEC) < 0) {
		*error = xasprintf("cannot create a pipe: %s", strerror(errno));
		return -1;
	}
	/* A larger pipe lets a fast writer run ahead of the console. */
	fcntl(fds[0], F_SETPIPE_SZ, 1024 * 1024);
	fcntl(fds[0], F_SETFL, O_NONBLOCK | fcntl(fds[0], F_GETFL));
	run->pipe_fd = fds[0];
	return fds[1];
}

/*
 * Finds the shell's program along PATH, remembering the last answer:
 * nearly every step uses the same shell and PATH, and the search costs a
 * stat(2) per PATH entry.
 */
static char *
find_shell(struct runner *r, const char *name, const char *path)
{
	path = path != NULL ? path : "";
	if (r->shell_name == NULL || strcmp(r->shell_name, name) != 0 ||
	    strcmp(r->shell_search, path) != 0) {
		free(r->shell_name);
		free(r->shell_search);
		free(r->shell_path);
		r->shell_name = xstrdup(name);
		r->shell_search = xstrdup(path);
		r->shell_path = proc_find_program(name, path);
	}
	return r->shell_path != NULL ? xstrdup(r->shell_path) : NULL;
}

/*
 * A run_as step cannot create files in jobrun's outputs directory: its
 * outputs file is created empty (no outputs) and handed to it instead.
 */
static int
give_outputs_file(const char *path, const struct sandbox *sandbox, char **error)
{
	int fd = open(
	    path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0 || fchown(fd, sandbox->uid, sandbox->gid) < 0) {
		*error = xasprintf("cannot hand the outputs file '%s' to the "
				   "run_as user: %s",
		    path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Starts the step's program; returns the child's pid, -1 if none. */
static pid_t
spawn_step(struct runner *r, size_t index, int output_fd, char **error)
{
	const struct step *step = r->plan->steps[index].step;
	struct step_run *run = &r->runs[index];
	const char *shell =
	    step->shell ? step->shell : config_get(r->config, CONFIG_SHELL);
	struct nvlist extra = NVLIST_INIT;
	struct proc_spec spec = { 0 };
	struct sandbox sandbox = { 0 };
	char **argv, **envp, *program = NULL, *workdir;
	pid_t pid = -1;

	dependency_outputs(r, index, &extra);
	nvlist_set(&extra, "JOBRUN_OUTPUT", run->outputs_file,
	    (struct srcpos){ 0, 0 });
	if (r->control != NULL) {
		nvlist_set(&extra, "JOBRUN_SOCKET", ctl_server_path(r->control),
		    (struct srcpos){ 0, 0 });
		nvlist_set(&extra, "REACTORCIDE_SECRETS_SOCKET",
		    ctl_server_path(r->control), (struct srcpos){ 0, 0 });
	}
	argv = stepenv_argv(shell, step->run);
	envp =
	    stepenv_build(r->config, step, run->attempts, r->job_env, &extra);
	spec.cwd = stepenv_workdir(r->config, step, &workdir);
	if (sandbox_step_untrusted(r->plan->job, step)) {
		envscrub_apply(envp, r->mask, r->plan->job, r->config);
		sandbox.filter = &r->filter;
		spec.sandbox = &sandbox;
		if (step->run_as != NULL &&
		    sandbox_ids(&sandbox, step->run_as, error) == 0 &&
		    give_outputs_file(run->outputs_file, &sandbox, error) ==
			0 &&
		    r->control != NULL)
			ctl_server_allow_uid(
			    r->control, sandbox.uid, CTL_PEER_UNTRUSTED, error);
	}
	if (*error != NULL) /* from sandbox_ids() or ctl_server_allow_uid() */
		program = NULL;
	else if (argv[0] == NULL || strcmp(argv[0], "-c") == 0)
		*error = xstrdup("the shell is empty");
	else if ((program = find_shell(
		      r, argv[0], stepenv_get(envp, "PATH"))) == NULL)
		*error = xasprintf("cannot run shell '%s': not found", argv[0]);
	if (*error == NULL) {
		spec.path = program;
		spec.argv = argv;
		spec.envp = envp;
		spec.output_fd = output_fd;
		spec.process_group = true;
		proc_spawn(&pid, &spec, error);
	}
	free(program);
	free(workdir);
	stepenv_free(argv);
	stepenv_free(envp);
	nvlist_release(&extra);
	return pid;
}

/* Each attempt starts with no outputs; the step creates the file if it
 * writes one (creating files costs more than spawning a step). */
static void
reset_outputs(struct step_run *run)
{
	if (run->attempts > 1)
		unlink(run->outputs_file);
	nvlist_release(&run->outputs);
}

/*
 * The attempt's deadline: its own timeout and the job's.  A step started
 * after the job was cancelled or timed out (a clean-up step) gets the
 * grace period at most, so clean-up cannot hang the job either.
 */
static uint64_t
attempt_deadline(const struct runner *r, const struct step *step)
{
	uint64_t now = clock_now_ms(), deadline = 0;

	if (step->timeout_ms != 0)
		deadline = now + step->timeout_ms;
	if (r->cancel_signal != 0 || r->job_timed_out)
		return deadline != 0 ? min_time(deadline, now + r->grace_ms)
				     : now + r->grace_ms;
	if (r->job_deadline != 0 &&
	    (deadline == 0 || r->job_deadline < deadline))
		deadline = r->job_deadline;
	return deadline;
}

static void
start_attempt(struct runner *r, size_t index)
{
	const struct step *step = r->plan->steps[index].step;
	struct step_run *run = &r->runs[index];
	char *error = NULL;
	int write_fd;

	run->attempts++;
	if (run->attempts > 1)
		diag_error("step '%s': attempt %u of %lld", step->name,
		    run->attempts, step->retries + 1);
	run->phase = PHASE_RUNNING;
	run->pid = 0;
	run->ended_by = OUTCOME_PENDING;
	run->exit_code = -1;
	run->signal = 0;
	run->oom_kills = oom_watch_kills(&r->oom);
	run->oom_killed = false;
	run->kill_at = 0;
	run->drain_until = 0;
	run->drain_cap = 0;
	reset_outputs(run);
	write_fd = open_pipe(run, &error);
	if (write_fd >= 0) {
		run->pid = spawn_step(r, index, write_fd, &error);
		close(write_fd);
	}
	if (run->pipe_fd >= 0 &&
	    loop_add(r->loop, run->pipe_fd, EPOLLIN, on_output, run) < 0 &&
	    error == NULL)
		error = xasprintf(
		    "cannot watch the step's output: %s", strerror(errno));
	if (error != NULL) {
		diag_error("step '%s': %s", step->name, error);
		free(error);
		/* No child: the attempt is over already. */
		if (run->pid <= 0)
			run->pid = 0;
	}
	run->group = run->pid;
	run->deadline = attempt_deadline(r, step);
	if (run->pid == 0) {
		run->exit_code = -1;
		run->drain_until = clock_now_ms();
	}
}

static void
close_pipe(struct runner *r, struct step_run *run)
{
	if (run->pipe_fd < 0)
		return;
	loop_remove(r->loop, run->pipe_fd);
	close(run->pipe_fd);
	run->pipe_fd = -1;
}

/*
 * Reads what the pipe holds, at most READS_PER_CALLBACK chunks so that a
 * step (or what it left behind) writing without pause cannot keep the loop
 * from its deadlines and signals; closes the pipe at end of file.
 */
static void
drain(struct runner *r, struct step_run *run)
{
	char buf[READ_CHUNK];
	ssize_t n;
	int reads = 0;

	while (run->pipe_fd >= 0 && reads++ < READS_PER_CALLBACK) {
		n = read(run->pipe_fd, buf, sizeof(buf));
		if (n > 0) {
			output_stream_write(run->stream, buf, (size_t)n);
			wipe(buf, (size_t)n);
			run->idle_at = clock_now_ms() + MASK_QUIET_MS;
			if (run->pid == 0)
				run->drain_until = min_time(run->drain_cap,
				    clock_now_ms() + LEFTOVER_QUIET_MS);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		close_pipe(r, run);
	}
}

static void
remember_leftover(struct runner *r, pid_t group)
{
	if (group <= 0 || kill(-group, 0) < 0)
		return;
	kill(-group, SIGTERM);
	kill(-group, SIGCONT);
	xgrow(&r->leftovers, &r->leftovers_cap, r->n_leftovers + 1,
	    sizeof(*r->leftovers));
	r->leftovers[r->n_leftovers].group = group;
	r->leftovers[r->n_leftovers].kill_at =
	    clock_now_ms() + LEFTOVER_GRACE_MS;
	r->n_leftovers++;
}

static enum step_outcome
attempt_outcome(const struct step_run *run)
{
	if (run->ended_by != OUTCOME_PENDING)
		return run->ended_by;
	return run->exit_code == 0 && run->signal == 0 ? OUTCOME_SUCCESS
						       : OUTCOME_FAILED;
}

static void
read_outputs(struct runner *r, size_t index)
{
	struct step_run *run = &r->runs[index];
	char *error;

	if (outputs_load(&run->outputs, run->outputs_file, &error) < 0) {
		diag_warn("step '%s': outputs ignored: %s", step_name(r, index),
		    error);
		free(error);
		nvlist_release(&run->outputs);
	}
}

static void
remove_running(struct runner *r, size_t index)
{
	size_t i;

	for (i = 0; i < r->n_running; i++) {
		if (r->running[i] == index) {
			r->running[i] = r->running[--r->n_running];
			return;
		}
	}
}

/*
 * Ends the attempt when its main process has exited and its pipe is
 * closed; then retries it or finishes the step.
 */
static void
check_attempt(struct runner *r, size_t index)
{
	const struct step *step = r->plan->steps[index].step;
	struct step_run *run = &r->runs[index];
	enum step_outcome outcome;

	if (run->phase != PHASE_RUNNING || run->pid != 0)
		return;
	if (run->pipe_fd >= 0 && clock_now_ms() < run->drain_until)
		return;
	close_pipe(r, run);
	remember_leftover(r, run->group);
	read_outputs(r, index);
	outcome = attempt_outcome(run);
	/* The kernel does not say whom it killed: a failure while the
	 * cgroup's count rose is put down to the OOM killer (oom.h). */
	run->oom_killed = outcome == OUTCOME_FAILED &&
	    oom_watch_kills(&r->oom) > run->oom_kills;
	if ((outcome == OUTCOME_FAILED || outcome == OUTCOME_TIMED_OUT) &&
	    run->attempts <= (unsigned)step->retries && r->cancel_signal == 0 &&
	    !r->job_timed_out) {
		start_attempt(r, index);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &run->finished);
	run->duration_ms = clock_now_ms() - run->start_ms;
	output_stream_close(run->stream);
	run->stream = NULL;
	remove_running(r, index);
	finish(r, index, outcome);
}

static void
on_output(struct loop *loop, int fd, uint32_t events, void *data)
{
	struct step_run *run = data;

	drain(run->runner, run);
	check_attempt(run->runner, run->index);
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
	struct step_run *run;
	pid_t pid;
	long index;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if ((index = find_running(r, pid)) < 0)
			continue; /* an orphan, now gone */
		run = &r->runs[index];
		run->pid = 0;
		if (WIFEXITED(status)) {
			run->exit_code = WEXITSTATUS(status);
		} else if (WIFSIGNALED(status)) {
			run->exit_code = -1;
			run->signal = WTERMSIG(status);
		}
		/* The pipe stays open until end of file, or until it is
		 * quiet; what is left in the group goes after that. */
		run->drain_cap = clock_now_ms() + r->grace_ms;
		run->drain_until = clock_now_ms() + LEFTOVER_QUIET_MS;
		drain(r, run);
		check_attempt(r, (size_t)index);
	}
}

static void
signal_running(struct runner *r, int signo)
{
	struct step_run *run;
	size_t i;

	for (i = 0; i < r->n_running; i++) {
		run = &r->runs[r->running[i]];
		if (run->pid > 0)
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
		if (run->pid <= 0)
			continue;
		run->ended_by = OUTCOME_CANCELLED;
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
	run->ended_by = OUTCOME_TIMED_OUT;
	kill(-run->group, SIGTERM);
	kill(-run->group, SIGCONT);
	run->kill_at = now + r->grace_ms;
	if (r->job_deadline != 0 && now >= r->job_deadline &&
	    !r->job_timed_out) {
		r->job_timed_out = true;
		diag_error("the job timed out");
	}
}

/* Ends the attempts whose main process exited and whose pipe's time is
 * up.  check_attempt() changes the running list, so collect them first. */
static void
close_quiet_pipes(struct runner *r, uint64_t now)
{
	size_t i, n = 0, *due = xcalloc(r->n_running + 1, sizeof(*due));

	for (i = 0; i < r->n_running; i++)
		if (r->runs[r->running[i]].pid == 0 &&
		    now >= r->runs[r->running[i]].drain_until)
			due[n++] = r->running[i];
	for (i = 0; i < n; i++)
		check_attempt(r, due[i]);
	free(due);
}

/* Acts on every deadline that has passed; returns ms to the next, or -1. */
static int
check_deadlines(struct runner *r)
{
	uint64_t now = clock_now_ms(), next = UINT64_MAX;
	struct step_run *run;
	int socket_wait;
	size_t i;

#define CONSIDER(t)                                                            \
	do {                                                                   \
		if ((t) != 0 && (t) < next)                                    \
			next = (t);                                            \
	} while (0)
	for (i = 0; i < r->n_running; i++) {
		run = &r->runs[r->running[i]];
		if (run->pid > 0 && run->ended_by == OUTCOME_PENDING &&
		    run->deadline != 0 && now >= run->deadline)
			time_out(r, run, now);
		if (run->kill_at != 0 && now >= run->kill_at) {
			kill(-run->group, SIGKILL);
			run->kill_at = 0;
		}
		if (run->pid > 0 && run->ended_by == OUTCOME_PENDING)
			CONSIDER(run->deadline);
		CONSIDER(run->kill_at);
		if (run->pid == 0)
			CONSIDER(run->drain_until);
		if (run->idle_at != 0 && now >= run->idle_at) {
			output_stream_idle(run->stream);
			run->idle_at = 0;
		}
		CONSIDER(run->idle_at);
	}
	if (r->control != NULL &&
	    (socket_wait = ctl_server_expire(r->control, now)) >= 0)
		CONSIDER(now + (uint64_t)socket_wait + (socket_wait == 0));
	for (i = 0; i < r->n_leftovers; i++) {
		if (now >= r->leftovers[i].kill_at) {
			kill(-r->leftovers[i].group, SIGKILL);
			r->leftovers[i--] = r->leftovers[--r->n_leftovers];
			continue;
		}
		CONSIDER(r->leftovers[i].kill_at);
	}
#undef CONSIDER
	close_quiet_pipes(r, now);
	if (next == UINT64_MAX)
		return -1;
	now = clock_now_ms();
	/* epoll takes an int: far deadlines are simply woken up for twice. */
	return next <= now         ? 0
	    : next - now > INT_MAX ? INT_MAX
				   : (int)(next - now);
}

/* ---- scheduling ---- */

static void
start_step(struct runner *r, size_t index)
{
	struct step_run *run = &r->runs[index];

	run->stream = output_stream_open(r->output, step_name(r, index));
	r->running[r->n_running++] = index;
	run->start_ms = clock_now_ms();
	clock_gettime(CLOCK_REALTIME, &run->started);
	start_attempt(r, index);
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

/* A plugin's BEFORE_STEP hook failed: the step fails without running. */
static void
refuse_step(struct runner *r, size_t index)
{
	diag_error("step '%s': not started: a plugin's BEFORE_STEP hook "
		   "failed",
	    step_name(r, index));
	r->runs[index].exit_code = -1;
	finish(r, index, OUTCOME_FAILED);
}

/* Decides ready steps while there are free slots. */
static void
schedule(struct runner *r)
{
	size_t index;

	while (r->ready.len > 0 && (long)r->n_running < r->slots) {
		index = heap_pop(&r->ready);
		if ((r->cancel_signal != 0 || r->job_timed_out) &&
		    !runs_when_cancelled(r, index))
			finish(r, index, OUTCOME_CANCELLED);
		else if (!should_run(r, index))
			finish(r, index, OUTCOME_SKIPPED);
		else if (lifecycle_step(
			     r->lifecycle, JOBRUN_PHASE_BEFORE_STEP, index) < 0)
			refuse_step(r, index);
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
		if (r->runs[i].outcome == OUTCOME_FAILED)
			failed = true;
		if (r->runs[i].outcome == OUTCOME_TIMED_OUT)
			timed_out = true;
	}
	if (timed_out)
		return EXIT_JOB_TIMED_OUT;
	return failed ? EXIT_JOB_FAILED : EXIT_JOB_SUCCESS;
}

/*
 * Kills and reaps every child still around: leftover groups and orphans
 * that escaped their group (found as our children in /proc), until none
 * is left, so the job ends with no process and no zombie behind it.
 */
static void
end_all_children(struct runner *r)
{
	char path[64], line[512];
	struct dirent *entry;
	long ppid, pid;
	pid_t reaped;
	FILE *fp;
	DIR *dir;
	size_t i;

	for (i = 0; i < r->n_leftovers; i++)
		kill(-r->leftovers[i].group, SIGKILL);
	r->n_leftovers = 0;
	/* No child at all (the usual case): nothing to look for. */
	while ((reaped = waitpid(-1, NULL, WNOHANG)) > 0)
		continue;
	if (reaped < 0 && errno == ECHILD)
		return;
	for (;;) {
		if ((dir = opendir("/proc")) != NULL) {
			while ((entry = readdir(dir)) != NULL) {
				pid = strtol(entry->d_name, NULL, 10);
				if (pid <= 0)
					continue;
				snprintf(
				    path, sizeof(path), "/proc/%ld/stat", pid);
				if ((fp = fopen(path, "re")) == NULL)
					continue;
				/* The command may hold spaces and parentheses:
				 * the fields start after the last ')'. */
				if (fgets(line, sizeof(line), fp) != NULL &&
				    strrchr(line, ')') != NULL &&
				    sscanf(strrchr(line, ')') + 2, "%*c %ld",
					&ppid) == 1 &&
				    ppid == (long)getpid())
					kill((pid_t)pid, SIGKILL);
				fclose(fp);
			}
			closedir(dir);
		}
		if (waitpid(-1, NULL, 0) < 0 && errno == ECHILD)
			break;
		while (waitpid(-1, NULL, WNOHANG) > 0)
			continue;
	}
}

/*
 * Writes result.json: outcome NULL means the job is still running (written
 * at the start, so a reader finds the file from the first moment).
 * Returns 0, or -1 after a message.
 */
/* A copy of text with every secret masked, for the files we leave. */
static char *
masked(const struct runner *r, const char *text)
{
	size_t length;

	if (r->mask == NULL)
		return xstrdup(text);
	return mask_string(r->mask, text, strlen(text), &length);
}

static int
write_result(const struct runner *r, int status, const char *outcome,
    const struct timespec *started, uint64_t start_ms)
{
	struct result_step *steps;
	struct result result = { 0 };
	char *path, *error, **names;
	size_t i;
	int rc;

	steps = xcalloc(r->plan->n_steps, sizeof(*steps));
	names = xcalloc(r->plan->n_steps + 1, sizeof(*names));
	for (i = 0; i < r->plan->n_steps; i++) {
		const struct step_run *run = &r->runs[i];

		steps[i].name = names[i] = masked(r, step_name(r, i));
		steps[i].outcome = outcome_name(run->outcome);
		steps[i].exit_code = run->attempts > 0 ? run->exit_code : -1;
		steps[i].signal = run->signal;
		steps[i].oom_killed = run->oom_killed;
		steps[i].attempts = run->attempts;
		steps[i].started = run->started;
		steps[i].finished = run->finished;
		steps[i].duration_ms = run->duration_ms;
	}
	result.job = names[r->plan->n_steps] =
	    masked(r, config_get(r->config, CONFIG_NAME));
	result.outcome = outcome != NULL ? outcome : "running";
	result.exit_status = outcome != NULL ? status : -1;
	result.started = *started;
	clock_gettime(CLOCK_REALTIME, &result.finished);
	result.duration_ms = clock_now_ms() - start_ms;
	result.steps = steps;
	result.n_steps = r->plan->n_steps;
	result.mask = r->mask;
	path = xasprintf(
	    "%s/result.json", config_get(r->config, CONFIG_WORKSPACE));
	/* The first write is replaced at the end: only the last must last.
	 * Replacing an earlier job's file would make ext4 flush it anyway
	 * (auto_da_alloc), so that one goes first. */
	if (outcome == NULL)
		unlink(path);
	rc = result_write(path, &result, outcome != NULL, &error);
	if (rc < 0) {
		diag_error("%s", error);
		free(error);
	}
	free(path);
	free(steps);
	for (i = 0; i <= r->plan->n_steps; i++)
		free(names[i]);
	free(names);
	return rc;
}

/* Creates dir and its parents (mode 0755); returns 0 or -1 with errno. */
static int
make_dirs(const char *dir)
{
	char *copy = xstrdup(dir), *p;
	int rc = 0;

	for (p = copy + 1; rc == 0; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;

		*p = '\0';
		if (mkdir(copy, 0755) < 0 && errno != EEXIST)
			rc = -1;
		*p = saved;
		if (saved == '\0')
			break;
	}
	free(copy);
	return rc;
}

/* Removes the files a previous job left in dir, so none is taken for ours. */
static void
clear_dir(const char *dir)
{
	struct dirent *entry;
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((entry = readdir(d)) != NULL)
		if (entry->d_name[0] != '.')
			unlinkat(dirfd(d), entry->d_name, 0);
	closedir(d);
}

/* Creates the workspace, its logs/ and outputs/; -1 after a message. */
static int
prepare_workspace(struct runner *r, char **log_dir)
{
	const char *workspace = config_get(r->config, CONFIG_WORKSPACE);
	size_t i;

	*log_dir = xasprintf("%s/logs", workspace);
	r->outputs_dir = xasprintf("%s/outputs", workspace);
	if (make_dirs(*log_dir) < 0 || make_dirs(r->outputs_dir) < 0) {
		diag_error("cannot create the workspace '%s': %s", workspace,
		    strerror(errno));
		return -1;
	}
	clear_dir(*log_dir);
	clear_dir(r->outputs_dir);
	for (i = 0; i < r->plan->n_steps; i++) {
		r->runs[i].runner = r;
		r->runs[i].index = i;
		r->runs[i].pipe_fd = -1;
		r->runs[i].outputs_file =
		    xasprintf("%s/%s.env", r->outputs_dir, step_name(r, i));
	}
	return 0;
}

/* jobrun's own messages take the same path as the steps' output. */
static void
message_sink(const char *message, void *context)
{
	output_message(context, message);
}

static enum output_format
choose_format(const struct runner *r)
{
	const char *format = config_get(r->config, CONFIG_LOG_FORMAT);

	if (strcmp(format, "json") == 0)
		return OUTPUT_JSON;
	/* Lines carry their step's name only when steps can overlap. */
	return r->slots > 1 && r->plan->n_steps > 1 ? OUTPUT_PREFIXED
						    : OUTPUT_PLAIN;
}

/*
 * A register request from the control socket: each secret joins the mask
 * set, then every stream rescans what it holds back; only then does the
 * client get its reply.
 */
static long
on_register(void *context, char *const *values, const size_t *lengths, size_t n,
    char **error)
{
	struct runner *r = context;
	long accepted = 0;
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		rc = mask_set_add(r->mask, values[i], lengths[i], error);
		if (rc < 0)
			return -1;
		if (rc == 1) {
			diag_warn("a secret registered over the control socket "
				  "is too short to mask safely and is not "
				  "masked");
			free(*error);
			*error = NULL;
			continue;
		}
		accepted++;
	}
	output_rescan(r->output);
	return accepted;
}

/* A trigger request from the control socket (triggers.h). */
static int
on_trigger(void *context, json_t *request, char **error)
{
	struct runner *r = context;

	return triggers_add_request(r->triggers, request, error);
}

/* An output request from the control socket ("jobrun output set"). */
static int
on_output_set(void *context, json_t *request, char **error)
{
	struct runner *r = context;

	return triggers_set_output(r->triggers, request, error);
}

static int
start_loop(struct runner *r)
{
	sigset_t signals;
	char *error;

	runner_signals(&signals);
	if ((r->loop = loop_new()) == NULL ||
	    (r->signal_fd =
		    signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC)) < 0 ||
	    loop_add(r->loop, r->signal_fd, EPOLLIN, on_signal, r) < 0) {
		diag_error("cannot start the event loop: %s", strerror(errno));
		return -1;
	}
	r->control = ctl_server_open(r->loop, on_register, r, &error);
	if (r->control == NULL) {
		diag_error("%s", error);
		free(error);
		return -1;
	}
	ctl_server_on(r->control, "trigger", on_trigger, r);
	ctl_server_on(r->control, "output", on_output_set, r);
	return 0;
}

/* The job's facts for a trigger's if: (names only; see triggers.h). */
static const char *
trigger_lookup(void *context, const char *name)
{
	struct condition_context c = { context, 0 };

	return fact_lookup(&c, name);
}

/* In local mode, what would run next, one line each. */
static void
print_next(void *context, const char *line)
{
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
write_termination_log(struct runner *r, int status)
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
	for (i = 0; i < r->plan->n_steps; i++) {
		name = outcome_name(r->runs[i].outcome);
		json_object_set_new(counts, name,
		    json_integer(
			json_integer_value(json_object_get(counts, name)) + 1));
	}
	facts = json_pack("{s:s, s:s, s:i, s:I, s:o}", "job",
	    config_get(r->config, CONFIG_NAME), "outcome",
	    lifecycle_status_name(status), "exit_status", status, "steps",
	    (json_int_t)r->plan->n_steps, "step_outcomes", counts);
	if (facts == NULL)
		return;
	text = trigger_file_summary(r->triggers, facts, r->mask);
	json_decref(facts);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
	if (fd >= 0) {
		if (file_write_all(fd, text, strlen(text)) < 0)
			diag_warn(
			    "cannot write '%s': %s", path, strerror(errno));
		close(fd);
	}
	free(text);
}

/*
 * Decides the triggers and writes triggers.json, once, at the end of the
 * job.  A limit exceeded is reported and leaves the status alone; only a
 * file that cannot be written is jobrun's failure (-1).
 */
static int
write_triggers(struct runner *r, int status)
{
	struct expr_facts facts = { trigger_lookup, NULL, r };
	struct triggers_outcome outcome = { lifecycle_status_name(status),
		status == EXIT_JOB_SUCCESS,
		r->cancel_signal != 0 || status >= EXIT_SIGNAL_BASE, &facts };
	char *error = NULL, *path;
	int rc;

	if (triggers_decide(r->triggers, &outcome, &error) < 0) {
		diag_error("%s", error);
		free(error);
	}
	rc = trigger_file_write(r->triggers,
	    config_get(r->config, CONFIG_TRIGGERS_FILE),
	    config_get(r->config, CONFIG_NAME), r->mask, &error);
	if (rc != 0) {
		diag_error("%s", error);
		free(error);
	}
	if (rc < 0)
		return -1;
	if (config_number(r->config, CONFIG_LOCAL) != 0)
		trigger_file_describe(r->triggers, r->mask, print_next, NULL);
	write_termination_log(r, status);
	path = xasprintf(
	    "%s/outputs.json", config_get(r->config, CONFIG_WORKSPACE));
	rc = trigger_file_write_outputs(r->triggers, path, r->mask, &error);
	free(path);
	if (rc < 0) {
		diag_error("%s", error);
		free(error);
	}
	return rc;
}

static void
runner_release(struct runner *r)
{
	size_t i;

	sandbox_filter_release(&r->filter);

	for (i = 0; i < r->plan->n_steps; i++) {
		output_stream_close(r->runs[i].stream);
		free(r->runs[i].outputs_file);
		nvlist_release(&r->runs[i].outputs);
	}
	ctl_server_close(r->control);
	if (r->signal_fd > 0)
		close(r->signal_fd);
	loop_free(r->loop);
	oom_watch_close(&r->oom);
	diag_set_sink(NULL, NULL);
	output_free(r->output);
	heap_release(&r->ready);
	free(r->runs);
	free(r->running);
	free(r->leftovers);
	free(r->outputs_dir);
	free(r->shell_name);
	free(r->shell_search);
	free(r->shell_path);
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
		if (loop_once(r->loop, timeout) < 0) {
			diag_error(
			    "the event loop failed: %s", strerror(errno));
			return false;
		}
	}
}

/* The runner whose steps the plugin watchdog kills before jobrun exits. */
static struct runner *watched;

/* In a signal handler (plugins.h): kills every step's process group. */
static void
kill_all_groups(void)
{
	size_t i;

	if (watched == NULL)
		return;
	for (i = 0; i < watched->n_running; i++)
		if (watched->runs[watched->running[i]].group > 0)
			kill(
			    -watched->runs[watched->running[i]].group, SIGKILL);
	for (i = 0; i < watched->n_leftovers; i++)
		kill(-watched->leftovers[i].group, SIGKILL);
}

/* After a plugin refused the job: no step has run, none will. */
static void
skip_all(struct runner *r)
{
	size_t i;

	for (i = 0; i < r->plan->n_steps; i++) {
		r->runs[i].outcome = OUTCOME_SKIPPED;
		r->runs[i].phase = PHASE_DONE;
		publish_step(r, i);
	}
}

/* After a failure of jobrun itself: what has no outcome is cancelled. */
static void
abandon_steps(struct runner *r)
{
	size_t i;

	signal_running(r, SIGKILL);
	for (i = 0; i < r->plan->n_steps; i++)
		if (r->runs[i].phase != PHASE_DONE)
			r->runs[i].outcome = OUTCOME_CANCELLED;
}

/*
 * The directories as the first run_as step's user needs them (see
 * sandbox_prepare_dirs()); later steps with another user share what the
 * first one got.
 */
static int
prepare_run_as_dirs(struct runner *r, char **error)
{
	struct sandbox ids = { 0 };
	size_t i;

	*error = NULL;
	for (i = 0; i < r->plan->n_steps; i++)
		if (r->plan->steps[i].step->run_as != NULL)
			break;
	if (i == r->plan->n_steps)
		return 0;
	if (sandbox_ids(&ids, r->plan->steps[i].step->run_as, error) < 0)
		return -1;
	return sandbox_prepare_dirs(config_get(r->config, CONFIG_CI_SOURCE_DIR),
	    config_get(r->config, CONFIG_CODE_DIR), ids.uid, ids.gid, error);
}

/*
 * With an untrusted step in the plan: builds the seccomp filter once, and
 * makes jobrun undumpable so that its memory and environment are closed to
 * the steps (sandbox.h).  Returns 0, or -1 after reporting.
 */
static int
prepare_sandbox(struct runner *r)
{
	size_t i;
	char *error;

	for (i = 0; i < r->plan->n_steps; i++)
		if (sandbox_step_untrusted(
			r->plan->job, r->plan->steps[i].step))
			break;
	if (i == r->plan->n_steps)
		return 0;
	if (sandbox_filter_build(&r->filter, &error) < 0 ||
	    prepare_run_as_dirs(r, &error) < 0) {
		diag_error("%s", error);
		free(error);
		return -1;
	}
	if (sandbox_protect_self() < 0) {
		diag_error(
		    "cannot make jobrun undumpable: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Removes what an earlier job left of the files it hands on, so none is
 * taken for ours: the files and the temporary files of writers killed
 * before their rename.
 */
static void
remove_earlier_files(const struct config *config)
{
	const char *workspace = config_get(config, CONFIG_WORKSPACE);
	char *outputs = xasprintf("%s/outputs.json", workspace);
	char *result = xasprintf("%s/result.json", workspace);

	unlink(config_get(config, CONFIG_TRIGGERS_FILE));
	unlink(outputs);
	file_remove_stale_temps(config_get(config, CONFIG_TRIGGERS_FILE));
	file_remove_stale_temps(outputs);
	file_remove_stale_temps(result);
	free(outputs);
	free(result);
}

int
runner_run(const struct plan *plan, const struct config *config,
    const struct nvlist *job_env, struct mask_set *mask, struct lifecycle *lc)
{
	struct runner r = { 0 };
	struct timespec started;
	uint64_t start_ms = clock_now_ms();
	char *log_dir = NULL;
	int status = EXIT_JOBRUN_ERROR;
	size_t i, n = plan->n_steps;

	clock_gettime(CLOCK_REALTIME, &started);
	r.plan = plan;
	r.config = config;
	r.job_env = job_env;
	r.mask = mask;
	r.runs = xcalloc(n, sizeof(*r.runs));
	r.running = xcalloc(n, sizeof(*r.running));
	r.slots = (long)config_number(config, CONFIG_JOBS);
	r.grace_ms = config_ms(config, CONFIG_GRACE_PERIOD);
	r.signal_fd = -1;
	oom_watch_open(&r.oom, "/sys/fs/cgroup", "/proc/self/cgroup");
	r.lifecycle = lc;
	r.triggers = lc->triggers;
	remove_earlier_files(config);
	/* A workspace where result.json cannot be written fails now, before
	 * any step runs, not silently at the end. */
	if (prepare_sandbox(&r) < 0 || prepare_workspace(&r, &log_dir) < 0 ||
	    write_result(&r, 0, NULL, &started, start_ms) < 0)
		goto out;
	r.log_dir = log_dir;
	if (start_loop(&r) < 0) {
		/* The workspace is there: say what happened in it. */
		abandon_steps(&r);
		lifecycle_teardown(lc, status);
		write_triggers(&r, status);
		write_result(&r, status, lifecycle_status_name(status),
		    &started, start_ms);
		goto out;
	}
	r.output = output_new(choose_format(&r), log_dir, mask);
	diag_set_sink(message_sink, r.output);
	watched = &r;
	plugins_watchdog_on_fire(kill_all_groups);
	lc->output = r.output;
	lc->socket_path = r.control ? ctl_server_path(r.control) : NULL;
	if (config_ms(config, CONFIG_TIMEOUT) != 0)
		r.job_deadline = start_ms + config_ms(config, CONFIG_TIMEOUT);
	for (i = 0; i < n; i++) {
		r.runs[i].waiting = plan->steps[i].n_deps;
		if (r.runs[i].waiting == 0) {
			r.runs[i].phase = PHASE_READY;
			heap_push(&r.ready, i);
		}
	}
	if (lifecycle_phase(lc, JOBRUN_PHASE_PRE_EXECUTION) < 0) {
		/* A plugin refused the job: no step runs. */
		skip_all(&r);
		status = EXIT_JOBRUN_ERROR;
	} else if (run_steps(&r)) {
		status = job_status(&r);
	} else {
		abandon_steps(&r);
		status = EXIT_JOBRUN_ERROR;
	}
	lifecycle_teardown(lc, status);
	diag_error("job '%s': %s", config_get(config, CONFIG_NAME),
	    lifecycle_status_name(status));
	if (write_triggers(&r, status) < 0)
		status = EXIT_JOBRUN_ERROR;
	if (write_result(&r, status, lifecycle_status_name(status), &started,
		start_ms) < 0)
		status = EXIT_JOBRUN_ERROR;
	end_all_children(&r);
	/* Outputs were for the dependants, who have run: leave none behind. */
	clear_dir(r.outputs_dir);
out:
	plugins_watchdog_on_fire(NULL);
	watched = NULL;
	lc->output = NULL;
	lc->socket_path = NULL;
	runner_release(&r);
	free(log_dir);
	return status;
}
