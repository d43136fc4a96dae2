/*
 * The results a containerised job gives back, unpacked safely into the
 * host's workspace (results-unpack.c, in jobrun-source; jobrun reaches
 * them through runtime_extract_results() in runtime-run.h).
 */
#ifndef JOBRUN_RESULTS_UNPACK_H
#define JOBRUN_RESULTS_UNPACK_H

/*
 * Extracts from the tar stream in fd into dir only what a job's
 * workspace gives back (result.json, triggers.json, outputs.json, logs/,
 * artifacts/); refuses absolute names, "..", links that leave dir and
 * anything that is not a file, directory or relative link.  Returns the
 * number of entries skipped as unsafe, or -1 with *error.  Works from
 * inside dir (it changes the working directory and returns to it).
 */
int results_unpack_stream(int fd, const char *dir, char **error);

/* The same from the directory from, read without following links. */
int results_unpack_dir(const char *from, const char *dir, char **error);

#endif
