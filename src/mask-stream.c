/*
 * Streams of the secret masker (mask.h).  A stream takes its input a
 * piece at a time, after the bytes it still holds, and searches the piece
 * where the caller has it (only what it keeps after settling is copied,
 * by keep_piece(); with patterns, or no needle yet, it copies the piece
 * first): for needles (mask-set.h: the sampled q-gram filter skips ahead;
 * at each of its hits the needles that q-gram may belong to are compared
 * where they would lie, and only when one may go on past the bytes at
 * hand, or too many share it, do the automaton levels run exactly around
 * the hit) and, a line window at a time, for patterns.  It collects the
 * matches as ranges of stream offsets, then emits everything before the
 * earliest byte that could still begin a match, each merged range as one
 * token.
 *
 * Offsets are counted from the start of the stream (uint64_t): the buffer
 * holds bytes [base, base + used); everything before `emitted` has gone
 * out (or was masked).  The buffer keeps the bytes of the longest possible
 * match in progress even after a quiet flush emitted them, and the current
 * pattern window, so that a rescan can rebuild every state from them.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "diag.h"
#include "list.h"
#include "mask-forms.h"
#include "mask-set.h"
#include "xalloc.h"

/* Input is taken in pieces of at most this many bytes. */
#define PIECE (64 * 1024)
/* Zeroed slack after the bytes: the filter loads 8 bytes at a time. */
#define SLACK 8

struct range {
	uint64_t start;
	uint64_t end;
	uint32_t owner; /* found: what matched (mask-set.h); ranges: unused */
	bool announced; /* its token has been emitted */
};

/*
 * A match to count (mask.h, "Redaction counts"): it ends at end, inside
 * one of the ranges; kept sorted by end, one per owner and range, until
 * its range has gone out.
 */
struct hit {
	uint64_t end;
	uint32_t owner;
};

enum window_end {
	WINDOW_OPEN, /* more of the line may come: partial matching */
	WINDOW_LINE_END, /* the line ended (or the stream did) */
	WINDOW_FULL, /* the window is full; the line goes on */
};

/* Bytes [base, base + used) of a stream or of its folded view. */
struct bytes {
	unsigned char *data;
	size_t used;
	size_t size; /* allocated, SLACK included */
	uint64_t base;
};

/*
 * The folded offset and the stream offset of one byte: after the anchor,
 * one per removed line break (the byte just after it).  Between two points
 * the offsets advance together.
 */
struct fold_point {
	uint64_t folded;
	uint64_t raw;
};

struct mask_stream {
	struct mask_set *set;
	mask_emit_fn emit;
	void *context;
	uint64_t generation;
	bool trusted_only; /* mask_string(): no secret only untrusted gave */

	struct bytes raw; /* the bytes as they came, in stream offsets */
	/*
	 * The caller's bytes being fed, after raw's (searched where they
	 * are, not copied first): only what compact() keeps of them is
	 * copied, into raw, before the call returns.  NULL between calls.
	 */
	const unsigned char *piece;
	uint64_t piece_base;
	size_t piece_size;
	struct bytes fold; /* the folded view, in folded offsets */
	uint64_t emitted; /* a stream offset */
	uint64_t folded; /* stream bytes before this are in the fold */
	uint64_t floor; /* no line break before this folds (a flush) */
	bool unfolded; /* bytes went by with no needle to fold for */
	bool indent_waits; /* an indent waits after the break at folded */
	bool csi_waits; /* a colour code not yet ended begins at folded */
	struct fold_point *points; /* points[0]: the anchor; ascending */
	size_t npoints;
	size_t points_cap;

	uint32_t *states; /* per automaton level, exact at the buffer's end */
	uint32_t *sync_states; /* the same at the start of a filtered run */
	size_t states_cap;

	struct range *ranges; /* sorted, disjoint, not adjacent */
	size_t nranges;
	size_t ranges_cap;
	struct range *found; /* matches of the last scan, in any order */
	size_t nfound;
	size_t found_cap;
	struct hit *hits;
	size_t nhits;
	size_t hits_cap;

	uint64_t line_start; /* the pattern window */
	bool continued; /* the window does not begin a line */
	uint64_t *resume; /* per pattern: where its search goes on */
	size_t resume_cap;
	uint64_t pattern_hold; /* the earliest partial match, or the end */
	pcre2_match_data *match_data;
};

static void
wipe_free(void *p, size_t size)
{
	if (p != NULL)
		wipe(p, size);
	free(p);
}

static uint64_t
raw_end(const struct mask_stream *s)
{
	return s->raw.base + s->raw.used;
}

static uint64_t
stream_end(const struct mask_stream *s)
{
	return s->piece != NULL ? s->piece_base + s->piece_size : raw_end(s);
}

/*
 * The stream's bytes from offset r on, where they are (raw, or the piece
 * being fed); *size: how many of them follow there.
 */
static const unsigned char *
stream_bytes(const struct mask_stream *s, uint64_t r, size_t *size)
{
	if (r < raw_end(s)) {
		*size = (size_t)(raw_end(s) - r);
		return s->raw.data + (r - s->raw.base);
	}
	*size = (size_t)(stream_end(s) - r);
	return s->piece + (r - s->piece_base);
}

static uint64_t
fold_end(const struct mask_stream *s)
{
	return s->fold.base + s->fold.used;
}

/* The index of the last point at or before folded offset f. */
static size_t
point_by_folded(const struct mask_stream *s, uint64_t f)
{
	size_t low = 0, high = s->npoints - 1, mid;

	while (low < high) {
		mid = (low + high + 1) / 2;
		if (s->points[mid].folded <= f)
			low = mid;
		else
			high = mid - 1;
	}
	return low;
}

/* The stream offset of the byte at folded offset f. */
static uint64_t
raw_of(const struct mask_stream *s, uint64_t f)
{
	const struct fold_point *p = &s->points[point_by_folded(s, f)];

	return p->raw + (f - p->folded);
}

/*
 * The folded offset of the first byte of the fold at or after stream
 * offset r (r inside a removed line break: the byte after it).
 */
static uint64_t
folded_at(const struct mask_stream *s, uint64_t r)
{
	size_t low = 0, high = s->npoints - 1, mid;
	uint64_t f;

	while (low < high) {
		mid = (low + high + 1) / 2;
		if (s->points[mid].raw <= r)
			low = mid;
		else
			high = mid - 1;
	}
	f = s->points[low].folded + (r - s->points[low].raw);
	if (low + 1 < s->npoints && f > s->points[low + 1].folded)
		f = s->points[low + 1].folded;
	return f < fold_end(s) ? f : fold_end(s);
}

static void
add_found(struct mask_stream *s, uint64_t start, uint64_t end, uint32_t owner)
{
	xgrow(&s->found, &s->found_cap, s->nfound + 1, sizeof(*s->found));
	s->found[s->nfound].start = start;
	s->found[s->nfound].end = end;
	s->found[s->nfound].owner = owner;
	s->found[s->nfound].announced = false;
	s->nfound++;
}

