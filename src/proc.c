/*
 * Starting steps with posix_spawn(3): glibc's implementation uses
 * clone(CLONE_VFORK), which costs a fraction of fork(2) in a process with
 * many mappings, and reports a failed exec as an error code.  The working
 * directory is checked before the spawn, so a missing one gets its own
 * message instead of an ambiguous ENOENT.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc.h"
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

int
proc_spawn(pid_t *out_pid, const struct proc_spec *spec, char **error)
{
	posix_spawn_file_actions_t actions;
	posix_spawnattr_t attr;
	struct stat st;
	int rc;

	*out_pid = -1;
	*error = NULL;
	if (spec->cwd != NULL &&
	    (stat(spec->cwd, &st) < 0 || !S_ISDIR(st.st_mode))) {
		*error = xasprintf("cannot change to directory '%s': %s",
		    spec->cwd, strerror(errno ? errno : ENOTDIR));
		return -1;
	}
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
	if (rc != 0) {
		*out_pid = -1;
		if (spec->cwd != NULL)
			*error = xasprintf("cannot run '%s' in '%s': %s",
			    spec->path, spec->cwd, strerror(rc));
		else
			*error = xasprintf(
			    "cannot run '%s': %s", spec->path, strerror(rc));
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
