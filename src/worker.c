/*
 * The worker thread (worker.h): a queue of jobs under one mutex, a
 * condition variable the thread waits on, and a list of finished jobs
 * that the loop takes when the eventfd says there are some.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "worker.h"
#include "xalloc.h"

struct job {
	worker_run_fn run;
	worker_done_fn done;
	void *data;
	struct job *next;
};

struct job_list {
	struct job *head;
	struct job *tail;
};

struct worker {
	struct loop *loop;
	int event_fd;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_cond_t idle; /* the queue is empty and nothing runs */
	struct job_list queue; /* to run */
	struct job_list finished; /* run, for the loop */
	bool stop;
	bool running; /* the thread has a job out of the queue */
	bool delivering; /* the loop is in done callbacks (loop's only) */
};

static void
list_push(struct job_list *list, struct job *job)
{
	job->next = NULL;
	if (list->tail != NULL)
		list->tail->next = job;
	else
		list->head = job;
	list->tail = job;
}

static struct job *
list_pop(struct job_list *list)
{
	struct job *job = list->head;

	if (job != NULL && (list->head = job->next) == NULL)
		list->tail = NULL;
	return job;
}

static void
poke(struct worker *w)
{
	uint64_t one = 1;

	/* Fails only when the counter is full: then it is readable anyway. */
	(void)!write(w->event_fd, &one, sizeof(one));
}

static void *
thread_main(void *data)
{
	struct worker *w = data;
	struct job *job;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->stop && w->queue.head == NULL)
			pthread_cond_wait(&w->wake, &w->lock);
		if (w->stop)
			break;
		job = list_pop(&w->queue);
		w->running = true;
		pthread_mutex_unlock(&w->lock);
		job->run(job->data);
		pthread_mutex_lock(&w->lock);
		w->running = false;
		list_push(&w->finished, job);
		poke(w);
		if (w->queue.head == NULL)
			pthread_cond_broadcast(&w->idle);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* The loop's side: every finished job's done, in order. */
static void
deliver(struct worker *w)
{
	struct job_list finished;
	struct job *job;

	pthread_mutex_lock(&w->lock);
	finished = w->finished;
	w->finished.head = w->finished.tail = NULL;
	pthread_mutex_unlock(&w->lock);
	w->delivering = true;
	while ((job = list_pop(&finished)) != NULL) {
		if (job->done != NULL)
			job->done(job->data, true);
		free(job);
	}
	w->delivering = false;
}

static void
on_event(struct loop *loop, int fd, uint32_t events, void *data)
{
	struct worker *w = data;
	uint64_t count;

	(void)loop;
	(void)events;
	(void)!read(fd, &count, sizeof(count));
	deliver(w);
}

void
worker_sync(struct worker *w)
{
	bool stopped;

	if (w == NULL || w->delivering)
		return;
	pthread_mutex_lock(&w->lock);
	/* Stopped (worker_free()): the thread is gone, nothing will run. */
	while (!w->stop && (w->queue.head != NULL || w->running))
		pthread_cond_wait(&w->idle, &w->lock);
	stopped = w->stop;
	pthread_mutex_unlock(&w->lock);
	if (!stopped)
		deliver(w);
}

struct worker *
worker_new(struct loop *loop, char **error)
{
	struct worker *w = xcalloc(1, sizeof(*w));
	sigset_t all, old;
	int rc;

	*error = NULL;
	w->loop = loop;
	w->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->event_fd < 0 ||
	    loop_add(loop, w->event_fd, EPOLLIN, on_event, w) < 0) {
		*error = xasprintf(
		    "cannot start the worker thread: %s", strerror(errno));
		if (w->event_fd >= 0)
			close(w->event_fd);
		free(w);
		return NULL;
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	pthread_cond_init(&w->idle, NULL);
	/* The thread takes no signal: they stay the loop's (signalfd). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&w->thread, NULL, thread_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		*error = xasprintf(
		    "cannot start the worker thread: %s", strerror(rc));
		loop_remove(loop, w->event_fd);
		close(w->event_fd);
		pthread_cond_destroy(&w->wake);
		pthread_cond_destroy(&w->idle);
		pthread_mutex_destroy(&w->lock);
		free(w);
		return NULL;
	}
	return w;
}

void
worker_submit(
    struct worker *w, worker_run_fn run, worker_done_fn done, void *data)
{
	struct job *job = xcalloc(1, sizeof(*job));

	job->run = run;
	job->done = done;
	job->data = data;
	pthread_mutex_lock(&w->lock);
	if (run == NULL) {
		list_push(&w->finished, job);
		poke(w);
	} else {
		list_push(&w->queue, job);
		pthread_cond_signal(&w->wake);
	}
	pthread_mutex_unlock(&w->lock);
}

void
worker_free(struct worker *w)
{
	struct job *job;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	/* The thread is gone: the lists are the loop's alone now (w->stop
	 * keeps worker_sync() from waiting for it). */
	w->delivering = true;
	while ((job = list_pop(&w->finished)) != NULL) {
		if (job->done != NULL)
			job->done(job->data, false);
		free(job);
	}
	while ((job = list_pop(&w->queue)) != NULL) {
		if (job->done != NULL)
			job->done(job->data, false);
		else
			job->run(job->data);
		free(job);
	}
	loop_remove(w->loop, w->event_fd);
	close(w->event_fd);
	pthread_cond_destroy(&w->wake);
	pthread_cond_destroy(&w->idle);
	pthread_mutex_destroy(&w->lock);
	free(w);
}
