/*
 * The runtime seam: one interface over the places a job can run in its
 * own container (Podman, Docker, Kubernetes, and an in-memory fake for
 * tests).  A backend knows how to create, start, attach to, signal, wait
 * for, copy files out of, remove and list instances; it knows nothing of
 * jobs, secrets or result files.  runtime-run.c drives it.
 *
 * Every instance is keyed by a run id.  Its name is derived from the run
 * id alone (runtime_instance_name()), and its labels carry the run id, the
 * job's name, jobrun's version and its owner: the host-side jobrun that
 * started it, as "MACHINE-ID:PID:START-TIME" (runtime_owner_self()).  So a
 * second "run" with the same id finds the first instance instead of making
 * another one, and "gc" can tell a stray (its owner died) from a live run.
 *
 * Calls that can fail return 0, or -1 with a message in *error that the
 * caller frees.  Pointers in the specs are borrowed for the call.
 */
#ifndef JOBRUN_RUNTIME_H
#define JOBRUN_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The label keys, on every instance jobrun makes. */
#define RUNTIME_LABEL_RUN_ID "org.jobrun.run-id"
#define RUNTIME_LABEL_JOB "org.jobrun.job"
#define RUNTIME_LABEL_VERSION "org.jobrun.version"
#define RUNTIME_LABEL_OWNER "org.jobrun.owner"
/* "true" on a run started with --detach: nobody owns it any more. */
#define RUNTIME_LABEL_DETACHED "org.jobrun.detached"
/* An image says it holds jobrun with this label (any value). */
#define RUNTIME_IMAGE_LABEL "org.jobrun.runner"

/* Longest run id: it goes into a name of at most 63 characters. */
#define RUNTIME_RUN_ID_MAX 48

enum runtime_state {
	RUNTIME_ABSENT, /* no instance with this name */
	RUNTIME_CREATED, /* created, never started */
	RUNTIME_RUNNING,
	RUNTIME_EXITED,
};

enum runtime_pull {
	RUNTIME_PULL_MISSING, /* the default */
	RUNTIME_PULL_ALWAYS,
	RUNTIME_PULL_NEVER,
};

/* What "run" does about an instance found in a state (the reconcile
 * table). */
enum runtime_action {
	RUNTIME_DO_CREATE, /* nothing there: create, then start */
	RUNTIME_DO_START, /* created by a run that died before start */
	RUNTIME_DO_ATTACH, /* running: attach, never a second instance */
	RUNTIME_DO_COLLECT, /* exited: collect its results */
};

/* One instance as a backend reports it.  Strings are owned. */
struct runtime_instance {
	char *name;
	char *run_id;
	char *job;
	char *version;
	char *owner;
	bool detached;
	enum runtime_state state;
	int exit_code; /* RUNTIME_EXITED: the main process's status */
	bool oom_killed;
	int64_t created_at; /* seconds since the epoch; 0 unknown */
	int64_t finished_at; /* RUNTIME_EXITED; 0 unknown */
};

#define RUNTIME_INSTANCE_INIT                                                  \
	{                                                                      \
		.state = RUNTIME_ABSENT, .exit_code = -1                       \
	}

/* A directory of the host bound into the instance. */
struct runtime_mount {
	const char *host;
	const char *target;
	bool read_only;
};

/* What to create.  The instance's command is image's ENTRYPOINT with argv
 * (jobrun's "run ..."), its standard input kept open for the bundle. */
struct runtime_spec {
	const char *name;
	const char *run_id;
	const char *job;
	const char *owner;
	bool detached;
	const char *image;
	char *const *argv; /* NULL-terminated; arguments after ENTRYPOINT */
	char *const *env; /* NULL-terminated NAME=VALUE; never a secret */
	const struct runtime_mount *mounts;
	size_t n_mounts;
	double cpus; /* 0: no limit */
	uint64_t memory; /* bytes; 0: no limit */
	long pids; /* 0: no limit */
	/* Kubernetes, which can neither bind host directories nor give the
	 * job a standard input: the objects' input (the job file, the
	 * bundle for the Secret, the Job's settings); NULL elsewhere. */
	const struct manifest_input *kube;
};

/* The attached job: write its standard input, read its output. */
struct runtime_attach {
	pid_t pid; /* the process doing the attaching, or -1 */
	int input; /* the job's standard input; -1 when none */
	/* The job's standard output, and its standard error kept apart
	 * (errors), or both in output when errors is -1 (kubectl logs
	 * merges them). */
	int output;
	int errors;
	/* A backend's own: a process that prints the job's exit status
	 * once it ends (it sees the end even when the instance is removed
	 * right after), and its output; -1 when none. */
	pid_t waiter;
	int waiter_output;
};

