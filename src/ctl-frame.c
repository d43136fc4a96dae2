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
