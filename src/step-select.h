/*
 * Local debugging: which steps of a plan run.  --until STEP runs STEP and
 * every step it depends on, transitively; --only STEP[,STEP...] runs those
 * steps alone, the steps they depend on taken as succeeded with no
 * outputs.  The engine skips the others with the reason "not selected".
 */
#ifndef JOBRUN_STEP_SELECT_H
#define JOBRUN_STEP_SELECT_H

#include <stdbool.h>

#include "plan.h"

/*
 * Sets *out to an array of plan->n_steps flags (caller frees), true for
 * each step that runs, from until and only (either may be NULL; both NULL
 * gives *out NULL: every step runs).  Returns 0, or -1 with *error (caller
 * frees) when a name is not a step's (with a did-you-mean), is empty, or
 * both are given.
 */
int step_select(const struct plan *plan, const char *until, const char *only,
    bool **out, char **error);

#endif
