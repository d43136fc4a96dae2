/*
 * The host side of a containerised job over the runtime seam.  The flow,
 * for one run id:
 *   1. clear the workspace's previous result files, so that no stale truth
 *      survives;
 *   2. reconcile: find the instance by name and act on its state (create
 *      then start; start; attach to the logs; collect), a create that
 *      loses a race to another run reconciling again;
 *   3. started here: write the bundle on the job's standard input, which
 *      then stays open as the lifeline (closed at once with --detach);
 *   4. stream the output to the console through a mask stream, turning the
 *      host's signals into SIGTERM then SIGKILL, with a hard stop;
 *   5. wait, collect the result files, remove the instance (from the
 *      bound workspace, the results need no instance: its removal begins
 *      first and runs on while they are copied);
 *   6. cross-check the runtime's OOM verdict with the job's own record.
 * A failure of the host side writes result.json itself (125).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "clock.h"
#include "diag.h"
#include "file.h"
#include "runtime-run.h"
#include "xalloc.h"

/* Beyond the grace period, what the job inside gets for its clean-up
 * before the host kills it. */
#define RUNTIME_RUN_KILL_MARGIN_MS (30 * 1000)

/* What the engine said on the job's standard error that a run keeps, to
 * quote when the container never started. */
#define RUNTIME_RUN_SAID_MAX 1024

/* The files and directories a job's workspace gives back. */
static const char *const collected[] = { "result.json", "triggers.json",
	"outputs.json", "logs", "artifacts" };

struct run {
	struct runtime *rt;
	struct runtime_run_options *o;
	const char *name;
	struct runtime_attach attach;
	struct mask_stream *stream;
	struct mask_stream *error_stream; /* the job's standard error */
	uint64_t started; /* clock_now_ms() */
	uint64_t kill_at; /* SIGKILL due; 0: none */
	bool stopping; /* SIGTERM sent */
	bool killed; /* SIGKILL sent */
	bool timed_out;
	bool others; /* found running under another live owner */
	bool removing; /* the instance's removal has begun */
	bool engine_oom; /* the runtime says its OOM killer struck */
	/* The backend wrote result.json, then failed to collect the rest
	 * (Kubernetes' results volume): the record stands, the run is 125. */
	bool result_stands;
	char *error; /* the host-side failure, if any */
	/* Why the run was stopped before the job ran (a call of the backend
	 * that the job's timeout or a signal stopped), for result.json. */
	char *stop_reason;
	/* The first bytes of the job's standard error, masked: the engine's
	 * own complaint when the container never started. */
	char said[RUNTIME_RUN_SAID_MAX + 1];
	size_t said_length;
	bool said_more; /* there was more than said holds */
};

static void
console_emit(void *context, const char *data, size_t size)
{
	const struct run *run = context;

	/* A console that went away must not end the job: drop output. */
	(void)file_write_all(run->o->console, data, size);
}

static void
console_errors_emit(void *context, const char *data, size_t size)
{
	struct run *run = context;
	int fd = run->o->console_errors >= 0 ? run->o->console_errors
					     : run->o->console;
	size_t room = RUNTIME_RUN_SAID_MAX - run->said_length;

	(void)file_write_all(fd, data, size);
	if (size > room)
		run->said_more = true;
	memcpy(run->said + run->said_length, data, size < room ? size : room);
	run->said_length += size < room ? size : room;
	run->said[run->said_length] = '\0';
}

static int
host_failure(struct run *run, char *why)
{
	if (run->error == NULL)
		run->error = why;
	else
		free(why);
	return -1;
}

/* The bounds of the backend's calls (runtime.h).  Before the job runs,
 * its timeout and the host's signals: what stops the job stops them. */
static void
bound_by_job(struct run *run)
{
	run->rt->interrupt_fd = run->o->signals;
	run->rt->deadline_ms =
	    run->o->timeout_ms > 0 ? run->started + run->o->timeout_ms : 0;
	run->rt->deadline_name = "the job's timeout";
}

/* Once the job has ended (or to signal it), each call has a short bound
 * of its own: the job's timeout may have passed.  A signal (read by
 * the streaming, or left for it) does not stop it. */
