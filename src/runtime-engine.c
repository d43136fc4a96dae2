/*
 * The Podman and Docker backend of the runtime seam, driving their
 * command-line tools with JSON output rather than the Engine API: the CLI
 * honours the user's contexts, rootless set-ups, remote hosts
 * (CONTAINER_HOST, DOCKER_HOST, podman --connection) and credentials with
 * no HTTP client here.  What differs between the two tools (the shape of
 * "ps" and of states, the wording of errors) is parsed in
 * runtime-engine-parse.c, tested by a table.
 *
 * Every tool run goes through engine_spawn(); the host side of a run has
 * no step engine, so the one place that waits for these children is
 * engine_reap().  Children run in their own process group, so that a
 * Ctrl-C at the terminal reaches jobrun alone: jobrun decides what the
 * job gets.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "diag.h"
#include "proc.h"
#include "runtime-engine.h"
#include "xalloc.h"

struct engine {
	struct runtime *rt; /* its runtime: what bounds each run of the tool */
	char *program;
	enum engine_kind kind;
	/* The instance engine_create started with "run" (its name; NULL when
	 * none) and its attachment, held for the attach that starts it. */
	char *started;
	struct runtime_attach started_attach;
	/* The instance whose removal engine_destroy_begin() started (NULL
	 * when none), the "rm" removing it and its complaints' pipe. */
	char *removing;
	pid_t removing_pid;
	int removing_output;
};

static struct engine *
engine_of(struct runtime *rt)
{
	return rt->backend;
}

/* The one wait for the tool's children.  Returns the exit status (128+N
 * when killed by signal N). */
static int
engine_reap(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* Whether pid has ended, without reaping it (waitid with WNOWAIT). */
static bool
engine_ended(pid_t pid)
{
	siginfo_t info = { 0 };

	if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) < 0)
		return errno != EINTR;
	return info.si_pid == pid;
}

/*
 * Starts the tool with args (after the program name).  Its standard input
 * is in (-1: /dev/null); its standard output out; its standard error err
 * (-1: same as out).  Returns the pid, or -1 with *error.
 */
static pid_t
engine_spawn(struct engine *e, const char *const *args, int in, int out,
    int err, char **error)
{
	char *argv[64];
	size_t n = 0;

	/* runtime_tool_spawn() takes char *const[]; nothing writes to them. */
	argv[n++] = e->program;
	while (*args != NULL && n < 63)
		argv[n++] = (char *)(uintptr_t)*args++;
	argv[n] = NULL;
	return runtime_tool_spawn(
	    argv, in, out, err >= 0 ? err : out, false, error);
}

/* After SIGTERM, a tool stopped by the run gets SIGKILL this much later. */
#define ENGINE_STOP_KILL_MS 2000

/* What the tool's complaints keep at most. */
#define ENGINE_ERR_MAX (1 << 20)

/*
 * The one bound of every run of the tool (runtime.h): it is stopped, its
 * process group sent SIGTERM then SIGKILL, when rt's interrupt fd becomes
 * readable (a signal came: it is left for the run to read) or rt's
 * deadline passes.
 */
struct engine_stop {
	int why; /* 0; ECANCELED or ETIMEDOUT once stopped */
	uint64_t kill_at; /* SIGKILL due; 0: not yet stopped */
	bool killed;
};

/* The poll() timeout until stop_check() has something to do. */
static int
stop_timeout(const struct runtime *rt, const struct engine_stop *stop)
{
	uint64_t now = clock_now_ms(), wake;

	if (stop->killed)
		return 100; /* until the tool is seen to end */
	wake = stop->why != 0 ? stop->kill_at : rt->deadline_ms;
	if (wake == 0)
		return -1;
	return wake > now ? (int)(wake - now < 60000 ? wake - now : 60000) : 0;
}

/* After a poll() whose entry for rt's interrupt fd is *interrupt: stops
 * pid's process group when it is due.  Returns whether it was stopped and
 * has ended (what it left open need not be read to its end). */
static bool
stop_check(const struct runtime *rt, struct engine_stop *stop,
    struct pollfd *interrupt, pid_t pid)
{
	uint64_t now = clock_now_ms();

