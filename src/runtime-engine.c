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

/* Appends what fd gives to *buf until EOF. */
static void
drain(int fd, char **buf, size_t *len, size_t limit)
{
	char chunk[8192];
	ssize_t n;

	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (*len + (size_t)n > limit)
			continue;
		*buf = xreallocarray(*buf, *len + (size_t)n + 1, 1);
		memcpy(*buf + *len, chunk, (size_t)n);
		*len += (size_t)n;
		(*buf)[*len] = '\0';
	}
}

/* Reads the child's two pipes to their ends, whichever fills first. */
static void
read_both(int out, int err, struct engine_output *o)
{
	struct pollfd fds[2] = { { out, POLLIN, 0 }, { err, POLLIN, 0 } };
	char chunk[8192];

	while (fds[0].fd >= 0 || fds[1].fd >= 0) {
		size_t i;

		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			break;
		for (i = 0; i < 2; i++) {
			char **buf = i == 0 ? &o->out : &o->err;
			size_t *len = i == 0 ? &o->out_length : &o->err_length;
			ssize_t n;

			if (fds[i].fd < 0 || fds[i].revents == 0)
				continue;
			n = read(fds[i].fd, chunk, sizeof(chunk));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				fds[i].fd = -1;
				continue;
			}
			*buf = xreallocarray(*buf, *len + (size_t)n + 1, 1);
			memcpy(*buf + *len, chunk, (size_t)n);
			*len += (size_t)n;
			(*buf)[*len] = '\0';
		}
	}
}

int
engine_run(struct engine *e, const char *const *args, int out_fd,
    struct engine_output *o, char **error)
{
	int out[2] = { -1, -1 }, err[2];
	pid_t pid;

	*o = (struct engine_output){ .out = xstrdup(""), .err = xstrdup("") };
	if (pipe2(err, O_CLOEXEC) < 0 ||
	    (out_fd < 0 && pipe2(out, O_CLOEXEC) < 0)) {
		*error = xasprintf("cannot make a pipe: %s", strerror(errno));
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
		return -1;
	}
	if (out[0] >= 0) {
		read_both(out[0], err[0], o);
		close(out[0]);
	} else {
		drain(err[0], &o->err, &o->err_length, 1 << 20);
	}
	close(err[0]);
	o->status = engine_reap(pid);
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

/* After SIGTERM, a tool stopped in a pull gets SIGKILL this much later. */
#define ENGINE_STOP_KILL_MS 2000

/*
 * The pull of args: its complaints read, and the tool (its process group)
 * stopped when rt's interrupt fd becomes readable (a signal came: it is
 * left for the run to read) or rt's deadline passes.  Returns 0, or -1
 * with *error and errno (ECANCELED, ETIMEDOUT: stopped).
 */
static int
pull_watched(
    struct runtime *rt, struct engine *e, const char *const *args, char **error)
{
	struct engine_output o = { .out = xstrdup(""), .err = xstrdup("") };
	struct pollfd fds[2];
	uint64_t now, kill_at = 0, wake;
	char chunk[4096];
	int err[2], why = 0, rc = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(err, O_CLOEXEC) < 0) {
		*error = xasprintf("cannot make a pipe: %s", strerror(errno));
		engine_output_release(&o);
		return -1;
	}
	pid = engine_spawn(e, args, -1, err[1], err[1], error);
	close(err[1]);
	if (pid < 0) {
		close(err[0]);
		engine_output_release(&o);
		return -1;
	}
	fds[0] = (struct pollfd){ err[0], POLLIN, 0 };
	fds[1] = (struct pollfd){ rt->interrupt_fd, POLLIN, 0 };
	while (fds[0].fd >= 0) {
		now = clock_now_ms();
		wake = kill_at != 0 ? kill_at : why == 0 ? rt->deadline_ms : 0;
		if (poll(fds, 2,
			wake == 0 ? -1
			    : wake > now
			    ? (int)(wake - now < 60000 ? wake - now : 60000)
			    : 0) < 0 &&
		    errno != EINTR)
			break;
		now = clock_now_ms();
		if (why == 0 && fds[1].fd >= 0 && (fds[1].revents & POLLIN))
			why = ECANCELED;
		if (why == 0 && rt->deadline_ms != 0 && now >= rt->deadline_ms)
			why = ETIMEDOUT;
		if (why != 0 && kill_at == 0) {
			fds[1].fd = -1;
			kill(-pid, SIGTERM);
			kill(-pid, SIGCONT);
			kill_at = now + ENGINE_STOP_KILL_MS;
		} else if (kill_at != 0 && now >= kill_at) {
			kill(-pid, SIGKILL);
			kill_at = UINT64_MAX;
		}
		if (fds[0].revents == 0)
			continue;
		n = read(fds[0].fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fds[0].fd = -1;
			continue;
		}
		if (o.err_length < 64 * 1024) {
			o.err = xreallocarray(
			    o.err, o.err_length + (size_t)n + 1, 1);
			memcpy(o.err + o.err_length, chunk, (size_t)n);
			o.err_length += (size_t)n;
			o.err[o.err_length] = '\0';
		}
	}
	close(err[0]);
	o.status = engine_reap(pid);
	if (why != 0) {
		*error = xasprintf(why == ETIMEDOUT
			? "'%s pull' did not end within the job's timeout: "
			  "stopped"
			: "'%s pull' stopped: the run is cancelled",
		    e->program);
		rc = -1;
	} else if (o.status != 0) {
		*error = complaint(e, "pull", &o);
		why = engine_error_errno(o.err);
		rc = -1;
	}
	engine_output_release(&o);
	errno = why;
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
		if (pull_watched(rt, e, args, error) < 0)
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
 * cidfile, which inotify watching its directory announces) or has ended.
 * Nothing the job prints can come before the id: the instance starts
 * after it is written, so whatever the tool printed on its standard error
 * before is its own complaint, kept in *o.  Returns 1 created, 0 ended
 * (its status in *o).
 */
