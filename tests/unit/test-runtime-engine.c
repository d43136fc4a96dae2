/*
 * The Podman/Docker backend's differences, by table: what each tool
 * prints for ps and inspect (samples as the tools print them), their
 * error wording, times, the image check, and the create arguments.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runtime-engine.h"
#include "tap.h"

static const char podman_ps[] =
    "[\n  {\n    \"AutoRemove\": false,\n    \"Command\": [\"run\"],\n"
    "    \"Exited\": true,\n    \"ExitedAt\": 1796320000,\n"
    "    \"ExitCode\": 3,\n    \"Labels\": {\n"
    "      \"org.jobrun.run-id\": \"abc\",\n"
    "      \"org.jobrun.job\": \"ci\",\n"
    "      \"org.jobrun.owner\": \"m:12:34\"\n    },\n"
    "    \"Names\": [\"jobrun-abc\"],\n    \"State\": \"exited\",\n"
    "    \"Status\": \"Exited (3) 2 seconds ago\",\n"
    "    \"Created\": 1796319990\n  },\n"
    "  {\n    \"Labels\": {\"org.jobrun.run-id\": \"def\","
    " \"org.jobrun.detached\": \"true\"},\n"
    "    \"Names\": [\"jobrun-def\"], \"State\": \"running\","
    " \"ExitCode\": 0, \"Created\": 1796319999 }\n]\n";

static const char docker_ps[] =
    "{\"Command\":\"\\\"jobrun run\\\"\",\"CreatedAt\":\"2026-12-03 "
    "18:00:00 +0000 UTC\",\"ID\":\"0123\",\"Image\":\"img\","
    "\"Labels\":\"org.jobrun.job=ci,org.jobrun.owner=m:12:34,"
    "org.jobrun.run-id=abc\",\"Names\":\"jobrun-abc\",\"State\":"
    "\"exited\",\"Status\":\"Exited (3) 2 seconds ago\"}\n"
    "{\"CreatedAt\":\"2026-12-03 18:00:09 +0000 UTC\",\"Labels\":"
    "\"org.jobrun.run-id=def,org.jobrun.detached=true\",\"Names\":"
    "\"jobrun-def\",\"State\":\"running\",\"Status\":\"Up 2 seconds\"}\n";

static void
test_ps(enum engine_kind kind, const char *text, const char *tool)
{
	struct runtime_instance *list = NULL;
	size_t n = 0;
	char *error = NULL, what[128];

#define WHAT(s) (snprintf(what, sizeof(what), "%s ps: %s", tool, s), what)
	is_int(
	    engine_parse_ps(&list, &n, kind, text, &error), 0, WHAT("parses"));
	is_int((long long)n, 2, WHAT("two instances"));
	if (n != 2)
		return;
	is_str(list[0].name, "jobrun-abc", WHAT("name"));
	is_str(list[0].run_id, "abc", WHAT("run id label"));
	is_str(list[0].job, "ci", WHAT("job label"));
	is_str(list[0].owner, "m:12:34", WHAT("owner label"));
	is_int(list[0].state, RUNTIME_EXITED, WHAT("exited"));
	is_int(list[0].exit_code, 3, WHAT("exit code"));
	ok(!list[0].detached, WHAT("not detached"));
	ok(list[0].created_at > 1796000000, WHAT("created time"));
	is_int(list[1].state, RUNTIME_RUNNING, WHAT("running"));
	ok(list[1].detached, WHAT("detached label"));
	is_str(list[1].owner, NULL, WHAT("no owner"));
	runtime_instances_free(list, n);
#undef WHAT
}

static void
test_inspect(void)
{
	static const char podman_inspect[] =
	    "[{\"Id\":\"e7\",\"Created\":\"2026-12-03T18:02:10.5+00:00\","
	    "\"Name\":\"jobrun-x\",\"State\":{\"Status\":\"exited\","
	    "\"ExitCode\":137,\"OOMKilled\":true,\"FinishedAt\":"
	    "\"2026-12-03T18:02:11.056048061Z\"},\"Config\":{\"Labels\":"
	    "{\"org.jobrun.run-id\":\"x\"}}}]";
	static const char docker_inspect[] =
	    "[{\"Id\":\"e7\",\"Created\":\"2026-12-03T18:02:10.5Z\","
	    "\"Name\":\"/jobrun-x\",\"State\":{\"Status\":\"created\","
	    "\"ExitCode\":0,\"OOMKilled\":false,\"FinishedAt\":"
	    "\"0001-01-01T00:00:00Z\"},\"Config\":{\"Labels\":"
	    "{\"org.jobrun.run-id\":\"x\"}}}]";
	struct runtime_instance inst;
	char *error = NULL;

	is_int(engine_parse_inspect(&inst, podman_inspect, &error), 0,
	    "podman inspect parses");
	is_str(inst.name, "jobrun-x", "podman inspect: name");
	is_int(inst.state, RUNTIME_EXITED, "podman inspect: exited");
	is_int(inst.exit_code, 137, "podman inspect: exit code");
	ok(inst.oom_killed, "podman inspect: OOM killed");
	is_int(inst.finished_at - inst.created_at, 1, "podman inspect: times");
	runtime_instance_release(&inst);
	is_int(engine_parse_inspect(&inst, docker_inspect, &error), 0,
	    "docker inspect parses");
	is_str(inst.name, "jobrun-x", "docker inspect: name without '/'");
	is_int(inst.state, RUNTIME_CREATED, "docker inspect: created");
	is_int(inst.finished_at, 0, "docker inspect: never finished");
	runtime_instance_release(&inst);
	is_int(engine_parse_inspect(&inst, "[]", &error), -1,
	    "an empty inspect is an error");
	free(error);
}

static void
test_errors_and_times(void)
{
	static const struct {
		const char *text;
		int err;
	} errors[] = {
		{ "Error: creating container storage: the container name "
		  "\"jobrun-x\" is already in use by e7e5.",
		    EEXIST },
		{ "docker: Error response from daemon: Conflict. The "
		  "container name \"/jobrun-x\" is already in use by "
		  "container \"e7\".",
		    EEXIST },
		{ "Error: inspecting object: no such container jobrun-x",
		    ENOENT },
		{ "Error: No such container: jobrun-x", ENOENT },
		{ "Error: No such object: jobrun-x", ENOENT },
		{ "Cannot connect to the Docker daemon at "
		  "unix:///var/run/docker.sock.",
		    EIO },
	};
	size_t i;

	for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		is_int(engine_error_errno(errors[i].text), errors[i].err,
		    errors[i].text);
	is_int(engine_parse_time("1970-01-01T00:01:00Z"), 60, "RFC 3339 Z");
	is_int(engine_parse_time("1970-01-01T02:01:00.5+02:00"), 60,
	    "RFC 3339 with an offset");
	is_int(engine_parse_time("1970-01-01 00:01:00 +0000 UTC"), 60,
	    "docker's CreatedAt");
	is_int(engine_parse_time("0001-01-01T00:00:00Z"), 0, "the zero time");
	is_int(engine_parse_time("soon"), 0, "not a time");
}

static void
test_image_check(void)
{
	ok(engine_config_has_jobrun("{\"Labels\":{\"org.jobrun.runner\":"
				    "\"1\"},\"Entrypoint\":[\"sh\"]}"),
	    "the label says jobrun");
	ok(engine_config_has_jobrun("{\"Entrypoint\":[\"/usr/bin/jobrun\"]}"),
	    "jobrun as the entrypoint");
	ok(!engine_config_has_jobrun(
	       "{\"Env\":[\"PATH=/bin\"],\"Cmd\":[\"bash\"]}"),
	    "debian holds no jobrun");
	ok(!engine_config_has_jobrun("{\"Entrypoint\":[\"sh\",\"jobrun\"]}"),
	    "jobrun as an argument is not enough");
}

static bool
has(const struct engine_args *a, const char *s)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i], s) == 0)
			return true;
	return false;
}

static void
test_create_args(void)
{
	static char run[] = "run", file[] = "/job/ci/job.yaml";
	static char env[] = "JOBRUN_BUNDLE=stdin";
	char *argv[] = { run, file, NULL }, *envp[] = { env, NULL };
	struct runtime_mount m = { "/home/me/app", "/mnt/src", true };
	struct runtime_spec spec = { .name = "jobrun-x",
		.run_id = "x",
		.job = "ci",
		.owner = "m:1:2",
		.image = "img",
		.argv = argv,
		.env = envp,
		.mounts = &m,
		.n_mounts = 1,
		.cpus = 1.5,
		.memory = 268435456,
		.pids = 100 };
	struct engine_args p = ENGINE_ARGS_INIT, d = ENGINE_ARGS_INIT;

	engine_create_args(&p, ENGINE_PODMAN, &spec, NULL);
	engine_create_args(&d, ENGINE_DOCKER, &spec, NULL);
	is_str(p.v[0], "create", "create: the verb");
	ok(!has(&p, "--cidfile"), "create: no cidfile");
	ok(has(&p, "--interactive") && has(&d, "--interactive"),
	    "create: standard input kept open");
	ok(has(&p, "org.jobrun.owner=m:1:2") && has(&d, "org.jobrun.run-id=x"),
	    "create: labels");
	ok(has(&p, "--init=false") && !has(&d, "--init=false"),
	    "create: podman's --init=false only");
	ok(has(&p, "--cpus=1.5") && has(&p, "--memory=268435456b") &&
		has(&p, "--pids-limit=100"),
	    "create: limits");
	ok(has(&p, "/home/me/app:/mnt/src:ro"), "create: read-only bind");
	is_str(p.v[p.n - 3], "img", "create: the image before the command");
	is_str(p.v[p.n - 1], "/job/ci/job.yaml", "create: the command last");
	ok(!has(&p, "--label") || !has(&p, "org.jobrun.detached=true"),
	    "create: not detached unless asked");
	engine_args_release(&p);
	engine_args_release(&d);

	/* The same instance made by "run", which also starts it. */
	engine_create_args(&p, ENGINE_PODMAN, &spec, "/tmp/c/cid");
	engine_create_args(&d, ENGINE_DOCKER, &spec, "/tmp/c/cid");
	is_str(p.v[0], "run", "run: the verb");
	ok(strcmp(p.v[1], "--cidfile") == 0 &&
		strcmp(p.v[2], "/tmp/c/cid") == 0,
	    "run: the cidfile first");
	ok(strcmp(d.v[0], "run") == 0 && has(&d, "--cidfile"),
	    "run: docker's the same");
	ok(has(&p, "--interactive") && has(&p, "org.jobrun.run-id=x") &&
		has(&p, "--init=false") && has(&p, "--pids-limit=100") &&
		has(&p, "never"),
	    "run: the create's options");
	ok(!has(&p, "--rm") && !has(&p, "--detach"),
	    "run: kept once ended, attached");
	is_str(p.v[p.n - 3], "img", "run: the image before the command");
	is_str(p.v[p.n - 1], "/job/ci/job.yaml", "run: the command last");
	engine_args_release(&p);
	engine_args_release(&d);
}

int
main(void)
{
	test_ps(ENGINE_PODMAN, podman_ps, "podman");
	test_ps(ENGINE_DOCKER, docker_ps, "docker");
	test_inspect();
	test_errors_and_times();
	test_image_check();
	test_create_args();
	return done_testing();
}
