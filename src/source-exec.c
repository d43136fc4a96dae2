/*
 * Running jobrun-source (source-exec.h): finding it, starting it with its
 * input and its reply pipe, reading its records under a deadline while
 * watching for the signals that cancel a job, and saying why it ended
 * when it did not.
 */
#include "config.h"

#include "source-exec.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "diag.h"
#include "duration.h"
#include "proc.h"
#include "reap.h"
#include "xalloc.h"

#ifndef JOBRUN_HELPER_DIR
#define JOBRUN_HELPER_DIR "/usr/local/libexec/jobrun"
#endif

/* The descriptor jobrun-source writes its records to. */
#define REPLY_FD 3

static const struct srcpos nowhere = { 0, 0 };

/* Set by source_exec_use(). */
static const char *chosen_path;

void
source_exec_use(const char *path)
{
	chosen_path = path;
}

char *
source_exec_path(char **why)
{
	char self[PATH_MAX], *slash, *path;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	*why = NULL;
	if (chosen_path != NULL)
		return xstrdup(chosen_path);
	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			path = xasprintf("%s/%s", self, SOURCE_EXEC_PROGRAM);
			if (proc_is_program(path))
				return path;
			free(path);
		}
	}
	path = xstrdup(JOBRUN_HELPER_DIR "/" SOURCE_EXEC_PROGRAM);
	if (proc_is_program(path))
		return path;
	free(path);
	*why = xasprintf("%s was found neither beside jobrun (%s) nor in %s: "
			 "install jobrun with 'make install', or run it from "
			 "its build tree",
	    SOURCE_EXEC_PROGRAM, n > 0 ? self : "unknown", JOBRUN_HELPER_DIR);
	return NULL;
}

/* ---- records ---- */

static void
take_record(struct source_outcome *o, const char *label, char *line)
{
	char *eq;

	if (line[0] == 'N' && line[1] == ' ')
		diag_error("%s: %s", label, line + 2);
	else if (line[0] == 'E' && line[1] == ' ' && o->error == NULL)
		o->error = xstrdup(line + 2);
	else if (line[0] == 'F' && line[1] == ' ' &&
	    (eq = strchr(line + 2, '=')) != NULL) {
		*eq = '\0';
		nvlist_set(&o->facts, line + 2, eq + 1, nowhere);
	}
}

/* Adds bytes from the program; complete lines become records.  A record
 * longer than the buffer is cut. */
static void
take_bytes(
    struct source_outcome *o, const char *label, const char *data, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (data[i] != '\n' &&
		    o->pending_len < sizeof(o->pending) - 1) {
			o->pending[o->pending_len++] = data[i];
			continue;
		}
		if (data[i] != '\n')
			continue;
		o->pending[o->pending_len] = '\0';
		take_record(o, label, o->pending);
		o->pending_len = 0;
	}
}

/* A signalfd for the signals that cancel a job; -1 if none can be made. */
static int
cancel_signals_fd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/*
 * Reads the program's records until it closes the pipe, the deadline
 * (0: none) passes or a cancelling signal comes.  Returns 0 at the end of
 * the records, -1 at the deadline, -2 when poll() fails (errno), or the
 * signal's number.
 */
static int
read_replies(int fd, int sigfd, uint64_t deadline, const char *label,
    struct source_outcome *o)
{
	struct pollfd fds[2] = { { fd, POLLIN, 0 }, { sigfd, POLLIN, 0 } };
	struct signalfd_siginfo info;
	char buf[4096];
	uint64_t now;
	int wait_ms;
	ssize_t n;

	for (;;) {
		wait_ms = -1;
		if (deadline != 0) {
			if ((now = clock_now_ms()) >= deadline)
				return -1;
			wait_ms = (int)(deadline - now);
		}
		if (poll(fds, sigfd >= 0 ? 2 : 1, wait_ms) < 0 &&
		    errno != EINTR)
			return -2;
		if (sigfd >= 0 && (fds[1].revents & POLLIN) &&
		    read(sigfd, &info, sizeof(info)) == sizeof(info))
			return (int)info.ssi_signo;
		if (fds[0].revents == 0)
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		take_bytes(o, label, buf, (size_t)n);
	}
}

/* Why the program ended, when it did not say. */
static void
explain_wait_status(struct source_outcome *o, int wstatus)
{
	if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0)
		return;
	if (o->error != NULL)
		return;
	if (WIFSIGNALED(wstatus))
		o->error = xasprintf("%s was killed by signal %d",
		    SOURCE_EXEC_PROGRAM, WTERMSIG(wstatus));
	else
		o->error = xasprintf("%s failed (exit status %d)",
		    SOURCE_EXEC_PROGRAM, WEXITSTATUS(wstatus));
}

