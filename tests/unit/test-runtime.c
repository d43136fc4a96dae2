/*
 * The runtime seam with the fake backend: identity (run ids, names, owner
 * labels), the reconcile table, the gc rules, and the host-side flow of a
 * run through every scripted failure: a daemon that does not answer, a
 * missing image, an image without jobrun, a name taken, a job that hangs
 * (signals, hard stop), OOM, failing collect and remove, a hostile tar.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "file.h"
#include "mask.h"
#include "runtime-run.h"
#include "runtime.h"
#include "source-exec.h"
#include "tap.h"
#include "xalloc.h"

static char workspace[] = "/tmp/test-runtime.XXXXXX";
static char console_path[256];

static void
test_identity(void)
{
	char *id = runtime_run_id_new(), *name, *owner;

	ok(runtime_run_id_valid(id), "a new run id is valid");
	is_int((long long)strlen(id), 12, "a new run id has 12 characters");
	name = runtime_instance_name("abc-1");
	is_str(name, "jobrun-abc-1", "the name is derived from the run id");
	ok(!runtime_run_id_valid(""), "an empty run id is refused");
	ok(!runtime_run_id_valid("-x"), "a leading '-' is refused");
	ok(!runtime_run_id_valid("A"), "capitals are refused");
	ok(!runtime_run_id_valid("a/b"), "'/' is refused");
	ok(!runtime_run_id_valid(
	       "0123456789012345678901234567890123456789012345678"),
	    "49 characters are refused");
	owner = runtime_owner_self();
	is_int(runtime_owner_alive(owner, NULL), 1, "this process is alive");
	free(owner);
	free(name);
	free(id);
}

static void
test_owner_dead(void)
{
	pid_t pid = fork();
	char *owner;

	if (pid == 0)
		_exit(0);
	owner = runtime_owner_of(pid);
	ok(owner != NULL, "a child has an owner label");
	waitpid(pid, NULL, 0);
	is_int(runtime_owner_alive(owner, NULL), 0,
	    "a reaped child's label is dead");
	is_int(runtime_owner_alive("another-machine:1:1", NULL), -1,
	    "another machine's owner is unknown");
	is_int(runtime_owner_alive("garbage", NULL), -1,
	    "a label jobrun does not know is unknown");
	free(owner);
}

static void
test_reconcile_table(void)
{
	static const struct {
		enum runtime_state state;
		enum runtime_action action;
	} table[] = {
		{ RUNTIME_ABSENT, RUNTIME_DO_CREATE },
		{ RUNTIME_CREATED, RUNTIME_DO_START },
		{ RUNTIME_RUNNING, RUNTIME_DO_ATTACH },
		{ RUNTIME_EXITED, RUNTIME_DO_COLLECT },
	};
	size_t i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		char what[64];

		snprintf(what, sizeof(what), "reconcile: %s",
		    runtime_state_name(table[i].state));
		is_int(
		    runtime_reconcile(table[i].state), table[i].action, what);
	}
}

/* Owners "live", "dead", anything else unknown. */
static int
stub_alive(const char *owner, void *context)
{
	(void)context;
	if (owner != NULL && strcmp(owner, "live") == 0)
		return 1;
	if (owner != NULL && strcmp(owner, "dead") == 0)
		return 0;
	return -1;
}

