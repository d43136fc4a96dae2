/*
 * Who untrusted steps run as, and what they leave behind.  Every
 * untrusted step runs under a uid no trusted process has (untrusted_user,
 * or its run_as), never root: the kernel then keeps it out of trusted
 * processes by the same-uid rule, whatever capabilities the container gave
 * jobrun.  Whether jobrun can switch to that uid is found out by trying,
 * in a throw-away child, before the first step; and because the uid is
 * the untrusted steps' alone, a child switched to it can kill whatever
 * they left running with kill(-1, SIGKILL), needing no capability but
 * CAP_SETUID.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "diag.h"
#include "sandbox.h"
#include "xalloc.h"

/*
 * kill(-1) reaches every process of the uid at once, and a fork racing
 * with it fails; a few rounds, each checked by a look through /proc, are
 * for what the kernel had not yet made visible.
 */
#define END_UID_ROUNDS 5

/* Parses a whole decimal id; returns 0 or -1. */
static int
parse_id(const char *text, unsigned long *out)
{
	char *end;

	if (text[0] < '0' || text[0] > '9')
		return -1;
	errno = 0;
	*out = strtoul(text, &end, 10);
	return errno == 0 && *end == '\0' && *out < (unsigned long)-1 / 2 ? 0
									  : -1;
}

/* Resolves a group name or number. */
static int
resolve_group(gid_t *out, const char *text)
{
	struct group *gr;
	unsigned long id;

	if (parse_id(text, &id) == 0) {
		*out = (gid_t)id;
		return 0;
	}
	if ((gr = getgrnam(text)) == NULL)
		return -1;
	*out = gr->gr_gid;
	return 0;
}

int
sandbox_ids(struct sandbox *out, const char *run_as, char **error)
{
	char *user = xstrdup(run_as), *group = strchr(user, ':');
	struct passwd *pw = NULL;
	unsigned long id;
	int rc = 0;

	*error = NULL;
	if (group != NULL)
		*group++ = '\0';
	if (parse_id(user, &id) == 0) {
		out->uid = (uid_t)id;
		out->gid = (gid_t)id;
		if ((pw = getpwuid(out->uid)) != NULL)
			out->gid = pw->pw_gid;
	} else if ((pw = getpwnam(user)) != NULL) {
		out->uid = pw->pw_uid;
		out->gid = pw->pw_gid;
	} else {
		*error = xasprintf("cannot run as '%s': no such user", run_as);
		rc = -1;
	}
	if (rc == 0 && group != NULL && resolve_group(&out->gid, group) < 0) {
		*error = xasprintf("cannot run as '%s': no such group", run_as);
		rc = -1;
	}
	out->change_ids = rc == 0;
	free(user);
	return rc;
}

/*
 * Runs a child that switches to uid:gid and, with kill_all, kills every
 * process it may signal until none is left.  Returns 0 when the child
 * did all that, else an errno (the child's exit status carries it).
 */
static int
run_as_child(uid_t uid, gid_t gid, bool kill_all)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return errno;
	if (pid == 0) {
		/* kill(2) looks at uids only: a killer keeps its gid. */
		if ((!kill_all &&
			(setgroups(0, NULL) < 0 ||
			    setresgid(gid, gid, gid) < 0)) ||
		    setresuid(uid, uid, uid) < 0)
			_exit(errno > 0 && errno < 256 ? errno : EPERM);
		/* Its answer says nothing: processes it may not signal count.
		 */
		if (kill_all)
			kill(-1, SIGKILL);
		_exit(0);
	}
	/* Before the caller's reaper knows the pid: nothing else sees it. */
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return errno;
	if (!WIFEXITED(status))
		return EIO;
	return WEXITSTATUS(status);
}

/* Why jobrun cannot switch ids, as the end of a sentence. */
static const char *
missing_capability(int error)
{
	if (error == EINVAL)
		return "the user does not exist in jobrun's user namespace";
	if (geteuid() != 0)
		return "jobrun does not run as root (it needs CAP_SETUID and "
		       "CAP_SETGID)";
	return "jobrun lacks CAP_SETUID or CAP_SETGID";
}

/* Checks the default untrusted user; 0, or an errno and *why. */
static int
check_user(const struct sandbox_policy *policy, const char **why)
{
	int rc;

	if (policy->uid == 0 || policy->gid == 0) {
		*why = "it is root";
		return EINVAL;
	}
	if (policy->uid == getuid() || policy->uid == geteuid()) {
		*why = "it is jobrun's own uid, which trusted steps share";
		return EINVAL;
	}
	if ((rc = run_as_child(policy->uid, policy->gid, false)) != 0)
		*why = missing_capability(rc);
	return rc;
}

/*
 * Whether untrusted steps get a PID namespace; when not, the warning says
 * what they can see instead.
 */
static void
check_pid_namespace(struct sandbox_policy *policy)
{
	policy->pid_namespace_error = sandbox_pidns_probe();
	policy->pid_namespace = policy->pid_namespace_error == 0;
	if (policy->pid_namespace)
		return;
	diag_warn("untrusted steps get no PID namespace of their own (%s%s): "
		  "they run as a uid of their own, but see every process of "
		  "the container in /proc, with its command line, and "
		  "what is left of them is found by that uid",
	    strerror(policy->pid_namespace_error),
	    policy->pid_namespace_error == EPERM ? "; it needs CAP_SYS_ADMIN"
						 : "");
}

