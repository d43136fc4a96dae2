/*
 * The runtime commands: "jobrun run --runtime podman|docker|auto" (a job
 * in its own container, driven from this host), "ps", "attach", "stop"
 * and "gc".  "run" with the local runtime (the default) is not here: it
 * is today's jobrun.
 */
#ifndef JOBRUN_RUNTIME_JOB_H
#define JOBRUN_RUNTIME_JOB_H

#include <stdbool.h>

#include "cli.h"

/* The runtime "run" asks for: --runtime, else JOBRUN_RUNTIME, else
 * "local" (borrowed). */
const char *runtime_job_kind(const struct cli *cli);

/* Whether "run" is runtime_job_run()'s: the runtime is not "local", or
 * an option of a container run was given (which it refuses). */
bool runtime_job_wanted(const struct cli *cli);

/*
 * Runs the job of cli in a container and returns its exit status (125
 * for a failure on this side, with WORKSPACE/result.json saying why).
 * Signals SIGINT, SIGTERM and SIGHUP must be blocked by the caller (main
 * does); they are read here from a signalfd.
 */
int runtime_job_run(const struct cli *cli);

/* Removes the workspaces bound for runs whose jobrun is gone (or says
 * it would).  Returns 0 or 125. */
int runtime_job_gc_dirs(bool dry_run);

/* "manifest JOBFILE": the Kubernetes objects on standard output
 * (manifest.h).  Returns 0 or 125. */
int runtime_job_manifest(const struct cli *cli);

/* "ps", "attach RUN_ID", "stop RUN_ID", "gc": the exit status. */
int runtime_job_command(const struct cli *cli);

#endif
