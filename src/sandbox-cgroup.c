/*
 * A cgroup for each untrusted step, where jobrun may make them: its cgroup
 * v2 directory is writable (a delegated subtree, or root with the cgroup
 * file system mounted read-write).  The job gets a directory "jobrun-PID"
 * beside jobrun in its own cgroup, each attempt of an untrusted step a
 * cgroup under it, in which its process is born (clone3(2) with
 * CLONE_INTO_CGROUP: moving a process in costs a wait for the kernel's
 * RCU, milliseconds a step);
 * when the step ends, cgroup.kill (Linux 5.14) kills every process in it
 * at once, setsid daemons and processes of another uid included, and the
 * cgroup is removed.  Without one, the uid-based kill (sandbox-policy.c)
 * and the PID namespace (sandbox-pidns.c) still end what a step leaves.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reap.h"
#include "sandbox.h"
#include "xalloc.h"

/* How long sandbox_cgroup_end() waits for a killed cgroup to empty. */
#define EMPTY_POLL_MS 100
#define EMPTY_POLL_ROUNDS 50

/* The mount point of the cgroup v2 file system (caller frees); NULL. */
static char *
unified_mount(void)
{
	char *line = NULL, *found = NULL, *dash, mount_point[4096];
	size_t cap = 0;
	FILE *fp = fopen("/proc/self/mountinfo", "re");

	while (fp != NULL && found == NULL && getline(&line, &cap, fp) > 0) {
		/* "ID PARENT MAJ:MIN ROOT MOUNT_POINT ... - TYPE SOURCE ..." */
		if ((dash = strstr(line, " - ")) == NULL ||
		    strncmp(dash + 3, "cgroup2 ", 8) != 0)
			continue;
		/* A mount point with a space in it is escaped: no match. */
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mount_point) == 1)
			found = xstrdup(mount_point);
	}
	free(line);
	if (fp != NULL)
		fclose(fp);
	return found;
}

/* jobrun's cgroup v2 path, "0::PATH" in /proc/self/cgroup; NULL. */
static char *
own_path(void)
{
	char *line = NULL, *found = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *fp = fopen("/proc/self/cgroup", "re");

	while (fp != NULL && found == NULL &&
	    (len = getline(&line, &cap, fp)) > 0) {
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		if (strncmp(line, "0::/", 4) == 0)
			found = xstrdup(line + 3);
	}
	free(line);
	if (fp != NULL)
		fclose(fp);
	return found;
}

/*
 * jobrun's cgroup directory (caller frees), or NULL.  In a container with
 * a cgroup namespace the path is "/"; one without shows the host's path,
 * which is then not there: the mount's root is the container's cgroup.
 */
static char *
own_directory(void)
{
	char *mount_point = unified_mount(), *path = own_path(), *dir = NULL;
	struct stat st;

	if (mount_point != NULL && path != NULL) {
		dir = xasprintf(
		    "%s%s", mount_point, strcmp(path, "/") == 0 ? "" : path);
		if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
			free(dir);
			dir = xstrdup(mount_point);
		}
	}
	free(mount_point);
	free(path);
	return dir;
}