static void
bound_call(struct run *run, uint64_t ms, const char *name)
{
	run->rt->interrupt_fd = -1;
	run->rt->deadline_ms = clock_now_ms() + ms;
	run->rt->deadline_name = name;
}

/* A backend call failed before the job ran; one that the job's timeout
 * or a signal stopped (errno ETIMEDOUT, ECANCELED) ends the run as timed
 * out (124) or cancelled (143), result.json naming the call; a signal is
 * read and acted on as ever. */
static int
call_failure(struct run *run, char *error)
{
	int why = errno;

	if (why != ECANCELED && why != ETIMEDOUT)
		return host_failure(run, error);
	diag_error("%s", error);
	if (why == ETIMEDOUT)
		run->timed_out = true;
	else
		run->stopping = true;
	if (run->stop_reason == NULL)
		run->stop_reason = error;
	else
		free(error);
	return -1;
}

/* A backend call failed: if the backend does not answer at all, that is
 * the message. */
static int
backend_failure(struct run *run, char *error)
{
	char *why = NULL;

	if (errno == ECANCELED || errno == ETIMEDOUT)
		return call_failure(run, error);
	if (run->rt->ops->probe(run->rt, &why) < 0) {
		free(error);
		return call_failure(run, why);
	}
	return host_failure(run, error);
}

/*
 * Creates the instance; a missing image is made present by the pull policy
 * first, and "always" pulls before.  Returns 0 created, 1 the name is
 * taken (an instance of this run exists), or -1.
 */
static int
create(struct run *run)
{
	const struct runtime_ops *ops = run->rt->ops;
	const char *image = run->o->spec.image;
	char *error = NULL;
	bool pulled = false;

	if (run->o->pull == RUNTIME_PULL_ALWAYS) {
		if (ops->pull(run->rt, image, run->o->pull, &error) < 0)
			return call_failure(run, error);
		pulled = true;
	}
	for (;;) {
		if (ops->create(run->rt, &run->o->spec, &error) == 0)
			return 0;
		if (errno == EEXIST) {
			free(error);
			return 1;
		}
		if (errno != ENOENT || pulled)
			return backend_failure(run, error);
		/* The image is not here. */
		free(error);
		error = NULL;
		if (ops->pull(run->rt, image, run->o->pull, &error) < 0)
			return call_failure(run, error);
		pulled = true;
	}
}

/*
 * Step 2: reconciles until the instance is running here or has ended;
 * *out_action says what was done.  The first look is a create: names are
 * unique, so a create is the atomic form of "nothing there? create" and
 * costs one call; only a name already taken is looked up and acted on by
 * its state (runtime_reconcile()).
 */
static int
reconcile(struct run *run, enum runtime_action *out_action)
{
	struct runtime_instance found = RUNTIME_INSTANCE_INIT;
	const struct runtime_ops *ops = run->rt->ops;
	char *error = NULL;
	int tries, rc;

	for (tries = 0; tries < 3; tries++) {
		enum runtime_action action = RUNTIME_DO_CREATE;

		if (tries > 0 || run->o->attach_only) {
			if (ops->find(run->rt, run->name, &found, &error) < 0)
				return backend_failure(run, error);
			action = runtime_reconcile(found.state);
			/* Its owner, alive, collects and removes it. */
			run->others = !found.detached &&
			    runtime_owner_alive(found.owner, NULL) == 1 &&
			    (run->o->spec.owner == NULL ||
				strcmp(found.owner, run->o->spec.owner) != 0);
			runtime_instance_release(&found);
		}
		*out_action = action;
		if (run->o->attach_only && action == RUNTIME_DO_CREATE)
			return host_failure(
			    run, xasprintf("no run '%s' here", run->o->run_id));
		if (run->o->attach_only && action == RUNTIME_DO_START)
			return host_failure(run,
			    xasprintf("run '%s' was created but never "
				      "started: run it again with --run-id %s",
				run->o->run_id, run->o->run_id));
		switch (action) {
		case RUNTIME_DO_CREATE:
			if ((rc = create(run)) < 0)
				return -1;
			if (rc > 0)
				continue;
			*out_action = RUNTIME_DO_START;
			/* FALLTHROUGH */
		case RUNTIME_DO_START:
			if (run->o->detach && ops->start != NULL)
				return ops->start(run->rt, run->name, &error) <
					0
				    ? call_failure(run, error)
				    : 0;
			return ops->attach(run->rt, run->name, true,
				   &run->attach, &error) < 0
			    ? call_failure(run, error)
			    : 0;
		case RUNTIME_DO_ATTACH:
			return ops->logs(run->rt, run->name, true, &run->attach,
				   &error) < 0
			    ? call_failure(run, error)
			    : 0;
		case RUNTIME_DO_COLLECT:
			return 0;
		}
	}
	return host_failure(
	    run, xasprintf("instance '%s' keeps changing under us", run->name));
}

