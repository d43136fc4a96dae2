/*
 * An epoll loop with callbacks.  Registrations removed during a round are
 * only marked dead and freed after the round, so a callback may remove any
 * fd, its own included, without the dispatcher touching freed memory.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "loop.h"
#include "xalloc.h"

#define LOOP_EVENTS 64

struct watch {
	int fd;
	loop_fn fn;
	void *data;
	bool dead;
	struct watch *next; /* all watches, live and dead */
};

struct loop {
	int epoll_fd;
	struct watch *watches;
	bool dispatching;
};

struct loop *
loop_new(void)
{
	struct loop *loop;
	int fd = epoll_create1(EPOLL_CLOEXEC);

	if (fd < 0)
		return NULL;
	loop = xcalloc(1, sizeof(*loop));
	loop->epoll_fd = fd;
	return loop;
}

int
loop_add(struct loop *loop, int fd, uint32_t events, loop_fn fn, void *data)
{
	struct epoll_event event = { 0 };
	struct watch *watch = xcalloc(1, sizeof(*watch));

	watch->fd = fd;
	watch->fn = fn;
	watch->data = data;
	event.events = events;
	event.data.ptr = watch;
	if (epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, fd, &event) < 0) {
		free(watch);
		return -1;
	}
	watch->next = loop->watches;
	loop->watches = watch;
	return 0;
}

/* Frees dead watches; only between rounds. */
static void
loop_sweep(struct loop *loop)
{
	struct watch **link = &loop->watches, *watch;

	while ((watch = *link) != NULL) {
		if (watch->dead) {
			*link = watch->next;
			free(watch);
		} else {
			link = &watch->next;
		}
	}
}

void
loop_remove(struct loop *loop, int fd)
{
	struct watch *watch;

	for (watch = loop->watches; watch != NULL; watch = watch->next) {
		if (!watch->dead && watch->fd == fd) {
			epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
			watch->dead = true;
			break;
		}
	}
	if (!loop->dispatching)
		loop_sweep(loop);
}

int
loop_watch(struct loop *loop, int fd, uint32_t events)
{
	struct epoll_event event = { 0 };
	struct watch *watch;

	for (watch = loop->watches; watch != NULL; watch = watch->next) {
		if (!watch->dead && watch->fd == fd) {
			event.events = events;
			event.data.ptr = watch;
			return epoll_ctl(
			    loop->epoll_fd, EPOLL_CTL_MOD, fd, &event);
		}
	}
	errno = ENOENT;
	return -1;
}

int
loop_once(struct loop *loop, int timeout_ms)
{
	struct epoll_event events[LOOP_EVENTS];
	struct watch *watch;
	int n, i, calls = 0;

	do {
		n = epoll_wait(loop->epoll_fd, events, LOOP_EVENTS, timeout_ms);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	loop->dispatching = true;
	for (i = 0; i < n; i++) {
		watch = events[i].data.ptr;
		if (watch->dead)
			continue;
		watch->fn(loop, watch->fd, events[i].events, watch->data);
		calls++;
	}
	loop->dispatching = false;
	loop_sweep(loop);
	return calls;
}

void
loop_free(struct loop *loop)
{
	struct watch *watch, *next;

	if (loop == NULL)
		return;
	for (watch = loop->watches; watch != NULL; watch = next) {
		next = watch->next;
		free(watch);
	}
	close(loop->epoll_fd);
	free(loop);
}
