/*
 * Environment scrubbing for untrusted steps: what is removed from a step's
 * environment before it starts, so that no secret value reaches it.
 */
#ifndef JOBRUN_ENVSCRUB_H
#define JOBRUN_ENVSCRUB_H

#include "configuration.h"
#include "job.h"
#include "mask.h"

/*
 * Removes from envp (a NULL-terminated "NAME=VALUE" vector from
 * stepenv_build(), edited in place) every variable:
 *   - whose value holds a secret of mask (registered or known: masking the
 *     value changes it), when mask is not NULL;
 *   - named in secrets.env or in the secret_env_names setting, or whose
 *     name matches secrets.env_globs, or named by source.token_env or
 *     ci_source.token_env;
 *   - that configures jobrun's secrets: JOBRUN_SECRET_VALUES_LIST,
 *     JOBRUN_SECRET_ENV_NAMES, JOBRUN_SECRETS_FILE and their
 *     REACTORCIDE_ forms.
 * Removed entries are wiped and freed.  Returns how many were removed.
 */
size_t envscrub_apply(char **envp, struct mask_set *mask, const struct job *job,
    const struct config *config);

#endif
