/*
 * Waiting for children: the one place jobrun calls waitpid(2).  The step
 * engine's reaper takes every exited child (reap_next()) and routes each
 * status through its table of running steps; the few places that start a
 * child and wait for it while the engine is not reaping (a failed spawn,
 * a plugin's host->run(), a source backend) wait for that child only
 * (reap_child()); the end of a job, and the supervisor, end and reap
 * whatever is left (reap_all()).
 */
#ifndef JOBRUN_REAP_H
#define JOBRUN_REAP_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * Takes one exited child, any child, without waiting.  Returns its pid
 * with its wait status in *status, 0 when children remain but none has
 * exited, -1 when there is no child at all.
 */
pid_t reap_next(int *status);

/*
 * Takes the child pid when it has exited (waits for it when block).
 * Returns pid with its wait status in *status, 0 when it is still running
 * (only without block), -1 with errno when it is not a child of ours.
 */
pid_t reap_child(pid_t pid, int *status, bool block);

/*
 * Kills every child still around (found in /proc, escaped orphans
 * included: as PID 1 or a subreaper they are ours) and reaps them, until
 * none is left.
 */
void reap_all(void);

#endif
