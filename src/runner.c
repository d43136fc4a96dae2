/*
 * The sequential runner (runner.h).  For each step in plan order: decide
 * whether it runs (its condition, its dependencies' outcomes, cancellation),
 * build its environment, start it in its own process group, and supervise
 * it in a loop around sigtimedwait(2) that reaps every child (orphans
 * included: jobrun is PID 1 or a subreaper), enforces the step's and the
 * job's deadlines, and forwards SIGINT/SIGTERM.  When a step's main process
 * ends, whatever it left in its process group is killed.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "proc.h"
#include "runner.h"
#include "xalloc.h"

extern char **environ;

/* Time a step gets between SIGTERM and SIGKILL. */
#define RUNNER_GRACE_MS 10000

struct step_state {
	enum step_outcome outcome;
	int exit_code; /* -1 when killed by a signal */
	int signal;
	unsigned attempts;
	uint64_t duration_ms;
};

struct runner {
	const struct plan *plan;
	const struct config *config;
	const struct nvlist *job_env;
	struct step_state *states;
	sigset_t signals;
	int cancel_signal; /* the first SIGINT/SIGTERM/... received */
	bool job_timed_out;
	uint64_t job_deadline; /* monotonic ms; 0: none */
};

const char *
outcome_name(enum step_outcome outcome)
{
	switch (outcome) {
	case OUTCOME_PENDING:
		return "pending";
	case OUTCOME_SUCCESS:
		return "success";
	case OUTCOME_FAILED:
		return "failed";
	case OUTCOME_TIMED_OUT:
		return "timed_out";
	case OUTCOME_CANCELLED:
		return "cancelled";
	case OUTCOME_SKIPPED:
		return "skipped";
	}
	return "pending";
}