	if (stop->why == 0 && interrupt->fd >= 0 &&
	    (interrupt->revents & POLLIN))
		stop->why = ECANCELED;
	if (stop->why == 0 && rt->deadline_ms != 0 && now >= rt->deadline_ms)
		stop->why = ETIMEDOUT;
	if (stop->why == 0)
		return false;
	if (stop->kill_at == 0) {
		interrupt->fd = -1;
		kill(-pid, SIGTERM);
		kill(-pid, SIGCONT);
		stop->kill_at = now + ENGINE_STOP_KILL_MS;
	} else if (!stop->killed && now >= stop->kill_at) {
		kill(-pid, SIGKILL);
		stop->killed = true;
	}
	return engine_ended(pid);
}

/* What the tool of args is called in messages: "podman container
 * inspect", "podman rm". */
static char *
call_name(const struct engine *e, const char *const *args)
{
	if (args[0] != NULL && args[1] != NULL &&
	    (strcmp(args[0], "container") == 0 ||
		strcmp(args[0], "image") == 0))
		return xasprintf("%s %s %s", e->program, args[0], args[1]);
	return xasprintf("%s %s", e->program, args[0] != NULL ? args[0] : "");
}

/* The message of a run of the tool that was stopped. */
static char *
stopped(const struct engine *e, const char *const *args, int why)
{
	const struct runtime *rt = e->rt;
	char *name = call_name(e, args), *text;

	if (why == ETIMEDOUT)
		text = xasprintf("'%s' did not end within %s: stopped", name,
		    rt->deadline_name != NULL ? rt->deadline_name : "its time");
	else
		text = xasprintf("'%s' stopped: the run is cancelled", name);
	free(name);
	return text;
}

/* Appends n bytes of chunk to *buf (NUL-terminated) up to limit. */
static void
append(char **buf, size_t *len, const char *chunk, size_t n, size_t limit)
{
	if (*len + n > limit)
		return;
	*buf = xreallocarray(*buf, *len + n + 1, 1);
	memcpy(*buf + *len, chunk, n);
	*len += n;
	(*buf)[*len] = '\0';
}

/*
 * Reads the tool's output (out, -1 when it goes elsewhere) and complaints
 * (err) to their ends, whichever fills first, under the bound
 * (struct engine_stop), then reaps it.  Returns 0, or the errno of the
 * stop (ECANCELED, ETIMEDOUT).
 */
static int
engine_watch(
    struct engine *e, pid_t pid, int out, int err, struct engine_output *o)
{
	struct pollfd fds[3] = { { out, POLLIN, 0 }, { err, POLLIN, 0 },
		{ e->rt->interrupt_fd, POLLIN, 0 } };
	struct engine_stop stop = { 0 };
	char chunk[8192];

	while (fds[0].fd >= 0 || fds[1].fd >= 0) {
		size_t i;

		if (poll(fds, 3, stop_timeout(e->rt, &stop)) < 0 &&
		    errno != EINTR)
			break;
		if (stop_check(e->rt, &stop, &fds[2], pid))
			break;
		for (i = 0; i < 2; i++) {
			ssize_t n;

			if (fds[i].fd < 0 || fds[i].revents == 0)
				continue;
			n = read(fds[i].fd, chunk, sizeof(chunk));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				fds[i].fd = -1;
			else if (i == 0)
				append(&o->out, &o->out_length, chunk,
				    (size_t)n, SIZE_MAX);
			else
				append(&o->err, &o->err_length, chunk,
				    (size_t)n, ENGINE_ERR_MAX);
		}
	}
	o->status = engine_reap(pid);
	return stop.why;
}

int
engine_run(struct engine *e, const char *const *args, int out_fd,
    struct engine_output *o, char **error)
{
	int out[2] = { -1, -1 }, err[2], why;
	pid_t pid;

