/*
 * The command line: one static option table for getopt_long, the commands,
 * and the help texts (which jobrun(1) repeats).
 */
#ifndef JOBRUN_CLI_H
#define JOBRUN_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "configuration.h"

enum cli_command {
	CLI_RUN,
	CLI_VALIDATE,
	CLI_CONFIG,
	CLI_HELP,
	CLI_VERSION,
	CLI_SECRET,
	CLI_TRIGGER,
	CLI_OUTPUT,
	CLI_PS, /* the runtime commands (runtime-job.c) */
	CLI_ATTACH,
	CLI_STOP,
	CLI_GC,
	CLI_MANIFEST,
	CLI_PACK_RESULTS, /* inside a Kubernetes collector pod */
};

/* The runtime options of "run" and the runtime commands; NULL (false)
 * when not given.  Strings borrow from argv. */
struct cli_runtime {
	const char *runtime; /* --runtime; --runner-image sets "auto" */
	const char *image; /* --image, --runner-image */
	const char *run_id; /* --run-id; attach and stop: the operand */
	const char *pull; /* --pull always|missing|never */
	const char *cpus, *memory, *pids;
	const char *older_than; /* gc --older-than */
	bool detach, keep;
};

/* Most flags one command line may give; more is an error. */
#define CLI_MAX_FLAGS 256

struct cli {
	enum cli_command command;
	const char *job_file; /* the JOBFILE argument, or NULL */
	const char *help_topic; /* "jobrun help TOPIC" */
	const char *work_dir; /* runnerlib's --work-dir */
	bool explain;
	bool json;
	bool dry_run;
	bool clean; /* --clean: empty the local workspace first */
	const char *until; /* --until STEP */
	const char *only; /* --only STEP[,STEP...] */
	bool shell_on_failure; /* --shell-on-failure */
	const char *subcommand; /* "jobrun secret add": "add" */
	bool raw; /* secret add --raw */
	const char *from_env; /* secret add --from-env NAME */
	const char *socket; /* --socket PATH (secret, trigger, output) */
	const char *operand; /* trigger NAME, output set KEY */
	const char *condition; /* trigger --condition C */
	const char *trigger_env[CLI_MAX_FLAGS]; /* trigger --env K=V */
	size_t n_trigger_env;
	const char *depends_on[CLI_MAX_FLAGS]; /* trigger --depends-on J */
	size_t n_depends_on;
	struct cli_runtime rt;
	struct config_flag flags[CLI_MAX_FLAGS];
	size_t n_flags;
	char *owned[CLI_MAX_FLAGS]; /* copies of secret values (cli_release) */
	size_t n_owned;
};

/*
 * Parses argv into *out.  Returns 0, or -1 after printing a message that
 * ends with a pointer to "jobrun --help" (exit status 125 is the caller's).
 * Pointers in *out borrow from argv, except the values of flags that may
 * hold secrets (--secret-values-list, an inline --job-env KEY=VALUE):
 * those are copied into *out and overwritten in argv ("***" then NULs)
 * as soon as they are parsed, so /proc/PID/cmdline no longer shows them.
 * Such flags stay weaker than files or the environment: the values were
 * readable until then, and in the parent's memory and shell history.
 */
int cli_parse(struct cli *out, int argc, char **argv);

/*
 * The flags of argv that give secrets (--secret-values-list,
 * --secret-env-names, --secrets-file), whether or not cli_parse() got to
 * them (it stops at the first bad flag), into flags (room for argc): for
 * masking what is said before the job's secrets are known.  Values that
 * cli_parse() took out of argv are left out.  Returns how many.
 */
size_t cli_secret_flags(int argc, char **argv, struct config_flag *flags);

/* Wipes and frees the copies cli_parse() made; the flags then dangle. */
void cli_release(struct cli *cli);

/* Prints the help for topic (NULL: the overview) to standard output.
 * Returns 0, or -1 for an unknown topic. */
int cli_help(const char *topic);

#endif
