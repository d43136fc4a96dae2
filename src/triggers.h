/*
 * Trigger logic: which jobs run after this one.  trigger-file.h writes
 * them to triggers.json (and the workflow outputs to outputs.json).
 *
 * A job's triggers come from two places: the job file's static triggers,
 * decided once the job's outcome is known (when:, then if:, then for_each:
 * expanded into one job per item), and dynamic triggers that steps and
 * plugins add over the control socket while the job runs.  Static ones come
 * first, then dynamic ones in the order they arrived.  Each job is kept as
 * the JSON object trigger-file.h describes.
 */
#ifndef JOBRUN_TRIGGERS_H
#define JOBRUN_TRIGGERS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "expr.h"
#include "job.h"
#include "mask.h"

/* At most this many jobs in one file, and this many bytes of JSON. */
#define TRIGGERS_MAX_JOBS 1000
#define TRIGGERS_MAX_BYTES (1024 * 1024)

struct triggers;

/* Returns an empty set of triggers for job (borrowed; may be NULL). */
struct triggers *triggers_new(const struct job *job);

/*
 * Adds a dynamic trigger from a control-socket request (borrowed):
 * {"job":NAME, "env":{K:V...}, "depends_on":[J...], "condition":C}, only
 * "job" required.  Returns 0, or -1 with a message in *error (caller
 * frees) when the request is malformed or a limit is reached (1000
 * jobs, 1 MiB of JSON in all).
 */
int triggers_add_request(struct triggers *t, json_t *request, char **error);

/* How the job ended, for when: and for the functions in if:. */
struct triggers_outcome {
	const char *name; /* "success", "failed", "cancelled", ... */
	bool success;
	bool cancelled;
	/* Names in if: (branch, event, job, env.X, steps.X.outcome); the
	 * facts' function member is not used. */
	const struct expr_facts *facts;
};

/*
 * Decides the static triggers against outcome and appends the dynamic
 * ones.  Returns the number of jobs, or -1 with a message in *error when
 * a limit is exceeded (the file then has no jobs and says why).
 */
long triggers_decide(
    struct triggers *t, const struct triggers_outcome *outcome, char **error);

/* The decided jobs, borrowed: a JSON array of the file's job objects. */
const json_t *triggers_jobs(const struct triggers *t);

/* The outcome given to triggers_decide() (borrowed), or NULL before. */
const char *triggers_outcome_name(const struct triggers *t);

/*
 * Why triggers_decide() listed no job (a limit exceeded; borrowed), or
 * NULL.
 */
const char *triggers_limit_error(const struct triggers *t);

/*
 * Workflow outputs: values this job hands to the jobs it triggers, set
 * with "jobrun output set KEY" and written to outputs.json as
 * {"outputs":{KEY:VALUE}}, masked, at the end of the job.  At most
 * TRIGGERS_MAX_OUTPUTS keys and TRIGGERS_MAX_OUTPUT_BYTES bytes of keys
 * and values.
 */
#define TRIGGERS_MAX_OUTPUTS 1000
#define TRIGGERS_MAX_OUTPUT_BYTES (512 * 1024)

/*
 * Sets an output from a control-socket request (borrowed):
 * {"key":KEY,"value":VALUE}; a later value replaces an earlier one.
 * Returns 0, or -1 with *error (caller frees).
 */
int triggers_set_output(struct triggers *t, json_t *request, char **error);

/* The outputs, borrowed: a JSON object of strings. */
const json_t *triggers_outputs(const struct triggers *t);

/* Frees t; NULL is a no-op. */
void triggers_free(struct triggers *t);

#endif
