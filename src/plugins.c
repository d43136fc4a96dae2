/*
 * The plugin loader and the order of hook calls (plugins.h).
 *
 * Trust comes first: a plugin is loaded only from a regular file that
 * neither it nor a directory above it lets anyone but root and jobrun's
 * user change, and never from the code under test.  The ABI version is the
 * first member of the exported struct and is read before any function in
 * the object is called; ELF constructors run at dlopen() time, which is why
 * the trust check comes before it.
 */
#include "config.h"

#include "plugins.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "duration.h"
#include "job.h"
#include "treepath.h"
#include "xalloc.h"

struct plugin {
	void *object; /* from dlopen() */
	const struct jobrun_plugin *api; /* in the object */
	char *path; /* resolved */
	long long priority;
	size_t position; /* in configuration order */
	bool initialised;
	bool refused; /* its init() failed: only fini() is left */
	void *state;
	struct jobrun_context context;
};

struct plugins {
	const struct plugin_places *places;
	struct plugin **items; /* sorted by priority, then position */
	size_t len;
	size_t loaded; /* positions handed out */
};

/* ---- the watchdog ---- */

/* Written by the handler when a hook overruns; composed before arming. */
static char watchdog_message[512];
static size_t watchdog_length;
static timer_t watchdog_timer;
static bool watchdog_ready;
static uint64_t watchdog_ms;
static void (*watchdog_last_words)(void);
static char *watchdog_record;
static size_t watchdog_record_size;

/* The message into watchdog_record, without its "jobrun: " and its
 * newline (async-signal-safe). */
static void
watchdog_write_record(void)
{
	static const char prefix[] = "jobrun: ";
	size_t from = sizeof(prefix) - 1, n = 0;

	if (watchdog_record == NULL || watchdog_record_size == 0)
		return;
	if (watchdog_length < from)
		from = 0;
	while (from + n < watchdog_length && n + 1 < watchdog_record_size &&
	    watchdog_message[from + n] != '\n') {
		watchdog_record[n] = watchdog_message[from + n];
		n++;
	}
	watchdog_record[n] = '\0';
}

static void
watchdog_fire(int signo)
{
	(void)signo;
	if (write(STDERR_FILENO, watchdog_message, watchdog_length) < 0) {
		/* nothing else can be done from here */
	}
	watchdog_write_record();
	if (watchdog_last_words != NULL)
		watchdog_last_words();
	_exit(EXIT_JOBRUN_ERROR);
}

void
plugins_watchdog_on_fire(void (*fn)(void))
{
	watchdog_last_words = fn;
}

void
plugins_watchdog_record_to(char *buffer, size_t size)
{
	watchdog_record = buffer;
	watchdog_record_size = buffer != NULL ? size : 0;
}

static void
watchdog_set(uint64_t ms)
{
	struct itimerspec when = { { 0, 0 },
		{ (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L } };

	if (watchdog_ready)
		timer_settime(watchdog_timer, 0, &when, NULL);
}

/* Arms the watchdog for one hook call of plugin in phase. */
static void
watchdog_arm(uint64_t ms, const struct plugin *plugin, const char *what)
{
	struct sigevent event = { 0 };
	struct sigaction action = { 0 };
	char duration[32];
	int n;

	if (ms == 0)
		return;
	if (!watchdog_ready) {
		action.sa_handler = watchdog_fire;
		sigemptyset(&action.sa_mask);
		event.sigev_notify = SIGEV_SIGNAL;
		event.sigev_signo = SIGALRM;
		if (sigaction(SIGALRM, &action, NULL) < 0 ||
		    timer_create(CLOCK_MONOTONIC, &event, &watchdog_timer) <
			0) {
			diag_warn("cannot watch plugin hooks for time: %s",
			    strerror(errno));
			return;
		}
		watchdog_ready = true;
	}
	n = snprintf(watchdog_message, sizeof(watchdog_message),
	    "jobrun: plugin %s: the %s hook did not return within %s "
	    "(plugin_timeout); giving up on the job\n",
	    plugin->context.name, what,
	    duration_format(duration, sizeof(duration), ms));
	watchdog_length = n < 0 ? 0
	    : (size_t)n >= sizeof(watchdog_message)
	    ? sizeof(watchdog_message) - 1
	    : (size_t)n;
	watchdog_ms = ms;
	watchdog_set(ms);
}

static void
watchdog_disarm(void)
{
	watchdog_ms = 0;
	watchdog_set(0);
}

void
plugins_watchdog_pause(void)
{
	watchdog_set(0);
}

void
plugins_watchdog_resume(void)
{
	if (watchdog_ms != 0)
		watchdog_set(watchdog_ms);
}

/* ---- trust ---- */

/* Why st, the file or directory at path, cannot be trusted; NULL if it
 * can. */
static char *
distrust(const char *path, const struct stat *st, bool directory)
{
	uid_t self = geteuid();

	if (st->st_uid != 0 && st->st_uid != self)
		return xasprintf("'%s' is owned by uid %ld, neither root nor "
				 "jobrun's user",
		    path, (long)st->st_uid);
	if (directory && (st->st_mode & S_ISVTX) != 0 &&
	    (st->st_mode & S_IWOTH) != 0)
		return NULL;
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0)
		return xasprintf("'%s' is writable by %s", path,
		    (st->st_mode & S_IWOTH) ? "others" : "its group");
	return NULL;
}