static void
test_gc_rules(void)
{
	static const struct {
		const char *owner;
		bool detached;
		enum runtime_state state;
		int64_t finished_ago;
		bool removed;
		const char *what;
	} table[] = {
		{ "live", false, RUNTIME_RUNNING, 0, false,
		    "a live owner's running instance stays" },
		{ "live", false, RUNTIME_EXITED, 999999, false,
		    "a live owner's old exited instance stays" },
		{ "dead", false, RUNTIME_RUNNING, 0, true,
		    "a dead owner's running instance goes" },
		{ "dead", false, RUNTIME_CREATED, 0, true,
		    "a dead owner's created instance goes" },
		{ "dead", false, RUNTIME_EXITED, 1, true,
		    "a dead owner's fresh exited instance goes" },
		{ "dead", true, RUNTIME_RUNNING, 0, false,
		    "a detached running instance stays" },
		{ "dead", true, RUNTIME_EXITED, 7200, true,
		    "a detached instance exited past the retention goes" },
		{ "dead", true, RUNTIME_EXITED, 60, false,
		    "a detached instance exited recently stays" },
		{ "elsewhere", false, RUNTIME_RUNNING, 0, false,
		    "another machine's running instance stays" },
		{ "elsewhere", false, RUNTIME_EXITED, 7200, true,
		    "another machine's old exited instance goes" },
		{ "elsewhere", false, RUNTIME_EXITED, 60, false,
		    "another machine's recent exited instance stays" },
	};
	struct runtime_gc_rules rules = {
		.now = 100000, .retention = 3600, .alive = stub_alive
	};
	size_t i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		struct runtime_instance inst = RUNTIME_INSTANCE_INIT;
		const char *why;

		inst.owner = (char *)(uintptr_t)table[i].owner;
		inst.detached = table[i].detached;
		inst.state = table[i].state;
		inst.created_at = rules.now - 100000;
		if (inst.state == RUNTIME_EXITED)
			inst.finished_at = rules.now - table[i].finished_ago;
		is_int(runtime_gc_removes(&inst, &rules, &why),
		    table[i].removed, table[i].what);
		ok(why != NULL, "gc gives a reason");
	}
}

/* ---- the flow ---- */

static struct mask_set *mask;
static int console = -1;

static void
reset_files(void)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf %s/* %s/.c* %s", workspace,
	    workspace, console_path);
	if (system(cmd) != 0)
		fprintf(stderr, "# cannot clean up\n");
	if (console >= 0)
		close(console);
	console =
	    open(console_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
}

static struct runtime_run_options
options(const char *run_id)
{
	static char run_word[] = "run";
	static char *const argv[] = { run_word, NULL };
	struct runtime_run_options o = {
		.run_id = run_id,
		.spec = { .job = "test",
		    .owner = "owner",
		    .image = "img",
		    .argv = argv },
		.bundle = "BUNDLE",
		.bundle_length = 6,
		.workspace = workspace,
		.grace_ms = 1000,
		.mask = mask,
		.console = console,
		.console_errors = -1,
		.signals = -1,
	};
	return o;
}

static char *
slurp(const char *name)
{
	char *path = xasprintf("%s/%s", workspace, name), *text = NULL, *err;
	size_t n;

	if (file_read_all(AT_FDCWD, path, 1 << 20, &text, &n, &err) < 0)
		free(err);
	free(path);
	return text;
}

static char *
console_text(void)
{
	char *text = NULL, *err;
	size_t n;

	if (file_read_all(AT_FDCWD, console_path, 1 << 20, &text, &n, &err) < 0)
		free(err);
	return text;
}

static bool
contains(const char *text, const char *needle)
{
	return text != NULL && strstr(text, needle) != NULL;
}

static size_t
instances(struct runtime *rt)
{
	struct runtime_instance *list;
	size_t n;
	char *err;

	if (rt->ops->list(rt, &list, &n, &err) < 0) {
		free(err);
		return 99;
	}
	runtime_instances_free(list, n);
	return n;
}

static void
test_run_fresh(void)
{
	struct runtime *rt = runtime_fake_new();
	struct runtime_run_options o;
	struct runtime_fake_counts c;
	char *text, *input;
	size_t n;

	reset_files();
	o = options("fresh");
	runtime_fake_script(
	    rt, RUNTIME_FAKE_OK, 3, "step says hunter2-secret\n");
	is_int(runtime_run_job(rt, &o), 3, "fresh run: the job's status");
	runtime_fake_counts(rt, &c);
	is_int(c.creates, 1, "fresh run: one create");
	is_int(c.starts, 1, "fresh run: one start");
	is_int(c.destroys, 1, "fresh run: removed");
	runtime_fake_input(rt, &input, &n);
	is_str(input, "BUNDLE", "fresh run: the bundle went to stdin");
	free(input);
	text = console_text();
	ok(contains(text, "step says ***"), "fresh run: output masked");
	ok(!contains(text, "hunter2"), "fresh run: no secret on console");
	free(text);
	text = slurp("result.json");
	ok(contains(text, "\"exit_status\":3"), "fresh run: result collected");
	free(text);
	text = slurp("logs/main.log");
	ok(text != NULL, "fresh run: logs collected");
	free(text);
	text = slurp("src/not-collected");
	ok(text == NULL, "fresh run: the source is not copied back");
	free(text);
	is_int((long long)instances(rt), 0, "fresh run: nothing left");
	runtime_free(rt);
}

static void
test_run_keep_and_collect(void)
{
	struct runtime *rt = runtime_fake_new();
	struct runtime_run_options o;
	struct runtime_fake_counts c;

	reset_files();
	o = options("kept");
	o.keep = true;
	runtime_fake_script(rt, RUNTIME_FAKE_OK, 0, "hello\n");
	is_int(runtime_run_job(rt, &o), 0, "--keep: success");
	is_int((long long)instances(rt), 1, "--keep: the instance stays");
	/* The same run id again: it has exited, so only collect. */
	reset_files();
	o = options("kept");
	runtime_fake_script(rt, RUNTIME_FAKE_OK, 9, NULL);
	is_int(runtime_run_job(rt, &o), 0,
	    "same id after exit: the first run's status");
	runtime_fake_counts(rt, &c);
	is_int(c.creates, 1, "same id after exit: no second create");
	is_int(c.starts, 1, "same id after exit: no second start");
	is_int(c.collects, 2, "same id after exit: collected");
	is_int((long long)instances(rt), 0, "same id after exit: removed");
	runtime_free(rt);
}

