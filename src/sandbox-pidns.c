/*
 * PID namespaces for untrusted steps.  Where jobrun may make one (it holds
 * CAP_SYS_ADMIN), an untrusted step's processes live in a PID namespace
 * of their own, under a small init that jobrun starts (proc-init.h), with
 * a mount namespace of their own and a fresh /proc mounted there: they
 * see and signal no process but theirs, and when the step ends its init
 * exits and the kernel kills whatever is left in the namespace.  This
 * file makes the namespace (clone(2) with CLONE_NEWPID | CLONE_NEWNS) and
 * its /proc; whether it can is found out once per job by trying, in a
 * throw-away child, like the uid switch in sandbox-policy.c.
 */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reap.h"
#include "sandbox.h"

/*
 * The stack the namespace's first process starts on.  Without CLONE_VM
 * the child runs on its own copy of it, and it calls little: a margin
 * for sanitizer builds, whose frames are larger.
 */
#define NAMESPACE_STACK_SIZE (256 * 1024)

/* What of the fresh /proc is read-only, as container runtimes make it:
 * a process with uid 0 but no capability may write these otherwise. */
static const char *const read_only_paths[] = {
	"/proc/sys",
	"/proc/sysrq-trigger",
	"/proc/irq",
	"/proc/bus",
};

/* Async-signal-safe: path bound on itself, read-only; ENOENT is fine. */
static int
bind_read_only(const char *path)
{
	const unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;

	if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
		return errno == ENOENT ? 0 : -1;
	return mount(
	    NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | flags, NULL);
}

int
sandbox_pidns_mount_proc(void)
{
	size_t i;

	/* Nothing mounted here reaches jobrun's namespace, and back. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -1;
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		NULL) < 0)
		return -1;
	for (i = 0; i < sizeof(read_only_paths) / sizeof(read_only_paths[0]);
	     i++)
		if (bind_read_only(read_only_paths[i]) < 0)
			return -1;
	return 0;
}

pid_t
sandbox_pidns_clone(int (*fn)(void *), void *arg)
{
	char *stack = malloc(NAMESPACE_STACK_SIZE);
	pid_t pid;
	int saved;

	if (stack == NULL)
		return -1;
	/* The stack grows down on every architecture Linux runs jobrun on
	 * but HP PA-RISC, which glibc's clone() handles itself. */
	pid = clone(fn, stack + NAMESPACE_STACK_SIZE,
	    CLONE_NEWPID | CLONE_NEWNS | SIGCHLD, arg);
	saved = errno;
	free(stack);
	errno = saved;
	return pid;
}

/* The probe's child: the namespace's /proc, then its answer. */
static int
probe_main(void *arg)
{
	(void)arg;
	_exit(sandbox_pidns_mount_proc() < 0
		? (errno > 0 && errno < 256 ? errno : EPERM)
		: 0);
}

int
sandbox_pidns_probe(void)
{
	int status;
	pid_t pid = sandbox_pidns_clone(probe_main, NULL);

	if (pid < 0)
		return errno;
	/* Before the caller's reaper knows the pid: nothing else sees it. */
	if (reap_child(pid, &status, true) < 0)
		return errno;
	if (!WIFEXITED(status))
		return EIO;
	return WEXITSTATUS(status);
}
