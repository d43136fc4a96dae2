/*
 * Benchmark driver for the secret masker (tests/bench/mask.sh runs it).
 *
 *	maskbench throughput [GIB [RUNS]]
 *		masks GIB GiB (default 1) of generated log-like text, a 64 MiB
 *		buffer looped and fed 64 KiB at a time (a pipe's read), with
 *		1, 10, 100 and 1000 secrets, with and without their encodings;
 *		against memcpy into the same sink and a naive masker that
 *		searches each needle with memmem; prints medians of RUNS
 *		(default 5) and ratios
 *	maskbench registrations [SECRETS [STREAMS]]
 *		adds SECRETS (10000) secrets one at a time while STREAMS (50)
 *		streams run, rescanning every stream after each (what the
 *		control socket does before acknowledging), and prints the cost
 *	maskbench setup [SECRETS [RUNS]]
 *		builds a set of SECRETS (1000) secrets with all their forms,
 *		as a job does before its first step; prints the median CPU
 *		time of RUNS (9)
 *	maskbench masker SECRETS ENCODINGS GIB [RUNS]
 *		one row of the throughput table: the masker alone with SECRETS
 *		secrets (with their forms when ENCODINGS is 1), the median CPU
 *		and wall GB/s of RUNS (default 5)
 *	maskbench words SECRETS GIB [RUNS]
 *		SECRETS secrets made of four common words each (and their
 *		forms), over text made of the same words: the median CPU GB/s
 *		of RUNS (default 5) where nearly every sample of the filter is
 *		some secret's q-gram
 *	maskbench stream SECRETS ENCODINGS GIB
 *		masks GIB GiB once and prints nothing but a check line: for
 *		measuring peak memory from outside (GNU time)
 *
 * The text: timestamped lines of words, numbers, paths and hex ids, with a
 * secret (raw or in one of its forms) about every 64 KiB so the matching
 * paths run too.  Everything is seeded: runs are repeatable.  It is 64 MiB,
 * looped over, so read from memory in each pass; MASKBENCH_TEXT_MIB=2
 * keeps it in the caches, as the bytes of a pipe's read are.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "mask.h"
#include "mask-forms.h"

/* The text looped over: 64 MiB, read from memory in each pass, or
 * MASKBENCH_TEXT_MIB (2: in the caches, as a pipe's read leaves it). */
static size_t text_size = (size_t)64 * 1024 * 1024;
#define CHUNK ((size_t)64 * 1024)
#define SINK_SIZE ((size_t)1024 * 1024)
#define GIB ((size_t)1024 * 1024 * 1024)

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Seconds of CPU time of this thread: the machine may be shared. */
static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double
wall(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* ---- input ---- */

struct secrets {
	char **values;
	size_t count;
};

static void
make_secrets(struct secrets *s, size_t count)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	size_t i, j, length;

	s->values = calloc(count, sizeof(*s->values));
	s->count = count;
	for (i = 0; i < count; i++) {
		length = 20 + rng() % 21;
		s->values[i] = malloc(length + 1);
		for (j = 0; j < length; j++)
			s->values[i][j] = alphabet[rng() % 62];
		s->values[i][length] = '\0';
	}
}

static const char *const words[] = { "INFO", "DEBUG", "WARN", "request",
	"completed", "connecting", "to", "database", "user", "build", "test",
	"compiling", "linking", "src/main.c", "error:", "ok",
	"PASS:", "FAIL:", "the", "of", "and", "cache", "hit", "miss", "worker",
	"GET", "POST", "/api/v1/items", "status", "took", "bytes", "sent",
	"received", "job", "step", "make[2]:", "gcc", "-O2", "-Wall",
	"checking", "for", "stdlib.h...", "yes", "no", "Entering", "directory",
	"'/job/src'" };

static size_t
log_line(char *out)
{
	char *p = out;
	int n = 4 + (int)(rng() % 10), i;

	p += sprintf(p, "2026-11-%02d %02d:%02d:%02d.%03d ",
	    (int)(rng() % 28 + 1), (int)(rng() % 24), (int)(rng() % 60),
	    (int)(rng() % 60), (int)(rng() % 1000));
	for (i = 0; i < n; i++) {
		switch (rng() % 10) {
		case 0:
		case 1:
			p += sprintf(p, "%u ", (unsigned)(rng() % 100000));
			break;
		case 2:
			p += sprintf(p, "id=%08x ", (unsigned)rng());
			break;
		case 3:
			p +=
			    sprintf(p, "%.1fms ", (double)(rng() % 10000) / 10);
			break;
		default:
			p += sprintf(p, "%s ",
			    words[rng() % (sizeof(words) / sizeof(*words))]);
		}
	}
	p[-1] = '\n';
	return (size_t)(p - out);
}

