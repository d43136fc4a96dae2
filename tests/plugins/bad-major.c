/* A fixture plugin built for a future major version of the ABI: jobrun
 * must refuse it without calling anything in it. */
#include <jobrun/plugin.h>

#include <stdlib.h>

static int
bad_init(struct jobrun_context *context, const struct jobrun_host *host,
    void **state)
{
	(void)context;
	(void)host;
	(void)state;
	abort(); /* never called */
}

const struct jobrun_plugin jobrun_plugin = {
	.abi_version = JOBRUN_PLUGIN_ABI(JOBRUN_PLUGIN_ABI_MAJOR + 1, 0),
	.name = "bad-major",
	.init = bad_init,
};
