/*
 * Command-line parsing.  Every flag is in the one table below; a flag that
 * sets a configuration key carries the key, so the layers in config.c see
 * flags exactly as they see variables and job file keys.
 */
#include "config.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "diag.h"
#include "list.h"
#include "suggest.h"
#include "xalloc.h"

enum {
	OPT_HELP = 'h',
	OPT_JOBS = 'j',
	OPT_VERSION = 'V',
	OPT_EXPLAIN = 256,
	OPT_JSON,
	OPT_DRY_RUN,
	OPT_CLEAN,
	OPT_WORK_DIR,
	OPT_UNTIL,
	OPT_ONLY,
	OPT_SHELL_ON_FAILURE,
	OPT_NO_LOCAL,
	OPT_RUNNERLIB_CONTAINER,
	OPT_RAW,
	OPT_FROM_ENV,
	OPT_SOCKET,
	OPT_ENV,
	OPT_DEPENDS_ON,
	OPT_CONDITION,
	OPT_RUNTIME, /* the runtime options: take_runtime_option() */
	OPT_IMAGE,
	OPT_RUN_ID,
	OPT_PULL,
	OPT_CPUS,
	OPT_MEMORY,
	OPT_PIDS,
	OPT_DETACH,
	OPT_KEEP,
	OPT_OLDER_THAN,
	OPT_RUNNER_IMAGE,
	OPT_CONFIG = 1024, /* + enum config_key */
};

#define CONFIG_OPTION(name, key)                                               \
	{                                                                      \
		name, required_argument, NULL, OPT_CONFIG + (key)              \
	}

static const struct option options[] = {
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "explain", no_argument, NULL, OPT_EXPLAIN },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "clean", no_argument, NULL, OPT_CLEAN },
	{ "work-dir", required_argument, NULL, OPT_WORK_DIR },
	{ "until", required_argument, NULL, OPT_UNTIL },
	{ "only", required_argument, NULL, OPT_ONLY },
	{ "shell-on-failure", no_argument, NULL, OPT_SHELL_ON_FAILURE },
	{ "local", no_argument, NULL, OPT_CONFIG + CONFIG_LOCAL },
	{ "timestamps", no_argument, NULL, OPT_CONFIG + CONFIG_TIMESTAMPS },
	{ "no-local", no_argument, NULL, OPT_NO_LOCAL },
	{ "jobs", required_argument, NULL, OPT_JOBS },
	{ "container", no_argument, NULL, OPT_RUNNERLIB_CONTAINER },
	{ "runner-image", required_argument, NULL, OPT_RUNNER_IMAGE },
	{ "runtime", required_argument, NULL, OPT_RUNTIME },
	{ "image", required_argument, NULL, OPT_IMAGE },
	{ "run-id", required_argument, NULL, OPT_RUN_ID },
	{ "pull", required_argument, NULL, OPT_PULL },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "memory", required_argument, NULL, OPT_MEMORY },
	{ "pids", required_argument, NULL, OPT_PIDS },
	{ "detach", no_argument, NULL, OPT_DETACH },
	{ "keep", no_argument, NULL, OPT_KEEP },
	{ "older-than", required_argument, NULL, OPT_OLDER_THAN },
	{ "raw", no_argument, NULL, OPT_RAW },
	{ "from-env", required_argument, NULL, OPT_FROM_ENV },
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "env", required_argument, NULL, OPT_ENV },
	{ "depends-on", required_argument, NULL, OPT_DEPENDS_ON },
	{ "condition", required_argument, NULL, OPT_CONDITION },
	CONFIG_OPTION("name", CONFIG_NAME),
	CONFIG_OPTION("workspace", CONFIG_WORKSPACE),
	CONFIG_OPTION("code-dir", CONFIG_CODE_DIR),
	CONFIG_OPTION("job-dir", CONFIG_JOB_DIR),
	CONFIG_OPTION("ci-source-dir", CONFIG_CI_SOURCE_DIR),
	CONFIG_OPTION("job-command", CONFIG_JOB_COMMAND),
	CONFIG_OPTION("job-env", CONFIG_JOB_ENV),
	CONFIG_OPTION("shell", CONFIG_SHELL),
	CONFIG_OPTION("timeout", CONFIG_TIMEOUT),
	CONFIG_OPTION("grace-period", CONFIG_GRACE_PERIOD),
	CONFIG_OPTION("log-format", CONFIG_LOG_FORMAT),
	CONFIG_OPTION("branch", CONFIG_BRANCH),
	CONFIG_OPTION("event", CONFIG_EVENT),
	CONFIG_OPTION("source-type", CONFIG_SOURCE_TYPE),
	CONFIG_OPTION("source-url", CONFIG_SOURCE_URL),
	CONFIG_OPTION("source-ref", CONFIG_SOURCE_REF),
	CONFIG_OPTION("ci-source-type", CONFIG_CI_SOURCE_TYPE),
	CONFIG_OPTION("ci-source-url", CONFIG_CI_SOURCE_URL),
	CONFIG_OPTION("ci-source-ref", CONFIG_CI_SOURCE_REF),
	CONFIG_OPTION("secret-values-list", CONFIG_SECRET_VALUES_LIST),
	CONFIG_OPTION("secret-env-names", CONFIG_SECRET_ENV_NAMES),
	CONFIG_OPTION("secrets-file", CONFIG_SECRETS_FILE),
	CONFIG_OPTION("secret-min-length", CONFIG_SECRET_MIN_LENGTH),
	CONFIG_OPTION("plugin-dir", CONFIG_PLUGIN_DIR),
	CONFIG_OPTION("plugin-path", CONFIG_PLUGIN_PATH),
	CONFIG_OPTION("plugin", CONFIG_PLUGINS),
	CONFIG_OPTION("plugin-timeout", CONFIG_PLUGIN_TIMEOUT),
	CONFIG_OPTION("triggers-file", CONFIG_TRIGGERS_FILE),
	CONFIG_OPTION("untrusted-user", CONFIG_UNTRUSTED_USER),
	CONFIG_OPTION("isolation", CONFIG_ISOLATION),
	{ NULL, 0, NULL, 0 },
};

