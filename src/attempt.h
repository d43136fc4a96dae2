/*
 * The inside of the step engine, shared by runner.c (scheduling, signals,
 * deadlines) and attempt.c (one attempt of a step: its pipe, its process,
 * its end).  Nothing else includes this header: the rest of jobrun uses
 * runner.h.
 */
#ifndef JOBRUN_ATTEMPT_H
#define JOBRUN_ATTEMPT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "heap.h"
#include "oom.h"
#include "runner.h"

/* How long what a step left behind may take to go after SIGTERM. */
#define LEFTOVER_GRACE_MS 2000
/* After the main process exited, a pipe silent this long is closed: what
 * holds it open is then a daemon, not output still on its way. */
#define LEFTOVER_QUIET_MS 100
/* A stream silent this long lets its masker emit what it held back. */
#define MASK_QUIET_MS 200

enum run_phase {
	RUN_WAITING, /* for dependencies */
	RUN_READY, /* in the ready heap */
	RUN_RUNNING, /* an attempt is under way */
	RUN_DONE,
};

struct step_run {
	struct runner *runner;
	size_t index;
	enum run_phase phase;
	struct step_record record;
	size_t waiting; /* unfinished dependencies */
	pid_t pid; /* the attempt's main process; 0 once it exited */
	pid_t group; /* its process group */
	int pipe_fd; /* read end of its output; -1 once closed */
	/* in a PID namespace: where its init writes its wait status (read
	 * end); -1: none */
	int status_fd;
	struct console_stream *stream;
	uint64_t oom_kills; /* the cgroup's OOM kill count at the start */
	enum jobrun_outcome ended_by; /* what jobrun did to the attempt */
	uint64_t deadline; /* of the attempt; 0: none */
	uint64_t kill_at; /* SIGKILL time after SIGTERM; 0: none */
	uint64_t drain_until; /* after the exit: close the pipe at this time */
	uint64_t drain_cap; /* drain_until never goes past this */
	uint64_t idle_at; /* when the masker may flush what it holds */
	uint64_t start_ms;
	struct nvlist outputs;
	int outputs_fd; /* the outputs file jobrun made for it; -1: none */
	int summary_fd; /* likewise its $JOBRUN_STEP_SUMMARY; -1: none */
	char *summary; /* what the last attempt wrote there; NULL: nothing */
	char *start_error; /* why the last attempt could not start, or NULL */
	bool own_uid; /* untrusted, ran as uid: end what it left */
	char *cgroup; /* its attempt's cgroup; NULL: none */
	uid_t uid;
};

/* A process group a finished step left behind, to be killed. */
struct leftover {
	pid_t group;
	uint64_t kill_at;
};

struct runner {
	const struct plan *plan;
	const struct config *config;
	const struct nvlist *job_env;
	struct mask_set *mask;
	struct console *console;
	struct loop *loop;
	int outputs_dir;
	const char *outputs_path;
	const struct sandbox_filter *filter;
	const struct sandbox_policy *policy;
	bool has_untrusted;
	const bool *selected; /* runner_options' (NULL: every step) */
	bool shell_on_failure; /* runner_options' */
	const struct runner_events *events;
	void *context;
	struct step_run *runs;
	struct heap ready;
	size_t *running; /* indices of steps in RUN_RUNNING */
	size_t n_running;
	size_t n_done;
	long slots;
	struct leftover *leftovers;
	size_t n_leftovers;
	size_t leftovers_cap;
	int signal_fd;
	int cancel_signal; /* the first SIGINT/SIGTERM/... received */
	bool aborting; /* a second signal came: run nothing more */
	bool job_timed_out;
	bool pipes_paused; /* the console is behind: pipes are not read */
	uint64_t job_deadline; /* 0: none */
	uint64_t
	    job_start_ms; /* the job's timeout counts from it (0: its run) */
	uint64_t grace_ms;
	struct oom_watch oom;
	char *shell_name; /* the last shell looked up, */
	char *shell_search; /* along this PATH, */
	char *shell_path; /* found here (NULL: not found) */
};

/* Starts the next attempt of step index (its first, or a retry). */
void attempt_start(struct runner *r, size_t index);

/* The reaper saw the attempt's main process end with wait status. */
void attempt_exited(struct runner *r, size_t index, int status);

/*
 * Ends the attempt when its main process has exited and its pipe is
 * closed (or quiet for long enough); then retries the step or finishes it.
 */
void attempt_check(struct runner *r, size_t index);

/* Reads (on) or stops reading (off) the attempt's pipe. */
void attempt_watch(struct runner *r, size_t index, bool on);

/* Records step index's final outcome and releases its dependants. */
void runner_finish_step(
    struct runner *r, size_t index, enum jobrun_outcome outcome);

/* Kills what untrusted attempts left under their uids (sandbox.h). */
void attempt_end_untrusted(struct runner *r, size_t index);

/* Takes step index off the running list. */
void runner_remove_running(struct runner *r, size_t index);

#endif
