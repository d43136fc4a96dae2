/*
 * Diagnostics: every message jobrun prints about itself goes through here,
 * as "jobrun: <message>" on standard error.  Keeping one exit keeps one place
 * for the secret masker to sit in front of: no secret byte ever reaches
 * standard error unmasked.
 */
#ifndef JOBRUN_DIAG_H
#define JOBRUN_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <sys/uio.h>

/*
 * Exit statuses of the job and of jobrun itself: 0 success, 1 a step
 * failed, 124 timed out, 125 jobrun's own or configuration error, 128+N
 * killed by signal N.
 */
enum {
	EXIT_JOB_SUCCESS = 0,
	EXIT_JOB_FAILED = 1,
	EXIT_JOB_TIMED_OUT = 124,
	EXIT_JOBRUN_ERROR = 125,
	EXIT_SIGNAL_BASE = 128,
};

/* Prints "jobrun: <message>" to standard error. */
void diag_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "jobrun: warning: <message>" to standard error. */
void diag_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "jobrun: <message>" to standard error and exits with status. */
void diag_fatal(int status, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 2, 3)));

/* Prints "jobrun: <message>" to standard error; the va_list form. */
void diag_verror(const char *prefix, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/*
 * Where messages go instead of standard error: the sink gets the whole
 * message, however long, without "jobrun: " and without a newline; it
 * masks it (before any cut of its own).  NULL restores the default.
 */
typedef void (*diag_sink_fn)(const char *message, void *context);
void diag_set_sink(diag_sink_fn sink, void *context);

/*
 * The mask set that messages written to standard error (no sink) pass
 * through, whole, before they are cut to 4 KiB (borrowed: it must outlive
 * its use here; NULL: none).  Without one, standard error gets messages
 * as they are.
 */
struct mask_set;
void diag_set_mask(struct mask_set *set);

/*
 * Holds messages back until the secrets are known: a message written
 * before them (a bad flag or job file echoing a value) could show one.
 * From diag_hold() on, messages meant for standard error are kept, whole;
 * diag_set_mask() with a set, or diag_release(), writes them masked with
 * it (each cut to 4 KiB after masking) and ends the holding.  Messages
 * still held at exit() go out masked with the set early() returns (what
 * can be known without the job: settings from flags and the environment;
 * NULL: unmasked; freed after).
 */
typedef struct mask_set *(*diag_early_mask_fn)(void);
void diag_hold(diag_early_mask_fn early);
void diag_release(struct mask_set *set);

/* Ends the holding: what is held goes out masked with early()'s set. */
void diag_release_early(void);

/*
 * While on, messages are dropped: gathering the secrets for held messages
 * (an early() function) has nothing to say that the run did not.
 */
void diag_discard(bool on);

/* Cuts a message longer than a line of standard error takes (4 KiB with
 * "jobrun: " and the newline) with a marker; returns its new length. */
size_t diag_cut(char *message, size_t length);

/* Reports a broken invariant in jobrun itself and aborts. */
#define BUG(...) diag_bug(__FILE__, __LINE__, __VA_ARGS__)
void diag_bug(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));

/*
 * Writes count buffers to standard error without ever holding jobrun: a
 * standard error that takes nothing for a second loses the rest.  iov is
 * changed.
 */
void diag_write(struct iovec *iov, int count);

#endif
