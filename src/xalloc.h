/*
 * Allocation helpers.  Running out of memory is fatal: each helper either
 * returns usable memory or prints "jobrun: out of memory" and exits 125, so
 * no caller half-handles a failed allocation.
 */
#ifndef JOBRUN_XALLOC_H
#define JOBRUN_XALLOC_H

#include <stddef.h>

/* Returns zeroed memory for nmemb objects of size bytes; overflow is fatal. */
void *xcalloc(size_t nmemb, size_t size);

/* Returns size bytes (at least one). */
void *xmalloc(size_t size);

/* Resizes ptr to nmemb * size bytes; overflow is fatal. */
void *xreallocarray(void *ptr, size_t nmemb, size_t size);

/* Returns a copy of s; xstrndup copies at most n bytes and terminates it. */
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Returns a newly allocated formatted string. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Frees p (NULL is fine) after wiping its whole block: for an allocator
 * whose blocks may hold secrets, such as jansson's
 * (json_set_alloc_funcs(xmalloc, xfree_wiped)).
 */
void xfree_wiped(void *p);

/*
 * Grows *items (of *cap elements of size bytes) so that it holds at least
 * need elements, doubling the capacity.
 */
void xgrow(void *items, size_t *cap, size_t need, size_t size);

#endif
