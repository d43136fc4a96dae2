/*
 * The interactive shell of --shell-on-failure (debug-shell.h).  The shell
 * leads its own process group and becomes the terminal's foreground group,
 * so that ^C and ^Z reach it and not jobrun; jobrun, meanwhile in the
 * background, ignores SIGTTOU to take the terminal back.  This wait is the
 * one exception to the single reaper: a person is at the keyboard, and
 * the job waits for them by design.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "debug-shell.h"
#include "xalloc.h"

bool
debug_shell_possible(void)
{
	return isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) &&
	    isatty(STDERR_FILENO);
}

/* In the child: async-signal-safe calls only, then exec. */
static void
child(const char *program, char *const *envp, const char *cwd)
{
	char *const argv[] = { (char *)(uintptr_t)program,
		(char *)(uintptr_t) "-i", NULL };
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;
	int signo;

	setpgid(0, 0);
	for (signo = 1; signo < NSIG; signo++)
		sigaction(signo, &dfl, NULL);
	signal(SIGTTOU, SIG_IGN);
	tcsetpgrp(STDIN_FILENO, getpid());
	signal(SIGTTOU, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (cwd != NULL && chdir(cwd) < 0)
		_exit(126);
	execve(program, argv, envp);
	_exit(127);
}

int
debug_shell_run(
    const char *program, char *const *envp, const char *cwd, char **error)
{
	struct sigaction ignore = { .sa_handler = SIG_IGN }, old;
	pid_t pid;
	int status = -1;

	if ((pid = fork()) < 0) {
		*error = xasprintf("cannot start a shell: %s", strerror(errno));
		return -1;
	}
	if (pid == 0)
		child(program, envp, cwd);
	setpgid(pid, pid); /* whichever of the two runs first */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		continue;
	sigaction(SIGTTOU, &ignore, &old);
	tcsetpgrp(STDIN_FILENO, getpgrp());
	sigaction(SIGTTOU, &old, NULL);
	return status;
}
