/*
 * From job to plan: sort the names (finding duplicates), resolve each
 * dependency to an index (with a "did you mean" when it names no step),
 * order the graph with Kahn's algorithm taking the earliest step in the file
 * among those ready (so a chain reads top to bottom), name a whole cycle
 * when there is one, and parse every condition.  All of it is O(n log n) in
 * steps plus dependencies, so a 10,000-step job checks in milliseconds.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "heap.h"
#include "plan.h"
#include "problems.h"
#include "sandbox.h"
#include "suggest.h"
#include "xalloc.h"

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

/*
 * Sorts the named steps by name and reports each name used again (a step
 * without a name, whose problem the job file reader has reported, is left
 * out and makes the plan partial).
 */
static void
index_names(struct plan *plan, struct problems *problems)
{
	const struct job *job = plan->job;
	size_t i, a, b, first = 0;

	plan->by_name = xcalloc(job->n_steps, sizeof(*plan->by_name));
	for (i = 0; i < job->n_steps; i++)
		if (job->steps[i].name != NULL)
			plan->by_name[plan->n_named++] = i;
	plan->partial = plan->n_named < job->n_steps;
	sort_job = job;
	qsort(plan->by_name, plan->n_named, sizeof(*plan->by_name),
	    compare_names);
	for (i = 1; i < plan->n_named; i++) {
		a = plan->by_name[first];
		b = plan->by_name[i];
		if (strcmp(job->steps[a].name, job->steps[b].name) != 0) {
			first = i;
			continue;
		}
		problems_add(problems, job->steps[b].name_pos,
		    "duplicate step name '%s' (first at line %u): "
		    "expected a different name for each step",
		    job->steps[b].name, job->steps[a].name_pos.line);
	}
}

