/*
 * The Kubernetes backend of the runtime seam (runtime-kube.c), and what it
 * makes of kubectl's JSON and log lines (runtime-kube-parse.c): pure
 * functions, tested without kubectl.
 *
 * One instance is a Job named "jobrun-RUN-ID" with its ConfigMap (the job
 * file) and Secret (the bundle), all labelled app.kubernetes.io/instance=
 * NAME.  The Job's pod carries the same labels (its template's); its one
 * container is "jobrun".
 */
#ifndef JOBRUN_RUNTIME_KUBE_H
#define JOBRUN_RUNTIME_KUBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "runtime.h"

/* The label every object of one instance carries, its value the name. */
#define KUBE_LABEL_INSTANCE "app.kubernetes.io/instance"
/* The label the Job controller gives the Job's pods. */
#define KUBE_LABEL_JOB_NAME "batch.kubernetes.io/job-name"
/* The container jobrun runs in (manifest.c). */
#define KUBE_CONTAINER "jobrun"

/* The results volume (JOBRUN_KUBE_RESULTS_VOLUME): the claim is mounted
 * as the job's workspace, its sub-directory the instance's name; the
 * collector pod "NAME-results" (container "collect") reads it back. */
#define KUBE_RESULTS_VOLUME "results"
#define KUBE_RESULTS_MOUNT "/job"
#define KUBE_COLLECTOR "collect"
#define KUBE_COLLECTOR_SUFFIX "-results"

/* One Job and its pod as kubectl shows them.  Strings owned. */
struct kube_status {
	struct runtime_instance inst;
	char *pod; /* the newest pod's name, or NULL */
	char *waiting; /* its container waits for this reason, or NULL */
	char *message; /* the waiting message, or the ended container's
			* termination message; or NULL */
	char *failed; /* the Job failed with no exit status: why, or NULL */
};

void kube_status_release(struct kube_status *s);
void kube_statuses_free(struct kube_status *list, size_t count);

/*
 * Parses the output of "kubectl get jobs,pods -o json" (a List) into one
 * status per Job jobrun made (labelled with a run id), each with its pod.
 * Returns 0 with the array in *out (caller frees with
 * kube_statuses_free()), or -1 with *error.
 */
int kube_parse_list(struct kube_status **out, size_t *out_count,
    const char *json, char **error);

/* Whether a waiting container's reason means it will never start as it
 * is (a bad image, a bad configuration). */
bool kube_waiting_is_fatal(const char *reason);

/*
 * Adds to every object of list (manifest_build()'s) the labels of the
 * seam (jobrun's version, detached) and the owner as an annotation: a
 * label value cannot hold its ':'.
 */
void kube_decorate(json_t *list, const struct runtime_spec *spec);

/*
 * Gives the ConfigMap and the Secret of list an ownerReference to the Job
 * named job_name with uid, so that deleting the Job deletes them.
 */
void kube_set_owner(json_t *list, const char *job_name, const char *uid);

/*
 * Mounts the claim on the workspace (/job) of the Job's container in list
 * (manifest_build()'s), its sub-directory name (subPath).
 */
void kube_add_results_volume(json_t *list, const char *claim, const char *name);

/*
 * The collector pod of the instance name: the Job's image (from job_json,
 * the Job as "kubectl get -o json" prints it), "jobrun pack-results /job"
 * over the claim's sub-directory name mounted read-only, no service-account
 * token, the Job's capability set, owned by the Job (its uid) so that it
 * goes with it.  Returns a new object, or NULL with *error.
 */
json_t *kube_collector_pod(
    const char *job_json, const char *name, const char *claim, char **error);

/*
 * A pod as "kubectl get pod -o json" prints it: returns 1 when its
 * container named container has ended (its exit code in *out_exit), else
 * 0, with "REASON: MESSAGE" in *out_waiting (caller frees) when it waits.
 */
int kube_pod_ended(const char *pod_json, const char *container, int *out_exit,
    char **out_waiting);

/*
 * The archive in a collector pod's log (length bytes; results-unpack.h's
 * framing): lines before the first line are ignored; every line until
 * the trailer must be base64; the byte count and SHA-256 of what they
 * decode to must be the trailer's.  Returns 0 with the archive in *out
 * (caller frees) and its length, or -1 with *error saying what is wrong
 * (no archive, truncated, altered); nothing is given back then.
 */
int kube_results_decode(const char *log, size_t length, char **out,
    size_t *out_length, char **error);

/*
 * The result.json a run on Kubernetes gives back: made from the
 * termination summary (trigger_file_summary()) Kubernetes kept as the
 * container's termination message.  Returns the text (caller frees), or
 * NULL with *error when the message is not such a summary.
 */
char *kube_result_from_summary(const char *message, char **error);

/*
 * The result.json of a run whose pod was gone before its summary was
 * read, when the Job's status still gives the exit status: the outcome
 * that status means, and why nothing more is known.  Caller frees.
 */
char *kube_result_from_status(const char *job, int exit_status);

/*
 * Following a pod's log across breaks: kubectl prints each line after its
 * time (--timestamps); after a break the log is asked for again from the
 * last line's second (--since-time), and the lines seen already are
 * dropped here.
 */
struct kube_log_cursor {
	int64_t seconds; /* the last line shown: its time */
	long nanoseconds;
	unsigned at_last; /* lines shown with exactly that time */
	unsigned skip; /* of those, still to drop in this resume */
	bool any; /* a line was shown */
};

/* A new resume: the lines at the last time shown are to be dropped. */
void kube_log_resume(struct kube_log_cursor *c);

/*
 * One complete line of "kubectl logs --timestamps" (length n, without
 * its newline): returns true when it is new, with the offset of its text
 * (past the time and its space) in *out_offset.  A line without a time is
 * always new and shown whole.
 */
bool kube_log_accept(
    struct kube_log_cursor *c, const char *line, size_t n, size_t *out_offset);

/* The --since-time value resuming after the last line shown, into buf
 * (at least 32 bytes); "" when none was shown. */
void kube_log_since(const struct kube_log_cursor *c, char *buf, size_t size);

/*
 * The backend driving kubectl (program: a path or a name looked up in
 * PATH).  JOBRUN_KUBE_NAMESPACE and JOBRUN_KUBE_CONTEXT, when set, are
 * given to every call (else kubectl's defaults); each call is stopped
 * after JOBRUN_KUBE_TIMEOUT seconds (30; following a log is stopped when
 * silent that long, then resumed).  mask (may be NULL, borrowed for the
 * backend's life) masks kubectl's complaints.  Returns NULL with *error
 * when kubectl is not found or a setting is wrong.
 */
struct mask_set;
struct runtime *runtime_kube_new(
    const char *program, struct mask_set *mask, char **error);

#endif