#define RUNTIME_ATTACH_INIT                                                    \
	{                                                                      \
		.pid = -1, .input = -1, .output = -1, .errors = -1,            \
		.waiter = -1, .waiter_output = -1                              \
	}

struct runtime;
struct manifest_input;

struct runtime_ops {
	const char *name;
	/* Checks that the backend answers; says what was looked for. */
	int (*probe)(struct runtime *rt, char **error);
	/* Makes image present as policy says; checks it holds jobrun. */
	int (*pull)(struct runtime *rt, const char *image,
	    enum runtime_pull policy, char **error);
	/* Creates an instance for the attach with start that follows (a
	 * backend may start it at once and hold its attachment for that
	 * call).  Fails with errno EEXIST when an instance of that name
	 * exists (another run got there first). */
	int (*create)(
	    struct runtime *rt, const struct runtime_spec *spec, char **error);
	/* Fills *out (state RUNTIME_ABSENT when there is none). */
	int (*find)(struct runtime *rt, const char *name,
	    struct runtime_instance *out, char **error);
	/* Starts a created instance (start true) or attaches to a running
	 * one; from then on *out's output carries the job's output. */
	int (*attach)(struct runtime *rt, const char *name, bool start,
	    struct runtime_attach *out, char **error);
	/* Optional: starts a created instance and leaves it (--detach),
	 * for a backend whose attach() would read what nobody wants; NULL:
	 * attach() then detach(). */
	int (*start)(struct runtime *rt, const char *name, char **error);
	/* The whole output so far, then what follows, to fd (logs -f). */
	int (*logs)(struct runtime *rt, const char *name, bool follow,
	    struct runtime_attach *out, char **error);
	int (*signal)(
	    struct runtime *rt, const char *name, int signo, char **error);
	/* Waits for the instance to exit; its status in *out_status. */
	int (*wait)(struct runtime *rt, const char *name, int *out_status,
	    char **error);
	/* For a backend whose instance keeps no files once it has ended
	 * (Kubernetes), instead of collect: writes dir/result.json from
	 * what the runtime kept, then any other result files it can reach
	 * (a results volume).  A failure after dir/result.json was written
	 * leaves it standing: runtime-run.c reports the failure (125)
	 * without writing its own.  NULL for the others. */
	int (*collect_result)(struct runtime *rt, const char *name,
	    const char *dir, char **error);
	/* Copies path (a directory in the instance) out as a tar stream
	 * into fd. */
	int (*collect)(struct runtime *rt, const char *name, const char *path,
	    int fd, char **error);
	/* Removes the instance, stopping it first; absent is success. */
	int (*destroy)(struct runtime *rt, const char *name, char **error);
	/* Optional: starts destroy and returns at once, so that the caller's
	 * own work overlaps the removal; free waits for it and warns when it
	 * failed.  Returns 0, or -1 when it could not start (then destroy). */
	int (*destroy_begin)(struct runtime *rt, const char *name);
	/* Every instance jobrun made that this backend can see. */
	int (*list)(struct runtime *rt, struct runtime_instance **out,
	    size_t *out_count, char **error);
	/* Ends the attaching process of *attach and releases it.  Returns
	 * that process's exit status (for a start, the job's as the tool
	 * saw it), or -1 when there is none or it had to be killed. */
	int (*detach)(struct runtime *rt, struct runtime_attach *attach);
	void (*free)(struct runtime *rt);
};

struct runtime {
	const struct runtime_ops *ops;
	const char *kind; /* "podman", "docker", "fake", ... */
	void *backend; /* the backend's own state */
	/* What stops each call of the backend's tool (a pull, an inspect,
	 * a create, a removal: whichever hangs on a daemon that does not
	 * answer): interrupt_fd readable (a signal came; -1: nothing), or
	 * clock_now_ms() past deadline_ms (0: none), which deadline_name
	 * names in the message ("the job's timeout").  The call then fails
	 * with errno ECANCELED or ETIMEDOUT and a message naming the call.
	 * The backends start with -1 and 0; the run sets them. */
	int interrupt_fd;
	uint64_t deadline_ms;
	const char *deadline_name;
};

/* The bound of a backend call made after the job ended (its status, its
 * results' look-ups, its removal) or of a signal sent to it: its own,
 * short, since the job's timeout may have passed. */
#define RUNTIME_CALL_TIMEOUT_MS (30 * 1000)
#define RUNTIME_CALL_TIMEOUT_NAME "30 s"

/* ---- backends ---- */

/*
 * The Podman or Docker backend driving program (a path or a name looked up
 * in PATH; "podman" or "docker").  Returns NULL with a message in *error
 * when the program is not found.
 */
struct runtime *runtime_engine_new(const char *program, char **error);

/*
 * Chooses a backend by name: "podman", "docker", "kubernetes" (kubectl,
 * runtime-kube.h), or "auto" (podman, then docker, whichever is found in
 * PATH first).  Returns NULL with a message saying what was looked for.
 */
