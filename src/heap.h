/*
 * A binary min-heap of indices: "the earliest step in the file among those
 * ready" for both the plan's order and the engine's scheduling.
 */
#ifndef JOBRUN_HEAP_H
#define JOBRUN_HEAP_H

#include <stdbool.h>
#include <stddef.h>

struct heap {
	size_t *items;
	size_t len;
	size_t cap;
};

#define HEAP_INIT                                                              \
	{                                                                      \
		0                                                              \
	}

/* Adds value. */
void heap_push(struct heap *heap, size_t value);

/* Removes and returns the smallest value; the heap must not be empty. */
size_t heap_pop(struct heap *heap);

/* Frees the heap's storage. */
void heap_release(struct heap *heap);

#endif
