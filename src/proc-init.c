/*
 * The init of an untrusted step's PID namespace (proc-init.h), after
 * tini: every signal blocked and taken with sigwaitinfo(2), so that none
 * is lost between two waits and none is left to the kernel's PID-1 rules;
 * orphans reaped with the one reaper's reap_next().  A PID 1 cannot die of
 * a signal it sends itself, so the step's wait status goes to jobrun
 * through a pipe, and its exit code says the same to anyone else.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc-init.h"
#include "reap.h"

/* Async-signal-safe: the step's status to status_fd, then exit as it. */
static _Noreturn void
finish(int status, int status_fd)
{
	if (status_fd >= 0)
		(void)!write(status_fd, &status, sizeof(status));
	if (WIFEXITED(status))
		_exit(WEXITSTATUS(status));
	_exit(128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0));
}

/* Async-signal-safe: sig to the step's group; to the step if none. */
static void
forward(pid_t step, int sig)
{
	if (kill(-step, sig) < 0 && errno == ESRCH)
		kill(step, sig);
}

_Noreturn void
proc_init_run(pid_t step, int status_fd)
{
	siginfo_t info;
	sigset_t all;
	pid_t pid;
	int sig, status;

	sigfillset(&all);
	for (;;) {
		if ((sig = sigwaitinfo(&all, &info)) < 0)
			continue; /* EINTR: a stop and continue */
		if (sig != SIGCHLD) {
			forward(step, sig);
			continue;
		}
		while ((pid = reap_next(&status)) > 0)
			if (pid == step)
				finish(status, status_fd);
		if (pid < 0) /* no child at all: the step is gone */
			finish(W_EXITCODE(127, 0), status_fd);
	}
}
