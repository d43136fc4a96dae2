/*
 * Console, log files and JSON log lines (console.h).  Line assembly
 * happens only in the prefixed and JSON formats; plain output is passed
 * through as it comes, so a step's bytes reach the console unchanged.
 * Console writes go through console-queue.c and never wait; log files are
 * created by jobrun in the logs directory it holds open.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "base64.h"
#include "clock.h"
#include "console-queue.h"
#include "diag.h"
#include "file.h"
#include "mask.h"
#include "console.h"
#include "list.h"
#include "loop.h"
#include "worker.h"
#include "xalloc.h"

/*
 * Bytes of steps' output handed to the worker thread and not yet back,
 * past which the console is behind: the pipes wait while the thread masks.
 */
#define MASKING_BEHIND (2 * 1024 * 1024)

/*
 * A step's bytes go to the worker in blocks of up to this many, read
 * straight into them (console_stream_buffer()): fewer hand-overs, fewer
 * wake-ups of either thread, and no copy.
 */
#define MASKING_BLOCK (256 * 1024)
#define READ_MAX (64 * 1024)

struct console {
	enum console_format format;
	int log_dir; /* descriptor of the logs directory; -1: no logs */
	struct console_queue out; /* standard output */
	struct console_queue err; /* standard error (unless shared) */
	bool shared; /* stdout and stderr are one pipe: one queue */
	struct loop *loop; /* watches the queues' descriptors; NULL: none */
	bool status_tty; /* standard error is a terminal: show a status */
	bool color; /* prefixes in colour (a terminal, no NO_COLOR) */
	char *status; /* the live status line, or NULL */
	bool status_shown; /* it is on the screen now */
	bool line_start; /* the console's last byte was a newline */
	bool shared_terminal; /* stdout and stderr are both a terminal */
	unsigned streams; /* streams opened, for picking colours */
	struct mask_set *mask; /* the job's secrets (borrowed); NULL: none */
	struct console_stream *open_streams; /* for rescans after new secrets */
	bool timestamps; /* text formats: each step line after its time */
	struct worker *worker; /* the masking thread; NULL: on the loop */
	size_t masking; /* bytes handed to the worker, not yet delivered */
	struct masking *spare; /* delivered, kept for the next hand-over */
	unsigned nspare;
	char *scratch; /* READ_MAX bytes: reads masked on the loop */
};

struct console_stream {
	struct console *output;
	char *step;
	char *prefix; /* "[step] " */
	char *log_name; /* in the logs directory; NULL: no log */
	int log_fd; /* -1 until the first byte (creating files is slow) */
	char *line; /* a partial line (prefixed and JSON formats) */
	size_t line_len;
	size_t line_cap;
	struct mask_stream *masker; /* NULL without a mask set */
	struct masking *collect; /* on the worker: takes what masker emits */
	size_t pending; /* work handed to the worker, not yet delivered */
	struct masking *filling; /* a feed being read into, not handed over */
	bool direct; /* the last buffer given out was the scratch buffer */
	bool closing; /* closed: the last delivery ends it */
	struct console_stream *next; /* in output->open_streams */
};

/*
 * One piece of work on a stream's masker, done on the worker thread in the
 * order the loop handed it over: what the masker emits meanwhile is kept
 * and delivered (log, console) on the loop, in the same order.
 */
enum masking_op {
	MASKING_FEED,
	MASKING_IDLE,
	MASKING_RESCAN,
};

struct masking {
	struct console_stream *stream;
	enum masking_op op;
	char *in; /* the step's bytes (wiped once masked) */
	size_t in_size;
	size_t in_cap;
	char *out; /* what the masker emitted */
	size_t out_used;
	size_t out_cap;
	struct masking *next; /* in console.spare */
};

/* Hand-overs kept for reuse: enough for MASKING_BEHIND in blocks. */
#define MASKING_SPARE (MASKING_BEHIND / MASKING_BLOCK + 2)