static void
put(struct runtime *rt, const char *name, enum runtime_state state, int code)
{
	struct runtime_instance inst = RUNTIME_INSTANCE_INIT;

	inst.name = (char *)(uintptr_t)name;
	inst.run_id = (char *)(uintptr_t)(name + 7);
	inst.owner = (char *)(uintptr_t) "dead";
	inst.state = state;
	inst.exit_code = code;
	runtime_fake_put(rt, &inst);
}

static void
test_run_reconciles(void)
{
	struct runtime *rt = runtime_fake_new();
	struct runtime_run_options o;
	struct runtime_fake_counts c;
	char *text, *input;
	size_t n;

	reset_files();
	put(rt, "jobrun-created", RUNTIME_CREATED, -1);
	o = options("created");
	runtime_fake_script(rt, RUNTIME_FAKE_OK, 0, "started\n");
	is_int(runtime_run_job(rt, &o), 0, "created: run");
	runtime_fake_counts(rt, &c);
	is_int(c.creates, 0, "created: not created again");
	is_int(c.starts, 1, "created: started");
	runtime_fake_input(rt, &input, &n);
	is_str(input, "BUNDLE", "created: the bundle goes to the start");
	free(input);

	reset_files();
	put(rt, "jobrun-running", RUNTIME_RUNNING, -1);
	o = options("running");
	runtime_fake_script(rt, RUNTIME_FAKE_OK, 4, "the log so far\n");
	is_int(runtime_run_job(rt, &o), 4, "running: the job's status");
	runtime_fake_counts(rt, &c);
	is_int(c.creates, 0, "running: no second instance");
	is_int(c.starts, 1, "running: not started again");
	is_int(c.attaches, 1, "running: attached");
	text = console_text();
	ok(contains(text, "the log so far"), "running: its log streams");
	free(text);

	reset_files();
	put(rt, "jobrun-exited", RUNTIME_EXITED, 5);
	o = options("exited");
	is_int(runtime_run_job(rt, &o), 5, "exited: its status");
	runtime_fake_counts(rt, &c);
	is_int(c.starts, 1, "exited: not started");
	text = slurp("result.json");
	ok(contains(text, "\"exit_status\":5"), "exited: results collected");
	free(text);
	runtime_free(rt);
}

/* A host-side failure: 125, result.json says why, nothing left. */
static void
expect_failure(
    enum runtime_fake_failure failure, const char *what, const char *reason)
{
	struct runtime *rt = runtime_fake_new();
	struct runtime_run_options o;
	char *text, label[128];

