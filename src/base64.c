/*
 * Base64, the standard alphabet with padding (base64.h): the JSON log's
 * bytes that are not text, and the control socket's byte-safe secrets.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "list.h"
#include "xalloc.h"

static const char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *
base64_encode(const void *data, size_t size)
{
	const unsigned char *in = data;
	char *text = xmalloc((size + 2) / 3 * 4 + 1), *out = text;
	uint32_t group;
	size_t i;

	for (i = 0; i + 2 < size; i += 3) {
		group = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];
		*out++ = base64_alphabet[group >> 18];
		*out++ = base64_alphabet[group >> 12 & 63];
		*out++ = base64_alphabet[group >> 6 & 63];
		*out++ = base64_alphabet[group & 63];
	}
	if (i < size) {
		group = (uint32_t)in[i] << 16 |
		    (i + 1 < size ? (uint32_t)in[i + 1] << 8 : 0);
		*out++ = base64_alphabet[group >> 18];
		*out++ = base64_alphabet[group >> 12 & 63];
		*out++ = i + 1 < size ? base64_alphabet[group >> 6 & 63] : '=';
		*out++ = '=';
	}
	*out = '\0';
	return text;
}

/* The value of a base64 character, or -1: a table, as a 1 MiB request
 * is decoded while the event loop waits. */
static int
base64_value(char c)
{
	static signed char values[256];
	static bool ready;
	size_t i;

	if (!ready) {
		memset(values, -1, sizeof(values));
		for (i = 0; i < 64; i++)
			values[(unsigned char)base64_alphabet[i]] =
			    (signed char)i;
		ready = true;
	}
	return values[(unsigned char)c];
}

unsigned char *
base64_decode(const char *text, size_t length, size_t *size, size_t *bad)
{
	unsigned char *out;
	size_t i, n = 0, padding = 0;
	uint32_t group = 0;
	int value;

	*size = 0;
	while (padding < 2 && padding < length &&
	    text[length - 1 - padding] == '=')
		padding++;
	for (i = 0; i < length - padding; i++) {
		if (base64_value(text[i]) < 0) {
			*bad = i;
			return NULL;
		}
	}
	*bad = length;
	if (length % 4 != 0)
		return NULL;
	out = xmalloc(length / 4 * 3 + 1);
	for (i = 0; i < length - padding; i++) {
		value = base64_value(text[i]);
		group = group << 6 | (uint32_t)value;
		if (i % 4 == 3) {
			out[n++] = (unsigned char)(group >> 16);
			out[n++] = (unsigned char)(group >> 8);
			out[n++] = (unsigned char)group;
			group = 0;
		}
	}
	/* The last group: 2 or 3 characters, their unused bits zero. */
	if (padding == 2) {
		if ((group & 0xf) != 0) {
			*bad = length - 3;
			goto fail;
		}
		out[n++] = (unsigned char)(group >> 4);
	} else if (padding == 1) {
		if ((group & 0x3) != 0) {
			*bad = length - 2;
			goto fail;
		}
		out[n++] = (unsigned char)(group >> 10);
		out[n++] = (unsigned char)(group >> 2);
	}
	out[n] = '\0';
	*size = n;
	return out;
fail:
	wipe(out, length / 4 * 3 + 1);
	free(out);
	return NULL;
}
