/*
 * The workspace's own files and directories: what jobrun creates and
 * clears there before the steps run, done without following a symlink a
 * step (or an earlier job on a shared volume) planted.
 *
 *   result.json, triggers.json, outputs.json   removed at the start
 *   logs/      the steps' logs; cleared at the start
 *   outputs/   the steps' $JOBRUN_OUTPUT files (0711: run_as steps reach
 *              their own file but cannot list the others); cleared at the
 *              start and at the end
 *
 * Order of calls: workspace_remove_earlier() first, before anything can
 * fail; workspace_open() once the job is valid; workspace_close() last.
 */
#ifndef JOBRUN_WORKSPACE_H
#define JOBRUN_WORKSPACE_H

#include <stdbool.h>

#include "configuration.h"

struct workspace {
	const char *path; /* borrowed from the configuration */
	int logs; /* descriptor of logs/; -1 when not open */
	int outputs; /* descriptor of outputs/; -1 when not open */
	char *logs_path;
	char *outputs_path;
};

#define WORKSPACE_INIT                                                         \
	{                                                                      \
		.logs = -1, .outputs = -1                                      \
	}

/*
 * Pins the workspace directory: opens it once (in local mode, where it
 * lies in the code directory steps write to, never through a symlink),
 * so that the job's files go to that directory even if a step swaps its
 * path for a symlink later.  A workspace that does not exist yet is
 * pinned by a later call, once it is made.  Returns 0, or -1 with *error
 * set (a symlink in local mode).
 */
int workspace_pin(const struct config *config, char **error);

/*
 * When the pinned workspace has been removed meanwhile (a step's
 * "git clean -fdx" in local mode, where it lies in the code directory):
 * makes it again and pins the new one, with *removed set, so that the
 * result files are not written into a directory nobody can reach.
 * Returns 0, or -1 with *error set.
 */
int workspace_repin(const struct config *config, bool *removed, char **error);

/*
 * The path of name in the workspace of config (caller frees): through the
 * pinned directory (/proc/self/fd/N/name) once it is pinned.
 */
char *workspace_file(const struct config *config, const char *name);

/* The triggers file's path (caller frees): in the pinned workspace when
 * it is the default, WORKSPACE/triggers.json. */
char *workspace_triggers_file(const struct config *config);

/*
 * Removes the files an earlier job left for its readers (result.json,
 * triggers.json, outputs.json, and temporary files of writers that died
 * before their rename), so none of them is taken for this job's.
 */
void workspace_remove_earlier(const struct config *config);

/*
 * Creates the workspace and opens logs/ and outputs/ in it, cleared.
 * Returns 0, or -1 with *error set (a symlink or file in place of one of
 * them is refused).
 */
int workspace_open(
    struct workspace *ws, const struct config *config, char **error);

/*
 * Closes logs/ to everyone but jobrun's user (0700) while untrusted steps
 * may run, or opens it again (0755): a step that could read the logs as
 * they are written would see what the masker holds back, and learn a
 * secret a byte at a time.  Returns 0, or -1 with errno.
 */
int workspace_logs_private(struct workspace *ws, bool private);

/* Clears outputs/ (step outputs were for the steps) and closes ws. */
void workspace_close(struct workspace *ws);

#endif
