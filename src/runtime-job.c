/*
 * From the command line to a run in a container (runtime-job.h).  This
 * file decides what crosses into the container and how:
 *   - the job file's directory, and the code directory of a local run,
 *     are bound read-only under /mnt/jobrun and prepared inside as copy
 *     sources (a job whose source: is git or a tarball fetches it inside),
 *     and so is the directory of a source of type copy;
 *   - jobrun's own settings from this host's JOBRUN_* and REACTORCIDE_*
 *     variables, the values of the job's secret variables and the contents
 *     of its secret files travel in the bundle (bundle.h), never in the
 *     container's Env, argv or labels; a file the job file names by a
 *     relative path is taken from this jobrun's working directory, as in
 *     a local run, and the job inside works in the same directory;
 *   - flags of "run" are passed on as flags, but for the ones naming
 *     host paths (workspace, directories) and the ones that may hold a
 *     secret (secret values, inline job variables, source URLs, whose
 *     user info may hold a token), which go in the bundle as variables;
 *   - the output is masked again here with the job's secrets as this host
 *     knows them (secrets_collect()).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bundle.h"
#include "diag.h"
#include "duration.h"
#include "envfile.h"
#include "file.h"
#include "jobfile.h"
#include "manifest.h"
#include "mask.h"
#include "runtime-job.h"
#include "runtime-kube.h"
#include "runtime-run.h"
#include "secrets.h"
#include "treepath.h"
#include "xalloc.h"

extern char **environ;

/* Where host directories appear inside. */
#define MOUNT_JOB "/mnt/jobrun/job"
#define MOUNT_CI "/mnt/jobrun/ci"
#define MOUNT_SRC "/mnt/jobrun/src"

/* Beyond the job's timeout and grace period, the host waits this long
 * before it stops the container itself. */
#define HARD_STOP_MARGIN_MS (60 * 1000)

/* What a pod gets beyond the grace period before the kubelet's SIGKILL:
 * time for the job's clean-up steps. */
#define RUNTIME_KUBE_CLEANUP_MS (30 * 1000)

/* Everything one containerised run holds; released by job_release(). */
struct job_run {
	struct job *job;
	struct config config;
	struct nvlist job_env;
	struct mask_set *mask;
	struct bundle bundle;
	struct runtime_mount mounts[4];
	size_t n_mounts;
	char *job_dir, *ci_dir, *code_dir; /* real paths bound */
	/* The URLs of copy sources inside (where they are bound), or NULL. */
	const char *source_url, *ci_source_url;
	char *job_path; /* the job file inside */
	char *run_dir; /* the workspace bound at /job, or NULL */
	struct engine_strings {
		char **v;
		size_t n, cap;
	} argv, env, pod_flags;
};

const char *
runtime_job_kind(const struct cli *cli)
{
	const char *env = getenv("JOBRUN_RUNTIME");

	if (cli->rt.runtime != NULL)
		return cli->rt.runtime;
	return env != NULL && env[0] != '\0' ? env : "local";
}

/* The option of a container run given, if any (for a message). */
static const char *
container_option(const struct cli_runtime *rt)
{
	return rt->image ? "--image"
	    : rt->run_id ? "--run-id"
	    : rt->pull   ? "--pull"
	    : rt->cpus   ? "--cpus"
	    : rt->memory ? "--memory"
	    : rt->pids   ? "--pids"
	    : rt->detach ? "--detach"
	    : rt->keep   ? "--keep"
			 : NULL;
}

bool
runtime_job_wanted(const struct cli *cli)
{
	return strcmp(runtime_job_kind(cli), "local") != 0 ||
	    container_option(&cli->rt) != NULL;
}

static void
strings_add(struct engine_strings *s, char *owned)
{
	xgrow(&s->v, &s->cap, s->n + 2, sizeof(*s->v));
	s->v[s->n++] = owned;
	s->v[s->n] = NULL;
}

static void
strings_release(struct engine_strings *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
}

/* ---- parsing the runtime options ---- */

static int
parse_pull(const char *text, enum runtime_pull *out)
{
	if (text == NULL || strcmp(text, "missing") == 0)
		*out = RUNTIME_PULL_MISSING;
	else if (strcmp(text, "always") == 0)
		*out = RUNTIME_PULL_ALWAYS;
	else if (strcmp(text, "never") == 0)
		*out = RUNTIME_PULL_NEVER;
	else {
		diag_error("--pull: expected always, missing or never, not "
			   "'%s'",
		    text);
		return -1;
	}
	return 0;
}

/* "512m", "2g", "1048576": bytes. */
static int
parse_size(const char *text, uint64_t *out)
{
	char *end;
	unsigned long long n;
	uint64_t unit = 1;

	errno = 0;
	n = strtoull(text, &end, 10);
	if (end != text) {
		switch (*end) {
		case 'k':
		case 'K':
			unit = 1ULL << 10;
			end++;
			break;
		case 'm':
		case 'M':
			unit = 1ULL << 20;
			end++;
			break;
		case 'g':
		case 'G':
			unit = 1ULL << 30;
			end++;
			break;
		default:
			break;
		}
		if (*end == 'b' || *end == 'B')
			end++;
	}
	if (end == text || *end != '\0' || errno != 0 || n == 0 ||
	    n > UINT64_MAX / unit) {
		diag_error("--memory: expected a size such as 512m or 2g, not "
			   "'%s'",
		    text);
		return -1;
	}
	*out = n * unit;
	return 0;
}