/* Step 3: the bundle, then the lifeline stays open (or not).  A job that
 * ended before reading it (an image without jobrun, say) closed its end:
 * its status says why. */
static int
hand_over(struct run *run)
{
	if (run->attach.input < 0)
		return 0;
	if (run->o->bundle_length > 0 &&
	    file_write_all(
		run->attach.input, run->o->bundle, run->o->bundle_length) < 0 &&
	    errno != EPIPE)
		return host_failure(run,
		    xasprintf("cannot hand the job its secrets: %s",
			strerror(errno)));
	if (run->o->detach) {
		close(run->attach.input);
		run->attach.input = -1;
	}
	return 0;
}

static void
send_signal(struct run *run, int signo)
{
	char *error = NULL;

	bound_call(run, RUNTIME_CALL_TIMEOUT_MS, RUNTIME_CALL_TIMEOUT_NAME);
	if (run->rt->ops->signal(run->rt, run->name, signo, &error) < 0) {
		diag_warn("cannot signal '%s': %s", run->name, error);
		free(error);
	}
}

/* A host signal: SIGTERM into the job, then SIGKILL after the grace
 * period and a margin (the job inside needs its own grace period, then
 * time for its clean-up steps); a second Ctrl-C kills at once. */
static void
on_host_signal(struct run *run, int signo)
{
	if (!run->stopping) {
		run->stopping = true;
		run->kill_at = clock_now_ms() + run->o->grace_ms +
		    RUNTIME_RUN_KILL_MARGIN_MS;
		send_signal(run, SIGTERM);
	} else if (signo == SIGINT && !run->killed) {
		run->killed = true;
		send_signal(run, SIGKILL);
	}
}

static void
on_deadlines(struct run *run)
{
	uint64_t now = clock_now_ms();

	if (run->o->hard_stop_ms > 0 && !run->killed &&
	    now >= run->started + run->o->hard_stop_ms) {
		diag_error(
		    "the job did not end in time: stopping '%s'", run->name);
		run->timed_out = true;
		run->killed = true;
		send_signal(run, SIGKILL);
	}
	if (run->kill_at != 0 && !run->killed && now >= run->kill_at) {
		run->killed = true;
		send_signal(run, SIGKILL);
	}
}

static int
poll_timeout(const struct run *run)
{
	uint64_t now = clock_now_ms(), next = UINT64_MAX;

	if (run->o->hard_stop_ms > 0 && !run->killed)
		next = run->started + run->o->hard_stop_ms;
	if (run->kill_at != 0 && !run->killed && run->kill_at < next)
		next = run->kill_at;
	if (next == UINT64_MAX)
		return -1;
	return next <= now ? 0 : (int)(next - now > 60000 ? 60000 : next - now);
}

/* What is there on *fd into stream; at its end (or a failure), *fd is
 * closed and -1. */
