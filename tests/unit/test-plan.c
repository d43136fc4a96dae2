/* Unit tests for plan.c: order, dependants, and the errors across steps. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobfile.h"
#include "plan.h"
#include "tap.h"

/* Parses text and builds its plan; returns the error or NULL. */
static char *
try_plan(const char *text, struct plan *plan, struct job **job)
{
	char *error = NULL;

	*job = jobfile_parse("p.yaml", text, strlen(text), &error);
	if (*job == NULL)
		return error;
	if (plan_build(plan, *job, &error) < 0)
		return error;
	return NULL;
}

static void
order_is(const char *text, const char *expected, const char *what)
{
	struct plan plan = PLAN_INIT;
	struct job *job;
	char got[512] = "", *error;
	size_t i;

	error = try_plan(text, &plan, &job);
	if (error == NULL) {
		for (i = 0; i < plan.n_steps; i++) {
			strcat(got, i ? " " : "");
			strcat(got, job->steps[plan.order[i]].name);
		}
	}
	is_str(error == NULL ? got : error, expected, what);
	free(error);
	plan_release(&plan);
	job_free(job);
}

static void
error_is(const char *text, const char *expected, const char *what)
{
	struct plan plan = PLAN_INIT;
	struct job *job;
	char *error;

	error = try_plan(text, &plan, &job);
	is_str(error, expected, what);
	free(error);
	plan_release(&plan);
	job_free(job);
}

/*
 * A job read only in part (a step whose name had a problem): the checks
 * across steps leave that step out and do not call a dependency unknown,
 * as it may be the missing name; other problems are still found.
 */
static void
partial_plan(void)
{
	struct problems problems = PROBLEMS_INIT("p.yaml");
	struct job *job = job_new("p.yaml");
	struct step *a = job_add_step(job), *b = job_add_step(job);
	struct step *c = job_add_step(job);
	char *text;

	a->name = strdup("a");
	a->run = strdup("x");
	strlist_push(&a->depends_on, "maybe-b", a->pos);
	strlist_push(&a->depends_on, "a", a->pos);
	b->run = strdup("x");
	c->name = strdup("c");
	c->run = strdup("x");
	c->condition = strdup("steps.unknown.outcome == 'success'");
	plan_check(job, &problems);
	text = problems_join(&problems, "\n", 1000);
	is_str(text,
	    "p.yaml: step 'a' depends on itself: expected the names of other "
	    "steps",
	    "partial: only the problem that does not hang on the lost name");
	free(text);
	problems_release(&problems);
	job_free(job);
}

/* Builds text's plan and returns its waves as "a b | c | d". */
static void
waves_are(const char *text, const char *expected, const char *what)
{
	struct plan_waves waves = PLAN_WAVES_INIT;
	struct plan plan = PLAN_INIT;
	struct job *job;
	char got[512] = "", *error;
	size_t k, i;

	error = try_plan(text, &plan, &job);
	if (error == NULL) {
		plan_waves(&waves, &plan);
		for (k = 0; k < waves.n_waves; k++) {
			strcat(got, k ? " | " : "");
			for (i = waves.first[k]; i < waves.first[k + 1]; i++) {
				strcat(got, i > waves.first[k] ? " " : "");
				strcat(got, job->steps[waves.steps[i]].name);
			}
		}
		plan_waves_release(&waves);
	}
	is_str(error == NULL ? got : error, expected, what);
	free(error);
	plan_release(&plan);
	job_free(job);
}

/* The dry run's text for text's plan, with a job timeout of 50 minutes. */
static void
printed_is(const char *text, const char *expected, const char *what)
{
	struct plan plan = PLAN_INIT;
	struct job *job;
	char *error, *printed = NULL;
	size_t size;
	FILE *out;

	error = try_plan(text, &plan, &job);
	if (error == NULL && (out = open_memstream(&printed, &size)) != NULL) {
		plan_print_waves(out, &plan, "ci", 50 * 60 * 1000);
		fclose(out);
	}
	is_str(error != NULL ? error : printed, expected, what);
	free(printed);
	free(error);
	plan_release(&plan);
	job_free(job);
}

