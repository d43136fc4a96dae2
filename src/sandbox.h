/*
 * The containment of untrusted steps (trusted: false, or run_as).
 *
 * The model: an untrusted step never runs as a uid any trusted process
 * has, nor as root.  The kernel's same-uid rule then closes trusted
 * processes (their /proc/PID/environ, mem, ptrace) to it without any
 * capability; the step also gets no capability at all (inheritable,
 * ambient, permitted and effective sets empty, every bounding capability
 * jobrun can drop dropped), no_new_privs and a seccomp filter.  What it
 * leaves behind is found by its uid and killed when it ends.  Where jobrun
 * may make namespaces (CAP_SYS_ADMIN), each untrusted step also gets a PID
 * namespace of its own with a fresh /proc, under an init of jobrun's
 * (proc-init.h): it then sees no other process at all, and what it
 * leaves is killed by the kernel when that init exits.
 *
 * Order of calls, for a job with an untrusted step:
 *   1. sandbox_policy_init() before the first step: refuses the job when
 *      the model cannot hold (exit 125), unless isolation is weak;
 *   2. sandbox_filter_build() once, sandbox_prepare_dirs() once;
 *   3. per untrusted step: sandbox_step_ids(), then the child calls
 *      sandbox_enter() last before execve(2);
 *   4. when an untrusted step ends and no other running step has its uid,
 *      and at the job's end for every uid used: sandbox_end_uid().
 */
#ifndef JOBRUN_SANDBOX_H
#define JOBRUN_SANDBOX_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "job.h"

/* The default untrusted user (untrusted_user), distroless's "nonroot". */
#define SANDBOX_DEFAULT_USER "65532:65532"

/* A ready seccomp program: sandbox_filter_build() fills it. */
struct sandbox_filter {
	struct sock_fprog program;
};

/*
 * How a step is kept apart from the rest, weakest first (result.json's
 * "isolation", sandbox_isolation_name()).
 */
enum sandbox_isolation {
	SANDBOX_ISOLATION_NONE, /* a trusted step */
	SANDBOX_ISOLATION_WEAK, /* untrusted, as jobrun's uid (weak) */
	SANDBOX_ISOLATION_UID, /* untrusted, as a uid of its own */
	SANDBOX_ISOLATION_PID_NAMESPACE, /* that, in a PID namespace */
};

/* How the job's untrusted steps are contained: sandbox_policy_init(). */
struct sandbox_policy {
	bool switch_ids; /* untrusted steps get a uid of their own */
	/* with switch_ids: each also gets a PID namespace and /proc */
	bool pid_namespace;
	int pid_namespace_error; /* why not (an errno); 0: it does */
	uid_t uid; /* the default untrusted uid and gid (untrusted_user) */
	gid_t gid;
	/* the job's cgroup v2 directory, each untrusted step's cgroup made
	 * in it (sandbox_cgroups_open()); NULL: none */
	char *cgroups_dir;
};

/* What the child of one untrusted step applies to itself. */
struct sandbox {
	const struct sandbox_filter *filter; /* borrowed; never NULL */
	bool
	    change_ids; /* switch to uid:gid (false only with weak isolation) */
	uid_t uid;
	gid_t gid;
	/* with change_ids: in a PID namespace of its own, under an init */
	bool pid_namespace;
	/* its cgroup's directory, open; -1: no cgroup */
	int cgroup_fd;
};

/* "none", "weak", "uid" or "pid-namespace". */
const char *sandbox_isolation_name(enum sandbox_isolation isolation);

/* The isolation of a step run with sandbox (NULL: trusted). */
enum sandbox_isolation sandbox_isolation_of(const struct sandbox *sandbox);

/*
 * Returns true when step runs untrusted: its trusted: false, or, when it
 * says nothing, the job's trusted: false.  A step with run_as is
 * untrusted too: another uid is only worth having with the rest.
 */
bool sandbox_step_untrusted(const struct job *job, const struct step *step);

