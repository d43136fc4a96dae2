/*
 * The files a job's triggers end up in (triggers.h decides them):
 * triggers.json, outputs.json, the termination summary, and in local mode
 * the lines that say what would run next.
 *
 * triggers.json is runnerlib's trigger_job format:
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
 * reason "jobs" is empty).
 *
 * Masking keeps the files' structure: every value that came from the job,
 * its steps, plugins or the environment is masked string by string
 * (mask_string()), and so are the names in "env" and "outputs"; member
 * names and fixed words ("trigger_job", "jobrun", the outcome, the
 * condition) never are, so a secret equal to one of them cannot change
 * what a worker reads.  A name that masks to one already there is
 * numbered ("***", "***_2", ...), so no member is lost.
 */
#ifndef JOBRUN_TRIGGER_FILE_H
#define JOBRUN_TRIGGER_FILE_H

#include <jansson.h>

#include "mask.h"
#include "triggers.h"

/*
 * Kubernetes shows the first 4 KiB of /dev/termination-log as why a
 * container ended; the full files stay on the volume.
 */
#define TRIGGER_FILE_SUMMARY_MAX 4000

/* Writes a random (version 4) UUID into out; -1 when no randomness. */
int trigger_file_uuid(char out[37]);

/*
 * Writes triggers.json (after triggers_decide()) to path atomically and
 * durably, masked with mask (may be NULL); job_name (borrowed) is this
 * job's.  Returns 0; 1 with *error (caller frees) when the jobs were past
 * TRIGGERS_MAX_BYTES (the file, written, has none and says why); -1 with
 * *error when it could not be written.
 */
int trigger_file_write(struct triggers *t, const char *path,
    const char *job_name, struct mask_set *mask, char **error);

/*
 * Writes outputs.json, {"outputs":{KEY:VALUE}}, as trigger_file_write()
 * does.  Returns 0, or -1 with *error (caller frees).
 */
int trigger_file_write_outputs(
    struct triggers *t, const char *path, struct mask_set *mask, char **error);

/*
 * For local mode: passes emit one line per decided job, masked, naming it,
 * what the worker waits for, and a jobrun command that runs it here:
 *   deploy (after build; all_success): REGION='eu' jobrun run --name 'deploy'
 * or "next: no job is triggered".  The line is valid during the call.
 */
void trigger_file_describe(struct triggers *t, struct mask_set *mask,
    void (*emit)(void *context, const char *line), void *context);

/*
 * Returns a compact summary for the termination log, allocated: the object
 * facts (borrowed; the job's outcome and step counts, member names fixed,
 * string values masked) with, added, "triggers" (the decided jobs' names,
 * in order, as many as fit) and "more_triggers" (how many did not), at
 * most TRIGGER_FILE_SUMMARY_MAX bytes when facts itself is small.
 */
char *trigger_file_summary(
    struct triggers *t, json_t *facts, struct mask_set *mask);

#endif
