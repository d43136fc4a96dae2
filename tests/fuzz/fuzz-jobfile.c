/*
 * A libFuzzer target for the job file reader and the plan checks: any bytes
 * must either parse into a job whose plan builds or fail with a message of
 * one line per problem, never crash, hang, leak or trip a sanitizer.
 *
 * To run it (clang with libFuzzer, AddressSanitizer and UBSan):
 *
 *	make fuzz                         # builds tests/fuzz/fuzz-jobfile
 *	make fuzz-run FUZZ_SECONDS=600    # fuzzes over the seeds and tests/bad
 *
 * or by hand, from the build directory:
 *
 *	./tests/fuzz/fuzz-jobfile -max_len=65536 -timeout=10 DIR...
 *	./tests/fuzz/fuzz-jobfile crash-FILE    # replays one input
 *
 * The seeds live in tests/fuzz/corpus/; a crashing input becomes a case in
 * tests/bad/ (bad input, with its expected message) or a seed (valid input).
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jobfile.h"
#include "plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Every failure carries a message of one or more lines, each naming the
 * file: "fuzz.yaml..." first, then "jobrun: fuzz.yaml..." (problems.h).
 */
static void
check_message(char *error)
{
	const char *line;

	if (error == NULL || strncmp(error, "fuzz.yaml", 9) != 0)
		abort();
	for (line = strchr(error, '\n'); line != NULL;
	     line = strchr(line + 1, '\n'))
		if (strncmp(line + 1, "jobrun: fuzz.yaml", 17) != 0)
			abort();
	free(error);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct plan_waves waves = PLAN_WAVES_INIT;
	struct plan plan = PLAN_INIT;
	struct job *job;
	char *error = NULL;

	job = jobfile_parse("fuzz.yaml", (const char *)data, size, &error);
	if (job == NULL) {
		check_message(error);
		return 0;
	}
	/* The reader ran the plan's checks: a job it returns has a plan. */
	if (plan_build(&plan, job, &error) < 0)
		abort();
	plan_waves(&waves, &plan);
	if (waves.first[waves.n_waves] != plan.n_steps)
		abort();
	plan_waves_release(&waves);
	plan_release(&plan);
	job_free(job);
	return 0;
}
