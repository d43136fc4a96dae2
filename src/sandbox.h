/*
 * The sandbox of an untrusted step: what the parent prepares (a seccomp
 * BPF program, the ids of run_as) and what the child does with it between
 * fork and exec, using only async-signal-safe system calls.
 *
 * Order of calls: sandbox_filter_build() once in the parent, then per step
 * sandbox_ids() when it has run_as; the child calls sandbox_enter() last
 * before execve(2).
 */
#ifndef JOBRUN_SANDBOX_H
#define JOBRUN_SANDBOX_H

#include <linux/filter.h>
#include <stdbool.h>
#include <sys/types.h>

#include "job.h"

/* A ready seccomp program: sandbox_filter_build() fills it. */
struct sandbox_filter {
	struct sock_fprog program;
};

/* What the child of one untrusted step applies to itself. */
struct sandbox {
	const struct sandbox_filter *filter; /* borrowed; never NULL */
	bool change_ids; /* run_as was given */
	uid_t uid;
	gid_t gid;
};

/*
 * Returns true when step runs untrusted: its trusted: false, or, when it
 * says nothing, the job's trusted: false.  A step with run_as is
 * untrusted too: another uid is only worth having with the rest.
 */
bool sandbox_step_untrusted(const struct job *job, const struct step *step);

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
 * In the child, after fork and before execve: drops supplementary groups,
 * the gid and the uid (with change_ids), drops the capabilities of the
 * table in sandbox.c from the bounding set, sets no_new_privs and installs
 * the filter.  Async-signal-safe.  Returns 0, or -1 with errno set.
 */
int sandbox_enter(const struct sandbox *sandbox);

/*
 * Before the first step, for a job with run_as steps running as uid:gid:
 * closes ci_dir to others (its mode keeps only the owner's bits), and hands
 * code_dir and everything under it to uid:gid (lchown(2), not following
 * symbolic links nor crossing into other filesystems; files with more than
 * one hard link keep their owner).  Neither is done
 * when one directory holds the other, or for "/": that is warned about and
 * the step runs with the directories as they are.  Returns 0, or -1 with
 * a message in *error (caller frees).
 */
int sandbox_prepare_dirs(const char *ci_dir, const char *code_dir, uid_t uid,
    gid_t gid, char **error);

/*
 * Makes jobrun's own process undumpable, so that its /proc/PID/environ,
 * mem and the like are only open to CAP_SYS_PTRACE, which untrusted steps
 * lose.  Returns 0 or -1 with errno set.
 */
int sandbox_protect_self(void);

#endif
