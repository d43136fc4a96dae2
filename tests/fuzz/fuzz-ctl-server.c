/*
 * libFuzzer target for the control socket's request handling: any bytes
 * as a request body must get a reply that is one JSON object with a
 * "status", never a crash, a leak or a hang.  The register handler reads
 * every byte of every value it is given (the sanitizers catch a length
 * that overruns) and checks that none is empty; once the request is
 * answered "ok", the values from "secrets_base64" (the last ones handed
 * over, in order, over however many calls the handler got) must encode
 * back to the request's texts.
 *
 *   make fuzz && ./tests/fuzz/fuzz-ctl-server -max_total_time=60
 * tests/fuzz/corpus-ctl-server/
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base64.h"
#include "ctl-server.h"

/* The request's "secrets_base64" texts, to compare with the values. */
static json_t *encoded;

/* Every value handed to the handler for one request, encoded in base64. */
static json_t *handed;

static long
accept_all(void *context, char *const *values, const size_t *lengths, size_t n,
    bool untrusted, char **error)
{
	size_t i, k, total = 0;
	char *text;

	(void)context;
	(void)untrusted;
	(void)error;
	for (i = 0; i < n; i++) {
		if (lengths[i] == 0)
			abort();
		for (k = 0; k < lengths[i]; k++)
			total += (unsigned char)values[i][k];
		text = base64_encode(values[i], lengths[i]);
		json_array_append_new(handed, json_string(text));
		free(text);
	}
	return total == 0 ? 0 : (long)n;
}

/* Whether the last values handed are the "secrets_base64" ones, in order. */
static bool
encoded_last(void)
{
	size_t n = json_array_size(encoded), all = json_array_size(handed), i;

	if (all < n)
		return false;
	for (i = 0; i < n; i++)
		if (!json_equal(json_array_get(encoded, i),
			json_array_get(handed, all - n + i)))
			return false;
	return true;
}

/* The "secrets_base64" of body as a list, when body is such a request. */
static json_t *
encoded_of(const uint8_t *data, size_t size)
{
	json_t *request = json_loadb((const char *)data, size,
		   JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL),
	       *member, *list = json_array();

	member = json_object_get(request, "secrets_base64");
	if (json_is_string(member))
		json_array_append(list, member);
	else if (json_is_array(member))
		json_array_extend(list, member);
	json_decref(request);
	return list;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *parsed;
	const char *status;
	char *reply;

	encoded = encoded_of(data, size);
	handed = json_array();
	reply = ctl_server_answer(accept_all, NULL, (const char *)data, size);

	if (reply == NULL)
		abort();
	parsed = json_loads(reply, 0, NULL);
	if (parsed == NULL || !json_is_object(parsed))
		abort();
	status = json_string_value(json_object_get(parsed, "status"));
	if (status == NULL ||
	    (strcmp(status, "ok") != 0 && strcmp(status, "error") != 0))
		abort();
	/* A registration answered "ok" was handed every value. */
	if (json_object_get(parsed, "registered") != NULL && !encoded_last())
		abort();
	json_decref(encoded);
	json_decref(handed);
	json_decref(parsed);
	free(reply);
	return 0;
}
