/*
 * One attempt of a step (attempt.h): its environment, its sandbox when it
 * is untrusted, its pipe and its process; then, once the process has
 * exited and the pipe is at end of file, its outcome.  When something the
 * step left behind keeps the pipe open, the pipe is closed once it has been
 * silent for LEFTOVER_QUIET_MS, or at the latest a grace period after the
 * exit; only then is what is left in the step's process group sent SIGTERM
 * (and SIGKILL LEFTOVER_GRACE_MS later), so a forwarder such as tee can
 * still deliver the last lines.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attempt.h"
#include "clock.h"
#include "debug-shell.h"
#include "diag.h"
#include "envscrub.h"
#include "file.h"
#include "proc.h"
#include "sandbox.h"
#include "secrets.h"
#include "step-outputs.h"
#include "stepenv.h"
#include "xalloc.h"

/* Bytes read from a pipe per callback, so one chatty step cannot starve
 * the others. */
#define READ_CHUNK (64 * 1024)
#define READS_PER_CALLBACK 4
/* Enough reads to empty a full pipe (open_pipe() asks for 1 MiB). */
#define READS_TO_EMPTY ((1024 * 1024) / READ_CHUNK + 1)

static const char *
step_name(const struct runner *r, size_t index)
{
	return r->plan->steps[index].step->name;
}

