/*
 * jobrun's entry point: block the signals the engine handles (before
 * anything else, as PID 1 must), close stray descriptors, parse the command
 * line, and dispatch: "run" to the run flow (run.h), the others to their
 * small commands here and in the control-socket client.
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
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "config-explain.h"
#include "ctl-client.h"
#include "diag.h"
#include "mask.h"
#include "plan.h"
#include "run.h"
#include "runtime-job.h"
#include "source.h"
#include "runner.h"
#include "secrets.h"
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

static int
command_validate(const struct cli *cli)
{
	struct plan plan = PLAN_INIT;
	struct job *job = NULL;
	int status = EXIT_JOBRUN_ERROR;

	if (run_load_job(cli, &job) < 0 || run_build_plan(job, &plan) < 0)
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

	if (run_load_job(cli, &job) < 0 ||
	    run_build_config(cli, job, &config) < 0)
		goto out;
	config_explain(&config, job, cli->json);
	status = fflush(stdout) == 0 ? 0 : EXIT_JOBRUN_ERROR;
out:
	config_release(&config);
	job_free(job);
	return status;
}

static int
command_secret(const struct cli *cli)
{
	struct ctl_secret_add_options options = { cli->raw, cli->from_env,
		cli->socket };

	return ctl_client_secret_add(&options);
}

static int
command_trigger(const struct cli *cli)
{
	struct ctl_trigger_options options = { cli->operand, cli->trigger_env,
		cli->n_trigger_env, cli->depends_on, cli->n_depends_on,
		cli->condition, cli->socket };

	return ctl_client_trigger(&options);
}

/* The command line, as far as it is parsed, for early_mask(). */
static const struct cli *parsing;
static int early_argc;
static char **early_argv;

/*
 * The secrets that settings give, for messages written before a run knows
 * its job's (a bad flag echoing its value): run_job() adds the job's.
 */
static struct mask_set *
early_mask(void)
{
	struct mask_set *set = mask_set_new(NULL, 0);
	struct config_flag *flags;

	if (set == NULL)
		return NULL;
	secrets_for_held_messages(true);
	secrets_collect_settings(set, parsing != NULL ? parsing->flags : NULL,
	    parsing != NULL ? parsing->n_flags : 0);
	flags = xcalloc((size_t)early_argc + 1, sizeof(*flags));
	secrets_collect_settings(
	    set, flags, cli_secret_flags(early_argc, early_argv, flags));
	secrets_for_held_messages(false);
	free(flags);
	return set;
}

int
main(int argc, char **argv)
{
	sigset_t handled, previous;
	/* Static: early_mask() may read it from an atexit() handler. */
	static struct cli cli;
	int status;

	runner_signals(&handled);
	sigprocmask(SIG_BLOCK, &handled, &previous);
	/* A closed console must not kill the runner mid-job. */
	signal(SIGPIPE, SIG_IGN);
	ensure_std_fds();
	close_stray_fds();
	/* jansson's strings may hold secrets: each block is wiped. */
	json_set_alloc_funcs(xmalloc, xfree_wiped);
	/* Until a run knows its secrets, messages wait (diag_hold()). */
	memset(&cli, 0, sizeof(cli));
	parsing = &cli;
	early_argc = argc;
	early_argv = argv;
	diag_hold(early_mask);
	if (cli_parse(&cli, argc, argv) < 0)
		return EXIT_JOBRUN_ERROR;
	/* Only run supervises children; the rest keep default signals.  The
	 * other commands load no secrets: what they say goes out now. */
	if (cli.command != CLI_RUN) {
		sigprocmask(SIG_SETMASK, &previous, NULL);
		diag_release_early();
	}
	switch (cli.command) {
	case CLI_RUN:
		status = run_job(&cli);
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
	case CLI_PS:
	case CLI_ATTACH:
	case CLI_STOP:
	case CLI_GC:
	case CLI_MANIFEST:
	case CLI_PACK_RESULTS:
		status = runtime_job_command(&cli);
		break;
	case CLI_OUTPUT:
		status = ctl_client_output_set(cli.operand, cli.socket);
		break;
	case CLI_VERSION:
		printf("jobrun %s\n", PACKAGE_VERSION);
		source_print_version(stdout);
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
	cli_release(&cli);
	return status;
}