/* The queue that writes fd (STDOUT_FILENO or STDERR_FILENO). */
static struct console_queue *
queue_of(struct console *output, int fd)
{
	return fd == STDOUT_FILENO || output->shared ? &output->out
						     : &output->err;
}

static void on_writable(struct loop *loop, int fd, uint32_t events, void *data);
static void catch_up(struct console *output);
static void finish_close(struct console_stream *s);
static void masked(void *context, const char *data, size_t size);

/* Queued bytes wait for the descriptor to become writable. */
static void
watch_queue(struct console *output, struct console_queue *q)
{
	if (output->loop != NULL && q->watchable)
		loop_watch(output->loop, q->fd,
		    console_queue_pending(q) > 0 ? EPOLLOUT : 0);
}

static void
writev_all(struct console *output, int fd, struct iovec *iov, int count)
{
	struct console_queue *q = queue_of(output, fd);

	console_queue_writev(q, iov, count);
	watch_queue(output, q);
}

static void
on_writable(struct loop *loop, int fd, uint32_t events, void *data)
{
	struct console *output = data;
	struct console_queue *q =
	    output->out.fd == fd ? &output->out : &output->err;

	(void)loop;
	(void)events;
	console_queue_flush(q);
	watch_queue(output, q);
}

/* Whether the two descriptors are the same pipe, socket or terminal. */
static bool
same_file(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 &&
	    sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino &&
	    (S_ISFIFO(sa.st_mode) || S_ISSOCK(sa.st_mode) ||
		S_ISCHR(sa.st_mode));
}

struct console *
console_new(enum console_format format, int log_dir, struct mask_set *mask)
{
	struct console *output = xcalloc(1, sizeof(*output));
	const char *term = getenv("TERM"), *no_color = getenv("NO_COLOR");
	bool smart = term != NULL && strcmp(term, "dumb") != 0;

	output->format = format;
	output->mask = mask;
	output->log_dir = log_dir;
	output->shared = same_file(STDOUT_FILENO, STDERR_FILENO);
	console_queue_open(&output->out, STDOUT_FILENO);
	if (!output->shared)
		console_queue_open(&output->err, STDERR_FILENO);
	output->line_start = true;
	output->shared_terminal =
	    isatty(STDOUT_FILENO) && isatty(STDERR_FILENO);
	output->status_tty =
	    format != CONSOLE_JSON && smart && isatty(STDERR_FILENO);
	output->color = format == CONSOLE_PREFIXED && smart &&
	    isatty(STDOUT_FILENO) && (no_color == NULL || no_color[0] == '\0');
	return output;
}

static char erase_line[] = "\r\033[K";

/* Takes the status line off the screen before anything else is written. */
static void
hide_status(struct console *output)
{
	struct iovec iov = { erase_line, sizeof(erase_line) - 1 };

	if (!output->status_shown)
		return;
	writev_all(output, STDERR_FILENO, &iov, 1);
	output->status_shown = false;
}

/* Puts the status line back, only between whole lines. */
static void
show_status(struct console *output)
{
	struct iovec iov;

	if (!output->status_tty || output->status == NULL ||
	    output->status_shown || !output->line_start)
		return;
	iov.iov_base = output->status;
	iov.iov_len = strlen(output->status);
	writev_all(output, STDERR_FILENO, &iov, 1);
	output->status_shown = true;
}

/* Every console write goes through here, around the status line. */
static void
console_write(struct console *output, int fd, struct iovec *iov, int count)
{
	int last = count - 1;

	while (last >= 0 && iov[last].iov_len == 0)
		last--;
	hide_status(output);
	writev_all(output, fd, iov, count);
	if (last >= 0)
		output->line_start =
		    ((const char *)iov[last].iov_base)[iov[last].iov_len - 1] ==
		    '\n';
	show_status(output);
}

void
console_set_status(struct console *output, const char *status)
{
	if (!output->status_tty)
		return;
	hide_status(output);
	free(output->status);
	output->status = status != NULL ? xstrdup(status) : NULL;
	show_status(output);
}

