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
#include <grp.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
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

/* Past the highest capability any kernel has: PR_CAPBSET_DROP says EINVAL. */
#define CAPABILITY_LIMIT 64

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

/*
 * Async-signal-safe: every bounding capability dropped.  Without
 * CAP_SETPCAP none can be (EPERM): the step then holds none anyway once
 * its uid is not root, as no_new_privs keeps exec from granting any.
 */
static int
drop_bounding_set(void)
{
	int capability;

	for (capability = 0; capability < CAPABILITY_LIMIT; capability++)
		if (prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) < 0) {
			if (errno == EINVAL)
				return 0; /* past the kernel's last */
			if (errno != EPERM)
				return -1;
		}
	return 0;
}

/*
 * Async-signal-safe: the inheritable set emptied (lowering it needs no
 * capability), and with everything_gone, the permitted and effective sets
 * too, checked read back: a capability left there (SECBIT_KEEP_CAPS, say)
 * fails with EPERM.
 */
static int
clear_capabilities(bool everything_gone)
{
	struct __user_cap_header_struct header = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];
	int i;

	if (syscall(SYS_capget, &header, data) < 0)
		return -1;
	for (i = 0; i < 2; i++) {
		data[i].inheritable = 0;
		if (everything_gone)
			data[i].permitted = data[i].effective = 0;
	}
	if (syscall(SYS_capset, &header, data) < 0 ||
	    syscall(SYS_capget, &header, data) < 0)
		return -1;
	for (i = 0; i < 2; i++)
		if (data[i].inheritable != 0 ||
		    (everything_gone &&
			(data[i].permitted != 0 || data[i].effective != 0))) {
			errno = EPERM;
			return -1;
		}
	return 0;
}

/* The id system calls that take 32-bit ids (i386 and ARM have both). */
#ifdef SYS_setresuid32
#define SYS_SETGROUPS SYS_setgroups32
#define SYS_SETRESGID SYS_setresgid32
#define SYS_SETRESUID SYS_setresuid32
#else
#define SYS_SETGROUPS SYS_setgroups
#define SYS_SETRESGID SYS_setresgid
#define SYS_SETRESUID SYS_setresuid
#endif

/*
 * Async-signal-safe: no supplementary group; gid and uid, all three each.
 * By the system calls, for this thread: the child is alone in its
 * process, but after a raw clone (proc.c) glibc still counts jobrun's
 * other threads (worker.h), and its wrappers would wait forever for them
 * to change their ids too.
 */
static int
switch_ids(const struct sandbox *sandbox)
{
	if (syscall(SYS_SETGROUPS, 0, NULL) < 0 ||
	    syscall(SYS_SETRESGID, sandbox->gid, sandbox->gid, sandbox->gid) <
		0 ||
	    syscall(SYS_SETRESUID, sandbox->uid, sandbox->uid, sandbox->uid) <
		0)
		return -1;
	return 0;
}

int
sandbox_enter(const struct sandbox *sandbox)
{
	/* While jobrun's CAP_SETPCAP is still there, before the uid goes. */
	if (drop_bounding_set() < 0)
		return -1;
	if (sandbox->change_ids && switch_ids(sandbox) < 0)
		return -1;
	if (clear_capabilities(sandbox->change_ids) < 0)
		return -1;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL)
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
