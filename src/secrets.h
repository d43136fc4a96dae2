/*
 * Where a job's secrets come from, before any step runs: the values of
 * the variables named in secrets.env and REACTORCIDE_SECRET_ENV_NAMES
 * (comma-separated), of variables whose names match secrets.env_globs
 * (opt-in, fnmatch(3) patterns such as "*_TOKEN"), the values of
 * REACTORCIDE_SECRET_VALUES_LIST (comma-separated, or the path of a file
 * of one value per line), the contents of secrets.files and
 * REACTORCIDE_SECRETS_FILE (the whole file, trimmed, and the value of every
 * KEY=VALUE line in it), the credentials of source: and ci_source:
 * (token_env's value, token_file's contents), and the PCRE2 patterns of
 * secrets.patterns.
 * Variables are looked up in the job's environment (env:, --job-env) and
 * then in jobrun's own.
 */
#ifndef JOBRUN_SECRETS_H
#define JOBRUN_SECRETS_H

#include "configuration.h"
#include "job.h"
#include "list.h"
#include "mask.h"

/*
 * Adds every secret of the job to set.  A value too short to mask safely is
 * refused with a warning that names where it came from, never the value;
 * so is a named variable that is not set (a job without its secrets, such
 * as a pull request from a fork, still runs).  Returns 0, or -1 with a
 * message in *error (caller frees) when a secrets file cannot be read or a
 * pattern does not compile.
 */
int secrets_collect(struct mask_set *set, const struct job *job,
    const struct config *config, const struct nvlist *job_env, char **error);

#endif
