/*
 * The in-memory runtime backend, for unit tests of everything above the
 * seam.  Instances live in an array; a started job ends at once with the
 * scripted exit status and output (or hangs until it is signalled), and
 * "collect" hands back a tar stream holding a result.json that says so.
 * Failures are scripted with runtime_fake_script(): a daemon that does not
 * answer, an image that is missing or has no jobrun, a name already taken,
 * a job that hangs or is OOM-killed, a hostile tar stream; and the
 * result.json that collect finds (runtime_fake_record()).
 */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "file.h"
#include "runtime.h"
#include "xalloc.h"

struct fake_instance {
	struct runtime_instance info;
	int output_writer; /* a hanging job's open output, else -1 */
};

struct fake {
	struct fake_instance *items;
	size_t count, cap;
	enum runtime_fake_failure failure;
	int exit_code;
	char *output;
	char *record; /* collect's result.json; NULL: made up; "": none */
	int input_reader; /* the last attach's standard input */
	char *input;
	size_t input_length;
	struct runtime_fake_counts counts;
};

static struct fake *
fake_of(struct runtime *rt)
{
	return rt->backend;
}

static struct fake_instance *
fake_find(struct fake *fake, const char *name)
{
	size_t i;

	for (i = 0; i < fake->count; i++)
		if (strcmp(fake->items[i].info.name, name) == 0)
			return &fake->items[i];
	return NULL;
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static void
copy_instance(struct runtime_instance *out, const struct runtime_instance *in)
{
	*out = *in;
	out->name = dup_or_null(in->name);
	out->run_id = dup_or_null(in->run_id);
	out->job = dup_or_null(in->job);
	out->version = dup_or_null(in->version);
	out->owner = dup_or_null(in->owner);
}

static int
fail(char **error, int err, const char *what)
{
	*error = xstrdup(what);
	errno = err;
	return -1;
}

static int
fake_probe(struct runtime *rt, char **error)
{
	if (fake_of(rt)->failure == RUNTIME_FAKE_PROBE_FAILS)
		return fail(
		    error, ECONNREFUSED, "the fake daemon does not answer");
	return 0;
}

static int
fake_pull(struct runtime *rt, const char *image, enum runtime_pull policy,
    char **error)
{
	enum runtime_fake_failure f = fake_of(rt)->failure;

	(void)image;
	if (f == RUNTIME_FAKE_IMAGE_MISSING) {
		*error = xasprintf("image '%s' is not here%s", image,
		    policy == RUNTIME_PULL_NEVER ? " and --pull is never" : "");
		errno = ENOENT;
		return -1;
	}
	if (f == RUNTIME_FAKE_NO_JOBRUN)
		return fail(error, ENOEXEC, "the image holds no jobrun");
	return 0;
}

static int
fake_create(struct runtime *rt, const struct runtime_spec *spec, char **error)
{
	struct fake *fake = fake_of(rt);
	struct fake_instance *inst;

	if (fake->failure == RUNTIME_FAKE_CREATE_FAILS ||
	    fake->failure == RUNTIME_FAKE_PROBE_FAILS)
		return fail(error, EIO, "the fake cannot create");
	if (fake->failure == RUNTIME_FAKE_IMAGE_MISSING)
		return fail(error, ENOENT, "image not known");
	if (fake_find(fake, spec->name) != NULL ||
	    fake->failure == RUNTIME_FAKE_ALREADY_EXISTS)
		return fail(error, EEXIST, "the name is already in use");
	xgrow(&fake->items, &fake->cap, fake->count + 1, sizeof(*inst));
	inst = &fake->items[fake->count++];
	inst->info = (struct runtime_instance)RUNTIME_INSTANCE_INIT;
	inst->info.name = xstrdup(spec->name);
	inst->info.run_id = xstrdup(spec->run_id);
	inst->info.job = dup_or_null(spec->job);
	inst->info.version = xstrdup(PACKAGE_VERSION);
	inst->info.owner = dup_or_null(spec->owner);
	inst->info.detached = spec->detached;
	inst->info.state = RUNTIME_CREATED;
	inst->info.created_at = (int64_t)time(NULL);
	inst->output_writer = -1;
	fake->counts.creates++;
	return 0;
}

static int
fake_find_op(struct runtime *rt, const char *name, struct runtime_instance *out,
    char **error)
{
	struct fake_instance *inst = fake_find(fake_of(rt), name);

	if (fake_of(rt)->failure == RUNTIME_FAKE_PROBE_FAILS)
		return fail(error, ECONNREFUSED, "cannot connect");
	if (inst == NULL)
		*out = (struct runtime_instance)RUNTIME_INSTANCE_INIT;
	else
		copy_instance(out, &inst->info);
	return 0;
}

static void
fake_exit(struct fake_instance *inst, int code, bool oom)
{
	inst->info.state = RUNTIME_EXITED;
	inst->info.exit_code = code;
	inst->info.oom_killed = oom;
	inst->info.finished_at = (int64_t)time(NULL);
	if (inst->output_writer >= 0)
		close(inst->output_writer);
	inst->output_writer = -1;
}

/* Runs the scripted job: writes its output; ends it unless it hangs. */
static void
fake_run_job(struct fake *fake, struct fake_instance *inst, int writer)
{
	if (fake->output != NULL && inst->info.state == RUNTIME_CREATED)
		(void)file_write_all(
		    writer, fake->output, strlen(fake->output));
	inst->info.state = RUNTIME_RUNNING;
	inst->output_writer = writer;
	if (fake->failure == RUNTIME_FAKE_HANG)
		return;
	if (fake->failure == RUNTIME_FAKE_OOM)
		fake_exit(inst, 128 + SIGKILL, true);
	else if (fake->failure == RUNTIME_FAKE_NO_JOBRUN)
		fake_exit(inst, 127, false);
	else
		fake_exit(inst, fake->exit_code, false);
}

static int
fake_attach(struct runtime *rt, const char *name, bool start,
    struct runtime_attach *out, char **error)
{
	struct fake *fake = fake_of(rt);
	struct fake_instance *inst = fake_find(fake, name);
	int in[2], output[2];

	if (inst == NULL)
		return fail(error, ENOENT, "no such instance");
	if (start != (inst->info.state == RUNTIME_CREATED))
		return fail(error, EINVAL,
		    start ? "not in the created state" : "not running");
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(output, O_CLOEXEC) < 0)
		return fail(error, errno, "cannot make a pipe");
	if (fake->input_reader >= 0)
		close(fake->input_reader);
	fake->input_reader = in[0];
	fcntl(in[0], F_SETFL, O_NONBLOCK);
	free(fake->input);
	fake->input = NULL;
	fake->input_length = 0;
	*out = (struct runtime_attach)RUNTIME_ATTACH_INIT;
	out->input = in[1];
	out->output = output[0];
	if (start) {
		fake->counts.starts++;
		fake_run_job(fake, inst, output[1]);
	} else {
		/* A second client sees the scripted output, then the end
		 * (or nothing more, for a job scripted to hang). */
		fake->counts.attaches++;
		if (inst->output_writer >= 0)
			close(inst->output_writer);
		inst->output_writer = -1;
		if (fake->output != NULL)
			(void)file_write_all(
			    output[1], fake->output, strlen(fake->output));
		inst->output_writer = output[1];
		if (fake->failure != RUNTIME_FAKE_HANG)
			fake_exit(inst, fake->exit_code, false);
	}
	return 0;
}