	reset_files();
	o = options("failing");
	runtime_fake_script(rt, failure, 0, "out\n");
	snprintf(label, sizeof(label), "%s: 125", what);
	is_int(runtime_run_job(rt, &o), 125, label);
	text = slurp("result.json");
	snprintf(label, sizeof(label), "%s: result.json says error", what);
	ok(contains(text, "\"outcome\": \"error\""), label);
	snprintf(label, sizeof(label), "%s: result.json says why", what);
	ok(contains(text, reason), label);
	free(text);
	snprintf(label, sizeof(label), "%s: nothing left behind", what);
	is_int((long long)instances(rt), 0, label);
	runtime_free(rt);
}

static void
test_failures(void)
{
	expect_failure(RUNTIME_FAKE_PROBE_FAILS, "no daemon", "not answer");
	expect_failure(RUNTIME_FAKE_IMAGE_MISSING, "no image", "not here");
	expect_failure(RUNTIME_FAKE_NO_JOBRUN, "no jobrun", "no jobrun");
	expect_failure(RUNTIME_FAKE_CREATE_FAILS, "create fails", "create");
	expect_failure(
	    RUNTIME_FAKE_ALREADY_EXISTS, "name always taken", "changing");
	expect_failure(RUNTIME_FAKE_COLLECT_FAILS, "collect fails", "copy");
}

static void
test_signals(void)
{
	struct runtime *rt = runtime_fake_new();
	struct runtime_run_options o;
	struct runtime_fake_counts c;
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	fd = signalfd(-1, &set, SFD_CLOEXEC);
	reset_files();
	o = options("signalled");
	o.signals = fd;
	runtime_fake_script(rt, RUNTIME_FAKE_HANG, 0, "waiting\n");
	kill(getpid(), SIGTERM);
	is_int(runtime_run_job(rt, &o), 143, "SIGTERM on the host: 143");
	runtime_fake_counts(rt, &c);
	is_int(c.last_signal, SIGTERM, "SIGTERM went into the job");
	is_int((long long)instances(rt), 0, "signalled: removed");
	close(fd);
	runtime_free(rt);

	rt = runtime_fake_new();
	reset_files();
	o = options("hard-stop");
	o.hard_stop_ms = 1;
	runtime_fake_script(rt, RUNTIME_FAKE_HANG, 0, NULL);
	is_int(runtime_run_job(rt, &o), 124, "hard stop: 124");
	runtime_fake_counts(rt, &c);
	is_int(c.last_signal, SIGKILL, "hard stop: SIGKILL");
	{
		char *text = slurp("result.json");

		ok(contains(text, "timed_out"), "hard stop: written down");
		free(text);
	}
	runtime_free(rt);
}

static void
test_oom_destroy_detach(void)
{
	struct runtime *rt = runtime_fake_new();
	struct runtime_run_options o;
	struct runtime_fake_counts c;
	char *input, *text;
	size_t n;

	reset_files();
	o = options("oom");
	runtime_fake_script(rt, RUNTIME_FAKE_OOM, 0, NULL);
	is_int(runtime_run_job(rt, &o), 137, "OOM: 137");

	reset_files();
	o = options("undestroyable");
	runtime_fake_script(rt, RUNTIME_FAKE_DESTROY_FAILS, 2, NULL);
	is_int(
	    runtime_run_job(rt, &o), 2, "remove fails: still the job's status");
	runtime_free(rt);

	rt = runtime_fake_new();
	reset_files();
	o = options("detached");
	o.detach = true;
	runtime_fake_script(rt, RUNTIME_FAKE_HANG, 0, NULL);
	is_int(runtime_run_job(rt, &o), 0, "--detach: 0 at once");
	is_int((long long)instances(rt), 1, "--detach: it keeps running");
	runtime_fake_counts(rt, &c);
	is_int(c.signals, 0, "--detach: not signalled");
	runtime_fake_input(rt, &input, &n);
	is_str(input, "BUNDLE", "--detach: the bundle was handed over");
	free(input);
	text = slurp("result.json");
	ok(text == NULL, "--detach: no result yet");
	free(text);
	runtime_free(rt);
}

/* The runtime's OOM verdict against jobrun's own record: every
 * combination ends in one status, and result.json says the same. */