static const char help_overview[] =
    "Usage: jobrun COMMAND [OPTIONS] [JOBFILE]\n"
    "\n"
    "jobrun runs a CI job: its steps as a dependency graph, each in its own\n"
    "process group, with the job's exit status as its own.\n"
    "\n"
    "Commands:\n"
    "  run [JOBFILE]               run a job file, or --job-command as a "
    "one-step job\n"
    "  validate JOBFILE            check a job file; exit 0 if valid, 125 if "
    "not\n"
    "  config --explain [JOBFILE]  print every setting and where it came from\n"
    "  secret add                  register secrets (from standard input)\n"
    "  trigger NAME [OPTIONS]      have job NAME run after this one\n"
    "  output set KEY              set a workflow output from standard input\n"
    "  ps, attach ID, stop ID, gc, manifest JOBFILE   runs in containers\n"
    "  help [COMMAND], version     a command's options; the version\n"
    "\n"
    "Options:\n"
    "  -h, --help      show this help\n"
    "  -V, --version   print the version\n"
    "\n"
    "Settings come from defaults < the job file < JOBRUN_* variables < "
    "flags;\n"
    "runnerlib's REACTORCIDE_* variables and flags are understood too.\n"
    "Exit status: 0 success, 1 a step failed, 124 timed out, 125 jobrun or\n"
    "configuration error, 128+N cancelled by signal N.\n"
    "\n"
    "See 'jobrun help run', jobrun(1) and jobrun.yaml(5).\n";

