/*
 * Unit tests for the bundled plugins (plugins/NAME.so), driven by a fake
 * host: the test dlopen()s each built plugin, checks its symbol and ABI
 * version, and calls its hooks with a struct jobrun_host whose services
 * record what they are asked and answer with facts, settings and steps
 * the test chooses.  run() is a plain fork/exec/waitpid.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jobrun/plugin.h>

#include "tap.h"

extern char **environ;

/* Opaque to the plugins; the fake host needs nothing in it. */
struct jobrun_context {
	int unused;
};

#define FAKE_MAX 16

struct fake {
	const char *facts[FAKE_MAX][2];
	size_t fact_count;
	const char *config[FAKE_MAX][2];
	size_t config_count;
	struct jobrun_step steps[FAKE_MAX];
	size_t step_count;
	const char *untrusted; /* check_trusted refuses paths holding it */
	char log[65536]; /* "I: message\n" per log() call */
	unsigned int runs;
};

static struct fake fake;
static struct jobrun_context context;
static char tmp[64];
static char trace[128];

static void
fake_reset(void)
{
	memset(&fake, 0, sizeof(fake));
}

static void
fake_fact(const char *name, const char *value)
{
	fake.facts[fake.fact_count][0] = name;
	fake.facts[fake.fact_count++][1] = value;
}

static void
fake_config(const char *key, const char *value)
{
	fake.config[fake.config_count][0] = key;
	fake.config[fake.config_count++][1] = value;
}

static struct jobrun_step *
fake_step(const char *name, enum jobrun_outcome outcome, int exit_code,
    uint64_t duration_ms, const char *log_file)
{
	struct jobrun_step *step = &fake.steps[fake.step_count];

	step->name = name;
	step->index = fake.step_count++;
	step->outcome = outcome;
	step->exit_code = exit_code;
	step->attempts = outcome == JOBRUN_OUTCOME_SKIPPED ? 0 : 1;
	step->duration_ms = duration_ms;
	step->log_file = log_file;
	return step;
}

static void fake_log(struct jobrun_context *c, enum jobrun_log_level level,
    const char *format, ...) __attribute__((format(printf, 3, 4)));

static void
fake_log(struct jobrun_context *c, enum jobrun_log_level level,
    const char *format, ...)
{
	size_t used = strlen(fake.log);
	va_list ap;

	snprintf(
	    fake.log + used, sizeof(fake.log) - used, "%c: ", "IWE"[level]);
	used = strlen(fake.log);
	va_start(ap, format);
	vsnprintf(fake.log + used, sizeof(fake.log) - used, format, ap);
	va_end(ap);
	used = strlen(fake.log);
	snprintf(fake.log + used, sizeof(fake.log) - used, "\n");
}

static const char *
fake_env_get(struct jobrun_context *c, const char *name)
{
	return NULL;
}

static int
fake_env_set(struct jobrun_context *c, const char *name, const char *value)
{
	return 0;
}

static int
fake_secret_add(struct jobrun_context *c, const char *value, size_t length)
{
	return 0;
}

static int
fake_trigger_add(struct jobrun_context *c, const struct jobrun_trigger *t)
{
	return 0;
}

static const char *
fake_lookup(const char *table[][2], size_t count, const char *name)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(table[i][0], name) == 0)
			return table[i][1];
	return NULL;
}

static const char *
fake_get_fact(struct jobrun_context *c, const char *name)
{
	return fake_lookup(fake.facts, fake.fact_count, name);
}

static const char *
fake_config_get(struct jobrun_context *c, const char *key)
{
	return fake_lookup(fake.config, fake.config_count, key);
}

static int
fake_config_item(struct jobrun_context *c, size_t index, const char **key,
    const char **value)
{
	if (index >= fake.config_count)
		return -1;
	*key = fake.config[index][0];
	*value = fake.config[index][1];
	return 0;
}

static size_t
fake_step_count(struct jobrun_context *c)
{
	return fake.step_count;
}

static const struct jobrun_step *
fake_step_get(struct jobrun_context *c, size_t index)
{
	return index < fake.step_count ? &fake.steps[index] : NULL;
}

static int
fake_run(struct jobrun_context *c, const char *const *argv,
    const char *const *env, const char *label, uint64_t timeout_ms,
    int *exit_status)
{
	char *envp[256], *args[2];
	size_t n = 0, base;
	pid_t pid;
	int status;

	for (char **e = environ; *e != NULL && n < 200; e++)
		envp[n++] = *e;
	base = n;
	for (size_t i = 0; env != NULL && env[i] != NULL && n < 255; i++)
		envp[n++] = strdup(env[i]);
	envp[n] = NULL;
	/* The hooks run here take no arguments. */
	args[0] = strdup(argv[0]);
	args[1] = NULL;
	fake.runs++;
	if ((pid = fork()) == 0) {
		execve(args[0], args, envp);
		_exit(127);
	}
	for (size_t i = base; i < n; i++)
		free(envp[i]);
	free(args[0]);
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	*exit_status =
	    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	return 0;
}

