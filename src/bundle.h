/*
 * The one-shot secret bundle: what a job run in a container needs from
 * the host's environment and files (its secret variables, secret files,
 * jobrun's own settings) travels on the container's standard input, once,
 * instead of in its Env, argv or labels, which "inspect" shows to anyone
 * who may list containers.
 *
 * On the wire: the line "JOBRUN-BUNDLE 1 LENGTH\n", then LENGTH bytes of a
 * JSON object {"env": {NAME: VALUE}, "files": {PATH: CONTENT},
 * "cwd": DIR, "lifeline": BOOL}.  With lifeline, standard input stays open
 * after the bundle and its end (the host side died) cancels the job like
 * SIGTERM.  cwd (optional) is the directory the job inside works in: the
 * host's own, when the job names files of the host by relative paths,
 * which it carries at that directory's path.
 *
 * Inside, jobrun reads it when JOBRUN_BUNDLE=stdin is in its environment
 * (bundle_receive(), first thing in "run"), before its configuration is
 * built: the variables are set, the files written and the working
 * directory changed to, so everything downstream (configuration,
 * secrets_collect()) finds them exactly as it would on the host.  Every
 * buffer that held the bundle is wiped.
 */
#ifndef JOBRUN_BUNDLE_H
#define JOBRUN_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>

#include "list.h"

/* The largest bundle accepted. */
#define BUNDLE_MAX (16 * 1024 * 1024)

struct bundle {
	struct nvlist env;
	struct nvlist files; /* path -> content */
	char *cwd; /* the working directory inside, or NULL: unchanged */
	bool lifeline;
	/* A file it should carry cannot travel (it cannot be read, its
	 * content is no UTF-8 text or holds a NUL, or its relative path
	 * would name another file inside): the run must not go without
	 * it. */
	bool incomplete;
};

#define BUNDLE_INIT                                                            \
	{                                                                      \
		.env = NVLIST_INIT, .files = NVLIST_INIT, .lifeline = true     \
	}

/* Adds (copies) a variable or a file; a later one of a name wins. */
void bundle_add_env(struct bundle *b, const char *name, const char *value);
void bundle_add_file(struct bundle *b, const char *path, const char *content);

/* Sets (copies) the working directory of the job inside; a later one wins. */
void bundle_set_cwd(struct bundle *b, const char *dir);

/*
 * Encodes b for the wire into a new buffer (*out, its length in
 * *out_length); the caller wipes and frees it (bundle_wipe_free()).
 */
void bundle_encode(const struct bundle *b, char **out, size_t *out_length);

void bundle_wipe_free(char *data, size_t length);

/*
 * Decodes the JSON part (after the header line) into *out (initialised by
 * the caller with BUNDLE_INIT).  Returns 0, or -1 with *error.
 */
int bundle_decode(
    struct bundle *out, const char *json, size_t length, char **error);

/*
 * Reads one bundle from fd, reading no byte past it (what follows is the
 * lifeline).  Returns 0, or -1 with *error.
 */
int bundle_read(int fd, struct bundle *out, char **error);

/*
 * Sets b's variables in jobrun's environment, writes its files (mode
 * 0600, directories made as needed, nothing followed) and, with a cwd,
 * makes that directory as needed and changes to it.  Returns 0, or -1
 * with *error.
 */
int bundle_apply(const struct bundle *b, char **error);

/* Wipes and frees every value, and frees the cwd. */
void bundle_release(struct bundle *b);

/*
 * The inside's one call, first thing in "jobrun run": when JOBRUN_BUNDLE
 * is "stdin", reads the bundle from standard input (when it is a path,
 * from that file: a Kubernetes Secret volume), applies it, and with
 * its lifeline watches standard input: at its end jobrun gets SIGTERM (a
 * thread blocked in read(); the signal goes through the runner's usual
 * handling).  Returns 0 (also when there is no bundle), or -1 after a
 * message (exit status 125 is the caller's).
 */
int bundle_receive(void);

#endif
