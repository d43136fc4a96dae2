/*
 * From job to plan: sort the names (finding duplicates), resolve each
 * dependency to an index (with a "did you mean" when it names no step),
 * order the graph with Kahn's algorithm taking the earliest step in the file
 * among those ready (so a chain reads top to bottom), name a whole cycle
 * when there is one, and parse every condition.  All of it is O(n log n) in
 * steps plus dependencies, so a 10,000-step job checks in milliseconds.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heap.h"
#include "plan.h"
#include "suggest.h"
#include "xalloc.h"

static char *
plan_error(const struct plan *plan, struct srcpos pos, const char *fmt, ...)
{
	const char *file = plan->job->file ? plan->job->file : "job";
	char *message, *error, *p;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&message, fmt, ap) < 0)
		message = NULL;
	va_end(ap);
	if (message == NULL)
		message = xstrdup("out of memory");
	/* Keep the message on one line whatever a dependency's name holds. */
	for (p = message; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	if (pos.line > 0)
		error = xasprintf(
		    "%s:%u:%u: %s", file, pos.line, pos.column, message);
	else
		error = xasprintf("%s: %s", file, message);
	free(message);
	return error;
}

static const struct job *sort_job; /* qsort has no context argument */

static int
compare_names(const void *a, const void *b)
{
	size_t ia = *(const size_t *)a, ib = *(const size_t *)b;
	int c = strcmp(sort_job->steps[ia].name, sort_job->steps[ib].name);

	if (c != 0)
		return c;
	return ia < ib ? -1 : ia > ib;
}

static int
index_names(struct plan *plan, char **error)
{
	const struct job *job = plan->job;
	size_t i, a, b;

	plan->by_name = xcalloc(job->n_steps, sizeof(*plan->by_name));
	for (i = 0; i < job->n_steps; i++)
		plan->by_name[i] = i;
	sort_job = job;
	qsort(
	    plan->by_name, job->n_steps, sizeof(*plan->by_name), compare_names);
	for (i = 1; i < job->n_steps; i++) {
		a = plan->by_name[i - 1];
		b = plan->by_name[i];
		if (strcmp(job->steps[a].name, job->steps[b].name) == 0) {
			*error = plan_error(plan, job->steps[b].name_pos,
			    "duplicate step name '%s' (first at line %u): "
			    "expected a different name for each step",
			    job->steps[b].name, job->steps[a].name_pos.line);
			return -1;
		}
	}
	return 0;
}

long
plan_find(const struct plan *plan, const char *name)
{
	size_t low = 0, high = plan->n_steps, mid;
	int c;

	while (low < high) {
		mid = low + (high - low) / 2;
		c = strcmp(name, plan->job->steps[plan->by_name[mid]].name);
		if (c == 0)
			return (long)plan->by_name[mid];
		if (c < 0)
			high = mid;
		else
			low = mid + 1;
	}
	return -1;
}

static char *
unknown_dependency(const struct plan *plan, const struct step *step, size_t k)
{
	const struct job *job = plan->job;
	const char **names = xcalloc(job->n_steps, sizeof(*names));
	const char *hint;
	char *error;
	size_t i;

	for (i = 0; i < job->n_steps; i++)
		names[i] = job->steps[i].name;
	hint = suggest_closest(step->depends_on.items[k], names, job->n_steps);
	if (hint != NULL)
		error = plan_error(plan, step->depends_on.pos[k],
		    "step '%s' depends on unknown step '%s' (did you mean "
		    "'%s'?)",
		    step->name, step->depends_on.items[k], hint);
	else
		error = plan_error(plan, step->depends_on.pos[k],
		    "step '%s' depends on unknown step '%s': expected the "
		    "name of another step of this job",
		    step->name, step->depends_on.items[k]);
	free(names);
	return error;
}

/*
 * Resolves the dependencies of step index.  needed_by[d] is the last step
 * found to need step d, so a name listed twice is caught in linear time.
 */