void
runner_signals(sigset_t *out)
{
	sigemptyset(out);
	sigaddset(out, SIGCHLD);
	sigaddset(out, SIGINT);
	sigaddset(out, SIGTERM);
	sigaddset(out, SIGHUP);
	sigaddset(out, SIGQUIT);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- conditions ---- */

struct condition_context {
	struct runner *runner;
	size_t index;
};

static const char *
fact_lookup(void *context, const char *name)
{
	struct condition_context *c = context;
	const struct config *config = c->runner->config;
	const struct nvpair *pair;
	long step;

	if (strcmp(name, "branch") == 0)
		return config_get(config, CONFIG_BRANCH);
	if (strcmp(name, "event") == 0)
		return config_get(config, CONFIG_EVENT);
	if (strcmp(name, "job") == 0)
		return config_get(config, CONFIG_NAME);
	if (strncmp(name, "env.", 4) == 0) {
		pair = nvlist_get(c->runner->job_env, name + 4);
		return pair != NULL ? pair->value : getenv(name + 4);
	}
	if (strncmp(name, "steps.", 6) == 0) {
		char *step_name = xstrdup(name + 6);
		size_t length = strlen(step_name);

		step = plan_find(c->runner->plan, step_name);
		if (step < 0 && length > 8 &&
		    strcmp(step_name + length - 8, ".outcome") == 0) {
			step_name[length - 8] = '\0';
			step = plan_find(c->runner->plan, step_name);
		}
		free(step_name);
		if (step >= 0)
			return outcome_name(c->runner->states[step].outcome);
	}
	return NULL;
}

/* A step that failed with continue_on_error still lets its dependants run. */
static bool
counts_as_success(const struct runner *r, size_t index)
{
	enum step_outcome outcome = r->states[index].outcome;

	return outcome == OUTCOME_SUCCESS ||
	    (r->plan->steps[index].step->continue_on_error &&
		(outcome == OUTCOME_FAILED || outcome == OUTCOME_TIMED_OUT));
}

static bool
fact_function(void *context, enum expr_function function)
{
	struct condition_context *c = context;
	const struct plan_step *ps = &c->runner->plan->steps[c->index];
	enum step_outcome outcome;
	size_t k;

	switch (function) {
	case EXPR_ALWAYS:
		return true;
	case EXPR_CANCELLED:
		return c->runner->cancel_signal != 0;
	case EXPR_SUCCESS:
		for (k = 0; k < ps->n_deps; k++)
			if (!counts_as_success(c->runner, ps->deps[k]))
				return false;
		return true;
	case EXPR_FAILURE:
		for (k = 0; k < ps->n_deps; k++) {
			outcome = c->runner->states[ps->deps[k]].outcome;
			if (outcome == OUTCOME_FAILED ||
			    outcome == OUTCOME_TIMED_OUT)
				return true;
		}
		return false;
	}
	return false;
}

/* A condition without success(), failure(), ... also needs success(). */
static bool
should_run(struct runner *r, size_t index)
{
	const struct expr *condition = r->plan->steps[index].condition;
	struct condition_context context = { r, index };
	struct expr_facts facts = { fact_lookup, fact_function, &context };

	if (!expr_uses_status(condition) &&
	    !fact_function(&context, EXPR_SUCCESS))
		return false;
	return condition == NULL || expr_eval(condition, &facts);
}

/* ---- environment and command line ---- */

static void
env_from_process(struct nvlist *env)
{
	static const struct srcpos nowhere = { 0, 0 };
	char **entry, *name;
	const char *eq;

	for (entry = environ; *entry != NULL; entry++) {
		if ((eq = strchr(*entry, '=')) == NULL)
			continue;
		name = xstrndup(*entry, (size_t)(eq - *entry));
		nvlist_set(env, name, eq + 1, nowhere);
		free(name);
	}
}

static void
env_merge(struct nvlist *env, const struct nvlist *add)
{
	size_t i;

	for (i = 0; i < add->len; i++)
		nvlist_set(env, add->items[i].name, add->items[i].value,
		    add->items[i].pos);
}

/* Builds the step's environment as a NULL-terminated "NAME=VALUE" array. */
static char **
step_environment(
    const struct runner *r, const struct step *step, unsigned attempt)
{
	static const struct srcpos nowhere = { 0, 0 };
	static const struct {
		const char *name;
		enum config_key key;
	} facts[] = {
		{ "JOBRUN_JOB_NAME", CONFIG_NAME },
		{ "JOBRUN_WORKSPACE", CONFIG_WORKSPACE },
		{ "JOBRUN_CODE_DIR", CONFIG_CODE_DIR },
		{ "JOBRUN_JOB_DIR", CONFIG_JOB_DIR },
		{ "JOBRUN_CI_SOURCE_DIR", CONFIG_CI_SOURCE_DIR },
	};
	struct nvlist env = NVLIST_INIT;
	char number[32], **envp;
	size_t i;

	env_from_process(&env);
	for (i = 0; i < sizeof(facts) / sizeof(facts[0]); i++)
		nvlist_set(&env, facts[i].name,
		    config_get(r->config, facts[i].key), nowhere);
	nvlist_set(&env, "JOBRUN_STEP_NAME", step->name, nowhere);
	snprintf(number, sizeof(number), "%u", attempt);
	nvlist_set(&env, "JOBRUN_STEP_ATTEMPT", number, nowhere);
	env_merge(&env, r->job_env);
	env_merge(&env, &step->env);

	envp = xcalloc(env.len + 1, sizeof(*envp));
	for (i = 0; i < env.len; i++)
		envp[i] =
		    xasprintf("%s=%s", env.items[i].name, env.items[i].value);
	nvlist_release(&env);
	return envp;
}

static void
free_vector(char **vector)
{
	size_t i;

	for (i = 0; vector != NULL && vector[i] != NULL; i++) {
		wipe(vector[i], strlen(vector[i]));
		free(vector[i]);
	}
	free(vector);
}

/* "bash -eo pipefail" + run -> {"bash", "-eo", "pipefail", "-c", run}. */
static char **
step_argv(const char *shell, const char *run)
{
	char **argv = xcalloc(strlen(shell) / 2 + 4, sizeof(*argv));
	const char *p = shell, *start;
	size_t n = 0;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		start = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		argv[n++] = xstrndup(start, (size_t)(p - start));
	}
	argv[n++] = xstrdup("-c");
	argv[n++] = xstrdup(run);
	argv[n] = NULL;
	return argv;
}

static const char *
env_value(char **envp, const char *name)
{
	size_t length = strlen(name);

	for (; *envp != NULL; envp++)
		if (strncmp(*envp, name, length) == 0 && (*envp)[length] == '=')
			return *envp + length + 1;
	return NULL;
}

static const char *
step_workdir(const struct runner *r, const struct step *step, char **owned)
{
	*owned = NULL;
	if (step->workdir == NULL)
		return config_get(r->config, CONFIG_JOB_DIR);
	if (step->workdir[0] == '/')
		return step->workdir;
	*owned = xasprintf(
	    "%s/%s", config_get(r->config, CONFIG_JOB_DIR), step->workdir);
	return *owned;
}

/* ---- supervision ---- */

/* Reaps every exited child; returns true once pid itself has exited. */
static bool
reap(pid_t pid, int *status)
{
	bool done = false;
	pid_t reaped;
	int st;

	while ((reaped = waitpid(-1, &st, WNOHANG)) > 0) {
		if (reaped == pid) {
			*status = st;
			done = true;
		}
	}
	return done;
}