static char *beside_program(const char *file);

/*
 * Whether resolved is a plugin in plugins/ beside jobrun's own program: a
 * build tree's bundled plugins, as trusted as the program (which, run from
 * a checkout, is under the code dir too).  The other checks still apply.
 */
static bool
bundled_beside(const char *resolved)
{
	char *mine = beside_program(""), dir[PATH_MAX];
	bool beside;

	if (mine == NULL)
		return false;
	beside =
	    realpath(mine, dir) != NULL && treepath_is_under(resolved, dir);
	free(mine);
	return beside;
}

/*
 * Whether path lies under the code dir as it is written, no link in it
 * resolved (a link planted there, to a trusted file or directory, is
 * still the code under test's doing): against the code dir as
 * configured and as resolved (code).
 */
static bool
lies_under(const char *path, const char *code_dir, const char *code)
{
	char cwd[PATH_MAX], *absolute;
	bool under;

	if (path[0] == '/')
		absolute = xstrdup(path);
	else if (getcwd(cwd, sizeof(cwd)) != NULL)
		absolute = xasprintf("%s/%s", cwd, path);
	else
		return true; /* cannot tell: refused */
	under = treepath_is_under(absolute, code_dir) ||
	    treepath_is_under(absolute, code);
	free(absolute);
	return under;
}

int
plugins_check_trusted(const char *path, const char *code_dir, char **why)
{
	char resolved[PATH_MAX], code[PATH_MAX], *slash;
	struct stat st;

	*why = NULL;
	if (realpath(path, resolved) == NULL) {
		*why =
		    xasprintf("cannot resolve '%s': %s", path, strerror(errno));
		return -1;
	}
	if (code_dir != NULL && realpath(code_dir, code) != NULL &&
	    !bundled_beside(resolved) && lies_under(path, code_dir, code)) {
		*why = xasprintf("'%s' is under the code dir '%s': code under "
				 "test is never loaded (nor what a link there "
				 "points to)",
		    path, code);
		return -1;
	}
	if (code_dir != NULL && realpath(code_dir, code) != NULL &&
	    treepath_is_under(resolved, code) && !bundled_beside(resolved)) {
		*why = xasprintf("'%s' is under the code dir '%s': code under "
				 "test is never loaded",
		    resolved, code);
		return -1;
	}
	if (stat(resolved, &st) < 0) {
		*why = xasprintf(
		    "cannot read '%s': %s", resolved, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		*why = xasprintf("'%s' is not a regular file", resolved);
		return -1;
	}
	if ((*why = distrust(resolved, &st, false)) != NULL)
		return -1;
	/* Every directory up to the root. */
	while ((slash = strrchr(resolved, '/')) != NULL) {
		if (slash == resolved)
			slash[1] = '\0';
		else
			slash[0] = '\0';
		if (stat(resolved, &st) < 0) {
			*why = xasprintf(
			    "cannot read '%s': %s", resolved, strerror(errno));
			return -1;
		}
		if ((*why = distrust(resolved, &st, true)) != NULL)
			return -1;
		if (strcmp(resolved, "/") == 0)
			break;
	}
	return 0;
}

/* ---- loading ---- */

struct plugins *
plugins_new(const struct plugin_places *places)
{
	struct plugins *set = xcalloc(1, sizeof(*set));

	set->places = places;
	return set;
}

size_t
plugins_count(const struct plugins *set)
{
	return set == NULL ? 0 : set->len;
}

/*
 * Where a bare name is looked for after the plugin directory: plugins/
 * beside jobrun's own program, which is where a build tree has its bundled
 * plugins (jobrun run --plugin junit from a checkout).  They are as
 * trusted as the program beside them, and pass the same checks.
 */
static char *
beside_program(const char *file)
{
	char self[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		return NULL;
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) == NULL)
		return NULL;
	*slash = '\0';
	return xasprintf("%s/plugins/%s", self, file);
}

