/*
 * Starting steps with posix_spawn(3): glibc's implementation uses
 * clone(CLONE_VFORK), which costs a fraction of fork(2) in a process with
 * many mappings, and reports a failed exec as an error code.  The working
 * directory is checked before the spawn, so a missing one gets its own
 * message instead of an ambiguous ENOENT.  An untrusted step must change
 * itself before exec (ids, no_new_privs, seccomp), which posix_spawn
 * cannot do: it takes the fork path, which runs only async-signal-safe
 * calls in the child and reports a failure through a close-on-exec pipe.
 * An untrusted step in a PID namespace has one process more: the
 * namespace's init (proc-init.h), started by clone(2), which sets up what
 * the step shares with it (session, standard files, /proc), then forks the
 * step, which does the rest.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc-init.h"
#include "proc.h"
#include "reap.h"
#include "sandbox.h"
#include "xalloc.h"

/*
 * The spawn attributes: a new session (and so a new process group, and no
 * controlling terminal, so a step that opens /dev/tty fails at once instead
 * of stopping the job), an empty signal mask, and every signal back to its
 * default, whatever jobrun's parent ignored.
 */
static int
set_attributes(posix_spawnattr_t *attr, const struct proc_spec *spec)
{
	sigset_t empty, defaults;
	short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;

	sigemptyset(&empty);
	sigfillset(&defaults);
	sigdelset(&defaults, SIGKILL);
	sigdelset(&defaults, SIGSTOP);
	if (spec->process_group)
		flags |= POSIX_SPAWN_SETSID;
	return posix_spawnattr_setflags(attr, flags) ||
	    posix_spawnattr_setsigmask(attr, &empty) ||
	    posix_spawnattr_setsigdefault(attr, &defaults);
}

/* Standard input from /dev/null, output and error to output_fd. */
static int
set_file_actions(
    posix_spawn_file_actions_t *actions, const struct proc_spec *spec)
{
	if (posix_spawn_file_actions_addopen(
		actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0) != 0)
		return -1;
	if (spec->output_fd >= 0 &&
	    (posix_spawn_file_actions_adddup2(
		 actions, spec->output_fd, STDOUT_FILENO) != 0 ||
		posix_spawn_file_actions_adddup2(
		    actions, spec->output_fd, STDERR_FILENO) != 0))
		return -1;
	if (spec->cwd != NULL &&
	    posix_spawn_file_actions_addchdir_np(actions, spec->cwd) != 0)
		return -1;
	return 0;
}

/* What the child reports through the pipe when it cannot exec. */
struct child_failure {
	int stage; /* enum child_stage */
	int error; /* errno */
};

enum child_stage {
	STAGE_SIGNALS,
	STAGE_SESSION,
	STAGE_FILES,
	STAGE_SANDBOX,
	STAGE_DIRECTORY,
	STAGE_EXEC,
	STAGE_NAMESPACE,
	STAGE_INIT,
};

static const char *const stage_names[] = {
	[STAGE_SIGNALS] = "cannot reset signals",
	[STAGE_SESSION] = "cannot start a session",
	[STAGE_FILES] = "cannot set up standard files",
	[STAGE_SANDBOX] = "cannot enter the sandbox",
	[STAGE_DIRECTORY] = "cannot change directory",
	[STAGE_EXEC] = "cannot run",
	[STAGE_NAMESPACE] = "cannot set up its PID namespace",
	[STAGE_INIT] = "cannot start it under its namespace's init",
};

/* Async-signal-safe: every signal back to its default, none blocked. */
static int
child_signals(void)
{
	struct sigaction action;
	sigset_t empty;
	int sig;

	memset(&action, 0, sizeof(action));
	action.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &action, NULL); /* EINVAL: reserved */
	sigemptyset(&empty);
	return sigprocmask(SIG_SETMASK, &empty, NULL);
}

/* Async-signal-safe: /dev/null in, output_fd out and err. */
static int
child_files(const struct proc_spec *spec)
{
	int null_fd = open("/dev/null", O_RDONLY);

	if (null_fd < 0)
		return -1;
	if (null_fd != STDIN_FILENO) {
		if (dup2(null_fd, STDIN_FILENO) < 0)
			return -1;
		close(null_fd);
	}
	if (spec->output_fd < 0)
		return 0;
	/* dup2 onto itself would keep close-on-exec: clear it by hand. */
	if (spec->output_fd == STDOUT_FILENO) {
		if (fcntl(STDOUT_FILENO, F_SETFD, 0) < 0)
			return -1;
	} else if (dup2(spec->output_fd, STDOUT_FILENO) < 0) {
		return -1;
	}
	return dup2(STDOUT_FILENO, STDERR_FILENO) < 0 ? -1 : 0;
}

