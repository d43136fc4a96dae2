/*
 * The event loop: epoll over file descriptors, each with a callback.  One
 * loop serves the whole job (step output pipes, the signalfd, and the
 * control socket); deadlines are the caller's, passed as the wait timeout.
 */
#ifndef JOBRUN_LOOP_H
#define JOBRUN_LOOP_H

#include <stdint.h>

struct loop;

/* Called with the fd's ready events (EPOLLIN, EPOLLHUP, ...). */
typedef void (*loop_fn)(struct loop *loop, int fd, uint32_t events, void *data);

/* Returns a new loop, or NULL with errno set. */
struct loop *loop_new(void);

/*
 * Watches fd for events and calls fn(loop, fd, events, data) when any is
 * ready.  Returns 0, or -1 with errno set.  The loop does not own fd.
 */
int loop_add(
    struct loop *loop, int fd, uint32_t events, loop_fn fn, void *data);

/*
 * Stops watching fd.  Safe from inside any callback, also for an fd whose
 * events are pending in the same round: its callback will not be called.
 */
void loop_remove(struct loop *loop, int fd);

/*
 * Changes the events fd is watched for (0: none for now; it stays
 * registered).  Returns 0, or -1 with errno (ENOENT: fd is not watched).
 */
int loop_watch(struct loop *loop, int fd, uint32_t events);

/*
 * Waits up to timeout_ms (-1: no limit) for events and dispatches them.
 * Returns the number of callbacks made, or -1 with errno set (EINTR is
 * retried).
 */
int loop_once(struct loop *loop, int timeout_ms);

/* Frees the loop; fds stay open. */
void loop_free(struct loop *loop);

#endif
