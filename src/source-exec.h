/*
 * Running jobrun-source, the program that handles foreign bytes for
 * jobrun: it fills a source's directory (git with libgit2, a tarball with
 * libarchive and libcurl, a copy) and unpacks the results a container
 * gives back.  jobrun itself links none of those libraries, so a job
 * without a source starts without loading them (about 13 M instructions
 * of relocations in the dynamic linker, more than the rest of a one-step
 * job).
 *
 * The program is found beside the running jobrun (a build tree, or a
 * relocated install), else in JOBRUN_HELPER_DIR (pkglibexecdir).  It
 * talks back on its descriptor 3, one record a line (source-backend.h):
 * "N text" a notice, "E text" the error, "F name=value" a fact.
 */
#ifndef JOBRUN_SOURCE_EXEC_H
#define JOBRUN_SOURCE_EXEC_H

#include <stdbool.h>
#include <stdint.h>

#include "list.h"

#define SOURCE_EXEC_PROGRAM "jobrun-source"

/* What came back from one run of jobrun-source. */
struct source_outcome {
	struct nvlist facts;
	char *error; /* the first "E" record, or why it ended badly */
	int status; /* 0, EXIT_JOBRUN_ERROR or 128+N (cancelled by signal N) */
	char pending[4096]; /* a record not yet complete */
	size_t pending_len;
	bool timed_out; /* its time ran out */
};

#define SOURCE_OUTCOME_INIT                                                    \
	{                                                                      \
		NVLIST_INIT, NULL, 0, { 0 }, 0, false                          \
	}

/*
 * The path of jobrun-source, or NULL when there is none (*why says where
 * it was looked for).  The caller frees both.
 */
char *source_exec_path(char **why);

/*
 * Makes path the program source_exec_path() gives, for unit tests (whose
 * program is not jobrun, so nothing is beside them); NULL restores the
 * search.  The path is borrowed.
 */
void source_exec_use(const char *path);

/*
 * Runs jobrun-source with args (NULL-terminated, without the program)
 * and stdin_fd as its standard input (-1: /dev/null), until it ends, the
 * timeout passes (0: none) or, when cancellable, SIGINT, SIGTERM, SIGHUP
 * or SIGQUIT arrives; the program is then killed.  Notices are shown on
 * standard error prefixed with label.  Fills *o; the caller releases it
 * with source_outcome_release().
 */
void source_exec_run(const char *label, const char *const *args, int stdin_fd,
    uint64_t timeout_ms, bool cancellable, struct source_outcome *o);

void source_outcome_release(struct source_outcome *o);

#endif
