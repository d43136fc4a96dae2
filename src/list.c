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

void
nvlist_set(
    struct nvlist *list, const char *name, const char *value, struct srcpos pos)
{
	struct nvpair *pair;
	size_t i;

	for (i = 0; i < list->len; i++) {
		pair = &list->items[i];
		if (strcmp(pair->name, name) == 0) {
			wipe(pair->value, strlen(pair->value));
			free(pair->value);
			pair->value = xstrdup(value);
			pair->pos = pos;
			return;
		}
	}
	xgrow(&list->items, &list->cap, list->len + 1, sizeof(*list->items));
	pair = &list->items[list->len++];
	pair->name = xstrdup(name);
	pair->value = xstrdup(value);
	pair->pos = pos;
}

const struct nvpair *
nvlist_get(const struct nvlist *list, const char *name)
{
	size_t i;

	for (i = 0; i < list->len; i++)
		if (strcmp(list->items[i].name, name) == 0)
			return &list->items[i];
	return NULL;
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
