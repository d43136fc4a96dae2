/* Unit tests for problems.c: order, duplicates, the cap, the joined text. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "problems.h"
#include "tap.h"

static struct srcpos
at(unsigned line, unsigned column)
{
	struct srcpos pos = { line, column };

	return pos;
}

static void
joined_is(const struct problems *problems, size_t max, const char *expected,
    const char *what)
{
	char *text = problems_join(problems, "\n", max);

	is_str(text, expected, what);
	free(text);
}

int
main(void)
{
	struct problems problems = PROBLEMS_INIT("f.yaml");
	char *text, *last;
	unsigned i;

	ok(problems_join(&problems, "\n", 1000) == NULL, "none: no text");
	problems_add(&problems, at(3, 1), "third");
	problems_add(&problems, at(1, 5), "first %s", "of all");
	problems_add(&problems, at(0, 0), "the whole file");
	problems_add(&problems, at(3, 1), "third, found later");
	problems_add(&problems, at(1, 5), "first of all");
	problems_add(&problems, at(2, 2), "a\nnew\tline");
	is_int((long long)problems_count(&problems), 5, "a repeat counts once");
	joined_is(&problems, 1000,
	    "f.yaml: the whole file\n"
	    "f.yaml:1:5: first of all\n"
	    "f.yaml:2:2: a?new?line\n"
	    "f.yaml:3:1: third\n"
	    "f.yaml:3:1: third, found later",
	    "sorted by position, ties in finding order, one line each");
	joined_is(&problems, 120,
	    "f.yaml: the whole file\n"
	    "f.yaml:1:5: first of all\n"
	    "f.yaml: and 3 more problems",
	    "a size limit ends the list with a count");
	problems_release(&problems);
	is_int((long long)problems_count(&problems), 0, "release empties");

	/* Found last to first: the earliest twenty are the ones kept. */
	for (i = 30; i >= 1; i--)
		problems_add(&problems, at(i, 1), "p%u", i);
	is_int((long long)problems_count(&problems), 30, "all thirty counted");
	is_int((long long)problems.len, PROBLEMS_MAX, "twenty kept");
	ok(strcmp(problems.items[0].message, "p1") == 0 &&
		strcmp(problems.items[PROBLEMS_MAX - 1].message, "p20") == 0,
	    "the earliest twenty, in order");
	problems_add(&problems, at(40, 1), "late");
	is_int((long long)problems.len, PROBLEMS_MAX, "a later one is counted");
	text = problems_join(&problems, "\n", 1 << 20);
	last = strrchr(text, '\n');
	is_str(last, "\nf.yaml: and 11 more problems",
	    "the last line counts those not shown");
	free(text);
	problems_release(&problems);
	return done_testing();
}
