/*
 * What every runtime backend shares: choosing one, the identity of an
 * instance (run id, name, owner label) and the two decisions made over
 * what a backend reports: what "run" does about an instance it finds (the
 * reconcile table) and what "gc" removes.  The decisions are pure
 * functions so that the unit tests can walk their whole tables.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "runtime-kube.h"
#include "runtime.h"
#include "xalloc.h"

struct runtime *
runtime_open(const char *kind, char **error)
{
	static const char *const engines[] = { "podman", "docker" };
	char *why;
	size_t i;

	if (strcmp(kind, "podman") == 0 || strcmp(kind, "docker") == 0)
		return runtime_engine_new(kind, error);
	if (strcmp(kind, "kubernetes") == 0)
		return runtime_kube_new("kubectl", NULL, error);
	if (strcmp(kind, "auto") != 0) {
		*error = xasprintf("unknown runtime '%s': expected local, "
				   "podman, docker, kubernetes or auto",
		    kind);
		return NULL;
	}
	for (i = 0; i < sizeof(engines) / sizeof(engines[0]); i++) {
		struct runtime *rt = runtime_engine_new(engines[i], &why);

		if (rt != NULL)
			return rt;
		free(why);
	}
	*error = xasprintf("no container runtime found: looked for 'podman' "
			   "and 'docker' in PATH");
	return NULL;
}

void
runtime_free(struct runtime *rt)
{
	if (rt != NULL)
		rt->ops->free(rt);
}

char *
runtime_instance_name(const char *run_id)
{
	return xasprintf("jobrun-%s", run_id);
}

bool
runtime_run_id_valid(const char *id)
{
	size_t i, n = strlen(id);

	if (n == 0 || n > RUNTIME_RUN_ID_MAX || id[0] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!((id[i] >= 'a' && id[i] <= 'z') ||
			(id[i] >= '0' && id[i] <= '9') || id[i] == '-'))
			return false;
	return true;
}

char *
runtime_run_id_new(void)
{
	unsigned char bytes[6];
	char *id = xmalloc(2 * sizeof(bytes) + 1);
	size_t i;

	if (getrandom(bytes, sizeof(bytes), 0) != (ssize_t)sizeof(bytes)) {
		/* No entropy: the time and pid still make clashes unlikely. */
		unsigned long long x = (unsigned long long)time(NULL) ^
		    ((unsigned long long)getpid() << 20);

		memcpy(bytes, &x, sizeof(bytes));
	}
	for (i = 0; i < sizeof(bytes); i++)
		snprintf(id + 2 * i, 3, "%02x", bytes[i]);
	return id;
}

/* Reads up to size - 1 bytes of a small system file (/proc, /etc) into
 * buf, NUL-terminated.  Returns the length, or -1. */