static const char help_run[] =
    "Usage: jobrun run [OPTIONS] [JOBFILE]\n"
    "\n"
    "Runs the job in JOBFILE ('-' reads standard input), or the one-step job\n"
    "given by --job-command.  Flags win over variables, variables over the\n"
    "job file; 'jobrun config --explain' names the variable of each setting\n"
    "(--code-dir: JOBRUN_CODE_DIR, --name: JOBRUN_NAME).\n"
    "\n"
    "Job:\n"
    "      --job-command CMD     run CMD as a one-step job named 'main'\n"
    "      --job-env ENV         KEY=VALUE lines, or a file of them, added to\n"
    "                            every step's environment\n"
    "      --name NAME           the job's name (default: job)\n"
    "      --shell SHELL         run steps with SHELL -c (default: sh)\n"
    "      --timeout DURATION    end the job after DURATION (90s, 10m, 1h30m)\n"
    "  -j, --jobs N              steps to run at once (default: processors)\n"
    "      --grace-period DURATION  time between SIGTERM and SIGKILL when a\n"
    "                            step is cancelled or times out (default: "
    "10s)\n"
    "      --log-format FORMAT   text, or json: one object per line\n"
    "      --timestamps          text: each line of a step after its UTC "
    "time\n"
    "      --branch NAME         the branch, for conditions\n"
    "      --event NAME          the triggering event, for conditions\n"
    "      --dry-run             check everything and print the plan; run "
    "nothing\n"
    "      --clean               local mode: empty the workspace first\n"
    "      --until STEP          run STEP and the steps it depends on\n"
    "      --only STEP[,STEP...] run these steps alone, their dependencies\n"
    "                            taken as succeeded with no outputs\n"
    "      --shell-on-failure    on a terminal: a shell in a failed step's\n"
    "                            directory with its environment\n"
    "\n"
    "Workspace:\n"
    "      --workspace DIR       workspace root (default: /job)\n"
    "      --code-dir DIR        source under test (default: WORKSPACE/src)\n"
    "      --job-dir DIR         where steps run (default: the code dir)\n"
    "      --ci-source-dir DIR   trusted CI code (default: WORKSPACE/ci; in\n"
    "                            local mode the job file's directory)\n"
    "      --local, --no-local   local mode: workspace ./.jobrun, code dir .\n"
    "                            (default: on when no workspace is given and\n"
    "                            /job does not exist)\n"
    "      --work-dir DIR        change to DIR before anything else\n"
    "\n"
    "Sources, secrets, plugins, triggers:\n"
    "      --source-type TYPE    git, copy, tarball or none\n"
    "      --source-url URL      where the source under test comes from\n"
    "      --source-ref REF      branch, tag or commit\n"
    "      --ci-source-type TYPE, --ci-source-url URL, --ci-source-ref REF\n"
    "                            the same for the trusted CI code\n"
    "      --secret-values-list LIST   comma-separated values to mask\n"
    "      --secret-env-names NAMES    variables whose values are secret\n"
    "      --secrets-file FILE   a file of secret values\n"
    "      --secret-min-length N shortest secret accepted (default: 4)\n"
    "      --plugin PLUGIN[:PRIO]  load a plugin (name or path; "
    "repeatable)\n"
    "      --plugin-dir DIR      where plugins named without '/' are\n"
    "      --plugin-path DIRS    load every *.so in these directories\n"
    "      --plugin-timeout DURATION  longest a plugin hook may take "
    "(60s)\n"
    "      --triggers-file FILE  where to write triggers "
    "(default: WORKSPACE/triggers.json)\n"
    "      --untrusted-user UID:GID  who untrusted steps run as "
    "(65532:65532)\n"
    "      --isolation strict|weak  weak: run untrusted steps as jobrun's\n"
    "                            own user when no other can be used\n"
    "\n"
    "Runtime (see RUNTIMES in jobrun(1)):\n"
    "      --runtime RUNTIME     local (the default), podman, docker,\n"
    "                            kubernetes or auto (JOBRUN_RUNTIME): run the\n"
    "                            job in a container\n"
    "      --image IMAGE         the runner image (JOBRUN_IMAGE)\n"
    "      --runner-image IMAGE  runnerlib's: --runtime auto --image IMAGE\n"
    "      --run-id ID           the run's id (default: a new one); a run\n"
    "                            with the id of a running one attaches to it\n"
    "      --detach              start it, print the run id, return\n"
    "      --keep                keep the container once collected\n"
    "      --pull POLICY         missing (default), always or never\n"
    "      --cpus N, --memory SIZE, --pids N   the container's limits\n"
    "  jobrun ps                 the runs in containers this host sees\n"
    "  jobrun attach RUN_ID      follow one to its end, collect it\n"
    "  jobrun stop RUN_ID        send its job SIGTERM\n"
    "  jobrun gc [--dry-run] [--older-than DURATION]   remove the containers\n"
    "                            of dead owners, and ended ones (24h)\n"
    "  jobrun manifest [--image IMAGE] JOBFILE   the Kubernetes objects of\n"
    "                            a run (a List: Job, ConfigMap, Secret)\n"
    "\n"
    "runnerlib's --container is refused: use --runtime.\n";