/* A match of secret owner's, unless the stream leaves such ones alone. */
static void
add_owner_found(
    struct mask_stream *s, uint64_t start, uint64_t end, uint32_t owner)
{
	if (!(s->trusted_only && s->set->secrets[owner].untrusted))
		add_found(s, start, end, owner);
}

/*
 * Records a needle's match at folded offsets [start, end), as the stream
 * bytes from its first byte to its last (line breaks folded away inside
 * it included), for each secret the needle is a form of.  Only on a
 * match: it looks the needle up by its bytes, which the fold still holds
 * (it keeps every match in progress from its start).
 */
static void
add_needle_owners(
    struct mask_stream *s, uint64_t fstart, uint64_t fend, size_t needle)
{
	const struct mask_set *set = s->set;
	uint64_t start = raw_of(s, fstart), end = raw_of(s, fend - 1) + 1;
	size_t i;

	if (needle == SIZE_MAX) {
		add_found(s, start, end, MASK_OWNER_NONE);
		return;
	}
	add_owner_found(s, start, end, set->needles[needle].secret);
	if (!set->needles[needle].shared)
		return;
	for (i = mask_count_first_share(set, needle);
	     i < set->nshares && set->shares[i].needle == needle; i++)
		add_owner_found(s, start, end, set->shares[i].secret);
}

/* The same for the needle that the fold holds at [fstart, fend). */
static void
add_needle_found(struct mask_stream *s, uint64_t fstart, uint64_t fend)
{
	size_t needle = SIZE_MAX;

	if (fstart >= s->fold.base)
		needle = mask_set_find_needle(s->set,
		    s->fold.data + (fstart - s->fold.base),
		    (size_t)(fend - fstart));
	add_needle_owners(s, fstart, fend, needle);
}

static void
append(struct bytes *b, const unsigned char *data, size_t size)
{
	size_t want = b->size ? b->size : 4096;
	unsigned char *grown;

	if (b->used + size + SLACK > b->size) {
		while (want < b->used + size + SLACK)
			want *= 2;
		/* Not realloc: the old block would be freed unwiped. */
		grown = xcalloc(want, 1);
		if (b->used > 0)
			memcpy(grown, b->data, b->used);
		wipe_free(b->data, b->size);
		b->data = grown;
		b->size = want;
	}
	memcpy(b->data + b->used, data, size);
	b->used += size;
	memset(b->data + b->used, 0, SLACK);
}

/* Drops the bytes before keep (at least base). */
static void
drop_before(struct bytes *b, uint64_t keep)
{
	size_t drop = keep > b->base ? (size_t)(keep - b->base) : 0;

	if (drop == 0)
		return;
	memmove(b->data, b->data + drop, b->used - drop);
	b->used -= drop;
	memset(b->data + b->used, 0, SLACK);
	b->base += drop;
}

/* ---- the folded view ---- */

/*
 * 1 when c is encoded (mask_forms_encoded()), else 0, without a branch:
 * the characters on either side of a log's line breaks are letters and
 * digits at random, which a chain of comparisons mispredicts.
 */
static inline unsigned
encoded_bit(unsigned char c)
{
	const uint64_t low = 0x03ffa80000000000ull, /* + - / 0-9 */
	    high = 0x07fffffe87fffffeull; /* A-Z _ a-z */
	uint64_t word = c & 64 ? high : low;

	return (unsigned)((word >> (c & 63)) & 1) & (unsigned)(c < 128);
}

static unsigned char
raw_byte(const struct mask_stream *s, uint64_t r)
{
	return r < raw_end(s) ? s->raw.data[r - s->raw.base]
			      : s->piece[r - s->piece_base];
}

/* Room for size more bytes, and SLACK + 16 after them (wiped on growth). */
static void
reserve(struct bytes *b, size_t size)
{
	size_t want = b->size ? b->size : 4096;
	unsigned char *grown;

	if (b->used + size + SLACK + 16 <= b->size)
		return;
	while (want < b->used + size + SLACK + 16)
		want *= 2;
	/* Not realloc: the old block would be freed unwiped. */
	grown = xcalloc(want, 1);
	if (b->used > 0)
		memcpy(grown, b->data, b->used);
	wipe_free(b->data, b->size);
	b->data = grown;
	b->size = want;
}

static void
fold_point(struct mask_stream *s, uint64_t folded, uint64_t raw)
{
	if (s->npoints == s->points_cap)
		xgrow(&s->points, &s->points_cap, s->npoints + 1,
		    sizeof(*s->points));
	s->points[s->npoints].folded = folded;
	s->points[s->npoints].raw = raw;
	s->npoints++;
}

#define ESC 0x1b

/*
 * Copies from in to out up to the first "\n" or ESC (not copied) or the
 * end; returns how many bytes it copied.  It may write up to 15 bytes
 * past them (the caller has the room).
 */
static size_t
copy_line(unsigned char *out, const unsigned char *in, size_t size)
{
	size_t i = 0;
#ifdef __SSE2__
	const __m128i newline = _mm_set1_epi8('\n'), esc = _mm_set1_epi8(ESC);
	__m128i x;
	int hits;

	for (; i + 16 <= size; i += 16) {
		x = _mm_loadu_si128((const __m128i *)(in + i));
		_mm_storeu_si128((__m128i *)(out + i), x);
		hits = _mm_movemask_epi8(_mm_or_si128(
		    _mm_cmpeq_epi8(x, newline), _mm_cmpeq_epi8(x, esc)));
		if (hits != 0)
			return i + (size_t)__builtin_ctz((unsigned)hits);
	}
#endif
	for (; i < size && in[i] != '\n' && in[i] != ESC; i++)
		out[i] = in[i];
	return i;
}

#ifdef __SSE2__
/* Bit t is set when in[t] is "\n", for t in [0, 64). */
static inline uint64_t
newline_bits(const unsigned char *in)
{
	const __m128i newline = _mm_set1_epi8('\n');
	const __m128i *p = (const __m128i *)in;
	uint64_t b0, b1, b2, b3;

	b0 = (unsigned)_mm_movemask_epi8(
	    _mm_cmpeq_epi8(_mm_loadu_si128(p), newline));
	b1 = (unsigned)_mm_movemask_epi8(
	    _mm_cmpeq_epi8(_mm_loadu_si128(p + 1), newline));
	b2 = (unsigned)_mm_movemask_epi8(
	    _mm_cmpeq_epi8(_mm_loadu_si128(p + 2), newline));
	b3 = (unsigned)_mm_movemask_epi8(
	    _mm_cmpeq_epi8(_mm_loadu_si128(p + 3), newline));
	return b0 | b1 << 16 | b2 << 32 | b3 << 48;
}

/* Whether in[0, 64) holds an ESC. */
static inline bool
has_esc(const unsigned char *in)
{
	const __m128i esc = _mm_set1_epi8(ESC);
	const __m128i *p = (const __m128i *)in;
	__m128i a = _mm_cmpeq_epi8(_mm_loadu_si128(p), esc),
		b = _mm_cmpeq_epi8(_mm_loadu_si128(p + 1), esc),
		c = _mm_cmpeq_epi8(_mm_loadu_si128(p + 2), esc),
		d = _mm_cmpeq_epi8(_mm_loadu_si128(p + 3), esc);

	return _mm_movemask_epi8(
		   _mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(c, d))) != 0;
}

