/*
 * A command run to its end while jobrun waits (command.h).
 */
#include "config.h"

#include "command.h"
#include "reap.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "diag.h"
#include "list.h"
#include "proc.h"
#include "xalloc.h"

/* Lines longer than this reach the caller in pieces. */
#define COMMAND_LINE_MAX (64 * 1024)
/* Between SIGTERM and SIGKILL. */
#define COMMAND_KILL_AFTER_MS 2000
/* After the main process exited, the pipe is read until it has been silent
 * this long (as a step's, LEFTOVER_QUIET_MS): a process it left that holds
 * the pipe without writing would otherwise hold the job. */
#define COMMAND_QUIET_MS 100
/* ... and for at most this long after the exit (a step's default grace
 * period), never past the command's deadline. */
#define COMMAND_DRAIN_MAX_MS 10000

struct lines {
	char buf[COMMAND_LINE_MAX];
	size_t len;
	command_line_fn line;
	void *context;
};

/* Masked bytes arrive here and leave as lines. */
static void
take_masked(void *context, const char *data, size_t size)
{
	struct lines *lines = context;
	size_t i;

	for (i = 0; i < size; i++) {
		if (data[i] != '\n')
			lines->buf[lines->len++] = data[i];
		if (data[i] == '\n' || lines->len == sizeof(lines->buf)) {
			lines->line(lines->context, lines->buf, lines->len);
			lines->len = 0;
		}
	}
}

static void
end_lines(struct lines *lines)
{
	if (lines->len > 0)
		lines->line(lines->context, lines->buf, lines->len);
	wipe(lines->buf, sizeof(lines->buf));
	lines->len = 0;
}

