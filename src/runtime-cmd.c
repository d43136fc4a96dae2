/*
 * The runtime commands beside "run": "ps" lists the runs the chosen
 * runtime (JOBRUN_RUNTIME, else auto) can see, "attach RUN_ID" follows
 * one to its end and collects it as "run" would, "stop RUN_ID" sends it
 * SIGTERM, and "gc" removes strays by the rules of runtime_gc_removes().
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "duration.h"
#include "runtime-job.h"
#include "runtime-run.h"
#include "xalloc.h"

/* Exited runs gc keeps by default. */
#define GC_RETENTION_DEFAULT (24 * 3600)

static struct runtime *
open_for_commands(void)
{
	const char *kind = getenv("JOBRUN_RUNTIME");
	struct runtime *rt;
	char *error = NULL;

	if (kind == NULL || kind[0] == '\0' || strcmp(kind, "local") == 0)
		kind = "auto";
	if ((rt = runtime_open(kind, &error)) == NULL ||
	    rt->ops->probe(rt, &error) < 0) {
		diag_error("%s", error);
		free(error);
		runtime_free(rt);
		return NULL;
	}
	return rt;
}

static char *
age(char *buf, size_t size, int64_t since)
{
	int64_t now = (int64_t)time(NULL);

	if (since <= 0 || since > now)
		return strcpy(buf, "-");
	return duration_format(buf, size, (uint64_t)(now - since) * 1000);
}

static int
command_ps(struct runtime *rt)
{
	struct runtime_instance *list;
	size_t i, n;
	char *error = NULL, when[32];

	if (rt->ops->list(rt, &list, &n, &error) < 0) {
		diag_error("%s", error);
		free(error);
		return EXIT_JOBRUN_ERROR;
	}
	printf("%-20s %-16s %-8s %-10s %-8s %s\n", "RUN ID", "JOB", "RUNTIME",
	    "STATE", "AGE", "OWNER");
	for (i = 0; i < n; i++) {
		int alive = runtime_owner_alive(list[i].owner, NULL);

		printf("%-20s %-16s %-8s %-10s %-8s %s\n",
		    list[i].run_id ? list[i].run_id : "-",
		    list[i].job ? list[i].job : "-", rt->kind,
		    runtime_state_name(list[i].state),
		    age(when, sizeof(when), list[i].created_at),
		    list[i].detached ? "detached"
			: alive == 1 ? "running"
			: alive == 0 ? "gone"
				     : "elsewhere");
	}
	runtime_instances_free(list, n);
	return 0;
}

static int
command_gc(struct runtime *rt, const struct cli *cli)
{
	struct runtime_gc_rules rules = { .now = (int64_t)time(NULL),
		.retention = GC_RETENTION_DEFAULT,
		.alive = runtime_owner_alive };
	struct runtime_instance *list;
	uint64_t ms;
	const char *why;
	size_t i, n;
	char *error = NULL;
	int status = 0;

	if (cli->rt.older_than != NULL) {
		if (duration_parse(&ms, cli->rt.older_than, &why) < 0) {
			diag_error(
			    "--older-than: %s: '%s'", why, cli->rt.older_than);
			return EXIT_JOBRUN_ERROR;
		}
		rules.retention = (int64_t)(ms / 1000);
	}
	if (rt->ops->list(rt, &list, &n, &error) < 0) {
		diag_error("%s", error);
		free(error);
		return EXIT_JOBRUN_ERROR;
	}
	for (i = 0; i < n; i++) {
		if (!runtime_gc_removes(&list[i], &rules, &why))
			continue;
		printf("%s %s (%s)\n",
		    cli->dry_run ? "would remove" : "removing", list[i].name,
		    why);
		if (!cli->dry_run &&
		    rt->ops->destroy(rt, list[i].name, &error) < 0) {
			diag_error("%s", error);
			free(error);
			error = NULL;
			status = EXIT_JOBRUN_ERROR;
		}
	}
	runtime_instances_free(list, n);
	if (runtime_job_gc_dirs(cli->dry_run) != 0)
		status = EXIT_JOBRUN_ERROR;
	return status;
}

static int
command_stop(struct runtime *rt, const char *run_id)
{
	char *name = runtime_instance_name(run_id), *error = NULL;
	struct runtime_instance found = RUNTIME_INSTANCE_INIT;
	int status = 0;

	if (rt->ops->find(rt, name, &found, &error) < 0) {
		diag_error("%s", error);
		status = EXIT_JOBRUN_ERROR;
	} else if (found.state != RUNTIME_RUNNING) {
		diag_error("run '%s' is not running (%s)", run_id,
		    runtime_state_name(found.state));
		status = EXIT_JOBRUN_ERROR;
	} else if (rt->ops->signal(rt, name, SIGTERM, &error) < 0) {
		diag_error("%s", error);
		status = EXIT_JOBRUN_ERROR;
	}
	free(error);
	free(name);
	runtime_instance_release(&found);
	return status;
}

static int
command_attach(struct runtime *rt, const char *run_id)
{
	struct runtime_run_options o = { .run_id = run_id,
		.attach_only = true,
		.workspace = ".jobrun",
		.grace_ms = 10000,
		.console = STDOUT_FILENO,
		.console_errors = STDERR_FILENO };
	sigset_t set;
	int status;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	o.signals = signalfd(-1, &set, SFD_CLOEXEC);
	status = runtime_run_job(rt, &o);
	if (o.signals >= 0)
		close(o.signals);
	return status;
}

int
runtime_job_command(const struct cli *cli)
{
	struct runtime *rt;
	int status;

	if (cli->command == CLI_MANIFEST)
		return runtime_job_manifest(cli);
	if (cli->command == CLI_PACK_RESULTS)
		return runtime_pack_results(cli->operand);
	if (cli->rt.run_id != NULL && !runtime_run_id_valid(cli->rt.run_id)) {
		diag_error("'%s' is not a run id", cli->rt.run_id);
		return EXIT_JOBRUN_ERROR;
	}
	if ((rt = open_for_commands()) == NULL)
		return EXIT_JOBRUN_ERROR;
	switch (cli->command) {
	case CLI_PS:
		status = command_ps(rt);
		break;
	case CLI_GC:
		status = command_gc(rt, cli);
		break;
	case CLI_STOP:
		status = command_stop(rt, cli->rt.run_id);
		break;
	case CLI_ATTACH:
	default:
		status = command_attach(rt, cli->rt.run_id);
		break;
	}
	runtime_free(rt);
	return status;
}
