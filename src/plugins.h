/*
 * The plugin loader: finds plugins, refuses the ones that are not from a
 * trusted place, opens them with dlopen(), checks their ABI version before
 * calling anything in them, orders them by priority and calls their hooks
 * with the failure policy of include/jobrun/plugin.h.  A watchdog ends
 * jobrun (status 125) when a hook does not return within the plugin
 * timeout.  The host services a plugin calls live in lifecycle.c.
 */
#ifndef JOBRUN_PLUGINS_H
#define JOBRUN_PLUGINS_H

#include <stdbool.h>
#include <stdint.h>

#include <jobrun/plugin.h>

#include "list.h"

/*
 * What a plugin's calls are tied to: given to every hook and host
 * service.  host_data is the lifecycle that runs the job.
 */
struct jobrun_context {
	void *host_data;
	const char *name; /* the plugin's, for messages */
	const char *path; /* the file it was loaded from */
	const struct nvlist *config; /* its settings from the job file */
	unsigned int abi_version; /* the plugin's */
};

struct plugins;

/* Where plugins may come from, for the checks. */
struct plugin_places {
	const char *plugin_dir; /* where bare names are looked up */
	const char *code_dir; /* never load from under here */
	uint64_t timeout_ms; /* for each hook call; 0: none */
};

/* Returns an empty set; places (borrowed) must outlive it. */
struct plugins *plugins_new(const struct plugin_places *places);

/*
 * Loads the plugin named by spec: a bare name ("junit", "junit.so") is
 * looked up in places.plugin_dir; a relative path is taken from base_dir
 * (NULL: the working directory).  It must pass plugins_check_trusted(),
 * load with RTLD_NOW | RTLD_LOCAL, export JOBRUN_PLUGIN_SYMBOL with this
 * ABI's major version and a name.  config (borrowed, may be NULL) must
 * outlive the set.  A file loaded already is not loaded twice: the later
 * entry's priority and config win; another file with the name of a
 * loaded plugin is refused.  origin says where spec came from, for
 * messages ("--plugin", "job.yaml:4:5").  Returns 0, or -1 with *error
 * (the caller frees).
 */
int plugins_load(struct plugins *set, const char *spec, const char *base_dir,
    long long priority, const struct nvlist *config, const char *origin,
    char **error);

/*
 * Loads every "*.so" in dir, in name order, with priority; a missing dir
 * is not an error.  Returns 0 or -1 with *error.
 */
int plugins_load_dir(struct plugins *set, const char *dir, long long priority,
    const char *origin, char **error);

/*
 * Parses a list "SPEC[:PRIORITY],SPEC[:PRIORITY]..." (JOBRUN_PLUGINS,
 * --plugin) and loads each entry.  Returns 0 or -1 with *error.
 */
int plugins_load_list(
    struct plugins *set, const char *list, const char *origin, char **error);

/*
 * Calls init() of every plugin loaded since the last call, in order, with
 * host and host_data for their contexts.  Returns 0, or -1 when one
 * refused (reported; the others are still initialised and will get the
 * teardown phases).
 */
int plugins_init(
    struct plugins *set, const struct jobrun_host *host, void *host_data);

/*
 * Runs phase in every initialised plugin: in priority order, and in
 * reverse for POST_EXECUTION, ON_ERROR and CLEANUP.  Before execution the
 * first failure stops the phase; after it every plugin is called.
 * Returns 0, or -1 when a hook failed (reported, naming the plugin).
 */
int plugins_phase(struct plugins *set, enum jobrun_phase phase);

/* The same for a step hook: BEFORE_STEP in order and stops at the first
 * failure, AFTER_STEP in reverse and calls every plugin. */
int plugins_step(struct plugins *set, enum jobrun_phase when,
    const struct jobrun_step *step);

/* Calls fini() of every initialised plugin in reverse order, closes every
 * object and frees the set (NULL is fine). */
void plugins_free(struct plugins *set);

/* How many plugins are loaded. */
size_t plugins_count(const struct plugins *set);

/*
 * Whether code may be loaded from path: 0 when it is a regular file that
 * it and every directory above it are owned by root or by jobrun's user
 * and writable by nobody else (a directory with the sticky bit, such as
 * /tmp, may be writable by all), and it is not under code_dir (may be
 * NULL); otherwise -1 with the reason in *why (the caller frees).
 */
int plugins_check_trusted(const char *path, const char *code_dir, char **why);

/*
 * The hook watchdog, paused while a hook waits for a command jobrun
 * supervises itself (host->run()), and resumed with a fresh timeout.
 */
void plugins_watchdog_pause(void);
void plugins_watchdog_resume(void);

/*
 * Sets what the watchdog does before jobrun exits (NULL: nothing): the
 * runner kills the process groups of its steps.  fn runs in a signal
 * handler, while the main thread is inside a plugin's hook: it may use
 * only async-signal-safe calls.
 */
void plugins_watchdog_on_fire(void (*fn)(void));

/*
 * Where the watchdog also writes why it ends jobrun (its message, without
 * "jobrun: " and the newline, NUL-terminated, cut to size), for a
 * supervisor to put in result.json: memory shared with it.  NULL: nowhere.
 */
void plugins_watchdog_record_to(char *buffer, size_t size);

#endif
