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
#include "mask-relay.h"
#include "mask.h"
#include "console.h"
#include "list.h"
#include "loop.h"
#include "xalloc.h"

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
	bool terminal; /* stdout is a terminal, in a text format */
	unsigned streams; /* streams opened, for picking colours */
	struct mask_set *mask; /* the job's secrets (borrowed); NULL: none */
	bool timestamps; /* text formats: each step line after its time */
	struct mask_relay *relay; /* masks the streams; NULL: no mask set */
	char *scratch; /* a read's buffer when nothing is masked */
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
	struct mask_relay_stream *masker; /* NULL without a mask set */
	bool untrusted; /* an untrusted step's: tamed on a terminal */
};

/* The queue that writes fd (STDOUT_FILENO or STDERR_FILENO). */
static struct console_queue *
queue_of(struct console *output, int fd)
{
	return fd == STDOUT_FILENO || output->shared ? &output->out
						     : &output->err;
}

static void on_writable(struct loop *loop, int fd, uint32_t events, void *data);
static void catch_up(struct console *output);

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
	if (mask != NULL)
		output->relay = mask_relay_new(mask);
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
	output->terminal = format != CONSOLE_JSON && isatty(STDOUT_FILENO);
	return output;
}

/* The length of a colour sequence (ESC [ digits and ; m) at p, or 0. */
static size_t
sgr_length(const char *p, size_t size)
{
	size_t i = 2;

	if (size < 3 || p[0] != '\033' || p[1] != '[')
		return 0;
	while (i < size && ((p[i] >= '0' && p[i] <= '9') || p[i] == ';'))
		i++;
	return i < size && p[i] == 'm' ? i + 1 : 0;
}

/*
 * An untrusted step's line as a terminal should show it: colours kept,
 * every other control character (ESC, CR, BS, ...; C1 controls in UTF-8)
 * shown as ^X, so that the step can neither rub out its prefix and pass
 * its lines off as jobrun's or another step's, nor set the terminal's
 * title, clipboard (OSC 52) or modes.  Returns a new string of *size
 * bytes.
 */
