/*
 * The Kubernetes objects of one run ("jobrun manifest"): a ConfigMap with
 * the job file, a Secret with the job's bundle (bundle.h: its secret
 * values and settings, read by the jobrun in the pod from a file), and
 * the Job that runs the runner image's unchanged "jobrun run" as PID 1.
 * Pure: the input in, a JSON "List" out, so it is tested against golden
 * files.
 */
#ifndef JOBRUN_MANIFEST_H
#define JOBRUN_MANIFEST_H

#include <stdint.h>

#include <jansson.h>

/* Where the pod finds what the objects carry. */
#define MANIFEST_JOB_DIR "/etc/jobrun"
#define MANIFEST_BUNDLE_DIR "/run/secrets/jobrun"
#define MANIFEST_BUNDLE_KEY "bundle"

struct manifest_input {
	const char *run_id; /* valid (runtime_run_id_valid()) */
	const char *job; /* the job's name */
	const char *image;
	const char *pull; /* "always", "missing", "never" or NULL */
	const char *job_file_name; /* its name in the ConfigMap */
	const char *job_text; /* the job file */
	const char *bundle; /* the Secret's one file (bundle wire format) */
	/* Flags of "run" for the pod's jobrun, NULL-terminated, or NULL:
	 * none that names a path of this host or may hold a secret. */
	char *const *flags;
	double cpus; /* 0: no limit */
	uint64_t memory; /* bytes; 0: no limit */
	uint64_t deadline_s; /* activeDeadlineSeconds; 0: none */
	uint64_t grace_s; /* terminationGracePeriodSeconds */
};

/*
 * Returns a new List of the ConfigMap, the Secret and the Job (the
 * caller decrefs it).  The Job is suspended: a worker creates it, gives
 * the ConfigMap and the Secret an ownerReference to it (its uid), creates
 * them, then resumes it, so that deleting the Job deletes them.
 */
json_t *manifest_build(const struct manifest_input *in);

#endif