/* Reports failure to report_fd and exits: the child never ran the step. */
static _Noreturn void
child_fail(struct child_failure failure, int report_fd)
{
	failure.error = errno;
	(void)!write(report_fd, &failure, sizeof(failure));
	_exit(127);
}

/*
 * The child, from its sandbox to exec; each failure goes to report_fd as
 * a struct child_failure.  The directory is entered after the ids change,
 * so run_as cannot be placed where its user could not go.
 */
static _Noreturn void
child_exec(const struct proc_spec *spec, int report_fd)
{
	struct child_failure failure = { STAGE_SANDBOX, 0 };

	if (sandbox_enter(spec->sandbox) < 0)
		child_fail(failure, report_fd);
	failure.stage = STAGE_DIRECTORY;
	if (spec->cwd != NULL && chdir(spec->cwd) < 0)
		child_fail(failure, report_fd);
	failure.stage = STAGE_EXEC;
	execve(spec->path, spec->argv, spec->envp);
	child_fail(failure, report_fd);
}

/* The child, as a flat list of steps; then child_exec(). */
static _Noreturn void
child_run(const struct proc_spec *spec, int report_fd)
{
	struct child_failure failure = { STAGE_SIGNALS, 0 };

	if (child_signals() < 0)
		child_fail(failure, report_fd);
	failure.stage = STAGE_SESSION;
	if (spec->process_group && setsid() < 0)
		child_fail(failure, report_fd);
	failure.stage = STAGE_FILES;
	if (child_files(spec) < 0)
		child_fail(failure, report_fd);
	child_exec(spec, report_fd);
}

/*
 * fork(2) by the system call, for the init of a namespace: it is a raw
 * clone of jobrun, so glibc still believes its other threads (worker.h)
 * are there, and its fork() would wait for malloc's and stdio's locks,
 * which one of them may have held at the clone and which nobody in this
 * process will ever release.  With no stack given, the child runs on a
 * copy of this one, as after fork().
 */
