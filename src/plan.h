/*
 * The plan: a job whose steps have been checked against each other and
 * resolved into a graph.  plan_build() is where a job file's cross-step
 * mistakes are caught (duplicate names, unknown or repeated dependencies,
 * cycles, conditions that do not parse); after it succeeds, the engine can
 * trust every index and every condition.
 *
 * The plan borrows the job: the job must outlive it.
 */
#ifndef JOBRUN_PLAN_H
#define JOBRUN_PLAN_H

#include <stddef.h>

#include "expr.h"
#include "job.h"

struct plan_step {
	const struct step *step; /* borrowed from the job */
	size_t *deps; /* indices of the steps this one needs */
	size_t n_deps;
	size_t *dependants; /* indices of the steps that need this one */
	size_t n_dependants;
	struct expr *condition; /* NULL: success() */
};

struct plan {
	const struct job *job;
	struct plan_step *steps; /* job->n_steps entries, in file order */
	size_t n_steps;
	size_t *order; /* dependencies first; file order among equals */
	size_t *by_name; /* step indices sorted by name */
};

#define PLAN_INIT                                                              \
	{                                                                      \
		0                                                              \
	}

/*
 * Checks job and builds its plan into *out.  Returns 0, or -1 with one
 * message "file:line:column: ..." in *error (the caller frees it) and *out
 * left empty.
 */
int plan_build(struct plan *out, const struct job *job, char **error);

/* Returns the index of the step named name, or -1. */
long plan_find(const struct plan *plan, const char *name);

/* Frees what the plan owns (not the job). */
void plan_release(struct plan *plan);

#endif
