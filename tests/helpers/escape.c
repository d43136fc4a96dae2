/*
 * escape: tries one way out of an untrusted step and reports how it went,
 * for tests/t/0050-untrusted.sh.  Usage: escape ATTEMPT [ARG]; it prints
 * "ATTEMPT: ok" and exits 0 when the attempt worked, or prints
 * "ATTEMPT: ENAME" and exits with the errno (1..125) when it did not.
 *
 *   ptrace PID     PTRACE_ATTACH to PID, then detach
 *   vmread PID     process_vm_readv a mapped page of PID
 *   read FILE      open and read FILE (/proc/PID/environ, /job/ci/...)
 *   mem PID        read a mapped page of PID through /proc/PID/mem
 *   env NAME       NAME is set in the environment (ENOENT when not)
 *   unshare-user   unshare(CLONE_NEWUSER)
 *   unshare-mount  unshare(CLONE_NEWNS)
 *   clone-user     clone(2) with CLONE_NEWUSER, the other way to unshare
 *   aslr-off       personality(ADDR_NO_RANDOMIZE)
 *   x32            getpid through the x32 ABI (x86-64 only; ENOSYS
 *                  elsewhere): the filter's architecture check kills it
 *   socket-read    ask $JOBRUN_SOCKET for a secret back (EPERM: refused)
 *   write FILE     create FILE
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *attempt;

static int
report(int error)
{
	static const struct {
		int error;
		const char *name;
	} names[] = {
		{ EPERM, "EPERM" },
		{ EACCES, "EACCES" },
		{ ENOENT, "ENOENT" },
		{ ESRCH, "ESRCH" },
		{ EFAULT, "EFAULT" },
		{ EINVAL, "EINVAL" },
		{ ENOSYS, "ENOSYS" },
		{ EIO, "EIO" },
	};
	size_t i;

	if (error == 0) {
		printf("%s: ok\n", attempt);
		return 0;
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].error == error) {
			printf("%s: %s\n", attempt, names[i].name);
			return error;
		}
	printf("%s: errno %d\n", attempt, error);
	return error > 0 && error < 126 ? error : 125;
}

/* The start of PID's first readable mapping, or a made-up one when its
 * maps are closed to us (the attempt then fails before any address
 * matters). */
static uintptr_t
mapped_address(pid_t pid)
{
	char path[64], perms[8];
	unsigned long start = 0x10000, end;
	FILE *maps;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	if ((maps = fopen(path, "r")) == NULL)
		return start;
	while (fscanf(maps, "%lx-%lx %7s%*[^\n]", &start, &end, perms) == 3)
		if (perms[0] == 'r')
			break;
	fclose(maps);
	return start;
}

static int
try_ptrace(pid_t pid)
{
	int status;

	if (ptrace(PTRACE_ATTACH, pid, NULL, NULL) < 0)
		return errno;
	waitpid(pid, &status, __WALL);
	ptrace(PTRACE_DETACH, pid, NULL, NULL);
	return 0;
}

static int
try_vmread(pid_t pid)
{
	char buffer[16];
	struct iovec local = { buffer, sizeof(buffer) };
	struct iovec remote = { (void *)mapped_address(pid), sizeof(buffer) };

	return process_vm_readv(pid, &local, 1, &remote, 1, 0) < 0 ? errno : 0;
}

static int
try_read(const char *path)
{
	char buffer[64];
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return errno;
	if (read(fd, buffer, sizeof(buffer)) < 0) {
		close(fd);
		return errno;
	}
	close(fd);
	return 0;
}

static int
try_mem(pid_t pid)
{
	char path[64], buffer[16];
	uintptr_t address = mapped_address(pid);
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	if ((fd = open(path, O_RDONLY)) < 0)
		return errno;
	if (pread(fd, buffer, sizeof(buffer), (off_t)address) < 0) {
		close(fd);
		return errno;
	}
	close(fd);
	return 0;
}

static int
try_clone_user(void)
{
	long pid =
	    syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, NULL);

	if (pid < 0)
		return errno;
	if (pid == 0)
		_exit(0);
	waitpid((pid_t)pid, NULL, 0);
	return 0;
}

static int
try_x32(void)
{
#ifdef __x86_64__
	return syscall(0x40000000L | SYS_getpid) < 0 ? errno : 0;
#else
	return ENOSYS;
#endif
}

/* Sends one framed request; EPERM unless the reply says "ok". */
static int
try_socket_read(void)
{
	static const char request[] = "{\"action\":\"get\",\"name\":\"TOKEN\"}";
	const char *path = getenv("JOBRUN_SOCKET");
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	unsigned char frame[4 + sizeof(request)];
	uint32_t length = sizeof(request) - 1;
	char reply[512] = "";
	ssize_t n;
	int fd;

	if (path == NULL || strlen(path) >= sizeof(address.sun_path))
		return ENOENT;
	strcpy(address.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		return errno;
	if (connect(fd, (struct sockaddr *)&address, sizeof(address)) < 0) {
		close(fd);
		return errno;
	}
	frame[0] = (unsigned char)(length >> 24);
	frame[1] = (unsigned char)(length >> 16);
	frame[2] = (unsigned char)(length >> 8);
	frame[3] = (unsigned char)length;
	memcpy(frame + 4, request, length);
	if (write(fd, frame, 4 + length) < 0 ||
	    (n = read(fd, reply, sizeof(reply) - 1)) < 0) {
		close(fd);
		return errno;
	}
	close(fd);
	return strstr(reply, "\"status\":\"ok\"") != NULL ? 0 : EPERM;
}

static int
try_write(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *arg = argc > 2 ? argv[2] : "";
	pid_t pid = (pid_t)atoi(arg);

	if (argc < 2)
		return 126;
	attempt = argv[1];
	if (strcmp(attempt, "ptrace") == 0)
		return report(try_ptrace(pid));
	if (strcmp(attempt, "vmread") == 0)
		return report(try_vmread(pid));
	if (strcmp(attempt, "read") == 0)
		return report(try_read(arg));
	if (strcmp(attempt, "mem") == 0)
		return report(try_mem(pid));
	if (strcmp(attempt, "env") == 0)
		return report(getenv(arg) != NULL ? 0 : ENOENT);
	if (strcmp(attempt, "unshare-user") == 0)
		return report(unshare(CLONE_NEWUSER) < 0 ? errno : 0);
	if (strcmp(attempt, "unshare-mount") == 0)
		return report(unshare(CLONE_NEWNS) < 0 ? errno : 0);
	if (strcmp(attempt, "clone-user") == 0)
		return report(try_clone_user());
	if (strcmp(attempt, "aslr-off") == 0)
		return report(personality(ADDR_NO_RANDOMIZE) < 0 ? errno : 0);
	if (strcmp(attempt, "x32") == 0)
		return report(try_x32());
	if (strcmp(attempt, "socket-read") == 0)
		return report(try_socket_read());
	if (strcmp(attempt, "write") == 0)
		return report(try_write(arg));
	fprintf(stderr, "escape: unknown attempt '%s'\n", attempt);
	return 126;
}