static inline void
copy64(unsigned char *out, const unsigned char *in)
{
	__m128i a = _mm_loadu_si128((const __m128i *)in),
		b = _mm_loadu_si128((const __m128i *)(in + 16)),
		c = _mm_loadu_si128((const __m128i *)(in + 32)),
		d = _mm_loadu_si128((const __m128i *)(in + 48));

	_mm_storeu_si128((__m128i *)out, a);
	_mm_storeu_si128((__m128i *)(out + 16), b);
	_mm_storeu_si128((__m128i *)(out + 32), c);
	_mm_storeu_si128((__m128i *)(out + 48), d);
}

/*
 * The bulk of fold_more() (same rules), 64 bytes at a time while 128 are
 * left, so that no line break it meets is the last byte and the copies
 * may run over: each block is copied whole, then, over each line break
 * that folds, the 64 bytes after it again, moved back.  Branches per
 * block and per break, few per line: a log's lines are short and of
 * random lengths.  A line break before an indent stops it there, for
 * fold_more() to take.  Returns how many bytes of in (stream offset r) it
 * took; *used: how many it wrote at out (folded offset f).  in[-2] and
 * in[-1] are the stream's bytes before in (or before the floor, which
 * they are not read past).  Not inlined: inside fold_more()'s loop its
 * variables would not all stay in registers.
 */
static __attribute__((noinline)) size_t
fold_blocks(struct mask_stream *s, const unsigned char *in, uint64_t r,
    size_t n, unsigned char *out, uint64_t f, size_t *used)
{
	const uint64_t floor = s->floor;
	const unsigned char *at;
	uint64_t bits, i, start;
	size_t k, o = 0, t;

	for (k = 0; k + 128 <= n; k += 64) {
		/* A colour code: fold_more() takes the block. */
		if (__builtin_expect(has_esc(in + k), 0))
			break;
		/* The caller's bytes may come from memory: asked for 1 KiB
		 * ahead, they come while this block is folded (a prefetch
		 * past them does no harm). */
		__builtin_prefetch(in + k + 1024);
		copy64(out + o, in + k);
		bits = newline_bits(in + k);
		while (bits != 0) {
			t = (size_t)__builtin_ctzll(bits);
			bits &= bits - 1;
			at = in + k + t;
			i = r + k + t;
			start = i > floor && at[-1] == '\r' ? i - 1 : i;
			if (start <= floor ||
			    !(encoded_bit(at[(int64_t)(start - i) - 1]) &
				encoded_bit(at[1]))) {
				if (__builtin_expect(at[1] != ' ', 1) &&
				    at[1] != '\t')
					continue;
				/* An indent: fold_more() takes the "\n". */
				*used = o + t;
				return k + t;
			}
			/* out + o + t is where the "\n" went. */
			o -= (size_t)(i - start) + 1;
			copy64(out + o + t + 1, at + 1);
			fold_point(s, f + o + t + 1, i + 1);
		}
		o += 64;
	}
	*used = o;
	return k;
}
#endif

/*
 * The ESC at stream offset i, o bytes into what fold_more() writes: a
 * colour or erase code (mask_forms_csi()) is left out, anything else
 * taken as it is; *k (fold_more()'s count of bytes taken) moves past what
 * it took.  Returns how many bytes it wrote, or -1 when the code may go
 * on past end (and the stream does not end there): it waits for its next
 * bytes.
 */
static int
fold_csi(struct mask_stream *s, uint64_t i, uint64_t end, bool at_end, size_t o,
    size_t *k)
{
	unsigned char code[MASK_FOLD_CSI_MAX], *out;
	size_t have = 0, length;
	bool partial;

	while (have < sizeof(code) && i + have < end) {
		code[have] = raw_byte(s, i + have);
		have++;
	}
	length = mask_forms_csi(code, have, &partial);
	if (length > 0) {
		*k += length;
		fold_point(s, s->fold.base + s->fold.used + o, i + length);
		return 0;
	}
	if (partial && !at_end)
		return -1;
	out = s->fold.data + s->fold.used + o;
	*out = ESC;
	(*k)++;
	return 1;
}

/*
 * Extends the fold over the stream bytes not yet in it.  A line break
 * ("\n" or "\r\n") with an encoded character on each side is left out;
 * one at the end, after an encoded character, waits for the next byte
 * (and so does a final "\r") unless the stream ends.  One pass that
 * copies and looks for "\n" at once: most lines of a log end in a break
 * that folds.
 */
static void
fold_more(struct mask_stream *s, bool at_end)
{
	uint64_t r = s->folded, end = stream_end(s), i, start;
	const unsigned char *in;
	unsigned char *out;
	size_t n = (size_t)(end - r), k = 0, o = 0, line, used, left, indent;
	unsigned char after;
	bool before;
	int written;

	if (n == 0)
		return;
	s->indent_waits = false;
	s->csi_waits = false;
	if (s->set->built == 0) {
		/* No needle: nothing to fold for (fold_restart() catches up).
		 */
		s->folded = end;
		s->unfolded = true;
		return;
	}
	reserve(&s->fold, n);
	out = s->fold.data + s->fold.used;
	while (k < n) {
		/* The bytes from r + k on, up to raw's end or the piece's. */
		in = stream_bytes(s, r + k, &left);
#ifdef __SSE2__
		/* fold_blocks() reads the two bytes before its own. */
		if (left >= 128 &&
		    (s->piece == NULL || r + k < raw_end(s) ||
			r + k >= s->piece_base + 2)) {
			line = fold_blocks(s, in, r + k, left, out + o,
			    s->fold.base + s->fold.used + o, &used);
			k += line;
			o += used;
			in += line;
			left -= line;
		}
#endif
		line = copy_line(out + o, in, left);
		k += line;
		o += line;
		if (line == left)
			continue; /* the end, or where the piece begins */
		i = r + k; /* the "\n" or the ESC */
		if (in[line] == ESC) {
			written = fold_csi(s, i, end, at_end, o, &k);
			if (written >= 0) {
				o += (size_t)written;
				continue;
			}
			/* Its end is still to come: the code waits. */
			s->csi_waits = true;
			s->fold.used += o;
			s->folded = i;
			memset(s->fold.data + s->fold.used, 0, SLACK);
			return;
		}
		start = i > s->floor && raw_byte(s, i - 1) == '\r' ? i - 1 : i;
		k++;
		if (start > s->floor) {
			before = mask_forms_encoded(raw_byte(s, start - 1));
			for (indent = 0; indent <= MASK_FOLD_INDENT_MAX &&
			     i + 1 + indent < end &&
			     (raw_byte(s, i + 1 + indent) == ' ' ||
				 raw_byte(s, i + 1 + indent) == '\t');
			     indent++)
				;
			if (indent > MASK_FOLD_INDENT_MAX) {
				out[o++] = '\n';
				continue;
			}
			if (i + 1 + indent == end && !at_end) {
				/* The break and its indent wait for the byte
				 * after them. */
				s->indent_waits = indent > 0;
				o -= (size_t)(i - start);
				s->fold.used += o;
				s->folded = start;
				memset(s->fold.data + s->fold.used, 0, SLACK);
				return;
			}
			after = i + 1 + indent < end
			    ? raw_byte(s, i + 1 + indent)
			    : '\n';
			if ((before && mask_forms_encoded(after)) ||
			    (indent > 0 && after != '\n' && after != '\r')) {
				/* Left out, or one space for a wrapped line. */
				o -= (size_t)(i - start);
				if (!(before && mask_forms_encoded(after)))
					out[o++] = ' ';
				k += indent;
				fold_point(s, s->fold.base + s->fold.used + o,
				    i + 1 + indent);
				continue;
			}
		}
		out[o++] = '\n';
	}
	s->folded = end;
	/* A "\r" at the end may begin a break that folds. */
	if (!at_end && end >= s->floor + 2 && o > 0 &&
	    raw_byte(s, end - 1) == '\r') {
		o--;
		s->folded = end - 1;
	}
	s->fold.used += o;
	memset(s->fold.data + s->fold.used, 0, SLACK);
}