static void
waves(void)
{
	waves_are("steps: [{name: a, run: x}, {name: b, run: x}, "
		  "{name: c, run: x}]",
	    "a b c", "independent steps are one wave");
	waves_are("steps: [{name: c, run: x, depends_on: b}, {name: b, run: "
		  "x, depends_on: a}, {name: a, run: x}]",
	    "a | b | c", "a chain is a wave per step, whatever the file order");
	waves_are("steps:\n"
		  "  - {name: deps, run: x}\n"
		  "  - {name: build, run: x, depends_on: [deps]}\n"
		  "  - {name: lint, run: x, depends_on: [deps]}\n"
		  "  - {name: test, run: x, depends_on: [build]}\n"
		  "  - {name: report, run: x, depends_on: [test, lint]}\n"
		  "  - {name: docs, run: x}\n",
	    "deps docs | build lint | test | report",
	    "a step goes in the wave after its latest dependency");
	waves_are("steps:\n"
		  "  - {name: d, run: x, depends_on: [a, c]}\n"
		  "  - {name: a, run: x}\n"
		  "  - {name: b, run: x, depends_on: [a]}\n"
		  "  - {name: c, run: x, depends_on: [b]}\n"
		  "  - {name: e, run: x, depends_on: [a]}\n",
	    "a | b e | c | d",
	    "an early dependency does not pull a step forward");
	waves_are("steps: []", "", "no steps, no waves");
	printed_is(
	    "trusted: false\n"
	    "steps:\n"
	    "  - {name: deps, run: x, trusted: true}\n"
	    "  - {name: build, run: x, depends_on: [deps], timeout: 10m}\n"
	    "  - {name: lint, run: x, depends_on: [deps], "
	    "continue_on_error: true}\n"
	    "  - {name: test, run: x, depends_on: [build], retries: 1}\n"
	    "  - {name: report, run: x, depends_on: [test, lint], if: "
	    "always()}\n",
	    "job ci: 5 steps in 4 waves; the steps of a wave may run at the "
	    "same time\n"
	    "wave 1:\n"
	    "  deps: if success(); timeout 50m (the job's); trusted\n"
	    "wave 2:\n"
	    "  build: needs deps; if success(); timeout 10m; untrusted\n"
	    "  lint: needs deps; if success(); timeout 50m (the job's); "
	    "continue on error; untrusted\n"
	    "wave 3:\n"
	    "  test: needs build; if success(); timeout 50m (the job's); "
	    "retries 1; untrusted\n"
	    "wave 4:\n"
	    "  report: needs test, lint; if always(); timeout 50m (the "
	    "job's); untrusted\n",
	    "the dry run prints each wave and each step's condition, timeout "
	    "and trust");
}

int
main(void)
{
	order_is("steps: [{name: a, run: x}, {name: b, run: x}, "
		 "{name: c, run: x}]",
	    "a b c", "independent steps keep file order");
	order_is("steps: [{name: a, run: x, depends_on: [c]}, {name: b, run: "
		 "x}, {name: c, run: x}]",
	    "b c a", "a waits for c");
	order_is("steps: [{name: a, run: x}, {name: b, run: x, depends_on: a}, "
		 "{name: c, run: x}]",
	    "a b c", "a chain reads top to bottom");
	order_is("steps: [{name: d, run: x, depends_on: [b, c]}, {name: c, "
		 "run: x, depends_on: a}, {name: b, run: x, depends_on: a}, "
		 "{name: a, run: x}]",
	    "a c b d", "a diamond");
	error_is("steps: [{name: a, run: x}, {name: a, run: y}]",
	    "p.yaml:1:35: duplicate step name 'a' (first at line 1): "
	    "expected a different name for each step",
	    "duplicate names");
	error_is("steps: [{name: build, run: x}, {name: t, run: x, depends_on: "
		 "[buidl]}]",
	    "p.yaml:1:63: step 't' depends on unknown step 'buidl' (did you "
	    "mean 'build'?)",
	    "an unknown dependency with a hint");
	error_is("steps: [{name: a, run: x, depends_on: [a]}]",
	    "p.yaml:1:40: step 'a' depends on itself: expected the names of "
	    "other steps",
	    "self dependency");
	error_is("steps: [{name: a, run: x}, {name: b, run: x, depends_on: [a, "
		 "a]}]",
	    "p.yaml:1:62: step 'b' lists 'a' twice in depends_on: expected "
	    "each step once",
	    "a dependency listed twice");
	error_is("steps:\n"
		 "  - {name: x, run: x, depends_on: [a]}\n"
		 "  - {name: a, run: x, depends_on: [c]}\n"
		 "  - {name: b, run: x, depends_on: [a]}\n"
		 "  - {name: c, run: x, depends_on: [b]}\n",
	    "p.yaml:3:36: steps depend on each other in a cycle: a -> c -> b "
	    "-> a (each needs the next): expected dependencies without a "
	    "cycle",
	    "a cycle is named whole, not the step hanging off it");
	error_is("steps: [{name: a, run: x, if: \"steps.deploy.outcome == "
		 "'x'\"}]",
	    "p.yaml:1:31: bad condition in step 'a' (at character 1): unknown "
	    "step in 'steps.deploy.outcome': expected steps.STEP or "
	    "steps.STEP.outcome naming a step of this job",
	    "a condition naming an unknown step");
	error_is("steps: [{name: build, run: x}, {name: t, run: x, if: "
		 "\"steps.buidl.outcome == 'failure'\"}]",
	    "p.yaml:1:54: bad condition in step 't' (at character 1): unknown "
	    "step 'buidl' in 'steps.buidl.outcome' (did you mean "
	    "'steps.build.outcome'?)",
	    "a misspelt step in a condition gets a hint");
	error_is("steps:\n"
		 "  - {name: build, run: x}\n"
		 "  - {name: t, run: x, depends_on: [biuld], if: "
		 "\"steps.buidl == 'x'\"}\n",
	    "p.yaml:3:36: step 't' depends on unknown step 'biuld' (did you "
	    "mean 'build'?)\n"
	    "jobrun: p.yaml:3:48: bad condition in step 't' (at character 1): "
	    "unknown "
	    "step 'buidl' in 'steps.buidl' (did you mean 'steps.build'?)",
	    "both problems of one step, each with its hint");
	partial_plan();
	waves();
	return done_testing();
}
