/*
 * What one 1 MiB control-socket request costs the event loop: the body is
 * answered as the server answers it (JSON parse, base64 decode, caps),
 * and the handler does what the runner's does (each secret into a mask
 * set, then a stream rescans so the new automaton level is built).
 * Prints the wall time of each form; count instructions with
 *   valgrind --tool=callgrind tests/bench/ctlbench 1 server
 *
 * "ctlbench N loop" drives a real event loop instead: a child keeps a
 * pipe full (as a step's output, masked by a stream of the set), another
 * sends the 1 MiB request over a real control socket, and the loop
 * serves both until the reply arrives, as the runner does (the server's
 * ctl_server_expire() every turn).  It prints the longest and the median
 * gap between two reads of the busy pipe, with the masker's work on the
 * loop (before) and on the worker thread (after), side by side.
 * Built with: make tests/bench/ctlbench
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base64.h"
#include "clock.h"
#include "ctl-frame.h"
#include "ctl-server.h"
#include "loop.h"
#include "mask-async.h"
#include "mask.h"
#include "worker.h"

static struct mask_set *set;
static struct mask_stream *stream;
/* The longest and the total time of one call of the handler: the server
 * hands it at most 4 KiB of secrets (or one secret) per turn of the loop. */
static uint64_t longest_call, handler_total;

static void
discard(void *context, const char *data, size_t size)
{
	(void)context;
	(void)data;
	(void)size;
}

/* The server's own part: the values are handed over and dropped. */
static long
drop_all(void *context, char *const *values, const size_t *lengths, size_t n,
    bool untrusted, char **error)
{
	(void)context;
	(void)untrusted;
	(void)values;
	(void)lengths;
	(void)error;
	return (long)n;
}

static long
add_all(void *context, char *const *values, const size_t *lengths, size_t n,
    bool untrusted, char **error)
{
	uint64_t start = clock_now_ms(), took;
	size_t i;

	(void)context;
	(void)untrusted;
	for (i = 0; i < n; i++)
		if (mask_set_add(set, values[i], lengths[i], error) < 0)
			return -1;
	mask_stream_rescan(stream);
	took = clock_now_ms() - start;
	handler_total += took;
	if (took > longest_call)
		longest_call = took;
	return (long)n;
}

/* A register body of just under CTL_FRAME_MAX bytes: secrets of 60,000
 * random bytes, as text (printable) or base64 (any bytes). */
static char *
body_of(bool base64, size_t *length)
{
	size_t cap = CTL_FRAME_MAX, used, raw = 60000, i;
	char *body = malloc(cap), *value = malloc(raw + 1), *encoded;

	used = (size_t)sprintf(body, "{\"action\":\"register\",\"%s\":[",
	    base64 ? "secrets_base64" : "secrets");
	for (;;) {
		for (i = 0; i < raw; i++)
			value[i] =
			    base64 ? (char)rand() : (char)('a' + rand() % 26);
		value[raw] = '\0';
		encoded = base64 ? base64_encode(value, raw) : strdup(value);
		if (used + strlen(encoded) + 8 > cap) {
			free(encoded);
			break;
		}
		used += (size_t)sprintf(body + used, "%s\"%s\"",
		    body[used - 1] == '[' ? "" : ",", encoded);
		free(encoded);
	}
	used += (size_t)sprintf(body + used, "]}");
	free(value);
	*length = used;
	return body;
}

/* ---- a real loop ---- */

static uint64_t
now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000 + (uint64_t)t.tv_nsec / 1000;
}

struct bench_loop {
	struct mask_async *async;
	uint64_t last; /* the last read of the busy pipe */
	uint64_t *gaps;
	size_t ngaps;
	size_t cap;
	bool replied;
	char reply[200];
};

static long
loop_register(void *context, char *const *values, const size_t *lengths,
    size_t n, bool untrusted, char **error)
{
	struct bench_loop *b = context;
	size_t i;
	long accepted = 0;
	int rc;

	(void)untrusted;
	for (i = 0; i < n; i++) {
		rc = b->async != NULL
		    ? mask_set_check(set, values[i], lengths[i], error)
		    : mask_set_add(set, values[i], lengths[i], error);
		if (rc < 0)
			return -1;
		accepted += rc == 0;
	}
	if (b->async != NULL)
		mask_async_add(b->async, values, lengths, n, false);
	else
		mask_stream_rescan(stream);
	return accepted;
}