/* ---- needles ---- */

/*
 * Steps every level over buf[i]; returns whether every level is shallower
 * than the filter's reach (no match in progress began reach bytes back).
 */
static bool
step_levels(struct mask_stream *s, size_t i)
{
	const struct mask_set *set = s->set;
	unsigned char c = s->fold.data[i];
	bool shallow = true;
	size_t l;

	for (l = 0; l < set->nlevels; l++) {
		const struct mask_automaton *ac = set->levels[l].ac;
		uint32_t v = mask_automaton_next(ac, s->states[l], c);

		if (v & MASK_AUTOMATON_MATCH)
			add_needle_found(s,
			    s->fold.base + i + 1 -
				mask_automaton_match_length(ac, v),
			    s->fold.base + i + 1);
		s->states[l] = v;
		shallow =
		    shallow && mask_automaton_shallower(ac, v, set->reach);
	}
	return shallow;
}

static void
reset_states(struct mask_stream *s)
{
	size_t l;

	for (l = 0; l < s->set->nlevels; l++)
		s->states[l] = MASK_AUTOMATON_ROOT;
}

/*
 * Makes the states exact at index x, given that they were exact at sync
 * and shallower than the reach all the way: from the root over the last
 * reach - 1 bytes, or from sync when that is closer.
 */
static void
replay(struct mask_stream *s, size_t sync, size_t x)
{
	size_t back = s->set->reach - 1, i = sync;

	if (x >= sync + back) {
		i = x - back;
		reset_states(s);
	} else {
		memcpy(s->states, s->sync_states,
		    s->set->nlevels * sizeof(*s->states));
	}
	for (; i < x; i++)
		step_levels(s, i);
}

/* set->filter_shift when the bitmap is as large as it gets. */
#define FILTER_SHIFT_LARGEST (64 - MASK_FILTER_BITS_MAX)

/*
 * The filter's bits for the q-gram at p (mask_set_filter_bits()); with
 * largest (a constant where it is inlined), for 8-byte q-grams in the
 * largest bitmap, as many needles give: no mask, and shifts by constants
 * (about 5% of the masker's time with 1,000 secrets and their forms).
 */
static inline __attribute__((always_inline)) uint64_t
filter_bit(const struct mask_set *set, const unsigned char *p, bool largest)
{
	if (largest)
		return mask_set_filter_bits_shift(
		    set->filter, mask_load64(p), FILTER_SHIFT_LARGEST);
	return mask_set_filter_bits(set, mask_load64(p) & set->gram_mask);
}

static inline __attribute__((always_inline)) size_t
filter_scan(const struct mask_set *set, const unsigned char *buf, size_t first,
    size_t last, bool largest)
{
	size_t s = set->stride, i = first, k;
	const unsigned char *p;
	uint64_t t;

	for (; i + 7 * s <= last; i += 8 * s) {
		p = buf + i;
		t = filter_bit(set, p, largest) |
		    filter_bit(set, p + s, largest) |
		    filter_bit(set, p + 2 * s, largest) |
		    filter_bit(set, p + 3 * s, largest) |
		    filter_bit(set, p + 4 * s, largest) |
		    filter_bit(set, p + 5 * s, largest) |
		    filter_bit(set, p + 6 * s, largest) |
		    filter_bit(set, p + 7 * s, largest);
		if (__builtin_expect(t & 1, 0))
			for (k = 0; k < 8; k++)
				if (filter_bit(set, p + k * s, largest) & 1)
					return i + k * s;
	}
	for (; i <= last; i += s)
		if (filter_bit(set, buf + i, largest) & 1)
			return i;
	return SIZE_MAX;
}

/*
 * The first of the offsets first, first + s, ... up to last where the
 * filter's bits are set for the q-gram that starts there, or SIZE_MAX.
 * Eight independent bitmap tests per round: the loads do not wait for
 * each other, unlike an automaton's.
 */
static size_t
filter_find(const struct mask_set *set, const unsigned char *buf, size_t first,
    size_t last)
{
	if (set->gram == 8 && set->filter_shift == FILTER_SHIFT_LARGEST)
		return filter_scan(set, buf, first, last, true);
	return filter_scan(set, buf, first, last, false);
}

/* More needles than this behind one q-gram: the automata decide. */
#define GRAM_NEEDLES_MAX 8

enum hit_kind {
	HIT_NONE, /* no needle is there after all */
	HIT_FOUND, /* each needle there was matched whole, and recorded */
	HIT_OPEN, /* a needle may be there that the automata must decide */
};

/*
 * The sample at fold.data[hit] (the filter's bits set): compares the needles
 * whose q-gram at offset j < s it may be with the folded bytes from
 * hit - j, which begin at first or later; every needle that lies there
 * whole, before to, is recorded.  A needle's match in progress at to, or
 * beginning before first, is left to the automata (HIT_OPEN).
 */
static enum hit_kind
check_hit(struct mask_stream *s, size_t hit, size_t first, size_t to)
{
	const struct mask_set *set = s->set;
	const unsigned char *at = s->fold.data + hit;
	uint32_t refs[GRAM_NEEDLES_MAX];
	size_t n, k, offset, start, length, have;
	const struct mask_needle *needle;
	unsigned whole = 0; /* bit k: refs[k] lies there whole */

	n = mask_set_gram_needles(
	    set, mask_load64(at) & set->gram_mask, refs, GRAM_NEEDLES_MAX);
	if (n > GRAM_NEEDLES_MAX)
		return HIT_OPEN;
	for (k = 0; k < n; k++) {
		offset = refs[k] & 15;
		needle = &set->needles[refs[k] >> 4];
		if (offset > hit || hit - offset < first)
			return HIT_OPEN;
		start = hit - offset;
		length = needle->length;
		have = to - start < length ? to - start : length;
		if (memcmp(s->fold.data + start, set->arena + needle->offset,
			have) != 0)
			continue;
		if (have < length)
			return HIT_OPEN;
		whole |= 1u << k;
	}
	/* Only the needles compared whole: another may run past to. */
	for (k = 0; k < n; k++)
		if (whole & (1u << k)) {
			needle = &set->needles[refs[k] >> 4];
			start = hit - (refs[k] & 15);
			add_needle_owners(s, s->fold.base + start,
			    s->fold.base + start + needle->length,
			    refs[k] >> 4);
		}
	return whole != 0 ? HIT_FOUND : HIT_NONE;
}

