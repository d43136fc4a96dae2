/*
 * result.json: the outcome of the job and of every step, written atomically
 * (a temporary file in the same directory, fsync, rename, fsync of the
 * directory), so a reader sees the old file or the new one, never half.
 */
#ifndef JOBRUN_RESULT_H
#define JOBRUN_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct mask_set;

/* One step's record; times are wall-clock, for people and workers. */
struct result_step {
	const char *name;
	const char *outcome; /* "success", "failed", ... */
	int exit_code; /* -1 when killed by a signal or never ran */
	int signal; /* 0 when none */
	bool oom_killed; /* failed while the OOM killer struck (oom.h) */
	/* "none", "weak", "uid", "pid-namespace" (sandbox.h); NULL: it
	 * never ran */
	const char *isolation;
	unsigned attempts;
	struct timespec started; /* tv_sec 0: never started */
	struct timespec finished;
	uint64_t duration_ms;
	const char
	    *log; /* "logs/NAME.log" (masked); NULL: it printed nothing */
	bool trusted;
	bool continue_on_error;
	const char *reason; /* why it never ran; NULL: it ran, or no outcome */
	struct json_t *outputs; /* its outputs' names (masked); NULL: none */
};

struct result {
	const char *job;
	const char *outcome;
	int exit_status;
	struct timespec started;
	struct timespec finished;
	uint64_t duration_ms;
	const struct result_step *steps;
	size_t n_steps;
	const struct mask_set *mask; /* redaction counts; NULL: none */
	const char *error; /* why jobrun failed (masked); NULL: it did not */
	int signal; /* the signal that ended jobrun's job process; 0: none */
	/* Why triggers were left out of triggers.json (strings, masked);
	 * NULL or empty: none were. */
	struct json_t *trigger_errors;
	/* What the sources were ({"ci_source", "source"}, masked); NULL:
	 * not known yet. */
	struct json_t *sources;
};

/*
 * Writes result to path atomically.  With durable, the data and the rename
 * are also flushed to disk (fsync of the file and of its directory), so
 * they survive a crash of the machine; a file that is about to be replaced
 * anyway need not pay for that.  Returns 0, or -1 with a message in *error
 * (caller frees).
 */
int result_write(
    const char *path, const struct result *result, bool durable, char **error);

#endif
