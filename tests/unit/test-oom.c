/* Unit tests for oom.c: parsing the counter and finding it in fake cgroup
 * trees laid out as cgroup v2, a hybrid host's container and v1. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oom.h"
#include "tap.h"
#include "xalloc.h"

static char root[] = "/tmp/jobrun-oom-XXXXXX";

/* Writes text to root/name, creating the directories on the way. */
static void
put(const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", root, name), *slash;
	FILE *fp;

	for (slash = strchr(path + strlen(root) + 1, '/'); slash != NULL;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	if ((fp = fopen(path, "w")) == NULL || fputs(text, fp) < 0 ||
	    fclose(fp) != 0) {
		perror(path);
		exit(1);
	}
	free(path);
}

/* Opens a watch over root with the given /proc/self/cgroup text. */
static void
open_with(struct oom_watch *watch, const char *proc_cgroup)
{
	char *cgroup_root = xasprintf("%s/fs", root);
	char *proc = xasprintf("%s/proc-cgroup", root);

	put("proc-cgroup", proc_cgroup);
	oom_watch_open(watch, cgroup_root, proc);
	free(cgroup_root);
	free(proc);
}

static void
test_parse(void)
{
	static const char v1[] =
	    "oom_kill_disable 0\nunder_oom 0\noom_kill 7\n";
	static const char v2[] = "low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\n"
				 "oom_group_kill 0\n";
	uint64_t n = 99;

	ok(oom_parse_kills(v1, strlen(v1), &n), "v1 memory.oom_control");
	is_int((long long)n, 7, "its oom_kill counter");
	ok(oom_parse_kills(v2, strlen(v2), &n), "v2 memory.events");
	is_int((long long)n, 2, "oom_kill, not oom or oom_group_kill");
	ok(oom_parse_kills("oom_kill 5", 10, &n) && n == 5,
	    "a last line without newline");
	n = 99;
	ok(!oom_parse_kills("oom_kill_disable 0\nunder_oom 0\n", 30, &n) &&
		n == 99,
	    "no counter (kernels before 4.13): false, out untouched");
	ok(!oom_parse_kills("oom_kill 1", 8, &n), "the length is respected");
}

static void
test_layouts(void)
{
	struct oom_watch watch = OOM_WATCH_INIT;

	put("fs/job.slice/memory.events", "oom 1\noom_kill 3\n");
	open_with(&watch, "0::/job.slice\n");
	ok(oom_watch_active(&watch), "cgroup v2: the counter is found");
	is_int((long long)oom_watch_kills(&watch), 3, "and read");
	put("fs/job.slice/memory.events", "oom 2\noom_kill 4\n");
	is_int((long long)oom_watch_kills(&watch), 4,
	    "each read sees the file afresh");
	oom_watch_close(&watch);
	ok(!oom_watch_active(&watch), "closed");

	/* A container on a hybrid host: /proc names the host's path, the
	 * memory hierarchy's root is the container's cgroup. */
	put("fs/memory/memory.oom_control", "under_oom 0\noom_kill 1\n");
	open_with(&watch,
	    "9:name=systemd:/libpod/c1\n4:memory:/libpod/c1\n"
	    "3:cpu,cpuacct:/libpod/c1\n0::/libpod/c1\n");
	ok(oom_watch_active(&watch),
	    "hybrid, in a container: found at the root");
	is_int((long long)oom_watch_kills(&watch), 1, "and read");
	oom_watch_close(&watch);

	/* A host with the v1 memory hierarchy: the process's own cgroup. */
	put("fs/memory/ci/runner/memory.oom_control", "oom_kill 6\n");
	open_with(&watch, "4:cpuset,memory:/ci/runner\n0::/\n");
	is_int((long long)oom_watch_kills(&watch), 6,
	    "v1 host: the process's own cgroup, among several controllers");
	oom_watch_close(&watch);

	open_with(&watch, "4:memoryless:/ci/runner\n");
	ok(!oom_watch_active(&watch), "a controller named like memory is not");
	is_int((long long)oom_watch_kills(&watch), 0, "no counter reads as 0");

	put("fs/memory/old/memory.oom_control", "oom_kill_disable 0\n");
	open_with(&watch, "4:memory:/old\n");
	is_int((long long)oom_watch_kills(&watch), 1,
	    "a file without the counter is passed over for the next one");
	oom_watch_close(&watch);
}

int
main(void)
{
	char *command;

	if (mkdtemp(root) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_parse();
	test_layouts();
	command = xasprintf("rm -rf '%s'", root);
	if (system(command) != 0)
		fprintf(stderr, "cannot remove %s\n", root);
	free(command);
	return done_testing();
}
