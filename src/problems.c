/*
 * A bounded, sorted list of a file's problems (problems.h).  Only the
 * PROBLEMS_MAX earliest are kept, so a file with a million bad entries
 * costs no more memory than one with twenty.
 */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "problems.h"
#include "xalloc.h"

static int
compare_pos(struct srcpos a, struct srcpos b)
{
	if (a.line != b.line)
		return a.line < b.line ? -1 : 1;
	if (a.column != b.column)
		return a.column < b.column ? -1 : 1;
	return 0;
}

static bool
already_kept(
    const struct problems *problems, struct srcpos pos, const char *message)
{
	size_t i;

	for (i = 0; i < problems->len; i++)
		if (compare_pos(problems->items[i].pos, pos) == 0 &&
		    strcmp(problems->items[i].message, message) == 0)
			return true;
	return false;
}

/* Inserts after the problems at the same position, keeping finding order. */
static void
insert(struct problems *problems, struct srcpos pos, char *message)
{
	size_t at = problems->len;

	while (at > 0 && compare_pos(problems->items[at - 1].pos, pos) > 0)
		at--;
	if (at == PROBLEMS_MAX) {
		problems->dropped++;
		free(message);
		return;
	}
	if (problems->len == PROBLEMS_MAX) {
		free(problems->items[PROBLEMS_MAX - 1].message);
		problems->len--;
		problems->dropped++;
	}
	memmove(&problems->items[at + 1], &problems->items[at],
	    (problems->len - at) * sizeof(problems->items[0]));
	problems->items[at].pos = pos;
	problems->items[at].message = message;
	problems->len++;
}

void
problems_add(struct problems *problems, struct srcpos pos, const char *fmt, ...)
{
	va_list ap;
	char *message, *p;

	va_start(ap, fmt);
	if (vasprintf(&message, fmt, ap) < 0)
		message = NULL;
	va_end(ap);
	if (message == NULL)
		message = xstrdup("out of memory");
	for (p = message; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	if (already_kept(problems, pos, message)) {
		free(message);
		return;
	}
	insert(problems, pos, message);
}

size_t
problems_count(const struct problems *problems)
{
	return problems->len + problems->dropped;
}

static char *
format_line(const struct problems *problems, const struct problem *problem)
{
	if (problem->pos.line == 0)
		return xasprintf("%s: %s", problems->file, problem->message);
	return xasprintf("%s:%u:%u: %s", problems->file, problem->pos.line,
	    problem->pos.column, problem->message);
}

char *
problems_join(
    const struct problems *problems, const char *separator, size_t max_size)
{
	size_t i, used = 0, cap = 256, more, need;
	char *text, *line;

	if (problems->len == 0)
		return NULL;
	text = xmalloc(cap);
	text[0] = '\0';
	/* Room for the last line, "and N more problems", is kept back. */
	for (i = 0; i < problems->len; i++) {
		line = format_line(problems, &problems->items[i]);
		need = used + strlen(separator) + strlen(line) + 1;
		if (i > 0 && need + 64 > max_size) {
			free(line);
			break;
		}
		xgrow(&text, &cap, need, 1);
		used += (size_t)snprintf(text + used, cap - used, "%s%s",
		    i > 0 ? separator : "", line);
		free(line);
	}
	more = problems->len - i + problems->dropped;
	if (more > 0) {
		line = xasprintf("%s%s: and %zu more problem%s", separator,
		    problems->file, more, more == 1 ? "" : "s");
		xgrow(&text, &cap, used + strlen(line) + 1, 1);
		memcpy(text + used, line, strlen(line) + 1);
		free(line);
	}
	return text;
}

void
problems_release(struct problems *problems)
{
	size_t i;

	for (i = 0; i < problems->len; i++)
		free(problems->items[i].message);
	problems->len = 0;
	problems->dropped = 0;
}
