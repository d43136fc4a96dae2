/*
 * The min-heap of heap.h: sift up on push, sift down on pop.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "heap.h"
#include "xalloc.h"

void
heap_push(struct heap *h, size_t value)
{
	size_t i, parent;

	xgrow(&h->items, &h->cap, h->len + 1, sizeof(*h->items));
	i = h->len++;
	while (i > 0 && h->items[parent = (i - 1) / 2] > value) {
		h->items[i] = h->items[parent];
		i = parent;
	}
	h->items[i] = value;
}

size_t
heap_pop(struct heap *h)
{
	size_t top, last, i = 0, child;

	if (h->len == 0)
		BUG("pop from an empty heap");
	top = h->items[0];
	last = h->items[--h->len];
	while ((child = 2 * i + 1) < h->len) {
		if (child + 1 < h->len && h->items[child + 1] < h->items[child])
			child++;
		if (last <= h->items[child])
			break;
		h->items[i] = h->items[child];
		i = child;
	}
	if (h->len > 0)
		h->items[i] = last;
	return top;
}

void
heap_release(struct heap *h)
{
	free(h->items);
	memset(h, 0, sizeof(*h));
}