void
console_free(struct console *output)
{
	if (output == NULL)
		return;
	catch_up(output);
	worker_free(output->worker);
	while (output->spare != NULL) {
		struct masking *m = output->spare;

		output->spare = m->next;
		free(m->in);
		free(m->out);
		free(m);
	}
	free(output->scratch);
	hide_status(output);
	if (output->loop != NULL) {
		if (output->out.watchable)
			loop_remove(output->loop, output->out.fd);
		if (!output->shared && output->err.watchable)
			loop_remove(output->loop, output->err.fd);
	}
	if (output->out.dropped + output->err.dropped > 0)
		diag_warn("%llu bytes of output were not shown: the console "
			  "did not take them (the logs have every byte)",
		    (unsigned long long)(output->out.dropped +
			output->err.dropped));
	console_queue_close(&output->out);
	if (!output->shared)
		console_queue_close(&output->err);
	free(output->status);
	free(output);
}

static char newline[] = "\n";

/* Writes line and a newline to standard output, then wipes and frees it
 * (it may have held a secret before masking). */
static void
put_json_line(struct console *output, char *line)
{
	struct iovec iov[2] = { { line, strlen(line) }, { newline, 1 } };

	writev_all(output, STDOUT_FILENO, iov, 2);
	wipe(line, strlen(line));
	free(line);
}

/*
 * Writes one JSON log line.  Text that is not UTF-8 goes as "data_base64"
 * so no byte is lost or altered.
 */
