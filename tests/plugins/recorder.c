/*
 * A fixture plugin for tests/t/0060-plugins.sh, built several times under
 * different names (PLUGIN_NAME).  It appends one line per call to the file
 * $REC_LOG ("NAME PHASE" or "NAME BEFORE_STEP step outcome"), and the
 * test steers it with variables, NAME with '-' as '_':
 *   REC_FAIL_NAME=PHASE   that hook (or "init") returns -1
 *   REC_HANG_NAME=PHASE   that hook sleeps for an hour
 *   REC_SECRET=VALUE      registered at PRE_EXECUTION (first plugin)
 *   REC_TRIGGER=JOB       added to triggers.json at POST_EXECUTION
 *   REC_RUN=COMMAND       run with sh -c through host->run at PRE_EXECUTION
 * At PRE_EXECUTION it also sets REC_SEEN_NAME=yes for later steps, and it
 * logs its config key "greeting" when there is one.
 */
#include <jobrun/plugin.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef PLUGIN_NAME
#define PLUGIN_NAME "rec"
#endif

struct recorder {
	const struct jobrun_host *host;
	char fail[64];
	char hang[64];
};

static const char *const phases[] = { "PRE_VALIDATION", "POST_VALIDATION",
	"PRE_SOURCE_PREP", "POST_SOURCE_PREP", "PRE_EXECUTION",
	"POST_EXECUTION", "ON_ERROR", "CLEANUP", "BEFORE_STEP", "AFTER_STEP" };

static void
record(const char *line)
{
	const char *path = getenv("REC_LOG");
	FILE *f;

	if (path == NULL || (f = fopen(path, "a")) == NULL)
		return;
	fprintf(f, "%s %s\n", PLUGIN_NAME, line);
	fclose(f);
}

/* The value of REC_<what>_<name>, '-' in the name as '_'. */
static void
setting(const char *what, char *out, size_t size)
{
	char variable[128];
	const char *value;
	size_t i;

	snprintf(variable, sizeof(variable), "REC_%s_%s", what, PLUGIN_NAME);
	for (i = 0; variable[i] != '\0'; i++)
		if (variable[i] == '-')
			variable[i] = '_';
	value = getenv(variable);
	snprintf(out, size, "%s", value ? value : "");
}

/* Fails or hangs when the test asked for it at this point. */
static int
steer(const struct recorder *rec, const char *point)
{
	if (strcmp(rec->hang, point) == 0)
		sleep(3600);
	return strcmp(rec->fail, point) == 0 ? -1 : 0;
}

static int
rec_init(struct jobrun_context *context, const struct jobrun_host *host,
    void **state)
{
	struct recorder *rec = calloc(1, sizeof(*rec));
	const char *greeting;

	if (rec == NULL)
		return -1;
	rec->host = host;
	setting("FAIL", rec->fail, sizeof(rec->fail));
	setting("HANG", rec->hang, sizeof(rec->hang));
	*state = rec;
	record("init");
	if ((greeting = host->config_get(context, "greeting")) != NULL)
		host->log(context, JOBRUN_LOG_INFO, "greeting: %s", greeting);
	return steer(rec, "init");
}

static void
at_execution(struct jobrun_context *context, const struct recorder *rec)
{
	const char *secret = getenv("REC_SECRET");
	const char *command = getenv("REC_RUN");
	char variable[64];
	size_t i;
	int status;

	snprintf(variable, sizeof(variable), "REC_SEEN_%s", PLUGIN_NAME);
	for (i = 0; variable[i] != '\0'; i++)
		if (variable[i] == '-')
			variable[i] = '_';
	rec->host->env_set(context, variable, "yes");
	if (secret != NULL)
		rec->host->secret_add(context, secret, strlen(secret));
	if (command != NULL) {
		const char *argv[] = { "sh", "-c", command, NULL };
		char line[64];

		if (rec->host->run(
			context, argv, NULL, "rec-run", 0, &status) == 0) {
			snprintf(line, sizeof(line), "run-status %d", status);
			record(line);
		}
	}
}

static int
rec_phase(struct jobrun_context *context, void *state, enum jobrun_phase phase)
{
	struct recorder *rec = state;
	const char *trigger = getenv("REC_TRIGGER");
	const char *outcome = rec->host->fact(context, "outcome");
	char line[160];

	snprintf(line, sizeof(line), "%s%s%s", phases[phase],
	    outcome ? " " : "", outcome ? outcome : "");
	record(line);
	if (phase == JOBRUN_PHASE_PRE_EXECUTION)
		at_execution(context, rec);
	if (phase == JOBRUN_PHASE_POST_EXECUTION && trigger != NULL) {
		const char *env[] = { "FROM=plugin", NULL };
		struct jobrun_trigger t = { trigger, env, NULL, NULL };

		rec->host->trigger_add(context, &t);
	}
	return steer(rec, phases[phase]);
}

static int
rec_step(struct jobrun_context *context, void *state, enum jobrun_phase when,
    const struct jobrun_step *step)
{
	struct recorder *rec = state;
	char line[200], point[128];

	(void)context;
	snprintf(line, sizeof(line), "%s %s %d %d", phases[when], step->name,
	    (int)step->outcome, step->exit_code);
	record(line);
	snprintf(point, sizeof(point), "%s:%s", phases[when], step->name);
	return steer(rec, point);
}

static void
rec_fini(struct jobrun_context *context, void *state)
{
	(void)context;
	record("fini");
	free(state);
}

const struct jobrun_plugin jobrun_plugin = {
	.abi_version = JOBRUN_PLUGIN_ABI_VERSION,
	.name = PLUGIN_NAME,
	.version = "1",
	.init = rec_init,
	.phase = rec_phase,
	.step = rec_step,
	.fini = rec_fini,
};
