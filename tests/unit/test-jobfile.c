/* Unit tests for jobfile.c: a job file using every field reads back whole. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "jobfile.h"
#include "tap.h"

static const char full[] =
    "version: 1\n"
    "name: ci\n"
    "shell: bash -e\n"
    "workdir: sub\n"
    "timeout: 1h\n"
    "trusted: false\n"
    "env: {CC: gcc, EMPTY: , N: 3}\n"
    "secrets:\n"
    "  env: [API_TOKEN]\n"
    "  env_globs: ['*_TOKEN']\n"
    "  files: [/run/secrets/token]\n"
    "  patterns: ['ghp_[A-Za-z0-9]{36}']\n"
    "  min_length: 6\n"
    "source: {type: git, url: 'https://example.org/app.git', ref: main, "
    "depth: 1, submodules: true, token_env: GIT_TOKEN, timeout: 5m}\n"
    "ci_source: {type: none}\n"
    "plugins:\n"
    "  - {path: /job/ci/plugins/notify.so, priority: 20, config: {channel: "
    "ci}}\n"
    "  - path: /usr/lib/jobrun/plugins/junit.so\n"
    "steps:\n"
    "  - {name: deps, run: ./configure}\n"
    "  - name: build\n"
    "    run: make -j2\n"
    "    depends_on: [deps]\n"
    "    timeout: 10m\n"
    "    env: {V: '1'}\n"
    "  - {name: lint, run: make lint, depends_on: deps, continue_on_error: "
    "true}\n"
    "  - {name: test, run: make check, depends_on: [build], retries: 1, "
    "trusted: false, run_as: 'nobody:nogroup', workdir: /tmp, shell: sh}\n"
    "  - {name: report, run: ./report.sh, depends_on: [test], if: "
    "always()}\n"
    "triggers:\n"
    "  - {job: deploy-staging, when: success, if: \"branch =~ '^main$'\", "
    "env: {TARGET: staging}}\n"
    "  - job: matrix\n"
    "    when: always\n"
    "    for_each: [a, b]\n"
    "    as: TARGET\n"
    "    depends_on: [deploy-staging]\n"
    "    condition: any_failed\n"
    "    job_command: make deploy\n"
    "    container_image: debian:bookworm-slim\n"
    "    timeout: 30m\n"
    "    priority: 5\n"
    "    source: {type: git, url: x, ref: y}\n";

static const char *
setting(const struct job *job, const char *key)
{
	return job_setting(job, key);
}

int
main(void)
{
	struct job *job;
	char *error = NULL;

	job = jobfile_parse("full.yaml", full, strlen(full), &error);
	if (!ok(job != NULL, "a job file using every field parses")) {
		printf("# %s\n", error);
		return done_testing();
	}
	is_str(setting(job, "name"), "ci", "name");
	is_str(setting(job, "shell"), "bash -e", "shell");
	is_str(setting(job, "workdir"), "sub", "workdir");
	is_str(setting(job, "timeout"), "1h", "timeout");
	is_str(setting(job, "source.url"), "https://example.org/app.git",
	    "source.url");
	is_str(setting(job, "ci_source.type"), "none", "ci_source.type");
	is_str(setting(job, "secrets.min_length"), "6", "secrets.min_length");
	is_int(job->trusted, TRISTATE_FALSE, "trusted: false");
	is_int((long long)job->env.len, 3, "three env entries");
	is_str(nvlist_get(&job->env, "EMPTY")->value, "", "null reads as ''");
	is_str(nvlist_get(&job->env, "N")->value, "3", "numbers are strings");
	is_int(job->source.depth, 1, "source.depth");
	ok(job->source.submodules, "source.submodules");
	is_str(job->source.token_env, "GIT_TOKEN", "source.token_env");
	is_int((long long)job->source.timeout_ms, 300000, "source.timeout");
	is_int((long long)job->secrets.patterns.len, 1, "one pattern");
	is_int((long long)job->n_plugins, 2, "two plugins");
	is_int(job->plugins[0].priority, 20, "plugin priority");
	is_int(job->plugins[1].priority, PLUGIN_DEFAULT_PRIORITY,
	    "default plugin priority");
	is_str(nvlist_get(&job->plugins[0].config, "channel")->value, "ci",
	    "plugin config");
	is_int((long long)job->n_steps, 5, "five steps");
	is_str(job->steps[1].name, "build", "step name");
	is_int((long long)job->steps[1].timeout_ms, 600000, "step timeout");
	is_str(job->steps[2].depends_on.items[0], "deps",
	    "a single depends_on string is a list of one");
	ok(job->steps[2].continue_on_error, "continue_on_error");
	is_int(job->steps[3].retries, 1, "retries");
	is_str(job->steps[3].run_as, "nobody:nogroup", "run_as");
	is_int(job->steps[3].trusted, TRISTATE_FALSE, "step trusted");
	is_int(job->steps[0].trusted, TRISTATE_UNSET, "trusted unset");
	is_str(job->steps[4].condition, "always()", "if");
	is_int(job->steps[4].condition_pos.line, 28, "if: line");
	is_int((long long)job->n_triggers, 2, "two triggers");
	is_int(job->triggers[0].when, TRIGGER_WHEN_SUCCESS, "when: success");
	is_str(job->triggers[0].item_var, "ITEM", "default item variable");
	is_int((long long)job->triggers[1].for_each.len, 2, "for_each");
	is_str(job->triggers[1].item_var, "TARGET", "as");
	is_str(job->triggers[1].worker_condition, "any_failed", "condition");
	is_int(job->triggers[1].priority, 5, "trigger priority");
	is_str(nvlist_get(&job->triggers[1].source, "ref")->value, "y",
	    "trigger source ref");
	job_free(job);

	job = jobfile_parse("t.yaml", "steps: []\n", 10, &error);
	ok(job != NULL && job->n_steps == 0, "an empty step list parses");
	job_free(job);

	{
		static const char text[] =
		    "steps:\n  - {name: a, run: x, dependson: [b]}\n";

		job = jobfile_parse("t.yaml", text, strlen(text), &error);
	}
	ok(job == NULL, "an unknown key is refused");
	is_str(error,
	    "t.yaml:2:23: unknown key 'dependson' in step 'a' (did you mean "
	    "'depends_on'?)",
	    "the message has position and hint");
	free(error);

	job = jobfile_parse("t.yaml", "", 0, &error);
	ok(job == NULL && strstr(error, "empty") != NULL, "an empty file");
	free(error);
	return done_testing();
}