long
plan_find(const struct plan *plan, const char *name)
{
	size_t low = 0, high = plan->n_named, mid;
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

/* Returns the name of the step closest to name, or NULL. */
static const char *
step_closest(const void *context, const char *name)
{
	const struct plan *plan = context;
	const char **names = xcalloc(plan->n_named + 1, sizeof(*names));
	const char *hint;
	size_t i;

	for (i = 0; i < plan->n_named; i++)
		names[i] = plan->job->steps[plan->by_name[i]].name;
	hint = suggest_closest(name, names, plan->n_named);
	free(names);
	return hint;
}

static void
unknown_dependency(const struct plan *plan, const struct step *step, size_t k,
    struct problems *problems)
{
	const char *hint = step_closest(plan, step->depends_on.items[k]);

	if (hint != NULL)
		problems_add(problems, step->depends_on.pos[k],
		    "step '%s' depends on unknown step '%s' (did you mean "
		    "'%s'?)",
		    step->name, step->depends_on.items[k], hint);
	else
		problems_add(problems, step->depends_on.pos[k],
		    "step '%s' depends on unknown step '%s': expected the "
		    "name of another step of this job",
		    step->name, step->depends_on.items[k]);
}

/*
 * Resolves the dependencies of step index, reporting and leaving out each
 * bad one.  needed_by[d] is the last step found to need step d, so a name
 * listed twice is caught in linear time.  A step without a name has had
 * its problem reported; its dependencies are left out.  In a partial plan
 * an unknown name may be the unnamed step's, so it is not reported.
 */
static void
resolve_step(struct plan *plan, size_t index, size_t *needed_by,
    struct problems *problems)
{
	const struct step *step = &plan->job->steps[index];
	struct plan_step *ps = &plan->steps[index];
	long dep;
	size_t k;

	ps->step = step;
	ps->deps = xcalloc(step->depends_on.len + 1, sizeof(*ps->deps));
	if (step->name == NULL)
		return;
	for (k = 0; k < step->depends_on.len; k++) {
		dep = plan_find(plan, step->depends_on.items[k]);
		if (dep < 0 && !plan->partial)
			unknown_dependency(plan, step, k, problems);
		else if ((size_t)dep == index)
			problems_add(problems, step->depends_on.pos[k],
			    "step '%s' depends on itself: expected the names "
			    "of other steps",
			    step->name);
		else if (dep >= 0 && needed_by[dep] == index)
			problems_add(problems, step->depends_on.pos[k],
			    "step '%s' lists '%s' twice in depends_on: "
			    "expected each step once",
			    step->name, step->depends_on.items[k]);
		if (dep < 0 || (size_t)dep == index || needed_by[dep] == index)
			continue;
		needed_by[dep] = index;
		ps->deps[ps->n_deps++] = (size_t)dep;
	}
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

/* Joins the names of path[0..length] with " -> ". */
static char *
cycle_text(const struct plan *plan, const size_t *path, size_t length)
{
	size_t i, used = 0, cap = 64;
	char *text = xmalloc(cap);

	text[0] = '\0';
	for (i = 0; i <= length; i++) {
		const char *name = plan->job->steps[path[i]].name;

		xgrow(&text, &cap, used + strlen(name) + 5, 1);
		used += (size_t)snprintf(
		    text + used, cap - used, "%s%s", i > 0 ? " -> " : "", name);
	}
	return text;
}

/* Reports the cycle path[0..length] (path[length] == path[0]). */
static void
report_cycle(const struct plan *plan, const size_t *path, size_t length,
    struct problems *problems)
{
	const struct step *from = &plan->job->steps[path[0]];
	char *text = cycle_text(plan, path, length);
	size_t k;

	/* Point at the dependency that makes the cycle's first link. */
	for (k = 0; k + 1 < from->depends_on.len; k++)
		if (strcmp(from->depends_on.items[k],
			plan->job->steps[path[1]].name) == 0)
			break;
	problems_add(problems, from->depends_on.pos[k],
	    "steps depend on each other in a cycle: %s (each needs the "
	    "next): expected dependencies without a cycle",
	    text);
	free(text);
}

/*
 * Names each cycle among the steps Kahn's algorithm could not order (those
 * with waiting[i] > 0): from the earliest such step not yet looked at,
 * follow dependencies that are also unordered until a step repeats (a new
 * cycle) or one already looked at is reached (a step downstream of a cycle
 * already named).  Each step is walked once: linear in steps and
 * dependencies.
 */
static void
report_cycles(
    const struct plan *plan, const size_t *waiting, struct problems *problems)
{
	size_t n = plan->n_steps, start, current, i, k, length;
	size_t *path = xcalloc(n + 1, sizeof(*path));
	long *seen_at = xcalloc(n, sizeof(*seen_at));
	bool *done = xcalloc(n, sizeof(*done));

	for (i = 0; i < n; i++)
		seen_at[i] = -1;
	for (start = 0; start < n; start++) {
		if (waiting[start] == 0 || done[start])
			continue;
		current = start;
		for (length = 0; seen_at[current] < 0 && !done[current];
		     length++) {
			seen_at[current] = (long)length;
			path[length] = current;
			for (k = 0; k < plan->steps[current].n_deps; k++)
				if (waiting[plan->steps[current].deps[k]] > 0)
					break;
			current = plan->steps[current].deps[k];
		}
		if (!done[current]) {
			path[length] = current;
			i = (size_t)seen_at[current];
			report_cycle(plan, path + i, length - i, problems);
		}
		for (i = 0; i < length; i++) {
			done[path[i]] = true;
			seen_at[path[i]] = -1;
		}
	}
	free(path);
	free(seen_at);
	free(done);
}

static void
order_steps(struct plan *plan, struct problems *problems)
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
		report_cycles(plan, waiting, problems);
	free(waiting);
	heap_release(&ready);
}

/* In a partial plan, a name may be the unnamed step's: let it pass. */
static bool
step_known(const void *context, const char *name)
{
	const struct plan *plan = context;

	return plan->partial || plan_find(plan, name) >= 0;
}

/* Parses a condition; errors point at the "if:" value and the character. */
static struct expr *
parse_condition(const struct plan *plan, const char *text, struct srcpos pos,
    const char *owner, struct problems *problems)
{
	struct expr_steps steps = { step_known, step_closest, plan };
	struct expr *expr;
	size_t offset;
	char *message;

	expr = expr_parse_steps(text, &message, &offset, &steps);
	if (expr == NULL) {
		problems_add(problems, pos,
		    "bad condition in %s (at character %zu): %s", owner,
		    offset + 1, message);
		free(message);
	}
	return expr;
}

/* Names the owner of a condition in messages. */
static char *
owner_label(const char *kind, const char *name, size_t index)
{
	if (name == NULL)
		return xasprintf("%s %zu", kind, index + 1);
	return xasprintf("%s '%s'", kind, name);
}

static void
parse_conditions(struct plan *plan, struct problems *problems)
{
	const struct job *job = plan->job;
	struct expr *expr;
	char *owner;
	size_t i;

	for (i = 0; i < plan->n_steps; i++) {
		const struct step *step = &job->steps[i];

		if (step->condition == NULL)
			continue;
		owner = owner_label("step", step->name, i);
		plan->steps[i].condition = parse_condition(plan,
		    step->condition, step->condition_pos, owner, problems);
		free(owner);
	}
	for (i = 0; i < job->n_triggers; i++) {
		const struct trigger_spec *trigger = &job->triggers[i];

		if (trigger->condition == NULL)
			continue;
		owner = owner_label("trigger", trigger->job, i);
		expr = parse_condition(plan, trigger->condition,
		    trigger->condition_pos, owner, problems);
		free(owner);
		expr_free(expr);
	}
}

/* Builds as much of the plan as job allows, adding every problem found. */
static void
build(struct plan *plan, const struct job *job, struct problems *problems)
{
	size_t i, *needed_by;

	plan->job = job;
	plan->n_steps = job->n_steps;
	plan->steps = xcalloc(job->n_steps + 1, sizeof(*plan->steps));
	index_names(plan, problems);
	needed_by = xcalloc(job->n_steps + 1, sizeof(*needed_by));
	for (i = 0; i < job->n_steps; i++)
		needed_by[i] = SIZE_MAX;
	for (i = 0; i < job->n_steps; i++)
		resolve_step(plan, i, needed_by, problems);
	free(needed_by);
	link_dependants(plan);
	order_steps(plan, problems);
	parse_conditions(plan, problems);
}

void
plan_check(const struct job *job, struct problems *problems)
{
	struct plan plan = PLAN_INIT;

	build(&plan, job, problems);
	plan_release(&plan);
}

int
plan_build(struct plan *out, const struct job *job, char **error)
{
	struct problems problems =
	    PROBLEMS_INIT(job->file != NULL ? job->file : "job");
	struct plan plan = PLAN_INIT;

	*error = NULL;
	build(&plan, job, &problems);
	if (problems_count(&problems) > 0) {
		*error = problems_join(
		    &problems, PROBLEMS_DIAG_SEPARATOR, PROBLEMS_DIAG_MAX);
		problems_release(&problems);
		plan_release(&plan);
		return -1;
	}
	*out = plan;
	return 0;
}

void
plan_waves(struct plan_waves *out, const struct plan *plan)
{
	size_t n = plan->n_steps, i, k, step, *fill;
	struct plan_waves waves = PLAN_WAVES_INIT;

	waves.wave_of = xcalloc(n + 1, sizeof(*waves.wave_of));
	waves.steps = xcalloc(n + 1, sizeof(*waves.steps));
	/* Dependencies first: each step's wave is known before it is used. */
	for (i = 0; i < n; i++) {
		step = plan->order[i];
		for (k = 0; k < plan->steps[step].n_deps; k++) {
			size_t dep = plan->steps[step].deps[k];

			if (waves.wave_of[dep] + 1 > waves.wave_of[step])
				waves.wave_of[step] = waves.wave_of[dep] + 1;
		}
		if (waves.wave_of[step] + 1 > waves.n_waves)
			waves.n_waves = waves.wave_of[step] + 1;
	}
	/* A counting sort by wave keeps file order within each. */
	waves.first = xcalloc(waves.n_waves + 1, sizeof(*waves.first));
	for (i = 0; i < n; i++)
		waves.first[waves.wave_of[i] + 1]++;
	for (k = 0; k < waves.n_waves; k++)
		waves.first[k + 1] += waves.first[k];
	fill = xcalloc(waves.n_waves + 1, sizeof(*fill));
	memcpy(fill, waves.first, waves.n_waves * sizeof(*fill));
	for (i = 0; i < n; i++)
		waves.steps[fill[waves.wave_of[i]]++] = i;
	free(fill);
	*out = waves;
}

void
plan_waves_release(struct plan_waves *waves)
{
	free(waves->wave_of);
	free(waves->steps);
	free(waves->first);
	memset(waves, 0, sizeof(*waves));
}

/* Prints one step of a dry run's wave. */
static void
print_step(
    FILE *out, const struct plan *plan, size_t index, uint64_t job_timeout_ms)
{
	const struct plan_step *ps = &plan->steps[index];
	const struct step *step = ps->step;
	char duration[64];
	size_t k;

	fprintf(out, "  %s:", step->name);
	for (k = 0; k < ps->n_deps; k++)
		fprintf(out, "%s%s", k == 0 ? " needs " : ", ",
		    plan->steps[ps->deps[k]].step->name);
	fprintf(out, "%s if %s;", ps->n_deps > 0 ? ";" : "",
	    step->condition != NULL ? step->condition : "success()");
	if (step->timeout_ms > 0)
		fprintf(out, " timeout %s;",
		    duration_format(
			duration, sizeof(duration), step->timeout_ms));
	else if (job_timeout_ms > 0)
		fprintf(out, " timeout %s (the job's);",
		    duration_format(
			duration, sizeof(duration), job_timeout_ms));
	else
		fprintf(out, " no timeout;");
	if (step->retries > 0)
		fprintf(out, " retries %lld;", step->retries);
	if (step->continue_on_error)
		fprintf(out, " continue on error;");
	fprintf(out, " %s\n",
	    sandbox_step_untrusted(plan->job, step) ? "untrusted" : "trusted");
}

void
plan_print_waves(FILE *out, const struct plan *plan, const char *job_name,
    uint64_t job_timeout_ms)
{
	struct plan_waves waves = PLAN_WAVES_INIT;
	size_t k, i;

	plan_waves(&waves, plan);
	fprintf(out,
	    "job %s: %zu step%s in %zu wave%s; the steps of a wave may run "
	    "at the same time\n",
	    job_name, plan->n_steps, plan->n_steps == 1 ? "" : "s",
	    waves.n_waves, waves.n_waves == 1 ? "" : "s");
	for (k = 0; k < waves.n_waves; k++) {
		fprintf(out, "wave %zu:\n", k + 1);
		for (i = waves.first[k]; i < waves.first[k + 1]; i++)
			print_step(out, plan, waves.steps[i], job_timeout_ms);
	}
	plan_waves_release(&waves);
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
