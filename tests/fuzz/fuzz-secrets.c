/*
 * A libFuzzer target for the parsers a secret's value goes through before
 * it is masked (secrets.h): dotenv files (secrets_parse_dotenv(),
 * secrets_dotenv_only()) and documents (secrets_structured_each(): JSON,
 * YAML, INI, .netrc).  A value registered over the control socket comes
 * from any step, untrusted ones included.  Any bytes must parse without a
 * crash, a hang or a sanitizer's report, and every value handed on must
 * lie inside the input or be a value the parser decoded (never longer
 * than the input).
 *
 *	make fuzz-run FUZZ_SECONDS=60
 *	./tests/fuzz/fuzz-secrets -max_len=65536 tests/fuzz/corpus-secrets
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "secrets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t input_size;
static volatile size_t sink; /* keeps the reads of every value */

static int
dotenv_value(void *context, const char *value, size_t length)
{
	size_t *total = context;

	/* A value reads every byte of it (ASan checks the bounds). */
	for (size_t i = 0; i < length; i++)
		*total += (unsigned char)value[i];
	if (length > input_size)
		abort();
	return 0;
}

static void
dotenv_skip(void *context, size_t line, const char *why)
{
	(void)context;
	if (line == 0 || why == NULL || why[0] == '\0')
		abort();
}

static void
member(void *context, const char *value, size_t length)
{
	size_t *total = context;

	for (size_t i = 0; i < length; i++)
		*total += (unsigned char)value[i];
	if (length == 0 || length > input_size)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly size bytes: a read past it is ASan's. */
	char *text = malloc(size ? size : 1);
	size_t total = 0;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	input_size = size;
	(void)secrets_parse_dotenv(
	    text, size, dotenv_value, dotenv_skip, &total);
	(void)secrets_dotenv_only(text, size);
	(void)secrets_structured_each(text, size, member, &total);
	free(text);
	sink = total;
	return 0;
}
