/*
 * The host side of a job run in a container, over any backend of the
 * runtime seam (runtime.h): look for the run's instance first and act on
 * what is found (create, start, attach or collect: never a second
 * instance), hand the job its one-shot secret bundle on its standard
 * input and keep that open as its lifeline, stream its output to the
 * console masked again, turn the host's signals into a stop of the job,
 * copy its result files back and remove it.
 */
#ifndef JOBRUN_RUNTIME_RUN_H
#define JOBRUN_RUNTIME_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mask.h"
#include "runtime.h"

struct runtime_run_options {
	const char *run_id; /* valid (runtime_run_id_valid()) */
	struct runtime_spec spec; /* name, run_id, owner: filled in by run */
	enum runtime_pull pull;
	bool detach; /* start it and return: no lifeline, no streaming */
	bool keep; /* leave the instance once it is collected */
	bool attach_only; /* never create nor start ("jobrun attach") */
	const char *bundle; /* written first on the job's standard input */
	size_t bundle_length;
	const char *workspace; /* the host directory results go to */
	/* The host directory bound as the job's workspace, or NULL: then
	 * the results are read there, not copied out by the backend. */
	const char *bound_workspace;
	uint64_t grace_ms; /* SIGTERM to SIGKILL */
	uint64_t hard_stop_ms; /* kill it after this long; 0: never */
	uint64_t timeout_ms; /* the job's timeout, from the start; 0: none */
	struct mask_set *mask; /* masks the output again; may be NULL */
	int console; /* where the job's standard output goes */
	/* Where its standard error goes, when the backend keeps it apart;
	 * -1: to console as well. */
	int console_errors;
	int signals; /* a signalfd of SIGINT, SIGTERM, SIGHUP; or -1 */
};

/*
 * Runs (or finds, attaches to, collects) the instance of options->run_id
 * and returns the job's exit status.  A failure on the host side is
 * reported, written to WORKSPACE/result.json (outcome "error", the
 * reason masked) and returns 125 (but a result.json the backend's
 * collect_result wrote before it failed stands); a hard stop returns 124;
 * SIGKILL of a job that ignored SIGTERM returns 137; a job the runtime says was
 * OOM-killed before it wrote result.json returns 1, with a result.json
 * written here saying so.
 */
int runtime_run_job(struct runtime *rt, struct runtime_run_options *options);

/*
 * Extracts from the tar stream in fd into dir only what a job's
 * workspace gives back (result.json, triggers.json, outputs.json, logs/,
 * artifacts/); refuses absolute names, "..", links that leave dir and
 * anything that is not a file, directory or relative link.  Returns the
 * number of entries skipped as unsafe, or -1 with *error.  Bounded by
 * RUNTIME_RESULTS_TIMEOUT_MS and cancelled by a host signal.
 */
int runtime_extract_results(int fd, const char *dir, char **error);

/* The same from the directory from (the job's workspace bound from this
 * host), read without following links. */
int runtime_extract_results_dir(
    const char *from, const char *dir, char **error);

/*
 * "jobrun pack-results DIR", the command of a Kubernetes collector pod:
 * jobrun-source writes DIR's results on standard output as text
 * (results-unpack.h).  Returns 0, or 125 after a message.
 */
int runtime_pack_results(const char *dir);

/*
 * jobrun-source's deadline when it unpacks results (10 minutes, or
 * JOBRUN_RESULTS_TIMEOUT seconds, 1 to 86400): past it, or on SIGINT,
 * SIGTERM, SIGHUP or SIGQUIT, it is killed and the extraction fails
 * ("timed out after ...", "cancelled by signal N").
 */
#define RUNTIME_RESULTS_TIMEOUT_MS (10 * 60 * 1000)

/*
 * Writes DIR/result.json as the host's own record of a run that failed
 * on the host side: outcome "error" (or "timed_out"), exit_status, the
 * reason masked with mask (may be NULL).  Returns 0 or -1 after a message.
 */
int runtime_write_host_result(const char *dir, const char *job,
    const char *outcome, int exit_status, const char *reason,
    struct mask_set *mask);

#endif
