/*
 * --shell-on-failure: an interactive shell on jobrun's terminal, in a
 * failed step's directory with its environment, while the job waits.
 */
#ifndef JOBRUN_DEBUG_SHELL_H
#define JOBRUN_DEBUG_SHELL_H

#include <stdbool.h>

/*
 * Whether standard input, output and error are a terminal (the shell
 * needs one).
 */
bool debug_shell_possible(void);

/*
 * Runs program -i with envp in cwd, in a process group of its own that
 * holds the terminal (standard input) until it exits; then jobrun takes
 * the terminal back.  Waits for that one child only (the engine's reaper
 * reaps the others later).  Returns the shell's wait status, or -1 with
 * *error set (caller frees) when it could not start.
 */
int debug_shell_run(
    const char *program, char *const *envp, const char *cwd, char **error);

#endif
