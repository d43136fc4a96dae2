/*
 * The single output path.  Every byte a step writes reaches the console, its
 * log file and the JSON log through output_stream_write(), and every line
 * jobrun says about itself through output_message(): the one place where
 * the secret masker will sit (DESIGN.md, "Secret masking").
 *
 * Console modes: plain (bytes pass straight through: one step at a time),
 * prefixed (each line carries "[step] ", lines of different steps never mix
 * inside a line), and JSON (one object per line, for workers that ship
 * logs).  Log files always get the step's exact bytes.  On a terminal the
 * prefixes are coloured (unless NO_COLOR is set) and a status line shows
 * what runs.
 */
#ifndef JOBRUN_OUTPUT_H
#define JOBRUN_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "mask.h"

enum output_format {
	OUTPUT_PLAIN,
	OUTPUT_PREFIXED,
	OUTPUT_JSON,
};

/*
 * Longest line the prefixed and JSON formats keep whole; a longer one is cut
 * into pieces of this size, each on its own console line, so one step can
 * neither hold the console nor grow jobrun's memory without bound.  Plain
 * output and log files are never cut.
 */
#define OUTPUT_LINE_MAX (8 * 1024 * 1024)

struct output;
struct output_stream;

/*
 * Returns a new output writing to standard output (and, for jobrun's own
 * messages in plain and prefixed formats, standard error).  log_dir (may be
 * NULL: no logs) must exist.  mask (borrowed, may be NULL: nothing to mask)
 * is the job's set of secrets: every stream gets a masker over it, and
 * jobrun's own messages are masked too.
 */
struct output *output_new(
    enum output_format format, const char *log_dir, struct mask_set *mask);

/*
 * Opens the output stream of step.  Its log, log_dir/step.log, is created
 * with the step's first byte (a step that prints nothing leaves no log);
 * a log that cannot be written is reported once and the step goes on.
 */
struct output_stream *output_stream_open(
    struct output *output, const char *step);

/* Passes size bytes written by the step on. */
void output_stream_write(
    struct output_stream *stream, const char *data, size_t size);

/*
 * Called when the stream has been silent for a while: lets the masker emit
 * what it held back, as far as that cannot reveal part of a secret.
 */
void output_stream_idle(struct output_stream *stream);

/*
 * After secrets were added to the mask set: every open stream rescans what
 * it holds back, so nothing held escapes the new secrets.
 */
void output_rescan(struct output *output);

/* Flushes a partial last line, closes the log and frees the stream. */
void output_stream_close(struct output_stream *stream);

/*
 * Sets the live status line shown at the bottom of a terminal (standard
 * error, never in JSON mode); NULL removes it.  It is taken down before
 * every console write and put back between whole lines, so it never mixes
 * with output.  Off a terminal this does nothing.
 */
void output_set_status(struct output *output, const char *status);

/* Writes one line of jobrun's own (without "jobrun: " and newline). */
void output_message(struct output *output, const char *line);

/* Frees the output; every stream must be closed first. */
void output_free(struct output *output);

#endif