/* Writes text to dir/file; 0 or -1 with errno. */
static int
write_file(const char *dir, const char *file, const char *text)
{
	char *path = xasprintf("%s/%s", dir, file);
	int fd = open(path, O_WRONLY | O_CLOEXEC), rc = -1, saved;

	free(path);
	if (fd < 0)
		return -1;
	if (write(fd, text, strlen(text)) == (ssize_t)strlen(text))
		rc = 0;
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

/*
 * Whether a child can be born in a cgroup made in dir, and that cgroup be
 * killed: a throw-away one, removed again.  0, or an errno.
 */
static int
probe(const char *dir)
{
	char *cgroup = xasprintf("%s/probe", dir), *kill_file;
	int fd, rc = 0, status;
	pid_t pid;

	if (mkdir(cgroup, 0700) < 0) {
		free(cgroup);
		return errno;
	}
	kill_file = xasprintf("%s/cgroup.kill", cgroup);
	if (access(kill_file, W_OK) < 0)
		rc = errno; /* before Linux 5.14 */
	free(kill_file);
	if (rc == 0 && (fd = sandbox_cgroup_open(cgroup)) < 0)
		rc = errno;
	if (rc == 0 && (pid = sandbox_cgroup_fork(fd, false)) == 0)
		_exit(0);
	if (rc == 0) {
		rc = pid < 0 ? errno : 0;
		close(fd);
		/* Before the caller's reaper knows the pid. */
		if (rc == 0 && reap_child(pid, &status, true) == pid)
			rc = WIFEXITED(status) ? WEXITSTATUS(status) : EIO;
	}
	rmdir(cgroup);
	free(cgroup);
	return rc;
}

int
sandbox_cgroups_open(char **out_dir)
{
	char *own = own_directory(), *dir;
	int rc;

	*out_dir = NULL;
	if (own == NULL) {
		errno = ENOENT;
		return -1;
	}
	dir = xasprintf("%s/jobrun-%ld", own, (long)getpid());
	free(own);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		rc = errno;
	} else if ((rc = probe(dir)) != 0) {
		rmdir(dir);
	}
	if (rc != 0) {
		free(dir);
		errno = rc;
		return -1;
	}
	*out_dir = dir;
	return 0;
}

int
sandbox_cgroup_open(const char *cgroup)
{
	return open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

pid_t
sandbox_cgroup_fork(int cgroup_fd, bool namespaces)
{
	struct clone_args args = {
		.flags = CLONE_INTO_CGROUP |
		    (namespaces ? CLONE_NEWPID | CLONE_NEWNS : 0),
		.exit_signal = SIGCHLD,
		.cgroup = (uint64_t)cgroup_fd,
	};

	return (pid_t)syscall(SYS_clone3, &args, sizeof(args));
}

char *
sandbox_cgroup_create(const char *cgroups_dir, const char *name)
{
	char *cgroup = xasprintf("%s/%s", cgroups_dir, name);

	/* An attempt of the same name that was not removed: end it first. */
	if (mkdir(cgroup, 0700) < 0 &&
	    (errno != EEXIST || sandbox_cgroup_end(cgroup) < 0 ||
		mkdir(cgroup, 0700) < 0)) {
		free(cgroup);
		return NULL;
	}
	return cgroup;
}

/* True when cgroup.events says "populated 0"; fd open on it. */
static bool
is_empty(int fd)
{
	char text[256];
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);

	if (n <= 0)
		return false;
	text[n] = '\0';
	return strstr(text, "populated 0") != NULL;
}

int
sandbox_cgroup_end(const char *cgroup)
{
	char *path = xasprintf("%s/cgroup.events", cgroup);
	struct pollfd events = { .events = POLLPRI };
	int round;

	events.fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (events.fd < 0)
		return errno == ENOENT ? 0 : -1; /* gone already */
	if (!is_empty(events.fd) &&
	    write_file(cgroup, "cgroup.kill", "1") < 0) {
		close(events.fd);
		return -1;
	}
	/* The kernel says when it changes: no sleep when it is quick. */
	for (round = 0; round < EMPTY_POLL_ROUNDS && !is_empty(events.fd);
	     round++)
		poll(&events, 1, EMPTY_POLL_MS);
	close(events.fd);
	return rmdir(cgroup);
}

void
sandbox_cgroups_close(const char *cgroups_dir)
{
	struct dirent *entry;
	char *cgroup;
	DIR *dir;

	if (cgroups_dir == NULL || (dir = opendir(cgroups_dir)) == NULL)
		return;
	while ((entry = readdir(dir)) != NULL) {
		if (entry->d_type != DT_DIR || entry->d_name[0] == '.')
			continue;
		cgroup = xasprintf("%s/%s", cgroups_dir, entry->d_name);
		sandbox_cgroup_end(cgroup);
		free(cgroup);
	}
	closedir(dir);
	rmdir(cgroups_dir);
}
