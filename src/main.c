/*
 * jobrun's entry point: block the signals the runner handles (before
 * anything else, as PID 1 must), close stray descriptors, parse the command
 * line, and dispatch.  "run" reads the job, layers the configuration,
 * checks the plan and hands it to the runner; any problem before a step
 * starts ends with exit status 125.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <malloc.h>
#include <unistd.h>

#include <jansson.h>

#include "bundle.h"
#include "cli.h"
#include "client.h"
#include "diag.h"
#include "envfile.h"
#include "jobfile.h"
#include "lifecycle.h"
#include "plan.h"
#include "runner.h"
#include "runtime-job.h"
#include "secrets.h"
#include "source.h"
#include "xalloc.h"

/* Marks every inherited descriptor above stderr close-on-exec. */
static void
close_stray_fds(void)
{
#ifdef HAVE_CLOSEFROM
	closefrom(STDERR_FILENO + 1);
#else
	long fd, max = sysconf(_SC_OPEN_MAX);

	for (fd = STDERR_FILENO + 1; fd < max && fd < 65536; fd++)
		fcntl((int)fd, F_SETFD, FD_CLOEXEC);
#endif
}

/* Makes sure fds 0-2 are open, so no file we open lands on them. */
static void
ensure_std_fds(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= STDERR_FILENO)
		continue;
	if (fd > STDERR_FILENO)
		close(fd);
}

static const char *
job_file_path(const struct cli *cli)
{
	const char *env;

	if (cli->job_file != NULL)
		return cli->job_file;
	env = getenv("JOBRUN_JOB_FILE");
	return env != NULL && env[0] != '\0' ? env : NULL;
}

/* Loads the job file named by the CLI or JOBRUN_JOB_FILE; NULL job if none. */
static int
load_job(const struct cli *cli, struct job **out)
{
	const char *path = job_file_path(cli);
	char *error;

	*out = NULL;
	if (path == NULL)
		return 0;
	if ((*out = jobfile_load(path, &error)) == NULL) {
		diag_error("%s", error);
		free(error);
		return -1;
	}
	return 0;
}

static int
build_config(const struct cli *cli, const struct job *job, struct config *out)
{
	struct config_flag flags[CLI_MAX_FLAGS + 1];
	size_t n = cli->n_flags;
	char *error;

	memcpy(flags, cli->flags, n * sizeof(flags[0]));
	if (cli->job_file != NULL) {
		flags[n].key = CONFIG_JOB_FILE;
		flags[n].value = cli->job_file;
		flags[n].flag = "argument";
		n++;
	}
	if (config_build(out, job, flags, n, &error) < 0) {
		diag_error("%s", error);
		free(error);
		return -1;
	}
	return 0;
}

/*
 * Makes the job runnable: a job command becomes the one step "main" (of a
 * job file without steps, or of no job file at all, as runnerlib does).
 */
static int
complete_job(struct job **job, const struct config *config)
{
	const char *command = config_get(config, CONFIG_JOB_COMMAND);
	struct step *step;

	if (command != NULL && *job != NULL && (*job)->n_steps > 0) {
		diag_error("%s has steps and a job command was given (%s); "
			   "use one or the other",
		    (*job)->file, config->values[CONFIG_JOB_COMMAND].origin);
		return -1;
	}
	if (command == NULL) {
		if (*job == NULL) {
			diag_error("no job to run: give a job file, or a job "
				   "command with --job-command or "
				   "REACTORCIDE_JOB_COMMAND");
			return -1;
		}
		if ((*job)->n_steps == 0) {
			diag_error("%s: the job has no steps: expected a "
				   "'steps' list",
			    (*job)->file);
			return -1;
		}
		return 0;
	}
	if (*job == NULL)
		*job = job_new(NULL);
	step = job_add_step(*job);
	step->name = xstrdup("main");
	step->run = xstrdup(command);
	return 0;
}

/* The job file's env:, then the job environment (--job-env) on top. */
static int
job_environment(
    const struct job *job, const struct config *config, struct nvlist *out)
{
	const char *spec = config_get(config, CONFIG_JOB_ENV);
	size_t i;
	char *error;

	for (i = 0; i < job->env.len; i++)
		nvlist_set(out, job->env.items[i].name, job->env.items[i].value,
		    job->env.items[i].pos);
	if (spec == NULL)
		return 0;
	if (envfile_load(
		out, spec, config->values[CONFIG_JOB_ENV].origin, &error) < 0) {
		diag_error("%s", error);
		free(error);
		return -1;
	}
	return 0;
}

static void
print_plan(const struct plan *plan, const struct config *config)
{
	size_t i, k;

	printf("job %s: %zu step%s, run in this order:\n",
	    config_get(config, CONFIG_NAME), plan->n_steps,
	    plan->n_steps == 1 ? "" : "s");
	for (i = 0; i < plan->n_steps; i++) {
		const struct plan_step *ps = &plan->steps[plan->order[i]];

		printf("  %s", ps->step->name);
		for (k = 0; k < ps->n_deps; k++)
			printf("%s%s", k == 0 ? " (after " : ", ",
			    plan->steps[ps->deps[k]].step->name);
		printf("%s%s%s\n", ps->n_deps > 0 ? ")" : "",
		    ps->step->condition ? " if " : "",
		    ps->step->condition ? ps->step->condition : "");
	}
}