static int
parse_limits(const struct cli_runtime *rt, struct runtime_spec *spec)
{
	const char *why;
	long long pids;
	char *end;

	if (rt->cpus != NULL) {
		spec->cpus = strtod(rt->cpus, &end);
		if (end == rt->cpus || *end != '\0' || !(spec->cpus > 0) ||
		    spec->cpus > 1024) {
			diag_error("--cpus: expected a number of processors "
				   "such as 1.5, not '%s'",
			    rt->cpus);
			return -1;
		}
	}
	if (rt->memory != NULL && parse_size(rt->memory, &spec->memory) < 0)
		return -1;
	if (rt->pids != NULL) {
		if (number_parse(&pids, rt->pids, 1, 1 << 22, &why) < 0) {
			diag_error("--pids: %s: '%s'", why, rt->pids);
			return -1;
		}
		spec->pids = (long)pids;
	}
	return 0;
}

/* ---- the job and its secrets, as this host sees them ---- */

static int
load(struct job_run *r, const struct cli *cli)
{
	struct config_flag flags[CLI_MAX_FLAGS + 1];
	const char *spec;
	size_t i, n = cli->n_flags;
	char *error = NULL;

	if (cli->job_file != NULL && strcmp(cli->job_file, "-") == 0) {
		diag_error("a job in a container cannot be read from standard "
			   "input: give its file");
		return -1;
	}
	if (cli->shell_on_failure || cli->clean) {
		diag_error("%s is for a run on this machine: a run in a "
			   "container %s",
		    cli->shell_on_failure ? "--shell-on-failure" : "--clean",
		    cli->shell_on_failure
			? "has no terminal of yours to open a shell on"
			: "starts from a workspace of its own");
		return -1;
	}
	if (cli->job_file != NULL &&
	    (r->job = jobfile_load(cli->job_file, &error)) == NULL)
		goto fail;
	memcpy(flags, cli->flags, n * sizeof(flags[0]));
	if (cli->job_file != NULL)
		flags[n++] = (struct config_flag){ .key = CONFIG_JOB_FILE,
			.value = cli->job_file,
			.flag = "argument" };
	if (config_build(&r->config, r->job, flags, n, &error) < 0)
		goto fail;
	if (r->config.values[CONFIG_TRIGGERS_FILE].source == CONFIG_FROM_FLAG ||
	    r->config.values[CONFIG_TRIGGERS_FILE].source == CONFIG_FROM_ENV) {
		diag_error("%s names a file of this host, which a run in a "
			   "container cannot write: its triggers.json is in "
			   "its workspace",
		    r->config.values[CONFIG_TRIGGERS_FILE].source ==
			    CONFIG_FROM_FLAG
			? "--triggers-file"
			: "the triggers file's variable");
		return -1;
	}
	if (r->job == NULL &&
	    config_get(&r->config, CONFIG_JOB_COMMAND) == NULL) {
		diag_error("no job to run: give a job file, or a job command "
			   "with --job-command");
		return -1;
	}
	for (i = 0; r->job != NULL && i < r->job->env.len; i++)
		nvlist_set(&r->job_env, r->job->env.items[i].name,
		    r->job->env.items[i].value, r->job->env.items[i].pos);
	spec = config_get(&r->config, CONFIG_JOB_ENV);
	if (spec != NULL &&
	    envfile_load(&r->job_env, spec,
		r->config.values[CONFIG_JOB_ENV].origin, &error) < 0)
		goto fail;
	r->mask = mask_set_new(
	    NULL, (size_t)config_number(&r->config, CONFIG_SECRET_MIN_LENGTH));
	if (secrets_collect(r->mask, r->job, &r->config, &r->job_env, &error) <
	    0)
		goto fail;
	return 0;
fail:
	diag_error("%s", error);
	free(error);
	return -1;
}

/* Settings of this host that must not cross: they name host paths, or
 * choose the runtime (the job inside runs locally). */