	*o = (struct engine_output){ .out = xstrdup(""), .err = xstrdup("") };
	if (pipe2(err, O_CLOEXEC) < 0 ||
	    (out_fd < 0 && pipe2(out, O_CLOEXEC) < 0)) {
		*error = xasprintf("cannot make a pipe: %s", strerror(errno));
		engine_output_release(o);
		return -1;
	}
	pid = engine_spawn(
	    e, args, -1, out_fd >= 0 ? out_fd : out[1], err[1], error);
	close(err[1]);
	if (out[1] >= 0)
		close(out[1]);
	if (pid < 0) {
		close(err[0]);
		if (out[0] >= 0)
			close(out[0]);
		engine_output_release(o);
		return -1;
	}
	why = engine_watch(e, pid, out[0], err[0], o);
	if (out[0] >= 0)
		close(out[0]);
	close(err[0]);
	if (why != 0) {
		engine_output_release(o);
		*error = stopped(e, args, why);
		errno = why;
		return -1;
	}
	return 0;
}

void
engine_output_release(struct engine_output *o)
{
	free(o->out);
	free(o->err);
	o->out = o->err = NULL;
}

/* The tool's complaint, trimmed to its first line, for messages. */
static char *
complaint(
    const struct engine *e, const char *verb, const struct engine_output *o)
{
	size_t n = strcspn(o->err, "\n");

	if (n == 0)
		return xasprintf("'%s %s' failed with status %d", e->program,
		    verb, o->status);
	return xasprintf(
	    "'%s %s' failed: %.*s", e->program, verb, (int)n, o->err);
}

/* Runs a tool command that prints nothing of interest. */
static int
engine_simple(
    struct engine *e, const char *verb, const char *const *args, char **error)
{
	struct engine_output o;
	int rc = 0;

	if (engine_run(e, args, -1, &o, error) < 0)
		return -1;
	if (o.status != 0) {
		*error = complaint(e, verb, &o);
		errno = engine_error_errno(o.err);
		rc = -1;
	}
	engine_output_release(&o);
	return rc;
}

static int
engine_probe(struct runtime *rt, char **error)
{
	struct engine *e = engine_of(rt);
	const char *args[] = { "version", "--format", "{{.Server.Version}}",
		NULL };
	struct engine_output o;
	int rc = 0;

	if (engine_run(e, args, -1, &o, error) < 0)
		return -1;
	if (o.status != 0) {
		*error = xasprintf("%s does not answer (is its service "
				   "running?): %.*s",
		    e->program, (int)strcspn(o.err, "\n"), o.err);
		errno = ECONNREFUSED;
		rc = -1;
	}
	engine_output_release(&o);
	return rc;
}

/* Inspects image: 1 present (its jobrun verdict in *out_jobrun), 0
 * absent, -1 error. */
static int
inspect_image(
    struct engine *e, const char *image, bool *out_jobrun, char **error)
{
	const char *args[] = { "image", "inspect", "--format",
		"{{json .Config}}", image, NULL };
	struct engine_output o;
	int rc;

	if (engine_run(e, args, -1, &o, error) < 0)
		return -1;
	rc = o.status == 0;
	if (rc)
		*out_jobrun = engine_config_has_jobrun(o.out);
	engine_output_release(&o);
	return rc;
}

static int
engine_pull(struct runtime *rt, const char *image, enum runtime_pull policy,
    char **error)
{
	struct engine *e = engine_of(rt);
	const char *args[] = { "pull", "--quiet", image, NULL };
	bool jobrun = false;
	int present = 0;

	if (policy != RUNTIME_PULL_ALWAYS &&
	    (present = inspect_image(e, image, &jobrun, error)) < 0)
		return -1;
	if (!present && policy == RUNTIME_PULL_NEVER) {
		*error = xasprintf("image '%s' is not here and --pull is "
				   "never",
		    image);
		errno = ENOENT;
		return -1;
	}
	if (!present) {
		/* Bounded as every run of the tool is: a pull may take
		 * long, and the job's timeout or a signal stops it (errno
		 * ETIMEDOUT or ECANCELED). */
		if (engine_simple(e, "pull", args, error) < 0)
			return -1;
		if (inspect_image(e, image, &jobrun, error) < 0)
			return -1;
	}
	if (!jobrun) {
		*error = xasprintf("image '%s' holds no jobrun: expected the "
				   "label " RUNTIME_IMAGE_LABEL
				   " or jobrun as its entrypoint",
		    image);
		errno = ENOEXEC;
		return -1;
	}
	return 0;
}

static void
close_pipe(int p[2])
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
}