static int
await_created(struct runtime_attach *attach, int watch, const char *cidfile,
    struct engine_output *o)
{
	struct pollfd fds[2] = { { watch, POLLIN, 0 },
		{ attach->errors, POLLIN, 0 } };
	char chunk[4096];

	for (;;) {
		ssize_t n;

		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			break;
		while (read(watch, chunk, sizeof(chunk)) > 0)
			continue;
		if (cidfile_written(cidfile))
			return 1;
		if (fds[1].revents == 0)
			continue;
		n = read(attach->errors, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (o->err_length + (size_t)n <= 65536) {
			o->err = xreallocarray(
			    o->err, o->err_length + (size_t)n + 1, 1);
			memcpy(o->err + o->err_length, chunk, (size_t)n);
			o->err_length += (size_t)n;
			o->err[o->err_length] = '\0';
		}
	}
	/* Its output ended: the tool is ending, or it closed its output and
	 * the end of the run tells. */
	if (cidfile_written(cidfile))
		return 1;
	o->status = engine_reap(attach->pid);
	attach->pid = -1;
	return 0;
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
	int watch, rc = -2, saved_errno;

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
	if (await_created(&attach, watch, cidfile, &o) == 1) {
		e->started = xstrdup(spec->name);
		e->started_attach = attach;
		rc = 0;
	} else {
		runtime_attach_close(&attach);
		*error = complaint(e, "run", &o);
		rc = -1;
	}
	engine_args_release(&args);
out:
	saved_errno = errno;
	if (watch >= 0)
		close(watch);
	unlink(cidfile);
	rmdir(dir);
	free(cidfile);
	free(dir);
	/* What the complaint means, past the clean-up's own errors. */
	errno = o.err != NULL ? engine_error_errno(o.err) : saved_errno;
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

/* Waits for the removal engine_destroy_begin() started; a failure is
 * said here, the flow having gone on. */
static void
removal_end(struct engine *e)
{
	struct engine_output o = { .out = NULL, .err = xstrdup("") };
	char *why;

	drain(e->removing_output, &o.err, &o.err_length, 1 << 16);
	close(e->removing_output);
	o.status = engine_reap(e->removing_pid);
	if (o.status != 0 && engine_error_errno(o.err) != ENOENT) {
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
	e->program = path;
	e->kind =
	    strncmp(base, "docker", 6) == 0 ? ENGINE_DOCKER : ENGINE_PODMAN;
	rt->ops = &engine_ops;
	rt->kind = e->kind == ENGINE_DOCKER ? "docker" : "podman";
	rt->backend = e;
	rt->interrupt_fd = -1;
	return rt;
}