static char *
terminal_safe(const char *text, size_t *size)
{
	char *out = xmalloc(2 * *size + 1);
	size_t i = 0, o = 0, n;
	unsigned char c;

	while (i < *size) {
		c = (unsigned char)text[i];
		if ((n = sgr_length(text + i, *size - i)) > 0) {
			memcpy(out + o, text + i, n);
			o += n;
			i += n;
		} else if (c == 0xc2 && i + 1 < *size &&
		    (unsigned char)text[i + 1] >= 0x80 &&
		    (unsigned char)text[i + 1] <= 0x9f) {
			out[o++] = '^';
			out[o++] = (char)((unsigned char)text[i + 1] - 0x40);
			i += 2;
		} else if ((c < 0x20 && c != '\t') || c == 0x7f) {
			out[o++] = '^';
			out[o++] = c == 0x7f ? '?' : (char)(c + 0x40);
			i++;
		} else {
			out[o++] = (char)c;
			i++;
		}
	}
	*size = o;
	return out;
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
	mask_relay_free(output->relay);
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
 * One JSON log line, without its newline, or NULL.  Text that is not
 * UTF-8 goes as "data_base64" so no byte is lost or altered.
 */
static char *
json_line(const char *step, const char *stream, const char *text, size_t size)
{
	char when[CLOCK_UTC_TEXT_SIZE], *encoded, *line;
	json_t *object, *value;

	clock_utc_text(when, NULL);
	object = json_pack("{s:s, s:s}", "time", when, "stream", stream);
	if (object == NULL)
		return NULL;
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
	return line;
}

char *
console_message_line(const char *text)
{
	return json_line(NULL, "jobrun", text, strlen(text));
}

/* Writes one JSON log line. */
static void
emit_json(struct console *output, const char *step, const char *stream,
    const char *text, size_t size)
{
	char *line = json_line(step, stream, text, size);

	if (line != NULL)
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

/*
 * Masks an event's fields, but not its fixed words: the members whose
 * values jobrun chooses from a list (a phase, an outcome), which a
 * secret equal to one of those words must not turn into "***".
 */
static void
mask_fields(struct mask_set *mask, json_t *fields)
{
	static const char *const fixed[] = { "phase", "outcome" };
	const char *key;
	json_t *member;
	size_t i;
	bool keep;

	json_object_foreach(fields, key, member)
	{
		keep = false;
		for (i = 0; i < sizeof(fixed) / sizeof(*fixed); i++)
			keep = keep || strcmp(key, fixed[i]) == 0;
		if (!keep)
			mask_strings(mask, member);
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
	if (fields != NULL && mask != NULL)
		mask_fields(mask, fields);
	if (fields != NULL)
		json_object_update(object, fields);
	json_decref(fields);
	json_object_set_new(object, "time", json_string(when));
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
	char when[CLOCK_UTC_TEXT_SIZE + 1] = "", *tamed = NULL;

	if (s->output->format == CONSOLE_JSON) {
		emit_json(s->output, s->step, "output", text, size);
		return;
	}
	if (s->untrusted && s->output->terminal)
		text = tamed = terminal_safe(text, &size);
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
	free(tamed);
}

void
console_stream_untrusted(struct console_stream *s)
{
	s->untrusted = true;
}

void
console_stream_trusted(struct console_stream *s)
{
	if (s->masker != NULL)
		mask_relay_trusted_only(s->masker);
}

static void deliver(void *context, const char *data, size_t size);
static void stream_closed(void *context);

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
	if (output->relay != NULL)
		s->masker = mask_relay_open(output->relay, deliver, s);
	return s;
}

static void write_log(struct console_stream *s, const char *data, size_t size);
static void assemble_lines(
    struct console_stream *s, const char *data, size_t size);

/* Where masked bytes go: the log and the console. */
static void
deliver(void *context, const char *data, size_t size)
{
	struct console_stream *s = context;

	write_log(s, data, size);
	/* An untrusted step's lines are tamed whole on a terminal. */
	if (s->output->format == CONSOLE_PLAIN && !s->output->timestamps &&
	    !(s->untrusted && s->output->terminal)) {
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

char *
console_stream_buffer(struct console_stream *s, size_t *size)
{
	if (s->masker != NULL)
		return mask_relay_buffer(s->masker, size);
	if (s->output->scratch == NULL)
		s->output->scratch = xmalloc(MASK_RELAY_READ_MAX);
	*size = MASK_RELAY_READ_MAX;
	return s->output->scratch;
}

void
console_stream_commit(struct console_stream *s, size_t size)
{
	if (s->masker != NULL) {
		mask_relay_commit(s->masker, size);
	} else if (size > 0) {
		deliver(s, s->output->scratch, size);
		wipe(s->output->scratch, size);
	}
}

void
console_stream_push(struct console_stream *s)
{
	if (s->masker != NULL)
		mask_relay_push(s->masker);
}

void
console_stream_idle(struct console_stream *s)
{
	if (s->masker != NULL)
		mask_relay_idle(s->masker);
}

void
console_rescan(struct console *output)
{
	if (output->relay != NULL)
		mask_relay_rescan(output->relay);
}

/* What the relay delivers before it is done with the stream: messages and
 * events wait for every byte the steps wrote before them. */
static void
catch_up(struct console *output)
{
	if (output != NULL)
		mask_relay_sync(output->relay);
}

void
console_stream_close(struct console_stream *s)
{
	if (s == NULL)
		return;
	if (s->masker != NULL)
		mask_relay_close(s->masker, stream_closed);
	else
		stream_closed(s);
}

/* Every byte of the stream delivered: the partial line, the log, free. */
static void
stream_closed(void *context)
{
	struct console_stream *s = context;

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
	/* Standard error's lines are cut at 4 KiB, after masking. */
	if (masked == NULL)
		line = masked = xstrdup(text);
	length = diag_cut(masked, length);
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
	if (output->relay != NULL &&
	    mask_relay_start(output->relay, loop, &error) < 0) {
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
	return (output->relay != NULL && mask_relay_behind(output->relay)) ||
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