static int
fake_check_trusted(struct jobrun_context *c, const char *path)
{
	if (fake.untrusted != NULL && strstr(path, fake.untrusted) != NULL) {
		fake_log(c, JOBRUN_LOG_WARNING, "'%s' is not trusted", path);
		return -1;
	}
	return 0;
}

static const struct jobrun_host host = {
	.abi_version = JOBRUN_PLUGIN_ABI_VERSION,
	.jobrun_version = "test",
	.log = fake_log,
	.env_get = fake_env_get,
	.env_set = fake_env_set,
	.secret_add = fake_secret_add,
	.trigger_add = fake_trigger_add,
	.fact = fake_get_fact,
	.config_get = fake_config_get,
	.config_item = fake_config_item,
	.step_count = fake_step_count,
	.step_get = fake_step_get,
	.run = fake_run,
	.check_trusted = fake_check_trusted,
};

/* ---- helpers ---- */

static const struct jobrun_plugin *
load(const char *name, void **handle)
{
	const char *builddir = getenv("JOBRUN_BUILDDIR");
	const struct jobrun_plugin *plugin;
	char path[4096];

	snprintf(path, sizeof(path), "%s/plugins/%s.so",
	    builddir != NULL ? builddir : ".", name);
	if ((*handle = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		printf("# dlopen: %s\n", dlerror());
		return NULL;
	}
	plugin = dlsym(*handle, JOBRUN_PLUGIN_SYMBOL);
	return plugin;
}

static void
write_file(const char *path, const char *content, size_t length, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	if (fd < 0 || write(fd, content, length) != (ssize_t)length)
		printf("# cannot write %s: %s\n", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	chmod(path, mode);
}

static void
write_text(const char *path, const char *text)
{
	write_file(path, text, strlen(text), 0644);
}

static char *
read_file(const char *path)
{
	static char buffer[262144];
	ssize_t got;
	int fd = open(path, O_RDONLY);

	buffer[0] = '\0';
	if (fd < 0)
		return NULL;
	got = read(fd, buffer, sizeof(buffer) - 1);
	buffer[got > 0 ? got : 0] = '\0';
	close(fd);
	return buffer;
}

static void
make_dirs(const char *path)
{
	char command[512];

	snprintf(command, sizeof(command), "mkdir -p '%s'", path);
	if (system(command) != 0)
		printf("# cannot make %s\n", path);
}

/* A hook that records its name and the variables, then exits with code. */
static void
make_hook(const char *dir, const char *name, int code, mode_t mode)
{
	char path[512], script[1024];

	make_dirs(dir);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(script, sizeof(script),
	    "#!/bin/sh\n"
	    "echo \"%s $JOBRUN_HOOK_PHASE|${JOBRUN_JOB_OUTCOME-}|"
	    "${JOBRUN_JOB_STATUS-}|${JOBRUN_FAILED_STEP-}|"
	    "${JOBRUN_STEP_NAME-}|${JOBRUN_STEP_OUTCOME-}|"
	    "${JOBRUN_STEP_EXIT_CODE-}\" >>\"$TRACE\"\n"
	    "exit %d\n",
	    name, code);
	write_file(path, script, strlen(script), mode);
}

/* The names the hooks recorded since the last call, space-separated. */
static const char *
traced_names(void)
{
	static char names[1024];
	char *text = read_file(trace), *line, *save = NULL;

	names[0] = '\0';
	for (line = text ? strtok_r(text, "\n", &save) : NULL; line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (names[0] != '\0')
			strcat(names, " ");
		strncat(names, line, strcspn(line, " "));
	}
	unlink(trace);
	return names;
}

/* The whole trace since the last call. */
static const char *
traced(void)
{
	static char text[4096];
	char *content = read_file(trace);

	snprintf(text, sizeof(text), "%s", content ? content : "");
	unlink(trace);
	return text;
}

/* ---- exec-hooks ---- */

static void
test_exec_hooks(void)
{
	const struct jobrun_plugin *plugin;
	struct jobrun_step *step;
	void *handle, *state = NULL;
	char image[128], ci[128], cihooks[160], dir[256], expected[512];
	char command[1024];
	int result;

	plugin = load("exec-hooks", &handle);
	if (!ok(plugin != NULL, "exec-hooks: exports jobrun_plugin"))
		return;
	is_int(plugin->abi_version, JOBRUN_PLUGIN_ABI_VERSION,
	    "exec-hooks: ABI version 1.0");
	is_str(plugin->name, "exec-hooks", "exec-hooks: its name");

	snprintf(image, sizeof(image), "%s/image", tmp);
	snprintf(ci, sizeof(ci), "%s/ci", tmp);
	snprintf(cihooks, sizeof(cihooks), "%s/.jobrun/hooks", ci);

	/* Name order, both directories, ignored names, non-executables. */
	snprintf(dir, sizeof(dir), "%s/pre-execution.d", image);
	make_hook(dir, "20-b", 0, 0755);
	make_hook(dir, "10-a", 0, 0755);
	make_hook(dir, "30-a", 0, 0755);
	make_hook(dir, "30-Z", 0, 0755);
	make_hook(dir, ".hidden", 0, 0755);
	make_hook(dir, "40-backup~", 0, 0755);
	make_hook(dir, "50-x.dpkg-old", 0, 0755);
	make_hook(dir, "50-y.rpmsave", 0, 0755);
	make_hook(dir, "60-not-executable", 0, 0644);
	snprintf(dir, sizeof(dir), "%s/pre-execution.d/70-subdir", image);
	make_dirs(dir);
	snprintf(dir, sizeof(dir), "%s/pre-execution.d", cihooks);
	make_hook(dir, "05-ci", 0, 0755);

	fake_reset();
	fake_config("dir", image);
	fake_fact("ci_dir", ci);
	fake_fact("job", "hooks");
	ok(plugin->init(&context, &host, &state) == 0, "exec-hooks: init");
	result = plugin->phase(&context, state, JOBRUN_PHASE_PRE_EXECUTION);
	is_int(result, 0, "exec-hooks: a phase whose hooks succeed returns 0");
	is_str(traced_names(), "10-a 20-b 30-Z 30-a 05-ci",
	    "exec-hooks: image hooks in strcmp order, then the CI dir's");
	ok(strstr(fake.log, "60-not-executable': not executable") != NULL,
	    "exec-hooks: a non-executable file is skipped with a warning");
	ok(strstr(fake.log, "exit 0") == NULL,
	    "exec-hooks: succeeding hooks are not logged by default");
	ok(strstr(fake.log, "backup") == NULL &&
		strstr(fake.log, "dpkg") == NULL &&
		strstr(fake.log, "subdir") == NULL,
	    "exec-hooks: ignored names and directories are silent");

	/* No directory for a phase, and no CI hooks dir: nothing, no error. */
	fake.log[0] = '\0';
	result = plugin->phase(&context, state, JOBRUN_PHASE_PRE_SOURCE_PREP);
	ok(result == 0 && fake.log[0] == '\0' && traced()[0] == '\0',
	    "exec-hooks: missing phase directories are not an error");

	/* Untrusted: refused, counts as a failure, stops the phase. */
	snprintf(dir, sizeof(dir), "%s/pre-validation.d", image);
	make_hook(dir, "10-bad", 0, 0755);
	make_hook(dir, "20-after", 0, 0755);
	fake.untrusted = "10-bad";
	fake.log[0] = '\0';
	result = plugin->phase(&context, state, JOBRUN_PHASE_PRE_VALIDATION);
	is_int(result, -1, "exec-hooks: an untrusted hook fails the phase");
	is_str(traced_names(), "",
	    "exec-hooks: ... is not run, nor any hook after it");
	ok(strstr(fake.log, "W: refusing hook") != NULL,
	    "exec-hooks: ... with a warning");
	fake.untrusted = NULL;

	/* A symbolic link is judged where it lies, not where it points: a
	 * hook that is one, or lies in a linked directory, is refused. */
	snprintf(dir, sizeof(dir), "%s/hook-targets", tmp);
	make_hook(dir, "10-target", 0, 0755);
	snprintf(dir, sizeof(dir), "%s/on-error.d", image);
	make_hook(dir, "20-after", 0, 0755);
	snprintf(command, sizeof(command),
	    "ln -s '%s/hook-targets/10-target' '%s/on-error.d/10-link' && "
	    "ln -s '%s/hook-targets' '%s/post-source-prep.d'",
	    tmp, image, tmp, cihooks);
	ok(system(command) == 0, "exec-hooks: links as hooks");
	fake.log[0] = '\0';
	result = plugin->phase(&context, state, JOBRUN_PHASE_ON_ERROR);
	is_int(result, -1, "exec-hooks: a hook that is a symbolic link fails");
	is_str(traced_names(), "20-after",
	    "exec-hooks: ... its target is not run, the other hooks are");
	snprintf(expected, sizeof(expected),
	    "W: refusing hook '%s/on-error.d/10-link': a symbolic link", image);
	ok(strstr(fake.log, expected) != NULL,
	    "exec-hooks: ... refused with a warning");
	fake.log[0] = '\0';
	result = plugin->phase(&context, state, JOBRUN_PHASE_POST_SOURCE_PREP);
	is_int(
	    result, -1, "exec-hooks: a hook in a linked phase directory fails");
	is_str(traced_names(), "", "exec-hooks: ... and is not run");
	ok(strstr(fake.log, "W: refusing hook") != NULL,
	    "exec-hooks: ... refused with a warning");

	/* Before execution: the first failure stops the phase. */
	snprintf(dir, sizeof(dir), "%s/post-validation.d", image);
	make_hook(dir, "10-ok", 0, 0755);
	make_hook(dir, "20-fail", 3, 0755);
	make_hook(dir, "30-never", 0, 0755);
	snprintf(dir, sizeof(dir), "%s/post-validation.d", cihooks);
	make_hook(dir, "10-ci-never", 0, 0755);
	fake.log[0] = '\0';
	result = plugin->phase(&context, state, JOBRUN_PHASE_POST_VALIDATION);
	is_int(result, -1, "exec-hooks: a failing hook fails post-validation");
	is_str(traced_names(), "10-ok 20-fail",
	    "exec-hooks: ... and stops the phase's other hooks");
	snprintf(expected, sizeof(expected),
	    "E: hook %s/post-validation.d/20-fail: exit 3 (", image);
	ok(strstr(fake.log, expected) != NULL,
	    "exec-hooks: the failing hook is logged as an error");

	/* Cleanup: every hook runs, any failure fails the phase. */
	snprintf(dir, sizeof(dir), "%s/cleanup.d", image);
	make_hook(dir, "10-fail", 1, 0755);
	make_hook(dir, "20-ok", 0, 0755);
	snprintf(dir, sizeof(dir), "%s/cleanup.d", cihooks);
	make_hook(dir, "10-ci-fail", 2, 0755);
	make_hook(dir, "20-ci-ok", 0, 0755);
	fake.log[0] = '\0';
	result = plugin->phase(&context, state, JOBRUN_PHASE_CLEANUP);
	is_int(result, -1, "exec-hooks: a failing cleanup hook fails cleanup");
	is_str(traced_names(), "10-fail 20-ok 10-ci-fail 20-ci-ok",
	    "exec-hooks: ... but every cleanup hook runs");
	ok(strstr(fake.log, "W: hook") != NULL &&
		strstr(fake.log, "E: hook") == NULL,
	    "exec-hooks: failures after execution are warnings");

	/* The environment: job facts, step variables. */
	fake_fact("outcome", "failed");
	fake_fact("status", "1");
	fake_fact("failed_step", "build");
	snprintf(dir, sizeof(dir), "%s/post-execution.d", image);
	make_hook(dir, "10-env", 0, 0755);
	snprintf(dir, sizeof(dir), "%s/before-step.d", image);
	make_hook(dir, "10-before", 0, 0755);
	snprintf(dir, sizeof(dir), "%s/after-step.d", image);
	make_hook(dir, "10-after", 0, 0755);
	result = plugin->phase(&context, state, JOBRUN_PHASE_POST_EXECUTION);
	is_int(result, 0, "exec-hooks: post-execution hooks succeed");
	is_str(traced(), "10-env post-execution|failed|1|build|||\n",
	    "exec-hooks: JOBRUN_HOOK_PHASE and the job's outcome, status and "
	    "failed step");
	step = fake_step("build", JOBRUN_OUTCOME_PENDING, -1, 0, NULL);
	result = plugin->step(&context, state, JOBRUN_PHASE_BEFORE_STEP, step);
	is_int(result, 0, "exec-hooks: before-step hooks succeed");
	is_str(traced(), "10-before before-step|failed|1|build|build||\n",
	    "exec-hooks: before-step gets JOBRUN_STEP_NAME only");
	step->outcome = JOBRUN_OUTCOME_FAILED;
	step->exit_code = 2;
	result = plugin->step(&context, state, JOBRUN_PHASE_AFTER_STEP, step);
	is_str(traced(), "10-after after-step|failed|1|build|build|failed|2\n",
	    "exec-hooks: after-step gets the step's outcome and exit code");
	step->outcome = JOBRUN_OUTCOME_TIMED_OUT;
	step->exit_code = -1;
	step->signal = 9;
	result = plugin->step(&context, state, JOBRUN_PHASE_AFTER_STEP, step);
	is_str(traced(),
	    "10-after after-step|failed|1|build|build|timed_out|137\n",
	    "exec-hooks: a step killed by signal N has exit code 128+N");
	plugin->fini(&context, state);

	/* verbose: every run is logged. */
	fake_reset();
	fake_config("dir", image);
	fake_config("verbose", "true");
	ok(plugin->init(&context, &host, &state) == 0,
	    "exec-hooks: init with verbose");
	plugin->phase(&context, state, JOBRUN_PHASE_POST_EXECUTION);
	snprintf(expected, sizeof(expected),
	    "I: hook %s/post-execution.d/10-env: exit 0 (", image);
	ok(strstr(fake.log, expected) != NULL,
	    "exec-hooks: verbose logs succeeding hooks");
	traced();
	plugin->fini(&context, state);

	/* Settings it does not know, or bad values, refuse the job. */
	fake_reset();
	fake_config("dri", image);
	ok(plugin->init(&context, &host, &state) != 0 &&
		strstr(fake.log, "unknown setting 'dri'") != NULL,
	    "exec-hooks: an unknown setting fails init");
	fake_reset();
	fake_config("dir", "relative/hooks");
	ok(plugin->init(&context, &host, &state) != 0,
	    "exec-hooks: a relative dir fails init");
	fake_reset();
	fake_config("verbose", "yes");
	ok(plugin->init(&context, &host, &state) != 0,
	    "exec-hooks: verbose other than true or false fails init");
	dlclose(handle);
}

/* ---- junit ---- */

/* Runs python3 over the report; returns its output (a summary). */
static const char *
junit_summary(const char *path)
{
	static char output[8192];
	const char *python = getenv("PYTHON3");
	char command[2048], out[256];
	char *text;

	snprintf(out, sizeof(out), "%s/summary", tmp);
	snprintf(command, sizeof(command),
	    "%s -c 'import sys, xml.etree.ElementTree as E\n"
	    "r = E.parse(sys.argv[1]).getroot()\n"
	    "s = r.find(\"testsuite\")\n"
	    "print(r.tag, *(s.get(k) for k in (\"name\", \"tests\", "
	    "\"failures\", \"errors\", \"skipped\", \"time\")), sep=\"|\")\n"
	    "for c in s.iter(\"testcase\"):\n"
	    "  f = c.find(\"failure\"); k = c.find(\"skipped\"); "
	    "o = c.find(\"system-out\")\n"
	    "  print(c.get(\"name\"), c.get(\"classname\"), c.get(\"time\"), "
	    "f is not None and f.get(\"message\"), "
	    "k is not None and k.get(\"message\"), "
	    "o is not None and len(o.text or \"\"), "
	    "o is not None and repr((o.text or \"\")[-40:]), sep=\"|\")\n'"
	    " '%s' >'%s' 2>&1",
	    python != NULL ? python : "python3", path, out);
	if (system(command) != 0)
		printf("# python3 failed: %s\n", read_file(out));
	text = read_file(out);
	snprintf(output, sizeof(output), "%s", text ? text : "");
	return output;
}

static void
test_junit(void)
{
	const struct jobrun_plugin *plugin;
	void *handle, *state = NULL;
	char artifacts[128], log1[128], log2[128], log3[128], report[512];
	char expected[512], command[1024];
	char *big, *text;
	const char *summary;
	struct jobrun_step *step;

	plugin = load("junit", &handle);
	if (!ok(plugin != NULL, "junit: exports jobrun_plugin"))
		return;
	is_int(plugin->abi_version, JOBRUN_PLUGIN_ABI_VERSION,
	    "junit: ABI version 1.0");
	is_str(plugin->name, "junit", "junit: its name");

	snprintf(artifacts, sizeof(artifacts), "%s/artifacts/deep", tmp);
	snprintf(log1, sizeof(log1), "%s/build.log", tmp);
	snprintf(log2, sizeof(log2), "%s/test.log", tmp);
	snprintf(log3, sizeof(log3), "%s/big.log", tmp);
	write_text(log1, "hello <world> & \"q\" ]]>\n");
	write_text(log2, "bad \xff\xfe utf8 \xc3\xa9 ctrl\x01\x1b[0m end\n");
	big = malloc(100000);
	memset(big, 'a', 100000);
	memcpy(big + 100000 - 4, "END\n", 4);
	write_file(log3, big, 100000, 0644);
	free(big);

	fake_reset();
	fake_fact("job", "my<job>");
	fake_fact("artifacts_dir", artifacts);
	fake_step("build", JOBRUN_OUTCOME_SUCCESS, 0, 1234, log1);
	fake_step("te<&\"'>st", JOBRUN_OUTCOME_FAILED, 2, 20, log2);
	fake_step("slow", JOBRUN_OUTCOME_TIMED_OUT, -1, 5000,
	    "/nonexistent/slow.log");
	step = fake_step("killed", JOBRUN_OUTCOME_FAILED, -1, 7, log3);
	step->signal = 9;
	fake_step("skip", JOBRUN_OUTCOME_SKIPPED, -1, 0, NULL);
	fake_step("cancel", JOBRUN_OUTCOME_CANCELLED, -1, 0, NULL);
	fake_step("later", JOBRUN_OUTCOME_PENDING, -1, 0, NULL);

	ok(plugin->init(&context, &host, &state) == 0, "junit: init");
	is_int(plugin->phase(&context, state, JOBRUN_PHASE_PRE_EXECUTION), 0,
	    "junit: other phases do nothing");
	is_int(plugin->phase(&context, state, JOBRUN_PHASE_POST_EXECUTION), 0,
	    "junit: post-execution writes the report");
	snprintf(report, sizeof(report), "%s/junit.xml", artifacts);
	ok(access(report, R_OK) == 0,
	    "junit: artifacts_dir/junit.xml, its directory made");
	text = read_file(report);
	ok(text != NULL &&
		strstr(text, "name=\"te&lt;&amp;&quot;&apos;&gt;st\"") != NULL,
	    "junit: names are escaped");
	ok(text != NULL && strstr(text, "\xff") == NULL &&
		strstr(text, "\x01") == NULL && strstr(text, "\x1b") == NULL,
	    "junit: invalid UTF-8 and control characters are dropped");
	ok(text != NULL &&
		strstr(text,
		    "<system-out>[34464 bytes before this left out]\n"
		    "aaa") != NULL,
	    "junit: a long log says how much of it was left out");
	summary = junit_summary(report);
	ok(strstr(summary, "testsuites|my<job>|7|3|0|3|6.261\n") != NULL,
	    "junit: python parses it; the suite's counts and time");
	ok(strstr(summary,
	       "build|my<job>|1.234|False|False|24|'hello <world> & \"q\" "
	       "]]>\\n'\n") != NULL,
	    "junit: a successful step with its output");
	ok(strstr(summary,
	       "te<&\"'>st|my<job>|0.020|exit code 2|False|24|'bad  utf8 é "
	       "ctrl[0m end\\n'\n") != NULL,
	    "junit: a failed step, its exit code, its cleaned output");
	ok(strstr(summary,
	       "slow|my<job>|5.000|timed out after 5.000 "
	       "s|False|False|False\n") != NULL,
	    "junit: a timed-out step; a missing log gives no system-out");
	ok(strstr(summary, "killed|my<job>|0.007|killed by signal 9|False|") !=
		NULL,
	    "junit: a step killed by a signal");
	ok(strstr(summary, "aaaaEND\\n'\n") != NULL &&
		strstr(summary, "|65571|") != NULL,
	    "junit: a long log is cut to its last 64 KiB, with a note");
	ok(strstr(summary, "skip|my<job>|0.000|False|skipped|False|False\n") !=
		NULL,
	    "junit: a skipped step");
	ok(strstr(summary, "cancel|my<job>|0.000|False|cancelled|False|") !=
		NULL,
	    "junit: a cancelled step");
	ok(strstr(summary, "later|my<job>|0.000|False|not run|False|") != NULL,
	    "junit: a step never reached");
	if (getenv("SHOW") != NULL)
		printf("# %s\n", summary);

	unlink(report);
	is_int(plugin->phase(&context, state, JOBRUN_PHASE_CLEANUP), 0,
	    "junit: cleanup after post-execution");
	ok(access(report, F_OK) < 0,
	    "junit: ... does not write the report again");
	plugin->fini(&context, state);

	/* Files a step planted at its log: a FIFO (never opened to wait on
	 * it), a link and a hard link to another file (never read); the
	 * report is still written, their entries say what is missing. */
	fake_reset();
	fake_fact("job", "planted");
	fake_fact("artifacts_dir", artifacts);
	snprintf(command, sizeof(command),
	    "mkdir '%s/logs' && echo planted-content >'%s/planted' && "
	    "mkfifo '%s/logs/fifo.log' && "
	    "ln -s '%s/planted' '%s/logs/link.log' && "
	    "ln '%s/planted' '%s/logs/hard.log' && "
	    "echo fine-content >'%s/logs/fine.log'",
	    tmp, tmp, tmp, tmp, tmp, tmp, tmp, tmp);
	ok(system(command) == 0, "junit: a FIFO, a link, a hard link as logs");
	snprintf(log1, sizeof(log1), "%s/logs/fifo.log", tmp);
	snprintf(log2, sizeof(log2), "%s/logs/link.log", tmp);
	snprintf(log3, sizeof(log3), "%s/logs/hard.log", tmp);
	fake_step("fifo", JOBRUN_OUTCOME_SUCCESS, 0, 1, log1);
	fake_step("link", JOBRUN_OUTCOME_SUCCESS, 0, 1, log2);
	fake_step("hard", JOBRUN_OUTCOME_SUCCESS, 0, 1, log3);
	snprintf(report, sizeof(report), "%s/logs/fine.log", tmp);
	fake_step("fine", JOBRUN_OUTCOME_SUCCESS, 0, 1, report);
	ok(plugin->init(&context, &host, &state) == 0, "junit: init");
	alarm(20); /* what a blocking open of the FIFO would hang on */
	is_int(plugin->phase(&context, state, JOBRUN_PHASE_POST_EXECUTION), 0,
	    "junit: ... the report is written");
	alarm(0);
	plugin->fini(&context, state);
	snprintf(report, sizeof(report), "%s/junit.xml", artifacts);
	text = read_file(report);
	ok(text != NULL && strstr(text, "planted-content") == NULL &&
		strstr(fake.log, "planted-content") == NULL,
	    "junit: ... without the content of the files linked");
	ok(text != NULL && strstr(text, "fine-content") != NULL,
	    "junit: ... with the other steps' output");
	ok(text != NULL &&
		strstr(text,
		    "<system-out>jobrun: log left out: not a regular file\n"
		    "</system-out>") != NULL,
	    "junit: ... the FIFO's entry says its log was left out");
	snprintf(expected, sizeof(expected),
	    "W: step log '%s/logs/fifo.log' left out: not a regular file", tmp);
	ok(strstr(fake.log, expected) != NULL,
	    "junit: ... with a warning naming it");
	snprintf(expected, sizeof(expected),
	    "W: step log '%s/logs/link.log' left out: a symbolic link", tmp);
	ok(strstr(fake.log, expected) != NULL, "junit: ... and the link");
	snprintf(expected, sizeof(expected),
	    "W: step log '%s/logs/hard.log' left out: hard-linked", tmp);
	ok(strstr(fake.log, expected) != NULL, "junit: ... and the hard link");

	/* The artifacts directory itself a link: nothing written there. */
	snprintf(report, sizeof(report),
	    "mkdir '%s/outside' && ln -s '%s/outside' '%s/linked-artifacts'",
	    tmp, tmp, tmp);
	ok(system(report) == 0, "junit: a link as the artifacts directory");
	snprintf(report, sizeof(report), "%s/linked-artifacts", tmp);
	fake_reset();
	fake_fact("artifacts_dir", report);
	ok(plugin->init(&context, &host, &state) == 0 &&
		plugin->phase(&context, state, JOBRUN_PHASE_POST_EXECUTION) ==
		    -1 &&
		strstr(fake.log, "E: cannot write the report: ") != NULL,
	    "junit: ... is not followed: the report fails");
	snprintf(report, sizeof(report), "%s/outside/junit.xml", tmp);
	ok(access(report, F_OK) < 0, "junit: ... and nothing is written there");
	plugin->fini(&context, state);

	fake_reset();
	fake_fact("job", "my<job>");
	fake_fact("artifacts_dir", artifacts);
	/* file setting; a job that never reached post-execution. */
	fake_config("file", "reports/steps.xml");
	ok(plugin->init(&context, &host, &state) == 0, "junit: init with file");
	is_int(plugin->phase(&context, state, JOBRUN_PHASE_CLEANUP), 0,
	    "junit: cleanup writes the report when post-execution did not");
	snprintf(report, sizeof(report), "%s/reports/steps.xml", artifacts);
	ok(access(report, R_OK) == 0, "junit: file names the report");
	snprintf(report, sizeof(report),
	    "ls -a '%s' '%s/reports' | grep -q 'xml\\.'", artifacts, artifacts);
	ok(system(report) != 0, "junit: no temporary file is left");
	plugin->fini(&context, state);

	/* A directory of the file setting that is a symbolic link. */
	snprintf(report, sizeof(report),
	    "mkdir '%s/elsewhere' && "
	    "ln -s '%s/elsewhere' '%s/link'",
	    tmp, tmp, artifacts);
	ok(system(report) == 0, "junit: a symbolic link in artifacts_dir");
	fake.config_count = 0;
	fake_config("file", "link/steps.xml");
	fake.log[0] = '\0';
	ok(plugin->init(&context, &host, &state) == 0 &&
		plugin->phase(&context, state, JOBRUN_PHASE_POST_EXECUTION) ==
		    -1 &&
		strstr(fake.log, "E: cannot write") != NULL,
	    "junit: ... is not followed: the report fails");
	snprintf(report, sizeof(report), "%s/elsewhere/steps.xml", tmp);
	ok(access(report, F_OK) < 0, "junit: ... and nothing is written there");
	plugin->fini(&context, state);

	fake_reset();
	fake_config("file", "../out.xml");
	ok(plugin->init(&context, &host, &state) != 0,
	    "junit: a file with '..' is refused");
	fake_reset();
	fake_config("file", "a/../../out.xml");
	ok(plugin->init(&context, &host, &state) != 0,
	    "junit: ... anywhere in it");
	fake_reset();
	fake_config("file", "/tmp/out.xml");
	ok(plugin->init(&context, &host, &state) != 0,
	    "junit: an absolute file is refused");
	fake_reset();
	fake_config("path", "x.xml");
	ok(plugin->init(&context, &host, &state) != 0,
	    "junit: an unknown setting is refused");

	/* No artifacts dir: an error, reported. */
	fake_reset();
	ok(plugin->init(&context, &host, &state) == 0 &&
		plugin->phase(&context, state, JOBRUN_PHASE_POST_EXECUTION) ==
		    -1 &&
		strstr(fake.log, "E: cannot write the report") != NULL,
	    "junit: no artifacts directory fails post-execution");
	plugin->fini(&context, state);
	dlclose(handle);
}

/* ---- timing ---- */

/* The index-th line of the log holding text, or NULL. */
static const char *
log_line(const char *text)
{
	static char line[512];
	const char *found = strstr(fake.log, text), *start, *end;

	if (found == NULL)
		return NULL;
	for (start = found; start > fake.log && start[-1] != '\n'; start--)
		continue;
	end = strchr(found, '\n');
	snprintf(line, sizeof(line), "%.*s", (int)(end - start), start);
	return line;
}

static void
test_timing(void)
{
	const struct jobrun_plugin *plugin;
	struct jobrun_step *step;
	void *handle, *state = NULL;
	const char *line;
	size_t width;

	plugin = load("timing", &handle);
	if (!ok(plugin != NULL, "timing: exports jobrun_plugin"))
		return;
	is_int(plugin->abi_version, JOBRUN_PLUGIN_ABI_VERSION,
	    "timing: ABI version 1.0");
	is_str(plugin->name, "timing", "timing: its name");

	fake_reset();
	fake_config("min_ms", "100");
	step = fake_step("build", JOBRUN_OUTCOME_SUCCESS, 0, 1500, NULL);
	fake_step("quick", JOBRUN_OUTCOME_SUCCESS, 0, 5, NULL);
	fake_step(
	    "a-rather-long-step-name", JOBRUN_OUTCOME_FAILED, 1, 2500, NULL)
	    ->attempts = 2;
	ok(plugin->init(&context, &host, &state) == 0, "timing: init");
	for (int phase = JOBRUN_PHASE_PRE_VALIDATION;
	     phase <= JOBRUN_PHASE_PRE_EXECUTION; phase++)
		plugin->phase(&context, state, phase);
	plugin->step(&context, state, JOBRUN_PHASE_BEFORE_STEP, step);
	usleep(20000);
	plugin->step(&context, state, JOBRUN_PHASE_AFTER_STEP, step);
	plugin->phase(&context, state, JOBRUN_PHASE_POST_EXECUTION);
	ok(fake.log[0] == '\0', "timing: nothing logged before cleanup");
	is_int(plugin->phase(&context, state, JOBRUN_PHASE_CLEANUP), 0,
	    "timing: cleanup");
	for (const char *p = fake.log; *p != '\0'; p = strchr(p, '\n') + 1)
		printf("# %.*s\n", (int)strcspn(p, "\n"), p);

	line = log_line("phase ");
	ok(line != NULL && strstr(line, "duration") != NULL,
	    "timing: a header for the phases");
	width = line != NULL ? strlen(line) : 0;
	ok(log_line("I: pre-validation ") != NULL &&
		log_line("I: post-source-prep ") != NULL &&
		log_line("I: post-execution ") != NULL &&
		log_line("I: cleanup ") != NULL,
	    "timing: a row per phase reached");
	line = log_line("I: steps ");
	ok(line != NULL && strstr(line, " 0.000 s") == NULL &&
		strstr(line, " 0.01") == NULL,
	    "timing: a row for the steps, from the first step's start");
	line = log_line("I: build ");
	ok(line != NULL && strstr(line, " success ") != NULL &&
		strstr(line, " 1 ") != NULL && strstr(line, "1.500 s") != NULL,
	    "timing: a step's outcome, attempts and duration");
	ok(line != NULL && strlen(line) == width,
	    "timing: ... aligned with the header");
	line = log_line("a-rather-long-step-name ");
	ok(line != NULL && strstr(line, " failed ") != NULL &&
		strstr(line, " 2 ") != NULL &&
		strstr(line, "2.500 s") != NULL && strlen(line) == width,
	    "timing: a failed step with two attempts, aligned");
	ok(log_line("quick") == NULL &&
		log_line("(1 step under 100 ms not shown)") != NULL,
	    "timing: min_ms hides short steps, and says so");
	line = log_line("I: total ");
	ok(line != NULL && strlen(line) == width,
	    "timing: the total, last, aligned");
	ok(strstr(fake.log, "\x1b") == NULL, "timing: no colours");
	plugin->fini(&context, state);

	fake_reset();
	fake_config("min_ms", "12x");
	ok(plugin->init(&context, &host, &state) != 0,
	    "timing: a min_ms that is not a number is refused");
	fake_reset();
	fake_config("min", "1");
	ok(plugin->init(&context, &host, &state) != 0,
	    "timing: an unknown setting is refused");
	dlclose(handle);
}

int
main(void)
{
	char command[128];

	snprintf(tmp, sizeof(tmp), "/tmp/jobrun-bundled-XXXXXX");
	if (mkdtemp(tmp) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(trace, sizeof(trace), "%s/trace", tmp);
	setenv("TRACE", trace, 1);

	test_exec_hooks();
	test_junit();
	test_timing();

	snprintf(command, sizeof(command), "rm -rf '%s'", tmp);
	if (system(command) != 0)
		printf("# cannot remove %s\n", tmp);
	return done_testing();
}