int
sandbox_policy_init(struct sandbox_policy *out, const char *untrusted_user,
    const char *isolation, char **error)
{
	struct sandbox ids = { 0 };
	const char *why = NULL;
	bool weak;
	int rc;

	*error = NULL;
	memset(out, 0, sizeof(*out));
	if (isolation != NULL && strcmp(isolation, "strict") != 0 &&
	    strcmp(isolation, "weak") != 0) {
		*error = xasprintf(
		    "isolation '%s': expected strict or weak", isolation);
		return -1;
	}
	weak = isolation != NULL && strcmp(isolation, "weak") == 0;
	if (untrusted_user == NULL)
		untrusted_user = SANDBOX_DEFAULT_USER;
	if (sandbox_ids(&ids, untrusted_user, error) < 0)
		return -1;
	out->uid = ids.uid;
	out->gid = ids.gid;
	rc = check_user(out, &why);
	if (rc == 0 || weak)
		sandbox_cgroups_open(&out->cgroups_dir); /* NULL: none */
	if (rc == 0) {
		out->switch_ids = true;
		check_pid_namespace(out);
		return 0;
	}
	if (!weak) {
		*error = xasprintf(
		    "cannot contain untrusted steps: they must run as a user "
		    "of their own, and untrusted_user '%s' cannot be used: "
		    "%s; run jobrun as root with CAP_SETUID and CAP_SETGID "
		    "(container runtimes give both by default) and an "
		    "untrusted_user other than root and jobrun's own, or set "
		    "isolation: weak (JOBRUN_ISOLATION=weak) to run untrusted "
		    "steps as jobrun's own user, where they can read the "
		    "environment and memory of trusted steps",
		    untrusted_user, why);
		return -1;
	}
	diag_warn("isolation is weak: untrusted steps run as jobrun's own "
		  "uid %ld (untrusted_user '%s' cannot be used: %s), where "
		  "they can read the environment and memory of trusted steps "
		  "and of what those leave running",
	    (long)geteuid(), untrusted_user, why);
	return 0;
}

void
sandbox_policy_release(struct sandbox_policy *policy)
{
	sandbox_cgroups_close(policy->cgroups_dir);
	free(policy->cgroups_dir);
	policy->cgroups_dir = NULL;
}

int
sandbox_step_ids(struct sandbox *out, const struct sandbox_policy *policy,
    const char *run_as, char **error)
{
	*error = NULL;
	out->change_ids = false;
	out->pid_namespace = policy->switch_ids && policy->pid_namespace;
	if (run_as == NULL) {
		out->change_ids = policy->switch_ids;
		out->uid = policy->uid;
		out->gid = policy->gid;
		return 0;
	}
	if (!policy->switch_ids) {
		*error = xasprintf("cannot run as '%s': jobrun cannot switch "
				   "users here (isolation is weak)",
		    run_as);
		return -1;
	}
	if (sandbox_ids(out, run_as, error) < 0)
		return -1;
	if (out->uid == 0 || out->gid == 0 || out->uid == getuid() ||
	    out->uid == geteuid()) {
		*error = xasprintf("cannot run as '%s': an untrusted step "
				   "never runs as root nor as jobrun's own "
				   "user",
		    run_as);
		out->change_ids = false;
		return -1;
	}
	return 0;
}

const char *
sandbox_isolation_name(enum sandbox_isolation isolation)
{
	switch (isolation) {
	case SANDBOX_ISOLATION_NONE:
		return "none";
	case SANDBOX_ISOLATION_WEAK:
		return "weak";
	case SANDBOX_ISOLATION_UID:
		return "uid";
	case SANDBOX_ISOLATION_PID_NAMESPACE:
		return "pid-namespace";
	}
	BUG("isolation %d", (int)isolation);
}

enum sandbox_isolation
sandbox_isolation_of(const struct sandbox *sandbox)
{
	if (sandbox == NULL)
		return SANDBOX_ISOLATION_NONE;
	if (!sandbox->change_ids)
		return SANDBOX_ISOLATION_WEAK;
	return sandbox->pid_namespace ? SANDBOX_ISOLATION_PID_NAMESPACE
				      : SANDBOX_ISOLATION_UID;
}

/* True when pid lives (is no zombie) with uid as a real or saved uid. */
static bool
runs_as(const char *pid, uid_t uid)
{
	char path[64], line[256];
	unsigned long real, effective, saved;
	bool zombie = false, found = false;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%s/status", pid);
	if ((fp = fopen(path, "re")) == NULL)
		return false;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, "State:", 6) == 0)
			zombie = strchr(line, 'Z') != NULL ||
			    strchr(line, 'X') != NULL;
		if (sscanf(line, "Uid: %lu %lu %lu", &real, &effective,
			&saved) == 3) {
			found = real == uid || saved == uid;
			break;
		}
	}
	fclose(fp);
	return found && !zombie;
}

/* True when some live process runs as uid. */
static bool
uid_has_processes(uid_t uid)
{
	struct dirent *entry;
	bool found = false;
	DIR *dir;

	if ((dir = opendir("/proc")) == NULL)
		return false;
	while (!found && (entry = readdir(dir)) != NULL)
		if (entry->d_name[0] >= '1' && entry->d_name[0] <= '9')
			found = runs_as(entry->d_name, uid);
	closedir(dir);
	return found;
}

int
sandbox_end_uid(uid_t uid)
{
	int rc, round;

	if (uid == 0 || uid == getuid() || uid == geteuid()) {
		errno = EINVAL;
		return -1;
	}
	for (round = 0; round < END_UID_ROUNDS; round++) {
		if ((rc = run_as_child(uid, getegid(), true)) != 0) {
			errno = rc;
			return -1;
		}
		if (!uid_has_processes(uid))
			return 0;
	}
	errno = EAGAIN;
	return -1;
}