struct form_pick {
	char *out;
	size_t size;
	size_t wanted;
	size_t seen;
};

static void
pick_form(void *context, const unsigned char *bytes, size_t size)
{
	struct form_pick *pick = context;

	if (pick->seen++ == pick->wanted && size < 256) {
		memcpy(pick->out, bytes, size);
		pick->size = size;
	}
}

static char *
make_text(const struct secrets *secrets)
{
	char *text = malloc(text_size + 4096), *p = text;
	size_t next_secret = CHUNK;
	struct form_pick pick;
	const char *secret;

	while ((size_t)(p - text) < text_size) {
		p += log_line(p);
		if ((size_t)(p - text) < next_secret || secrets->count == 0)
			continue;
		next_secret += CHUNK;
		/* Half of them the first secret, which every set holds. */
		secret =
		    secrets->values[rng() % 2 ? 0 : rng() % secrets->count];
		pick = (struct form_pick){ p + 7, 0, rng() % 2 ? 0 : rng() % 12,
			0 };
		memcpy(p, "token: ", 7);
		mask_forms_each((const unsigned char *)secret, strlen(secret),
		    pick_form, &pick);
		p += 7 + pick.size;
		*p++ = '\n';
	}
	return text;
}

/* ---- the engines ---- */

struct sink {
	char *data;
	size_t used;
	size_t total;
	size_t tokens;
};

static void
sink_put(struct sink *sink, const char *data, size_t size)
{
	if (sink->used + size > SINK_SIZE)
		sink->used = 0;
	if (size <= SINK_SIZE) {
		memcpy(sink->data + sink->used, data, size);
		sink->used += size;
	}
	sink->total += size;
}

static void
sink_emit(void *context, const char *data, size_t size)
{
	struct sink *sink = context;

	if (size == 3 && memcmp(data, "***", 3) == 0)
		sink->tokens++;
	sink_put(sink, data, size);
}

static void
run_masker(
    struct mask_set *set, const char *text, size_t total, struct sink *sink)
{
	struct mask_stream *s = mask_stream_new(set, sink_emit, sink);
	size_t done = 0, offset = 0, n;

	while (done < total) {
		n = CHUNK;
		if (offset + n > text_size)
			offset = 0;
		mask_stream_feed(s, text + offset, n);
		offset += n;
		done += n;
	}
	mask_stream_flush(s);
	mask_stream_free(s);
}

static void
run_memcpy(const char *text, size_t total, struct sink *sink)
{
	size_t done = 0, offset = 0;

	while (done < total) {
		if (offset + CHUNK > text_size)
			offset = 0;
		sink_put(sink, text + offset, CHUNK);
		offset += CHUNK;
		done += CHUNK;
	}
}

/* The needles the set holds, for the naive masker. */
struct needle_list {
	char **bytes;
	size_t *lengths;
	size_t count;
	size_t longest;
	bool forms;
};

static void
list_add(void *context, const unsigned char *bytes, size_t size)
{
	struct needle_list *list = context;
	size_t i;

	if (size < MASK_MIN_LENGTH_DEFAULT)
		return;
	for (i = 0; i < list->count; i++)
		if (list->lengths[i] == size &&
		    memcmp(list->bytes[i], bytes, size) == 0)
			return;
	list->bytes =
	    realloc(list->bytes, (list->count + 1) * sizeof(*list->bytes));
	list->lengths =
	    realloc(list->lengths, (list->count + 1) * sizeof(size_t));
	list->bytes[list->count] = malloc(size);
	memcpy(list->bytes[list->count], bytes, size);
	list->lengths[list->count++] = size;
	if (size > list->longest)
		list->longest = size;
}

/*
 * What a simple masker does: for each chunk (after the last longest-1
 * bytes of the one before), memmem for every needle, mark, replace.
 */
