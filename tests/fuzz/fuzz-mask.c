/*
 * A libFuzzer target for the secret masker: the input chooses the needles
 * (exact, or secrets with all their forms), maybe some patterns, the text
 * and how it is cut into writes, with rescans and compactions in between.
 * The stream's output must equal the one-shot reference masker's
 * (tests/unit/maskref.h) and, without patterns, a stream must never hold
 * more than the longest suffix that is a proper prefix of a needle.  Any
 * difference aborts.
 *
 * The input: a flags byte (bit 0: secrets with their forms, bit 1:
 * patterns, bits 2-4: number of needles - 1, bit 5: one automaton level
 * per needle), a pattern byte, then each
 * needle as a length byte (1 to 16) and its bytes, then a byte seeding the
 * cutting, then the text (at most 2 KiB).
 *
 *	make fuzz                          # builds tests/fuzz/fuzz-mask too
 *	make fuzz-run FUZZ_SECONDS=600     # fuzzes each target that long
 *	./tests/fuzz/fuzz-mask crash-FILE  # replays one input
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mask.h"
#include "mask-forms.h"
#include "maskref.h"

#define TEXT_MAX 2048

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const patterns[] = { "ab+a", "b{2,}c", "^a.b", "ba$",
	"(?<=a)bb", "\\bab", "a(?=b)", "[ab]{3}c?", "b\\s+a", "x*", "\\d{3,}",
	"ghp_[A-Za-z0-9]{4}" };

struct output {
	unsigned char *data;
	size_t used;
	size_t size;
};

static void
collect(void *context, const char *bytes, size_t size)
{
	struct output *out = context;

	if (out->used + size > out->size) {
		out->size = (out->used + size) * 2 + 64;
		out->data = realloc(out->data, out->size);
	}
	memcpy(out->data + out->used, bytes, size);
	out->used += size;
}

static void
ref_add_form(void *context, const unsigned char *bytes, size_t size)
{
	if (size >= 4)
		maskref_add(context, bytes, size, 4);
}

/* Reads the needles; returns where the rest of the input begins. */
static size_t
read_needles(struct mask_set *set, struct maskref *ref, const uint8_t *data,
    size_t size, size_t pos, size_t count, int forms,
    struct mask_stream *levels)
{
	size_t length;

	while (count-- > 0 && pos < size) {
		length = data[pos++] % 16 + 1;
		if (length > size - pos)
			length = size - pos;
		if (length == 0)
			break;
		if (forms) {
			if (mask_set_add(set, data + pos, length, NULL) == 0)
				mask_forms_each(
				    data + pos, length, ref_add_form, ref);
		} else {
			mask_set_add_exact(set, data + pos, length, NULL);
			maskref_add(ref, data + pos, length, 1);
		}
		if (levels != NULL)
			mask_stream_rescan(levels);
		pos += length;
	}
	return pos;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct maskref ref = { 0 };
	struct output got = { NULL, 0, 0 };
	struct mask_stream *s;
	struct mask_set *set;
	unsigned char *want, *piece;
	size_t pos, text, n, want_size, i;
	unsigned cut;
	int forms;

	if (size < 3)
		return 0;
	forms = data[0] & 1;
	set = mask_set_new("*", forms ? 4 : 1);
	if (data[0] & 2)
		for (i = 0; i < 1 + data[1] % 2; i++) {
			const char *p = patterns[(data[1] / 2 + i * 5) %
			    (sizeof(patterns) / sizeof(*patterns))];

			mask_set_add_pattern(set, p, NULL);
			maskref_add_pattern(&ref, p);
		}
	s = mask_stream_new(set, collect, &got);
	pos = read_needles(set, &ref, data, size, 2, (data[0] >> 2) % 8 + 1,
	    forms, data[0] & 0x20 ? s : NULL);
	cut = pos < size ? data[pos++] : 0;
	text = size - pos < TEXT_MAX ? size - pos : TEXT_MAX;

	for (i = 0; i < text; i += n) {
		cut = cut * 1103515245 + 12345;
		n = (cut >> 16) % 9 + 1;
		if (n > text - i)
			n = text - i;
		/* A copy of its own, overwritten once fed: the stream may
		 * neither read outside it nor keep it. */
		piece = malloc(n);
		if (piece == NULL)
			abort();
		memcpy(piece, data + pos + i, n);
		mask_stream_feed(s, piece, n);
		memset(piece, 'Z', n);
		free(piece);
		if (ref.npatterns == 0 &&
		    mask_stream_held(s) > maskref_hold(&ref, data + pos, i + n))
			abort();
		if ((cut >> 8) % 16 == 0)
			mask_stream_rescan(s);
		if ((cut >> 12) % 64 == 0)
			mask_set_compact(set);
	}
	mask_stream_flush(s);
	mask_stream_free(s);
	want = maskref_mask(&ref, data + pos, text, "*", &want_size);
	if (want_size != got.used ||
	    (want_size > 0 && memcmp(want, got.data, want_size) != 0))
		abort();
	free(want);
	free(got.data);
	mask_set_free(set);
	maskref_release(&ref);
	return 0;
}
