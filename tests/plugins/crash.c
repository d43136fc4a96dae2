/*
 * A fixture plugin that ends jobrun's job process in the phase its config
 * names (crash_phase: PRE_EXECUTION, POST_EXECUTION, ...) the way its
 * config says (crash_how: segv, abort or exit), so tests can check that
 * the truth is still written down.
 */
#include <jobrun/plugin.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>

struct crash {
	const char *phase;
	const char *how;
};

static struct crash crash;

static int
crash_init(struct jobrun_context *context, const struct jobrun_host *host,
    void **state)
{
	crash.phase = host->config_get(context, "crash_phase");
	crash.how = host->config_get(context, "crash_how");
	*state = &crash;
	return 0;
}

static int
crash_phase(
    struct jobrun_context *context, void *state, enum jobrun_phase phase)
{
	struct crash *c = state;

	(void)context;
	if (c->phase == NULL || strcmp(c->phase, jobrun_phase_name(phase)) != 0)
		return 0;
	if (c->how != NULL && strcmp(c->how, "abort") == 0)
		abort();
	if (c->how != NULL && strcmp(c->how, "exit") == 0)
		exit(0);
	raise(SIGSEGV);
	return 0;
}

const struct jobrun_plugin jobrun_plugin = {
	.abi_version = JOBRUN_PLUGIN_ABI_VERSION,
	.name = "crash",
	.init = crash_init,
	.phase = crash_phase,
};
