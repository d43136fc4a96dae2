/*
 * The string list and name/value list shared by the job model, the
 * configuration and the runner.  Linear lookups: these lists are short.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "list.h"
#include "xalloc.h"

void
strlist_push(struct strlist *list, const char *s, struct srcpos pos)
{
	size_t cap = list->cap;

	xgrow(&list->items, &list->cap, list->len + 1, sizeof(*list->items));
	xgrow(&list->pos, &cap, list->len + 1, sizeof(*list->pos));
	list->items[list->len] = xstrdup(s);
	list->pos[list->len] = pos;
	list->len++;
}

long
strlist_find(const struct strlist *list, const char *s)
{
	size_t i;

	for (i = 0; i < list->len; i++)
		if (strcmp(list->items[i], s) == 0)
			return (long)i;
	return -1;
}

void
strlist_release(struct strlist *list)
{
	size_t i;

	for (i = 0; i < list->len; i++)
		free(list->items[i]);
	free(list->items);
	free(list->pos);
	memset(list, 0, sizeof(*list));
}

/* Lists shorter than this are searched in order: hashing would cost more. */
#define NVLIST_HASH_FROM 16

static size_t
name_hash(const char *name)
{
	size_t h = (size_t)14695981039346656037ULL;

	while (*name != '\0')
		h = (h ^ (unsigned char)*name++) * (size_t)1099511628211ULL;
	return h;
}

/* Puts position i into the index. */
static void
index_insert(struct nvlist *list, size_t i)
{
	size_t mask = list->index_cap - 1;
	size_t slot = name_hash(list->items[i].name) & mask;

	while (list->index[slot] != 0)
		slot = (slot + 1) & mask;
	list->index[slot] = i + 1;
}

/* Keeps the index at most half full, rebuilding it as the list grows. */
static void
index_grow(struct nvlist *list)
{
	size_t i;

	if (list->len < NVLIST_HASH_FROM || list->len * 2 <= list->index_cap)
		return;
	free(list->index);
	list->index_cap = list->index_cap ? list->index_cap * 2 : 64;
	while (list->len * 2 > list->index_cap)
		list->index_cap *= 2;
	list->index = xcalloc(list->index_cap, sizeof(*list->index));
	for (i = 0; i < list->len; i++)
		index_insert(list, i);
}

static long
find(const struct nvlist *list, const char *name)
{
	size_t i, mask, slot;

	if (list->index == NULL) {
		for (i = 0; i < list->len; i++)
			if (strcmp(list->items[i].name, name) == 0)
				return (long)i;
		return -1;
	}
	mask = list->index_cap - 1;
	for (slot = name_hash(name) & mask; list->index[slot] != 0;
	     slot = (slot + 1) & mask)
		if (strcmp(list->items[list->index[slot] - 1].name, name) == 0)
			return (long)(list->index[slot] - 1);
	return -1;
}

void
nvlist_set(
    struct nvlist *list, const char *name, const char *value, struct srcpos pos)
{
	struct nvpair *pair;
	long i = find(list, name);

	if (i >= 0) {
		pair = &list->items[i];
		wipe(pair->value, strlen(pair->value));
		free(pair->value);
		pair->value = xstrdup(value);
		pair->pos = pos;
		return;
	}
	xgrow(&list->items, &list->cap, list->len + 1, sizeof(*list->items));
	pair = &list->items[list->len++];
	pair->name = xstrdup(name);
	pair->value = xstrdup(value);
	pair->pos = pos;
	if (list->index != NULL && list->len * 2 <= list->index_cap)
		index_insert(list, list->len - 1);
	else
		index_grow(list);
}

const struct nvpair *
nvlist_get(const struct nvlist *list, const char *name)
{
	long i = find(list, name);

	return i >= 0 ? &list->items[i] : NULL;
}

void
nvlist_release(struct nvlist *list)
{
	size_t i;

	for (i = 0; i < list->len; i++) {
		free(list->items[i].name);
		wipe(list->items[i].value, strlen(list->items[i].value));
		free(list->items[i].value);
	}
	free(list->items);
	free(list->index);
	memset(list, 0, sizeof(*list));
}

void
wipe(void *p, size_t len)
{
#ifdef HAVE_EXPLICIT_BZERO
	explicit_bzero(p, len);
#else
	volatile unsigned char *v = p;

	while (len-- > 0)
		*v++ = 0;
#endif
}
