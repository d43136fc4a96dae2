/*
 * Which steps run under --until and --only (step-select.h): names are
 * looked up in the plan, with a did-you-mean for a misspelt one.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "step-select.h"
#include "suggest.h"
#include "xalloc.h"

/* The index of the step called name (size bytes), or -1 after *error. */
static long
find_step(const struct plan *plan, const char *flag, const char *name,
    size_t size, char **error)
{
	const char **names = xcalloc(plan->n_steps + 1, sizeof(*names));
	const char *close;
	char *wanted = xstrndup(name, size);
	size_t i, n = 0;
	long found = -1;

	for (i = 0; i < plan->n_steps; i++) {
		if (plan->steps[i].step->name == NULL)
			continue;
		names[n++] = plan->steps[i].step->name;
		if (strcmp(plan->steps[i].step->name, wanted) == 0)
			found = (long)i;
	}
	if (found < 0) {
		close = suggest_closest(wanted, names, n);
		*error = close != NULL
		    ? xasprintf("%s: no step is called '%s' (did you mean "
				"'%s'?)",
			  flag, wanted, close)
		    : xasprintf("%s: no step is called '%s'", flag, wanted);
	}
	free(wanted);
	free(names);
	return found;
}

/* Selects index and, transitively, every step it depends on. */
static void
select_with_deps(const struct plan *plan, size_t index, bool *selected)
{
	const struct plan_step *ps = &plan->steps[index];
	size_t k;

	if (selected[index])
		return;
	selected[index] = true;
	for (k = 0; k < ps->n_deps; k++)
		select_with_deps(plan, ps->deps[k], selected);
}

/* Selects each step of the comma-separated list; -1 after *error. */
static int
select_list(
    const struct plan *plan, const char *list, bool *selected, char **error)
{
	const char *p = list, *comma;
	size_t size;
	long index;

	for (;;) {
		comma = strchr(p, ',');
		size = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if (size == 0) {
			*error = xasprintf(
			    "--only: expected STEP[,STEP...], got '%s'", list);
			return -1;
		}
		if ((index = find_step(plan, "--only", p, size, error)) < 0)
			return -1;
		selected[index] = true;
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

int
step_select(const struct plan *plan, const char *until, const char *only,
    bool **out, char **error)
{
	bool *selected;
	long index;

	*out = NULL;
	if (until == NULL && only == NULL)
		return 0;
	if (until != NULL && only != NULL) {
		*error = xstrdup("--until and --only cannot be used together");
		return -1;
	}
	selected = xcalloc(plan->n_steps + 1, sizeof(*selected));
	if (only != NULL && select_list(plan, only, selected, error) < 0) {
		free(selected);
		return -1;
	}
	if (until != NULL) {
		index = find_step(plan, "--until", until, strlen(until), error);
		if (index < 0) {
			free(selected);
			return -1;
		}
		select_with_deps(plan, (size_t)index, selected);
	}
	*out = selected;
	return 0;
}
