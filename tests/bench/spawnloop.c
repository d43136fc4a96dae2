/*
 * The baseline for per-step overhead: posix_spawn "sh -c COMMAND" N times,
 * waiting for each, as a minimal runner with no bookkeeping would.
 *
 *   spawnloop N [COMMAND]
 */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

extern char **environ;

int
main(int argc, char **argv)
{
	char *command = argc > 2 ? argv[2] : "true";
	char *args[] = { "sh", "-c", command, NULL };
	long i, n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000;
	pid_t pid;
	int status;

	for (i = 0; i < n; i++) {
		if (posix_spawn(&pid, "/bin/sh", NULL, NULL, args, environ) !=
		    0)
			return 1;
		if (waitpid(pid, &status, 0) < 0 || status != 0)
			return 1;
	}
	return 0;
}