static void
run_naive(const struct needle_list *list, const char *text, size_t total,
    struct sink *sink)
{
	size_t keep = list->longest - 1, done = 0, offset = 0, held = 0, i, j,
	       n;
	char *buf = malloc(CHUNK + keep), *hit;
	bool *covered = calloc(CHUNK + keep, sizeof(bool));

	while (done < total) {
		if (offset + CHUNK > text_size)
			offset = 0;
		memcpy(buf + held, text + offset, CHUNK);
		n = held + CHUNK;
		memset(covered, 0, n);
		for (i = 0; i < list->count; i++)
			for (hit = buf;
			     (hit = memmem(hit, n - (size_t)(hit - buf),
				  list->bytes[i], list->lengths[i])) != NULL;
			     hit++)
				memset(
				    covered + (hit - buf), 1, list->lengths[i]);
		for (i = 0; i + keep < n; i = j) {
			for (j = i; j + keep < n && covered[j] == covered[i];
			     j++)
				;
			if (covered[i])
				sink_emit(sink, "***", 3);
			else
				sink_put(sink, buf + i, j - i);
		}
		memmove(buf, buf + n - keep, keep);
		held = keep;
		offset += CHUNK;
		done += CHUNK;
	}
	free(buf);
	free(covered);
}

/* ---- throughput ---- */

static int
compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median(double *values, size_t count)
{
	qsort(values, count, sizeof(*values), compare_doubles);
	return values[count / 2];
}

/*
 * A set of the first count secrets.  walk_only adds a 3-byte needle that
 * never occurs: the q-gram filter needs needles of 4 bytes or more, so the
 * automata then walk every byte, as a plain Aho-Corasick masker would.
 */
static struct mask_set *
make_set(
    const struct secrets *secrets, size_t count, bool forms, bool walk_only)
{
	struct mask_set *set = mask_set_new(NULL, walk_only ? 3 : 0);
	size_t i;

	for (i = 0; i < count; i++)
		if (forms)
			mask_set_add(set, secrets->values[i],
			    strlen(secrets->values[i]), NULL);
		else
			mask_set_add_exact(set, secrets->values[i],
			    strlen(secrets->values[i]), NULL);
	if (walk_only)
		mask_set_add_exact(set, "\x01\x02\x03", 3, NULL);
	mask_set_compact(set);
	return set;
}

/* Medians of CPU and wall time. */
struct timing {
	double cpu;
	double wall;
};

enum engine { ENGINE_MEMCPY, ENGINE_MASKER, ENGINE_NAIVE };

/* Runs one engine RUNS times. */
static struct timing
timed(enum engine engine, int runs, struct mask_set *set,
    const struct needle_list *list, const char *text, size_t total,
    struct sink *sink)
{
	double cpu[64], elapsed[64], c, w;
	struct timing median_of;
	int r;

	for (r = 0; r < runs && r < 64; r++) {
		c = now();
		w = wall();
		if (engine == ENGINE_MEMCPY)
			run_memcpy(text, total, sink);
		else if (engine == ENGINE_MASKER)
			run_masker(set, text, total, sink);
		else
			run_naive(list, text, total, sink);
		cpu[r] = now() - c;
		elapsed[r] = wall() - w;
	}
	median_of.cpu = median(cpu, (size_t)r);
	median_of.wall = median(elapsed, (size_t)r);
	return median_of;
}

static void
list_of(struct needle_list *list, const struct secrets *secrets, size_t count,
    bool forms)
{
	const char *v;
	size_t i;

	memset(list, 0, sizeof(*list));
	for (i = 0; i < count; i++) {
		v = secrets->values[i];
		if (forms)
			mask_forms_each((const unsigned char *)v, strlen(v),
			    list_add, list);
		else
			list_add(list, (const unsigned char *)v, strlen(v));
	}
}

static void
list_free(struct needle_list *list)
{
	size_t i;

	for (i = 0; i < list->count; i++)
		free(list->bytes[i]);
	free(list->bytes);
	free(list->lengths);
}

static void
print_row(const char *engine, size_t secrets, bool forms, size_t needles,
    size_t bytes, struct timing t, struct timing base, const char *memory)
{
	char count[32] = "-", with[8] = "-";

	if (needles > 0) {
		snprintf(count, sizeof(count), "%zu (%zu)", secrets, needles);
		snprintf(with, sizeof(with), "%s", forms ? "yes" : "no");
	}
	printf("| %s | %s | %s | %.3g | %.3g | %.1fx | %s |\n", engine, count,
	    with, (double)bytes / t.cpu / 1e9, (double)bytes / t.wall / 1e9,
	    t.cpu / (double)bytes / (base.cpu / (double)(GIB)), memory);
}