static uint64_t
min_time(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/*
 * The outputs of the step's direct dependencies, as variables.  Two
 * outputs that come to the same name (output sign_url of step build, url
 * of step build-sign) set neither, with a warning: which one a step got
 * would depend on the order of its dependencies, and an untrusted step
 * could so put its value where a trusted one's was expected.
 */
static void
dependency_outputs(const struct runner *r, size_t index, struct nvlist *out)
{
	const struct plan_step *ps = &r->plan->steps[index];
	const struct srcpos none = { 0, 0 };
	struct nvlist found = NVLIST_INIT, from = NVLIST_INIT,
		      clash = NVLIST_INIT;
	const struct nvlist *outputs;
	const struct nvpair *first;
	char *name, *label;
	size_t k, i;

	for (k = 0; k < ps->n_deps; k++) {
		outputs = &r->runs[ps->deps[k]].outputs;
		for (i = 0; i < outputs->len; i++) {
			name = step_outputs_variable(
			    step_name(r, ps->deps[k]), outputs->items[i].name);
			label = xasprintf("output '%s' of step '%s'",
			    outputs->items[i].name, step_name(r, ps->deps[k]));
			if ((first = nvlist_get(&from, name)) == NULL) {
				nvlist_set(&from, name, label, none);
				nvlist_set(&found, name,
				    outputs->items[i].value,
				    outputs->items[i].pos);
			} else if (nvlist_get(&clash, name) == NULL) {
				diag_warn("step '%s': %s and %s are both %s: "
					  "neither is set",
				    step_name(r, index), first->value, label,
				    name);
				nvlist_set(&clash, name, "", none);
			}
			free(label);
			free(name);
		}
	}
	for (i = 0; i < found.len; i++)
		if (nvlist_get(&clash, found.items[i].name) == NULL)
			nvlist_set(out, found.items[i].name,
			    found.items[i].value, found.items[i].pos);
	nvlist_release(&found);
	nvlist_release(&from);
	nvlist_release(&clash);
}

/* The name of step index's outputs file in the outputs directory. */
static char *
outputs_name(const struct runner *r, size_t index)
{
	return xasprintf("%s.env", step_name(r, index));
}

/* The name of step index's summary file in the outputs directory. */
static char *
summary_name(const struct runner *r, size_t index)
{
	return xasprintf("%s.summary.md", step_name(r, index));
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
 * An untrusted step cannot create files in jobrun's outputs directory
 * (0711): its outputs file is created empty, 0600, and handed to its user;
 * jobrun keeps it open, so it reads it back without any capability.  In
 * a job with untrusted steps, trusted steps' files are made the same way
 * (0600, jobrun's), so no untrusted step can read them.
 */
static int
give_file(
    struct runner *r, char *name, uid_t uid, gid_t gid, int *slot, char **error)
{
	char *why = NULL;
	int fd;

	if (*slot >= 0) {
		close(*slot);
		*slot = -1;
	}
	fd = file_create(r->outputs_dir, name, 0600, &why);
	if (fd < 0 || fchown(fd, uid, gid) < 0) {
		*error = xasprintf("cannot create the file '%s' for uid %ld: "
				   "%s",
		    name, (long)uid, why != NULL ? why : strerror(errno));
		free(why);
		free(name);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	free(name);
	*slot = fd;
	return 0;
}

/* The outputs file and the summary file (the same way) of step index. */
static int
give_outputs_file(
    struct runner *r, size_t index, uid_t uid, gid_t gid, char **error)
{
	struct step_run *run = &r->runs[index];

	if (give_file(r, outputs_name(r, index), uid, gid, &run->outputs_fd,
		error) < 0)
		return -1;
	return give_file(
	    r, summary_name(r, index), uid, gid, &run->summary_fd, error);
}

/*
 * The cgroup of step index's attempt, where the job has cgroups: its path
 * in run->cgroup, its directory open in sandbox->cgroup_fd (the caller
 * closes it).  Without one the step still runs: the uid and the PID
 * namespace still end what it leaves.
 */
static void
make_cgroup(struct runner *r, size_t index, struct sandbox *sandbox)
{
	struct step_run *run = &r->runs[index];
	char *name;
	int saved;

	if (r->policy->cgroups_dir == NULL)
		return;
	name = xasprintf("step-%zu", index);
	run->cgroup = sandbox_cgroup_create(r->policy->cgroups_dir, name);
	free(name);
	if (run->cgroup != NULL &&
	    (sandbox->cgroup_fd = sandbox_cgroup_open(run->cgroup)) < 0) {
		saved = errno;
		sandbox_cgroup_end(run->cgroup);
		free(run->cgroup);
		run->cgroup = NULL;
		errno = saved;
	}
	if (run->cgroup == NULL)
		diag_warn("step '%s': no cgroup of its own: %s",
		    step_name(r, index), strerror(errno));
}

/* The sandbox of an untrusted step: scrubbed env, filter, its uid. */
static void
sandbox_step(struct runner *r, size_t index, char **envp,
    struct sandbox *sandbox, char **error)
{
	const struct step *step = r->plan->steps[index].step;
	struct step_run *run = &r->runs[index];

	envscrub_apply(envp, r->mask, r->plan->job, r->config);
	sandbox->filter = r->filter;
	if (sandbox_step_ids(sandbox, r->policy, step->run_as, error) < 0)
		return;
	make_cgroup(r, index, sandbox);
	run->own_uid = sandbox->change_ids;
	run->uid = sandbox->uid;
	if (!sandbox->change_ids ||
	    give_outputs_file(r, index, sandbox->uid, sandbox->gid, error) < 0)
		return;
	if (r->events->step_user != NULL)
		r->events->step_user(r->context, index, sandbox->uid, error);
}

/*
 * secrets.env_globs match the step's whole environment, whatever layer a
 * variable came from (the job file, the job env, a plugin, an output):
 * their values are secrets before the step can print them.
 */
static void
mask_env_globs(struct runner *r, char **envp, char **error)
{
	const struct job *job = r->plan->job;
	size_t before;

	if (job == NULL || job->secrets.env_globs.len == 0)
		return;
	before = mask_set_secrets(r->mask);
	if (secrets_add_env_globs(
		r->mask, &job->secrets.env_globs, envp, false, error) < 0)
		return;
	if (mask_set_secrets(r->mask) != before)
		console_rescan(r->console);
}

/* The environment of step index's attempt (stepenv_free() it). */
static char **
step_envp(struct runner *r, size_t index)
{
	const struct step *step = r->plan->steps[index].step;
	struct nvlist extra = NVLIST_INIT;
	char **envp, *name, *path;

	dependency_outputs(r, index, &extra);
	name = outputs_name(r, index);
	path = xasprintf("%s/%s", r->outputs_path, name);
	nvlist_set(&extra, "JOBRUN_OUTPUT", path, (struct srcpos){ 0, 0 });
	free(path);
	free(name);
	name = summary_name(r, index);
	path = xasprintf("%s/%s", r->outputs_path, name);
	nvlist_set(
	    &extra, "JOBRUN_STEP_SUMMARY", path, (struct srcpos){ 0, 0 });
	free(path);
	free(name);
	if (r->events->step_environment != NULL)
		r->events->step_environment(r->context, index, &extra);
	envp = stepenv_build(r->config, step, r->runs[index].record.attempts,
	    r->job_env, &extra);
	nvlist_release(&extra);
	return envp;
}

/*
 * The pipe through which the init of run's PID namespace reports the
 * step's wait status (proc_init_run()): the read end in run->status_fd,
 * the write end returned (-1 with *error when there is none).
 */
static int
open_status_pipe(struct step_run *run, char **error)
{
	int fds[2];

	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) {
		*error = xasprintf("cannot make a pipe: %s", strerror(errno));
		return -1;
	}
	run->status_fd = fds[0];
	return fds[1];
}

/*
 * The step's own wait status when its namespace's init reported one, else
 * status (the init's: it was killed).  Closes run->status_fd.
 */
static int
step_status(struct step_run *run, int status)
{
	int reported;
	ssize_t n;

	if (run->status_fd < 0)
		return status;
	do
		n = read(run->status_fd, &reported, sizeof(reported));
	while (n < 0 && errno == EINTR);
	close(run->status_fd);
	run->status_fd = -1;
	return n == (ssize_t)sizeof(reported) ? reported : status;
}

/* Starts the step's program; returns the child's pid, -1 if none. */
static pid_t
spawn_step(struct runner *r, size_t index, int output_fd, char **error)
{
	const struct step *step = r->plan->steps[index].step;
	const char *shell =
	    step->shell ? step->shell : config_get(r->config, CONFIG_SHELL);
	struct proc_spec spec = { 0 };
	struct sandbox sandbox = { .cgroup_fd = -1 };
	char **argv, **envp, *program = NULL, *workdir;
	pid_t pid = -1;

	argv = stepenv_argv(shell, step->run);
	envp = step_envp(r, index);
	spec.cwd = stepenv_workdir(r->config, step, &workdir);
	mask_env_globs(r, envp, error);
	if (sandbox_step_untrusted(r->plan->job, step)) {
		sandbox_step(r, index, envp, &sandbox, error);
		spec.sandbox = &sandbox;
	} else if (r->has_untrusted) {
		/* Not readable by untrusted steps: 0600 from the start. */
		give_outputs_file(r, index, geteuid(), getegid(), error);
	}
	if (*error != NULL) /* from the sandbox */
		program = NULL;
	else if (argv[0] == NULL || strcmp(argv[0], "-c") == 0)
		*error = xstrdup("the shell is empty");
	else if ((program = find_shell(
		      r, argv[0], stepenv_get(envp, "PATH"))) == NULL)
		*error = xasprintf("cannot run shell '%s': not found", argv[0]);
	r->runs[index].record.isolation = sandbox_isolation_of(spec.sandbox);
	if (*error == NULL && sandbox.pid_namespace)
		spec.status_fd = open_status_pipe(&r->runs[index], error);
	if (*error == NULL) {
		spec.path = program;
		spec.argv = argv;
		spec.envp = envp;
		spec.output_fd = output_fd;
		spec.process_group = true;
		proc_spawn(&pid, &spec, error);
	}
	if (sandbox.pid_namespace && spec.status_fd >= 0)
		close(spec.status_fd);
	if (sandbox.cgroup_fd >= 0)
		close(sandbox.cgroup_fd);
	if (pid < 0 && r->runs[index].status_fd >= 0) {
		close(r->runs[index].status_fd);
		r->runs[index].status_fd = -1;
	}
	free(program);
	free(workdir);
	stepenv_free(argv);
	stepenv_free(envp);
	return pid;
}

/* Each attempt starts with no outputs; the step creates the file if it
 * writes one (creating files costs more than spawning a step). */
static void
reset_outputs(struct runner *r, size_t index)
{
	struct step_run *run = &r->runs[index];
	char *name;

	if (run->record.attempts > 1 && run->outputs_fd < 0) {
		name = outputs_name(r, index);
		unlinkat(r->outputs_dir, name, 0);
		free(name);
	}
	if (run->record.attempts > 1 && run->summary_fd < 0) {
		name = summary_name(r, index);
		unlinkat(r->outputs_dir, name, 0);
		free(name);
	}
	nvlist_release(&run->outputs);
	if (run->summary != NULL)
		wipe(run->summary, strlen(run->summary));
	free(run->summary);
	run->summary = NULL;
	run->record.summary = NULL;
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

static void on_output(struct loop *loop, int fd, uint32_t events, void *data);

static void
reset_attempt(struct runner *r, struct step_run *run)
{
	run->phase = RUN_RUNNING;
	run->pid = 0;
	run->ended_by = JOBRUN_OUTCOME_PENDING;
	run->record.exit_code = -1;
	run->record.signal = 0;
	run->oom_kills = oom_watch_kills(&r->oom);
	run->record.oom_killed = false;
	run->kill_at = 0;
	run->drain_until = 0;
	run->drain_cap = 0;
	run->record.reason = NULL;
	free(run->start_error);
	run->start_error = NULL;
}

void
attempt_start(struct runner *r, size_t index)
{
	const struct step *step = r->plan->steps[index].step;
	struct step_run *run = &r->runs[index];
	uint32_t events = r->pipes_paused ? 0 : EPOLLIN;
	char *error = NULL;
	int write_fd;

	run->record.attempts++;
	if (run->record.attempts > 1)
		diag_error("step '%s': attempt %u of %lld", step->name,
		    run->record.attempts, step->retries + 1);
	if (r->events->attempt_started != NULL)
		r->events->attempt_started(r->context, index);
	reset_attempt(r, run);
	reset_outputs(r, index);
	write_fd = open_pipe(run, &error);
	if (write_fd >= 0) {
		run->pid = spawn_step(r, index, write_fd, &error);
		close(write_fd);
	}
	if (run->pipe_fd >= 0 &&
	    loop_add(r->loop, run->pipe_fd, events, on_output, run) < 0 &&
	    error == NULL)
		error = xasprintf(
		    "cannot watch the step's output: %s", strerror(errno));
	if (error != NULL) {
		diag_error("step '%s': %s", step->name, error);
		/* No child: the attempt is over already, and result.json says
		 * why (out of file descriptors, say), not only the console. */
		if (run->pid <= 0) {
			run->pid = 0;
			run->start_error =
			    xasprintf("it could not start: %s", error);
			run->record.reason = run->start_error;
		}
		free(error);
	}
	run->group = run->pid;
	run->deadline = attempt_deadline(r, step);
	if (run->pid == 0) {
		run->record.exit_code = -1;
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
 * Reads what the pipe holds, at most max_reads chunks so that a step (or
 * what it left behind) writing without pause cannot keep the loop from its
 * deadlines and signals; closes the pipe at end of file.
 */
static void
drain(struct runner *r, struct step_run *run, int max_reads)
{
	char *buf;
	size_t room;
	ssize_t n;
	int reads = 0;

	while (run->pipe_fd >= 0 && reads++ < max_reads) {
		/* Read straight into the console's buffer (no copy). */
		buf = console_stream_buffer(run->stream, &room);
		n = read(run->pipe_fd, buf, room);
		console_stream_commit(run->stream, n > 0 ? (size_t)n : 0);
		if (n > 0) {
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
	/* Out of reads for this turn: what was read is not kept back. */
	console_stream_push(run->stream);
}

void
attempt_watch(struct runner *r, size_t index, bool on)
{
	struct step_run *run = &r->runs[index];

	if (run->pipe_fd >= 0)
		loop_watch(r->loop, run->pipe_fd, on ? EPOLLIN : 0);
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

/* Kills what is left in the attempt's cgroup, and removes it. */
static void
end_cgroup(struct runner *r, size_t index)
{
	struct step_run *run = &r->runs[index];

	if (run->cgroup == NULL)
		return;
	if (sandbox_cgroup_end(run->cgroup) < 0)
		diag_warn("step '%s': cannot end its cgroup '%s': %s",
		    step_name(r, index), run->cgroup, strerror(errno));
	free(run->cgroup);
	run->cgroup = NULL;
}

/*
 * Kills what an untrusted attempt left running in its cgroup, and under
 * its uid unless
 * another running step has that uid (sandbox_end_uid()).
 */
static void
end_untrusted(struct runner *r, size_t index)
{
	struct step_run *run = &r->runs[index];
	const struct step_run *other;
	size_t i;

	end_cgroup(r, index);
	if (!run->own_uid)
		return;
	for (i = 0; i < r->n_running; i++) {
		other = &r->runs[r->running[i]];
		if (r->running[i] != index && other->own_uid &&
		    other->phase == RUN_RUNNING && other->uid == run->uid)
			return;
	}
	if (sandbox_end_uid(run->uid) < 0)
		diag_warn("step '%s': cannot end what it left running as uid "
			  "%ld: %s",
		    step_name(r, index), (long)run->uid, strerror(errno));
}

void
attempt_end_untrusted(struct runner *r, size_t index)
{
	size_t j;

	end_cgroup(r, index);
	if (!r->runs[index].own_uid)
		return;
	sandbox_end_uid(r->runs[index].uid);
	for (j = index; j < r->plan->n_steps; j++)
		if (r->runs[j].uid == r->runs[index].uid)
			r->runs[j].own_uid = false;
}

static enum jobrun_outcome
attempt_outcome(const struct step_run *run)
{
	if (run->ended_by != JOBRUN_OUTCOME_PENDING)
		return run->ended_by;
	return run->record.exit_code == 0 && run->record.signal == 0
	    ? JOBRUN_OUTCOME_SUCCESS
	    : JOBRUN_OUTCOME_FAILED;
}

static void
read_outputs(struct runner *r, size_t index)
{
	struct step_run *run = &r->runs[index];
	char *name = outputs_name(r, index), *error;

	if ((run->outputs_fd >= 0 ? step_outputs_load_fd(
					&run->outputs, run->outputs_fd, &error)
				  : step_outputs_load(&run->outputs,
					r->outputs_dir, name, &error)) < 0) {
		diag_warn("step '%s': outputs ignored: %s", step_name(r, index),
		    error);
		free(error);
		nvlist_release(&run->outputs);
	}
	free(name);
}

/*
 * Reads what step index wrote to $JOBRUN_STEP_SUMMARY: from the file
 * jobrun made for it, else from the one it made (never followed or
 * blocking).  More than RUNNER_SUMMARY_MAX bytes is cut, with a warning,
 * before any part of a secret the cut would break (mask_safe_cut()).
 */
static void
read_summary(struct runner *r, size_t index)
{
	struct step_run *run = &r->runs[index];
	char *name = summary_name(r, index), *error = NULL, *text, more;
	ssize_t got;
	size_t used = 0;
	int fd = run->summary_fd >= 0
	    ? run->summary_fd
	    : file_open_read(r->outputs_dir, name, &error);

	free(name);
	if (fd < 0) {
		if (errno != ENOENT)
			diag_warn("step '%s': summary ignored: %s",
			    step_name(r, index), error);
		free(error);
		return;
	}
	text = xmalloc(RUNNER_SUMMARY_MAX + 1);
	while (used < RUNNER_SUMMARY_MAX &&
	    (got = pread(fd, text + used, RUNNER_SUMMARY_MAX - used,
		 (off_t)used)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			break;
		used += (size_t)got;
	}
	if (used == RUNNER_SUMMARY_MAX &&
	    pread(fd, &more, 1, (off_t)used) > 0) {
		diag_warn("step '%s': the summary is cut at %d bytes",
		    step_name(r, index), RUNNER_SUMMARY_MAX);
		/* Not inside a secret: its first part would go out. */
		if (r->mask != NULL)
			used = mask_safe_cut(r->mask, text, used);
	}
	if (fd != run->summary_fd)
		close(fd);
	text[used] = '\0';
	if (used == 0) {
		free(text);
		return;
	}
	run->summary = text;
	run->record.summary = text;
}

void
attempt_exited(struct runner *r, size_t index, int status)
{
	struct step_run *run = &r->runs[index];

	run->pid = 0;
	status = step_status(run, status);
	if (WIFEXITED(status)) {
		run->record.exit_code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		run->record.exit_code = -1;
		run->record.signal = WTERMSIG(status);
	}
	/* The pipe stays open until end of file, or until it is quiet;
	 * what is left in the group goes after that. */
	run->drain_cap = clock_now_ms() + r->grace_ms;
	run->drain_until = clock_now_ms() + LEFTOVER_QUIET_MS;
	if (!r->pipes_paused)
		drain(r, run, READS_PER_CALLBACK);
	attempt_check(r, index);
}

/*
 * --shell-on-failure: the failed step index's shell, interactive, in its
 * directory with its environment, until the person at the terminal exits
 * it.  Never for an untrusted step: the shell would run as jobrun.
 */
static void
open_shell(struct runner *r, size_t index)
{
	const struct step *step = r->plan->steps[index].step;
	const char *shell =
	    step->shell ? step->shell : config_get(r->config, CONFIG_SHELL);
	char **argv, **envp, *program = NULL, *workdir, *error = NULL;
	const char *cwd;
	int status;

	if (sandbox_step_untrusted(r->plan->job, step)) {
		diag_error("step '%s': untrusted: --shell-on-failure opens no "
			   "shell for it",
		    step->name);
		return;
	}
	argv = stepenv_argv(shell, "");
	envp = step_envp(r, index);
	cwd = stepenv_workdir(r->config, step, &workdir);
	if (argv[0] == NULL || strcmp(argv[0], "-c") == 0 ||
	    (program = find_shell(r, argv[0], stepenv_get(envp, "PATH"))) ==
		NULL) {
		diag_error("step '%s': no shell to open", step->name);
	} else {
		diag_error("step '%s' failed: a shell in %s with its "
			   "environment; exit it to go on",
		    step->name, cwd != NULL ? cwd : ".");
		console_set_status(r->console, NULL);
		console_drain(r->console, clock_now_ms() + 1000);
		status = debug_shell_run(program, envp, cwd, &error);
		if (status < 0) {
			diag_error("step '%s': %s", step->name, error);
			free(error);
		}
	}
	free(program);
	free(workdir);
	stepenv_free(argv);
	stepenv_free(envp);
}

void
attempt_check(struct runner *r, size_t index)
{
	const struct step *step = r->plan->steps[index].step;
	struct step_run *run = &r->runs[index];
	enum jobrun_outcome outcome;

	if (run->phase != RUN_RUNNING || run->pid != 0)
		return;
	if (run->pipe_fd >= 0 && clock_now_ms() < run->drain_until)
		return;
	/* What is still in the pipe belongs in the log, even while the
	 * console is behind; a pipe holds at most its size, so this ends even
	 * when a leftover writes without pause. */
	drain(r, run, READS_TO_EMPTY);
	close_pipe(r, run);
	remember_leftover(r, run->group);
	end_untrusted(r, index);
	read_outputs(r, index);
	read_summary(r, index);
	outcome = attempt_outcome(run);
	/* The kernel does not say whom it killed: a failure while the
	 * cgroup's count rose is put down to the OOM killer (oom.h). */
	run->record.oom_killed = outcome == JOBRUN_OUTCOME_FAILED &&
	    oom_watch_kills(&r->oom) > run->oom_kills;
	if ((outcome == JOBRUN_OUTCOME_FAILED ||
		outcome == JOBRUN_OUTCOME_TIMED_OUT) &&
	    run->record.attempts <= (unsigned)step->retries &&
	    r->cancel_signal == 0 && !r->job_timed_out) {
		attempt_start(r, index);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &run->record.finished);
	run->record.duration_ms = clock_now_ms() - run->start_ms;
	console_stream_close(run->stream);
	if (r->shell_on_failure &&
	    (outcome == JOBRUN_OUTCOME_FAILED ||
		outcome == JOBRUN_OUTCOME_TIMED_OUT))
		open_shell(r, index);
	run->stream = NULL;
	runner_remove_running(r, index);
	runner_finish_step(r, index, outcome);
}

static void
on_output(struct loop *loop, int fd, uint32_t events, void *data)
{
	struct step_run *run = data;

	(void)loop;
	(void)fd;
	(void)events;
	drain(run->runner, run, READS_PER_CALLBACK);
	attempt_check(run->runner, run->index);
}
