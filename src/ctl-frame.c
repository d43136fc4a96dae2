/*
 * The control socket's framing (ctl-frame.h): the few lines that the
 * server and the client must agree on byte for byte.
 */
#include "config.h"

#include <string.h>

#include "ctl-frame.h"
#include "list.h"
#include "xalloc.h"

void
ctl_frame_put_length(unsigned char out[CTL_FRAME_HEADER], uint32_t length)
{
	out[0] = (unsigned char)(length >> 24);
	out[1] = (unsigned char)(length >> 16);
	out[2] = (unsigned char)(length >> 8);
	out[3] = (unsigned char)length;
}

uint32_t
ctl_frame_get_length(const unsigned char header[CTL_FRAME_HEADER])
{
	return (uint32_t)header[0] << 24 | (uint32_t)header[1] << 16 |
	    (uint32_t)header[2] << 8 | header[3];
}

bool
ctl_frame_length_valid(uint32_t length)
{
	return length > 0 && length <= CTL_FRAME_MAX;
}

char *
ctl_frame_encode_request(json_t *request, size_t *size)
{
	size_t length = json_dumpb(request, NULL, 0, JSON_COMPACT);
	char *frame;

	*size = 0;
	if (length == 0 || length > CTL_FRAME_MAX)
		return NULL;
	frame = xmalloc(CTL_FRAME_HEADER + length);
	if (json_dumpb(request, frame + CTL_FRAME_HEADER, length,
		JSON_COMPACT) != length) {
		wipe(frame, CTL_FRAME_HEADER + length);
		free(frame);
		return NULL;
	}
	ctl_frame_put_length((unsigned char *)frame, (uint32_t)length);
	*size = CTL_FRAME_HEADER + length;
	return frame;
}

char *
ctl_frame_encode_reply(json_t *reply, size_t *size)
{
	char *text = json_dumps(reply, JSON_COMPACT | JSON_PRESERVE_ORDER);
	size_t length;

	*size = 0;
	if (text == NULL)
		return NULL;
	length = strlen(text);
	text = xreallocarray(text, length + 2, 1);
	text[length] = '\n';
	text[length + 1] = '\0';
	*size = length + 1;
	return text;
}

json_t *
ctl_frame_error(const char *message)
{
	json_t *reply = json_object(), *text = json_string(message);

	/* json_string() refuses text that is not UTF-8: say so instead. */
	if (text == NULL)
		text = json_string("the request failed (the reason is not "
				   "UTF-8 text)");
	json_object_set_new(reply, "status", json_string("error"));
	json_object_set_new(reply, "error", text);
	return reply;
}

json_t *
ctl_frame_ok(void)
{
	return json_pack("{s:s}", "status", "ok");
}

json_t *
ctl_frame_decode_reply(const char *line, size_t length)
{
	json_t *reply;

	if (length > 0 && line[length - 1] == '\n')
		length--;
	reply = json_loadb(line, length, 0, NULL);
	if (reply == NULL || !json_is_object(reply) ||
	    !json_is_string(json_object_get(reply, "status"))) {
		json_decref(reply);
		return NULL;
	}
	return reply;
}

static const char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *
ctl_frame_base64_encode(const void *data, size_t size)
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
ctl_frame_base64_decode(
    const char *text, size_t length, size_t *size, size_t *bad)
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