/*
 * Starts a long-running tool command whose output is the job's.  With
 * apart, its standard error has a pipe of its own (out->errors): without
 * a TTY, the tool keeps the job's standard output and error apart on its
 * own; else both go to out->output.
 */
static int
engine_stream(struct engine *e, const char *const *args, bool with_input,
    bool apart, struct runtime_attach *out, char **error)
{
	int in[2] = { -1, -1 }, output[2] = { -1, -1 }, errors[2] = { -1, -1 };

	if ((with_input && pipe2(in, O_CLOEXEC) < 0) ||
	    pipe2(output, O_CLOEXEC) < 0 ||
	    (apart && pipe2(errors, O_CLOEXEC) < 0)) {
		*error = xasprintf("cannot make a pipe: %s", strerror(errno));
		close_pipe(in);
		close_pipe(output);
		return -1;
	}
	out->pid = engine_spawn(e, args, in[0], output[1], errors[1], error);
	if (out->pid < 0) {
		close_pipe(in);
		close_pipe(output);
		close_pipe(errors);
		return -1;
	}
	close(output[1]);
	if (in[0] >= 0)
		close(in[0]);
	if (errors[1] >= 0)
		close(errors[1]);
	out->input = in[1];
	out->output = output[0];
	out->errors = errors[0];
	return 0;
}

/* Whether the tool has written the instance's id into cidfile (docker
 * makes the file empty first and removes it when the create fails). */
static bool
cidfile_written(const char *cidfile)
{
	struct stat st;

	return stat(cidfile, &st) == 0 && st.st_size > 0;
}

/*
 * Waits until the "run" in *attach has created its instance (the id in
 * cidfile, which inotify watching its directory announces) or has ended,
 * under the bound of every run of the tool (engine_watch()).  Nothing the
 * job prints can come before the id: the instance starts after it is
 * written, so whatever the tool printed on its standard error before is
 * its own complaint, kept in *o.  Returns 1 created, 0 ended (its status
 * in *o), or the errno of the stop (ECANCELED, ETIMEDOUT) once the tool,
 * stopped, has ended.
 */