/* The first pending signal that cancels the job, or 0; it stays pending. */
static int
cancel_pending(void)
{
	static const int cancelling[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	sigset_t pending;
	size_t i;

	if (sigpending(&pending) < 0)
		return 0;
	for (i = 0; i < sizeof(cancelling) / sizeof(cancelling[0]); i++)
		if (sigismember(&pending, cancelling[i]) == 1)
			return cancelling[i];
	return 0;
}

/* What the loop knows about the command's end. */
struct ending {
	pid_t pid; /* also its process group */
	uint64_t deadline; /* 0: none */
	uint64_t kill_at; /* SIGKILL time once SIGTERM was sent; 0: not yet */
	bool timed_out;
	int signo; /* the cancelling signal seen pending */
	bool exited; /* the main process was reaped, its status in wstatus */
	int wstatus;
	uint64_t drain_cap; /* after the exit: the pipe is read until then */
	uint64_t quiet_until; /* ... or until it has been silent till then */
};

static uint64_t
min_time(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Sends SIGTERM at the deadline or on a pending cancel, and SIGKILL
 * COMMAND_KILL_AFTER_MS later; true once SIGKILL was sent.  Once the main
 * process has exited, its deadline no longer applies (it ended in time:
 * the drain is bounded by it instead), but a cancel does: true then. */
static bool
enforce(struct ending *e)
{
	uint64_t now = clock_now_ms();

	if (e->exited)
		return e->signo != 0 || (e->signo = cancel_pending()) != 0;
	if (e->kill_at == 0) {
		if (e->deadline != 0 && now >= e->deadline)
			e->timed_out = true;
		else if ((e->signo = cancel_pending()) == 0)
			return false;
		kill(-e->pid, SIGTERM);
		e->kill_at = now + COMMAND_KILL_AFTER_MS;
	}
	if (now < e->kill_at)
		return false;
	kill(-e->pid, SIGKILL);
	return true;
}

/* Notes the main process's exit when it has happened, without waiting:
 * from then on the pipe is read until it is quiet, at most a bound. */
static void
note_exit(struct ending *e)
{
	uint64_t now;

	if (e->exited || reap_child(e->pid, &e->wstatus, false) != e->pid)
		return;
	now = clock_now_ms();
	e->exited = true;
	e->drain_cap = now + COMMAND_DRAIN_MAX_MS;
	if (e->deadline != 0)
		e->drain_cap = min_time(e->drain_cap, e->deadline);
	e->quiet_until = min_time(e->drain_cap, now + COMMAND_QUIET_MS);
}

/* Reaps the command, enforcing its deadline while it runs on. */
static void
reap(struct ending *e)
{
	struct timespec pause = { 0, 10 * 1000000L };
	bool killed = false;
	pid_t got;

	for (;;) {
		got = reap_child(e->pid, &e->wstatus, killed);
		if (got == e->pid || got < 0)
			break;
		if (got == 0 && !killed) {
			killed = enforce(e);
			if (!killed)
				nanosleep(&pause, NULL);
		}
	}
	e->exited = true;
}

/*
 * Ends what is left of the command's process group: SIGTERM (and SIGCONT,
 * so that stopped processes act on it), then SIGKILL when some of it is
 * still there COMMAND_KILL_AFTER_MS later.  Orphans come back to jobrun (a
 * subreaper) and are reaped here, by group (waitpid() semantics: -group
 * takes any child of that group, never a step's), so that the group can
 * be seen gone.
 */
static void
end_group(struct ending *e)
{
	struct timespec pause = { 0, 10 * 1000000L };
	int status;

	if (kill(-e->pid, 0) < 0)
		return;
	if (e->kill_at == 0) {
		kill(-e->pid, SIGTERM);
		e->kill_at = clock_now_ms() + COMMAND_KILL_AFTER_MS;
	}
	kill(-e->pid, SIGCONT);
	while (clock_now_ms() < e->kill_at) {
		while (reap_child(-e->pid, &status, false) > 0)
			continue;
		if (kill(-e->pid, 0) < 0)
			return;
		nanosleep(&pause, NULL);
	}
	kill(-e->pid, SIGKILL);
}

/*
 * Reads the command's output until end of file, or, once its main process
 * has exited, until the pipe is quiet or its drain time is over; stops at
 * once when its time runs out or the job is cancelled.
 */
static void
read_output(
    struct ending *e, int fd, struct mask_stream *stream, struct lines *lines)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char buf[16384];
	uint64_t now;
	ssize_t n;
	int wait_ms;

	for (;;) {
		note_exit(e);
		now = clock_now_ms();
		if (e->exited && now >= e->quiet_until)
			return;
		if (enforce(e))
			return;
		wait_ms = e->exited ? (int)(e->quiet_until - now) : 100;
		if (poll(&pfd, 1, wait_ms > 100 ? 100 : wait_ms) <= 0)
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		if (e->exited)
			e->quiet_until = min_time(
			    e->drain_cap, clock_now_ms() + COMMAND_QUIET_MS);
		if (stream != NULL)
			mask_stream_feed(stream, buf, (size_t)n);
		else
			take_masked(lines, buf, (size_t)n);
	}
}

int
command_run(const struct command_spec *spec, int *exit_status, char **error)
{
	struct proc_spec proc = {
		.path = spec->path,
		.argv = spec->argv,
		.envp = spec->envp,
		.cwd = spec->cwd,
		.process_group = true, /* so that its leftovers can be ended */
		.sandbox = NULL,
		.status_fd = -1,
	};
	struct lines *lines;
	struct mask_stream *stream = NULL;
	struct ending e = { 0 };
	int fds[2];

	*error = NULL;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		*error = xasprintf("cannot make a pipe: %s", strerror(errno));
		return -1;
	}
	proc.output_fd = fds[1];
	if (proc_spawn(&e.pid, &proc, error) < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	close(fds[1]);
	lines = xcalloc(1, sizeof(*lines));
	lines->line = spec->line;
	lines->context = spec->context;
	if (spec->mask != NULL)
		stream = mask_stream_new(spec->mask, take_masked, lines);
	if (spec->timeout_ms != 0)
		e.deadline = clock_now_ms() + spec->timeout_ms;
	read_output(&e, fds[0], stream, lines);
	close(fds[0]);
	if (stream != NULL) {
		mask_stream_flush(stream);
		mask_stream_free(stream);
	}
	end_lines(lines);
	free(lines);
	if (!e.exited)
		reap(&e);
	/* Nothing of its group outlives it. */
	end_group(&e);
	if (e.signo != 0)
		*exit_status = EXIT_SIGNAL_BASE + e.signo;
	else if (e.timed_out)
		*exit_status = EXIT_JOB_TIMED_OUT;
	else if (WIFSIGNALED(e.wstatus))
		*exit_status = EXIT_SIGNAL_BASE + WTERMSIG(e.wstatus);
	else
		*exit_status = WEXITSTATUS(e.wstatus);
	return 0;
}
