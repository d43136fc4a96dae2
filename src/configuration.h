/*
 * The configuration: one struct filled once from its layers, then read-only.
 *
 *   built-in defaults < job file < JOBRUN_* environment < command-line flags
 *
 * runnerlib's REACTORCIDE_* names are read as aliases of the JOBRUN_* ones
 * (JOBRUN_* wins when both are set).  Every value remembers where it came
 * from, so "jobrun config --explain" can say.  Keys are listed once, in the
 * table in config.c; flags, variables and the job file all map onto it.
 */
#ifndef JOBRUN_CONFIGURATION_H
#define JOBRUN_CONFIGURATION_H

#include <stdbool.h>
#include <stdint.h>

#include "job.h"
#include "list.h"

enum config_key {
	CONFIG_JOB_FILE,
	CONFIG_NAME,
	CONFIG_LOCAL,
	CONFIG_WORKSPACE,
	CONFIG_CODE_DIR,
	CONFIG_JOB_DIR,
	CONFIG_CI_SOURCE_DIR,
	CONFIG_JOB_COMMAND,
	CONFIG_JOB_ENV,
	CONFIG_SHELL,
	CONFIG_TIMEOUT,
	CONFIG_GRACE_PERIOD,
	CONFIG_JOBS,
	CONFIG_LOG_FORMAT,
	CONFIG_BRANCH,
	CONFIG_TAG,
	CONFIG_EVENT,
	CONFIG_SOURCE_TYPE,
	CONFIG_SOURCE_URL,
	CONFIG_SOURCE_REF,
	CONFIG_CI_SOURCE_TYPE,
	CONFIG_CI_SOURCE_URL,
	CONFIG_CI_SOURCE_REF,
	CONFIG_SECRET_VALUES_LIST,
	CONFIG_SECRET_ENV_NAMES,
	CONFIG_SECRETS_FILE,
	CONFIG_SECRET_MIN_LENGTH,
	CONFIG_PLUGIN_DIR,
	CONFIG_PLUGIN_PATH,
	CONFIG_PLUGINS,
	CONFIG_PLUGIN_TIMEOUT,
	CONFIG_TRIGGERS_FILE,
	CONFIG_UNTRUSTED_USER,
	CONFIG_ISOLATION,
	CONFIG_TIMESTAMPS,
	CONFIG_KEY_COUNT
};

enum config_source {
	CONFIG_FROM_DEFAULT,
	CONFIG_FROM_JOB_FILE,
	CONFIG_FROM_ENV,
	CONFIG_FROM_FLAG,
};

struct config_value {
	char *text; /* NULL: unset */
	char *origin; /* "JOBRUN_JOBS", "--code-dir", "job.yaml:3:7" */
	enum config_source source;
	long long number; /* for integer and boolean keys */
	uint64_t ms; /* for duration keys */
};

struct config {
	struct config_value values[CONFIG_KEY_COUNT];
};

/* A value given on the command line, before layering. */
struct config_flag {
	enum config_key key;
	const char *value; /* borrowed from argv */
	const char *flag; /* "--code-dir", as typed */
	bool is_switch; /* typed without a value (--timestamps: "true") */
};

/* Returns the key's name as --explain prints it ("code_dir"). */
const char *config_key_name(enum config_key key);

/* Returns the key's JOBRUN_* variable name. */
const char *config_key_env(enum config_key key);

/* Returns the key's runnerlib (REACTORCIDE_*) variable name, or NULL. */
const char *config_key_alias(enum config_key key);

/*
 * Fills *out from the layers: defaults, job (may be NULL), the process
 * environment and flags[0..n_flags).  Each value is checked against its
 * type; returns 0, or -1 with a message in *error (caller frees).  The
 * values of secret keys never appear in messages.
 */
int config_build(struct config *out, const struct job *job,
    const struct config_flag *flags, size_t n_flags, char **error);

/* Returns the key's value, or NULL when unset. */
const char *config_get(const struct config *config, enum config_key key);

/* Returns the key's number (integer and boolean keys). */
long long config_number(const struct config *config, enum config_key key);

/* Returns the key's duration in milliseconds, 0 when unset. */
uint64_t config_ms(const struct config *config, enum config_key key);

/* Returns where a value came from as --explain says it ("environment"). */
const char *config_source_name(enum config_source source);

/* True when the key's whole value is secret (secret_values_list). */
bool config_key_secret(enum config_key key);

/* Frees what config holds. */
void config_release(struct config *config);

#endif
