/*
 * The job file reader: YAML text in, a struct job out, or one message
 * "file:line:column: what was expected".  Only the shape and the values of
 * single fields are checked here; checks across steps (names, dependencies,
 * cycles, conditions) are plan.c's.  The schema is documented in
 * jobrun.yaml(5) and src/job.schema.json.
 */
#ifndef JOBRUN_JOBFILE_H
#define JOBRUN_JOBFILE_H

#include <stddef.h>

#include "job.h"

/* The largest job file accepted, in bytes. */
#define JOBFILE_MAX_SIZE (4 * 1024 * 1024)

/*
 * Reads and parses the job file at path ("-" for standard input).  Returns
 * the job, or NULL with a message in *error that the caller frees.
 */
struct job *jobfile_load(const char *path, char **error);

/*
 * Parses size bytes of YAML; name stands for the file in messages.  Returns
 * the job, or NULL with a message in *error that the caller frees.
 */
struct job *jobfile_parse(
    const char *name, const char *data, size_t size, char **error);

#endif