static int
resolve_step(struct plan *plan, size_t index, size_t *needed_by, char **error)
{
	const struct step *step = &plan->job->steps[index];
	struct plan_step *ps = &plan->steps[index];
	long dep;
	size_t k;

	ps->step = step;
	ps->deps = xcalloc(step->depends_on.len, sizeof(*ps->deps));
	for (k = 0; k < step->depends_on.len; k++) {
		dep = plan_find(plan, step->depends_on.items[k]);
		if (dep < 0) {
			*error = unknown_dependency(plan, step, k);
			return -1;
		}
		if ((size_t)dep == index) {
			*error = plan_error(plan, step->depends_on.pos[k],
			    "step '%s' depends on itself: expected the names "
			    "of other steps",
			    step->name);
			return -1;
		}
		if (needed_by[dep] == index) {
			*error = plan_error(plan, step->depends_on.pos[k],
			    "step '%s' lists '%s' twice in depends_on: "
			    "expected each step once",
			    step->name, step->depends_on.items[k]);
			return -1;
		}
		needed_by[dep] = index;
		ps->deps[ps->n_deps++] = (size_t)dep;
	}
	return 0;
}

static void
link_dependants(struct plan *plan)
{
	size_t *count = xcalloc(plan->n_steps, sizeof(*count));
	size_t i, k, d;

	for (i = 0; i < plan->n_steps; i++)
		for (k = 0; k < plan->steps[i].n_deps; k++)
			count[plan->steps[i].deps[k]]++;
	for (i = 0; i < plan->n_steps; i++)
		plan->steps[i].dependants = xcalloc(count[i], sizeof(size_t));
	for (i = 0; i < plan->n_steps; i++) {
		for (k = 0; k < plan->steps[i].n_deps; k++) {
			d = plan->steps[i].deps[k];
			plan->steps[d]
			    .dependants[plan->steps[d].n_dependants++] = i;
		}
	}
	free(count);
}

/*
 * Names the cycle among the steps Kahn's algorithm could not order (those
 * with waiting[i] > 0): from the earliest such step, follow dependencies
 * that are also unordered until one repeats.
 */
static char *
describe_cycle(const struct plan *plan, const size_t *waiting)
{
	size_t n = plan->n_steps, start = 0, current, i, k, length, first;
	size_t *path = xcalloc(n + 1, sizeof(*path));
	long *seen_at = xcalloc(n, sizeof(*seen_at));
	const struct step *from;
	char *text, *error;
	size_t used, cap;

	while (waiting[start] == 0)
		start++;
	for (i = 0; i < n; i++)
		seen_at[i] = -1;
	current = start;
	for (length = 0; seen_at[current] < 0; length++) {
		seen_at[current] = (long)length;
		path[length] = current;
		for (k = 0; k < plan->steps[current].n_deps; k++)
			if (waiting[plan->steps[current].deps[k]] > 0)
				break;
		current = plan->steps[current].deps[k];
	}
	first = (size_t)seen_at[current];
	path[length] = current;

	cap = 64;
	text = xmalloc(cap);
	text[0] = '\0';
	used = 0;
	for (i = first; i <= length; i++) {
		const char *name = plan->job->steps[path[i]].name;
		size_t need = used + strlen(name) + 5;

		xgrow(&text, &cap, need, 1);
		used += (size_t)snprintf(text + used, cap - used, "%s%s",
		    i > first ? " -> " : "", name);
	}
	/* Point at the dependency that makes the cycle's first link. */
	from = &plan->job->steps[path[first]];
	for (k = 0; k + 1 < from->depends_on.len; k++)
		if (strcmp(from->depends_on.items[k],
			plan->job->steps[path[first + 1]].name) == 0)
			break;
	error = plan_error(plan, from->depends_on.pos[k],
	    "steps depend on each other in a cycle: %s (each needs the "
	    "next): expected dependencies without a cycle",
	    text);
	free(text);
	free(path);
	free(seen_at);
	return error;
}