static bool
stays_on_host(const char *name)
{
	static const char *const names[] = { "JOBRUN_RUNTIME", "JOBRUN_IMAGE",
		"JOBRUN_WORKSPACE", "JOBRUN_LOCAL", "JOBRUN_CODE_DIR",
		"JOBRUN_JOB_DIR", "JOBRUN_CI_SOURCE_DIR", "JOBRUN_JOB_FILE",
		"JOBRUN_BUNDLE", "JOBRUN_SOCKET", "REACTORCIDE_CODE_DIR",
		"REACTORCIDE_JOB_DIR", "REACTORCIDE_CI_SOURCE_DIR" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
}

/* Whether name is the variable of one of jobrun's settings. */
static bool
is_setting(const char *name)
{
	int k;

	for (k = 0; k < CONFIG_KEY_COUNT; k++) {
		const char *env = config_key_env((enum config_key)k);

		if (env != NULL && strcmp(env, name) == 0)
			return true;
	}
	return false;
}

static void
bundle_host_variable(struct bundle *b, const char *name)
{
	const char *value = getenv(name);

	if (value != NULL)
		bundle_add_env(b, name, value);
}

/*
 * Where the job inside finds a file this host reads by a relative path:
 * the path below jobrun's working directory, which the job inside then
 * works in too (the bundle's cwd), as a local run reads it from there.
 * Inside, each '..' goes up from a plain directory: a path whose '..'
 * follows a symbolic link here names another file there, and is refused.
 * Returns the path (caller frees), or NULL after a message.
 */
static char *
relative_inside(const char *path, char **out_cwd)
{
	char *cwd = getcwd(NULL, 0), *inside, *normal;
	struct stat here, there;

	if (cwd == NULL) {
		diag_error("cannot find the current directory for '%s': %s",
		    path, strerror(errno));
		return NULL;
	}
	inside = xasprintf("%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, path);
	normal = treepath_normalize(inside);
	if (treepath_has_dotdot(path) && stat(path, &here) == 0 &&
	    (stat(normal, &there) < 0 || here.st_dev != there.st_dev ||
		here.st_ino != there.st_ino)) {
		diag_error("'%s' goes up ('..') from a symbolic link: a run in "
			   "a container cannot find it by the same path",
		    path);
		free(inside);
		inside = NULL;
	}
	free(normal);
	if (inside != NULL)
		*out_cwd = cwd;
	else
		free(cwd);
	return inside;
}

/*
 * A file of this host that the job reads travels in the bundle: at its
 * path when absolute, else at relative_inside()'s.  One that cannot
 * travel (its content is no UTF-8 text, or holds a NUL) or, when needed
 * (a secrets file), cannot be read, leaves the bundle incomplete with a
 * message naming it.  A credential file that does not exist is the
 * source's error to report inside, where the job may not need it.
 */
static void
bundle_host_file(struct bundle *b, const char *path, bool needed)
{
	char *text = NULL, *error = NULL, *inside = NULL, *cwd = NULL;
	json_t *probe;
	size_t n;

	if (path == NULL)
		return;
	if (path[0] != '/' && (inside = relative_inside(path, &cwd)) == NULL) {
		b->incomplete = true;
		return;
	}
	if (file_read_all(AT_FDCWD, path, BUNDLE_MAX / 2, &text, &n, &error) <
	    0) {
		if (needed || errno != ENOENT) {
			diag_error("%s", error);
			b->incomplete = true;
		}
		free(error);
		free(inside);
		free(cwd);
		return;
	}
	/* The bundle is JSON text: a file that is not UTF-8 text would be
	 * left out of it without a word, and its secrets not masked. */
	probe = json_stringn(text, n);
	if (probe == NULL || memchr(text, '\0', n) != NULL) {
		diag_error(
		    "'%s' is not UTF-8 text (or holds a NUL byte): a run "
		    "in a container cannot be given it",
		    path);
		b->incomplete = true;
	} else {
		bundle_add_file(b, inside != NULL ? inside : path, text);
		if (cwd != NULL)
			bundle_set_cwd(b, cwd);
	}
	json_decref(probe);
	wipe(text, n);
	free(text);
	free(inside);
	free(cwd);
}

/*
 * A setting that names a file of this host (a secrets file, a file of
 * secret values), however it was given, travels as the file at its
 * absolute path, which the setting then names inside: a relative path
 * would be looked up in the container's own directory, and a values list
 * read as the literal values.
 */
static void
bundle_setting_file(
    struct bundle *b, const struct config *config, enum config_key key)
{
	const char *value = config_get(config, key);
	struct stat st;
	char *path;

	if (value == NULL || stat(value, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (path = realpath(value, NULL)) == NULL)
		return; /* values, or secrets_collect() said so already */
	bundle_add_env(b, config_key_env(key), path);
	bundle_host_file(b, path, true);
	free(path);
}

/*
 * A job env given as a file (no '=': not KEY=VALUE lines inline) travels
 * as a file, at its absolute path, which the job env names inside: a path
 * of this host means nothing there.
 */
static void
bundle_job_env_file(struct bundle *b, const char *spec)
{
	char *path;

	if (spec == NULL || strchr(spec, '=') != NULL ||
	    (path = realpath(spec, NULL)) == NULL)
		return; /* envfile_load() said so already */
	bundle_add_env(b, "JOBRUN_JOB_ENV", path);
	bundle_host_file(b, path, true);
	free(path);
}

/* Every name of a comma-separated list. */
static void
bundle_named_variables(struct bundle *b, const char *list)
{
	char *copy, *save, *name;

	if (list == NULL)
		return;
	copy = xstrdup(list);
	for (name = strtok_r(copy, ", ", &save); name != NULL;
	     name = strtok_r(NULL, ", ", &save))
		bundle_host_variable(b, name);
	free(copy);
}

static void
bundle_globbed_variables(struct bundle *b, const struct strlist *globs)
{
	char **e;
	size_t i;

	for (e = environ; *e != NULL; e++) {
		size_t n = strcspn(*e, "=");
		char *name = xstrndup(*e, n);

		for (i = 0; i < globs->len; i++)
			if (fnmatch(globs->items[i], name, 0) == 0)
				bundle_host_variable(b, name);
		free(name);
	}
}

/*
 * Flags of "run" whose value may hold a secret: a list of secret values,
 * inline job variables, a URL with a password or token in its user info,
 * a job command (a token written into it).
 * They go in the bundle as their variables, never in an argument.
 */
static const enum config_key flags_in_bundle[] = { CONFIG_SECRET_VALUES_LIST,
	CONFIG_JOB_ENV, CONFIG_SOURCE_URL, CONFIG_CI_SOURCE_URL,
	CONFIG_JOB_COMMAND };

/* What the job inside needs from this host's environment and files. */
static void
make_bundle(struct job_run *r, bool lifeline)
{
	struct bundle *b = &r->bundle;
	const char *values;
	char **e;
	size_t i;

	b->lifeline = lifeline;
	for (e = environ; *e != NULL; e++) {
		size_t n = strcspn(*e, "=");
		char *name = xstrndup(*e, n);

		if ((is_setting(name) ||
			strncmp(name, "REACTORCIDE_", 12) == 0) &&
		    !stays_on_host(name))
			bundle_host_variable(b, name);
		free(name);
	}
	/* A flag that may hold a secret is passed as its variable: a
	 * later one of a name wins, so it beats this host's, as a flag
	 * would. */
	for (i = 0; i < sizeof(flags_in_bundle) / sizeof(*flags_in_bundle); i++)
		if (r->config.values[flags_in_bundle[i]].source ==
		    CONFIG_FROM_FLAG)
			bundle_add_env(b, config_key_env(flags_in_bundle[i]),
			    config_get(&r->config, flags_in_bundle[i]));
	/* A copy source's path of this host means nothing inside. */
	if (r->source_url != NULL)
		bundle_add_env(b, "JOBRUN_SOURCE_URL", r->source_url);
	if (r->ci_source_url != NULL)
		bundle_add_env(b, "JOBRUN_CI_SOURCE_URL", r->ci_source_url);
	bundle_job_env_file(b, config_get(&r->config, CONFIG_JOB_ENV));
	bundle_named_variables(
	    b, config_get(&r->config, CONFIG_SECRET_ENV_NAMES));
	bundle_setting_file(b, &r->config, CONFIG_SECRETS_FILE);
	/* A list with a comma is values, as secrets_collect() reads it,
	 * even when a file has that name. */
	values = config_get(&r->config, CONFIG_SECRET_VALUES_LIST);
	if (values == NULL || strchr(values, ',') == NULL)
		bundle_setting_file(b, &r->config, CONFIG_SECRET_VALUES_LIST);
	if (r->job == NULL)
		return;
	for (i = 0; i < r->job->secrets.env.len; i++)
		bundle_host_variable(b, r->job->secrets.env.items[i]);
	bundle_globbed_variables(b, &r->job->secrets.env_globs);
	for (i = 0; i < r->job->secrets.files.len; i++)
		bundle_host_file(b, r->job->secrets.files.items[i], true);
	if (r->job->source.token_env != NULL)
		bundle_host_variable(b, r->job->source.token_env);
	if (r->job->ci_source.token_env != NULL)
		bundle_host_variable(b, r->job->ci_source.token_env);
	bundle_host_file(b, r->job->source.token_file, false);
	bundle_host_file(b, r->job->ci_source.token_file, false);
	bundle_host_file(b, r->job->source.ssh_key_file, false);
	bundle_host_file(b, r->job->ci_source.ssh_key_file, false);
}

/* ---- what the container is made of ---- */

static bool
prepared_inside(const struct config *config, enum config_key type)
{
	const char *t = config_get(config, type);

	return t != NULL && strcmp(t, "none") != 0;
}

/* A source of type copy: a directory of this host. */
static bool
is_copy(const struct config *config, enum config_key type)
{
	const char *t = config_get(config, type);

	return t != NULL && strcmp(t, "copy") == 0;
}

/*
 * Binds the directory dir of this host read-only at target.  What cannot
 * be bound is refused with a message: a path that does not exist, one
 * that is no directory, and one holding ':' (the engines' --volume
 * separator).
 */
static int
bind(struct job_run *r, const char *dir, const char *target, char **out_real)
{
	char *real = realpath(dir, NULL);
	struct stat st;

	if (real == NULL) {
		diag_error(
		    "cannot find directory '%s': %s", dir, strerror(errno));
		return -1;
	}
	if (stat(real, &st) < 0 || !S_ISDIR(st.st_mode)) {
		diag_error("'%s' is not a directory: a run in a container "
			   "binds directories",
		    dir);
		free(real);
		return -1;
	}
	if (strchr(real, ':') != NULL) {
		diag_error("'%s' cannot be bound into a container: its path "
			   "'%s' holds ':'",
		    dir, real);
		free(real);
		return -1;
	}
	r->mounts[r->n_mounts++] = (struct runtime_mount){ real, target, true };
	*out_real = real;
	return 0;
}

/*
 * A copy source (type copy) is a directory of this host: its path,
 * relative to the working directory as in a local run, or a file:// URL.
 * It is bound read-only at target, and the job inside copies from there
 * (*out_url, which make_bundle() passes on over whatever URL it had).
 */
static int
bind_copy_source(struct job_run *r, enum config_key type, enum config_key url,
    const char *target, char **out_real, const char **out_url)
{
	const char *path = config_get(&r->config, url);
	const char *origin = r->config.values[url].origin;
	struct stat st;

	if (!is_copy(&r->config, type) || path == NULL)
		return 0;
	if (strncmp(path, "file://", 7) == 0)
		path += 7;
	else if (strstr(path, "://") != NULL) {
		diag_error("%s: a copy source is a local directory, not a URL",
		    origin);
		return -1;
	}
	if (stat(path, &st) < 0) {
		diag_error("%s: cannot find the copy source '%s': %s", origin,
		    path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		diag_error("%s: the copy source '%s' is not a directory",
		    origin, path);
		return -1;
	}
	if (bind(r, path, target, out_real) < 0)
		return -1;
	*out_url = target;
	return 0;
}

static void
set_inside(struct job_run *r, const char *name, const char *value)
{
	strings_add(&r->env, xasprintf("%s=%s", name, value));
}

/* Local directories become copy sources of the job inside. */
static int
make_mounts(struct job_run *r)
{
	const char *ci = config_get(&r->config, CONFIG_CI_SOURCE_DIR);
	const char *code = config_get(&r->config, CONFIG_CODE_DIR);
	char *dir;

	if (r->job != NULL && r->job->file != NULL) {
		const char *base = strrchr(r->job->file, '/');

		dir = base != NULL
		    ? xstrndup(r->job->file, (size_t)(base - r->job->file))
		    : xstrdup(".");
		if (dir[0] == '\0') {
			free(dir);
			dir = xstrdup("/");
		}
		if (bind(r, dir, MOUNT_JOB, &r->job_dir) < 0) {
			free(dir);
			return -1;
		}
		free(dir);
		r->job_path = xasprintf(
		    "%s/%s", MOUNT_JOB, base != NULL ? base + 1 : r->job->file);
	}
	if (!prepared_inside(&r->config, CONFIG_CI_SOURCE_TYPE) && ci != NULL) {
		char *real = realpath(ci, NULL);

		if (real != NULL && r->job_dir != NULL &&
		    strcmp(real, r->job_dir) == 0) {
			set_inside(r, "JOBRUN_CI_SOURCE_URL", MOUNT_JOB);
		} else if (real != NULL) {
			if (bind(r, real, MOUNT_CI, &r->ci_dir) < 0) {
				free(real);
				return -1;
			}
			set_inside(r, "JOBRUN_CI_SOURCE_URL", MOUNT_CI);
		}
		if (real != NULL)
			set_inside(r, "JOBRUN_CI_SOURCE_TYPE", "copy");
		free(real);
	}
	if (!prepared_inside(&r->config, CONFIG_SOURCE_TYPE) && code != NULL) {
		if (bind(r, code, MOUNT_SRC, &r->code_dir) < 0)
			return -1;
		set_inside(r, "JOBRUN_SOURCE_TYPE", "copy");
		set_inside(r, "JOBRUN_SOURCE_URL", MOUNT_SRC);
	}
	if (bind_copy_source(r, CONFIG_CI_SOURCE_TYPE, CONFIG_CI_SOURCE_URL,
		MOUNT_CI, &r->ci_dir, &r->ci_source_url) < 0 ||
	    bind_copy_source(r, CONFIG_SOURCE_TYPE, CONFIG_SOURCE_URL,
		MOUNT_SRC, &r->code_dir, &r->source_url) < 0)
		return -1;
	return 0;
}

/* Flags of "run" that must not cross as flags: host paths, and values
 * that may hold a secret (flags_in_bundle). */
static bool
flag_stays_on_host(enum config_key key)
{
	size_t i;

	for (i = 0; i < sizeof(flags_in_bundle) / sizeof(*flags_in_bundle); i++)
		if (key == flags_in_bundle[i])
			return true;
	switch (key) {
	case CONFIG_JOB_FILE:
	case CONFIG_LOCAL:
	case CONFIG_WORKSPACE:
	case CONFIG_CODE_DIR:
	case CONFIG_JOB_DIR:
	case CONFIG_CI_SOURCE_DIR:
	case CONFIG_TRIGGERS_FILE:
	case CONFIG_SECRETS_FILE: /* in the bundle, at its absolute path */
		return true;
	default:
		return false;
	}
}

/* The flags of "run" that cross as flags, after what s holds. */
static void
add_flags(struct engine_strings *s, const struct cli *cli)
{
	size_t i;

	for (i = 0; i < cli->n_flags; i++) {
		if (flag_stays_on_host(cli->flags[i].key))
			continue;
		strings_add(s, xstrdup(cli->flags[i].flag));
		if (!cli->flags[i].is_switch)
			strings_add(s, xstrdup(cli->flags[i].value));
	}
	/* The steps to run: not settings, but the job inside needs them. */
	if (cli->only != NULL) {
		strings_add(s, xstrdup("--only"));
		strings_add(s, xstrdup(cli->only));
	}
	if (cli->until != NULL) {
		strings_add(s, xstrdup("--until"));
		strings_add(s, xstrdup(cli->until));
	}
}

static void
make_argv(struct job_run *r, const struct cli *cli)
{
	strings_add(&r->argv, xstrdup("run"));
	strings_add(&r->argv, xstrdup("--no-local"));
	add_flags(&r->argv, cli);
	if (r->job_path != NULL)
		strings_add(&r->argv, xstrdup(r->job_path));
	/* The bundle first, on standard input. */
	set_inside(r, "JOBRUN_BUNDLE", "stdin");
}

static void
job_release(struct job_run *r)
{
	size_t i;

	bundle_release(&r->bundle);
	strings_release(&r->argv);
	strings_release(&r->env);
	strings_release(&r->pod_flags);
	for (i = 0; i < r->n_mounts; i++)
		free((char *)(uintptr_t)r->mounts[i].host);
	free(r->job_path);
	free(r->run_dir);
	nvlist_release(&r->job_env);
	mask_set_free(r->mask);
	config_release(&r->config);
	job_free(r->job);
}

/* Where bound workspaces are made: not under the workspace, as the code
 * directory, copied into the job's /job/src, often holds it.  Caller
 * frees. */
static char *
runs_dir(void)
{
	const char *tmp = getenv("TMPDIR");

	return xasprintf(
	    "%s/jobrun-runs", tmp != NULL && tmp[0] == '/' ? tmp : "/var/tmp");
}

int
runtime_job_gc_dirs(bool dry_run)
{
	char *base = runs_dir();
	int fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC), status = 0;
	struct dirent *d;
	DIR *dir;

	free(base);
	if (fd < 0 || (dir = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((d = readdir(dir)) != NULL) {
		const char *dot = strrchr(d->d_name, '.');
		long pid = dot != NULL ? strtol(dot + 1, NULL, 10) : 0;

		/* RUN-ID.PID, its jobrun gone. */
		if (pid <= 0 || d->d_name[0] == '.' ||
		    (kill((pid_t)pid, 0) == 0 || errno == EPERM))
			continue;
		printf("%s workspace %s\n",
		    dry_run ? "would remove" : "removing", d->d_name);
		if (!dry_run && file_remove_tree(dirfd(dir), d->d_name) < 0)
			status = EXIT_JOBRUN_ERROR;
	}
	closedir(dir);
	return status;
}

/*
 * The fast way to the results: the job's workspace is a fresh directory
 * of this host ($TMPDIR/jobrun-runs/RUN-ID.PID) bound at /job, so nothing is
 * copied out of the container at the end.  Only as root with a local
 * engine: a remote one cannot bind it, and files the container's root
 * writes there could not be removed by another user.  Otherwise (or when
 * it cannot be made) the backend copies the results out.
 */
static void
bind_workspace(struct job_run *r, struct runtime_run_options *o)
{
	static const char *const remote[] = { "CONTAINER_HOST",
		"CONTAINER_CONNECTION", "DOCKER_HOST", "DOCKER_CONTEXT" };
	static const char *const subdirs[] = { "src", "ci", "artifacts" };
	char *error = NULL, *path, *base;
	size_t i;
	int fd;

	if (geteuid() != 0 || o->detach)
		return;
	for (i = 0; i < sizeof(remote) / sizeof(remote[0]); i++)
		if (getenv(remote[i]) != NULL)
			return;
	base = runs_dir();
	r->run_dir = xasprintf("%s/%s.%d", base, o->run_id, (int)getpid());
	free(base);
	for (i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		path = xasprintf("%s/%s", r->run_dir, subdirs[i]);
		fd = file_make_dirs(path, &error);
		free(path);
		if (fd < 0) {
			free(error);
			free(r->run_dir);
			r->run_dir = NULL;
			return;
		}
		close(fd);
	}
	r->mounts[r->n_mounts++] =
	    (struct runtime_mount){ xstrdup(r->run_dir), "/job", false };
	o->spec.n_mounts = r->n_mounts;
	o->bound_workspace = r->run_dir;
}

static void
unbind_workspace(struct job_run *r)
{
	char *parent, *slash;
	int fd;

	if (r->run_dir == NULL)
		return;
	parent = xstrdup(r->run_dir);
	slash = strrchr(parent, '/');
	*slash = '\0';
	if ((fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		if (file_remove_tree(fd, slash + 1) < 0)
			diag_warn("cannot remove '%s': %s", r->run_dir,
			    strerror(errno));
		close(fd);
	}
	free(parent);
}

static int
signal_fd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	return signalfd(-1, &set, SFD_CLOEXEC);
}

/* The backend; kubectl's complaints are masked with the job's secrets. */
static struct runtime *
open_runtime(const char *kind, struct mask_set *mask)
{
	struct runtime *rt;
	char *error = NULL;

	rt = strcmp(kind, "kubernetes") == 0
	    ? runtime_kube_new("kubectl", mask, &error)
	    : runtime_open(kind, &error);
	if (rt == NULL) {
		diag_error("%s", error);
		free(error);
	}
	return rt;
}

/* The job file's container: setting key, or NULL. */
static const char *
container_setting(const struct job *job, const char *key)
{
	const struct nvpair *p =
	    job != NULL ? nvlist_get(&job->settings, key) : NULL;

	return p != NULL ? p->value : NULL;
}

/* The runtime options: the job file's container:, then JOBRUN_IMAGE for
 * the image, then the command line. */
static struct cli_runtime
effective_options(const struct cli *cli, const struct job *job)
{
	struct cli_runtime rt = cli->rt;
	const char *env = getenv("JOBRUN_IMAGE");

	if (rt.image == NULL)
		rt.image = env != NULL && env[0] != '\0'
		    ? env
		    : container_setting(job, "container.image");
	if (rt.pull == NULL)
		rt.pull = container_setting(job, "container.pull");
	if (rt.cpus == NULL)
		rt.cpus = container_setting(job, "container.resources.cpus");
	if (rt.memory == NULL)
		rt.memory =
		    container_setting(job, "container.resources.memory");
	if (rt.pids == NULL)
		rt.pids = container_setting(job, "container.resources.pids");
	return rt;
}

/* The options of the run, from the command line and the job. */
static int
make_options(struct job_run *r, const struct cli *cli,
    struct runtime_run_options *o, char **owned_id)
{
	struct cli_runtime rt = effective_options(cli, r->job);
	const char *image = rt.image;
	uint64_t timeout = config_ms(&r->config, CONFIG_TIMEOUT);

	*owned_id = NULL;
	if (image == NULL || image[0] == '\0') {
		diag_error("no runner image: give --image IMAGE, "
			   "JOBRUN_IMAGE or the job file's container.image");
		return -1;
	}
	if (cli->rt.run_id != NULL && !runtime_run_id_valid(cli->rt.run_id)) {
		diag_error("--run-id: expected 1 to %d of a-z, 0-9 and '-', "
			   "not '%s'",
		    RUNTIME_RUN_ID_MAX, cli->rt.run_id);
		return -1;
	}
	if (parse_pull(rt.pull, &o->pull) < 0 ||
	    parse_limits(&rt, &o->spec) < 0 || make_mounts(r) < 0)
		return -1;
	make_argv(r, cli);
	o->run_id = cli->rt.run_id != NULL ? cli->rt.run_id
					   : (*owned_id = runtime_run_id_new());
	o->spec.job = config_get(&r->config, CONFIG_NAME);
	o->spec.image = image;
	o->spec.argv = r->argv.v;
	o->spec.env = r->env.v;
	o->spec.mounts = r->mounts;
	o->spec.n_mounts = r->n_mounts;
	o->detach = cli->rt.detach;
	o->keep = cli->rt.keep;
	o->workspace = config_get(&r->config, CONFIG_WORKSPACE);
	o->grace_ms = config_ms(&r->config, CONFIG_GRACE_PERIOD);
	o->timeout_ms = timeout;
	o->hard_stop_ms =
	    timeout > 0 ? timeout + o->grace_ms + HARD_STOP_MARGIN_MS : 0;
	o->mask = r->mask;
	o->console = STDOUT_FILENO;
	o->console_errors = STDERR_FILENO;
	return 0;
}

static char *job_text(const char *path);
static int manifest_input(struct job_run *r, const struct cli *cli,
    struct manifest_input *in, char **owned_id);

/*
 * Kubernetes: what a pod cannot be given from this host travels in the
 * Job's objects (manifest.h): the job file in a ConfigMap, the bundle in
 * a Secret (no lifeline: nothing reads a pod's standard input), and the
 * job's source fetched inside.  *out_text and *out_bundle are owned by
 * the caller (the bundle wiped).
 */
static int
kube_input(struct job_run *r, const struct cli *cli,
    struct runtime_run_options *o, struct manifest_input *in, char **out_text,
    char **out_bundle)
{
	char *id = NULL, *wire = NULL;
	size_t wire_length = 0;

	if (cli->job_file == NULL) {
		diag_error("the kubernetes runtime runs a job file: give one");
		return -1;
	}
	if (manifest_input(r, cli, in, &id) < 0 ||
	    (*out_text = job_text(cli->job_file)) == NULL) {
		free(id);
		return -1;
	}
	free(id);
	in->run_id = o->run_id;
	make_bundle(r, false);
	if (r->bundle.incomplete)
		return -1;
	bundle_encode(&r->bundle, &wire, &wire_length);
	*out_bundle = xstrndup(wire, wire_length);
	bundle_wipe_free(wire, wire_length);
	in->bundle = *out_bundle;
	in->job_text = *out_text;
	o->spec.kube = in;
	return 0;
}

int
runtime_job_run(const struct cli *cli)
{
	struct job_run r = { .bundle = BUNDLE_INIT, .job_env = NVLIST_INIT };
	struct runtime_run_options o = { .signals = -1 };
	struct manifest_input in = { 0 };
	struct runtime *rt = NULL;
	char *run_id = NULL, *owner = runtime_owner_self(), *wire = NULL;
	char *text = NULL, *kube_bundle = NULL;
	size_t wire_length = 0;
	int status = EXIT_JOBRUN_ERROR;
	bool kube = strcmp(runtime_job_kind(cli), "kubernetes") == 0;

	if (strcmp(runtime_job_kind(cli), "local") == 0) {
		diag_error("%s is for a run in a container: give --runtime "
			   "podman, docker, kubernetes or auto",
		    container_option(&cli->rt));
		goto out;
	}
	if (cli->work_dir != NULL && chdir(cli->work_dir) < 0) {
		diag_error("cannot change to directory '%s': %s", cli->work_dir,
		    strerror(errno));
		goto out;
	}
	if (load(&r, cli) < 0 || make_options(&r, cli, &o, &run_id) < 0 ||
	    (kube && kube_input(&r, cli, &o, &in, &text, &kube_bundle) < 0) ||
	    (rt = open_runtime(runtime_job_kind(cli), r.mask)) == NULL)
		goto out;
	if (!kube) {
		make_bundle(&r, !cli->rt.detach);
		if (r.bundle.incomplete)
			goto out;
		bundle_encode(&r.bundle, &wire, &wire_length);
		o.bundle = wire;
		o.bundle_length = wire_length;
	}
	o.spec.owner = owner;
	o.signals = signal_fd();
	if (!kube)
		bind_workspace(&r, &o);
	status = runtime_run_job(rt, &o);
	if (!cli->rt.keep)
		unbind_workspace(&r);
out:
	if (o.signals >= 0)
		close(o.signals);
	bundle_wipe_free(wire, wire_length);
	if (kube_bundle != NULL)
		bundle_wipe_free(kube_bundle, strlen(kube_bundle));
	free(text);
	runtime_free(rt);
	free(run_id);
	free(owner);
	job_release(&r);
	return status;
}

/* The job file's text, for the ConfigMap.  Caller frees. */
static char *
job_text(const char *path)
{
	char *text = NULL, *error = NULL;
	size_t n;

	if (file_read_all(AT_FDCWD, path, 1 << 20, &text, &n, &error) < 0) {
		diag_error("%s", error);
		free(error);
		return NULL;
	}
	return text;
}

static int
manifest_input(struct job_run *r, const struct cli *cli,
    struct manifest_input *in, char **owned_id)
{
	struct cli_runtime rt = effective_options(cli, r->job);
	struct runtime_spec limits = { 0 };
	uint64_t timeout = config_ms(&r->config, CONFIG_TIMEOUT);
	uint64_t grace = config_ms(&r->config, CONFIG_GRACE_PERIOD);
	const char *base = strrchr(cli->job_file, '/');

	*owned_id = NULL;
	if (!prepared_inside(&r->config, CONFIG_SOURCE_TYPE) ||
	    is_copy(&r->config, CONFIG_SOURCE_TYPE) ||
	    is_copy(&r->config, CONFIG_CI_SOURCE_TYPE)) {
		diag_error("%s: the job's %s is a directory of this "
			   "machine, which a Kubernetes pod cannot see: give "
			   "the job a %s: of type git or tarball",
		    cli->job_file,
		    is_copy(&r->config, CONFIG_CI_SOURCE_TYPE) ? "CI source"
							       : "source",
		    is_copy(&r->config, CONFIG_CI_SOURCE_TYPE) ? "ci_source"
							       : "source");
		return -1;
	}
	if (rt.image == NULL || rt.image[0] == '\0') {
		diag_error("no runner image: give --image IMAGE, "
			   "JOBRUN_IMAGE or the job file's container.image");
		return -1;
	}
	if (rt.run_id != NULL && !runtime_run_id_valid(rt.run_id)) {
		diag_error("--run-id: expected 1 to %d of a-z, 0-9 and '-', "
			   "not '%s'",
		    RUNTIME_RUN_ID_MAX, rt.run_id);
		return -1;
	}
	if (parse_limits(&rt, &limits) < 0)
		return -1;
	in->run_id =
	    rt.run_id != NULL ? rt.run_id : (*owned_id = runtime_run_id_new());
	in->job = config_get(&r->config, CONFIG_NAME);
	in->image = rt.image;
	in->pull = rt.pull;
	in->job_file_name = base != NULL ? base + 1 : cli->job_file;
	in->cpus = limits.cpus;
	in->memory = limits.memory;
	in->grace_s = (grace + RUNTIME_KUBE_CLEANUP_MS) / 1000;
	add_flags(&r->pod_flags, cli);
	in->flags = r->pod_flags.v; /* NULL: no flag */
	in->deadline_s =
	    timeout > 0 ? (timeout + grace + HARD_STOP_MARGIN_MS) / 1000 : 0;
	return 0;
}

int
runtime_job_manifest(const struct cli *cli)
{
	struct job_run r = { .bundle = BUNDLE_INIT, .job_env = NVLIST_INIT };
	struct manifest_input in = { 0 };
	char *run_id = NULL, *wire = NULL, *bundle = NULL, *text = NULL;
	char *dump = NULL;
	size_t wire_length = 0;
	json_t *list = NULL;
	int status = EXIT_JOBRUN_ERROR;

	if (isatty(STDOUT_FILENO)) {
		diag_error("the manifest holds the job's secret values: send "
			   "it to a file or to 'kubectl apply -f -', not to a "
			   "terminal");
		return EXIT_JOBRUN_ERROR;
	}
	if (load(&r, cli) < 0 || manifest_input(&r, cli, &in, &run_id) < 0 ||
	    (text = job_text(cli->job_file)) == NULL)
		goto out;
	make_bundle(&r, false);
	if (r.bundle.incomplete)
		goto out;
	bundle_encode(&r.bundle, &wire, &wire_length);
	bundle = xstrndup(wire, wire_length);
	in.bundle = bundle;
	in.job_text = text;
	list = manifest_build(&in);
	dump = json_dumps(list, JSON_INDENT(2));
	if (dump != NULL && puts(dump) >= 0 && fflush(stdout) == 0)
		status = 0;
out:
	if (dump != NULL)
		bundle_wipe_free(dump, strlen(dump));
	json_decref(list);
	if (bundle != NULL)
		bundle_wipe_free(bundle, strlen(bundle));
	bundle_wipe_free(wire, wire_length);
	free(text);
	free(run_id);
	job_release(&r);
	return status;
}
