/*
 * The single output path.  Every byte a step writes reaches the console, its
 * log file and the JSON log through console_stream_buffer() and
 * console_stream_commit(), and every line
 * jobrun says about itself through console_message(): the one place where
 * the secret masker sits, so nothing reaches them unmasked.
 *
 * Console modes: plain (bytes pass straight through: one step at a time),
 * prefixed (each line carries "[step] ", lines of different steps never mix
 * inside a line), and JSON (one object per line, for workers that ship
 * logs).  Log files always get the step's exact bytes.  On a terminal the
 * prefixes are coloured (unless NO_COLOR is set) and a status line shows
 * what runs.
 *
 * Console writes never block (console-queue.h): what the console does not
 * take at once is queued and written when it can take it.  The engine
 * stops reading steps' pipes while console_behind() says so.
 */
#ifndef JOBRUN_CONSOLE_H
#define JOBRUN_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "mask.h"

enum console_format {
	CONSOLE_PLAIN,
	CONSOLE_PREFIXED,
	CONSOLE_JSON,
};

/*
 * Longest line the prefixed and JSON formats keep whole; a longer one is cut
 * into pieces of this size, each on its own console line, so one step can
 * neither hold the console nor grow jobrun's memory without bound.  Plain
 * output and log files are never cut.
 */
#define CONSOLE_LINE_MAX (8 * 1024 * 1024)

struct console;
struct console_stream;

struct loop;

/*
 * Returns a new output writing to standard output (and, for jobrun's own
 * messages in plain and prefixed formats, standard error).  log_dir is the
 * descriptor of the logs directory (borrowed; -1: no logs).  mask
 * (borrowed, may be NULL: nothing to mask) is the job's set of secrets:
 * every stream gets a masker over it, and jobrun's own messages are masked
 * too.
 */
struct console *console_new(
    enum console_format format, int log_dir, struct mask_set *mask);

/*
 * In the text formats, starts each console line of a step with its UTC
 * time, as "2026-11-22T06:10:23.123Z ": plain output is then assembled
 * into lines like prefixed output (a last line without a newline gets
 * one).  Logs are unchanged; the JSON format has its own times.  Call it
 * before the first stream opens.
 */
void console_set_timestamps(struct console *output, bool on);

/*
 * Lets loop (borrowed) write queued console bytes out as the console
 * takes them.  Without it, queued bytes wait for console_drain().
 *
 * With a mask set, it also starts the streams' masking thread
 * (mask-relay.h), so the loop goes on reading pipes and writing while it
 * masks: the masked bytes reach the logs and the console on the loop, in
 * the order the steps wrote them, and jobrun's own messages and events
 * wait for what the steps wrote before them.  Where no thread can be
 * started, streams mask on the loop.  Call it before the first stream
 * opens.
 */
void console_attach(struct console *output, struct loop *loop);

/* Whether the console is behind (its queues, or output the masking
 * thread has yet to mask): the caller should stop feeding it. */
bool console_behind(const struct console *output);

/*
 * Writes out what is queued, waiting until deadline (clock.h) at most,
 * and less when the console takes nothing for a second; the rest is
 * dropped (and counted in a warning by console_free()).
 */
void console_drain(struct console *output, uint64_t deadline);

/*
 * Opens the output stream of step.  Its log, step.log in the logs
 * directory, is created with the step's first byte (a step that prints
 * nothing leaves no log), replacing whatever was there without following
 * or opening it; a log that cannot be written is reported once and the
 * step goes on.
 */
struct console_stream *console_stream_open(
    struct console *output, const char *step);

/*
 * Marks the stream as an untrusted step's: on a terminal, its lines show
 * control characters other than colours and tabs as ^X (its log keeps
 * every byte).
 */
void console_stream_untrusted(struct console_stream *s);

/*
 * Marks the stream as a trusted step's: secrets only untrusted steps
 * registered are not masked in it (an untrusted step must not be able to
 * censor a trusted step's output by registering its words).
 */
void console_stream_trusted(struct console_stream *s);

/*
 * Reading a step's output without a copy: a buffer of *size bytes (at
 * most 64 KiB) to read into, then console_stream_commit() with the number
 * of bytes read, which passes them on; 0 when the read gave
 * nothing (end of file, or nothing to read now), which lets what was read
 * before go on.  No other call on the stream in between.
 */
char *console_stream_buffer(struct console_stream *stream, size_t *size);
void console_stream_commit(struct console_stream *stream, size_t size);

/* At the end of a batch of reads: what was read goes on now, not only
 * once more is read. */
void console_stream_push(struct console_stream *stream);

/*
 * Called when the stream has been silent for a while: lets the masker emit
 * what it held back, as far as that cannot reveal part of a secret.
 */
void console_stream_idle(struct console_stream *stream);

/*
 * After secrets were added to the mask set: every open stream rescans what
 * it holds back, so nothing held escapes the new secrets.
 */
void console_rescan(struct console *output);

/* Flushes a partial last line, closes the log and frees the stream. */
void console_stream_close(struct console_stream *stream);

/*
 * Sets the live status line shown at the bottom of a terminal (standard
 * error, never in JSON mode); NULL removes it.  It is taken down before
 * every console write and put back between whole lines, so it never mixes
 * with output.  Off a terminal this does nothing.
 */
void console_set_status(struct console *output, const char *status);

/* Writes one line of jobrun's own (without "jobrun: " and newline). */
void console_message(struct console *output, const char *line);

/*
 * The line of event name, without its newline: {"event": name, the
 * members of fields..., "time": now}, every string in it masked by mask
 * (may be NULL).  Takes fields' reference (NULL: no members).  Returns a
 * string to free, or NULL when it cannot be made.
 */
char *console_event_line(
    struct mask_set *mask, const char *name, json_t *fields);

/*
 * The JSON log line of one of jobrun's own messages (already masked),
 * without its newline, for when no console is open (before the steps, in
 * the supervisor); a string to free, or NULL.
 */
char *console_message_line(const char *text);

/*
 * Writes event name (console_event_line()) as a line of the JSON format,
 * in order with the steps' output; in the other formats it writes
 * nothing.  Takes fields' reference either way.
 */
void console_event(struct console *output, const char *name, json_t *fields);

/* Frees the output; every stream must be closed first. */
void console_free(struct console *output);

#endif
