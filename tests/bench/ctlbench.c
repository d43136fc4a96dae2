/*
 * What one 1 MiB control-socket request costs the event loop: the body is
 * answered as the server answers it (JSON parse, base64 decode, caps),
 * and the handler does what the runner's does (each secret into a mask
 * set, then a stream rescans so the new automaton level is built).
 * Prints the wall time of each form; count instructions with
 *   valgrind --tool=callgrind tests/bench/ctlbench 1 server
 * Built with: make tests/bench/ctlbench
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "clock.h"
#include "ctl-frame.h"
#include "ctl-server.h"
#include "mask.h"

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
    char **error)
{
	(void)context;
	(void)values;
	(void)lengths;
	(void)error;
	return (long)n;
}

static long
add_all(void *context, char *const *values, const size_t *lengths, size_t n,
    char **error)
{
	uint64_t start = clock_now_ms(), took;
	size_t i;

	(void)context;
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

int
main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 5, form, r;
	uint64_t start;
	size_t length;
	char *body, *reply;

	/* "ctlbench N server": the server's own part alone. */
	int forms = argc > 2 && strcmp(argv[2], "server") == 0 ? 2 : 4;

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