static int
build_plan(const struct job *job, struct plan *out)
{
	char *error;

	if (plan_build(out, job, &error) < 0) {
		diag_error("%s", error);
		free(error);
		return -1;
	}
	return 0;
}

/* Writes a message of jobrun's own to standard error, secrets masked. */
static void
masked_stderr(const char *message, void *context)
{
	size_t length;
	char *masked = mask_string(context, message, strlen(message), &length);
	struct iovec iov[3] = { { (void *)(uintptr_t) "jobrun: ", 8 },
		{ masked, length }, { (void *)(uintptr_t) "\n", 1 } };

	fflush(stdout);
	if (writev(STDERR_FILENO, iov, 3) < 0) {
		/* standard error is gone: nowhere left to report */
	}
	free(masked);
}

/* A signal that cancels the job, taken when pending: 128+N, else 0. */
static int
cancelled_status(void)
{
	static const int cancelling[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct timespec now = { 0, 0 };
	sigset_t set;
	int signo;
	size_t i;

	sigemptyset(&set);
	for (i = 0; i < sizeof(cancelling) / sizeof(cancelling[0]); i++)
		sigaddset(&set, cancelling[i]);
	signo = sigtimedwait(&set, NULL, &now);
	return signo > 0 ? EXIT_SIGNAL_BASE + signo : 0;
}

/*
 * The lifecycle from the plugins' PRE_VALIDATION to the runner; the
 * runner tears the job down itself once it runs.  Returns the job's exit
 * status; any failure before the runner is 125 (or 128+N when signal N
 * cancelled the job).
 */
static int
run_lifecycle(struct lifecycle *lc, struct plan *plan)
{
	const struct config *config = lc->config;
	int status;

	if (lifecycle_load(lc) < 0 ||
	    lifecycle_phase(lc, JOBRUN_PHASE_PRE_VALIDATION) < 0)
		return EXIT_JOBRUN_ERROR;
	if (build_plan(lc->job, plan) < 0 || source_check_dirs(config) < 0) {
		lifecycle_set_fact(lc, "error", "the job is not valid");
		return EXIT_JOBRUN_ERROR;
	}
	if (lifecycle_phase(lc, JOBRUN_PHASE_POST_VALIDATION) < 0 ||
	    lifecycle_phase(lc, JOBRUN_PHASE_PRE_SOURCE_PREP) < 0)
		return EXIT_JOBRUN_ERROR;
	if ((status = cancelled_status()) != 0)
		return status;
	/* /job/ci, then /job/src, before any step; a failure ends the job
	 * here with 125 (or 128+N when a signal cancelled it). */
	if ((status = source_prepare_all(config, lc->job, lc->job_env)) != 0) {
		lifecycle_set_fact(lc, "error", "source preparation failed");
		return status;
	}
	if (lifecycle_load_ci(lc) < 0 ||
	    lifecycle_phase(lc, JOBRUN_PHASE_POST_SOURCE_PREP) < 0)
		return EXIT_JOBRUN_ERROR;
	if ((status = cancelled_status()) != 0)
		return status;
	return runner_run(plan, config, lc->job_env, lc->mask, lc);
}

static int
command_run(const struct cli *cli)
{
	struct nvlist job_env = NVLIST_INIT;
	struct config config = { 0 };
	struct plan plan = PLAN_INIT;
	struct lifecycle lc;
	struct mask_set *mask = NULL;
	struct job *job = NULL;
	int status = EXIT_JOBRUN_ERROR;
	char *error;

	/* In a container: the bundle, before the configuration sees the
	 * environment (runtime-job.c).  Elsewhere: the job in a container. */
	if (bundle_receive() < 0)
		return EXIT_JOBRUN_ERROR;
	if (runtime_job_wanted(cli) && !cli->dry_run)
		return runtime_job_run(cli);
	if (cli->work_dir != NULL && chdir(cli->work_dir) < 0) {
		diag_error("cannot change to directory '%s': %s", cli->work_dir,
		    strerror(errno));
		return EXIT_JOBRUN_ERROR;
	}
	if (load_job(cli, &job) < 0 || build_config(cli, job, &config) < 0 ||
	    complete_job(&job, &config) < 0 ||
	    job_environment(job, &config, &job_env) < 0)
		goto out;
	if (cli->dry_run) {
		/* Nothing runs, plugins included. */
		if (build_plan(job, &plan) == 0 &&
		    source_check_dirs(&config) == 0) {
			print_plan(&plan, &config);
			status = EXIT_JOB_SUCCESS;
		}
		goto out;
	}
	/* Orphans of the steps come back to us to be reaped. */
	if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		diag_warn("cannot become a subreaper: %s", strerror(errno));
	if ((mask = mask_set_new("***",
		 (size_t)config_number(&config, CONFIG_SECRET_MIN_LENGTH))) ==
	    NULL) {
		diag_error("cannot set up secret masking");
		goto out;
	}
	if (secrets_collect(mask, job, &config, &job_env, &error) < 0) {
		diag_error("%s", error);
		free(error);
		goto out;
	}
	/* From here on, jobrun's own messages are masked too. */
	diag_set_sink(masked_stderr, mask);
	lifecycle_init(&lc, &config, job, &job_env, mask);
	status = run_lifecycle(&lc, &plan);
	/* ON_ERROR and CLEANUP, when the runner did not get to them. */
	lifecycle_teardown(&lc, status);
	lifecycle_release(&lc);
out:
	diag_set_sink(NULL, NULL);
	nvlist_release(&job_env);
	mask_set_free(mask);
	plan_release(&plan);
	config_release(&config);
	job_free(job);
	return status;
}

static int
command_validate(const struct cli *cli)
{
	struct plan plan = PLAN_INIT;
	struct job *job = NULL;
	int status = EXIT_JOBRUN_ERROR;

	if (load_job(cli, &job) < 0 || build_plan(job, &plan) < 0)
		goto out;
	printf("%s: valid: %zu step%s, %zu trigger%s, %zu plugin%s\n",
	    job->file, job->n_steps, job->n_steps == 1 ? "" : "s",
	    job->n_triggers, job->n_triggers == 1 ? "" : "s", job->n_plugins,
	    job->n_plugins == 1 ? "" : "s");
	status = EXIT_JOB_SUCCESS;
out:
	plan_release(&plan);
	job_free(job);
	return status;
}

static int
command_config(const struct cli *cli)
{
	struct config config = { 0 };
	struct job *job = NULL;
	int status = EXIT_JOBRUN_ERROR;

	if (load_job(cli, &job) < 0 || build_config(cli, job, &config) < 0)
		goto out;
	config_explain(&config, cli->json);
	status = fflush(stdout) == 0 ? 0 : EXIT_JOBRUN_ERROR;
out:
	config_release(&config);
	job_free(job);
	return status;
}

/* jansson's strings may hold secrets: every block it frees is wiped. */
static void *
json_allocate(size_t size)
{
	return xmalloc(size);
}

static void
json_release(void *p)
{
	if (p == NULL)
		return;
	wipe(p, malloc_usable_size(p));
	free(p);
}

static int
command_secret(const struct cli *cli)
{
	struct secret_add_options options = { cli->raw, cli->from_env,
		cli->socket };

	return client_secret_add(&options);
}

static int
command_trigger(const struct cli *cli)
{
	struct trigger_options options = { cli->operand, cli->trigger_env,
		cli->n_trigger_env, cli->depends_on, cli->n_depends_on,
		cli->condition, cli->socket };

	return client_trigger(&options);
}

int
main(int argc, char **argv)
{
	sigset_t handled, previous;
	struct cli cli;
	int status;

	runner_signals(&handled);
	sigprocmask(SIG_BLOCK, &handled, &previous);
	/* A closed console must not kill the runner mid-job. */
	signal(SIGPIPE, SIG_IGN);
	ensure_std_fds();
	close_stray_fds();
	json_set_alloc_funcs(json_allocate, json_release);
	if (cli_parse(&cli, argc, argv) < 0)
		return EXIT_JOBRUN_ERROR;
	/* Only run supervises children; the rest keep default signals. */
	if (cli.command != CLI_RUN)
		sigprocmask(SIG_SETMASK, &previous, NULL);
	switch (cli.command) {
	case CLI_RUN:
		status = command_run(&cli);
		break;
	case CLI_VALIDATE:
		status = command_validate(&cli);
		break;
	case CLI_CONFIG:
		status = command_config(&cli);
		break;
	case CLI_SECRET:
		status = command_secret(&cli);
		break;
	case CLI_TRIGGER:
		status = command_trigger(&cli);
		break;
	case CLI_OUTPUT:
		status = client_output_set(cli.operand, cli.socket);
		break;
	case CLI_PS:
	case CLI_ATTACH:
	case CLI_STOP:
	case CLI_GC:
	case CLI_MANIFEST:
		status = runtime_job_command(&cli);
		break;
	case CLI_VERSION:
		printf("jobrun %s\n", PACKAGE_VERSION);
		status = 0;
		break;
	case CLI_HELP:
	default:
		if (cli_help(cli.help_topic) < 0) {
			diag_error("no help for '%s': try run, validate or "
				   "config",
			    cli.help_topic);
			status = EXIT_JOBRUN_ERROR;
		} else {
			status = 0;
		}
		break;
	}
	if (fflush(stdout) != 0 && status == 0) {
		diag_error(
		    "cannot write to standard output: %s", strerror(errno));
		status = EXIT_JOBRUN_ERROR;
	}
	return status;
}