static const char help_validate[] =
    "Usage: jobrun validate JOBFILE\n"
    "\n"
    "Checks JOBFILE ('-' reads standard input) as 'jobrun run' would before\n"
    "running anything: YAML syntax, keys and types, step names, dependencies\n"
    "and cycles, durations, conditions and patterns.  Prints the first\n"
    "problem as FILE:LINE:COLUMN: MESSAGE and exits 125, or exits 0.\n";

static const char help_secret[] =
    "Usage: jobrun secret add [--raw] [--from-env NAME] [--socket PATH]\n"
    "\n"
    "Registers secrets with the jobrun running this step, so that they are\n"
    "masked in everything it emits from then on.  Values are read from\n"
    "standard input, one per line (never from the command line, which other\n"
    "processes can read), and are never echoed.  Returns once every output\n"
    "stream masks them.\n"
    "\n"
    "      --raw             all of standard input is one secret\n"
    "      --from-env NAME   the value of variable NAME is the secret\n"
    "      --socket PATH     the control socket (default: $JOBRUN_SOCKET,\n"
    "                        then $REACTORCIDE_SECRETS_SOCKET)\n"
    "\n"
    "Exit status: 0 registered, 1 refused (too short to mask safely),\n"
    "125 jobrun could not be reached or the input was unusable.\n";

static const char help_trigger[] =
    "Usage: jobrun trigger NAME [--env K=V]... [--depends-on JOB]...\n"
    "                           [--condition C] [--socket PATH]\n"
    "\n"
    "Asks the jobrun running this step to have job NAME run after this job:\n"
    "it is added to triggers.json after the job file's triggers, in the\n"
    "order the requests arrive.  Values pass the secret masker.\n"
    "\n"
    "      --env K=V         a variable of the triggered job (repeatable)\n"
    "      --depends-on JOB  the worker starts it after JOB (repeatable)\n"
    "      --condition C     all_success, any_failed or always\n"
    "      --socket PATH     the control socket (default: $JOBRUN_SOCKET)\n"
    "\n"
    "Exit status: 0 added, 1 refused, 125 jobrun could not be reached.\n";

static const char help_output[] =
    "Usage: jobrun output set KEY [--socket PATH]\n"
    "\n"
    "Sets workflow output KEY to standard input (a trailing newline is\n"
    "dropped).  At the end of the job every output is written to\n"
    "WORKSPACE/outputs.json as {\"outputs\":{KEY:VALUE}}, masked, for the\n"
    "jobs this one triggers.  KEY is [A-Za-z_][A-Za-z0-9_]*.\n"
    "\n"
    "      --socket PATH     the control socket (default: $JOBRUN_SOCKET)\n"
    "\n"
    "Exit status: 0 set, 1 refused, 125 jobrun could not be reached.\n";

static const char help_config[] =
    "Usage: jobrun config --explain [--json] [OPTIONS] [JOBFILE]\n"
    "\n"
    "Prints every setting with its effective value and where it came from:\n"
    "default, job file (with line and column), environment (with the\n"
    "variable's name) or flag.  Takes the options of 'jobrun run'.  Secret\n"
    "values print as (hidden).\n";

int
cli_help(const char *topic)
{
	if (topic == NULL)
		fputs(help_overview, stdout);
	else if (strcmp(topic, "run") == 0)
		fputs(help_run, stdout);
	else if (strcmp(topic, "validate") == 0)
		fputs(help_validate, stdout);
	else if (strcmp(topic, "config") == 0)
		fputs(help_config, stdout);
	else if (strcmp(topic, "secret") == 0)
		fputs(help_secret, stdout);
	else if (strcmp(topic, "trigger") == 0)
		fputs(help_trigger, stdout);
	else if (strcmp(topic, "output") == 0)
		fputs(help_output, stdout);
	else if (strcmp(topic, "help") == 0)
		fputs(help_overview, stdout);
	else
		return -1;
	return 0;
}

