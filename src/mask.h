/*
 * The secret masker.  Its promise: no registered secret, nor any of its
 * forms, leaves jobrun unmasked -- on the console, in logs, result files,
 * error messages or plugin log calls -- however the bytes are split across
 * writes.
 *
 * A mask_set holds what must never be shown: secrets (each with its
 * whitespace variants and encodings, mask-forms.h) and PCRE2 patterns.  One
 * set serves every output of a job.  A mask_stream masks one output
 * stream with it: bytes go in as they come, in pieces of any size, and
 * masked bytes come out through an emit callback.
 *
 * What a stream emits is what masking the concatenation of everything fed
 * to it at once would give: every occurrence of every needle (a secret or
 * one of its forms) is found on the original bytes, overlapping and
 * adjacent occurrences are merged, and each merged range is replaced by
 * the token once.  Pattern matches are ranges like any other.  A stream
 * emits each byte as soon as it can no longer be part of a match and holds
 * back only the bytes that could still begin one: the longest suffix that
 * is a proper prefix of some needle (in the folded view, below), or, for
 * patterns, the bytes from the
 * start of a partial match (PCRE2_PARTIAL_HARD) on.  Memory does not grow
 * with the input: a stream holds at most the longest needle, plus the
 * current pattern window when there are patterns, plus a line break and
 * the indent after it (below).
 *
 * Needles are searched for in the stream's folded view (mask-forms.h):
 * a line break ("\n" or "\r\n") between two characters of base64 or hex
 * (A-Z a-z 0-9 + / - _) is left out, and needles are folded alike, so
 * an encoded secret is found however it is wrapped (base64 and MIME at
 * 76 columns, PEM at 64, xxd -p at 60, any other) and a match masks the
 * stream's bytes from its first to its last, the breaks inside included.
 * So are the spaces and tabs, at most 64, that indent the line after
 * such a break (a wrapped run indented by sed, YAML or Helm's indent).
 * Any other line break followed by such an indent (and then by something
 * else than a line break) is one space in the folded view: a long value
 * that a YAML emitter wrapped at a space matches as it was.
 * The price: text that differs from a secret only by such line breaks
 * and indents ("pass\nword" for "password") is masked too, and a secret
 * is as long as its folded form for the minimum length.  A line break at
 * the end of the bytes fed waits in the fold for the next byte, which
 * tells what it is; it goes out meanwhile unless a needle can begin with
 * a line break or a space or a match is in progress.  With spaces or tabs
 * after it, it is held with them until a byte that is neither comes.
 *
 * Patterns see one line at a time (without its "\n"; ^ and $ match at
 * its ends).  A line longer than MASK_PATTERN_WINDOW bytes is cut into
 * windows of that size overlapping by MASK_PATTERN_OVERLAP bytes: matches
 * up to the overlap's length are found anywhere; a longer one is masked
 * window by window.  Patterns match bytes, not characters ((*UTF) is
 * refused).  A pattern that fails while matching (match or JIT stack
 * limit) masks the rest of its window: the masker errs on hiding.
 *
 * Needles are searched behind a sampled q-gram filter (mask-set.h): a
 * stream looks up one window of up to 8 bytes every s bytes (s is the
 * shortest needle's length less 7, up to 16; 1 when the shortest is 4 to 8
 * bytes).  At a hit it compares the needles the window may belong to
 * (eight at most) where they would lie; only when more share it, or one
 * may go on past the bytes at hand, do the Aho-Corasick automata
 * (mask-automaton.h) run exactly around the hit.  So its speed hardly
 * depends on the number of needles.  With a needle shorter than 4 bytes
 * (a min_length below 4) there is no filter and the automata walk every
 * byte, several times slower.
 *
 * Adding a secret is cheap however many there are: needles added since the
 * last scan are built into a new automaton level when a stream next runs
 * (lazily, so secrets added in a batch cost one build), and levels are
 * merged as they grow (like a log-structured merge: each needle byte is
 * rebuilt O(log n) times); every level is searched at once behind the one
 * filter, so more levels cost little.  mask_set_compact() merges them all.
 *
 * Threads: every call on a set or one of its streams holds the set's lock
 * (the pure parts of adding secrets off the loop, below, need none), so
 * the loop may add secrets while another thread feeds a stream
 * (mask-relay.h masks steps' output on a thread beside the loop).  A stream is
 * fed by one thread at a time.  The emit callback runs under the lock: it must
 * not call back into the masker, nor wait for another thread that does
 * (mask_in_call() tells it).
 *
 * Nothing in here prints: refusals and errors come back as messages for
 * the caller to report, and no message ever contains a secret byte.  Every
 * buffer that held a secret, a needle or unmasked output is wiped before it
 * is freed.
 */
