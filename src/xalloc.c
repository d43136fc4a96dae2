/*
 * Allocation helpers that turn out-of-memory into one clear fatal error, so
 * the rest of jobrun never carries a half-handled NULL.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <unistd.h>

#include "list.h"
#include "xalloc.h"

static void __attribute__((noreturn)) xalloc_die(void)
{
	static const char message[] = "jobrun: out of memory\n";

	/* write(2): stdio may itself need memory. */
	if (write(STDERR_FILENO, message, sizeof(message) - 1) < 0) {
		/* nothing more can be done */
	}
	_exit(125);
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (p == NULL)
		xalloc_die();
	return p;
}

void *
xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (p == NULL)
		xalloc_die();
	return p;
}

void *
xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	void *p;

	if (size != 0 && nmemb > SIZE_MAX / size)
		xalloc_die();
	p = realloc(ptr, nmemb == 0 || size == 0 ? 1 : nmemb * size);
	if (p == NULL)
		xalloc_die();
	return p;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p;

	n = strnlen(s, n);
	p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (n < 0)
		xalloc_die();
	return p;
}

void
xgrow(void *items, size_t *cap, size_t need, size_t size)
{
	void **p = items;
	size_t new_cap;

	if (need <= *cap)
		return;
	new_cap = *cap ? *cap : 8;
	while (new_cap < need) {
		if (new_cap > SIZE_MAX / 2)
			xalloc_die();
		new_cap *= 2;
	}
	*p = xreallocarray(*p, new_cap, size);
	*cap = new_cap;
}

void
xfree_wiped(void *p)
{
	if (p == NULL)
		return;
	wipe(p, malloc_usable_size(p));
	free(p);
}
