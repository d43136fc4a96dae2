/*
 * The sandbox of untrusted steps.  The parent builds one seccomp filter
 * with libseccomp and exports it as a BPF program in memory; the child of
 * each untrusted step then needs only raw system calls (prctl, setuid, ...)
 * between fork and exec, none of which allocates.  The policy allows by
 * default and refuses, with EPERM, the calls in the table below: those
 * that reach into other processes (jobrun holds every secret of the job),
 * change what the filesystem or the kernel looks like, or open kernel
 * attack surface a build or a test suite has no use for.  libseccomp's
 * default handling checks the architecture: a call through another ABI
 * (i386 via int 0x80, x32 on x86-64) kills the process.
 */
#include "config.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <pwd.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"
#include "sandbox.h"
#include "xalloc.h"

/* The denylist: each call fails with EPERM, and why it is there. */
static const struct {
	const char *name;
	const char *why;
} denied[] = {
	{ "ptrace", "reads and writes jobrun's and other steps' memory" },
	{ "process_vm_readv", "reads another process's memory" },
	{ "process_vm_writev", "writes another process's memory" },
	{ "pidfd_getfd", "steals another process's file descriptors" },
	{ "kcmp", "probes another process's files and memory" },
	{ "mount", "reshapes the filesystem jobrun trusts" },
	{ "umount2", "uncovers what a mount hides" },
	{ "umount", "uncovers what a mount hides" },
	{ "pivot_root", "replaces the root filesystem" },
	{ "chroot", "escapes paths jobrun checks" },
	{ "open_tree", "new mount API" },
	{ "move_mount", "new mount API" },
	{ "fsopen", "new mount API" },
	{ "fsconfig", "new mount API" },
	{ "fsmount", "new mount API" },
	{ "fspick", "new mount API" },
	{ "mount_setattr", "new mount API" },
	{ "unshare", "new namespaces: user namespaces give back capabilities" },
	{ "setns", "enters another process's namespaces" },
	{ "kexec_load", "replaces the kernel" },
	{ "kexec_file_load", "replaces the kernel" },
	{ "init_module", "loads kernel code" },
	{ "finit_module", "loads kernel code" },
	{ "delete_module", "unloads kernel code" },
	{ "bpf", "kernel programs and maps: large attack surface" },
	{ "perf_event_open", "observes other processes; attack surface" },
	{ "keyctl", "the kernel keyring may hold other processes' keys" },
	{ "add_key", "the kernel keyring" },
	{ "request_key", "the kernel keyring" },
	{ "userfaultfd", "stalls the kernel at will: a classic exploit aid" },
	{ "open_by_handle_at", "opens files past directory permissions" },
	{ "name_to_handle_at", "companion of open_by_handle_at" },
	{ "lookup_dcookie", "kernel profiling internals" },
	{ "iopl", "raw port access" },
	{ "ioperm", "raw port access" },
	{ "swapon", "system-wide state" },
	{ "swapoff", "system-wide state" },
	{ "reboot", "system-wide state" },
	{ "acct", "system-wide state" },
	{ "settimeofday", "system-wide state" },
	{ "clock_settime", "system-wide state" },
	{ "clock_adjtime", "system-wide state" },
	{ "adjtimex", "system-wide state" },
	{ "syslog", "the kernel log leaks addresses" },
	{ "quotactl", "system-wide state" },
	{ "nfsservctl", "obsolete kernel interface" },
	{ "uselib", "obsolete kernel interface" },
	{ "vm86", "obsolete kernel interface" },
	{ "vm86old", "obsolete kernel interface" },
};

/* The namespace flags clone(2) must not carry: unshare's by another way. */
static const unsigned long namespace_flags[] = {
	CLONE_NEWNS,
	CLONE_NEWUSER,
	CLONE_NEWPID,
	CLONE_NEWNET,
	CLONE_NEWUTS,
	CLONE_NEWIPC,
	CLONE_NEWCGROUP,
};

/*
 * The capabilities an untrusted step running as root loses from its
 * bounding set, so that it holds none of them after exec: CAP_SYS_PTRACE
 * above all (with it, /proc/PID/mem of the undumpable jobrun opens).
 */
static const int dropped_capabilities[] = {
	CAP_SYS_PTRACE, CAP_SYS_ADMIN, CAP_SYS_MODULE, CAP_SYS_RAWIO,
	CAP_SYS_BOOT, CAP_DAC_READ_SEARCH, CAP_SYSLOG, CAP_MAC_ADMIN,
	CAP_MAC_OVERRIDE, 38, /* CAP_PERFMON, newer than some headers */
	39, /* CAP_BPF */
};

bool
sandbox_step_untrusted(const struct job *job, const struct step *step)
{
	if (step->run_as != NULL)
		return true;
	if (step->trusted != TRISTATE_UNSET)
		return step->trusted == TRISTATE_FALSE;
	return job->trusted == TRISTATE_FALSE;
}

/* Adds the denylist and the clone rules to ctx; returns 0 or -errno. */
static int
add_rules(scmp_filter_ctx ctx)
{
	size_t i;
	int nr, rc;

	for (i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		nr = seccomp_syscall_resolve_name(denied[i].name);
		if (nr == __NR_SCMP_ERROR)
			continue; /* not a call on this architecture */
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
		if (rc < 0)
			return rc;
	}
	for (i = 0; i < sizeof(namespace_flags) / sizeof(namespace_flags[0]);
	     i++) {
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
		    SCMP_SYS(clone), 1,
		    SCMP_A0(SCMP_CMP_MASKED_EQ, namespace_flags[i],
			namespace_flags[i]));
		if (rc < 0)
			return rc;
	}
	/*
	 * personality may be asked (0xffffffff, as sanitizers do) or set, but
	 * not turn off address space randomisation for what the step execs:
	 * refused when ADDR_NO_RANDOMIZE is set and bit 31 is not (no real
	 * persona has it; the query has every bit set).
	 */
	rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(personality),
	    1,
	    SCMP_A0(SCMP_CMP_MASKED_EQ, ADDR_NO_RANDOMIZE | 0x80000000UL,
		ADDR_NO_RANDOMIZE));
	if (rc < 0)
		return rc;
	/*
	 * clone3 passes its flags in memory, out of the filter's sight:
	 * ENOSYS makes the C library fall back to clone, which is checked.
	 */
	nr = seccomp_syscall_resolve_name("clone3");
	if (nr != __NR_SCMP_ERROR)
		return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
	return 0;
}

