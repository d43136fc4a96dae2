/*
 * The results of a containerised job on the host: the safe extraction of
 * what the container's workspace gives back (done by jobrun-source, with
 * libarchive: results-unpack.c), and the result.json the host writes
 * itself when the run failed on its side (the job never told its own
 * truth).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "clock.h"
#include "diag.h"
#include "duration.h"
#include "file.h"
#include "runtime-run.h"
#include "source-exec.h"
#include "xalloc.h"

/* The unpacking's deadline: JOBRUN_RESULTS_TIMEOUT seconds, else the
 * default.  A wrong value is said and the default stands. */
static uint64_t
results_timeout_ms(void)
{
	const char *text = getenv("JOBRUN_RESULTS_TIMEOUT");
	long long seconds;
	const char *why;

	if (text == NULL || text[0] == '\0')
		return RUNTIME_RESULTS_TIMEOUT_MS;
	if (number_parse(&seconds, text, 1, 86400, &why) < 0) {
		diag_warn("JOBRUN_RESULTS_TIMEOUT: %s: using %d s", why,
		    RUNTIME_RESULTS_TIMEOUT_MS / 1000);
		return RUNTIME_RESULTS_TIMEOUT_MS;
	}
	return (uint64_t)seconds * 1000;
}

/* Runs jobrun-source VERB ARG... under the deadline, cancelled by the
 * host's signals; returns its "skipped" fact, or -1 with *error. */
static int
unpack(const char *const *args, int stdin_fd, char **error)
{
	struct source_outcome o = SOURCE_OUTCOME_INIT;
	const struct nvpair *skipped;
	int n = -1;

	source_exec_run(
	    "results", args, stdin_fd, results_timeout_ms(), true, &o);
	if (o.status != 0)
		*error = o.error != NULL ? xstrdup(o.error)
					 : xstrdup("unpacking failed");
	else if ((skipped = nvlist_get(&o.facts, "skipped")) == NULL)
		*error = xstrdup("unpacking gave no count");
	else
		n = atoi(skipped->value);
	source_outcome_release(&o);
	return n;
}

int
runtime_extract_results(int fd, const char *dir, char **error)
{
	const char *const args[] = { "unpack-results", dir, NULL };

	return unpack(args, fd, error);
}

int
runtime_extract_results_dir(const char *from, const char *dir, char **error)
{
	const char *const args[] = { "copy-results", from, dir, NULL };

	return unpack(args, -1, error);
}

int
runtime_pack_results(const char *dir)
{
	const char *const args[] = { "pack-results", dir, NULL };
	struct source_outcome o = SOURCE_OUTCOME_INIT;
	int status = 0;

	source_exec_run("results", args, -1, 0, false, &o);
	if (o.status != 0) {
		diag_error("cannot pack the results of '%s': %s", dir,
		    o.error != NULL ? o.error : "jobrun-source failed");
		status = EXIT_JOBRUN_ERROR;
	}
	source_outcome_release(&o);
	return status;
}

int
runtime_write_host_result(const char *dir, const char *job, const char *outcome,
    int exit_status, const char *reason, struct mask_set *mask)
{
	char now[CLOCK_UTC_TEXT_SIZE], *masked, *text, *path, *error = NULL;
	json_t *root;
	int rc;

	masked = mask != NULL ? mask_string(mask, reason, strlen(reason), NULL)
			      : xstrdup(reason);
	clock_utc_text(now, NULL);
	root = json_pack("{s:i, s:s, s:s, s:i, s:s, s:s, s:i, s:[], s:s}",
	    "version", 1, "job", job != NULL ? job : "job", "outcome", outcome,
	    "exit_status", exit_status, "started_at", now, "finished_at", now,
	    "duration_ms", 0, "steps", "error", masked);
	text = json_dumps(root, JSON_INDENT(2));
	path = xasprintf("%s/result.json", dir);
	if ((rc = file_make_dirs(dir, &error)) >= 0) {
		close(rc);
		rc = file_write_atomic(path, text, strlen(text), true, &error);
	}
	if (rc < 0) {
		diag_error("%s", error);
		free(error);
	}
	free(path);
	free(text);
	free(masked);
	json_decref(root);
	return rc < 0 ? -1 : 0;
}