static void
throughput(double gib, int runs)
{
	static const size_t counts[] = { 1, 10, 100, 1000 };
	size_t total = (size_t)(gib * (double)GIB) / CHUNK * CHUNK, c, naive;
	struct sink sink = { malloc(SINK_SIZE), 0, 0, 0 };
	struct timing base, t;
	struct needle_list list;
	struct secrets secrets;
	struct mask_set *set;
	char memory[32];
	char *text;
	int f;

	make_secrets(&secrets, 1000);
	text = make_text(&secrets);
	base = timed(ENGINE_MEMCPY, runs, NULL, NULL, text, GIB, &sink);
	printf(
	    "| engine | secrets (needles) | forms | GB/s (CPU) | GB/s (wall) "
	    "| CPU time vs memcpy | set memory |\n"
	    "|---|---|---|---|---|---|---|\n");
	print_row("memcpy", 0, false, 0, GIB, base, base, "-");
	for (f = 0; f <= 1; f++)
		for (c = 0; c < sizeof(counts) / sizeof(*counts); c++) {
			set = make_set(&secrets, counts[c], f, false);
			sink.tokens = 0;
			t = timed(
			    ENGINE_MASKER, runs, set, NULL, text, total, &sink);
			snprintf(memory, sizeof(memory), "%.1f MiB",
			    (double)mask_set_memory(set) / 1048576);
			print_row("masker", counts[c], f, mask_set_needles(set),
			    total, t, base, memory);
			if (sink.tokens == 0)
				printf("# no token emitted: broken\n");
			mask_set_free(set);

			/* The naive masker on less input when it is slow. */
			list_of(&list, &secrets, counts[c], f);
			naive =
			    (size_t)(15e9 / (double)list.count) / CHUNK * CHUNK;
			if (naive > total)
				naive = total;
			if (naive < CHUNK * 16)
				naive = CHUNK * 16;
			t = timed(ENGINE_NAIVE, runs > 3 ? 3 : runs, NULL,
			    &list, text, naive, &sink);
			print_row("naive memmem", counts[c], f, list.count,
			    naive, t, base, "-");
			list_free(&list);
		}
	set = make_set(&secrets, 1000, true, true);
	t = timed(ENGINE_MASKER, runs, set, NULL, text, total, &sink);
	print_row("masker, automaton walk only", 1000, true,
	    mask_set_needles(set), total, t, base, "-");
	mask_set_free(set);
	free(text);
	free(sink.data);
}

/* ---- registrations ---- */

/*
 * Set-up: a set with count secrets and all their forms, built (what a job
 * does before its first step): the median of runs, in CPU time.
 */
static void
setup(size_t count, int runs)
{
	struct secrets secrets;
	struct mask_set *set;
	double times[64], t;
	size_t needles = 0, i;
	int r;

	if (runs > 64)
		runs = 64;
	make_secrets(&secrets, count);
	for (r = 0; r < runs; r++) {
		t = now();
		set = mask_set_new(NULL, 0);
		for (i = 0; i < count; i++)
			mask_set_add(set, secrets.values[i],
			    strlen(secrets.values[i]), NULL);
		mask_set_compact(set);
		times[r] = now() - t;
		needles = mask_set_needles(set);
		mask_set_free(set);
	}
	printf("set-up of %zu secrets with their forms (%zu needles), built: "
	       "median %.1f ms of %d runs\n",
	    count, needles, median(times, (size_t)runs) * 1e3, runs);
	for (i = 0; i < count; i++)
		free(secrets.values[i]);
	free(secrets.values);
}