static int
fake_logs(struct runtime *rt, const char *name, bool follow,
    struct runtime_attach *out, char **error)
{
	(void)follow;
	return fake_attach(rt, name, false, out, error);
}

static int
fake_signal(struct runtime *rt, const char *name, int signo, char **error)
{
	struct fake *fake = fake_of(rt);
	struct fake_instance *inst = fake_find(fake, name);

	if (inst == NULL)
		return fail(error, ENOENT, "no such instance");
	fake->counts.signals++;
	fake->counts.last_signal = signo;
	/* jobrun inside ends a hanging job on SIGTERM with 143. */
	if (inst->info.state == RUNTIME_RUNNING)
		fake_exit(inst, 128 + signo, false);
	return 0;
}

static int
fake_wait(struct runtime *rt, const char *name, int *out_status, char **error)
{
	struct fake_instance *inst = fake_find(fake_of(rt), name);

	if (inst == NULL)
		return fail(error, ENOENT, "no such instance");
	if (inst->info.state != RUNTIME_EXITED)
		return fail(error, EDEADLK, "the fake job would never end");
	*out_status = inst->info.exit_code;
	return 0;
}

static void
tar_add(struct archive *a, const char *path, const char *data, int type)
{
	struct archive_entry *e = archive_entry_new();
	size_t n = data != NULL ? strlen(data) : 0;

	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, (unsigned)type);
	archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
	if (type == AE_IFLNK)
		archive_entry_set_symlink(e, data);
	else if (type == AE_IFREG)
		archive_entry_set_size(e, (la_int64_t)n);
	archive_write_header(a, e);
	if (type == AE_IFREG && n > 0)
		archive_write_data(a, data, n);
	archive_entry_free(e);
}

