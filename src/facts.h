/*
 * The job's facts as conditions name them (expr.h): branch, event, tag, job,
 * env.NAME and steps.STEP[.outcome].  Steps' `if:` (the engine) and
 * triggers' `if:` (the run flow) read the same facts through here.
 */
#ifndef JOBRUN_FACTS_H
#define JOBRUN_FACTS_H

#include <stddef.h>

#include <jobrun/plugin.h>

#include "configuration.h"
#include "list.h"
#include "plan.h"

struct facts {
	const struct config *config;
	const struct nvlist *job_env; /* env.NAME, before jobrun's own */
	const struct plan *plan; /* NULL: no steps.X facts */
	/* The outcome of step index so far. */
	enum jobrun_outcome (*outcome)(const void *context, size_t index);
	const void *context;
};

/*
 * Returns the value of the fact name, or NULL when there is none (a
 * condition reads that as "").  The string is borrowed from facts' parts.
 */
const char *facts_lookup(const struct facts *facts, const char *name);

#endif