static void
emit_json(struct console *output, const char *step, const char *stream,
    const char *text, size_t size)
{
	char when[CLOCK_UTC_TEXT_SIZE], *encoded, *line;
	json_t *object, *value;

	clock_utc_text(when, NULL);
	object = json_pack("{s:s, s:s}", "time", when, "stream", stream);
	if (object == NULL)
		return;
	json_object_set_new(
	    object, "step", step != NULL ? json_string(step) : json_null());
	if ((value = json_stringn(text, size)) != NULL) {
		json_object_set_new(object, "text", value);
	} else {
		encoded = base64_encode(text, size);
		json_object_set_new(
		    object, "data_base64", json_string(encoded));
		free(encoded);
	}
	line = json_dumps(object, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(object);
	if (line == NULL)
		return;
	put_json_line(output, line);
}

/* Masks every string inside value, in place. */
static void
mask_strings(struct mask_set *mask, json_t *value)
{
	const char *key;
	json_t *member;
	size_t i, length;
	char *text;

	if (json_is_object(value)) {
		json_object_foreach(value, key, member)
		    mask_strings(mask, member);
	} else if (json_is_array(value)) {
		json_array_foreach(value, i, member) mask_strings(mask, member);
	} else if (json_is_string(value)) {
		text = mask_string(mask, json_string_value(value),
		    json_string_length(value), &length);
		json_string_setn(value, text, length);
		wipe(text, length);
		free(text);
	}
}

char *
console_event_line(struct mask_set *mask, const char *name, json_t *fields)
{
	char when[CLOCK_UTC_TEXT_SIZE], *line;
	json_t *object = json_pack("{s:s}", "event", name);

	clock_utc_text(when, NULL);
	if (object == NULL) {
		json_decref(fields);
		return NULL;
	}
	if (fields != NULL)
		json_object_update(object, fields);
	json_decref(fields);
	json_object_set_new(object, "time", json_string(when));
	if (mask != NULL)
		mask_strings(mask, object);
	line = json_dumps(object, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(object);
	return line;
}

void
console_event(struct console *output, const char *name, json_t *fields)
{
	char *line;

	if (output->format != CONSOLE_JSON) {
		json_decref(fields);
		return;
	}
	catch_up(output);
	if ((line = console_event_line(output->mask, name, fields)) == NULL)
		return;
	put_json_line(output, line);
}

void
console_set_timestamps(struct console *output, bool on)
{
	output->timestamps = on && output->format != CONSOLE_JSON;
}

/* Emits one console line of a step (without its newline). */
static void
emit_line(struct console_stream *s, const char *text, size_t size)
{
	struct iovec iov[4];
	char when[CLOCK_UTC_TEXT_SIZE + 1] = "";

	if (s->output->format == CONSOLE_JSON) {
		emit_json(s->output, s->step, "output", text, size);
		return;
	}
	if (s->output->timestamps) {
		clock_utc_text(when, NULL);
		strcat(when, " ");
	}
	iov[0].iov_base = when;
	iov[0].iov_len = strlen(when);
	/* Plain output (with timestamps) has no prefix. */
	iov[1].iov_base = s->prefix;
	iov[1].iov_len =
	    s->output->format == CONSOLE_PREFIXED ? strlen(s->prefix) : 0;
	iov[2].iov_base = (void *)(uintptr_t)text;
	iov[2].iov_len = size;
	iov[3].iov_base = newline;
	iov[3].iov_len = 1;
	console_write(s->output, STDOUT_FILENO, iov, 4);
}

struct console_stream *
console_stream_open(struct console *output, const char *step)
{
	struct console_stream *s;
	size_t length;

	s = xcalloc(1, sizeof(*s));
	s->output = output;
	/* A step's name is shown masked like everything else. */
	s->step = output->mask != NULL
	    ? mask_string(output->mask, step, strlen(step), &length)
	    : xstrdup(step);
	if (output->color)
		s->prefix = xasprintf("\033[%dm[%s]\033[0m ",
		    31 + (int)(output->streams % 6), s->step);
	else
		s->prefix = xasprintf("[%s] ", s->step);
	output->streams++;
	s->log_fd = -1;
	if (output->log_dir >= 0)
		s->log_name = xasprintf("%s.log", step);
	if (output->mask != NULL)
		s->masker = mask_stream_new(output->mask, masked, s);
	s->next = output->open_streams;
	output->open_streams = s;
	return s;
}

static void write_log(struct console_stream *s, const char *data, size_t size);
static void deliver(struct console_stream *s, const char *data, size_t size);

/* The masker's emit: delivers, or on the worker keeps for the loop. */
static void
masked(void *context, const char *data, size_t size)
{
	struct console_stream *s = context;
	struct masking *m = s->collect;

	if (m == NULL) {
		deliver(s, data, size);
		return;
	}
	xgrow(&m->out, &m->out_cap, m->out_used + size, 1);
	memcpy(m->out + m->out_used, data, size);
	m->out_used += size;
}
static void assemble_lines(
    struct console_stream *s, const char *data, size_t size);

/* Where masked bytes go: the log and the console (on the loop). */
static void
deliver(struct console_stream *s, const char *data, size_t size)
{
	write_log(s, data, size);
	if (s->output->format == CONSOLE_PLAIN && !s->output->timestamps) {
		struct iovec iov = { (void *)(uintptr_t)data, size };

		console_write(s->output, STDOUT_FILENO, &iov, 1);
	} else {
		assemble_lines(s, data, size);
	}
}

/* Appends to the step's log, creating it with the first byte. */
static void
write_log(struct console_stream *s, const char *data, size_t size)
{
	char *error = NULL;

	if (s->log_name == NULL)
		return;
	/* Created afresh: whatever a step put in its place (a FIFO, a
	 * symlink) is removed, never opened. */
	if (s->log_fd < 0 &&
	    (s->log_fd = file_create(
		 s->output->log_dir, s->log_name, 0644, &error)) < 0)
		goto fail;
	if (file_write_all(s->log_fd, data, size) == 0)
		return;
	error =
	    xasprintf("cannot write '%s': %s", s->log_name, strerror(errno));
fail:
	/* A full disk must not stop the job; say so once and go on. */
	diag_warn("step '%s': %s; the log stops here", s->step, error);
	free(error);
	if (s->log_fd >= 0)
		close(s->log_fd);
	s->log_fd = -1;
	free(s->log_name);
	s->log_name = NULL;
}

/* Grows the line buffer without leaving copies of its bytes behind. */
static void
grow_wiped(struct console_stream *s, size_t need)
{
	size_t cap = s->line_cap ? s->line_cap : 256;
	char *bigger;

	if (need <= s->line_cap)
		return;
	while (cap < need)
		cap *= 2;
	bigger = xmalloc(cap);
	if (s->line_len > 0)
		memcpy(bigger, s->line, s->line_len);
	if (s->line != NULL)
		wipe(s->line, s->line_cap);
	free(s->line);
	s->line = bigger;
	s->line_cap = cap;
}

/* Adds bytes to the partial line, emitting it when it reaches the limit. */
static void
buffer_line(struct console_stream *s, const char *data, size_t size)
{
	size_t room;

	while (size > 0) {
		room = CONSOLE_LINE_MAX - s->line_len;
		if (room > size)
			room = size;
		grow_wiped(s, s->line_len + room);
		memcpy(s->line + s->line_len, data, room);
		s->line_len += room;
		data += room;
		size -= room;
		if (s->line_len == CONSOLE_LINE_MAX) {
			emit_line(s, s->line, s->line_len);
			s->line_len = 0;
		}
	}
}

/* Cuts data into lines for the prefixed and JSON formats. */
static void
assemble_lines(struct console_stream *s, const char *data, size_t size)
{
	const char *newline_at;
	size_t length;

	while (size > 0) {
		newline_at = memchr(data, '\n', size);
		if (newline_at == NULL) {
			buffer_line(s, data, size);
			return;
		}
		length = (size_t)(newline_at - data);
		if (s->line_len == 0 && length <= CONSOLE_LINE_MAX) {
			emit_line(s, data, length);
		} else {
			buffer_line(s, data, length);
			if (s->line_len > 0)
				emit_line(s, s->line, s->line_len);
			s->line_len = 0;
		}
		data += length + 1;
		size -= length + 1;
	}
}

/* On the worker thread (or on the loop once the thread is gone). */
static void
masking_run(void *job)
{
	struct masking *m = job;
	struct console_stream *s = m->stream;

	s->collect = m;
	switch (m->op) {
	case MASKING_FEED:
		mask_stream_feed(s->masker, m->in, m->in_size);
		break;
	case MASKING_IDLE:
		mask_stream_flush_quiet(s->masker);
		break;
	case MASKING_RESCAN:
		mask_stream_rescan(s->masker);
		break;
	}
	s->collect = NULL;
	if (m->in_size > 0)
		wipe(m->in, m->in_size);
}

/* On the loop, in the order of the work. */
static void
masking_done(void *job, bool ran)
{
	struct masking *m = job;
	struct console_stream *s = m->stream;

	if (!ran)
		masking_run(m);
	s->output->masking -= m->in_size;
	s->pending--;
	if (m->out_used > 0)
		deliver(s, m->out, m->out_used);
	/* Reused: a fresh 64 KiB block a read would cost page faults. */
	if (s->output->nspare < MASKING_SPARE) {
		m->next = s->output->spare;
		s->output->spare = m;
		s->output->nspare++;
	} else {
		free(m->in);
		free(m->out);
		free(m);
	}
	if (s->closing && s->pending == 0)
		finish_close(s);
}

/* A hand-over of op on s, with room for size bytes of input. */
static struct masking *
take(struct console_stream *s, enum masking_op op, size_t size)
{
	struct console *output = s->output;
	struct masking *m = output->spare;

	if (m != NULL) {
		output->spare = m->next;
		output->nspare--;
	} else {
		m = xcalloc(1, sizeof(*m));
	}
	m->stream = s;
	m->op = op;
	m->in_size = 0;
	m->out_used = 0;
	/* What in held was wiped once masked: growing it copies no secret. */
	if (size > 0)
		xgrow(&m->in, &m->in_cap, size, 1);
	return m;
}

static void
submit(struct console_stream *s, struct masking *m)
{
	s->output->masking += m->in_size;
	s->pending++;
	worker_submit(s->output->worker, masking_run, masking_done, m);
}

/* Hands the block being read into over, if it holds anything. */
static void
push_filling(struct console_stream *s)
{
	struct masking *m = s->filling;

	if (m == NULL)
		return;
	s->filling = NULL;
	if (m->in_size > 0) {
		submit(s, m);
		return;
	}
	m->next = s->output->spare;
	s->output->spare = m;
	s->output->nspare++;
}

/* Hands work on s's masker to the worker; data (copied) for a feed. */
static void
hand_over(
    struct console_stream *s, enum masking_op op, const char *data, size_t size)
{
	struct masking *m;

	push_filling(s);
	m = take(s, op, size);
	if (size > 0) {
		memcpy(m->in, data, size);
		m->in_size = size;
	}
	submit(s, m);
}

/*
 * Delivers everything handed to the worker so far, waiting for it, so
 * that what follows comes after every byte the steps wrote before.  Not
 * from inside the masker (an emit callback holds the set's lock, which
 * the worker may be waiting for).
 */
static void
catch_up(struct console *output)
{
	struct console_stream *s;

	if (output == NULL || output->worker == NULL || mask_in_call())
		return;
	for (s = output->open_streams; s != NULL; s = s->next)
		push_filling(s);
	worker_sync(output->worker);
}

void
console_stream_write(struct console_stream *s, const char *data, size_t size)
{
	/* With nothing to mask yet, the masker passes the bytes on at once:
	 * on the loop, unless earlier work of the stream is still out. */
	if (s->masker == NULL)
		deliver(s, data, size);
	else if (s->output->worker != NULL &&
	    (s->pending > 0 || !mask_set_empty(s->output->mask)))
		hand_over(s, MASKING_FEED, data, size);
	else
		mask_stream_feed(s->masker, data, size);
}

/* Whether s's bytes are masked on the loop for now: no worker, or
 * nothing to mask yet and none of s's work out. */
static bool
on_loop(const struct console_stream *s)
{
	return s->output->worker == NULL ||
	    (s->filling == NULL && s->pending == 0 &&
		mask_set_empty(s->output->mask));
}

char *
console_stream_buffer(struct console_stream *s, size_t *size)
{
	struct console *output = s->output;
	struct masking *m;

	s->direct = s->masker == NULL || on_loop(s);
	if (s->direct) {
		if (output->scratch == NULL)
			output->scratch = xmalloc(READ_MAX);
		*size = READ_MAX;
		return output->scratch;
	}
	if ((m = s->filling) == NULL)
		m = s->filling = take(s, MASKING_FEED, MASKING_BLOCK);
	*size = m->in_cap - m->in_size;
	if (*size > READ_MAX)
		*size = READ_MAX;
	return m->in + m->in_size;
}

void
console_stream_commit(struct console_stream *s, size_t size)
{
	struct masking *m = s->filling;

	if (s->direct) {
		if (size > 0) {
			console_stream_write(s, s->output->scratch, size);
			wipe(s->output->scratch, size);
		}
		return;
	}
	m->in_size += size;
	/* A short read (the pipe is empty) or a full block: over it goes. */
	if (size < READ_MAX || m->in_cap - m->in_size < READ_MAX)
		push_filling(s);
}

void
console_stream_idle(struct console_stream *s)
{
	if (s->masker == NULL)
		return;
	if (s->output->worker != NULL)
		hand_over(s, MASKING_IDLE, NULL, 0);
	else
		mask_stream_flush_quiet(s->masker);
}

/*
 * With the worker, a rescan is queued behind the bytes already handed
 * over: those are masked with the new secrets anyway (a stream takes up
 * its set's changes at every call), and nothing the stream holds leaves
 * it before the rescan or a later call has examined it.
 */
void
console_rescan(struct console *output)
{
	struct console_stream *s;

	for (s = output->open_streams; s != NULL; s = s->next) {
		if (s->masker == NULL)
			continue;
		if (output->worker != NULL)
			hand_over(s, MASKING_RESCAN, NULL, 0);
		else
			mask_stream_rescan(s->masker);
	}
}

void
console_stream_close(struct console_stream *s)
{
	struct console_stream **link;

	if (s == NULL)
		return;
	push_filling(s);
	/* Unlinked first: no rescan is handed over for it from here on. */
	for (link = &s->output->open_streams; *link != NULL;
	     link = &(*link)->next) {
		if (*link == s) {
			*link = s->next;
			break;
		}
	}
	catch_up(s->output);
	/* Called where jobrun cannot wait for the worker (inside the
	 * masker): the last delivery of its work ends the stream. */
	if (s->pending > 0) {
		s->closing = true;
		return;
	}
	finish_close(s);
}

/* Flushes the masker and the partial line, closes the log, frees. */
static void
finish_close(struct console_stream *s)
{
	if (s->masker != NULL) {
		mask_stream_flush(s->masker);
		mask_stream_free(s->masker);
	}
	if (s->line_len > 0)
		emit_line(s, s->line, s->line_len);
	if (s->log_fd >= 0)
		close(s->log_fd);
	if (s->line != NULL)
		wipe(s->line, s->line_cap);
	free(s->line);
	free(s->log_name);
	free(s->prefix);
	free(s->step);
	free(s);
}

void
console_message(struct console *output, const char *text)
{
	struct iovec iov[3];
	static char label[] = "jobrun: ";
	size_t length = strlen(text);
	char *masked = NULL;
	const char *line = text;

	/* After what the steps wrote before it. */
	catch_up(output);
	if (output != NULL && output->mask != NULL) {
		masked = mask_string(output->mask, text, length, &length);
		line = masked;
	}

	if (output != NULL && output->format == CONSOLE_JSON) {
		emit_json(output, NULL, "jobrun", line, length);
		free(masked);
		return;
	}
	/* On a terminal, never inside a step's unfinished line; elsewhere
	 * the two streams are apart and stdout's bytes stay exact. */
	if (output != NULL && output->shared_terminal && !output->line_start) {
		iov[0].iov_base = newline;
		iov[0].iov_len = 1;
		console_write(output, STDERR_FILENO, iov, 1);
	}
	iov[0].iov_base = label;
	iov[0].iov_len = sizeof(label) - 1;
	iov[1].iov_base = (void *)(uintptr_t)line;
	iov[1].iov_len = length;
	iov[2].iov_base = newline;
	iov[2].iov_len = 1;
	if (output != NULL)
		console_write(output, STDERR_FILENO, iov, 3);
	else
		diag_write(iov, 3);
	free(masked);
}

void
console_attach(struct console *output, struct loop *loop)
{
	char *error = NULL;

	output->loop = loop;
	if (output->mask != NULL &&
	    (output->worker = worker_new(loop, &error)) == NULL) {
		diag_warn(
		    "%s: steps' output is masked on the event loop", error);
		free(error);
	}
	if (output->out.watchable &&
	    loop_add(loop, output->out.fd, 0, on_writable, output) < 0)
		output->out.watchable = false;
	if (!output->shared && output->err.watchable &&
	    loop_add(loop, output->err.fd, 0, on_writable, output) < 0)
		output->err.watchable = false;
}

bool
console_behind(const struct console *output)
{
	return output->masking > MASKING_BEHIND ||
	    console_queue_behind(&output->out) ||
	    (!output->shared && console_queue_behind(&output->err));
}

void
console_drain(struct console *output, uint64_t deadline)
{
	catch_up(output);
	console_queue_drain(&output->out, deadline);
	if (!output->shared)
		console_queue_drain(&output->err, deadline);
}
