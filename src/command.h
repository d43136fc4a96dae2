/*
 * A command run to its end while jobrun waits: what a plugin starts with
 * host->run() (executable hooks, notifications).  It gets its own process
 * group, /dev/null as input and one pipe for its output, which passes a
 * masker and reaches the caller line by line.  Its end is its main
 * process's exit: the pipe is then read until end of file or until it has
 * been quiet for 100 ms (at most 10 s, and never past its time), as a
 * step's is, so that a background process it left holding the pipe does
 * not hold jobrun.  It is killed with its group when it outlives its time
 * or when a signal that cancels the job is pending (which stays pending
 * for the runner).
 */
#ifndef JOBRUN_COMMAND_H
#define JOBRUN_COMMAND_H

#include <stddef.h>
#include <stdint.h>

#include "mask.h"

/* Receives one masked line of the command's output, without its newline. */
typedef void (*command_line_fn)(void *context, const char *line, size_t size);

struct command_spec {
	const char *path; /* the program, as found by proc_find_program() */
	char *const *argv; /* NULL-terminated */
	char *const *envp; /* NULL-terminated */
	const char *cwd; /* NULL: jobrun's own */
	uint64_t timeout_ms; /* 0: none */
	struct mask_set *mask; /* borrowed; NULL: nothing to mask */
	command_line_fn line;
	void *context;
};

/*
 * Runs spec to its end.  Returns 0 with *exit_status set: its main
 * process's exit status, or 128+N when a signal N ended it; 124 when its
 * time ran out before it exited (the group gets SIGTERM, then SIGKILL 2 s
 * later); 128+N when the cancelling signal N was pending.  Returns -1 with
 * a message in *error (the caller frees) when it could not be started.
 * Whatever is left of its process group afterwards gets SIGTERM, and
 * SIGKILL when still there 2 s later; command_run() returns once it is
 * gone or killed.
 */
int command_run(
    const struct command_spec *spec, int *exit_status, char **error);

#endif
