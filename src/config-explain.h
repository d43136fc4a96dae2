/*
 * "jobrun config --explain": every setting, its effective value and where
 * it came from, as a table or (--json) one JSON object.
 *
 * No secret is shown.  Every value passes a masker that holds the job's
 * secrets (secrets.h: secrets.env, secret_env_names, env_globs, secret
 * values, secrets files, source credentials, patterns), so a secret
 * inside any value becomes "***"; secret_values_list shows "***"; in
 * job_env, a variable whose name is a secret name (secrets.env,
 * secret_env_names) or matches secrets.env_globs shows NAME=*** whatever
 * its length; a URL's user info (user name and password) shows as "***"
 * (source_redact_url()).
 */
#ifndef JOBRUN_CONFIG_EXPLAIN_H
#define JOBRUN_CONFIG_EXPLAIN_H

#include <stdbool.h>

#include "configuration.h"
#include "job.h"

/*
 * Prints config to standard output; job (borrowed; NULL: none) supplies
 * the secret names, globs and env.  With json, one JSON object of
 * {"value","source","origin"} per setting.
 */
void config_explain(
    const struct config *config, const struct job *job, bool json);

#endif