/* Exports ctx's BPF through a memory file into out->program. */
static int
export_program(struct sandbox_filter *out, scmp_filter_ctx ctx)
{
	struct stat st;
	ssize_t n;
	int fd, rc = -1;

	if ((fd = memfd_create("jobrun-seccomp", MFD_CLOEXEC)) < 0)
		return -errno;
	if ((rc = seccomp_export_bpf(ctx, fd)) < 0)
		goto out;
	rc = -EIO;
	if (fstat(fd, &st) < 0 || st.st_size <= 0 ||
	    st.st_size % sizeof(struct sock_filter) != 0)
		goto out;
	out->program.filter = xmalloc((size_t)st.st_size);
	out->program.len =
	    (unsigned short)(st.st_size / sizeof(struct sock_filter));
	n = pread(fd, out->program.filter, (size_t)st.st_size, 0);
	rc = n == st.st_size ? 0 : -EIO;
out:
	close(fd);
	return rc;
}

int
sandbox_filter_build(struct sandbox_filter *out, char **error)
{
	scmp_filter_ctx ctx;
	int rc;

	memset(out, 0, sizeof(*out));
	*error = NULL;
	if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL) {
		*error =
		    xstrdup("cannot build the seccomp filter: out of memory");
		return -1;
	}
	/* The filter is installed by hand, after no_new_privs is set. */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (rc == 0)
		rc = seccomp_attr_set(
		    ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (rc == 0)
		rc = add_rules(ctx);
	if (rc == 0)
		rc = export_program(out, ctx);
	seccomp_release(ctx);
	if (rc < 0) {
		sandbox_filter_release(out);
		*error = xasprintf(
		    "cannot build the seccomp filter: %s", strerror(-rc));
		return -1;
	}
	return 0;
}

void
sandbox_filter_release(struct sandbox_filter *filter)
{
	free(filter->program.filter);
	filter->program.filter = NULL;
	filter->program.len = 0;
}

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

int
sandbox_enter(const struct sandbox *sandbox)
{
	size_t i;

	/* Without CAP_SETPCAP jobrun holds none of these to hand down. */
	for (i = 0;
	     i < sizeof(dropped_capabilities) / sizeof(dropped_capabilities[0]);
	     i++)
		if (prctl(PR_CAPBSET_DROP, dropped_capabilities[i], 0, 0, 0) <
			0 &&
		    errno != EINVAL && errno != EPERM)
			return -1;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL)
		return -1;
	if (sandbox->change_ids &&
	    (setgroups(0, NULL) < 0 || setgid(sandbox->gid) < 0 ||
		setuid(sandbox->uid) < 0))
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER,
	    &sandbox->filter->program, 0, 0);
}

int
sandbox_protect_self(void)
{
	return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/* The owner nftw() hands the code dir to: nftw takes no context. */
static uid_t owner_uid;
static gid_t owner_gid;

/*
 * A file with other hard links may be one of them elsewhere (a tarball
 * can carry a link to /etc/shadow): it keeps its owner.
 */
static int
give_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)type;
	(void)ftw;
	if (!S_ISDIR(st->st_mode) && st->st_nlink > 1)
		return 0;
	return lchown(path, owner_uid, owner_gid) < 0 ? -1 : 0;
}

/* True when dir is outer or lies below it. */
static bool
is_within(const char *dir, const char *outer)
{
	size_t n = strlen(outer);

	if (strcmp(outer, "/") == 0)
		return true;
	return strncmp(dir, outer, n) == 0 && (dir[n] == '\0' || dir[n] == '/');
}

int
sandbox_prepare_dirs(const char *ci_dir, const char *code_dir, uid_t uid,
    gid_t gid, char **error)
{
	char ci[PATH_MAX], code[PATH_MAX];
	struct stat st;
	bool have_ci = realpath(ci_dir, ci) != NULL;

	*error = NULL;
	if (realpath(code_dir, code) == NULL) {
		*error = xasprintf("cannot find the code directory '%s': %s",
		    code_dir, strerror(errno));
		return -1;
	}
	if (have_ci && (is_within(code, ci) || is_within(ci, code))) {
		diag_warn("the code directory '%s' and the CI directory '%s' "
			  "overlap: run_as steps find both as they are",
		    code, ci);
		return 0;
	}
	if (strcmp(code, "/") == 0) {
		diag_warn("the code directory is '/': it is not handed to the "
			  "run_as user");
		return 0;
	}
	if (have_ci && stat(ci, &st) == 0 && chmod(ci, st.st_mode & 0700) < 0) {
		*error = xasprintf("cannot close the CI directory '%s': %s", ci,
		    strerror(errno));
		return -1;
	}
	owner_uid = uid;
	owner_gid = gid;
	if (nftw(code, give_entry, 64, FTW_PHYS | FTW_MOUNT) != 0) {
		*error = xasprintf("cannot hand the code directory '%s' to the "
				   "run_as user: %s",
		    code, strerror(errno));
		return -1;
	}
	return 0;
}
