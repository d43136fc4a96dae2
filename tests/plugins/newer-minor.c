/*
 * A fixture plugin as built against a later minor version of the ABI,
 * whose struct has members this jobrun does not know: it must load, and
 * the extra members must be ignored.
 */
#include <jobrun/plugin.h>

#include <stdio.h>
#include <stdlib.h>

struct later_plugin {
	struct jobrun_plugin known;
	int (*from_the_future)(void); /* appended in "1.99" */
	const char *more;
};

static int
later_phase(
    struct jobrun_context *context, void *state, enum jobrun_phase phase)
{
	const char *path = getenv("REC_LOG");
	FILE *f;

	(void)context;
	(void)state;
	if (path != NULL && (f = fopen(path, "a")) != NULL) {
		fprintf(f, "newer-minor %d\n", (int)phase);
		fclose(f);
	}
	return 0;
}

static int
never(void)
{
	abort();
}

/* Exported under the ABI's symbol name with the bigger type. */
__attribute__((visibility("default"))) const struct later_plugin
    later __asm__("jobrun_plugin") = {
	    .known = {
		.abi_version = JOBRUN_PLUGIN_ABI(JOBRUN_PLUGIN_ABI_MAJOR, 99),
		.name = "newer-minor",
		.phase = later_phase,
	    },
	    .from_the_future = never,
	    .more = "ignored",
    };