static int
fake_collect(struct runtime *rt, const char *name, const char *path, int fd,
    char **error)
{
	struct fake *fake = fake_of(rt);
	struct fake_instance *inst = fake_find(fake, name);
	struct archive *a;
	char *result;

	(void)path;
	if (inst == NULL)
		return fail(error, ENOENT, "no such instance");
	if (fake->failure == RUNTIME_FAKE_COLLECT_FAILS ||
	    fake->failure == RUNTIME_FAKE_NO_JOBRUN)
		return fail(error, EIO, "the fake cannot copy files out");
	fake->counts.collects++;
	result = fake->record != NULL
	    ? xstrdup(fake->record)
	    : xasprintf("{\"outcome\":\"%s\",\"exit_status\":%d}\n",
		  inst->info.exit_code == 0 ? "success" : "failed",
		  inst->info.exit_code);
	a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	archive_write_open_fd(a, fd);
	tar_add(a, "./", NULL, AE_IFDIR);
	if (result[0] != '\0')
		tar_add(a, "./result.json", result, AE_IFREG);
	tar_add(a, "./logs/", NULL, AE_IFDIR);
	tar_add(
	    a, "./logs/main.log", fake->output ? fake->output : "", AE_IFREG);
	tar_add(a, "./src/", NULL, AE_IFDIR);
	tar_add(a, "./src/not-collected", "source", AE_IFREG);
	if (fake->failure == RUNTIME_FAKE_HOSTILE_TAR) {
		tar_add(a, "../escaped", "out", AE_IFREG);
		tar_add(a, "./artifacts/", NULL, AE_IFDIR);
		tar_add(a, "./artifacts/link", "/etc", AE_IFLNK);
		tar_add(a, "./artifacts/link/passwd", "x", AE_IFREG);
	}
	archive_write_close(a);
	archive_write_free(a);
	free(result);
	return 0;
}

static int
fake_destroy(struct runtime *rt, const char *name, char **error)
{
	struct fake *fake = fake_of(rt);
	struct fake_instance *inst = fake_find(fake, name);

	if (fake->failure == RUNTIME_FAKE_DESTROY_FAILS)
		return fail(error, EIO, "the fake cannot remove");
	if (inst == NULL)
		return 0;
	fake->counts.destroys++;
	if (inst->output_writer >= 0)
		close(inst->output_writer);
	runtime_instance_release(&inst->info);
	*inst = fake->items[--fake->count];
	return 0;
}

/* The fake's removal is instant: begun is done. */
static int
fake_destroy_begin(struct runtime *rt, const char *name)
{
	struct fake *fake = fake_of(rt);
	char *error = NULL;
	unsigned destroys = fake->counts.destroys;

	if (fake_destroy(rt, name, &error) < 0) {
		free(error);
		return -1;
	}
	fake->counts.destroys = destroys;
	fake->counts.destroy_begins++;
	return 0;
}

