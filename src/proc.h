/*
 * Starting child processes: a declarative description of the child and one
 * function that starts it.  A child that cannot be started (no directory,
 * no program) is reported as an error with a message, never as an
 * anonymous exit status 127.
 *
 * proc never waits for children: the caller's single reaper does.
 */
#ifndef JOBRUN_PROC_H
#define JOBRUN_PROC_H

#include <stdbool.h>
#include <sys/types.h>

struct sandbox;

struct proc_spec {
	const char *path; /* the program, as found by proc_find_program() */
	char *const *argv; /* NULL-terminated */
	char *const *envp; /* NULL-terminated */
	const char *cwd; /* NULL: jobrun's own */
	int output_fd; /* standard output and error; -1: jobrun's own */
	bool process_group; /* lead a new session and process group */
	/* NULL: posix_spawn; else fork, then sandbox_enter() before exec */
	const struct sandbox *sandbox;
	/*
	 * With a sandbox that has pid_namespace: the write end of a pipe the
	 * namespace's init reports the step's wait status to (an int) before
	 * it exits (proc_init_run()); the caller keeps the read end.
	 */
	int status_fd;
};

/*
 * Starts spec.  The child has /dev/null as standard input, output_fd (or
 * jobrun's own) as standard output and error, default signal dispositions
 * and an empty signal mask; with spec.sandbox, it enters that sandbox
 * before exec (a failure there is reported like a failed exec); with a
 * sandbox that has pid_namespace, the child is the init of a new PID
 * namespace (proc-init.h), which starts the step as its own child: the
 * pid is the init's, and so is the wait status, but for what it wrote to
 * status_fd.  Returns 0 with
 * the child's pid in *out_pid, or -1 with *out_pid -1 and a message in *error
 * (the caller frees it).
 */
int proc_spawn(pid_t *out_pid, const struct proc_spec *spec, char **error);

/* Whether path is a regular file this process may execute. */
bool proc_is_program(const char *path);

/*
 * Finds name along path_env (a PATH value; NULL or "" means the default
 * "/usr/local/bin:/usr/bin:/bin").  A name holding '/' is taken as is.
 * Returns a new string, or NULL when no executable file is found.
 */
char *proc_find_program(const char *name, const char *path_env);

#endif
