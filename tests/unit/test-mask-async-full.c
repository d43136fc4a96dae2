/*
 * A full mask set off the event loop (mask-async.h), built with a 64 KiB
 * arena (MASK_ARENA_MAX) so that one long secret fills it: the ticket of
 * the request that did not fit says why, and a later request that fits
 * (a secret already known: its forms take no room) settles without that
 * error, as mask_set_add() would take it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "loop.h"
#include "mask-async.h"
#include "mask.h"
#include "tap.h"
#include "worker.h"

/* Turns the loop until ticket settles; returns its error (or NULL). */
static char *
settle(struct loop *loop, struct mask_async *async, uint64_t ticket)
{
	char *error = NULL;
	int turns = 0;

	while (!mask_async_settled(async, ticket, &error) && turns++ < 100000)
		loop_once(loop, 1000);
	return error;
}

int
main(void)
{
	struct mask_set *set = mask_set_new(NULL, 0);
	struct loop *loop = loop_new();
	char *error = NULL, *known = strdup("known-secret-4b1d9e7f0a"), *big;
	struct worker *worker = worker_new(loop, &error);
	struct mask_async *async = mask_async_new(set, worker, NULL, NULL);
	size_t known_length = strlen(known), big_length = 60000, i;
	char *masked;
	uint64_t t;

	big = malloc(big_length);
	for (i = 0; i < big_length; i++)
		big[i] = (char)('a' + (i * 7 + i / 26) % 26);

	t = mask_async_add(async, &known, &known_length, 1, false);
	error = settle(loop, async, t);
	ok(error == NULL, "a short secret fits");
	free(error);

	t = mask_async_add(async, &big, &big_length, 1, false);
	error = settle(loop, async, t);
	ok(error != NULL && strstr(error, "cannot mask more secrets") != NULL,
	    "a secret past the arena's room fails its ticket, saying why");
	free(error);

	t = mask_async_add(async, &known, &known_length, 1, false);
	error = settle(loop, async, t);
	ok(error == NULL, "a later request that fits settles without it");
	free(error);

	masked = mask_string(set, known, known_length, NULL);
	is_str(masked, "***", "and the known secret is masked");
	free(masked);

	worker_free(worker);
	mask_async_free(async);
	loop_free(loop);
	mask_set_free(set);
	free(big);
	free(known);
	return done_testing();
}