/* The child: its input, its reply descriptor, a plain signal mask, then
 * the program; never returns.  Only async-signal-safe calls: failed is
 * the record to send when something fails, made before fork(). */
static void
child_exec(const char *path, char **argv, int stdin_fd, int reply,
    const char *failed, pid_t parent)
{
	sigset_t none;
	int in;

	in = stdin_fd >= 0 ? stdin_fd : open("/dev/null", O_RDONLY | O_CLOEXEC);
	/* dup2() onto the same number keeps close-on-exec: clear it. */
	if (in < 0 || dup2(in, STDIN_FILENO) < 0 ||
	    fcntl(STDIN_FILENO, F_SETFD, 0) < 0 || dup2(reply, REPLY_FD) < 0 ||
	    fcntl(REPLY_FD, F_SETFD, 0) < 0) {
		(void)!write(reply, failed, strlen(failed));
		_exit(EXIT_JOBRUN_ERROR);
	}
	/* If jobrun dies, nothing it started fetches on. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(EXIT_JOBRUN_ERROR);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execv(path, argv);
	(void)!write(REPLY_FD, failed, strlen(failed));
	_exit(EXIT_JOBRUN_ERROR);
}

void
source_exec_run(const char *label, const char *const *args, int stdin_fd,
    uint64_t timeout_ms, bool cancellable, struct source_outcome *o)
{
	char duration[32], *path, *why, **argv, *failed;
	int fds[2], sigfd = -1, wstatus = 0, verdict, poll_errno;
	size_t i, n = 0;
	pid_t pid, self = getpid();

	if ((path = source_exec_path(&why)) == NULL) {
		o->error = why;
		o->status = EXIT_JOBRUN_ERROR;
		return;
	}
	/* Made before fork(): the child only calls what is safe there. */
	while (args[n] != NULL)
		n++;
	failed = xasprintf("E cannot start %s\n", path);
	argv = xcalloc(n + 2, sizeof(*argv));
	argv[0] = xstrdup(SOURCE_EXEC_PROGRAM);
	for (i = 0; i < n; i++)
		argv[i + 1] = xstrdup(args[i]);
	if (pipe2(fds, O_CLOEXEC) < 0) {
		pid = -1;
	} else if ((pid = fork()) < 0) {
		int saved = errno;

		close(fds[0]);
		close(fds[1]);
		errno = saved;
	}
	if (pid < 0) {
		o->error = xasprintf("cannot start %s: %s", SOURCE_EXEC_PROGRAM,
		    strerror(errno));
		o->status = EXIT_JOBRUN_ERROR;
	} else if (pid == 0) {
		close(fds[0]);
		child_exec(path, argv, stdin_fd, fds[1], failed, self);
	}
	free(path);
	free(failed);
	for (i = 0; i <= n; i++)
		free(argv[i]);
	free(argv);
	if (pid < 0)
		return;
	close(fds[1]);
	if (cancellable)
		sigfd = cancel_signals_fd();
	verdict = read_replies(fds[0], sigfd,
	    timeout_ms ? clock_now_ms() + timeout_ms : 0, label, o);
	poll_errno = errno;
	if (verdict != 0)
		kill(pid, SIGKILL);
	reap_child(pid, &wstatus, true);
	close(fds[0]);
	if (sigfd >= 0)
		close(sigfd);
	if (verdict == -2) {
		free(o->error);
		o->error = xasprintf("cannot wait for %s: %s",
		    SOURCE_EXEC_PROGRAM, strerror(poll_errno));
	} else if (verdict < 0) {
		free(o->error);
		o->timed_out = true;
		o->error = xasprintf("timed out after %s",
		    duration_format(duration, sizeof(duration), timeout_ms));
	} else if (verdict > 0) {
		free(o->error);
		o->error = xasprintf("cancelled by signal %d", verdict);
		o->status = EXIT_SIGNAL_BASE + verdict;
		return;
	} else {
		explain_wait_status(o, wstatus);
	}
	o->status = o->error != NULL ? EXIT_JOBRUN_ERROR : 0;
}

void
source_outcome_release(struct source_outcome *o)
{
	free(o->error);
	o->error = NULL;
	nvlist_release(&o->facts);
}