#ifndef JOBRUN_MASK_H
#define JOBRUN_MASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MASK_TOKEN_DEFAULT "***"
#define MASK_MIN_LENGTH_DEFAULT 4

/* The longest secret mask_set_add() accepts. */
#define MASK_SECRET_MAX (64 * 1024)

/* Patterns see lines up to this long whole, longer ones in windows. */
#define MASK_PATTERN_WINDOW (64 * 1024)
#define MASK_PATTERN_OVERLAP (4 * 1024)

/* The most bytes of a possible match that a quiet flush may emit. */
#define MASK_QUIET_REVEAL 3

/* The per-set random salt, and the HMAC-SHA256 naming each secret. */
#define MASK_SALT_SIZE 16
#define MASK_HASH_SIZE 32

struct mask_set;
struct mask_stream;

/* Receives masked output; data is valid only during the call. */
typedef void (*mask_emit_fn)(void *context, const char *data, size_t size);

/*
 * Returns an empty set.  token replaces every masked range (NULL:
 * MASK_TOKEN_DEFAULT; copied).  A secret shorter than min_length bytes
 * (once leading and trailing whitespace is removed) is refused, and so is
 * any form of a secret shorter than that (0: MASK_MIN_LENGTH_DEFAULT).
 */
struct mask_set *mask_set_new(const char *token, size_t min_length);

/*
 * Adds a secret of size bytes (copied) and its forms (mask-forms.h).  The
 * streams see it on their next call (feed, flush, rescan): call
 * mask_stream_rescan() on each before acknowledging a registration, so
 * the bytes they still hold are examined for it too.  Returns 0 when it
 * is added or was already there; 1 when it is refused for being too short
 * (*error, for a warning); -1 when it is longer than MASK_SECRET_MAX or the
 * set is full (*error).  *error is allocated, for the caller to free, and
 * never contains the secret; error may be NULL.
 */
int mask_set_add(
    struct mask_set *set, const void *secret, size_t size, char **error);

/*
 * As mask_set_add(), for a secret an untrusted step registers: it is
 * masked in what streams emit (the steps' output), but not by
 * mask_string() (jobrun's own messages, names and result files), unless
 * something trusted registers it too.  An untrusted step holds no secret:
 * what it registers hides its own output, and must not rewrite jobrun's
 * (a trigger's job name, a step's outcome).
 */
int mask_set_add_untrusted(
    struct mask_set *set, const void *secret, size_t size, char **error);

/*
 * Adds exactly these size bytes as one needle, without any other form, for
 * values that are already in the form they will be printed in (and for
 * tests); whitespace counts towards the minimum length.  Returns like
 * mask_set_add().
 */
int mask_set_add_exact(
    struct mask_set *set, const void *needle, size_t size, char **error);

/*
 * Compiles a PCRE2 pattern (JIT when available) and adds it; streams
 * search with it from their next call on.  Empty matches are ignored.
 * Returns 0, or -1 with *error ("cannot compile pattern 'P' at offset N:
 * why"; allocated, may be NULL) when it does not compile.
 */
int mask_set_add_pattern(
    struct mask_set *set, const char *pattern, char **error);

/* Merges the automaton levels into one; streams rescan on their next call. */
void mask_set_compact(struct mask_set *set);

/* The number of needles (secrets and their distinct forms) in the set. */
size_t mask_set_needles(const struct mask_set *set);

/* Bytes of memory the set's needles, automata and filter use. */
size_t mask_set_memory(struct mask_set *set);

