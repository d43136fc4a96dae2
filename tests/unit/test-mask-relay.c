/*
 * Unit tests for the masking relay (mask-relay.h): streams masked on its
 * thread deliver exactly what a plain mask_stream given the same calls
 * delivers, in order, however the bytes are cut and whichever way they
 * are handed over (read into its blocks, written, interleaved with idle
 * flushes and rescans, several streams at once, with the loop turning or
 * not); a secret added while bytes are out masks everything handed over
 * after it; sync delivers everything; close calls back once, after the
 * last byte; a job without secrets masks on the loop.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loop.h"
#include "mask-relay.h"
#include "mask.h"
#include "tap.h"

static char what[256];

/* ok() and is_int() with a formatted description. */
#define okf(cond, ...)                                                         \
	(snprintf(what, sizeof(what), __VA_ARGS__), ok((cond), what))

struct sink {
	char *data;
	size_t used;
	size_t cap;
	int closed;
	int late; /* bytes came after the stream was closed */
};

static void
sink_emit(void *context, const char *data, size_t size)
{
	struct sink *sink = context;

	if (sink->closed)
		sink->late = 1;
	if (sink->used + size > sink->cap) {
		while (sink->used + size > sink->cap)
			sink->cap = sink->cap ? sink->cap * 2 : 4096;
		sink->data = realloc(sink->data, sink->cap);
	}
	memcpy(sink->data + sink->used, data, size);
	sink->used += size;
}

static void
sink_closed(void *context)
{
	((struct sink *)context)->closed++;
}

#define SECRETS 6
static const char *secrets[SECRETS] = { "Alpha-Secret-01928374650",
	"bravo_secret_value_55667", "cccharlie=Zz9Yy8Xx7wv",
	"-----BEGIN KEY-----\nline one of it\nline two of it\n-----END "
	"KEY-----",
	"shorty", "late-secret-value-4711" };

/* Random text with secrets (not the last, registered late) in it. */
static char *
make_text(size_t size, unsigned seed)
{
	char *text = malloc(size);
	size_t i = 0, n;
	const char *s;

	srand(seed);
	while (i < size) {
		if (rand() % 40 == 0) {
			s = secrets[rand() % (SECRETS - 1)];
			n = strlen(s);
			if (n > size - i)
				n = size - i;
			memcpy(text + i, s, n);
			i += n;
		} else {
			text[i++] =
			    rand() % 12 == 0 ? '\n' : (char)('a' + rand() % 26);
		}
	}
	return text;
}

static struct mask_set *
new_set(size_t count)
{
	struct mask_set *set = mask_set_new(NULL, 0);
	size_t i;

	for (i = 0; i < count; i++)
		mask_set_add(set, secrets[i], strlen(secrets[i]), NULL);
	return set;
}

/* Writes size bytes through the relay's buffers, a read at a time. */
static void
relay_write(struct mask_relay_stream *rs, const char *data, size_t size)
{
	size_t room, n;
	char *buf;

	while (size > 0) {
		buf = mask_relay_buffer(rs, &room);
		n = size < room ? size : room;
		memcpy(buf, data, n);
		mask_relay_commit(rs, n);
		data += n;
		size -= n;
	}
}

static struct mask_relay *
started(struct mask_set *set, struct loop *loop)
{
	struct mask_relay *relay = mask_relay_new(set);
	char *error = NULL;

	if (mask_relay_start(relay, loop, &error) < 0) {
		printf("# cannot start the relay: %s\n", error);
		free(error);
	}
	return relay;
}

/*
 * Feeds text to relay streams and to plain streams in the same random
 * pieces, through mask_relay_buffer()/_commit() or _write(), with idle
 * flushes and rescans between, turning the loop now and then.
 */
