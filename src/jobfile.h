/*
 * The job file reader: YAML text in, a struct job out, or a message listing
 * every independent problem of the file, one a line, "file:line:column:
 * what was expected".  The shape and the values of single fields are
 * checked here; the checks across steps (names, dependencies, cycles,
 * conditions) are plan.c's, run here too on what could be read so that one
 * run reports problems of both kinds.  The schema is documented in
 * jobrun.yaml(5) and src/job.schema.json.
 */
#ifndef JOBRUN_JOBFILE_H
#define JOBRUN_JOBFILE_H

#include <stddef.h>

#include "job.h"

/* The largest job file accepted, in bytes. */
#define JOBFILE_MAX_SIZE (4 * 1024 * 1024)

/*
 * Reads, parses and checks the job file at path ("-" for standard input).
 * Returns the job, or NULL with a message in *error that the caller frees
 * (one line per problem, at most PROBLEMS_MAX of them).
 */
struct job *jobfile_load(const char *path, char **error);

/*
 * jobfile_load(), and when the file is refused for its problems, what
 * could be read of it in *partial (may be NULL; caller frees): the secrets
 * its refusal's messages must be masked with.  Never run it.
 */
struct job *jobfile_load_partial(
    const char *path, char **error, struct job **partial);

/*
 * Parses size bytes of YAML; name stands for the file in messages.  Returns
 * the job, or NULL with a message in *error that the caller frees.
 */
struct job *jobfile_parse(
    const char *name, const char *data, size_t size, char **error);

#endif