static void
loop_settled(void *context)
{
	(void)context;
	mask_stream_rescan(stream);
}

static uint64_t
loop_ticket(void *context)
{
	return mask_async_ticket(((struct bench_loop *)context)->async);
}

static bool
loop_is_settled(void *context, uint64_t ticket, char **error)
{
	return mask_async_settled(
	    ((struct bench_loop *)context)->async, ticket, error);
}

static void
on_busy(struct loop *loop, int fd, uint32_t events, void *data)
{
	struct bench_loop *b = data;
	char buffer[16384];
	ssize_t n = read(fd, buffer, sizeof(buffer));
	uint64_t t = now_us();

	(void)loop;
	(void)events;
	if (n > 0)
		mask_stream_feed(stream, buffer, (size_t)n);
	if (b->last != 0) {
		if (b->ngaps == b->cap) {
			b->cap = b->cap ? 2 * b->cap : 4096;
			b->gaps = realloc(b->gaps, b->cap * sizeof(*b->gaps));
		}
		b->gaps[b->ngaps++] = t - b->last;
	}
	b->last = t;
}

static void
on_reply(struct loop *loop, int fd, uint32_t events, void *data)
{
	struct bench_loop *b = data;
	ssize_t n = read(fd, b->reply, sizeof(b->reply) - 1);

	(void)loop;
	(void)events;
	b->reply[n > 0 ? n : 0] = '\0';
	b->replied = true;
}

/* A child: sends body as one frame to path, writes the reply to out. */
static void
send_request(const char *path, const char *body, size_t length, int out)
{
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	unsigned char header[CTL_FRAME_HEADER];
	char reply[200];
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ssize_t n;

	snprintf(address.sun_path, sizeof(address.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&address, sizeof(address)) < 0)
		_exit(1);
	ctl_frame_put_length(header, (uint32_t)length);
	if (write(fd, header, sizeof(header)) < 0 ||
	    write(fd, body, length) < 0)
		_exit(1);
	n = read(fd, reply, sizeof(reply));
	if (n > 0 && write(out, reply, (size_t)n) < 0)
		_exit(1);
	_exit(0);
}

static int
compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* CPU time of the calling thread, µs: what a turn of the loop did,
 * without the time it waited, or was not given a core. */
static uint64_t
thread_cpu_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (uint64_t)t.tv_sec * 1000000 + (uint64_t)t.tv_nsec / 1000;
}

/* One request served by a real loop: the longest and median gap, the
 * longest turn's CPU time, ms. */
static void
serve_once(const char *body, size_t length, bool threaded, double *longest,
    double *median, double *turn_cpu, double *total, char *reply,
    size_t reply_size)
{
	struct bench_loop b = { 0 };
	struct loop *loop = loop_new();
	struct worker *worker = NULL;
	struct ctl_server *server;
	int busy[2], answer[2], timeout;
	pid_t writer, client;
	uint64_t start, cpu, busiest = 0;
	char *error = NULL;
	static char chunk[4096];

	set = mask_set_new(NULL, 0);
	stream = mask_stream_new(set, discard, NULL);
	server = ctl_server_open(loop, loop_register, &b, &error);
	if (server == NULL) {
		fprintf(stderr, "ctlbench: %s\n", error);
		exit(1);
	}
	if (threaded) {
		worker = worker_new(loop, &error);
		b.async = mask_async_new(set, worker, loop_settled, &b);
		ctl_server_use_worker(server, worker);
		ctl_server_settle(server, loop_ticket, loop_is_settled);
	}
	if (pipe(busy) < 0 || pipe(answer) < 0)
		exit(1);
	memset(chunk, 'x', sizeof(chunk));
	if ((writer = fork()) == 0) {
		close(busy[0]);
		while (write(busy[1], chunk, sizeof(chunk)) > 0)
			continue;
		_exit(0);
	}
	close(busy[1]);
	loop_add(loop, busy[0], EPOLLIN, on_busy, &b);
	loop_add(loop, answer[0], EPOLLIN, on_reply, &b);
	/* Some turns before, for the pipe to flow. */
	for (timeout = 0; timeout < 100; timeout++)
		loop_once(loop, 100);
	b.ngaps = 0;
	start = now_us();
	if ((client = fork()) == 0)
		send_request(ctl_server_path(server), body, length, answer[1]);
	while (!b.replied) {
		cpu = thread_cpu_us();
		timeout = ctl_server_expire(server, clock_now_ms());
		loop_once(loop, timeout < 0 || timeout > 100 ? 100 : timeout);
		cpu = thread_cpu_us() - cpu;
		if (cpu > busiest)
			busiest = cpu;
	}
	*total = (double)(now_us() - start) / 1000;
	*turn_cpu = (double)busiest / 1000;
	kill(writer, SIGKILL);
	waitpid(writer, NULL, 0);
	waitpid(client, NULL, 0);
	qsort(b.gaps, b.ngaps, sizeof(*b.gaps), compare_u64);
	*longest = b.ngaps ? (double)b.gaps[b.ngaps - 1] / 1000 : 0;
	*median = b.ngaps ? (double)b.gaps[b.ngaps / 2] / 1000 : 0;
	snprintf(reply, reply_size, "%s", b.reply);
	reply[strcspn(reply, "\n")] = '\0';
	ctl_server_close(server);
	worker_free(worker);
	mask_async_free(b.async);
	loop_remove(loop, busy[0]);
	loop_remove(loop, answer[0]);
	close(busy[0]);
	close(answer[0]);
	close(answer[1]);
	loop_free(loop);
	mask_stream_free(stream);
	mask_set_free(set);
	free(b.gaps);
}

