/*
 * fork and exec, as git's run-command does it: the parent prepares every
 * byte the child needs, the child makes only async-signal-safe calls, and a
 * close-on-exec pipe carries back the step and errno of anything that failed
 * before exec.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc.h"
#include "xalloc.h"

enum child_stage {
	STAGE_STDIN,
	STAGE_CHDIR,
	STAGE_EXEC,
};

struct child_error {
	int stage;
	int error;
};

static void __attribute__((noreturn)) child_fail(int fd, enum child_stage stage)
{
	struct child_error report = { (int)stage, errno };

	if (write(fd, &report, sizeof(report)) < 0) {
		/* the parent will see a short read */
	}
	_exit(127);
}

/* Runs in the child: only async-signal-safe calls from here to exec. */
static void __attribute__((noreturn))
child_exec(const struct proc_spec *spec, int report_fd)
{
	struct sigaction default_action;
	sigset_t empty;
	int signo, fd;

	if (spec->process_group)
		setpgid(0, 0);
	memset(&default_action, 0, sizeof(default_action));
	default_action.sa_handler = SIG_DFL;
	for (signo = 1; signo < NSIG; signo++)
		sigaction(signo, &default_action, NULL);
	sigemptyset(&empty);
	sigprocmask(SIG_SETMASK, &empty, NULL);
	if ((fd = open("/dev/null", O_RDONLY)) < 0)
		child_fail(report_fd, STAGE_STDIN);
	if (fd != STDIN_FILENO) {
		if (dup2(fd, STDIN_FILENO) < 0)
			child_fail(report_fd, STAGE_STDIN);
		close(fd);
	}
	if (spec->cwd != NULL && chdir(spec->cwd) < 0)
		child_fail(report_fd, STAGE_CHDIR);
	execve(spec->path, spec->argv, spec->envp);
	child_fail(report_fd, STAGE_EXEC);
}

static char *
describe_failure(const struct proc_spec *spec, const struct child_error *e)
{
	switch (e->stage) {
	case STAGE_STDIN:
		return xasprintf(
		    "cannot open /dev/null: %s", strerror(e->error));
	case STAGE_CHDIR:
		return xasprintf("cannot change to directory '%s': %s",
		    spec->cwd, strerror(e->error));
	default:
		return xasprintf(
		    "cannot run '%s': %s", spec->path, strerror(e->error));
	}
}

int
proc_spawn(pid_t *out_pid, const struct proc_spec *spec, char **error)
{
	struct child_error report;
	int fds[2];
	ssize_t n;
	pid_t pid;

	*out_pid = -1;
	*error = NULL;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		*error = xasprintf("cannot create a pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		*error = xasprintf("cannot fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		close(fds[0]);
		child_exec(spec, fds[1]);
	}
	/* Both sides set the group, so neither can race the other. */
	if (spec->process_group)
		setpgid(pid, pid);
	close(fds[1]);
	*out_pid = pid;
	do {
		n = read(fds[0], &report, sizeof(report));
	} while (n < 0 && errno == EINTR);
	close(fds[0]);
	if (n == (ssize_t)sizeof(report)) {
		*error = describe_failure(spec, &report);
		return -1;
	}
	return 0;
}

static bool
is_executable_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    access(path, X_OK) == 0;
}

char *
proc_find_program(const char *name, const char *path_env)
{
	const char *dir, *end;
	char *candidate;
	size_t length;

	if (name[0] == '\0')
		return NULL;
	if (strchr(name, '/') != NULL)
		return is_executable_file(name) ? xstrdup(name) : NULL;
	if (path_env == NULL || path_env[0] == '\0')
		path_env = "/usr/local/bin:/usr/bin:/bin";
	for (dir = path_env;; dir = end + 1) {
		end = strchr(dir, ':');
		length = end != NULL ? (size_t)(end - dir) : strlen(dir);
		/* An empty entry means the current directory. */
		candidate = length == 0
		    ? xasprintf("./%s", name)
		    : xasprintf("%.*s/%s", (int)length, dir, name);
		if (is_executable_file(candidate))
			return candidate;
		free(candidate);
		if (end == NULL)
			return NULL;
	}
}
