/*
 * The control socket's wire format, shared by the server (ctl-server.h)
 * and the client (ctl-client.h).  It is runnerlib's, unchanged:
 *
 *   request: a 4-byte big-endian length, then that many bytes of a JSON
 *            object with an "action";
 *   reply:   one JSON object and a newline (no length prefix), with a
 *            "status" of "ok" or "error" (then an "error" message).
 *
 * A request body is 1 to CTL_FRAME_MAX bytes; a reply line at most
 * CTL_REPLY_MAX bytes.  Request bodies may hold secrets: every buffer
 * made here that held one is the caller's to wipe (wipe(), list.h).
 */
#ifndef JOBRUN_CTL_FRAME_H
#define JOBRUN_CTL_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define CTL_FRAME_HEADER 4
#define CTL_FRAME_MAX (1024 * 1024)
#define CTL_REPLY_MAX (64 * 1024)

/* Writes length as the 4-byte big-endian header into out. */
void ctl_frame_put_length(unsigned char out[CTL_FRAME_HEADER], uint32_t length);

/* Returns the length a 4-byte header announces. */
uint32_t ctl_frame_get_length(const unsigned char header[CTL_FRAME_HEADER]);

/* True when a body of length bytes may be sent (1 to CTL_FRAME_MAX). */
bool ctl_frame_length_valid(uint32_t length);

/*
 * Encodes request (borrowed) as one frame: header and compact JSON.
 * Returns the frame (caller wipes and frees) with its size in *size, or
 * NULL when it cannot be encoded or is larger than CTL_FRAME_MAX.
 */
char *ctl_frame_encode_request(json_t *request, size_t *size);

/*
 * Encodes reply (borrowed) as one reply line: compact JSON and "\n".
 * Returns the line (caller frees) with its size in *size, or NULL when
 * memory runs out.
 */
char *ctl_frame_encode_reply(json_t *reply, size_t *size);

/* Returns a new {"status":"error","error":message} (message copied). */
json_t *ctl_frame_error(const char *message);

/* Returns a new {"status":"ok"}. */
json_t *ctl_frame_ok(void);

/*
 * Decodes one reply line of length bytes (its newline optional).
 * Returns the reply (caller decrefs), or NULL when it is not a JSON
 * object with a "status" string.
 */
json_t *ctl_frame_decode_reply(const char *line, size_t length);

#endif
