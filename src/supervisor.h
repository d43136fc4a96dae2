/*
 * The supervisor: jobrun's first process stays small and runs the job in
 * a child (the job process), so that whatever happens to the code that
 * runs the job (a plugin's SIGSEGV, an abort, the OOM killer) someone is
 * left to write the truth down.  The supervisor reaps every orphan that
 * reaches it (it is PID 1 in a container, a subreaper elsewhere), forwards
 * SIGINT, SIGTERM, SIGHUP and SIGQUIT to the job process, and once the job
 * process is gone, kills and reaps whatever it left.
 *
 * The job process runs in a process group of its own, so a signal sent to
 * the supervisor's group (a terminal's Ctrl-C, `kill -- -PGID`, timeout(1))
 * reaches it once, forwarded; it is sent SIGTERM if the supervisor dies.
 */
#ifndef JOBRUN_SUPERVISOR_H
#define JOBRUN_SUPERVISOR_H

/*
 * Starts the job process.  Returns 0 in the job process.  In the
 * supervisor, waits for the job process to end and returns 1 with its
 * wait status in *wait_status, every other child killed and reaped.
 * Returns -1 after a message when the job process cannot be started.
 * The signals of runner_signals() must be blocked.
 */
int supervisor_fork(int *wait_status);

#endif