static void
differential(unsigned seed, size_t streams, size_t secrets_in_set)
{
	struct mask_set *set = new_set(secrets_in_set);
	struct mask_set *ref_set = new_set(secrets_in_set);
	struct loop *loop = loop_new();
	struct mask_relay *relay = started(set, loop);
	struct mask_relay_stream *rs[4];
	struct mask_stream *ref[4];
	struct sink got[4], want[4];
	size_t size = 2 * 1000 * 1000, at[4] = { 0 }, i, n, room, left;
	char *text = make_text(size, seed), *buf;

	memset(got, 0, sizeof(got));
	memset(want, 0, sizeof(want));
	for (i = 0; i < streams; i++) {
		rs[i] = mask_relay_open(relay, sink_emit, &got[i]);
		ref[i] = mask_stream_new(ref_set, sink_emit, &want[i]);
	}
	srand(seed * 7 + 1);
	for (left = streams; left > 0;) {
		i = (size_t)rand() % streams;
		if (at[i] == size)
			continue;
		n = 1 + (size_t)rand() % (rand() % 4 == 0 ? 200000 : 300);
		if (n > size - at[i])
			n = size - at[i];
		switch (rand() % 8) {
		case 0:
			relay_write(rs[i], text + at[i], n);
			break;
		case 1:
			mask_relay_idle(rs[i]);
			mask_stream_flush_quiet(ref[i]);
			n = 0;
			break;
		case 2:
			mask_relay_rescan(relay);
			for (room = 0; room < streams; room++)
				mask_stream_rescan(ref[room]);
			n = 0;
			break;
		default:
			buf = mask_relay_buffer(rs[i], &room);
			if (n > room)
				n = room;
			memcpy(buf, text + at[i], n);
			/* Sometimes a read that gave nothing. */
			if (rand() % 5 == 0)
				n = 0;
			mask_relay_commit(rs[i], n);
			break;
		}
		if (n > 0)
			mask_stream_feed(ref[i], text + at[i], n);
		if ((at[i] += n) == size)
			left--;
		if (rand() % 16 == 0)
			loop_once(loop, 0);
	}
	for (i = 0; i < streams; i++) {
		mask_relay_close(rs[i], sink_closed);
		mask_stream_flush(ref[i]);
		mask_stream_free(ref[i]);
		okf(got[i].closed == 1 && !got[i].late,
		    "seed %u stream %zu: closed once, after its last byte",
		    seed, i);
		okf(got[i].used == want[i].used &&
			memcmp(got[i].data, want[i].data, got[i].used) == 0,
		    "seed %u stream %zu of %zu, %zu secrets: the relay "
		    "delivers what a stream delivers (%zu bytes, %zu expected)",
		    seed, i, streams, secrets_in_set, got[i].used,
		    want[i].used);
		free(got[i].data);
		free(want[i].data);
	}
	mask_relay_free(relay);
	loop_free(loop);
	mask_set_free(set);
	mask_set_free(ref_set);
	free(text);
}

/* Counts the occurrences of needle in the sink. */
static size_t
occurrences(const struct sink *sink, const char *needle)
{
	size_t n = 0, length = strlen(needle), i;

	for (i = 0; i + length <= sink->used; i++)
		if (memcmp(sink->data + i, needle, length) == 0)
			n++;
	return n;
}

/*
 * A secret added while megabytes are out with the thread: every byte
 * handed over after it (and the rescan) is masked for it; bytes before it
 * are all delivered, masked or not.
 */
static void
late_secret(void)
{
	struct mask_set *set = new_set(1);
	struct loop *loop = loop_new();
	struct mask_relay *relay = started(set, loop);
	struct sink got = { 0 };
	struct mask_relay_stream *rs = mask_relay_open(relay, sink_emit, &got);
	const char *late = secrets[SECRETS - 1];
	char line[128];
	size_t i, n;

	for (i = 0; i < 40000; i++) {
		n = (size_t)snprintf(
		    line, sizeof(line), "before %zu %s\n", i, late);
		relay_write(rs, line, n);
	}
	okf(mask_relay_behind(relay) || got.used < 40000 * 20,
	    "the relay has work out (%zu bytes delivered)", got.used);
	mask_set_add(set, late, strlen(late), NULL);
	mask_relay_rescan(relay);
	for (i = 0; i < 1000; i++) {
		n = (size_t)snprintf(
		    line, sizeof(line), "after %zu %s\n", i, late);
		relay_write(rs, line, n);
	}
	mask_relay_sync(relay);
	okf(occurrences(&got, "after ") == 1000,
	    "sync delivers every line written before it (%zu of 1000)",
	    occurrences(&got, "after "));
	okf(occurrences(&got, "before ") == 40000,
	    "and every line before the secret (%zu of 40000)",
	    occurrences(&got, "before "));
	okf(occurrences(&got, late) <= 40000,
	    "the late secret shows only in lines handed over before it "
	    "(%zu)",
	    occurrences(&got, late));
	{
		/* Past the last "before" line, the secret never shows. */
		const char *last = NULL, *p = got.data;
		size_t k;

		for (k = 0; k + 6 <= got.used; k++)
			if (memcmp(p + k, "after ", 6) == 0) {
				last = p + k;
				break;
			}
		ok(last != NULL &&
			memmem(last, got.used - (size_t)(last - p), late,
			    strlen(late)) == NULL,
		    "nothing handed over after the rescan shows it");
	}
	mask_relay_close(rs, sink_closed);
	is_int(got.closed, 1, "closed once");
	free(got.data);
	mask_relay_free(relay);
	loop_free(loop);
	mask_set_free(set);
}

