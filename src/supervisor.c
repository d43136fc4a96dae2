/*
 * The supervisor (supervisor.h): after fork(2), a loop over sigwaitinfo(2)
 * that forwards cancelling signals and reaps, until the job process ends.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "diag.h"
#include "reap.h"
#include "runner.h"
#include "supervisor.h"

/* Waits for the job process, forwarding signals; returns its status. */
static int
supervise(pid_t child)
{
	sigset_t signals;
	siginfo_t info;
	int status = 0, signo;
	pid_t pid;

	runner_signals(&signals);
	for (;;) {
		signo = sigwaitinfo(&signals, &info);
		if (signo < 0)
			continue; /* EINTR */
		if (signo != SIGCHLD) {
			kill(child, signo);
			continue;
		}
		while ((pid = reap_next(&status)) > 0)
			if (pid == child)
				return status;
	}
}

/* The terminal whose foreground jobrun is, or -1. */
static int
foreground_terminal(void)
{
	int fd;

	for (fd = 0; fd <= 2; fd++)
		if (isatty(fd) && tcgetpgrp(fd) == getpgrp())
			return fd;
	return -1;
}

/* Gives the terminal back to the supervisor's group (SIGTTOU would stop a
 * background group that asks for it). */
static void
take_terminal_back(int fd)
{
	sigset_t ttou, previous;

	if (fd < 0)
		return;
	sigemptyset(&ttou);
	sigaddset(&ttou, SIGTTOU);
	sigprocmask(SIG_BLOCK, &ttou, &previous);
	tcsetpgrp(fd, getpgrp());
	sigprocmask(SIG_SETMASK, &previous, NULL);
}

int
supervisor_fork(int *wait_status)
{
	pid_t child, parent = getpid();
	int terminal, out_flags, err_flags;

	/* Orphans of a crashed job process come back here. */
	if (parent != 1)
		(void)prctl(PR_SET_CHILD_SUBREAPER, 1);
	/* The job process may leave shared descriptors non-blocking if it
	 * dies (console-queue.h): they are put back below. */
	out_flags = fcntl(STDOUT_FILENO, F_GETFL);
	err_flags = fcntl(STDERR_FILENO, F_GETFL);
	child = fork();
	if (child < 0) {
		diag_error("cannot start the job process: %s", strerror(errno));
		return -1;
	}
	if (child == 0) {
		setpgid(0, 0);
		/* The job process is the terminal's foreground: a Ctrl-Z must
		 * not stop it with nobody to continue it (steps get every
		 * signal back at its default). */
		signal(SIGTSTP, SIG_IGN);
		signal(SIGTTIN, SIG_IGN);
		signal(SIGTTOU, SIG_IGN);
		/* A supervisor killed outright still cancels the job. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			kill(getpid(), SIGTERM);
		return 0;
	}
	setpgid(child, child);
	/* On a terminal, the job is what the terminal's keys reach. */
	if ((terminal = foreground_terminal()) >= 0)
		tcsetpgrp(terminal, child);
	*wait_status = supervise(child);
	take_terminal_back(terminal);
	if (out_flags >= 0)
		fcntl(STDOUT_FILENO, F_SETFL, out_flags);
	if (err_flags >= 0)
		fcntl(STDERR_FILENO, F_SETFL, err_flags);
	/* What the job process left behind is ours now: none of it goes on. */
	reap_all();
	return 1;
}
