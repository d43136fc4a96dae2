/*
 * triggers.json: what runs after this job (DESIGN.md, "triggers.json").
 *
 * A job's triggers come from two places: the job file's static triggers,
 * decided once the job's outcome is known (when:, then if:, then for_each:
 * expanded into one job per item), and dynamic triggers that steps and
 * plugins add over the control socket while the job runs.  Static ones come
 * first, then dynamic ones in the order they arrived.
 *
 * The file is runnerlib's trigger_job format:
 *
 *   {"type":"trigger_job","operation_id":"<uuid v4>","trigger_type":"jobrun",
 *    "job":"<this job>","outcome":"success",
 *    "jobs":[{"job_name":"deploy","env":{"K":"V"},"depends_on":["a"],
 *             "condition":"all_success","source_type":"git",
 *             "source_url":"...","source_ref":"...","ci_source_type":"git",
 *             "ci_source_url":"...","ci_source_ref":"...",
 *             "container_image":"...","job_command":"...",
 *             "timeout":600,"priority":5}]}
 *
 * "job_name" and "env" are always there; every other field of a job only
 * when it was given.  "timeout" is in whole seconds.  jobrun's additions,
 * which runnerlib's worker ignores: "job" and "outcome" (the job that wrote
 * the file and how it ended) and, when a limit was exceeded, "error" (the
 * reason "jobs" is empty).  Every string passes the masker.
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

/*
 * Writes the file (after triggers_decide) to path atomically and durably,
 * every string masked with mask (may be NULL).  Returns 0; 1 with
 * *error when the jobs were past TRIGGERS_MAX_BYTES (the file, written,
 * has none and says why); -1 with *error when it could not be written.
 */
int triggers_write(struct triggers *t, const char *path, const char *job_name,
    struct mask_set *mask, char **error);

/* The decided jobs, borrowed: a JSON array of the file's job objects. */
const json_t *triggers_jobs(const struct triggers *t);

/* Writes a random (version 4) UUID into out; -1 when no randomness. */
int triggers_uuid(char out[37]);

/*
 * For local mode: passes emit one line per decided job, masked, naming it,
 * what the worker waits for, and a jobrun command that runs it here:
 *   deploy (after build; all_success): REGION='eu' jobrun run --name 'deploy'
 * or "next: no job is triggered".  The line is valid during the call.
 */
void triggers_describe(struct triggers *t, struct mask_set *mask,
    void (*emit)(void *context, const char *line), void *context);

/*
 * Kubernetes shows the first 4 KiB of /dev/termination-log as why a
 * container ended; the full files stay on the volume.
 */
#define TRIGGERS_SUMMARY_MAX 4000

/*
 * Returns a compact summary for the termination log, allocated: the object
 * facts (borrowed; the job's outcome and step counts) with, added,
 * "triggers" (the decided jobs' names, in order, as many as fit) and
 * "more_triggers" (how many did not), every string masked, at most
 * TRIGGERS_SUMMARY_MAX bytes when facts itself is small.
 */
char *triggers_summary(
    struct triggers *t, json_t *facts, struct mask_set *mask);

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

/* Writes outputs.json to path as triggers_write() does; 0 or -1, *error. */
int triggers_write_outputs(
    struct triggers *t, const char *path, struct mask_set *mask, char **error);

/* The outputs, borrowed: a JSON object of strings. */
const json_t *triggers_outputs(const struct triggers *t);

/* Frees t; NULL is a no-op. */
void triggers_free(struct triggers *t);

#endif