/* The file spec names (a new string). */
static char *
locate(const struct plugins *set, const char *spec, const char *base_dir)
{
	size_t len = strlen(spec);
	char *file, *path, *built;

	if (strchr(spec, '/') == NULL) {
		file = xasprintf("%s%s", spec,
		    len > 3 && strcmp(spec + len - 3, ".so") == 0 ? "" : ".so");
		path = xasprintf("%s/%s", set->places->plugin_dir, file);
		if (access(path, F_OK) < 0 &&
		    (built = beside_program(file)) != NULL) {
			if (access(built, F_OK) == 0) {
				free(path);
				path = built;
			} else {
				free(built);
			}
		}
		free(file);
		return path;
	}
	if (spec[0] == '/' || base_dir == NULL)
		return xstrdup(spec);
	return xasprintf("%s/%s", base_dir, spec);
}

static bool
valid_name(const char *name)
{
	size_t i;

	if (name == NULL || name[0] == '\0' || strlen(name) > 64)
		return false;
	for (i = 0; name[i] != '\0'; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
			(name[i] >= '0' && name[i] <= '9') || name[i] == '-' ||
			name[i] == '_'))
			return false;
	return true;
}

/* Keeps items sorted: priority, then configuration order. */
static int
compare_plugins(const void *a, const void *b)
{
	const struct plugin *x = *(struct plugin *const *)a;
	const struct plugin *y = *(struct plugin *const *)b;

	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	return x->position < y->position ? -1 : x->position > y->position;
}