static void
on_signal(struct runner *r, int signo, pid_t group, uint64_t *kill_at,
    enum step_outcome *ended_by)
{
	if (signo == SIGCHLD)
		return;
	if (r->cancel_signal != 0) {
		/* A second request: stop waiting politely. */
		kill(-group, SIGKILL);
		return;
	}
	r->cancel_signal = signo;
	diag_error("received %s: cancelling the job", strsignal(signo));
	*ended_by = OUTCOME_CANCELLED;
	kill(-group, signo);
	*kill_at = now_ms() + RUNNER_GRACE_MS;
}

/*
 * Waits until pid, the leader of its own process group, exits, and stores
 * its wait status.  Past the deadline (0: none) the group gets SIGTERM and,
 * RUNNER_GRACE_MS later, SIGKILL; *ended_by then says why.
 */
static void
supervise(struct runner *r, pid_t pid, uint64_t deadline, int *status,
    enum step_outcome *ended_by)
{
	uint64_t kill_at = 0, now, wake;
	struct timespec timeout;
	siginfo_t info;
	bool timed;
	int signo;

	while (!reap(pid, status)) {
		now = now_ms();
		if (kill_at != 0 && now >= kill_at) {
			kill(-pid, SIGKILL);
			kill_at = 0;
		} else if (*ended_by == OUTCOME_PENDING && deadline != 0 &&
		    now >= deadline) {
			*ended_by = OUTCOME_TIMED_OUT;
			kill(-pid, SIGTERM);
			kill_at = now + RUNNER_GRACE_MS;
		}
		timed = kill_at != 0;
		wake = kill_at;
		if (*ended_by == OUTCOME_PENDING && deadline != 0 &&
		    (!timed || deadline < wake)) {
			wake = deadline;
			timed = true;
		}
		if (timed) {
			now = now_ms();
			wake = wake > now ? wake - now : 0;
			timeout.tv_sec = (time_t)(wake / 1000);
			timeout.tv_nsec = (long)(wake % 1000) * 1000000;
		}
		signo =
		    sigtimedwait(&r->signals, &info, timed ? &timeout : NULL);
		if (signo > 0)
			on_signal(r, signo, pid, &kill_at, ended_by);
	}
	/* What the step left behind in its group goes with it. */
	kill(-pid, SIGKILL);
}

/* Collects signals that arrived between steps. */
static void
poll_signals(struct runner *r)
{
	struct timespec zero = { 0, 0 };
	siginfo_t info;
	int signo;

	while ((signo = sigtimedwait(&r->signals, &info, &zero)) > 0) {
		if (signo == SIGCHLD) {
			while (waitpid(-1, NULL, WNOHANG) > 0)
				continue;
		} else if (r->cancel_signal == 0) {
			r->cancel_signal = signo;
			diag_error("received %s: cancelling the job",
			    strsignal(signo));
		}
	}
}

/* ---- steps ---- */

static uint64_t
attempt_deadline(const struct runner *r, const struct step *step)
{
	uint64_t deadline = 0;

	if (step->timeout_ms != 0)
		deadline = now_ms() + step->timeout_ms;
	if (r->job_deadline != 0 &&
	    (deadline == 0 || r->job_deadline < deadline))
		deadline = r->job_deadline;
	return deadline;
}

/* Runs one attempt of a step and records how it ended in *state. */
static void
run_attempt(struct runner *r, const struct step *step, struct step_state *state)
{
	const char *shell =
	    step->shell ? step->shell : config_get(r->config, CONFIG_SHELL);
	enum step_outcome ended_by = OUTCOME_PENDING;
	char **argv = step_argv(shell, step->run), *program = NULL;
	char **envp = step_environment(r, step, state->attempts);
	char *workdir_owned, *error = NULL;
	struct proc_spec spec = { 0 };
	int status = 0;
	pid_t pid = -1;

	state->exit_code = 127;
	state->signal = 0;
	state->outcome = OUTCOME_FAILED;
	spec.cwd = step_workdir(r, step, &workdir_owned);
	if (argv[0] == NULL || strcmp(argv[0], "-c") == 0)
		error = xstrdup("the shell is empty");
	else if ((program = proc_find_program(
		      argv[0], env_value(envp, "PATH"))) == NULL)
		error = xasprintf("cannot run shell '%s': not found", argv[0]);
	if (error == NULL) {
		spec.path = program;
		spec.argv = argv;
		spec.envp = envp;
		spec.process_group = true;
		proc_spawn(&pid, &spec, &error);
	}
	if (error != NULL)
		diag_error("step '%s': %s", step->name, error);
	if (pid > 0) {
		supervise(r, pid, error == NULL ? attempt_deadline(r, step) : 0,
		    &status, &ended_by);
		if (WIFEXITED(status)) {
			state->exit_code = WEXITSTATUS(status);
		} else if (WIFSIGNALED(status)) {
			state->exit_code = -1;
			state->signal = WTERMSIG(status);
		}
		if (error == NULL && ended_by == OUTCOME_PENDING &&
		    WIFEXITED(status) && WEXITSTATUS(status) == 0)
			state->outcome = OUTCOME_SUCCESS;
		else if (ended_by != OUTCOME_PENDING)
			state->outcome = ended_by;
	}
	if (state->outcome == OUTCOME_TIMED_OUT && r->job_deadline != 0 &&
	    now_ms() >= r->job_deadline)
		r->job_timed_out = true;
	free(error);
	free(program);
	free(workdir_owned);
	free_vector(argv);
	free_vector(envp);
}