static int
fake_list(struct runtime *rt, struct runtime_instance **out, size_t *out_count,
    char **error)
{
	struct fake *fake = fake_of(rt);
	size_t i;

	(void)error;
	*out = xcalloc(fake->count + 1, sizeof(**out));
	for (i = 0; i < fake->count; i++)
		copy_instance(&(*out)[i], &fake->items[i].info);
	*out_count = fake->count;
	return 0;
}

static int
fake_detach(struct runtime *rt, struct runtime_attach *attach)
{
	(void)rt;
	runtime_attach_close(attach);
	return -1;
}

static void
fake_free(struct runtime *rt)
{
	struct fake *fake = fake_of(rt);

	while (fake->count > 0) {
		struct fake_instance *inst = &fake->items[--fake->count];

		if (inst->output_writer >= 0)
			close(inst->output_writer);
		runtime_instance_release(&inst->info);
	}
	if (fake->input_reader >= 0)
		close(fake->input_reader);
	free(fake->items);
	free(fake->output);
	free(fake->record);
	free(fake->input);
	free(fake);
	free(rt);
}

static const struct runtime_ops fake_ops = {
	.name = "fake",
	.probe = fake_probe,
	.pull = fake_pull,
	.create = fake_create,
	.find = fake_find_op,
	.attach = fake_attach,
	.logs = fake_logs,
	.signal = fake_signal,
	.wait = fake_wait,
	.collect = fake_collect,
	.destroy = fake_destroy,
	.destroy_begin = fake_destroy_begin,
	.list = fake_list,
	.detach = fake_detach,
	.free = fake_free,
};

struct runtime *
runtime_fake_new(void)
{
	struct runtime *rt = xcalloc(1, sizeof(*rt));
	struct fake *fake = xcalloc(1, sizeof(*fake));

	fake->input_reader = -1;
	rt->ops = &fake_ops;
	rt->kind = "fake";
	rt->backend = fake;
	rt->interrupt_fd = -1;
	return rt;
}

void
runtime_fake_script(struct runtime *rt, enum runtime_fake_failure failure,
    int exit_code, const char *output)
{
	struct fake *fake = fake_of(rt);

	fake->failure = failure;
	fake->exit_code = exit_code;
	free(fake->output);
	fake->output = dup_or_null(output);
}

void
runtime_fake_record(struct runtime *rt, const char *result)
{
	struct fake *fake = fake_of(rt);

	free(fake->record);
	fake->record = dup_or_null(result);
}

void
runtime_fake_put(struct runtime *rt, const struct runtime_instance *inst)
{
	struct fake *fake = fake_of(rt);
	struct fake_instance *item;

	xgrow(&fake->items, &fake->cap, fake->count + 1, sizeof(*item));
	item = &fake->items[fake->count++];
	copy_instance(&item->info, inst);
	item->output_writer = -1;
	/* A running job someone else started: its output is a pipe that
	 * stays open until it is signalled. */
	if (inst->state == RUNTIME_RUNNING) {
		int p[2];

		if (pipe2(p, O_CLOEXEC) == 0) {
			close(p[0]);
			item->output_writer = p[1];
		}
	}
}

void
runtime_fake_counts(const struct runtime *rt, struct runtime_fake_counts *out)
{
	*out = ((const struct fake *)rt->backend)->counts;
}

void
runtime_fake_input(const struct runtime *rt, char **out, size_t *out_length)
{
	struct fake *fake = rt->backend;
	char buf[4096];
	ssize_t n;

	while (fake->input_reader >= 0 &&
	    (n = read(fake->input_reader, buf, sizeof(buf))) > 0) {
		fake->input = xreallocarray(
		    fake->input, fake->input_length + (size_t)n + 1, 1);
		memcpy(fake->input + fake->input_length, buf, (size_t)n);
		fake->input_length += (size_t)n;
	}
	*out = xmalloc(fake->input_length + 1);
	if (fake->input_length > 0)
		memcpy(*out, fake->input, fake->input_length);
	(*out)[fake->input_length] = '\0';
	*out_length = fake->input_length;
}