static void
test_oom_cross_check(void)
{
	static const char step_oom[] =
	    "{\"outcome\":\"failed\",\"exit_status\":1,\"steps\":"
	    "[{\"name\":\"build\",\"outcome\":\"failed\","
	    "\"oom_killed\":true}]}";
	static const char success[] =
	    "{\"outcome\":\"success\",\"exit_status\":0,\"steps\":"
	    "[{\"name\":\"build\",\"outcome\":\"success\","
	    "\"oom_killed\":false}]}";
	struct runtime *rt = runtime_fake_new();
	struct runtime_run_options o;
	char *text;

	reset_files();
	o = options("oom-none");
	runtime_fake_script(rt, RUNTIME_FAKE_OOM, 0, NULL);
	runtime_fake_record(rt, "");
	is_int(runtime_run_job(rt, &o), 1,
	    "OOM, no record (PID 1 killed): failed, 1");
	text = slurp("result.json");
	ok(contains(text, "\"outcome\": \"failed\"") &&
		contains(text, "\"exit_status\": 1") &&
		contains(text, "ran out of memory"),
	    "OOM, no record: result.json written, saying so");
	free(text);

	reset_files();
	o = options("oom-step");
	runtime_fake_record(rt, step_oom);
	is_int(runtime_run_job(rt, &o), 1,
	    "OOM, a step OOM-killed in the record: the record's 1, not 137");

	reset_files();
	o = options("oom-after");
	runtime_fake_record(rt, success);
	is_int(runtime_run_job(rt, &o), 0,
	    "OOM after a success was recorded: the record stands, 0");
	text = slurp("result.json");
	ok(contains(text, "\"outcome\":\"success\""),
	    "OOM after the record: result.json is the job's");
	free(text);

	reset_files();
	o = options("step-oom-only");
	runtime_fake_script(rt, RUNTIME_FAKE_OK, 1, NULL);
	runtime_fake_record(rt, step_oom);
	is_int(runtime_run_job(rt, &o), 1,
	    "a step OOM-killed, the container not: the job's 1");

	reset_files();
	o = options("no-oom-no-record");
	runtime_fake_script(rt, RUNTIME_FAKE_OK, 3, NULL);
	runtime_fake_record(rt, "");
	is_int(runtime_run_job(rt, &o), 125,
	    "no OOM and no record: still the host's failure, 125");
	runtime_free(rt);
}

static void
test_hostile_tar(void)
{
	struct runtime *rt = runtime_fake_new();
	struct runtime_run_options o;
	char *text, *outside;
	struct stat st;

	reset_files();
	o = options("hostile");
	runtime_fake_script(rt, RUNTIME_FAKE_HOSTILE_TAR, 0, NULL);
	is_int(runtime_run_job(rt, &o), 0, "hostile tar: the job's status");
	outside = xasprintf("%s/../escaped", workspace);
	ok(stat(outside, &st) < 0, "hostile tar: nothing climbs out");
	free(outside);
	ok(lstat("/etc/passwd", &st) == 0 && st.st_size > 1,
	    "hostile tar: no write through a link");
	text = slurp("result.json");
	ok(text != NULL, "hostile tar: the safe entries are there");
	free(text);
	runtime_free(rt);
}

