/*
 * artifacts/summary.md: what the steps wrote to $JOBRUN_STEP_SUMMARY,
 * gathered at the end of the job in the job file's order, masked.
 */
#ifndef JOBRUN_STEP_SUMMARY_H
#define JOBRUN_STEP_SUMMARY_H

#include <stddef.h>

#include "mask.h"

/*
 * Writes workspace/artifacts/summary.md from the n summaries (NULL
 * entries are steps that wrote none), each ending with a newline and
 * separated by a blank line, masked by mask (may be NULL); neither the
 * artifacts directory nor the file is followed when a symlink.  With no
 * summary at all, a summary.md left by an earlier job is removed and
 * nothing is written.  Returns 0, or -1 with *error set (caller frees).
 */
int step_summary_write(const char *workspace, const char *const *summaries,
    size_t n, struct mask_set *mask, char **error);

#endif