struct plain_scan {
	struct mask_stream *stream;
	uint64_t origin;
};

static void
plain_found(void *context, size_t end, size_t length)
{
	struct plain_scan *scan = context;

	add_needle_found(
	    scan->stream, scan->origin + end - length, scan->origin + end);
}

/*
 * The length of the longest match in progress: the longest suffix of the
 * bytes read that is a proper prefix of some needle, over every level.
 */
static uint32_t
open_depth(const struct mask_stream *s)
{
	const struct mask_set *set = s->set;
	uint32_t depth = 0, d;
	size_t l;

	for (l = 0; l < set->nlevels; l++) {
		d = mask_automaton_open_depth(set->levels[l].ac, s->states[l]);
		if (d > depth)
			depth = d;
	}
	return depth;
}

/*
 * Searches buf[i, to) for needles, the states being exact at i; leaves
 * them exact at to.  With the filter: exact steps until every level is
 * shallower than the reach; then only the sampled offsets are looked up,
 * from where the longest match in progress began (a match still unseen
 * begins there or later; not further back, where the filter would find
 * again the needle the exact steps just went through) to the next hit
 * that check_hit() cannot settle (the states stay exact at sync while it
 * settles hits: any needle with a sample before the hit was settled at
 * that sample); then exact steps again from where the needle it belongs
 * to could begin (s - 1 bytes before it).
 */
static void
scan_needles(struct mask_stream *s, size_t i, size_t to)
{
	const struct mask_set *set = s->set;
	size_t q = set->gram, must = i, sync, hit = SIZE_MAX, from = i, l;
	struct plain_scan plain = { s, s->fold.base + i };

	if (q == 0) {
		for (l = 0; l < set->nlevels; l++)
			mask_automaton_scan(set->levels[l].ac, &s->states[l],
			    s->fold.data + i, to - i, plain_found, &plain);
		return;
	}
	while (i < to) {
		/* Exact steps at least past the hit's q-gram, until the
		 * longest match in progress began after the hit. */
		while (i < to)
			if (step_levels(s, i++) && i >= must &&
			    ((from = i - open_depth(s)) > hit ||
				hit == SIZE_MAX))
				break;
		if (i >= to || to - from < q)
			break;
		memcpy(s->sync_states, s->states,
		    set->nlevels * sizeof(*s->states));
		sync = i;
		/* Hits whose needles are all there, or none, are settled here:
		 * the states stay exact at sync. */
		while ((hit = filter_find(set, s->fold.data, from, to - q)) !=
			SIZE_MAX &&
		    check_hit(s, hit, sync, to) != HIT_OPEN)
			from = hit + set->stride;
		if (hit == SIZE_MAX) {
			replay(s, sync, to);
			return;
		}
		i = hit >= sync + set->stride - 1 ? hit - (set->stride - 1)
						  : sync;
		replay(s, sync, i);
		must = hit + q;
	}
	while (i < to)
		step_levels(s, i++);
}

/*
 * The folded offset where the longest match still in progress would
 * begin: no match can begin before it any more.
 */
static uint64_t
needle_candidate(const struct mask_stream *s)
{
	return fold_end(s) - open_depth(s);
}

/*
 * The stream offset before which no needle's match can begin any more:
 * that of the longest match in progress, else the bytes not yet folded
 * when a needle can begin with a line break or they hold an indent (a
 * needle may begin with a space; else they go out: a match would fold
 * them away, or begin after them).
 */
static uint64_t
needle_hold(const struct mask_stream *s)
{
	uint64_t candidate = needle_candidate(s);

	if (candidate < fold_end(s))
		return raw_of(s, candidate);
	return s->set->break_first || s->indent_waits || s->csi_waits
	    ? s->folded
	    : stream_end(s);
}

/* ---- patterns ---- */

static void
new_window(struct mask_stream *s, uint64_t start, bool continued)
{
	size_t i;

	s->line_start = start;
	s->continued = continued;
	for (i = 0; i < s->set->npatterns; i++)
		s->resume[i] = start;
}

/*
 * Runs every pattern over the window [line_start, end) from where it left
 * off, recording complete matches; returns where the earliest partial
 * match begins (end: none).
 */
static uint64_t
patterns_run(struct mask_stream *s, uint64_t end, enum window_end how)
{
	const struct mask_set *set = s->set;
	const unsigned char *subject =
	    s->raw.data + (s->line_start - s->raw.base);
	size_t length = end - s->line_start, offset, i;
	uint32_t options = 0;
	uint64_t hold = end;
	PCRE2_SIZE *ovector = pcre2_get_ovector_pointer(s->match_data);
	int rc;

	if (s->continued)
		options |= PCRE2_NOTBOL;
	if (how == WINDOW_FULL)
		options |= PCRE2_NOTEOL;
	if (how == WINDOW_OPEN)
		options |= PCRE2_PARTIAL_HARD;
	for (i = 0; i < set->npatterns; i++) {
		offset = s->resume[i] - s->line_start;
		while (offset <= length) {
			rc = pcre2_match(set->patterns[i], subject, length,
			    offset, options, s->match_data, NULL);
			if (rc == PCRE2_ERROR_PARTIAL) {
				offset = ovector[0];
				if (s->line_start + offset < hold)
					hold = s->line_start + offset;
				break;
			}
			if (rc == PCRE2_ERROR_NOMATCH) {
				offset = length;
				break;
			}
			if (rc < 0) {
				/* Cannot tell: hide the rest of the window. */
				add_found(s, s->line_start + offset, end,
				    MASK_OWNER_PATTERN | (uint32_t)i);
				offset = length;
				break;
			}
			if (ovector[1] > ovector[0])
				add_found(s, s->line_start + ovector[0],
				    s->line_start + ovector[1],
				    MASK_OWNER_PATTERN | (uint32_t)i);
			offset = ovector[1] > ovector[0] ? ovector[1]
							 : ovector[1] + 1;
		}
		s->resume[i] =
		    s->line_start + (offset < length ? offset : length);
	}
	return hold;
}