static ssize_t
read_small(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return -1;
	do
		n = read(fd, buf, size - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

const char *
runtime_machine_id(void)
{
	static char id[72];
	char text[128];
	size_t n;

	if (id[0] != '\0')
		return id;
	if (read_small("/etc/machine-id", text, sizeof(text)) > 0) {
		n = strcspn(text, "\n \t");
		snprintf(id, sizeof(id), "%.*s", (int)n, text);
	}
	if (id[0] == '\0' && gethostname(id, sizeof(id) - 1) < 0)
		snprintf(id, sizeof(id), "unknown");
	/* ':' separates the owner label's fields. */
	for (n = 0; id[n] != '\0'; n++)
		if (id[n] == ':')
			id[n] = '-';
	return id;
}

/* The start time of pid in clock ticks since boot (field 22 of stat). */
static int
process_start_time(pid_t pid, unsigned long long *out)
{
	char path[64], text[1024], *p;
	int field, rc = -1;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_small(path, text, sizeof(text)) <= 0)
		return -1;
	/* The command name may hold spaces and ')': skip to the last ')'. */
	if ((p = strrchr(text, ')')) != NULL) {
		for (field = 2; p != NULL && field < 22; field++)
			p = strchr(p + 1, ' ');
		if (p != NULL && sscanf(p + 1, "%llu", out) == 1)
			rc = 0;
	}
	return rc;
}

char *
runtime_owner_of(pid_t pid)
{
	unsigned long long start;

	if (process_start_time(pid, &start) < 0)
		return NULL;
	return xasprintf("%s:%d:%llu", runtime_machine_id(), (int)pid, start);
}

char *
runtime_owner_self(void)
{
	char *owner = runtime_owner_of(getpid());

	return owner != NULL
	    ? owner
	    : xasprintf("%s:%d:0", runtime_machine_id(), (int)getpid());
}

int
runtime_owner_alive(const char *owner, void *context)
{
	const char *machine = runtime_machine_id();
	size_t n = strlen(machine);
	char *now;
	long pid;
	int alive;

	(void)context;
	if (owner == NULL || strncmp(owner, machine, n) != 0 || owner[n] != ':')
		return -1;
	pid = strtol(owner + n + 1, NULL, 10);
	if (pid <= 0)
		return -1;
	now = runtime_owner_of((pid_t)pid);
	/* The same pid with another start time is another process. */
	alive = now != NULL && strcmp(now, owner) == 0;
	free(now);
	return alive;
}

enum runtime_action
runtime_reconcile(enum runtime_state state)
{
	switch (state) {
	case RUNTIME_CREATED:
		return RUNTIME_DO_START;
	case RUNTIME_RUNNING:
		return RUNTIME_DO_ATTACH;
	case RUNTIME_EXITED:
		return RUNTIME_DO_COLLECT;
	case RUNTIME_ABSENT:
	default:
		return RUNTIME_DO_CREATE;
	}
}

bool
runtime_gc_removes(const struct runtime_instance *inst,
    const struct runtime_gc_rules *rules, const char **out_why)
{
	int alive = rules->alive(inst->owner, rules->context);

	*out_why = NULL;
	if (alive == 1 && !inst->detached) {
		*out_why = "its owner is running";
		return false;
	}
	if (alive == 0 && !inst->detached) {
		*out_why = "its owner is gone";
		return true;
	}
	if (inst->state == RUNTIME_EXITED) {
		int64_t end = inst->finished_at != 0 ? inst->finished_at
						     : inst->created_at;

		if (end != 0 && rules->now - end >= rules->retention) {
			*out_why = "exited past the retention";
			return true;
		}
		*out_why = "exited within the retention";
		return false;
	}
	*out_why = inst->detached ? "detached and not finished"
				  : "owned on another machine";
	return false;
}

const char *
runtime_state_name(enum runtime_state state)
{
	switch (state) {
	case RUNTIME_CREATED:
		return "created";
	case RUNTIME_RUNNING:
		return "running";
	case RUNTIME_EXITED:
		return "exited";
	case RUNTIME_ABSENT:
	default:
		return "absent";
	}
}

void
runtime_instance_release(struct runtime_instance *inst)
{
	free(inst->name);
	free(inst->run_id);
	free(inst->job);
	free(inst->version);
	free(inst->owner);
	*inst = (struct runtime_instance)RUNTIME_INSTANCE_INIT;
}

void
runtime_instances_free(struct runtime_instance *list, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		runtime_instance_release(&list[i]);
	free(list);
}

void
runtime_attach_close(struct runtime_attach *attach)
{
	if (attach->input >= 0)
		close(attach->input);
	if (attach->output >= 0)
		close(attach->output);
	if (attach->errors >= 0)
		close(attach->errors);
	if (attach->waiter_output >= 0)
		close(attach->waiter_output);
	attach->input = -1;
	attach->output = -1;
	attach->errors = -1;
	attach->waiter_output = -1;
}

pid_t
runtime_tool_spawn(
    char *const argv[], int in, int out, int err, bool same_group, char **error)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, defaults;
	short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
	pid_t pid;
	int rc;

	posix_spawn_file_actions_init(&fa);
	if (in >= 0)
		posix_spawn_file_actions_adddup2(&fa, in, STDIN_FILENO);
	else
		posix_spawn_file_actions_addopen(
		    &fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out, STDOUT_FILENO);
	if (err >= 0)
		posix_spawn_file_actions_adddup2(&fa, err, STDERR_FILENO);
	else
		posix_spawn_file_actions_addopen(
		    &fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigfillset(&defaults);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &defaults);
	if (!same_group) {
		posix_spawnattr_setpgroup(&attr, 0);
		flags |= POSIX_SPAWN_SETPGROUP;
	}
	posix_spawnattr_setflags(&attr, flags);
	rc = posix_spawn(&pid, argv[0], &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (rc != 0) {
		*error =
		    xasprintf("cannot run '%s': %s", argv[0], strerror(rc));
		errno = rc;
		return -1;
	}
	return pid;
}
