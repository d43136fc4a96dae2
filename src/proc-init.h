/*
 * The init of an untrusted step's PID namespace: a process of jobrun's,
 * PID 1 there, that starts the step as its child and stands in for it.
 * The step is then not PID 1 (which the kernel shields from signals it has
 * no handler for, and which would inherit every orphan of the namespace),
 * and when it ends the init exits, so that the kernel kills whatever is
 * left in the namespace, setsid daemons included.
 *
 * proc.c starts it (proc_spawn() with a sandbox that has pid_namespace):
 * the init leads the session and process group jobrun signals; the step
 * leads a session of its own inside the namespace.
 */
#ifndef JOBRUN_PROC_INIT_H
#define JOBRUN_PROC_INIT_H

#include <sys/types.h>

/*
 * The init's life after it started the step, whose pid (in the namespace)
 * is step; every signal must be blocked already.  Forwards each signal it
 * gets but SIGCHLD (a timeout's SIGTERM, a cancellation's SIGINT, SIGCONT,
 * ...) to the step's process group; reaps every child (orphans of the
 * namespace too); when the step itself ends, writes its wait status (an
 * int) to status_fd (-1: none) and exits: with the step's exit status, or
 * 128 + the signal that killed it.  Async-signal-safe; never returns.
 */
_Noreturn void proc_init_run(pid_t step, int status_fd);

#endif
