/*
 * Base64 with the standard alphabet and padding (RFC 4648, section 4).
 */
#ifndef JOBRUN_BASE64_H
#define JOBRUN_BASE64_H

#include <stddef.h>

/*
 * base64_encode() returns the text of size bytes of data, without line
 * breaks (caller wipes and frees).  base64_decode() returns the
 * bytes (caller wipes and frees; NUL-terminated past *size), or NULL when
 * text is not such base64, with *bad the offset of the first character
 * at fault (length itself when the length is not a multiple of 4).
 */
char *base64_encode(const void *data, size_t size);
unsigned char *base64_decode(
    const char *text, size_t length, size_t *size, size_t *bad);

#endif
