/*
 * Starting child processes: a declarative description of the child and one
 * function that forks and execs it.  Failures before exec (chdir, exec
 * itself) travel back through a close-on-exec pipe, so the caller gets a
 * real message instead of an anonymous exit status 127.
 *
 * proc never waits for children: the caller's single reaper does.
 */
#ifndef JOBRUN_PROC_H
#define JOBRUN_PROC_H

#include <stdbool.h>
#include <sys/types.h>

struct proc_spec {
	const char *path; /* the program, as found by proc_find_program() */
	char *const *argv; /* NULL-terminated */
	char *const *envp; /* NULL-terminated */
	const char *cwd; /* NULL: jobrun's own */
	bool process_group; /* lead a new process group */
};

/*
 * Starts spec.  The child has /dev/null as standard input, jobrun's
 * standard output and error, default signal dispositions and an empty
 * signal mask.  Returns 0 with the child's pid in *out_pid.  Returns -1
 * with a message in *error (the caller frees it) when the child could not
 * be started; *out_pid is then the pid of a child that has already exited
 * (for the reaper to collect), or -1 when there is none.
 */
int proc_spawn(pid_t *out_pid, const struct proc_spec *spec, char **error);

/*
 * Finds name along path_env (a PATH value; NULL or "" means the default
 * "/usr/local/bin:/usr/bin:/bin").  A name holding '/' is taken as is.
 * Returns a new string, or NULL when no executable file is found.
 */
char *proc_find_program(const char *name, const char *path_env);

#endif
