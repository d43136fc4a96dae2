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

/* At most this many jobs in one file, and this many bytes of JSON (of
 * which the jobs may use all but TRIGGERS_FILE_SLACK). */
#define TRIGGERS_MAX_JOBS 1000
#define TRIGGERS_MAX_BYTES (1024 * 1024)
#define TRIGGERS_FILE_SLACK (16 * 1024)

struct triggers;

/* Returns an empty set of triggers for job (borrowed; may be NULL). */
struct triggers *triggers_new(const struct job *job);

/*
 * Adds a dynamic trigger from a control-socket request or a plugin
 * (borrowed): {"job":NAME, "env":{K:V...}, "depends_on":[J...],
 * "condition":C}, only "job" required.  An env name that steers the next
 * job's runner (triggers_env_name_steers()) is refused: only the job
 * file's triggers may set one.  Returns 0, or -1 with a message in *error
 * (caller frees) when the request is malformed, refused, or past a limit
 * (1000 jobs, 1 MiB of JSON in all; such a refusal is also recorded, see
 * triggers_errors()).
 */
int triggers_add_request(struct triggers *t, json_t *request, char **error);

/*
 * True when an env variable called name would steer the next job's
 * runner rather than its steps: JOBRUN_*, REACTORCIDE_*, LD_*, PATH and
 * the others jobrun(1) lists under TRIGGERS (case is ignored).
 */
bool triggers_env_name_steers(const char *name);

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
 * ones.  The job file's triggers come first and are never dropped for
 * dynamic ones: past the file's limits (TRIGGERS_MAX_JOBS jobs,
 * TRIGGERS_MAX_BYTES of JSON) dynamic triggers are dropped, and static
 * ones past them only when they alone exceed them.  Returns the number of
 * jobs, or -1 with the errors joined in *error (caller frees) when any
 * were dropped (the jobs that fit are still listed; triggers_errors()).
 */
long triggers_decide(
    struct triggers *t, const struct triggers_outcome *outcome, char **error);

/* The decided jobs, borrowed: a JSON array of the file's job objects. */
const json_t *triggers_jobs(const struct triggers *t);

/* The outcome given to triggers_decide() (borrowed), or NULL before. */
const char *triggers_outcome_name(const struct triggers *t);

/*
 * Why triggers_decide() left jobs out (its errors joined; borrowed), or
 * NULL.
 */
const char *triggers_limit_error(const struct triggers *t);

/*
 * The errors of the last triggers_decide() (borrowed): a JSON array of
 * strings, empty when every trigger is listed.  For result.json.
 */
const json_t *triggers_errors(const struct triggers *t);

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