/* Runs the patterns over the bytes [from, to) just added. */
static void
scan_patterns(struct mask_stream *s, uint64_t from, uint64_t to)
{
	const unsigned char *newline;
	uint64_t end;

	while ((newline = memchr(s->raw.data + (from - s->raw.base), '\n',
		    to - from)) != NULL) {
		end = s->raw.base + (uint64_t)(newline - s->raw.data);
		patterns_run(s, end, WINDOW_LINE_END);
		new_window(s, end + 1, false);
		from = end + 1;
	}
	if (to - s->line_start >= MASK_PATTERN_WINDOW) {
		patterns_run(s, to, WINDOW_FULL);
		new_window(s, to - MASK_PATTERN_OVERLAP, true);
	}
	s->pattern_hold = patterns_run(s, to, WINDOW_OPEN);
}

/* ---- ranges and output ---- */

static int
compare_ranges(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	return (x->start > y->start) - (x->start < y->start);
}

static int
compare_by_end(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	if (x->end != y->end)
		return (x->end > y->end) - (x->end < y->end);
	return (x->start > y->start) - (x->start < y->start);
}

/* Adds a range to the end of a sorted list, merging it with the last one
 * when they overlap or touch. */
static void
push_range(struct range *list, size_t *count, const struct range *r)
{
	struct range *last = *count > 0 ? &list[*count - 1] : NULL;

	if (last != NULL && r->start <= last->end) {
		if (r->end > last->end)
			last->end = r->end;
		last->announced = last->announced || r->announced;
		return;
	}
	list[(*count)++] = *r;
}

static void
add_hit(struct mask_stream *s, uint64_t end, uint32_t owner)
{
	if (owner == MASK_OWNER_NONE)
		return;
	xgrow(&s->hits, &s->hits_cap, s->nhits + 1, sizeof(*s->hits));
	s->hits[s->nhits].end = end;
	s->hits[s->nhits].owner = owner;
	s->nhits++;
}

static int
compare_hits(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;

	if (x->end != y->end)
		return (x->end > y->end) - (x->end < y->end);
	return (x->owner > y->owner) - (x->owner < y->owner);
}

/*
 * Sorts the hits and keeps one per owner in each range: a rescan finds
 * the held matches again, and a merged range counts each owner once.
 */
static void
dedupe_hits(struct mask_stream *s)
{
	size_t r = 0, first = 0, kept = 0, i, k;
	bool seen;

	qsort(s->hits, s->nhits, sizeof(*s->hits), compare_hits);
	for (i = 0; i < s->nhits; i++) {
		while (r < s->nranges && s->ranges[r].end < s->hits[i].end) {
			r++;
			first = kept;
		}
		seen = false;
		for (k = first; k < kept && !seen; k++)
			seen = s->hits[k].owner == s->hits[i].owner;
		if (!seen)
			s->hits[kept++] = s->hits[i];
	}
	s->nhits = kept;
}

/* Counts the hits of ranges that have gone out, up to end. */
static void
count_hits(struct mask_stream *s, uint64_t end)
{
	size_t n = 0;

	while (n < s->nhits && s->hits[n].end <= end)
		mask_count_credit(s->set, s->hits[n++].owner);
	if (n == 0)
		return;
	memmove(s->hits, s->hits + n, (s->nhits - n) * sizeof(*s->hits));
	s->nhits -= n;
}

/*
 * Moves the ranges found by the last scans into the list.  What begins
 * before `emitted` has partly gone out already (a secret added late): only
 * the rest is masked.
 */
static void
merge_found(struct mask_stream *s)
{
	struct range *merged, *f;
	size_t i = 0, j = 0, kept = 0, count = 0;
	uint64_t end = 0, longest = 0;

	/* By end, the longest first: at each end only the longest needle
	 * counts (mask.h), however the matches were found (the automata
	 * give only it, check_hit() every needle there); every pattern's
	 * match counts. */
	if (s->nfound > 1)
		qsort(s->found, s->nfound, sizeof(*s->found), compare_by_end);
	for (i = 0; i < s->nfound; i++) {
		f = &s->found[i];
		if (f->end <= s->emitted)
			continue;
		if (f->owner & MASK_OWNER_PATTERN) {
			add_hit(s, f->end, f->owner);
		} else {
			if (end != f->end) {
				end = f->end;
				longest = f->start;
			}
			if (f->start == longest)
				add_hit(s, f->end, f->owner);
		}
		if (f->start < s->emitted)
			f->start = s->emitted;
		s->found[kept++] = *f;
	}
	s->nfound = 0;
	if (kept == 0)
		return;
	qsort(s->found, kept, sizeof(*s->found), compare_ranges);
	merged = xcalloc(s->nranges + kept, sizeof(*merged));
	i = 0;
	while (i < s->nranges || j < kept) {
		if (j >= kept ||
		    (i < s->nranges && s->ranges[i].start <= s->found[j].start))
			push_range(merged, &count, &s->ranges[i++]);
		else
			push_range(merged, &count, &s->found[j++]);
	}
	free(s->ranges);
	s->ranges = merged;
	s->nranges = count;
	s->ranges_cap = s->nranges + kept;
	dedupe_hits(s);
}

static void
emit_bytes(struct mask_stream *s, uint64_t from, uint64_t to)
{
	const unsigned char *bytes;
	size_t size;

	while (to > from) {
		bytes = stream_bytes(s, from, &size);
		if (size > to - from)
			size = (size_t)(to - from);
		s->emit(s->context, (const char *)bytes, size);
		from += size;
	}
}

/*
 * Emits everything before hold: bytes as they are, each range once as the
 * token.  A range reaching hold stays (announced): a later match that
 * overlaps or touches it extends it without a second token.
 */
static void
emit_until(struct mask_stream *s, uint64_t hold)
{
	struct range *r;

	while (s->nranges > 0 && s->ranges[0].start < hold) {
		r = &s->ranges[0];
		if (r->start > s->emitted) {
			emit_bytes(s, s->emitted, r->start);
			s->emitted = r->start;
		}
		if (!r->announced && s->set->token_size > 0)
			s->emit(s->context, s->set->token, s->set->token_size);
		r->announced = true;
		if (r->end >= hold) {
			if (hold > s->emitted)
				s->emitted = hold;
			return;
		}
		if (r->end > s->emitted)
			s->emitted = r->end;
		count_hits(s, r->end);
		memmove(s->ranges, s->ranges + 1,
		    (s->nranges - 1) * sizeof(*s->ranges));
		s->nranges--;
	}
	if (hold > s->emitted) {
		emit_bytes(s, s->emitted, hold);
		s->emitted = hold;
	}
}

/*
 * Drops the bytes before keep, raw's and the piece's, and copies the rest
 * of the piece into raw: the caller's bytes are gone after the call.
 */
static void
keep_piece(struct mask_stream *s, uint64_t keep)
{
	const unsigned char *piece = s->piece;
	uint64_t base = s->piece_base, from = raw_end(s), end = stream_end(s);

	if (keep >= from) {
		drop_before(&s->raw, from);
		s->raw.base = from = keep;
	} else {
		drop_before(&s->raw, keep);
	}
	s->piece = NULL;
	append(&s->raw, piece + (from - base), (size_t)(end - from));
}

/*
 * Drops the bytes nothing needs any more.  The stream keeps what it has
 * not emitted, every match in progress, the pattern window and the two
 * bytes before the ones not yet folded (a line break looks back at them);
 * the fold keeps every match in progress and what maps to bytes not yet
 * emitted, so that a rescan sees them.
 */
