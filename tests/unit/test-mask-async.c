/*
 * Unit tests for adding secrets off the event loop (mask.h, "Adding
 * secrets off the event loop"; mask-async.h; worker.h): secrets added by
 * the worker are masked exactly as mask_set_add() masks them, once their
 * ticket settles; a build that something else overtakes is cancelled and
 * nothing is lost; freeing with work in flight leaks nothing.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "loop.h"
#include "mask-async.h"
#include "mask.h"
#include "tap.h"
#include "worker.h"

static int settled_calls;

static void
on_settled(void *context)
{
	(void)context;
	settled_calls++;
}

/* A text holding every secret plainly, base64-encoded and split. */
static char *
text_of(char **secrets, size_t *lengths, size_t n, size_t *size)
{
	size_t cap = 64, used = 0, i, add;
	char *text = malloc(cap), *encoded;

	for (i = 0; i < n; i++) {
		encoded = base64_encode(secrets[i], lengths[i]);
		add = lengths[i] + strlen(encoded) + 32;
		while (used + add > cap)
			text = realloc(text, cap *= 2);
		used += (size_t)sprintf(text + used, "a ");
		memcpy(text + used, secrets[i], lengths[i]);
		used += lengths[i];
		used += (size_t)sprintf(text + used, " b %s c\n", encoded);
		free(encoded);
	}
	*size = used;
	return text;
}

static char *
random_secret(size_t size)
{
	char *s = malloc(size + 1);
	size_t i;

	for (i = 0; i < size; i++)
		s[i] = (char)('a' + rand() % 26);
	s[size] = '\0';
	return s;
}

static void
test_same_as_add(void)
{
	char *secrets[4];
	size_t lengths[4] = { 60000, 4096, 40, 0 }, n = 4, size, i;
	struct mask_set *async_set = mask_set_new(NULL, 0);
	struct mask_set *sync_set = mask_set_new(NULL, 0);
	struct loop *loop = loop_new();
	char *error = NULL, *text, *a, *b;
	struct worker *worker = worker_new(loop, &error);
	struct mask_async *async =
	    mask_async_new(async_set, worker, on_settled, NULL);
	uint64_t first, second;
	int turns = 0;

	for (i = 0; i < 3; i++)
		secrets[i] = random_secret(lengths[i]);
	secrets[3] = strdup("line one of it\nline two of it\n");
	lengths[3] = strlen(secrets[3]);
	for (i = 0; i < n; i++)
		mask_set_add(sync_set, secrets[i], lengths[i], NULL);
	text = text_of(secrets, lengths, n, &size);

	first = mask_async_add(async, secrets, lengths, 2, false);
	second = mask_async_add(async, secrets + 2, lengths + 2, 2, false);
	ok(first == 1 && second == 2, "tickets count up");
	ok(!mask_async_settled(async, first, NULL),
	    "a ticket is not settled at once");
	a = mask_string(async_set, text, size, NULL);
	ok(strstr(a, secrets[2]) != NULL,
	    "a secret is not masked before its ticket settles");
	free(a);
	while (!mask_async_settled(async, second, &error) && turns++ < 100000)
		loop_once(loop, 1000);
	ok(mask_async_settled(async, first, NULL) && error == NULL,
	    "both tickets settle, without an error");
	ok(settled_calls > 0, "the settled callback ran");
	a = mask_string(async_set, text, size, NULL);
	b = mask_string(sync_set, text, size, NULL);
	is_str(a, b, "the output is masked as by mask_set_add()");
	ok(mask_set_secrets(async_set) == mask_set_secrets(sync_set) &&
		mask_set_needles(async_set) == mask_set_needles(sync_set),
	    "with the same secrets and needles");
	free(a);
	free(b);
	worker_free(worker);
	mask_async_free(async);
	loop_free(loop);
	for (i = 0; i < n; i++)
		free(secrets[i]);
	free(text);
	mask_set_free(async_set);
	mask_set_free(sync_set);
}

static void
test_cancelled(void)
{
	struct mask_set *set = mask_set_new(NULL, 0);
	const char *one = "first-secret-value-0001";
	const char *two = "second-secret-value-0002";
	struct mask_prepared *p = mask_prepare(one, strlen(one), 0);
	struct mask_build *b;
	char text[200], *out;

	while (!mask_prepared_done(p))
		mask_set_add_prepared(set, p, 16, NULL);
	mask_prepared_free(p);
	b = mask_set_build_start(set);
	ok(b != NULL, "a build starts for the prepared needles");
	ok(mask_set_build_start(set) == NULL, "only one at a time");
	while (!mask_set_build_copy(set, b, 8))
		continue;
	snprintf(text, sizeof(text), "%s %s", one, two);
	out = mask_string(set, text, strlen(text), NULL);
	ok(strstr(out, one) != NULL, "a deferred needle is not built");
	free(out);
	/* Added the usual way: the next stream builds everything now. */
	mask_set_add(set, two, strlen(two), NULL);
	out = mask_string(set, text, strlen(text), NULL);
	is_str(out, "*** ***", "an add overtakes the build: both are masked");
	free(out);
	mask_build_run(b);
	ok(!mask_set_build_finish(set, b), "the overtaken build is dropped");
	mask_build_free(b);
	out = mask_string(set, text, strlen(text), NULL);
	is_str(out, "*** ***", "and nothing is lost");
	free(out);
	mask_set_free(set);
}

static void
test_free_in_flight(void)
{
	struct mask_set *set = mask_set_new(NULL, 0);
	struct loop *loop = loop_new();
	char *error = NULL, *secret = random_secret(60000);
	struct worker *worker = worker_new(loop, &error);
	struct mask_async *async = mask_async_new(set, worker, NULL, NULL);
	size_t length = 60000;
	int i;

	for (i = 0; i < 4; i++) {
		secret[0] = (char)('a' + i);
		mask_async_add(async, &secret, &length, 1, false);
	}
	loop_once(loop, 10);
	worker_free(worker);
	mask_async_free(async);
	ok(true, "freeing with work in flight returns (ASan: no leak)");
	free(secret);
	loop_free(loop);
	mask_set_free(set);
}

int
main(void)
{
	test_same_as_add();
	test_cancelled();
	test_free_in_flight();
	return done_testing();
}
