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
	pid_t pid;
	uint64_t deadline; /* 0: none */
	uint64_t kill_at; /* SIGKILL time once SIGTERM was sent; 0: not yet */
	bool timed_out;
	int signo; /* the cancelling signal seen pending */
};

/* Sends SIGTERM at the deadline or on a pending cancel, and SIGKILL
 * COMMAND_KILL_AFTER_MS later; true once SIGKILL was sent. */
static bool
enforce(struct ending *e)
{
	uint64_t now = clock_now_ms();

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

/* Reaps the command, enforcing its deadline while it runs on. */
static void
reap(struct ending *e, int *wstatus)
{
	struct timespec pause = { 0, 10 * 1000000L };
	bool killed = false;
	pid_t got;

	for (;;) {
		got = reap_child(e->pid, wstatus, killed);
		if (got == e->pid || got < 0)
			return;
		if (got == 0 && !killed) {
			killed = enforce(e);
			if (!killed)
				nanosleep(&pause, NULL);
		}
	}
}

int
command_run(const struct command_spec *spec, int *exit_status, char **error)
{
	struct proc_spec proc = { spec->path, spec->argv, spec->envp, spec->cwd,
		-1, true, NULL, -1 };
	struct lines *lines;
	struct mask_stream *stream = NULL;
	struct ending e = { 0 };
	int fds[2], wstatus = 0;
	char buf[16384];
	ssize_t n;

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
	for (;;) {
		struct pollfd pfd = { fds[0], POLLIN, 0 };

		if (enforce(&e))
			break;
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = read(fds[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (stream != NULL)
			mask_stream_feed(stream, buf, (size_t)n);
		else
			take_masked(lines, buf, (size_t)n);
	}
	close(fds[0]);
	if (stream != NULL) {
		mask_stream_flush(stream);
		mask_stream_free(stream);
	}
	end_lines(lines);
	free(lines);
	reap(&e, &wstatus);
	/* Nothing of its group outlives it. */
	kill(-e.pid, SIGKILL);
	if (e.signo != 0)
		*exit_status = EXIT_SIGNAL_BASE + e.signo;
	else if (e.timed_out)
		*exit_status = EXIT_JOB_TIMED_OUT;
	else if (WIFSIGNALED(wstatus))
		*exit_status = EXIT_SIGNAL_BASE + WTERMSIG(wstatus);
	else
		*exit_status = WEXITSTATUS(wstatus);
	return 0;
}