/*
 * Decides how untrusted steps run, before the first step of a job that has
 * one.  untrusted_user is the untrusted_user setting ("uid:gid" or a user
 * name), isolation the isolation setting ("strict" or "weak"; NULL means
 * strict).  Checks, by switching a throw-away child to it, that jobrun can
 * run a process as that user, and that the user is neither root nor
 * jobrun's own.  When it cannot, with strict isolation: returns -1 with a
 * message in *error (caller frees) that says why and what to change: the
 * caller refuses the job (exit status 125).  With weak isolation: warns
 * (diag_warn) that untrusted steps run as jobrun's own uid, and returns 0
 * with out->switch_ids false.  Otherwise returns 0 with out->switch_ids,
 * and, when a throw-away child could make a PID and mount namespace and
 * mount /proc there (sandbox_pidns_probe()), out->pid_namespace; when it
 * could not, warns (diag_warn) what untrusted steps can then still see.
 * With switch_ids or weak isolation, also makes the job's cgroup directory
 * where it can (out->cgroups_dir).  Free with sandbox_policy_release().
 * Waits for its child itself (before the caller's reaper knows its pid).
 */
int sandbox_policy_init(struct sandbox_policy *out, const char *untrusted_user,
    const char *isolation, char **error);

/*
 * Ends every cgroup of the policy's (sandbox_cgroup_end()), removes the
 * job's cgroup directory and frees what policy holds.
 */
void sandbox_policy_release(struct sandbox_policy *policy);

/*
 * Fills out->change_ids, uid, gid and pid_namespace for an untrusted step:
 * run_as (may be NULL) when given, else the policy's untrusted user;
 * nothing to change when policy->switch_ids is false.  Refuses (-1 with a
 * message in *error) a run_as of uid 0 or gid 0, or of jobrun's own uid, and a
 * run_as when ids cannot be switched.  Does not touch out->filter.
 */
int sandbox_step_ids(struct sandbox *out, const struct sandbox_policy *policy,
    const char *run_as, char **error);

/*
 * Builds the seccomp filter (the denylist in sandbox.c) as a BPF program
 * into *out.  Returns 0, or -1 with a message in *error (caller frees).
 * Free it with sandbox_filter_release().
 */
int sandbox_filter_build(struct sandbox_filter *out, char **error);

/* Frees the program of a built filter; a zeroed filter is fine. */
void sandbox_filter_release(struct sandbox_filter *filter);

/*
 * Resolves run_as ("name", "name:group", "uid" or "uid:gid") into out->uid
 * and out->gid and sets out->change_ids.  Without a group, a known user's
 * primary group is taken, and for an unknown uid the gid of that number.
 * Returns 0, or -1 with a message in *error.
 */
int sandbox_ids(struct sandbox *out, const char *run_as, char **error);

/*
 * In the child, after fork and before execve; async-signal-safe.  Drops
 * every capability it can from the bounding set; with change_ids, drops
 * supplementary groups and switches real, effective and saved gid and
 * uid; empties the inheritable set (a capability there would come back at
 * exec) and the ambient set; with change_ids, checks that no capability is
 * left (SECBIT_KEEP_CAPS and the like), failing with EPERM otherwise; sets
 * no_new_privs and installs the filter.  Returns 0, or -1 with errno set.
 */
int sandbox_enter(const struct sandbox *sandbox);

/*
 * Before the first step, for a job with untrusted steps running as the
 * n_uids users of uids (jobrun's own uid needs none): closes ci_dir to
 * others (its mode keeps only the owner's bits), and opens code_dir and
 * everything under it (but workspace, when inside it) to those users and
 * to jobrun's own uid with POSIX ACLs: each gets read and write (and
 * search on directories) and directories pass the same on to what is
 * created in them, so trusted steps and untrusted ones can both write
 * there without DAC_OVERRIDE.  Symbolic links are not followed, other
 * filesystems not entered; files with more than one hard link are left
 * as they are.  An entry jobrun does not own is first given to it
 * (lchown: CAP_CHOWN).  On a filesystem without ACLs, the tree is handed
 * to uids[0] (and the group of the same number) instead, with a warning that
 * trusted steps then need DAC_OVERRIDE to write there.  When one directory
 * holds the other, the CI directory is left as it is, with a warning.  A
 * code_dir that does not exist is left to the steps.  Returns 0, or -1
 * with a message in *error (caller frees).
 */
