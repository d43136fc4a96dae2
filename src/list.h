/*
 * Two small containers used across jobrun: a list of strings and an ordered
 * list of name/value pairs (environment variables, settings).  Each entry
 * remembers where in the job file it came from.  Both copy what they store.
 */
#ifndef JOBRUN_LIST_H
#define JOBRUN_LIST_H

#include <stdbool.h>
#include <stddef.h>

/* A position in a job file, both counted from 1; {0, 0} means "nowhere". */
struct srcpos {
	unsigned line;
	unsigned column;
};

struct strlist {
	char **items;
	struct srcpos *pos;
	size_t len;
	size_t cap;
};

#define STRLIST_INIT                                                           \
	{                                                                      \
		0                                                              \
	}

/* Appends a copy of s. */
void strlist_push(struct strlist *list, const char *s, struct srcpos pos);

/* Returns the index of the first entry equal to s, or -1. */
long strlist_find(const struct strlist *list, const char *s);

/* Frees the entries; the list is empty and reusable afterwards. */
void strlist_release(struct strlist *list);

struct nvpair {
	char *name;
	char *value;
	struct srcpos pos;
};

struct nvlist {
	struct nvpair *items;
	size_t len;
	size_t cap;
	size_t *index; /* open-addressing hash of names: position + 1 */
	size_t index_cap; /* a power of two, or 0 while the list is short */
};

#define NVLIST_INIT                                                            \
	{                                                                      \
		0                                                              \
	}

/*
 * Sets name to a copy of value, replacing an earlier value of the same name
 * in place (so the order of first definition is kept).  Lookups are by
 * hash once a list grows past a few entries, so building a list of n
 * names costs O(n).
 */
void nvlist_set(struct nvlist *list, const char *name, const char *value,
    struct srcpos pos);

/* Returns the entry for name, or NULL; borrowed from the list. */
const struct nvpair *nvlist_get(const struct nvlist *list, const char *name);

/* Frees the entries, wiping values first (they may hold secrets). */
void nvlist_release(struct nvlist *list);

/* Overwrites len bytes at p with zeros in a way the compiler keeps. */
void wipe(void *p, size_t len);

#endif