static int __attribute__((format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	char message[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	diag_error("%s (see 'jobrun --help')", message);
	return -1;
}

/* The commands, for a "did you mean". */
static const char *const command_names[] = { "run", "validate", "config",
	"help", "version", "secret", "trigger", "output" };

/* " (did you mean 'X'?)" when a candidate is close to word, else "". */
static const char *
did_you_mean(const char *word, const char *const *candidates, size_t n,
    char *buf, size_t size)
{
	const char *close = suggest_closest(word, candidates, n);

	if (close == NULL)
		return "";
	snprintf(buf, size, ": did you mean '%s'?", close);
	return buf;
}

static int
unknown_command(const char *word)
{
	char hint[80];

	return usage_error("unknown command '%.80s'%s", word,
	    did_you_mean(word, command_names,
		sizeof(command_names) / sizeof(*command_names), hint,
		sizeof(hint)));
}

/*
 * An unknown option, without its value ("--name=VALUE": the value may be
 * a secret given to a misspelt flag), with the closest known one.
 */
static int
unknown_option(const char *typed)
{
	const char *names[sizeof(options) / sizeof(*options)];
	char name[80], hint[80], *equals;
	size_t i, n = 0;

	snprintf(name, sizeof(name), "%s", typed);
	if ((equals = strchr(name, '=')) != NULL)
		*equals = '\0';
	for (i = 0; options[i].name != NULL; i++)
		names[n++] = options[i].name;
	hint[0] = '\0';
	if (strncmp(name, "--", 2) == 0 &&
	    suggest_closest(name + 2, names, n) != NULL)
		snprintf(hint, sizeof(hint), ": did you mean '--%s'?",
		    suggest_closest(name + 2, names, n));
	return usage_error("unknown option '%s'%s", name, hint);
}

static int
find_command(const char *word, enum cli_command *out)
{
	static const struct {
		const char *name;
		enum cli_command command;
	} commands[] = {
		{ "run", CLI_RUN },
		{ "validate", CLI_VALIDATE },
		{ "config", CLI_CONFIG },
		{ "help", CLI_HELP },
		{ "version", CLI_VERSION },
		{ "secret", CLI_SECRET },
		{ "trigger", CLI_TRIGGER },
		{ "output", CLI_OUTPUT },
		{ "ps", CLI_PS },
		{ "attach", CLI_ATTACH },
		{ "stop", CLI_STOP },
		{ "gc", CLI_GC },
		{ "manifest", CLI_MANIFEST },
		{ "pack-results", CLI_PACK_RESULTS },
		{ "--help", CLI_HELP },
		{ "-h", CLI_HELP },
		{ "--version", CLI_VERSION },
		{ "-V", CLI_VERSION },
	};
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(word, commands[i].name) == 0) {
			*out = commands[i].command;
			return 0;
		}
	}
	return -1;
}

size_t
cli_secret_flags(int argc, char **argv, struct config_flag *flags)
{
	const struct option *o;
	const char *arg, *value;
	size_t n = 0, length;
	int i, key;

	for (i = 1; i < argc; i++) {
		arg = argv[i];
		if (strncmp(arg, "--", 2) != 0)
			continue;
		for (o = options; o->name != NULL; o++) {
			key = o->val - OPT_CONFIG;
			if (key != CONFIG_SECRET_VALUES_LIST &&
			    key != CONFIG_SECRET_ENV_NAMES &&
			    key != CONFIG_SECRETS_FILE)
				continue;
			length = strlen(o->name);
			if (strncmp(arg + 2, o->name, length) != 0)
				continue;
			if (arg[2 + length] == '=')
				value = arg + 2 + length + 1;
			else if (arg[2 + length] == '\0' && i + 1 < argc)
				value = argv[i + 1];
			else
				continue;
			/* A value cli_parse() took is "***" in argv now. */
			if (strncmp(value, "***", 3) == 0)
				continue;
			flags[n].key = (enum config_key)key;
			flags[n].value = value;
			flags[n].flag = o->name;
			n++;
		}
	}
	return n;
}

/*
 * True when a flag's value may hold secrets: the secret values
 * themselves, and an inline job environment (KEY=VALUE rather than the
 * name of a file of them).
 */
static bool
value_is_secret(enum config_key key, const char *value)
{
	const char *authority = strstr(value, "://");

	/* A source URL with user info (https://user:TOKEN@host/...): any
	 * '@' after the scheme, the path's included, to be safe. */
	return key == CONFIG_SECRET_VALUES_LIST ||
	    (key == CONFIG_JOB_ENV && strchr(value, '=') != NULL) ||
	    ((key == CONFIG_SOURCE_URL || key == CONFIG_CI_SOURCE_URL) &&
		authority != NULL && strchr(authority, '@') != NULL);
}