static void
registrations(size_t count, size_t nstreams)
{
	struct sink sink = { malloc(SINK_SIZE), 0, 0, 0 };
	struct mask_stream **streams = calloc(nstreams, sizeof(*streams));
	struct mask_set *set = mask_set_new(NULL, 0);
	struct secrets secrets;
	double start, t, worst = 0, each;
	char line[512];
	size_t i, j, n;

	make_secrets(&secrets, count);
	for (i = 0; i < nstreams; i++)
		streams[i] = mask_stream_new(set, sink_emit, &sink);
	start = now();
	for (i = 0; i < count; i++) {
		/* A step prints a line, half a secret held at its end. */
		n = log_line(line);
		memcpy(line + n, secrets.values[rng() % (i + 1)], 10);
		mask_stream_feed(streams[i % nstreams], line, n + 10);
		t = now();
		mask_set_add(
		    set, secrets.values[i], strlen(secrets.values[i]), NULL);
		for (j = 0; j < nstreams; j++)
			mask_stream_rescan(streams[j]);
		each = now() - t;
		if (each > worst)
			worst = each;
	}
	t = now() - start;
	printf("%zu secrets registered one at a time, %zu streams rescanned "
	       "after each:\n",
	    count, nstreams);
	printf("  total %.2f s, %.0f us per registration on average, worst "
	       "%.1f ms\n",
	    t, t / (double)count * 1e6, worst * 1e3);
	printf("  %zu needles, set memory %.1f MiB\n", mask_set_needles(set),
	    (double)mask_set_memory(set) / 1048576);
	t = now();
	mask_set_compact(set);
	t = now() - t;
	printf("  one full build of all of them (mask_set_compact): %.0f ms, "
	       "%.1f MiB after;\n"
	       "  rebuilding everything at each registration would cost about "
	       "%.0f s\n",
	    t * 1e3, (double)mask_set_memory(set) / 1048576,
	    t * (double)count / 2);
	for (i = 0; i < nstreams; i++)
		mask_stream_free(streams[i]);
	mask_set_free(set);
	free(streams);
	free(sink.data);
}

static void
one_row(size_t count, bool forms, double gib, int runs)
{
	struct sink sink = { malloc(SINK_SIZE), 0, 0, 0 };
	size_t total = (size_t)(gib * (double)GIB) / CHUNK * CHUNK;
	struct secrets secrets;
	struct mask_set *set;
	struct timing t;
	char *text;

	make_secrets(&secrets, 1000);
	text = make_text(&secrets);
	set = make_set(&secrets, count, forms, false);
	t = timed(ENGINE_MASKER, runs, set, NULL, text, total, &sink);
	printf("masker, %zu secrets (%zu needles), forms %s: %.3g GB/s (CPU), "
	       "%.3g GB/s (wall), medians of %d\n",
	    count, mask_set_needles(set), forms ? "yes" : "no",
	    (double)total / t.cpu / 1e9, (double)total / t.wall / 1e9, runs);
	if (sink.tokens == 0)
		printf("# no token emitted: broken\n");
	mask_set_free(set);
	free(text);
	free(sink.data);
}

static void
one_stream(size_t count, bool forms, double gib)
{
	struct sink sink = { malloc(SINK_SIZE), 0, 0, 0 };
	struct secrets secrets;
	struct mask_set *set;
	size_t total = (size_t)(gib * (double)GIB) / CHUNK * CHUNK;
	struct rusage usage;
	char *text;
	double t;

	make_secrets(&secrets, count);
	text = make_text(&secrets);
	set = make_set(&secrets, count, forms, false);
	t = now();
	run_masker(set, text, total, &sink);
	t = now() - t;
	getrusage(RUSAGE_SELF, &usage);
	printf("%zu bytes out, %zu tokens, %.2f GB/s, peak RSS %ld KiB\n",
	    sink.total, sink.tokens, (double)total / t / 1e9, usage.ru_maxrss);
	mask_set_free(set);
	free(text);
	free(sink.data);
}

/*
 * The hard case for a filter: secrets made of common words (four of 40,
 * joined by "-", and a number), in text made of the same words, so that
 * nearly every sample is some secret's q-gram.
 */
static const char *const common_words[] = { "build", "test", "error", "warning",
	"password", "token", "secret", "deploy", "server", "client", "request",
	"response", "cache", "worker", "status", "update", "install", "package",
	"module", "config", "database", "connect", "timeout", "retry",
	"success", "failure", "output", "input", "stream", "buffer", "access",
	"denied", "granted", "user", "admin", "service", "account", "project",
	"release", "version" };
#define COMMON_WORDS (sizeof(common_words) / sizeof(*common_words))
#define WORDS_TEXT ((size_t)8 * 1024 * 1024)

