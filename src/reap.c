/*
 * Waiting for children (reap.h).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reap.h"

pid_t
reap_next(int *status)
{
	pid_t pid;

	do
		pid = waitpid(-1, status, WNOHANG);
	while (pid < 0 && errno == EINTR);
	return pid;
}

pid_t
reap_child(pid_t pid, int *status, bool block)
{
	pid_t got;

	do
		got = waitpid(pid, status, block ? 0 : WNOHANG);
	while (got < 0 && errno == EINTR);
	return got;
}

/* Whether pid's parent is us, from /proc/PID/stat. */
static bool
is_our_child(long pid)
{
	char path[64], line[512];
	const char *fields;
	long ppid;
	FILE *fp;
	bool ours = false;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((fp = fopen(path, "re")) == NULL)
		return false;
	/* The command may hold spaces and parentheses: the fields start
	 * after the last ')'. */
	if (fgets(line, sizeof(line), fp) != NULL &&
	    (fields = strrchr(line, ')')) != NULL &&
	    sscanf(fields + 2, "%*c %ld", &ppid) == 1)
		ours = ppid == (long)getpid();
	fclose(fp);
	return ours;
}

static void
kill_our_children(void)
{
	struct dirent *entry;
	DIR *dir;
	long pid;

	if ((dir = opendir("/proc")) == NULL)
		return;
	while ((entry = readdir(dir)) != NULL) {
		pid = strtol(entry->d_name, NULL, 10);
		if (pid > 0 && is_our_child(pid))
			kill((pid_t)pid, SIGKILL);
	}
	closedir(dir);
}

void
reap_all(void)
{
	int status;
	pid_t pid;

	/* No child at all (the usual case): nothing to look for. */
	while ((pid = reap_next(&status)) > 0)
		continue;
	if (pid < 0)
		return;
	for (;;) {
		kill_our_children();
		if (reap_child(-1, &status, true) < 0 && errno == ECHILD)
			break;
		while (reap_next(&status) > 0)
			continue;
	}
}