static void
report_step(const struct step *step, const struct step_state *state)
{
	char how[64] = "";

	if (state->outcome == OUTCOME_FAILED && state->signal != 0)
		snprintf(
		    how, sizeof(how), ", killed by signal %d", state->signal);
	else if (state->outcome == OUTCOME_FAILED)
		snprintf(
		    how, sizeof(how), ", exit status %d", state->exit_code);
	if (state->attempts > 1)
		diag_error("step '%s': %s%s after %u attempts (%llu ms)",
		    step->name, outcome_name(state->outcome), how,
		    state->attempts, (unsigned long long)state->duration_ms);
	else
		diag_error("step '%s': %s%s (%llu ms)", step->name,
		    outcome_name(state->outcome), how,
		    (unsigned long long)state->duration_ms);
}

static void
run_step(struct runner *r, size_t index)
{
	const struct step *step = r->plan->steps[index].step;
	struct step_state *state = &r->states[index];
	uint64_t start;

	poll_signals(r);
	if (r->cancel_signal != 0 || r->job_timed_out) {
		state->outcome = OUTCOME_CANCELLED;
		return;
	}
	if (!should_run(r, index)) {
		state->outcome = OUTCOME_SKIPPED;
		diag_error("step '%s': skipped", step->name);
		return;
	}
	start = now_ms();
	do {
		state->attempts++;
		if (state->attempts > 1)
			diag_error("step '%s': attempt %u of %lld", step->name,
			    state->attempts, step->retries + 1);
		run_attempt(r, step, state);
	} while ((state->outcome == OUTCOME_FAILED ||
		     state->outcome == OUTCOME_TIMED_OUT) &&
	    !r->job_timed_out && r->cancel_signal == 0 &&
	    state->attempts <= (unsigned)step->retries);
	state->duration_ms = now_ms() - start;
	report_step(step, state);
}

/* The job's exit status from its steps' outcomes (runner.h). */
static int
job_status(const struct runner *r)
{
	bool failed = false, timed_out = r->job_timed_out;
	size_t i;

	if (r->cancel_signal != 0)
		return EXIT_SIGNAL_BASE + r->cancel_signal;
	for (i = 0; i < r->plan->n_steps; i++) {
		if (r->plan->steps[i].step->continue_on_error)
			continue;
		if (r->states[i].outcome == OUTCOME_FAILED)
			failed = true;
		if (r->states[i].outcome == OUTCOME_TIMED_OUT)
			timed_out = true;
	}
	if (timed_out)
		return EXIT_JOB_TIMED_OUT;
	return failed ? EXIT_JOB_FAILED : EXIT_JOB_SUCCESS;
}

int
runner_run(const struct plan *plan, const struct config *config,
    const struct nvlist *job_env)
{
	struct runner r = { 0 };
	size_t i;
	int status;

	r.plan = plan;
	r.config = config;
	r.job_env = job_env;
	r.states = xcalloc(plan->n_steps, sizeof(*r.states));
	runner_signals(&r.signals);
	if (config_ms(config, CONFIG_TIMEOUT) != 0)
		r.job_deadline = now_ms() + config_ms(config, CONFIG_TIMEOUT);
	for (i = 0; i < plan->n_steps; i++)
		run_step(&r, plan->order[i]);
	status = job_status(&r);
	diag_error("job '%s': %s", config_get(config, CONFIG_NAME),
	    status == 0                        ? "success"
		: status == EXIT_JOB_FAILED    ? "failed"
		: status == EXIT_JOB_TIMED_OUT ? "timed_out"
					       : "cancelled");
	free(r.states);
	return status;
}