static void
compact(struct mask_stream *s)
{
	uint64_t candidate = needle_candidate(s), keep = s->emitted, fkeep,
		 limit;
	size_t point;

	if (candidate < fold_end(s) && raw_of(s, candidate) < keep)
		keep = raw_of(s, candidate);
	if (s->set->npatterns > 0 && s->line_start < keep)
		keep = s->line_start;
	limit = s->folded >= 2 ? s->folded - 2 : 0;
	if (limit < s->floor)
		limit = s->floor;
	if (limit < keep)
		keep = limit;
	if (s->piece != NULL)
		keep_piece(s, keep);
	else
		drop_before(&s->raw, keep);
	fkeep = folded_at(s, s->emitted);
	if (candidate < fkeep)
		fkeep = candidate;
	drop_before(&s->fold, fkeep);
	point = point_by_folded(s, s->fold.base);
	if (point > 0) {
		memmove(s->points, s->points + point,
		    (s->npoints - point) * sizeof(*s->points));
		s->npoints -= point;
	}
}

/* Emits what no match can still claim, then compacts. */
static void
settle(struct mask_stream *s)
{
	uint64_t hold = needle_hold(s);

	if (s->set->npatterns > 0 && s->pattern_hold < hold)
		hold = s->pattern_hold;
	merge_found(s);
	emit_until(s, hold);
	compact(s);
}

/*
 * Opens the first pattern window.  Lines are followed without patterns
 * too, but their bytes are not kept: a line that began before the bytes
 * held is seen from there on, as a continued window.
 */
static void
first_window(struct mask_stream *s)
{
	s->continued = s->line_start < s->raw.base;
	if (s->continued)
		s->line_start = s->raw.base;
}

/*
 * Starts the fold afresh from the bytes not yet emitted, when the first
 * needles come to a stream that had none to fold for: a line break
 * before them does not fold (they are gone).
 */
static void
fold_restart(struct mask_stream *s)
{
	uint64_t from = s->emitted > s->floor ? s->emitted : s->floor;

	s->fold.base = fold_end(s);
	s->fold.used = 0;
	s->npoints = 1;
	s->points[0].folded = s->fold.base;
	s->points[0].raw = from;
	s->floor = from;
	s->folded = from;
	s->unfolded = false;
	fold_more(s, false);
}

/*
 * Catches up with the set: builds pending needles, and after any change
 * starts every state afresh from the bytes held (which reach back to the
 * start of any match in progress, so nothing is lost).
 */
static void
stream_sync(struct mask_stream *s)
{
	struct mask_set *set = s->set;
	size_t old = s->resume_cap, i;

	mask_set_sync(set);
	if (s->generation == set->generation)
		return;
	s->generation = set->generation;
	if (set->nlevels > s->states_cap) {
		s->states_cap = set->nlevels;
		s->states =
		    xreallocarray(s->states, s->states_cap, sizeof(*s->states));
		s->sync_states = xreallocarray(
		    s->sync_states, s->states_cap, sizeof(*s->sync_states));
	}
	reset_states(s);
	if (s->unfolded && set->built > 0)
		fold_restart(s);
	if (set->npatterns > 0 && old == 0)
		first_window(s);
	if (set->npatterns > old) {
		s->resume = xreallocarray(
		    s->resume, set->npatterns, sizeof(*s->resume));
		s->resume_cap = set->npatterns;
		for (i = old; i < set->npatterns; i++)
			s->resume[i] = s->line_start;
		if (s->match_data == NULL)
			s->match_data = pcre2_match_data_create(1, NULL);
		if (s->match_data == NULL)
			diag_fatal(EXIT_JOBRUN_ERROR, "out of memory");
	}
	scan_needles(s, 0, s->fold.used);
	if (set->npatterns > 0)
		s->pattern_hold = patterns_run(s, stream_end(s), WINDOW_OPEN);
}

/* ---- the API ---- */

static struct mask_stream *
mask_stream_new_unlocked(struct mask_set *set, mask_emit_fn emit, void *context)
{
	struct mask_stream *s = xcalloc(1, sizeof(*s));

	s->set = set;
	s->emit = emit;
	s->context = context;
	s->raw.size = s->fold.size = 4096;
	s->raw.data = xcalloc(s->raw.size, 1);
	s->fold.data = xcalloc(s->fold.size, 1);
	s->npoints = 1; /* the anchor: offset 0 is offset 0 */
	s->points_cap = 16;
	s->points = xcalloc(s->points_cap, sizeof(*s->points));
	s->generation = set->generation - 1;
	set->streams++;
	stream_sync(s);
	return s;
}

/* Notes where the current line began, for the first pattern to come. */
static void
follow_lines(struct mask_stream *s, const unsigned char *data, size_t size)
{
	const unsigned char *newline = memrchr(data, '\n', size);

	if (newline != NULL)
		s->line_start =
		    stream_end(s) - (size_t)(data + size - newline) + 1;
}

/* How much of the input the next piece takes: a pattern window may not
 * grow past MASK_PATTERN_WINDOW within one piece. */
static size_t
piece_size(const struct mask_stream *s, const unsigned char *data, size_t size)
{
	size_t n = size < PIECE ? size : PIECE, room;

	if (s->set->npatterns == 0)
		return n;
	room = (size_t)(s->line_start + MASK_PATTERN_WINDOW - stream_end(s));
	if (n > room && memchr(data, '\n', room) == NULL)
		n = room;
	return n;
}

/* Folds and searches the bytes added since the last call. */
static void
scan_more(struct mask_stream *s, uint64_t from, bool at_end)
{
	size_t ffrom = s->fold.used;

	fold_more(s, at_end);
	scan_needles(s, ffrom, s->fold.used);
	if (s->set->npatterns > 0 && from < stream_end(s))
		scan_patterns(s, from, stream_end(s));
}

static void
mask_stream_feed_unlocked(struct mask_stream *s, const void *data, size_t size)
{
	const unsigned char *p = data;
	uint64_t from;
	size_t n;

	stream_sync(s);
	while (size > 0) {
		n = piece_size(s, p, size);
		from = stream_end(s);
		if (s->set->npatterns == 0 && s->set->built > 0) {
			/* Searched where they are; compact() keeps the rest. */
			s->piece = p;
			s->piece_base = from;
			s->piece_size = n;
		} else {
			append(&s->raw, p, n);
		}
		scan_more(s, from, false);
		if (s->set->npatterns == 0)
			follow_lines(s, p, n);
		settle(s);
		p += n;
		size -= n;
	}
	settle(s);
}

static void
mask_stream_flush_unlocked(struct mask_stream *s)
{
	uint64_t end;

	stream_sync(s);
	end = stream_end(s);
	/* The bytes waiting to be folded are folded as they are. */
	scan_more(s, end, true);
	if (s->set->npatterns > 0) {
		patterns_run(s, end, WINDOW_LINE_END);
		new_window(s, end, false);
		s->pattern_hold = end;
	}
	merge_found(s);
	emit_until(s, end);
	count_hits(s, UINT64_MAX);
	s->nranges = 0;
	reset_states(s);
	s->floor = end;
	compact(s);
}

