/*
 * Step outputs: a step hands values to the steps that depend on it by
 * writing to the file named in $JOBRUN_OUTPUT, one per line:
 *
 *   key=value
 *   key<<DELIMITER      (a multi-line value: the lines up to one that is
 *   line one             exactly DELIMITER)
 *   line two
 *   DELIMITER
 *
 * Keys are [A-Za-z_][A-Za-z0-9_]*.  A step that depends on step S gets each
 * of S's outputs as JOBRUN_OUTPUT_<S>_<KEY>, with S and KEY upper-cased and
 * every character other than a letter or digit turned into '_'.
 */
#ifndef JOBRUN_STEP_OUTPUTS_H
#define JOBRUN_STEP_OUTPUTS_H

#include <stddef.h>

#include "list.h"

/* The largest outputs file read, in bytes. */
#define OUTPUTS_MAX_SIZE (1024 * 1024)

/*
 * Parses size bytes of text into out (later keys replace earlier ones).
 * Returns 0, or -1 with a message in *error naming the line (caller frees).
 */
int step_outputs_parse(
    struct nvlist *out, const char *text, size_t size, char **error);

/*
 * Reads and parses the file name under the directory dirfd; a missing or
 * empty file has no outputs.  Anything but a regular file (a FIFO, a
 * device, a symlink) is refused without blocking.  Returns 0, or -1 with
 * a message in *error.
 */
int step_outputs_load(
    struct nvlist *out, int dirfd, const char *name, char **error);

/*
 * Reads and parses the outputs file open as fd (jobrun made it and kept it
 * open), from its start.  Returns 0, or -1 with a message in *error.
 */
int step_outputs_load_fd(struct nvlist *out, int fd, char **error);

/* Returns JOBRUN_OUTPUT_<STEP>_<KEY> as a new string. */
char *step_outputs_variable(const char *step, const char *key);

#endif