/*
 * Takes a secret value out of jobrun's own argv, which any process may
 * read in /proc/PID/cmdline: the value is copied (the copy lives in out
 * until cli_release()) and its bytes in argv become "***" and NULs.
 */
static const char *
take_secret_value(struct cli *out, char *value)
{
	size_t length = strlen(value);
	char *copy = xstrdup(value);

	memset(value, '\0', length);
	memcpy(value, "***", length < 3 ? length : 3);
	out->owned[out->n_owned++] = copy;
	return copy;
}

static int
add_flag(
    struct cli *out, enum config_key key, const char *value, const char *flag)
{
	if (out->n_flags == CLI_MAX_FLAGS)
		return usage_error("too many options (at most %s)", "256");
	out->flags[out->n_flags].key = key;
	out->flags[out->n_flags].value = value;
	out->flags[out->n_flags].flag = flag;
	out->flags[out->n_flags].is_switch = false;
	out->n_flags++;
	return 0;
}

static int
add_switch(
    struct cli *out, enum config_key key, const char *value, const char *flag)
{
	if (add_flag(out, key, value, flag) < 0)
		return -1;
	out->flags[out->n_flags - 1].is_switch = true;
	return 0;
}

/* A setting's option; arg (in argv; NULL: a switch, "true") is taken out
 * of argv when it may hold secrets. */
static int
add_config_option(
    struct cli *out, enum config_key key, char *arg, const char *flag)
{
	if (arg == NULL)
		return add_switch(out, key, "true", flag);
	if (value_is_secret(key, arg) && out->n_flags < CLI_MAX_FLAGS)
		return add_flag(out, key, take_secret_value(out, arg), flag);
	return add_flag(out, key, arg, flag);
}

/* An option of "jobrun trigger"; returns 0, or -1 after a message. */
static int
take_trigger_option(struct cli *out, int c, const char *typed)
{
	if (out->command != CLI_TRIGGER)
		return usage_error("option %s is for 'trigger'", typed);
	if (c == OPT_CONDITION)
		out->condition = optarg;
	else if (c == OPT_ENV)
		out->trigger_env[out->n_trigger_env++] = optarg;
	else
		out->depends_on[out->n_depends_on++] = optarg;
	return 0;
}

/* A runtime option of "run" (or gc's --older-than); returns 0, or -1
 * after a message. */
static int
take_runtime_option(struct cli *out, int c, const char *typed)
{
	struct cli_runtime *rt = &out->rt;

	if (c == OPT_OLDER_THAN) {
		if (out->command != CLI_GC)
			return usage_error("option %s is for 'gc'", typed);
		rt->older_than = optarg;
		return 0;
	}
	if (out->command != CLI_RUN &&
	    !(out->command == CLI_MANIFEST && c != OPT_DETACH && c != OPT_KEEP))
		return usage_error("option %s is for 'run'", typed);
	switch (c) {
	case OPT_RUNNER_IMAGE:
		rt->runtime = "auto";
		/* FALLTHROUGH */
	case OPT_IMAGE:
		rt->image = optarg;
		break;
	case OPT_RUNTIME:
		rt->runtime = optarg;
		break;
	case OPT_RUN_ID:
		rt->run_id = optarg;
		break;
	case OPT_PULL:
		rt->pull = optarg;
		break;
	case OPT_CPUS:
		rt->cpus = optarg;
		break;
	case OPT_MEMORY:
		rt->memory = optarg;
		break;
	case OPT_PIDS:
		rt->pids = optarg;
		break;
	case OPT_DETACH:
		rt->detach = true;
		break;
	default:
		rt->keep = true;
		break;
	}
	return 0;
}