static int
order_steps(struct plan *plan, char **error)
{
	size_t n = plan->n_steps, i, k, next, done = 0;
	size_t *waiting = xcalloc(n, sizeof(*waiting));
	struct heap ready = HEAP_INIT;

	plan->order = xcalloc(n, sizeof(*plan->order));
	for (i = 0; i < n; i++) {
		waiting[i] = plan->steps[i].n_deps;
		if (waiting[i] == 0)
			heap_push(&ready, i);
	}
	while (ready.len > 0) {
		next = heap_pop(&ready);
		plan->order[done++] = next;
		for (k = 0; k < plan->steps[next].n_dependants; k++) {
			i = plan->steps[next].dependants[k];
			if (--waiting[i] == 0)
				heap_push(&ready, i);
		}
	}
	if (done < n)
		*error = describe_cycle(plan, waiting);
	free(waiting);
	heap_release(&ready);
	return done < n ? -1 : 0;
}

static bool
step_known(const void *context, const char *name)
{
	return plan_find(context, name) >= 0;
}

/* Parses a condition; errors point at the "if:" value and the character. */
static struct expr *
parse_condition(const struct plan *plan, const char *text, struct srcpos pos,
    const char *owner, char **error)
{
	struct expr *expr;
	size_t offset;
	char *message;

	expr = expr_parse(text, &message, &offset, step_known, plan);
	if (expr == NULL) {
		*error = plan_error(plan, pos,
		    "bad condition in %s (at character %zu): %s", owner,
		    offset + 1, message);
		free(message);
	}
	return expr;
}

static int
parse_conditions(struct plan *plan, char **error)
{
	const struct job *job = plan->job;
	struct expr *expr;
	char *owner;
	size_t i;

	for (i = 0; i < plan->n_steps; i++) {
		const struct step *step = &job->steps[i];

		if (step->condition == NULL)
			continue;
		owner = xasprintf("step '%s'", step->name);
		plan->steps[i].condition = parse_condition(
		    plan, step->condition, step->condition_pos, owner, error);
		free(owner);
		if (plan->steps[i].condition == NULL)
			return -1;
	}
	for (i = 0; i < job->n_triggers; i++) {
		const struct trigger_spec *trigger = &job->triggers[i];

		if (trigger->condition == NULL)
			continue;
		owner = xasprintf("trigger '%s'", trigger->job);
		expr = parse_condition(plan, trigger->condition,
		    trigger->condition_pos, owner, error);
		free(owner);
		if (expr == NULL)
			return -1;
		expr_free(expr);
	}
	return 0;
}

int
plan_build(struct plan *out, const struct job *job, char **error)
{
	struct plan plan = PLAN_INIT;
	size_t i, *needed_by;

	*error = NULL;
	plan.job = job;
	plan.n_steps = job->n_steps;
	plan.steps = xcalloc(job->n_steps, sizeof(*plan.steps));
	if (index_names(&plan, error) < 0)
		goto fail;
	needed_by = xcalloc(job->n_steps, sizeof(*needed_by));
	for (i = 0; i < job->n_steps; i++)
		needed_by[i] = SIZE_MAX;
	for (i = 0; i < job->n_steps; i++) {
		if (resolve_step(&plan, i, needed_by, error) < 0) {
			free(needed_by);
			goto fail;
		}
	}
	free(needed_by);
	link_dependants(&plan);
	if (order_steps(&plan, error) < 0)
		goto fail;
	if (parse_conditions(&plan, error) < 0)
		goto fail;
	*out = plan;
	return 0;
fail:
	plan_release(&plan);
	return -1;
}

void
plan_release(struct plan *plan)
{
	size_t i;

	for (i = 0; i < plan->n_steps; i++) {
		free(plan->steps[i].deps);
		free(plan->steps[i].dependants);
		expr_free(plan->steps[i].condition);
	}
	free(plan->steps);
	free(plan->order);
	free(plan->by_name);
	memset(plan, 0, sizeof(*plan));
}