/*
 * Redaction counts.  A set counts, for each secret (each value given to
 * mask_set_add() or mask_set_add_exact(), whatever forms it expands to)
 * and each pattern, the redactions it caused in every stream and
 * mask_string() call on the set.  The rule: each merged range a stream
 * replaced by the token (or by nothing, with an empty token) counts one
 * for every distinct secret or pattern that had a match in it, however
 * many matches it had there.  A secret's match is, at each offset where
 * needles end, the longest needle ending there, and it counts for every
 * secret that needle is a form of (one needle may be a form of several);
 * a shorter needle ending at the same offset is inside it and adds
 * nothing.  So a secret printed three times apart counts 3; printed three
 * times back to back (one merged range, one token) it counts 1; two
 * secrets overlapping in one range count 1 each.  A range counts once it
 * is emitted whole (or at a flush; at mask_stream_free() when its token
 * went out): bytes still held count later, once, however many rescans
 * saw them.  A match inside output already emitted (a secret registered
 * late) counts only if it masks bytes not yet emitted.
 *
 * Secrets are named by HMAC-SHA256 of their value (the bytes given, before
 * any trimming), keyed with the set's salt as its 32 lowercase hex digits
 * (the ASCII bytes, not the 16 bytes they spell): the same as
 *   printf %s "$SECRET" | openssl dgst -sha256 -hmac "$SALT"
 * The salt comes from getrandom() when the set is made.  The same value
 * given twice is one secret; a refused one (too short, too long) is not
 * registered.
 */

/* The salt as 32 lowercase hex digits (borrowed, lives with the set). */
const char *mask_set_salt(const struct mask_set *set);

/* Whether the set masks nothing: no secret, no pattern. */
bool mask_set_empty(const struct mask_set *set);

/* The number of registered secrets; they are numbered in that order. */
size_t mask_set_secrets(const struct mask_set *set);

/*
 * Secret i's hash as 64 lowercase hex digits and a NUL in hash_hex, and
 * returns its redaction count.
 */
uint64_t mask_set_secret_count(const struct mask_set *set, size_t i,
    char hash_hex[2 * MASK_HASH_SIZE + 1]);

/* The number of patterns, numbered from 0 in the order they were added. */
size_t mask_set_patterns(const struct mask_set *set);

/* The redaction count of pattern i. */
uint64_t mask_set_pattern_count(const struct mask_set *set, size_t i);

/*
 * Adding secrets off the event loop.  A secret's forms and the automaton
 * level of new needles are pure work on private copies, which a worker
 * thread may do; the set itself is touched only by the loop's thread,
 * and no call there takes more than about budget bytes of work:
 *
 *   p = mask_prepare(secret, size, min_length)      any thread
 *   mask_set_add_prepared(set, p, budget, &error)   loop, until
 *                                                   mask_prepared_done(p)
 *   mask_prepared_free(p)                           any thread
 *   b = mask_set_build_start(set)                   loop
 *   mask_set_build_copy(set, b, budget)             loop, until it is true
 *   mask_build_run(b)                               any thread
 *   mask_set_build_finish(set, b)                   loop: installs the level
 *   mask_build_free(b)                              any thread
 *
 * Needles added by mask_set_add_prepared() are deferred: streams search
 * with the levels they have and do not build them, until
 * mask_set_build_finish() installs the level that holds them (then they
 * rescan as after any change).  So a secret added this way is masked only
 * from the finish on.  When anything else changes the levels first (a
 * needle added by mask_set_add() while a build is out, which the next
 * stream call builds at once with the deferred ones; mask_set_compact()),
 * the build is cancelled: its finish returns false and installs nothing.
 * One build is out at a time: mask_set_build_start() returns NULL while
 * one is, or when there is nothing to build.  min_length is the set's
 * (0: the default); a prepared secret of another is added by
 * mask_set_add().  mask_set_add_prepared() adds the next forms of p, at
 * least one, about budget bytes of them, and returns like mask_set_add()
 * (a refusal or failure ends p).
 */
struct mask_prepared;
struct mask_build;

/* What mask_set_add() would refuse the secret for, adding nothing:
 * returns 0, or 1 or -1 with *error as mask_set_add() does. */
int mask_set_check(
    const struct mask_set *set, const void *secret, size_t size, char **error);

struct mask_prepared *mask_prepare(
    const void *secret, size_t size, size_t min_length);
int mask_set_add_prepared(
    struct mask_set *set, struct mask_prepared *p, size_t budget, char **error);
/* Marks p as from an untrusted step (mask_set_add_untrusted()). */
void mask_prepared_untrusted(struct mask_prepared *p);

/*
 * Makes room for bytes more of needles at once (the forms of a batch of
 * prepared secrets, mask_prepared_bytes()), so that adding them does not
 * move the needles several times, each time copying all of them.
 */
void mask_set_reserve(struct mask_set *set, size_t bytes);
bool mask_prepared_done(const struct mask_prepared *p);
size_t mask_prepared_bytes(const struct mask_prepared *p);
void mask_prepared_free(struct mask_prepared *p);
struct mask_build *mask_set_build_start(struct mask_set *set);
bool mask_set_build_copy(
    struct mask_set *set, struct mask_build *b, size_t budget);