static void
mask_stream_rescan_unlocked(struct mask_stream *s)
{
	stream_sync(s);
	settle(s);
}

static size_t
mask_stream_held_unlocked(const struct mask_stream *s)
{
	uint64_t end = stream_end(s), from = s->emitted;
	const struct range *open = s->nranges > 0 ? &s->ranges[0] : NULL;

	if (open != NULL && open->announced && open->end > from)
		from = open->end < end ? open->end : end;
	return (size_t)(end - from);
}

static bool
mask_stream_flush_quiet_unlocked(struct mask_stream *s)
{
	const struct mask_set *set;
	uint64_t end;
	size_t reveal;

	mask_stream_rescan(s);
	set = s->set;
	end = stream_end(s);
	reveal = set->min_length - 1;
	if (reveal > MASK_QUIET_REVEAL)
		reveal = MASK_QUIET_REVEAL;
	if (fold_end(s) - needle_candidate(s) > reveal)
		return false;
	if (set->npatterns > 0 && end - s->pattern_hold > reveal)
		return false;
	/* A colour code cut short: what follows it is not searched yet. */
	if (s->csi_waits && end - s->folded > reveal)
		return false;
	/*
	 * A line break and the indent after it, which a match may go on
	 * through: the line goes out with its break (no more than whitespace
	 * is shown), a longer indent stays held.
	 */
	if (s->indent_waits &&
	    fold_end(s) - needle_candidate(s) + (end - s->folded) > reveal) {
		emit_until(s, s->folded + (raw_byte(s, s->folded) == '\r') + 1);
		compact(s);
		return false;
	}
	emit_until(s, end);
	compact(s);
	return true;
}

static void
mask_stream_free_unlocked(struct mask_stream *s)
{
	if (s == NULL)
		return;
	if (s->nranges > 0 && s->ranges[0].announced)
		count_hits(s, s->ranges[0].end);
	s->set->streams--;
	wipe_free(s->raw.data, s->raw.size);
	wipe_free(s->fold.data, s->fold.size);
	free(s->points);
	wipe_free(s->states, s->states_cap * sizeof(*s->states));
	wipe_free(s->sync_states, s->states_cap * sizeof(*s->sync_states));
	free(s->ranges);
	free(s->found);
	free(s->hits);
	free(s->resume);
	pcre2_match_data_free(s->match_data);
	free(s);
}

struct sink {
	char *data;
	size_t used;
	size_t size;
};

static void
sink_emit(void *context, const char *data, size_t size)
{
	struct sink *sink = context;

	xgrow(&sink->data, &sink->size, sink->used + size + 1, 1);
	memcpy(sink->data + sink->used, data, size);
	sink->used += size;
}

static char *
mask_string_unlocked(struct mask_set *set, const void *data, size_t size,
    size_t *out_size, bool trusted_only)
{
	struct sink sink = { NULL, 0, 0 };
	struct mask_stream *s;

	/* Nothing to mask (most jobs' messages): a copy, without setting up
	 * a stream's buffers. */
	if (mask_set_empty(set)) {
		sink.data = xmalloc(size + 1);
		memcpy(sink.data, data, size);
		sink.data[size] = '\0';
		if (out_size != NULL)
			*out_size = size;
		return sink.data;
	}
	s = mask_stream_new(set, sink_emit, &sink);
	s->trusted_only = trusted_only;
	mask_stream_feed(s, data, size);
	mask_stream_flush(s);
	mask_stream_free(s);
	xgrow(&sink.data, &sink.size, sink.used + 1, 1);
	sink.data[sink.used] = '\0';
	if (out_size != NULL)
		*out_size = sink.used;
	return sink.data;
}

/* ---- every call under the set's lock ---- */

struct mask_stream *
mask_stream_new(struct mask_set *set, mask_emit_fn emit, void *context)
{
	struct mask_stream *s;

	mask_set_lock(set);
	s = mask_stream_new_unlocked(set, emit, context);
	mask_set_unlock(set);
	return s;
}

void
mask_stream_feed(struct mask_stream *s, const void *data, size_t size)
{
	const struct mask_set *set = s->set;

	mask_set_lock(set);
	mask_stream_feed_unlocked(s, data, size);
	mask_set_unlock(set);
}

void
mask_stream_flush(struct mask_stream *s)
{
	const struct mask_set *set = s->set;

	mask_set_lock(set);
	mask_stream_flush_unlocked(s);
	mask_set_unlock(set);
}

void
mask_stream_trusted_only(struct mask_stream *s)
{
	const struct mask_set *set = s->set;

	mask_set_lock(set);
	s->trusted_only = true;
	mask_set_unlock(set);
}

void
mask_stream_rescan(struct mask_stream *s)
{
	const struct mask_set *set = s->set;

	mask_set_lock(set);
	mask_stream_rescan_unlocked(s);
	mask_set_unlock(set);
}

size_t
mask_stream_held(const struct mask_stream *s)
{
	const struct mask_set *set = s->set;
	size_t held;

	mask_set_lock(set);
	held = mask_stream_held_unlocked(s);
	mask_set_unlock(set);
	return held;
}

bool
mask_stream_flush_quiet(struct mask_stream *s)
{
	const struct mask_set *set = s->set;
	bool emitted;

	mask_set_lock(set);
	emitted = mask_stream_flush_quiet_unlocked(s);
	mask_set_unlock(set);
	return emitted;
}

void
mask_stream_free(struct mask_stream *s)
{
	const struct mask_set *set;

	if (s == NULL)
		return;
	set = s->set;
	mask_set_lock(set);
	mask_stream_free_unlocked(s);
	mask_set_unlock(set);
}

char *
mask_string(
    struct mask_set *set, const void *data, size_t size, size_t *out_size)
{
	char *masked;

	mask_set_lock(set);
	masked = mask_string_unlocked(set, data, size, out_size, true);
	mask_set_unlock(set);
	return masked;
}

static void
emit_nowhere(void *context, const char *data, size_t size)
{
	(void)context;
	(void)data;
	(void)size;
}

size_t
mask_safe_cut(struct mask_set *set, const void *data, size_t size)
{
	struct mask_stream *s;
	size_t held;

	mask_set_lock(set);
	if (mask_set_empty(set)) {
		mask_set_unlock(set);
		return size;
	}
	s = mask_stream_new_unlocked(set, emit_nowhere, NULL);
	mask_stream_feed_unlocked(s, data, size);
	held = mask_stream_held_unlocked(s);
	mask_stream_free_unlocked(s);
	mask_set_unlock(set);
	return held < size ? size - held : 0;
}

char *
mask_string_output(
    struct mask_set *set, const void *data, size_t size, size_t *out_size)
{
	char *masked;

	mask_set_lock(set);
	masked = mask_string_unlocked(set, data, size, out_size, false);
	mask_set_unlock(set);
	return masked;
}