/* Handles one option; returns 0, or -1 after a message. */
static int
take_option(struct cli *out, int c, int index, const char *typed)
{
	bool takes_config = out->command == CLI_RUN ||
	    out->command == CLI_CONFIG || out->command == CLI_MANIFEST;

	if (c >= OPT_CONFIG && !takes_config)
		return usage_error(
		    "option %s is for 'run' and 'config'", typed);
	if (c >= OPT_CONFIG)
		return add_config_option(out, (enum config_key)(c - OPT_CONFIG),
		    options[index].has_arg ? optarg : NULL, typed);
	switch (c) {
	case OPT_HELP:
		out->help_topic = out->command == CLI_SECRET ? "secret"
		    : out->command == CLI_TRIGGER            ? "trigger"
		    : out->command == CLI_OUTPUT             ? "output"
		    : out->command == CLI_RUN                ? "run"
		    : out->command == CLI_VALIDATE           ? "validate"
		    : out->command == CLI_CONFIG             ? "config"
							     : NULL;
		out->command = CLI_HELP;
		return 1;
	case OPT_VERSION:
		out->command = CLI_VERSION;
		return 1;
	case OPT_JOBS:
		if (!takes_config)
			return usage_error("option %s is for 'run' and "
					   "'config'",
			    typed);
		return add_flag(out, CONFIG_JOBS, optarg, typed);
	case OPT_NO_LOCAL:
		if (!takes_config)
			return usage_error("option %s is for 'run' and "
					   "'config'",
			    typed);
		return add_switch(out, CONFIG_LOCAL, "false", typed);
	case OPT_EXPLAIN:
	case OPT_JSON:
		if (out->command != CLI_CONFIG)
			return usage_error("option %s is for 'config'", typed);
		if (c == OPT_EXPLAIN)
			out->explain = true;
		else
			out->json = true;
		return 0;
	case OPT_RUNTIME:
	case OPT_IMAGE:
	case OPT_RUN_ID:
	case OPT_PULL:
	case OPT_CPUS:
	case OPT_MEMORY:
	case OPT_PIDS:
	case OPT_DETACH:
	case OPT_KEEP:
	case OPT_OLDER_THAN:
	case OPT_RUNNER_IMAGE:
		return take_runtime_option(out, c, typed);
	case OPT_DRY_RUN:
		if (out->command == CLI_GC) {
			out->dry_run = true;
			return 0;
		}
		/* FALLTHROUGH */
	case OPT_CLEAN:
	case OPT_WORK_DIR:
	case OPT_UNTIL:
	case OPT_ONLY:
	case OPT_SHELL_ON_FAILURE:
		if (out->command != CLI_RUN)
			return usage_error("option %s is for 'run'", typed);
		if (c == OPT_DRY_RUN)
			out->dry_run = true;
		else if (c == OPT_CLEAN)
			out->clean = true;
		else if (c == OPT_UNTIL)
			out->until = optarg;
		else if (c == OPT_ONLY)
			out->only = optarg;
		else if (c == OPT_SHELL_ON_FAILURE)
			out->shell_on_failure = true;
		else
			out->work_dir = optarg;
		return 0;
	case OPT_ENV:
	case OPT_DEPENDS_ON:
	case OPT_CONDITION:
		return take_trigger_option(out, c, typed);
	case OPT_SOCKET:
		if (out->command == CLI_TRIGGER || out->command == CLI_OUTPUT) {
			out->socket = optarg;
			return 0;
		}
		/* FALLTHROUGH */
	case OPT_RAW:
	case OPT_FROM_ENV:
		if (out->command != CLI_SECRET)
			return usage_error(
			    "option %s is for 'secret add'", typed);
		if (c == OPT_RAW)
			out->raw = true;
		else if (c == OPT_FROM_ENV)
			out->from_env = optarg;
		else
			out->socket = optarg;
		return 0;
	case OPT_RUNNERLIB_CONTAINER:
		return usage_error(
		    "%s is runnerlib's way to start a container; "
		    "jobrun runs inside the job's container",
		    typed);
	default:
		return -1;
	}
}

/* Returns the option as the user typed it, for messages and origins. */
static const char *
typed_option(int c, int index, char *buf, size_t size)
{
	if (index >= 0) {
		snprintf(buf, size, "--%s", options[index].name);
		return buf;
	}
	snprintf(buf, size, "-%c", c);
	return buf;
}

