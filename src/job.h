/*
 * The job model: what a job file (or a runnerlib-style job command) asks
 * for, after parsing and before configuration layers are applied.  Values
 * that the configuration layers can override (name, shell, timeout, the
 * sources' type/url/ref, ...) are kept as raw settings in job->settings,
 * keyed by their dotted path ("source.url"), for configuration.c to layer; the
 * rest lives in the typed fields below.
 *
 * A job owns everything it points to; job_free() releases it all.
 */
#ifndef JOBRUN_JOB_H
#define JOBRUN_JOB_H

#include <stdbool.h>
#include <stdint.h>

#include "list.h"

/* A tri-state for booleans that may be left unset. */
enum tristate {
	TRISTATE_UNSET = -1,
	TRISTATE_FALSE = 0,
	TRISTATE_TRUE = 1,
};

/* Job and step names: [A-Za-z0-9][A-Za-z0-9_.-]*, at most this long. */
#define JOB_NAME_MAX 100

/* What source: and ci_source: hold besides their type, url and ref. */
struct source_spec {
	bool present;
	struct srcpos pos;
	long long depth; /* 0: full history */
	bool submodules;
	char *token_env;
	char *token_file;
	char *ssh_key_file;
	uint64_t timeout_ms; /* 0: no limit of its own */
	/* The git and tarball sources' own (source-backend.h). */
	char *known_hosts; /* NULL: the user's and the system's */
	char *ca_file; /* NULL: the system's certificate store */
	long long max_size; /* bytes a download may have; 0: the default */
};

struct secrets_spec {
	struct strlist env; /* names of variables holding secrets */
	struct strlist env_globs; /* opt-in name globs such as *_TOKEN */
	struct strlist files; /* files whose contents are secret */
	struct strlist patterns; /* PCRE2 patterns, already checked */
};

struct plugin_spec {
	char *path;
	long long priority;
	struct nvlist config;
	struct srcpos pos;
};

/* The default plugin priority; lower runs first. */
#define PLUGIN_DEFAULT_PRIORITY 50

struct step {
	char *name;
	struct srcpos pos; /* of the step's mapping */
	struct srcpos name_pos;
	char *run;
	struct strlist depends_on;
	struct nvlist env;
	char *workdir;
	char *shell;
	uint64_t timeout_ms; /* 0: none */
	long long retries;
	bool continue_on_error;
	char *condition; /* "if:", NULL for the default success() */
	struct srcpos condition_pos;
	enum tristate trusted;
	char *run_as;
};

enum trigger_when {
	TRIGGER_WHEN_SUCCESS,
	TRIGGER_WHEN_FAILURE,
	TRIGGER_WHEN_ALWAYS,
};

struct trigger_spec {
	char *job;
	struct srcpos pos;
	enum trigger_when when;
	char *condition; /* "if:" */
	struct srcpos condition_pos;
	struct nvlist env;
	struct strlist depends_on;
	char *worker_condition; /* "condition:": all_success, ... */
	struct strlist for_each;
	char *item_var; /* "as:", default ITEM */
	char *job_command;
	char *container_image;
	uint64_t timeout_ms;
	long long priority;
	bool has_priority;
	struct nvlist source; /* type, url, ref */
	struct nvlist ci_source; /* type, url, ref */
};

struct job {
	char *file; /* as named on the command line; NULL without one */
	struct nvlist settings;
	struct nvlist env;
	enum tristate trusted;
	struct secrets_spec secrets;
	struct source_spec source;
	struct source_spec ci_source;
	struct plugin_spec *plugins;
	size_t n_plugins;
	struct step *steps;
	size_t n_steps;
	size_t steps_cap;
	struct trigger_spec *triggers;
	size_t n_triggers;
};

/* Returns a new empty job; file (may be NULL) is copied. */
struct job *job_new(const char *file);

/* Appends a zeroed step (retries 0, trusted unset) and returns it. */
struct step *job_add_step(struct job *job);

/* Appends a zeroed plugin with the default priority and returns it. */
struct plugin_spec *job_add_plugin(struct job *job);

/* Appends a trigger with the defaults (when: success) and returns it. */
struct trigger_spec *job_add_trigger(struct job *job);

/* Returns the index of the step named name, or -1. */
long job_find_step(const struct job *job, const char *name);

/* Returns the job setting at dotted key ("source.url"), or NULL. */
const char *job_setting(const struct job *job, const char *key);

/* True when name is a valid job or step name. */
bool job_name_valid(const char *name);

/* Returns "success", "failure" or "always". */
const char *trigger_when_name(enum trigger_when when);

/* Frees job and everything it owns; NULL is a no-op. */
void job_free(struct job *job);

#endif