/* A stream closed from its own delivery, in its last one: the close
 * waits for that delivery to end, which finishes it. */
struct closer {
	struct sink sink;
	struct mask_relay_stream *rs;
	int close_calls;
};

static void
closer_emit(void *context, const char *data, size_t size)
{
	struct closer *c = context;

	sink_emit(&c->sink, data, size);
	/* In the delivery of the last hand-over: the stream's last work. */
	if (c->close_calls == 0 &&
	    memmem(c->sink.data, c->sink.used, "line 19999 ", 11) != NULL) {
		c->close_calls++;
		mask_relay_close(c->rs, sink_closed);
	}
}

static void
close_from_delivery(void)
{
	struct mask_set *set = new_set(1);
	struct loop *loop = loop_new();
	struct mask_relay *relay = started(set, loop);
	struct closer c;
	char line[64];
	size_t i, n;

	memset(&c, 0, sizeof(c));
	c.rs = mask_relay_open(relay, closer_emit, &c);
	for (i = 0; i < 20000; i++) {
		n = (size_t)snprintf(
		    line, sizeof(line), "line %zu %s\n", i, secrets[0]);
		relay_write(c.rs, line, n);
	}
	mask_relay_sync(relay);
	okf(c.sink.closed == 1 && !c.sink.late,
	    "a stream closed from its own delivery is finished once, after "
	    "its last byte (closed %d times)",
	    c.sink.closed);
	okf(occurrences(&c.sink, "line ") == 20000,
	    "every line handed over before the close is delivered (%zu)",
	    occurrences(&c.sink, "line "));
	free(c.sink.data);
	mask_relay_free(relay);
	loop_free(loop);
	mask_set_free(set);
}

/* Without a secret, bytes are masked on the loop at once. */
static void
no_secret(void)
{
	struct mask_set *set = mask_set_new(NULL, 0);
	struct loop *loop = loop_new();
	struct mask_relay *relay = started(set, loop);
	struct sink got = { 0 };
	struct mask_relay_stream *rs = mask_relay_open(relay, sink_emit, &got);
	size_t room;
	char *buf = mask_relay_buffer(rs, &room);

	memcpy(buf, "hello\n", 6);
	mask_relay_commit(rs, 6);
	ok(got.used == 6 && memcmp(got.data, "hello\n", 6) == 0,
	    "with no secret, a read is delivered at once, on the loop");
	relay_write(rs, "world\n", 6);
	ok(got.used == 12, "so is a write");
	ok(!mask_relay_behind(relay), "and the relay is never behind");
	mask_relay_close(rs, sink_closed);
	is_int(got.closed, 1, "closed once");
	free(got.data);
	mask_relay_free(relay);
	loop_free(loop);
	mask_set_free(set);
}

/* Without a thread (never started), the same calls mask on the loop. */
static void
no_thread(void)
{
	struct mask_set *set = new_set(SECRETS - 1);
	struct mask_relay *relay = mask_relay_new(set);
	struct sink got = { 0 };
	struct mask_relay_stream *rs = mask_relay_open(relay, sink_emit, &got);
	const char *text = "a Alpha-Secret-01928374650 b\n";

	relay_write(rs, text, strlen(text));
	mask_relay_close(rs, sink_closed);
	ok(got.used == 8 && memcmp(got.data, "a *** b\n", 8) == 0,
	    "without a thread, a stream masks on the loop");
	is_int(got.closed, 1, "closed once");
	free(got.data);
	mask_relay_free(relay);
	mask_set_free(set);
}

int
main(void)
{
	unsigned seed;

	for (seed = 1; seed <= 4; seed++)
		differential(seed, 1 + seed % 4, SECRETS - 1);
	differential(9, 2, 0);
	late_secret();
	close_from_delivery();
	no_secret();
	no_thread();
	return done_testing();
}