static pid_t
raw_fork(void)
{
#if defined(__s390__) || defined(__CRIS__)
	return (pid_t)syscall(SYS_clone, 0, SIGCHLD, 0, 0, 0);
#else
	return (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
#endif
}

/* What a namespace's init gets from proc_spawn(). */
struct init_start {
	const struct proc_spec *spec;
	int report_fd;
};

/*
 * Async-signal-safe: closes every fd of jobrun's the init holds (it never
 * execs) but the standard ones, report_fd and status_fd, which may move
 * above report_fd.  Returns status_fd's number, or -1 with errno.
 */
static int
keep_only(int report_fd, int status_fd)
{
	if (status_fd < report_fd &&
	    (status_fd = fcntl(status_fd, F_DUPFD_CLOEXEC, report_fd + 1)) < 0)
		return -1;
	if (report_fd > STDERR_FILENO + 1)
		close_range(STDERR_FILENO + 1, (unsigned)report_fd - 1, 0);
	if (status_fd > report_fd + 1)
		close_range(
		    (unsigned)report_fd + 1, (unsigned)status_fd - 1, 0);
	close_range((unsigned)status_fd + 1, ~0U, 0);
	return status_fd;
}

/*
 * A namespace's init (sandbox_pidns_clone()), as a flat list of steps:
 * every signal blocked, the session jobrun signals, the standard files the
 * step inherits, /proc, no fd of jobrun's but the two pipes; then the
 * step, as its child, with signals back to their defaults and a session
 * of its own, and from there on proc_init_run().
 */
static int
init_main(void *data)
{
	const struct init_start *start = data;
	const struct proc_spec *spec = start->spec;
	struct child_failure failure = { STAGE_SIGNALS, 0 };
	int report_fd = start->report_fd, status_fd = spec->status_fd;
	sigset_t all;
	pid_t step;

	sigfillset(&all);
	if (child_signals() < 0 || sigprocmask(SIG_SETMASK, &all, NULL) < 0)
		child_fail(failure, report_fd);
	failure.stage = STAGE_SESSION;
	if (setsid() < 0)
		child_fail(failure, report_fd);
	failure.stage = STAGE_FILES;
	if (child_files(spec) < 0)
		child_fail(failure, report_fd);
	failure.stage = STAGE_NAMESPACE;
	if (sandbox_pidns_mount_proc() < 0)
		child_fail(failure, report_fd);
	failure.stage = STAGE_INIT;
	if ((status_fd = keep_only(report_fd, status_fd)) < 0 ||
	    (step = raw_fork()) < 0)
		child_fail(failure, report_fd);
	if (step == 0) {
		failure.stage = STAGE_SESSION;
		if (child_signals() < 0 || setsid() < 0)
			child_fail(failure, report_fd);
		child_exec(spec, report_fd);
	}
	close(report_fd);
	proc_init_run(step, status_fd);
}

/*
 * Starts the child of a sandboxed spec: the init of its namespace, or the
 * step itself; in its cgroup from birth when it has one.  Returns its pid,
 * or -1 with errno.
 */
static pid_t
start_child(const struct proc_spec *spec, int report_fd)
{
	const struct sandbox *sandbox = spec->sandbox;
	struct init_start start = { spec, report_fd };
	pid_t pid;

	if (sandbox->cgroup_fd >= 0)
		pid = sandbox_cgroup_fork(
		    sandbox->cgroup_fd, sandbox->pid_namespace);
	else if (sandbox->pid_namespace)
		return sandbox_pidns_clone(init_main, &start);
	else
		pid = fork();
	if (pid == 0 && sandbox->pid_namespace)
		_exit(init_main(&start)); /* it never returns */
	if (pid == 0)
		child_run(spec, report_fd);
	return pid;
}

/* Forks a sandboxed child; returns 0 or an errno with *detail's stage. */
static int
fork_sandboxed(pid_t *out_pid, const struct proc_spec *spec, int *stage)
{
	struct child_failure failure;
	int report[2], status;
	ssize_t n;

	*stage = STAGE_EXEC;
	if (pipe2(report, O_CLOEXEC) < 0)
		return errno;
	*out_pid = start_child(spec, report[1]);
	if (*out_pid < 0) {
		*stage =
		    spec->sandbox->pid_namespace ? STAGE_NAMESPACE : STAGE_EXEC;
		status = errno;
		close(report[0]);
		close(report[1]);
		return status;
	}
	close(report[1]);
	do
		n = read(report[0], &failure, sizeof(failure));
	while (n < 0 && errno == EINTR);
	close(report[0]);
	if (n != (ssize_t)sizeof(failure))
		return 0; /* exec succeeded: the pipe closed */
	/*
	 * The child never ran the step: reap it here, before the caller's
	 * reaper knows its pid, so nothing else sees this exit.
	 */
	reap_child(*out_pid, &status, true);
	*out_pid = -1;
	*stage = failure.stage;
	return failure.error;
}

static int
spawn_plain(pid_t *out_pid, const struct proc_spec *spec)
{
	posix_spawn_file_actions_t actions;
	posix_spawnattr_t attr;
	int rc;

	posix_spawnattr_init(&attr);
	posix_spawn_file_actions_init(&actions);
	if (set_attributes(&attr, spec) != 0 ||
	    set_file_actions(&actions, spec) != 0) {
		rc = ENOMEM;
	} else {
		rc = posix_spawn(out_pid, spec->path, &actions, &attr,
		    spec->argv, spec->envp);
	}
	posix_spawn_file_actions_destroy(&actions);
	posix_spawnattr_destroy(&attr);
	return rc;
}

int
proc_spawn(pid_t *out_pid, const struct proc_spec *spec, char **error)
{
	struct stat st;
	int rc, stage = STAGE_EXEC;

	*out_pid = -1;
	*error = NULL;
	if (spec->cwd != NULL &&
	    (stat(spec->cwd, &st) < 0 || !S_ISDIR(st.st_mode))) {
		*error = xasprintf("cannot change to directory '%s': %s",
		    spec->cwd, strerror(errno ? errno : ENOTDIR));
		return -1;
	}
	if (spec->sandbox != NULL)
		rc = fork_sandboxed(out_pid, spec, &stage);
	else
		rc = spawn_plain(out_pid, spec);
	if (rc == 0)
		return 0;
	*out_pid = -1;
	if (stage != STAGE_EXEC)
		*error = xasprintf("cannot run '%s': %s: %s", spec->path,
		    stage_names[stage], strerror(rc));
	else if (spec->cwd != NULL)
		*error = xasprintf("cannot run '%s' in '%s': %s", spec->path,
		    spec->cwd, strerror(rc));
	else
		*error =
		    xasprintf("cannot run '%s': %s", spec->path, strerror(rc));
	return -1;
}

bool
proc_is_program(const char *path)
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
		return proc_is_program(name) ? xstrdup(name) : NULL;
	if (path_env == NULL || path_env[0] == '\0')
		path_env = "/usr/local/bin:/usr/bin:/bin";
	for (dir = path_env;; dir = end + 1) {
		end = strchr(dir, ':');
		length = end != NULL ? (size_t)(end - dir) : strlen(dir);
		/* An empty entry means the current directory. */
		candidate = length == 0
		    ? xasprintf("./%s", name)
		    : xasprintf("%.*s/%s", (int)length, dir, name);
		if (proc_is_program(candidate))
			return candidate;
		free(candidate);
		if (end == NULL)
			return NULL;
	}
}