static void
pass_on(int *fd, struct mask_stream *stream)
{
	char buf[65536];
	ssize_t got = read(*fd, buf, sizeof(buf));

	if (got < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (got <= 0) {
		close(*fd);
		*fd = -1;
		return;
	}
	mask_stream_feed(stream, buf, (size_t)got);
}

/* Step 4: until the output ends (the standard output and, when the
 * backend keeps it apart, the standard error, each to its own console
 * through its own mask stream). */
static void
stream_output(struct run *run)
{
	struct pollfd fds[3] = { { run->attach.output, POLLIN, 0 },
		{ run->attach.errors, POLLIN, 0 },
		{ run->o->signals, POLLIN, 0 } };

	while (run->attach.output >= 0 || run->attach.errors >= 0) {
		/* poll() skips a descriptor of -1. */
		int n = poll(fds, 3, poll_timeout(run));

		if (n < 0 && errno != EINTR)
			break;
		on_deadlines(run);
		if (n > 0 && fds[2].revents != 0) {
			struct signalfd_siginfo si;

			if (read(run->o->signals, &si, sizeof(si)) ==
			    (ssize_t)sizeof(si))
				on_host_signal(run, (int)si.ssi_signo);
		}
		if (n > 0 && fds[0].revents != 0)
			pass_on(&run->attach.output, run->stream);
		if (n > 0 && fds[1].revents != 0)
			pass_on(&run->attach.errors, run->error_stream);
		fds[0].fd = run->attach.output;
		fds[1].fd = run->attach.errors;
	}
	mask_stream_flush(run->stream);
	mask_stream_flush(run->error_stream);
}

/*
 * The instance was created and never started (the OCI runtime refused its
 * limits, its entrypoint is missing): nothing of the job ran, and what
 * the engine said on the job's standard error is the reason, quoted
 * (masked, as it passed through the mask stream; its first
 * RUNTIME_RUN_SAID_MAX bytes).
 */
static int
did_not_start(struct run *run, int tool_status)
{
	size_t n = run->said_length;

	while (n > 0 && strchr(" \t\r\n", run->said[n - 1]) != NULL)
		n--;
	if (n == 0)
		return host_failure(run,
		    xasprintf("the container '%s' did not start: %s ended "
			      "with status %d and said nothing",
			run->name, run->rt->kind, tool_status));
	return host_failure(run,
	    xasprintf("the container '%s' did not start: %s said: %.*s%s",
		run->name, run->rt->kind, (int)n, run->said,
		run->said_more ? " [...]" : ""));
}

/* Whether the instance is still as created (never started). */
static bool
never_started(struct run *run)
{
	struct runtime_instance found = RUNTIME_INSTANCE_INIT;
	char *error = NULL;
	bool yes;

	bound_call(run, RUNTIME_CALL_TIMEOUT_MS, RUNTIME_CALL_TIMEOUT_NAME);
	yes = run->rt->ops->find(run->rt, run->name, &found, &error) == 0 &&
	    found.state == RUNTIME_CREATED;

	free(error);
	runtime_instance_release(&found);
	return yes;
}

/*
 * Step 5: the job's status.  The process that started and attached to
 * the job ends with the job's status (or, following another run's job,
 * the backend's waiter gives it), which saves asking; statuses that may
 * be the tool's own (125-127), or none, are asked for; started here, an
 * instance still as created never started (did_not_start()), and is not
 * waited for (docker's "wait" would wait for its start).
 */
static int
job_status(struct run *run, enum runtime_action action)
{
	struct runtime_instance found = RUNTIME_INSTANCE_INIT;
	const struct runtime_ops *ops = run->rt->ops;
	char *error = NULL;
	int status = ops->detach(run->rt, &run->attach);

	if (status < 0 ||
	    (action == RUNTIME_DO_START && status >= 125 && status <= 127)) {
		if (action == RUNTIME_DO_START && never_started(run))
			return did_not_start(run, status);
		bound_call(
		    run, RUNTIME_CALL_TIMEOUT_MS, RUNTIME_CALL_TIMEOUT_NAME);
		if (ops->wait(run->rt, run->name, &status, &error) < 0)
			return host_failure(run, error);
	}
	/* The runtime's OOM verdict, for cross_check_oom(): asked only
	 * when the job did not succeed, so that a success costs no more. */
	bound_call(run, RUNTIME_CALL_TIMEOUT_MS, RUNTIME_CALL_TIMEOUT_NAME);
	if (status != 0 && ops->find(run->rt, run->name, &found, &error) == 0)
		run->engine_oom = found.oom_killed;
	free(error);
	runtime_instance_release(&found);
	return status;
}

static bool
has_result(const char *dir)
{
	char *path = xasprintf("%s/result.json", dir);
	bool yes = access(path, F_OK) == 0;

	free(path);
	return yes;
}

/* A job that left nothing may never have started: an image without
 * jobrun is said so (one look at the image, only then).  Returns -1 when
 * it is that. */
static int
image_without_jobrun(struct run *run)
{
	char *why = NULL;

	bound_call(run, RUNTIME_CALL_TIMEOUT_MS, RUNTIME_CALL_TIMEOUT_NAME);
	if (run->o->spec.image != NULL &&
	    run->rt->ops->pull(
		run->rt, run->o->spec.image, RUNTIME_PULL_NEVER, &why) < 0 &&
	    errno == ENOEXEC)
		return host_failure(run, why);
	free(why);
	return 0;
}

/* Copies the result files into the workspace through an unlinked file.
 * Returns 0, 1 when there are none and the runtime says the job ran out
 * of memory (cross_check_oom() says so), or -1. */
static int
collect(struct run *run, int status)
{
	char *error = NULL,
	     *path = xasprintf("%s/.collect-XXXXXX", run->o->workspace);
	int fd = mkostemp(path, O_CLOEXEC), skipped;

	if (fd < 0) {
		host_failure(run,
		    xasprintf("cannot make a file in '%s': %s",
			run->o->workspace, strerror(errno)));
		free(path);
		return -1;
	}
	unlink(path);
	free(path);
	/* A copy out may be long (artifacts): the unpacking's bound, and a
	 * signal ends it, as it ends the unpacking. */
	bound_call(run, RUNTIME_RESULTS_TIMEOUT_MS, "10 minutes");
	run->rt->interrupt_fd = run->o->signals;
	if (run->o->bound_workspace != NULL &&
	    !has_result(run->o->bound_workspace)) {
		/* Another run's container (same run id): its workspace is
		 * not the one bound here. */
		run->o->bound_workspace = NULL;
	}
	if (run->o->bound_workspace != NULL)
		skipped = runtime_extract_results_dir(
		    run->o->bound_workspace, run->o->workspace, &error);
	else if (run->rt->ops->collect_result != NULL)
		skipped = run->rt->ops->collect_result(
		    run->rt, run->name, run->o->workspace, &error);
	else if (run->rt->ops->collect(run->rt, run->name, "/job", fd, &error) <
		0 ||
	    lseek(fd, 0, SEEK_SET) < 0)
		skipped = -1;
	else
		skipped =
		    runtime_extract_results(fd, run->o->workspace, &error);
	if (skipped < 0 && run->engine_oom) {
		/* Killed before it wrote a result: cross_check_oom(). */
		close(fd);
		free(error);
		return 1;
	}
	if (skipped < 0) {
		char *why = NULL;
		int cause = errno;

		close(fd);
		run->result_stands = run->rt->ops->collect_result != NULL &&
		    run->o->bound_workspace == NULL &&
		    has_result(run->o->workspace);
		if (image_without_jobrun(run) < 0) {
			free(error);
			return -1;
		}
		if (run->others) {
			/* Its owner collected and removed it first. */
			diag_warn("cannot collect the results of '%s' (its "
				  "owner collects them): %s",
			    run->name, error != NULL ? error : strerror(cause));
			free(error);
			return 0;
		}
		why = xasprintf("cannot collect the results of '%s': %s",
		    run->name, error != NULL ? error : strerror(cause));
		free(error);
		return host_failure(run, why);
	}
	close(fd);
	if (skipped > 0)
		diag_warn("%d unsafe entr%s in the results of '%s' skipped",
		    skipped, skipped == 1 ? "y" : "ies", run->name);
	if (!has_result(run->o->workspace)) {
		if (run->engine_oom)
			return 1;
		/* Stopped by this host (its hard stop, or a signal not
		 * acted on in time): finish() writes why. */
		if (run->timed_out || run->stopping)
			return 0;
		if (image_without_jobrun(run) < 0)
			return -1;
		return host_failure(run,
		    xasprintf("the job in '%s' ended with status %d and left "
			      "no result.json",
			run->name, status));
	}
	return 0;
}

/* The workspace's result.json, or NULL when it cannot be read. */
static json_t *
read_result(const char *workspace)
{
	char *path = xasprintf("%s/result.json", workspace);
	json_t *result = json_load_file(path, 0, NULL);

	free(path);
	return json_is_object(result) ? result : (json_decref(result), NULL);
}

/* The first step jobrun's record says the OOM killer struck, or NULL. */
static const char *
oom_step(json_t *result)
{
	json_t *step;
	size_t i;

	json_array_foreach(json_object_get(result, "steps"), i, step) if (
	    json_is_true(json_object_get(step,
		"oom_killed"))) return json_string_value(json_object_get(step,
	    "name"));
	return NULL;
}

/*
 * Cross-checks the runtime's OOM verdict with jobrun's own record (the
 * steps' oom_killed in result.json), so that the exit status, result.json
 * and the message agree (jobrun(1) RUNTIMES):
 *   runtime  record                   status, result.json      message
 *   OOM      none (PID 1 was killed)  1, written: failed       error
 *   OOM      a step OOM-killed        the record's             error: both
 *   OOM      no step OOM-killed       the record's (it stands) warning
 *   -        a step OOM-killed        the record's             error
 * recorded is false when there is no record.  Returns the exit status.
 */
static int
cross_check_oom(struct run *run, int status, bool recorded)
{
	const char *kind = run->rt->kind, *step, *outcome;
	json_t *result;
	char *why;

	if (!recorded) {
		why = xasprintf("the job's container ran out of memory: %s "
				"says it was OOM-killed before jobrun inside "
				"wrote its result",
		    kind);
		diag_error("%s", why);
		runtime_write_host_result(run->o->workspace, run->o->spec.job,
		    "failed", EXIT_JOB_FAILED, why, run->o->mask);
		free(why);
		return EXIT_JOB_FAILED;
	}
	if (status == 0 || (result = read_result(run->o->workspace)) == NULL)
		return status;
	step = oom_step(result);
	outcome = json_string_value(json_object_get(result, "outcome"));
	if (run->engine_oom && step != NULL)
		diag_error("step '%s' ran out of memory: jobrun's record and "
			   "%s agree it was OOM-killed",
		    step, kind);
	else if (run->engine_oom)
		diag_warn("the job's container ran out of memory after jobrun "
			  "inside recorded its result (%s): %s says it was "
			  "OOM-killed; the record stands",
		    outcome != NULL ? outcome : "unknown", kind);
	else if (step != NULL)
		diag_error("step '%s' was killed by the OOM killer (jobrun's "
			   "record); the container itself was not",
		    step);
	/* Killed after the record was written: the record is the job's. */
	if (run->engine_oom &&
	    json_is_integer(json_object_get(result, "exit_status")))
		status = (int)json_integer_value(
		    json_object_get(result, "exit_status"));
	json_decref(result);
	return status;
}

static void
clear_stale_results(const char *workspace)
{
	size_t i;

	for (i = 0; i < 3; i++) {
		char *path = xasprintf("%s/%s", workspace, collected[i]);

		(void)unlink(path);
		free(path);
	}
}

/* Whether the instance goes at the end: unless kept, detached or
 * another live owner's. */
static bool
removes(const struct run *run)
{
	return !run->o->keep && !run->o->detach && !run->others;
}

/* Results read from the bound workspace need the instance no more: its
 * removal begins now and overlaps their copy (the backend's free waits). */
static void
begin_removal(struct run *run)
{
	if (run->rt->ops->destroy_begin != NULL && removes(run) &&
	    run->o->bound_workspace != NULL &&
	    has_result(run->o->bound_workspace))
		run->removing =
		    run->rt->ops->destroy_begin(run->rt, run->name) == 0;
}

/* Ends the run: the instance goes unless kept, a failure is written. */
static int
finish(struct run *run, int status)
{
	char *error = NULL;

	if (run->attach.pid >= 0 || run->attach.input >= 0 ||
	    run->attach.output >= 0)
		(void)run->rt->ops->detach(run->rt, &run->attach);
	/* "attach" to a run that is not there leaves everything alone. */
	if (run->o->attach_only && run->error != NULL) {
		diag_error("%s", run->error);
		free(run->error);
		return EXIT_JOBRUN_ERROR;
	}
	bound_call(run, RUNTIME_CALL_TIMEOUT_MS, RUNTIME_CALL_TIMEOUT_NAME);
	if (removes(run) && !run->removing &&
	    run->rt->ops->destroy(run->rt, run->name, &error) < 0) {
		diag_warn("cannot remove '%s': %s", run->name, error);
		free(error);
	}
	if (run->error != NULL && run->result_stands) {
		diag_error("%s", run->error);
		status = EXIT_JOBRUN_ERROR;
	} else if (run->error != NULL) {
		diag_error("%s", run->error);
		status = EXIT_JOBRUN_ERROR;
		runtime_write_host_result(run->o->workspace, run->o->spec.job,
		    "error", status, run->error, run->o->mask);
	} else if (run->timed_out) {
		status = EXIT_JOB_TIMED_OUT;
		runtime_write_host_result(run->o->workspace, run->o->spec.job,
		    "timed_out", status,
		    run->stop_reason != NULL
			? run->stop_reason
			: "the job did not end within its timeout, its grace "
			  "period and a margin: the host stopped it",
		    run->o->mask);
	} else if (run->stopping && !has_result(run->o->workspace)) {
		status = EXIT_SIGNAL_BASE + SIGTERM;
		runtime_write_host_result(run->o->workspace, run->o->spec.job,
		    "cancelled", status,
		    run->stop_reason != NULL ? run->stop_reason
			: run->killed
			? "the job was cancelled and stopped by the "
			  "host before it wrote its result"
			: "the job was cancelled and ended without "
			  "writing its result",
		    run->o->mask);
	}
	free(run->error);
	free(run->stop_reason);
	return status;
}

int
runtime_run_job(struct runtime *rt, struct runtime_run_options *o)
{
	struct run run = { .rt = rt, .o = o, .attach = RUNTIME_ATTACH_INIT };
	enum runtime_action action = RUNTIME_DO_CREATE;
	char *error = NULL, *name = runtime_instance_name(o->run_id);
	struct mask_set *own_mask = NULL;
	int status = EXIT_JOBRUN_ERROR, dirfd, collected_rc;

	if (o->mask == NULL)
		o->mask = own_mask = mask_set_new(NULL, 0);
	run.name = name;
	run.started = clock_now_ms();
	o->spec.name = name;
	o->spec.run_id = o->run_id;
	o->spec.detached = o->detach;
	if ((dirfd = file_make_dirs(o->workspace, &error)) < 0) {
		host_failure(&run, error);
		goto out;
	}
	close(dirfd);
	if (!o->attach_only)
		clear_stale_results(o->workspace);
	bound_by_job(&run);
	if (reconcile(&run, &action) < 0 || hand_over(&run) < 0)
		goto out;
	if (o->detach) {
		dprintf(o->console, "%s\n", o->run_id);
		status = 0;
		goto out;
	}
	if (action == RUNTIME_DO_COLLECT)
		diag_warn("run '%s' had ended already: collecting its results",
		    o->run_id);
	run.stream = mask_stream_new(o->mask, console_emit, &run);
	run.error_stream = mask_stream_new(o->mask, console_errors_emit, &run);
	if (action != RUNTIME_DO_COLLECT)
		stream_output(&run);
	mask_stream_free(run.stream);
	mask_stream_free(run.error_stream);
	if ((status = job_status(&run, action)) >= 0)
		begin_removal(&run);
	if (status < 0 || (collected_rc = collect(&run, status)) < 0)
		status = EXIT_JOBRUN_ERROR;
	else
		status = cross_check_oom(&run, status, collected_rc == 0);
out:
	status = finish(&run, status);
	if (own_mask != NULL) {
		o->mask = NULL;
		mask_set_free(own_mask);
	}
	free(name);
	return status;
}