/* Opens path (trusted already) and checks what it exports. */
static struct plugin *
open_plugin(const char *path, char **error)
{
	const struct jobrun_plugin *api;
	unsigned int version;
	struct plugin *plugin;
	void *object;
	const char *why;

	if ((object = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		why = dlerror();
		*error = xasprintf(
		    "cannot load '%s': %s", path, why ? why : "unknown error");
		return NULL;
	}
	api = dlsym(object, JOBRUN_PLUGIN_SYMBOL);
	if (api == NULL) {
		*error = xasprintf("'%s' is not a jobrun plugin: it does not "
				   "export the symbol '%s'",
		    path, JOBRUN_PLUGIN_SYMBOL);
		dlclose(object);
		return NULL;
	}
	version = api->abi_version;
	if (JOBRUN_PLUGIN_ABI_MAJOR_OF(version) != JOBRUN_PLUGIN_ABI_MAJOR) {
		*error = xasprintf("'%s' was built for plugin ABI %u.%u, but "
				   "this jobrun has ABI %u.%u: rebuild it "
				   "against this jobrun's <jobrun/plugin.h>",
		    path, JOBRUN_PLUGIN_ABI_MAJOR_OF(version),
		    JOBRUN_PLUGIN_ABI_MINOR_OF(version),
		    JOBRUN_PLUGIN_ABI_MAJOR, JOBRUN_PLUGIN_ABI_MINOR);
		dlclose(object);
		return NULL;
	}
	if (!valid_name(api->name)) {
		*error = xasprintf("'%s' gives no valid plugin name: expected "
				   "1 to 64 of a-z, 0-9, '-' and '_'",
		    path);
		dlclose(object);
		return NULL;
	}
	plugin = xcalloc(1, sizeof(*plugin));
	plugin->object = object;
	plugin->api = api;
	plugin->context.name = api->name;
	plugin->context.abi_version = version;
	return plugin;
}

int
plugins_load(struct plugins *set, const char *spec, const char *base_dir,
    long long priority, const struct nvlist *config, const char *origin,
    char **error)
{
	char resolved[PATH_MAX], *path, *why;
	struct plugin *plugin;
	size_t i;

	*error = NULL;
	path = locate(set, spec, base_dir);
	if (plugins_check_trusted(path, set->places->code_dir, &why) < 0) {
		*error = xasprintf(
		    "%s: refusing plugin '%s': %s", origin, spec, why);
		free(why);
		free(path);
		return -1;
	}
	if (realpath(path, resolved) == NULL) {
		*error = xasprintf("%s: cannot resolve plugin '%s': %s", origin,
		    spec, strerror(errno));
		free(path);
		return -1;
	}
	free(path);
	for (i = 0; i < set->len; i++) {
		plugin = set->items[i];
		if (strcmp(plugin->path, resolved) != 0)
			continue;
		if (plugin->initialised) {
			*error = xasprintf(
			    "%s: plugin '%s' is running already", origin, spec);
			return -1;
		}
		plugin->priority = priority;
		if (config != NULL)
			plugin->context.config = config;
		qsort(
		    set->items, set->len, sizeof(*set->items), compare_plugins);
		return 0;
	}
	if ((plugin = open_plugin(resolved, &why)) == NULL) {
		*error = xasprintf("%s: %s", origin, why);
		free(why);
		return -1;
	}
	for (i = 0; i < set->len; i++) {
		if (strcmp(set->items[i]->context.name, plugin->context.name) !=
		    0)
			continue;
		*error = xasprintf("%s: '%s' is a plugin named '%s', and so is "
				   "'%s', loaded already: a name must be "
				   "unique",
		    origin, resolved, plugin->context.name,
		    set->items[i]->path);
		dlclose(plugin->object);
		free(plugin);
		return -1;
	}
	plugin->path = xstrdup(resolved);
	plugin->context.path = plugin->path;
	plugin->context.config = config;
	plugin->priority = priority;
	plugin->position = set->loaded++;
	set->items =
	    xreallocarray(set->items, set->len + 1, sizeof(*set->items));
	set->items[set->len++] = plugin;
	qsort(set->items, set->len, sizeof(*set->items), compare_plugins);
	return 0;
}

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
plugins_load_dir(struct plugins *set, const char *dir, long long priority,
    const char *origin, char **error)
{
	struct dirent *entry;
	char **names = NULL, *spec, *where;
	size_t n = 0, i, len;
	DIR *d;
	int rc = 0;

	*error = NULL;
	if ((d = opendir(dir)) == NULL) {
		if (errno == ENOENT)
			return 0;
		*error = xasprintf("%s: cannot read the plugin directory "
				   "'%s': %s",
		    origin, dir, strerror(errno));
		return -1;
	}
	while ((entry = readdir(d)) != NULL) {
		len = strlen(entry->d_name);
		if (entry->d_name[0] == '.' || len < 4 ||
		    strcmp(entry->d_name + len - 3, ".so") != 0)
			continue;
		names = xreallocarray(names, n + 1, sizeof(*names));
		names[n++] = xstrdup(entry->d_name);
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), compare_names);
	for (i = 0; i < n; i++) {
		if (rc == 0) {
			spec = xasprintf("%s/%s", dir, names[i]);
			where = xasprintf("%s (%s)", origin, dir);
			rc = plugins_load(
			    set, spec, NULL, priority, NULL, where, error);
			free(where);
			free(spec);
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

/* Splits "SPEC:PRIORITY"; the priority must be an integer in range. */
static int
split_priority(char *entry, long long *priority)
{
	char *colon = strrchr(entry, ':'), *end;
	long long value;

	if (colon == NULL)
		return 0;
	errno = 0;
	value = strtoll(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 || value < -10000 ||
	    value > 10000)
		return -1;
	*colon = '\0';
	*priority = value;
	return 0;
}

int
plugins_load_list(
    struct plugins *set, const char *list, const char *origin, char **error)
{
	char *copy = xstrdup(list), *entry, *next;
	long long priority;
	int rc = 0;

	*error = NULL;
	for (entry = copy; rc == 0 && entry != NULL; entry = next) {
		if ((next = strchr(entry, ',')) != NULL)
			*next++ = '\0';
		entry += strspn(entry, " \t");
		if (entry[0] == '\0')
			continue;
		priority = PLUGIN_DEFAULT_PRIORITY;
		if (split_priority(entry, &priority) < 0) {
			*error = xasprintf("%s: '%s': expected PLUGIN or "
					   "PLUGIN:PRIORITY, PRIORITY an "
					   "integer from -10000 to 10000",
			    origin, entry);
			rc = -1;
			break;
		}
		rc = plugins_load(
		    set, entry, NULL, priority, NULL, origin, error);
	}
	free(copy);
	return rc;
}

/* ---- calling hooks ---- */

int
plugins_init(
    struct plugins *set, const struct jobrun_host *host, void *host_data)
{
	struct plugin *plugin;
	int rc = 0;
	size_t i;

	for (i = 0; set != NULL && i < set->len; i++) {
		plugin = set->items[i];
		if (plugin->initialised)
			continue;
		plugin->context.host_data = host_data;
		plugin->initialised = true;
		if (plugin->api->init == NULL)
			continue;
		watchdog_arm(set->places->timeout_ms, plugin, "init");
		if (plugin->api->init(&plugin->context, host, &plugin->state) !=
		    0) {
			diag_error("plugin %s (%s): init failed",
			    plugin->context.name, plugin->path);
			plugin->refused = true;
			rc = -1;
		}
		watchdog_disarm();
	}
	return rc;
}

static bool
runs_in_reverse(enum jobrun_phase phase)
{
	return phase == JOBRUN_PHASE_POST_EXECUTION ||
	    phase == JOBRUN_PHASE_ON_ERROR || phase == JOBRUN_PHASE_CLEANUP ||
	    phase == JOBRUN_PHASE_AFTER_STEP;
}

/* Calls one hook of every plugin in the phase's order and policy. */
static int
call_all(struct plugins *set, enum jobrun_phase phase,
    const struct jobrun_step *step)
{
	bool reverse = runs_in_reverse(phase);
	const char *name = jobrun_phase_name(phase);
	struct plugin *plugin;
	size_t i, k;
	int rc = 0, failed;

	for (k = 0; set != NULL && k < set->len; k++) {
		i = reverse ? set->len - 1 - k : k;
		plugin = set->items[i];
		if (!plugin->initialised || plugin->refused)
			continue;
		if (step != NULL && plugin->api->step == NULL)
			continue;
		if (step == NULL && plugin->api->phase == NULL)
			continue;
		watchdog_arm(set->places->timeout_ms, plugin, name);
		failed = step != NULL ? plugin->api->step(&plugin->context,
					    plugin->state, phase, step)
				      : plugin->api->phase(&plugin->context,
					    plugin->state, phase);
		watchdog_disarm();
		if (failed == 0)
			continue;
		if (step != NULL)
			diag_error("plugin %s: the %s hook failed for step "
				   "'%s'",
			    plugin->context.name, name, step->name);
		else
			diag_error("plugin %s: the %s hook failed",
			    plugin->context.name, name);
		rc = -1;
		if (!reverse)
			break;
	}
	return rc;
}

int
plugins_phase(struct plugins *set, enum jobrun_phase phase)
{
	return call_all(set, phase, NULL);
}

int
plugins_step(
    struct plugins *set, enum jobrun_phase when, const struct jobrun_step *step)
{
	return call_all(set, when, step);
}

void
plugins_free(struct plugins *set)
{
	struct plugin *plugin;
	size_t k;

	if (set == NULL)
		return;
	for (k = set->len; k > 0; k--) {
		plugin = set->items[k - 1];
		if (plugin->initialised && plugin->api->fini != NULL) {
			watchdog_arm(set->places->timeout_ms, plugin, "fini");
			plugin->api->fini(&plugin->context, plugin->state);
			watchdog_disarm();
		}
	}
	for (k = set->len; k > 0; k--) {
		plugin = set->items[k - 1];
		dlclose(plugin->object);
		free(plugin->path);
		free(plugin);
	}
	free(set->items);
	free(set);
}