/* A bound workspace the job may have planted things in. */
static void
test_extract_from_dir(void)
{
	char from[] = "/tmp/test-runtime-from.XXXXXX", cmd[1024], *text;
	struct stat st;
	int skipped;
	char *error = NULL;

	reset_files();
	if (mkdtemp(from) == NULL)
		return;
	snprintf(cmd, sizeof(cmd),
	    "cd %s && mkdir -p logs artifacts/d src && echo '{\"ok\":1}' "
	    ">result.json && echo log >logs/a.log && echo x >artifacts/d/f "
	    "&& ln -s /etc artifacts/etc && ln -s /etc/passwd triggers.json "
	    "&& ln -s d/f artifacts/rel && mkfifo artifacts/fifo && echo s "
	    ">src/s",
	    from);
	ok(system(cmd) == 0, "from a directory: set up");
	skipped = runtime_extract_results_dir(from, workspace, &error);
	is_int(skipped, 3, "from a directory: three unsafe entries skipped");
	text = slurp("result.json");
	ok(contains(text, "\"ok\":1"), "from a directory: result.json");
	free(text);
	text = slurp("artifacts/d/f");
	ok(text != NULL, "from a directory: artifacts, recursively");
	free(text);
	ok(lstat("/dev/null", &st) == 0, "(stat works)");
	snprintf(cmd, sizeof(cmd), "%s/triggers.json", workspace);
	ok(lstat(cmd, &st) < 0, "from a directory: a link out is skipped");
	snprintf(cmd, sizeof(cmd), "%s/artifacts/rel", workspace);
	ok(lstat(cmd, &st) == 0 && S_ISLNK(st.st_mode),
	    "from a directory: a link inside is kept");
	snprintf(cmd, sizeof(cmd), "%s/artifacts/fifo", workspace);
	ok(lstat(cmd, &st) < 0, "from a directory: a FIFO is skipped");
	snprintf(cmd, sizeof(cmd), "%s/src", workspace);
	ok(lstat(cmd, &st) < 0, "from a directory: the source stays");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", from);
	if (system(cmd) != 0)
		ok(0, "clean up");
	free(error);
}

/* Results read from a bound workspace: the instance's removal begins
 * before they are copied, and only then; kept, it stays. */
static void
test_bound_workspace(void)
{
	char bound[] = "/tmp/test-runtime-bound.XXXXXX", cmd[512], *text;
	struct runtime *rt;
	struct runtime_run_options o;
	struct runtime_fake_counts c;
	size_t i;

	for (i = 0; i < 2; i++) {
		bool keep = i == 1;

		reset_files();
		if (mkdtemp(bound) == NULL)
			return;
		snprintf(cmd, sizeof(cmd),
		    "cd %s && mkdir logs && echo '{\"exit_status\":0,"
		    "\"bound\":1}' >result.json && echo l >logs/b.log",
		    bound);
		ok(system(cmd) == 0, "bound: set up");
		rt = runtime_fake_new();
		o = options(keep ? "bound-kept" : "bound");
		o.bound_workspace = bound;
		o.keep = keep;
		runtime_fake_script(rt, RUNTIME_FAKE_OK, 0, "hi\n");
		is_int(runtime_run_job(rt, &o), 0, "bound: the job's status");
		runtime_fake_counts(rt, &c);
		text = slurp("result.json");
		ok(contains(text, "\"bound\":1"),
		    "bound: result.json from the bound workspace");
		free(text);
		is_int(
		    c.collects, 0, "bound: nothing copied out of the instance");
		if (keep) {
			ok(c.destroy_begins == 0 && c.destroys == 0,
			    "bound, --keep: no removal");
			is_int((long long)instances(rt), 1,
			    "bound, --keep: the instance stays");
		} else {
			ok(c.destroy_begins == 1 && c.destroys == 0,
			    "bound: the removal began before the copy, once");
			is_int(
			    (long long)instances(rt), 0, "bound: nothing left");
		}
		runtime_free(rt);
		snprintf(cmd, sizeof(cmd), "rm -rf %s", bound);
		(void)system(cmd);
		memcpy(bound + strlen(bound) - 6, "XXXXXX", 6);
	}
}

int
main(void)
{
	const char *build = getenv("JOBRUN_BUILDDIR");
	char *helper = xasprintf("%s/jobrun-source", build ? build : ".");

	/* Results are unpacked by jobrun-source, from the build tree. */
	source_exec_use(helper);
	if (mkdtemp(workspace) == NULL)
		return 1;
	snprintf(console_path, sizeof(console_path), "%s.console", workspace);
	mask = mask_set_new(NULL, 0);
	mask_set_add(mask, "hunter2-secret", 14, NULL);
	test_identity();
	test_owner_dead();
	test_reconcile_table();
	test_gc_rules();
	test_run_fresh();
	test_run_keep_and_collect();
	test_run_reconciles();
	test_failures();
	test_signals();
	test_oom_destroy_detach();
	test_oom_cross_check();
	test_hostile_tar();
	test_extract_from_dir();
	test_bound_workspace();
	reset_files();
	close(console);
	unlink(console_path);
	rmdir(workspace);
	mask_set_free(mask);
	free(helper);
	return done_testing();
}