void mask_build_run(struct mask_build *b);
bool mask_set_build_finish(struct mask_set *set, struct mask_build *b);
void mask_build_free(struct mask_build *b);

/*
 * Whether the calling thread is inside a call on a mask set (in an emit
 * callback): it must not then wait for another thread's call on one.
 */
bool mask_in_call(void);

/* Wipes and frees the set; every stream on it must be freed first. */
void mask_set_free(struct mask_set *set);

/*
 * Frees the set without wiping it, for a process about to exit, which
 * allocates nothing after it: its memory goes back to the kernel whole,
 * while wiping would write every page of the tables -- after a fork, one
 * copy-on-write fault each (9 ms for 1,000 secrets and their forms).
 */
void mask_set_discard(struct mask_set *set);

/*
 * Returns a stream masking with set (borrowed: it must outlive the
 * stream) and passing masked output to emit(context, ...).
 */
struct mask_stream *mask_stream_new(
    struct mask_set *set, mask_emit_fn emit, void *context);

/*
 * Masks size bytes of the stream: emits, in order, every byte that can no
 * longer be part of a match (a merged match as one token) and holds the
 * rest back.
 */
void mask_stream_feed(
    struct mask_stream *stream, const void *data, size_t size);

/*
 * Ends the stream: emits everything held, complete matches masked.  Bytes
 * held as a possible beginning of a secret are emitted as they are: at the
 * end of the stream they are not a secret (a secret's first half, printed
 * as the very last output, is not masked).  The stream starts afresh
 * afterwards: a secret split across a flush is not recognised.
 */
void mask_stream_flush(struct mask_stream *stream);

/*
 * Brings the stream up to date with its set: secrets and patterns added
 * since its last call are searched for in the bytes it still holds, and
 * whatever they no longer keep back is emitted.  Bytes already emitted
 * cannot be taken back: a secret registered after part of it was
 * printed is masked only from the held bytes on.
 */
void mask_stream_rescan(struct mask_stream *stream);

/*
 * From now on the stream leaves alone the secrets only untrusted steps
 * registered (mask_set_add_untrusted()), as mask_string() does: for a
 * trusted step's output, which an untrusted step must not be able to
 * censor by registering its words.
 */
void mask_stream_trusted_only(struct mask_stream *stream);

/* The number of bytes fed but not yet emitted nor replaced by a token. */
size_t mask_stream_held(const struct mask_stream *stream);

/*
 * For the event loop, when the stream has been silent for a while (a
 * prompt, a progress line): emits the held bytes if that reveals at most
 * MASK_QUIET_REVEAL bytes (and fewer than the set's minimum length) of
 * any possible match, and returns whether it did.
 *
 * The rule: the held bytes are the longest suffix of the output that could
 * begin a match, and everything a later match would have to cover before
 * them has been emitted already.  So the held bytes may go out only when
 * every possible match in progress -- the automaton's longest
 * suffix-that-is-a-prefix of a needle, counting bytes already emitted
 * by an earlier quiet flush, and each pattern's partial match -- is at most
 * MASK_QUIET_REVEAL bytes long.  If the match then completes, the rest
 * from the emitted bytes on is still masked, so at most that many bytes
 * of one occurrence of a needle (often a fixed part of an encoding such as
 * '%') are ever shown, however many quiet flushes there are.  Anything
 * longer stays held until more output decides it or the stream ends.
 */
bool mask_stream_flush_quiet(struct mask_stream *stream);

/* Wipes and frees the stream; held bytes are dropped (flush first). */
void mask_stream_free(struct mask_stream *stream);

/*
 * Masks size bytes at once (jobrun's own messages, result files) and
 * returns them NUL-terminated, allocated for the caller; *out_size (may
 * be NULL) gets their length.  Secrets only untrusted steps registered
 * are not masked here (mask_set_add_untrusted()).
 */
char *mask_string(
    struct mask_set *set, const void *data, size_t size, size_t *out_size);

/* The same with every secret, those only untrusted steps gave too: for
 * what steps wrote (their summaries). */
char *mask_string_output(
    struct mask_set *set, const void *data, size_t size, size_t *out_size);

/*
 * Where text cut at size may end without showing the start of a secret
 * that the cut broke: size less the bytes at its end that could begin a
 * match (the bytes a stream would hold).  Masking what is kept then hides
 * every whole secret in it and no part of one is left.
 */
size_t mask_safe_cut(struct mask_set *set, const void *data, size_t size);

#endif
