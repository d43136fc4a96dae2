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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "expr.h"
#include "job.h"
#include "problems.h"

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
	size_t *by_name; /* indices of the named steps, sorted by name */
	size_t n_named; /* entries of by_name */
	bool partial; /* some step has no name (a problem of the job file) */
};

#define PLAN_INIT                                                              \
	{                                                                      \
		0                                                              \
	}

/*
 * Checks job and builds its plan into *out.  Returns 0, or -1 with every
 * problem found, one a line "file:line:column: ..." (see problems.h), in
 * *error (the caller frees it) and *out left empty.
 */
int plan_build(struct plan *out, const struct job *job, char **error);

/*
 * Runs plan_build()'s checks on job and adds every problem found to
 * problems.  job may be one the job file reader could read only in part: a
 * step without a name is left out, and names that might be its are not
 * reported as unknown.
 */
void plan_check(const struct job *job, struct problems *problems);

/*
 * The plan as waves of steps that may run together: a step with no
 * dependencies is in wave 0, and a step is in wave k + 1 when the latest
 * of its dependencies is in wave k.  (The engine does not wait for a whole
 * wave: a step starts as soon as its own dependencies are done.)
 */
struct plan_waves {
	size_t n_waves;
	size_t *wave_of; /* the wave of each step, plan->n_steps entries */
	size_t *steps; /* step indices wave by wave, file order within one */
	size_t *first; /* wave k is steps[first[k] .. first[k + 1]) */
};

#define PLAN_WAVES_INIT                                                        \
	{                                                                      \
		0                                                              \
	}

/* Computes the waves of a built plan into *out (release it after). */
void plan_waves(struct plan_waves *out, const struct plan *plan);

/* Frees what the waves own. */
void plan_waves_release(struct plan_waves *waves);

/*
 * Prints the plan to out as its waves, for a dry run: a heading with the
 * job's name, then each wave and each of its steps with what it needs, its
 * condition (success() when it has none), its timeout (its own, else
 * job_timeout_ms when not 0, else none), its retries and
 * continue_on_error when set, and whether it runs trusted or untrusted.
 */
void plan_print_waves(FILE *out, const struct plan *plan, const char *job_name,
    uint64_t job_timeout_ms);

/* Returns the index of the step named name, or -1. */
long plan_find(const struct plan *plan, const char *name);

/* Frees what the plan owns (not the job). */
void plan_release(struct plan *plan);

#endif