static int
await_created(struct engine *e, struct runtime_attach *attach, int watch,
    const char *cidfile, struct engine_output *o)
{
	struct pollfd fds[3] = { { watch, POLLIN, 0 },
		{ attach->errors, POLLIN, 0 },
		{ e->rt->interrupt_fd, POLLIN, 0 } };
	struct engine_stop stop = { 0 };
	char chunk[4096];

	for (;;) {
		ssize_t n;

		if (poll(fds, 3, stop_timeout(e->rt, &stop)) < 0 &&
		    errno != EINTR)
			break;
		if (stop_check(e->rt, &stop, &fds[2], attach->pid))
			break;
		while (read(watch, chunk, sizeof(chunk)) > 0)
			continue;
		if (stop.why == 0 && cidfile_written(cidfile))
			return 1;
		if (fds[1].revents == 0)
			continue;
		n = read(attach->errors, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		append(&o->err, &o->err_length, chunk, (size_t)n, 65536);
	}
	/* Its output ended: the tool is ending, or it closed its output and
	 * the end of the run tells. */
	if (stop.why == 0 && cidfile_written(cidfile))
		return 1;
	o->status = engine_reap(attach->pid);
	attach->pid = -1;
	return stop.why;
}

/*
 * The create as one "run" that also starts the instance and attaches to
 * it: one call of the tool where create, then "start --attach", took two
 * (each call costs the tool's start-up, tens of ms).  The attachment is
 * held for the engine_attach() with start that follows the create.  A
 * create that fails fails here, as "create" would have, with nothing
 * started.  Returns 0, -1 with *error, or -2 when this way is not
 * available here (no inotify, no temporary directory): then "create".
 */
static int
create_started(struct engine *e, const struct runtime_spec *spec, char **error)
{
	const char *tmp = getenv("TMPDIR");
	struct engine_args args = ENGINE_ARGS_INIT;
	struct runtime_attach attach = RUNTIME_ATTACH_INIT;
	struct engine_output o = { .status = -1 };
	char *dir, *cidfile;
	int watch, rc = -2, saved_errno, why = 0;

	dir = xasprintf("%s/jobrun-cid-XXXXXX",
	    tmp != NULL && tmp[0] == '/' ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		free(dir);
		return -2;
	}
	cidfile = xasprintf("%s/cid", dir);
	watch = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (watch < 0 || inotify_add_watch(watch, dir, IN_CLOSE_WRITE) < 0)
		goto out;
	engine_create_args(&args, e->kind, spec, cidfile);
	if (engine_stream(e, (const char *const *)args.v, true, true, &attach,
		error) < 0) {
		rc = -1;
		goto out;
	}
	o.err = xstrdup("");
	if ((why = await_created(e, &attach, watch, cidfile, &o)) == 1) {
		e->started = xstrdup(spec->name);
		e->started_attach = attach;
		rc = 0;
	} else {
		runtime_attach_close(&attach);
		*error = why != 0 ? stopped(e, (const char *const *)args.v, why)
				  : complaint(e, "run", &o);
		rc = -1;
	}
	engine_args_release(&args);
out:
	saved_errno = why > 1 ? why : errno;
	if (watch >= 0)
		close(watch);
	unlink(cidfile);
	rmdir(dir);
	free(cidfile);
	free(dir);
	/* What the complaint means, past the clean-up's own errors. */
	errno =
	    o.err != NULL && why == 0 ? engine_error_errno(o.err) : saved_errno;
	free(o.err);
	return rc;
}

static int
engine_create(struct runtime *rt, const struct runtime_spec *spec, char **error)
{
	struct engine *e = engine_of(rt);
	struct engine_args args = ENGINE_ARGS_INIT;
	int rc;

	if (e->started == NULL && (rc = create_started(e, spec, error)) != -2)
		return rc;
	engine_create_args(&args, e->kind, spec, NULL);
	rc = engine_simple(e, "create", (const char *const *)args.v, error);
	engine_args_release(&args);
	return rc;
}

static int
engine_find(struct runtime *rt, const char *name, struct runtime_instance *out,
    char **error)
{
	struct engine *e = engine_of(rt);
	const char *args[] = { "container", "inspect", name, NULL };
	struct engine_output o;
	int rc;

	*out = (struct runtime_instance)RUNTIME_INSTANCE_INIT;
	if (engine_run(e, args, -1, &o, error) < 0)
		return -1;
	if (o.status != 0) {
		rc = engine_error_errno(o.err) == ENOENT ? 0 : -1;
		if (rc < 0)
			*error = complaint(e, "container inspect", &o);
	} else {
		rc = engine_parse_inspect(out, o.out, error);
	}
	engine_output_release(&o);
	return rc;
}

static int
engine_attach(struct runtime *rt, const char *name, bool start,
    struct runtime_attach *out, char **error)
{
	const char *start_args[] = { "start", "--attach", "--interactive", name,
		NULL };
	const char *attach_args[] = { "attach", "--no-stdin", name, NULL };
	struct engine *e = engine_of(rt);

	if (start && e->started != NULL && strcmp(e->started, name) == 0) {
		/* The create started it already. */
		*out = e->started_attach;
		e->started_attach = (struct runtime_attach)RUNTIME_ATTACH_INIT;
		free(e->started);
		e->started = NULL;
		return 0;
	}
	return engine_stream(
	    e, start ? start_args : attach_args, start, true, out, error);
}

/* Following another run's job: "wait" from the start, so that its status
 * is known even when its owner removes it as soon as it ends. */
static int
engine_logs(struct runtime *rt, const char *name, bool follow,
    struct runtime_attach *out, char **error)
{
	const char *args[] = { "logs", follow ? "--follow" : name,
		follow ? name : NULL, NULL };
	const char *wait_args[] = { "wait", name, NULL };
	struct runtime_attach waiter = RUNTIME_ATTACH_INIT;

	if (engine_stream(engine_of(rt), args, false, true, out, error) < 0)
		return -1;
	if (!follow)
		return 0;
	if (engine_stream(
		engine_of(rt), wait_args, false, false, &waiter, error) < 0) {
		/* Then the status is asked for at the end. */
		free(*error);
		*error = NULL;
		return 0;
	}
	out->waiter = waiter.pid;
	out->waiter_output = waiter.output;
	return 0;
}

/* Waits (at most 5 s) for the waiter and reads the status it printed. */
static int
waiter_status(struct runtime_attach *attach)
{
	struct pollfd p = { attach->waiter_output, POLLIN, 0 };
	char buf[64] = { 0 };
	size_t n = 0;
	ssize_t got = -1;
	int status = -1;

	while (n < sizeof(buf) - 1 && poll(&p, 1, 5000) > 0) {
		got = read(attach->waiter_output, buf + n, sizeof(buf) - 1 - n);
		if (got <= 0)
			break;
		n += (size_t)got;
	}
	/* Its output ended: it is ending.  Else it is stuck: end it. */
	if (got != 0)
		kill(attach->waiter, SIGKILL);
	if (engine_reap(attach->waiter) != 0 || sscanf(buf, "%d", &status) != 1)
		status = -1;
	attach->waiter = -1;
	return status;
}

static int
engine_signal(struct runtime *rt, const char *name, int signo, char **error)
{
	char number[16];
	const char *args[] = { "kill", "--signal", number, name, NULL };

	snprintf(number, sizeof(number), "%d", signo);
	return engine_simple(engine_of(rt), "kill", args, error);
}

static int
engine_wait(struct runtime *rt, const char *name, int *out_status, char **error)
{
	struct engine *e = engine_of(rt);
	const char *args[] = { "wait", name, NULL };
	struct engine_output o;
	int rc = 0;

	if (engine_run(e, args, -1, &o, error) < 0)
		return -1;
	if (o.status != 0 || sscanf(o.out, "%d", out_status) != 1) {
		*error = complaint(e, "wait", &o);
		rc = -1;
	}
	engine_output_release(&o);
	return rc;
}

static int
engine_collect(struct runtime *rt, const char *name, const char *path, int fd,
    char **error)
{
	struct engine *e = engine_of(rt);
	char *from = xasprintf("%s:%s/.", name, path);
	const char *args[] = { "cp", from, "-", NULL };
	struct engine_output o;
	int rc = 0;

	if (engine_run(e, args, fd, &o, error) < 0) {
		rc = -1;
	} else {
		if (o.status != 0) {
			*error = complaint(e, "cp", &o);
			rc = -1;
		}
		engine_output_release(&o);
	}
	free(from);
	return rc;
}

static int
engine_destroy(struct runtime *rt, const char *name, char **error)
{
	const char *args[] = { "rm", "--force", "--volumes", name, NULL };

	if (engine_simple(engine_of(rt), "rm", args, error) == 0)
		return 0;
	if (errno != ENOENT)
		return -1;
	free(*error);
	*error = NULL;
	return 0;
}

/* The "rm" runs on while the flow copies the results and removes the
 * bound workspace (tens of ms); engine_free() waits for it. */
static int
engine_destroy_begin(struct runtime *rt, const char *name)
{
	struct engine *e = engine_of(rt);
	const char *args[] = { "rm", "--force", "--volumes", name, NULL };
	char *error = NULL;
	int output[2], null;

	if (e->removing != NULL || pipe2(output, O_CLOEXEC) < 0)
		return -1;
	if ((null = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0 ||
	    (e->removing_pid =
		    engine_spawn(e, args, -1, null, output[1], &error)) < 0) {
		if (null >= 0)
			close(null);
		close(output[0]);
		close(output[1]);
		free(error);
		return -1;
	}
	close(null);
	close(output[1]);
	e->removing = xstrdup(name);
	e->removing_output = output[0];
	return 0;
}

/* Waits for the removal engine_destroy_begin() started, within a bound
 * of its own (a call after the job ended: RUNTIME_CALL_TIMEOUT_MS, no
 * signal stops it); a failure is said here, the flow having gone on. */
static void
removal_end(struct engine *e)
{
	struct engine_output o = { .out = NULL, .err = xstrdup("") };
	const char *const args[] = { "rm", NULL };
	char *why;
	int stop;

	e->rt->interrupt_fd = -1;
	e->rt->deadline_ms = clock_now_ms() + RUNTIME_CALL_TIMEOUT_MS;
	e->rt->deadline_name = RUNTIME_CALL_TIMEOUT_NAME;
	stop = engine_watch(e, e->removing_pid, -1, e->removing_output, &o);
	close(e->removing_output);
	if (stop != 0) {
		why = stopped(e, args, stop);
		diag_warn("cannot remove '%s': %s", e->removing, why);
		free(why);
	} else if (o.status != 0 && engine_error_errno(o.err) != ENOENT) {
		why = complaint(e, "rm", &o);
		diag_warn("cannot remove '%s': %s", e->removing, why);
		free(why);
	}
	free(o.err);
	free(e->removing);
	e->removing = NULL;
}

static int
engine_list(struct runtime *rt, struct runtime_instance **out,
    size_t *out_count, char **error)
{
	struct engine *e = engine_of(rt);
	const char *args[] = { "ps", "--all", "--no-trunc", "--filter",
		"label=" RUNTIME_LABEL_RUN_ID, "--format",
		e->kind == ENGINE_DOCKER ? "{{json .}}" : "json", NULL };
	struct engine_output o;
	int rc;

	if (engine_run(e, args, -1, &o, error) < 0)
		return -1;
	if (o.status != 0) {
		*error = complaint(e, "ps", &o);
		rc = -1;
	} else {
		rc = engine_parse_ps(out, out_count, e->kind, o.out, error);
	}
	engine_output_release(&o);
	return rc;
}

static int
engine_detach(struct runtime *rt, struct runtime_attach *attach)
{
	uint64_t deadline = clock_now_ms() + 2000;
	int status = -1;
	pid_t pid = attach->pid;
	bool following = attach->waiter >= 0;

	(void)rt;
	if (following) {
		/* Following another run's job: the status is the waiter's. */
		if (attach->output >= 0)
			close(attach->output);
		attach->output = -1;
		status = waiter_status(attach);
	}
	runtime_attach_close(attach);
	attach->pid = -1;
	if (pid < 0)
		return status;
	/* The tool ends by itself once the job has; give it a moment.  The
	 * one wait stays engine_reap(): this only polls for the end. */
	while (!engine_ended(pid)) {
		if (clock_now_ms() >= deadline) {
			kill(pid, SIGKILL);
			engine_reap(pid);
			return -1;
		}
		nanosleep(&(struct timespec){ 0, 2000000 }, NULL);
	}
	/* Following another run's job, the tool's status is the log's,
	 * never the job's: without the waiter's, none (it is asked). */
	if (following || status >= 0) {
		engine_reap(pid);
		return status;
	}
	return engine_reap(pid);
}

static void
engine_free(struct runtime *rt)
{
	struct engine *e = engine_of(rt);

	if (e->started != NULL) {
		/* Created and started, never attached: closing its input
		 * cancels the job, as a lifeline does. */
		(void)engine_detach(rt, &e->started_attach);
		free(e->started);
	}
	if (e->removing != NULL)
		removal_end(e);
	free(e->program);
	free(e);
	free(rt);
}

static const struct runtime_ops engine_ops = {
	.name = "engine",
	.probe = engine_probe,
	.pull = engine_pull,
	.create = engine_create,
	.find = engine_find,
	.attach = engine_attach,
	.logs = engine_logs,
	.signal = engine_signal,
	.wait = engine_wait,
	.collect = engine_collect,
	.destroy = engine_destroy,
	.destroy_begin = engine_destroy_begin,
	.list = engine_list,
	.detach = engine_detach,
	.free = engine_free,
};

struct runtime *
runtime_engine_new(const char *program, char **error)
{
	struct runtime *rt;
	struct engine *e;
	char *path = proc_find_program(program, getenv("PATH"));
	const char *base;

	if (path == NULL) {
		*error = xasprintf("cannot find '%s' in PATH", program);
		return NULL;
	}
	base =
	    strrchr(program, '/') != NULL ? strrchr(program, '/') + 1 : program;
	rt = xcalloc(1, sizeof(*rt));
	e = xcalloc(1, sizeof(*e));
	e->rt = rt;
	e->program = path;
	e->kind =
	    strncmp(base, "docker", 6) == 0 ? ENGINE_DOCKER : ENGINE_PODMAN;
	rt->ops = &engine_ops;
	rt->kind = e->kind == ENGINE_DOCKER ? "docker" : "podman";
	rt->backend = e;
	rt->interrupt_fd = -1;
	return rt;
}
