/*
 * Out-of-memory kills: the kernel counts, per memory cgroup, the processes
 * its OOM killer ended ("oom_kill" in cgroup v2's memory.events and in
 * cgroup v1's memory.oom_control).  jobrun's cgroup is the container's, so
 * reading the counter when a step starts and when it ends tells whether
 * the OOM killer struck meanwhile.  The kernel does not say whom it
 * killed; a step that failed while the counter rose is reported as killed
 * by the OOM killer (with parallel steps, each one that failed then is).
 *
 * Order of calls: oom_watch_open() once, oom_watch_kills() as often as
 * needed, oom_watch_close() at the end.
 */
#ifndef JOBRUN_OOM_H
#define JOBRUN_OOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct oom_watch {
	int fd; /* the counter's file; -1: none found */
};

#define OOM_WATCH_INIT                                                         \
	{                                                                      \
		.fd = -1                                                       \
	}

/*
 * Finds the OOM kill counter of the memory cgroup this process is in,
 * looking under cgroup_root (normally "/sys/fs/cgroup") for the paths
 * named in proc_cgroup (normally "/proc/self/cgroup"): the cgroup v2
 * file (at the root or, on a hybrid host, under unified/), then the v1
 * one (under memory/).  In a container the cgroup file system shows the
 * container's own cgroup at its root while proc_cgroup names the host's
 * path; the root is tried when that path is not there.  Without a
 * counter (no memory controller visible) *watch stays closed: nothing is
 * reported and oom_watch_kills() returns 0.
 */
void oom_watch_open(
    struct oom_watch *watch, const char *cgroup_root, const char *proc_cgroup);

/* The number of OOM kills so far; 0 when there is no counter. */
uint64_t oom_watch_kills(const struct oom_watch *watch);

/* True when a counter was found. */
bool oom_watch_active(const struct oom_watch *watch);

/* Closes the counter's file; *watch may be opened again. */
void oom_watch_close(struct oom_watch *watch);

/*
 * Reads the "oom_kill N" line of a memory.events or memory.oom_control
 * text (len bytes, not terminated) into *out.  Returns false, leaving *out
 * alone, when there is no such line (kernels before 4.13 in cgroup v1).
 * Exposed for the unit tests.
 */
bool oom_parse_kills(const char *text, size_t len, uint64_t *out);

#endif