static int
cli_operands(struct cli *out, int n, char **operands)
{
	switch (out->command) {
	case CLI_HELP:
		if (n > 1)
			return usage_error(
			    "unexpected argument '%s'", operands[1]);
		out->help_topic = n == 1 ? operands[0] : NULL;
		return 0;
	case CLI_VALIDATE:
		if (n == 0)
			return usage_error(
			    "%s needs a job file", "'jobrun validate'");
		break;
	case CLI_CONFIG:
		if (!out->explain)
			return usage_error(
			    "%s needs --explain", "'jobrun config'");
		break;
	case CLI_SECRET:
		if (n != 1 || strcmp(operands[0], "add") != 0)
			return usage_error("expected 'jobrun secret add'%s",
			    n == 1 && suggest_distance(operands[0], "add") <= 1
				? ": did you mean 'add'?"
				: "");
		out->subcommand = operands[0];
		return 0;
	case CLI_TRIGGER:
		if (n != 1)
			return usage_error(
			    "%s", "expected 'jobrun trigger NAME'");
		out->operand = operands[0];
		return 0;
	case CLI_OUTPUT:
		if (n != 2 || strcmp(operands[0], "set") != 0)
			return usage_error("expected 'jobrun output set KEY'%s",
			    n >= 1 && strcmp(operands[0], "set") != 0 &&
				    suggest_distance(operands[0], "set") <= 1
				? ": did you mean 'set'?"
				: "");
		out->subcommand = operands[0];
		out->operand = operands[1];
		return 0;
	case CLI_PS:
	case CLI_GC:
		if (n > 0)
			return usage_error(
			    "unexpected argument '%s'", operands[0]);
		return 0;
	case CLI_MANIFEST:
		if (n != 1)
			return usage_error(
			    "%s", "expected 'jobrun manifest JOBFILE'");
		out->job_file = operands[0];
		return 0;
	case CLI_PACK_RESULTS:
		if (n != 1)
			return usage_error(
			    "%s", "expected 'jobrun pack-results DIR'");
		out->operand = operands[0];
		return 0;
	case CLI_ATTACH:
	case CLI_STOP:
		if (n != 1)
			return usage_error("expected 'jobrun %s RUN_ID'",
			    out->command == CLI_ATTACH ? "attach" : "stop");
		out->rt.run_id = operands[0];
		return 0;
	case CLI_RUN:
	case CLI_VERSION:
		break;
	}
	if (n > 1)
		return usage_error("unexpected argument '%s'", operands[1]);
	out->job_file = n == 1 ? operands[0] : NULL;
	return 0;
}

/* cli_parse() but for releasing what it took on failure. */
static int
parse(struct cli *out, int argc, char **argv)
{
	static char typed[CLI_MAX_FLAGS][40];
	size_t n_typed = 0;
	int c, index, rc;

	memset(out, 0, sizeof(*out));
	if (argc < 2) {
		out->command = CLI_HELP;
		return 0;
	}
	if (find_command(argv[1], &out->command) < 0)
		return unknown_command(argv[1]);
	if (out->command == CLI_VERSION ||
	    (out->command == CLI_HELP && argv[1][0] == '-')) {
		if (argc > 2)
			return usage_error("unexpected argument '%s'", argv[2]);
		return 0;
	}
	opterr = 0;
	optind = 1;
	while ((index = -1,
		   c = getopt_long(
		       argc - 1, argv + 1, ":hVj:", options, &index)) != -1) {
		if (c == '?')
			return unknown_option(argv[optind > 1 ? optind : 1]);
		if (c == ':')
			return usage_error("option '%s' needs a value",
			    argv[optind > 1 ? optind : 1]);
		if (n_typed == CLI_MAX_FLAGS)
			return usage_error(
			    "too many options (at most %s)", "256");
		rc = take_option(out, c, index,
		    typed_option(c, index, typed[n_typed], sizeof(typed[0])));
		n_typed++;
		if (rc < 0)
			return -1;
		if (rc > 0)
			return 0;
	}
	return cli_operands(out, argc - 1 - optind, argv + 1 + optind);
}

int
cli_parse(struct cli *out, int argc, char **argv)
{
	int rc = parse(out, argc, argv);

	if (rc < 0)
		cli_release(out);
	return rc;
}

void
cli_release(struct cli *cli)
{
	size_t i;

	for (i = 0; i < cli->n_owned; i++) {
		wipe(cli->owned[i], strlen(cli->owned[i]));
		free(cli->owned[i]);
	}
	cli->n_owned = 0;
}