static void
words_row(size_t count, double gib, int runs)
{
	struct sink sink = { malloc(SINK_SIZE), 0, 0, 0 };
	size_t total = (size_t)(gib * (double)GIB) / CHUNK * CHUNK, i, done,
	       offset;
	struct mask_set *set = mask_set_new(NULL, 4);
	struct mask_stream *stream;
	char secret[128], *text = malloc(WORDS_TEXT + 256), *p = text;
	double *times = calloc((size_t)runs, sizeof(*times)), t;
	int r, n;

	for (i = 0; i < count; i++) {
		snprintf(secret, sizeof(secret), "%s-%s-%s-%s%02u",
		    common_words[rng() % COMMON_WORDS],
		    common_words[rng() % COMMON_WORDS],
		    common_words[rng() % COMMON_WORDS],
		    common_words[rng() % COMMON_WORDS],
		    (unsigned)(rng() % 100));
		mask_set_add(set, secret, strlen(secret), NULL);
	}
	mask_set_compact(set);
	while ((size_t)(p - text) < WORDS_TEXT) {
		for (n = 5 + (int)(rng() % 8); n > 0; n--)
			p += sprintf(p, "%s%s",
			    common_words[rng() % COMMON_WORDS],
			    rng() % 3 ? " " : "-");
		p[-1] = '\n';
	}
	for (r = 0; r < runs; r++) {
		stream = mask_stream_new(set, sink_emit, &sink);
		t = now();
		for (done = 0, offset = 0; done < total; done += CHUNK) {
			if (offset + CHUNK > WORDS_TEXT)
				offset = 0;
			mask_stream_feed(stream, text + offset, CHUNK);
			offset += CHUNK;
		}
		mask_stream_flush(stream);
		times[r] = now() - t;
		mask_stream_free(stream);
	}
	qsort(times, (size_t)runs, sizeof(*times), compare_doubles);
	printf("masker, %zu secrets of common words (%zu needles), text of "
	       "the same words: %.3g GB/s (CPU), median of %d\n",
	    count, mask_set_needles(set), (double)total / times[runs / 2] / 1e9,
	    runs);
	mask_set_free(set);
	free(times);
	free(text);
	free(sink.data);
}

int
main(int argc, char **argv)
{
	const char *mib = getenv("MASKBENCH_TEXT_MIB");

	if (mib != NULL && atoi(mib) > 0)
		text_size = (size_t)atoi(mib) * 1024 * 1024;
	if (argc >= 2 && strcmp(argv[1], "throughput") == 0) {
		throughput(
		    argc > 2 ? atof(argv[2]) : 1, argc > 3 ? atoi(argv[3]) : 5);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "registrations") == 0) {
		registrations(argc > 2 ? (size_t)atol(argv[2]) : 10000,
		    argc > 3 ? (size_t)atol(argv[3]) : 50);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "setup") == 0) {
		setup(argc > 2 ? (size_t)atol(argv[2]) : 1000,
		    argc > 3 ? atoi(argv[3]) : 9);
		return 0;
	}
	if ((argc == 5 || argc == 6) && strcmp(argv[1], "masker") == 0) {
		one_row((size_t)atol(argv[2]), atoi(argv[3]) != 0,
		    atof(argv[4]), argc > 5 ? atoi(argv[5]) : 5);
		return 0;
	}
	if ((argc == 4 || argc == 5) && strcmp(argv[1], "words") == 0) {
		words_row((size_t)atol(argv[2]), atof(argv[3]),
		    argc > 4 ? atoi(argv[4]) : 5);
		return 0;
	}
	if (argc == 5 && strcmp(argv[1], "stream") == 0) {
		one_stream(
		    (size_t)atol(argv[2]), atoi(argv[3]) != 0, atof(argv[4]));
		return 0;
	}
	fprintf(stderr,
	    "usage: maskbench throughput [GIB [RUNS]]\n"
	    "       maskbench registrations [SECRETS [STREAMS]]\n"
	    "       maskbench setup [SECRETS [RUNS]]\n"
	    "       maskbench masker SECRETS ENCODINGS GIB [RUNS]\n"
	    "       maskbench stream SECRETS ENCODINGS GIB\n"
	    "       maskbench words SECRETS GIB [RUNS]\n");
	return 2;
}