int sandbox_prepare_dirs(const char *ci_dir, const char *code_dir,
    const char *workspace, const uid_t *uids, size_t n_uids, char **error);

/*
 * Kills every process running as uid (what an untrusted step left behind:
 * setsid daemons included), by a child that switches to uid and sends
 * SIGKILL to every process it may signal (kill(-1, SIGKILL)) until none
 * is left.  Needs CAP_SETUID only.  Call it when an untrusted step ends
 * and no other running step has the same uid, and at the end of the job
 * for every untrusted uid used; never for uid 0 or jobrun's own uid (it
 * then does nothing and returns -1 with EINVAL).  Waits for its child
 * itself.  Returns 0, or -1 with errno set.
 */
int sandbox_end_uid(uid_t uid);

/*
 * In the first process of a new mount and PID namespace; async-signal-
 * safe.  Makes every mount private (nothing propagates to or from
 * jobrun's namespace), mounts a fresh proc on /proc (it shows the
 * namespace's processes only) and binds /proc/sys, /proc/sysrq-trigger
 * and the like read-only on themselves.  Returns 0, or -1 with errno.
 */
int sandbox_pidns_mount_proc(void);

/*
 * Starts fn(arg) in a child that is PID 1 of a new PID namespace, in a new
 * mount namespace (clone(2) with CLONE_NEWPID | CLONE_NEWNS; CAP_SYS_ADMIN
 * needed), on a copy of jobrun's memory like fork(2); the child must end
 * with _exit(2).  Its exit is reported by SIGCHLD.  Returns the child's
 * pid (in jobrun's namespace), or -1 with errno.
 */
pid_t sandbox_pidns_clone(int (*fn)(void *), void *arg);

/*
 * Tries, with a throw-away child, whether a PID namespace with its own
 * /proc can be made here.  Waits for the child itself (before the caller's
 * reaper knows its pid).  Returns 0 when it can, else an errno (EPERM:
 * jobrun lacks CAP_SYS_ADMIN).
 */
int sandbox_pidns_probe(void);

/*
 * Makes "jobrun-PID" in jobrun's cgroup v2 directory, for the cgroups of
 * the job's untrusted steps, where that directory is writable and a
 * throw-away child can be born in a cgroup there (sandbox_cgroup_fork())
 * that has cgroup.kill (Linux 5.14).  Returns 0 with the directory in *out_dir
 * (caller frees), or -1 with errno (*out_dir NULL): then there are no cgroups.
 */
int sandbox_cgroups_open(char **out_dir);

/*
 * Makes the cgroup name in cgroups_dir (one that is there already is ended
 * first).  Returns its path (caller frees), or NULL with errno.
 */
char *sandbox_cgroup_create(const char *cgroups_dir, const char *name);

/* Opens the directory of cgroup (O_CLOEXEC); the fd, or -1 with errno. */
int sandbox_cgroup_open(const char *cgroup);

/*
 * Like fork(2), but the child is born in the cgroup whose directory
 * cgroup_fd is open on (clone3(2) with CLONE_INTO_CGROUP, which spares
 * the cost of moving a process between cgroups), and with namespaces in
 * a new PID and mount namespace (as sandbox_pidns_clone()).  The child
 * must keep to async-signal-safe calls and end with execve(2) or _exit(2).
 * Returns 0 in the child, the child's pid in the parent, or -1 with errno.
 */
pid_t sandbox_cgroup_fork(int cgroup_fd, bool namespaces);

/*
 * Kills every process in cgroup at once (cgroup.kill), waits a bounded
 * time for it to empty and removes it.  Returns 0 (also when it is gone
 * already), or -1 with errno.
 */
int sandbox_cgroup_end(const char *cgroup);

/* Ends every cgroup in cgroups_dir (NULL: none) and removes it. */
void sandbox_cgroups_close(const char *cgroups_dir);

/*
 * Makes jobrun's own process undumpable, so that its /proc/PID/environ,
 * mem and the like are only open to CAP_SYS_PTRACE, which untrusted steps
 * lose.  Returns 0 or -1 with errno set.
 */
int sandbox_protect_self(void);

#endif