struct runtime *runtime_open(const char *kind, char **error);

void runtime_free(struct runtime *rt);

/* ---- identity ---- */

/* The instance name for run_id: "jobrun-" RUN_ID.  Caller frees. */
char *runtime_instance_name(const char *run_id);

/* True when id is 1-48 characters of [a-z0-9-], not starting with '-'. */
bool runtime_run_id_valid(const char *id);

/* A new random run id (12 hex digits).  Caller frees. */
char *runtime_run_id_new(void);

/* This process as an owner label.  Caller frees. */
char *runtime_owner_self(void);

/* The owner label of pid on this machine, or NULL when it is gone.
 * Caller frees. */
char *runtime_owner_of(pid_t pid);

/* This machine's id (/etc/machine-id, else the host name).  Static. */
const char *runtime_machine_id(void);

/* ---- decisions (pure, for the reconcile table and gc) ---- */

enum runtime_action runtime_reconcile(enum runtime_state state);

/* Whether an owner label names a live process: returns 1 alive, 0 dead,
 * -1 unknown (another machine, or a label jobrun does not understand). */
typedef int (*runtime_alive_fn)(const char *owner, void *context);

/* The liveness test for this machine: the pid exists and started at the
 * time the label says. */
int runtime_owner_alive(const char *owner, void *context);

struct runtime_gc_rules {
	int64_t now; /* seconds since the epoch */
	int64_t retention; /* exited instances older than this go */
	runtime_alive_fn alive;
	void *context;
};

/*
 * Whether gc removes inst, with the reason in *out_why (static text):
 * never one whose owner is alive; one whose owner on this machine is dead
 * (and not detached), whatever its state; an exited one whose end is
 * older than the retention.
 */
bool runtime_gc_removes(const struct runtime_instance *inst,
    const struct runtime_gc_rules *rules, const char **out_why);

/* "absent", "created", "running", "exited". */
const char *runtime_state_name(enum runtime_state state);

/* ---- instances ---- */

void runtime_instance_release(struct runtime_instance *inst);
void runtime_instances_free(struct runtime_instance *list, size_t count);

/* Releases *attach's descriptors (not its process). */
void runtime_attach_close(struct runtime_attach *attach);

/*
 * Starts a backend's command-line tool (podman, docker, kubectl): argv[0]
 * is its path.  Standard input in (-1: /dev/null), output out, error err
 * (-1: /dev/null); every signal unblocked and at its default; in a
 * process group of its own unless same_group.  Returns the pid, or -1
 * with *error (errno set).
 */
pid_t runtime_tool_spawn(char *const argv[], int in, int out, int err,
    bool same_group, char **error);

/* ---- the fake backend (tests) ---- */

enum runtime_fake_failure {
	RUNTIME_FAKE_OK,
	RUNTIME_FAKE_PROBE_FAILS, /* the daemon does not answer */
	RUNTIME_FAKE_IMAGE_MISSING, /* create, pull: no such image */
	RUNTIME_FAKE_NO_JOBRUN, /* the job cannot start (127), pull says */
	RUNTIME_FAKE_ALREADY_EXISTS, /* create races with another run */
	RUNTIME_FAKE_CREATE_FAILS,
	RUNTIME_FAKE_HANG, /* the job never ends until signalled */
	RUNTIME_FAKE_OOM, /* the job is OOM-killed: 137 */
	RUNTIME_FAKE_COLLECT_FAILS,
	RUNTIME_FAKE_DESTROY_FAILS,
	RUNTIME_FAKE_HOSTILE_TAR, /* collect: entries that climb out */
};

/* A new in-memory backend; nothing exists in it. */
struct runtime *runtime_fake_new(void);

/* Scripts the next runs: the failure, the exit status and output a job
 * started from now on gives (exit_code 0, no output by default). */
void runtime_fake_script(struct runtime *rt, enum runtime_fake_failure fail,
    int exit_code, const char *output);

/* Sets the result.json collect hands back from now on: result (copied),
 * or none when it is "", or one made from the exit status (the default)
 * when it is NULL. */
void runtime_fake_record(struct runtime *rt, const char *result);

/* Puts an instance there directly (what another run or a crash left). */
void runtime_fake_put(struct runtime *rt, const struct runtime_instance *inst);

/* How many times each operation ran, and the last signal sent. */
struct runtime_fake_counts {
	unsigned creates, starts, attaches, signals, destroys, destroy_begins,
	    collects;
	int last_signal;
};
void runtime_fake_counts(
    const struct runtime *rt, struct runtime_fake_counts *out);

/* What the last attach's standard input received (a NUL-terminated copy
 * in *out, its length in *out_length; caller frees). */
void runtime_fake_input(
    const struct runtime *rt, char **out, size_t *out_length);

#endif