static int
compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* "ctlbench N loop": before and after, N rounds each, medians. */
static int
bench_loop(int rounds)
{
	double longest[2][64], median[2][64], turn[2][64], total[2][64];
	char reply[200];
	size_t length;
	char *body;
	int form, r, t;

	signal(SIGPIPE, SIG_IGN);
	if (rounds > 64)
		rounds = 64;
	printf("| form | masker | longest gap (median of %d) | median gap "
	       "| longest gap, worst round | longest turn, CPU | whole "
	       "request |\n"
	       "|---|---|---|---|---|---|---|\n",
	    rounds);
	for (form = 0; form < 2; form++) {
		body = body_of(form == 1, &length);
		for (r = 0; r < rounds; r++)
			for (t = 0; t < 2; t++) {
				serve_once(body, length, t == 1, &longest[t][r],
				    &median[t][r], &turn[t][r], &total[t][r],
				    reply, sizeof(reply));
				if (strstr(reply, "\"ok\"") == NULL)
					fprintf(
					    stderr, "ctlbench: %s\n", reply);
			}
		for (t = 0; t < 2; t++) {
			qsort(longest[t], (size_t)rounds, sizeof(double),
			    compare_double);
			qsort(median[t], (size_t)rounds, sizeof(double),
			    compare_double);
			qsort(turn[t], (size_t)rounds, sizeof(double),
			    compare_double);
			qsort(total[t], (size_t)rounds, sizeof(double),
			    compare_double);
			printf("| %s | %s | %.2f ms | %.3f ms | %.2f ms | "
			       "%.2f ms | %.0f ms |\n",
			    form ? "secrets_base64" : "secrets",
			    t ? "worker thread" : "on the loop",
			    longest[t][rounds / 2], median[t][rounds / 2],
			    longest[t][rounds - 1], turn[t][rounds / 2],
			    total[t][rounds / 2]);
		}
		free(body);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 5, form, r;
	uint64_t start;
	size_t length;
	char *body, *reply;

	/* "ctlbench N server": the server's own part alone. */
	int forms = argc > 2 && strcmp(argv[2], "server") == 0 ? 2 : 4;

	if (argc > 2 && strcmp(argv[2], "loop") == 0)
		return bench_loop(rounds);
	for (form = 0; form < forms; form++) {
		body = body_of(form % 2 == 1, &length);
		for (r = 0; r < rounds; r++) {
			set = mask_set_new(NULL, 0);
			stream = mask_stream_new(set, discard, NULL);
			longest_call = handler_total = 0;
			start = clock_now_ms();
			reply = ctl_server_answer(
			    form < 2 ? drop_all : add_all, NULL, body, length);
			printf("%s, %zu bytes, %s: %llu ms in all, %llu ms "
			       "in the server; one secret at most %llu ms: "
			       "%.50s\n",
			    form % 2 ? "secrets_base64" : "secrets", length,
			    form < 2 ? "server only" : "with the masker",
			    (unsigned long long)(clock_now_ms() - start),
			    (unsigned long long)(clock_now_ms() - start -
				handler_total),
			    (unsigned long long)longest_call, reply);
			free(reply);
			mask_stream_free(stream);
			mask_set_free(set);
		}
		free(body);
	}
	return 0;
}
