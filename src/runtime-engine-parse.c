/*
 * What the Podman/Docker backend makes of the tools' text, and the
 * arguments it gives them: pure functions, so that the differences
 * between podman and docker are tested by a table without either tool.
 *
 *   what                 podman                      docker
 *   ps --format          json: one array             {{json .}}: a line each
 *   ps Labels            an object                   "k=v,k=v"
 *   ps State             "created" "running" ...     the same words
 *   ps exit code         ExitCode                    in Status "Exited (3) ..."
 *   ps times             Created, ExitedAt (epoch)   CreatedAt (text)
 *   inspect State        Status, ExitCode, OOMKilled the same
 *   name in use          "...is already in use"      "Conflict. ...in use"
 *   no such container    "no such container"         "No such container"
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "runtime-engine.h"
#include "xalloc.h"

void
engine_args_add(struct engine_args *a, const char *s)
{
	xgrow(&a->v, &a->cap, a->n + 2, sizeof(*a->v));
	a->v[a->n++] = xstrdup(s);
	a->v[a->n] = NULL;
}

static void __attribute__((format(printf, 2, 3)))
args_addf(struct engine_args *a, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	engine_args_add(a, s);
	free(s);
}

void
engine_args_release(struct engine_args *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	*a = (struct engine_args)ENGINE_ARGS_INIT;
}

static void
add_label(struct engine_args *a, const char *key, const char *value)
{
	if (value == NULL)
		return;
	engine_args_add(a, "--label");
	args_addf(a, "%s=%s", key, value);
}

void
engine_create_args(struct engine_args *out, enum engine_kind kind,
    const struct runtime_spec *spec, const char *cidfile)
{
	size_t i;

	engine_args_add(out, cidfile != NULL ? "run" : "create");
	if (cidfile != NULL) {
		engine_args_add(out, "--cidfile");
		engine_args_add(out, cidfile);
	}
	engine_args_add(out, "--name");
	engine_args_add(out, spec->name);
	/* Standard input open: the bundle, then the lifeline. */
	engine_args_add(out, "--interactive");
	add_label(out, RUNTIME_LABEL_RUN_ID, spec->run_id);
	add_label(out, RUNTIME_LABEL_JOB, spec->job);
	add_label(out, RUNTIME_LABEL_VERSION, PACKAGE_VERSION);
	add_label(out, RUNTIME_LABEL_OWNER, spec->owner);
	if (spec->detached)
		add_label(out, RUNTIME_LABEL_DETACHED, "true");
	/* A missing image is made present (or refused) by pull, which
	 * checks that it holds jobrun; then the create is tried again. */
	engine_args_add(out, "--pull");
	engine_args_add(out, "never");
	if (kind == ENGINE_PODMAN) {
		/* jobrun is PID 1 and reaps; podman's own init is not used.
		 * Exit codes and the OOM verdict stay in the container. */
		engine_args_add(out, "--init=false");
	}
	for (i = 0; spec->env != NULL && spec->env[i] != NULL; i++) {
		engine_args_add(out, "--env");
		engine_args_add(out, spec->env[i]);
	}
	for (i = 0; i < spec->n_mounts; i++) {
		engine_args_add(out, "--volume");
		args_addf(out, "%s:%s%s", spec->mounts[i].host,
		    spec->mounts[i].target,
		    spec->mounts[i].read_only ? ":ro" : "");
	}
	if (spec->cpus > 0)
		args_addf(out, "--cpus=%g", spec->cpus);
	if (spec->memory > 0)
		args_addf(
		    out, "--memory=%llub", (unsigned long long)spec->memory);
	if (spec->pids > 0)
		args_addf(out, "--pids-limit=%ld", spec->pids);
	engine_args_add(out, spec->image);
	for (i = 0; spec->argv != NULL && spec->argv[i] != NULL; i++)
		engine_args_add(out, spec->argv[i]);
}

int
engine_error_errno(const char *err)
{
	if (strcasestr(err, "no such container") != NULL ||
	    strcasestr(err, "no such object") != NULL ||
	    strcasestr(err, "no such image") != NULL ||
	    strcasestr(err, "no container with name") != NULL ||
	    strcasestr(err, "image not known") != NULL ||
	    strcasestr(err, "unable to find image") != NULL)
		return ENOENT;
	if (strcasestr(err, "already in use") != NULL)
		return EEXIST;
	return EIO;
}

bool
engine_config_has_jobrun(const char *config_json)
{
	json_t *root = json_loads(config_json, 0, NULL), *labels, *ep, *v;
	bool yes = false;
	size_t i;

	if (root == NULL)
		return false;
	labels = json_object_get(root, "Labels");
	if (json_is_object(labels) &&
	    json_object_get(labels, RUNTIME_IMAGE_LABEL) != NULL)
		yes = true;
	ep = json_object_get(root, "Entrypoint");
	json_array_foreach(ep, i, v)
	{
		const char *s = json_string_value(v);
		const char *base = s != NULL ? strrchr(s, '/') : NULL;

		if (s != NULL && i == 0 &&
		    strcmp(base != NULL ? base + 1 : s, "jobrun") == 0)
			yes = true;
	}
	json_decref(root);
	return yes;
}

static enum runtime_state
state_of(const char *status)
{
	if (status == NULL)
		return RUNTIME_ABSENT;
	if (strcmp(status, "created") == 0 ||
	    strcmp(status, "configured") == 0 ||
	    strcmp(status, "initialized") == 0)
		return RUNTIME_CREATED;
	if (strcmp(status, "running") == 0 || strcmp(status, "paused") == 0 ||
	    strcmp(status, "restarting") == 0 ||
	    strcmp(status, "stopping") == 0)
		return RUNTIME_RUNNING;
	/* exited, stopped, dead, removing */
	return RUNTIME_EXITED;
}

int64_t
engine_parse_time(const char *text)
{
	struct tm tm = { 0 };
	const char *p;
	int64_t t;
	int sign, hh, mm;

	if (text == NULL)
		return 0;
	p = strptime(text, "%Y-%m-%d", &tm);
	if (p == NULL || (*p != 'T' && *p != ' '))
		return 0;
	p = strptime(p + 1, "%H:%M:%S", &tm);
	if (p == NULL || tm.tm_year < 70)
		return 0;
	t = (int64_t)timegm(&tm);
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			continue;
	while (*p == ' ')
		p++;
	if ((*p == '+' || *p == '-') &&
	    sscanf(p + 1, "%2d:%2d", &hh, &mm) == 2) {
		sign = *p == '+' ? 1 : -1;
		t -= sign * (hh * 3600 + mm * 60);
	} else if ((*p == '+' || *p == '-') &&
	    sscanf(p + 1, "%2d%2d", &hh, &mm) == 2) {
		sign = *p == '+' ? 1 : -1;
		t -= sign * (hh * 3600 + mm * 60);
	}
	return t;
}

static char *
string_or_null(json_t *v)
{
	return json_is_string(v) ? xstrdup(json_string_value(v)) : NULL;
}

/* Fills the identity fields from a label object. */
static void
take_labels(struct runtime_instance *out, json_t *labels)
{
	json_t *detached;

	out->run_id =
	    string_or_null(json_object_get(labels, RUNTIME_LABEL_RUN_ID));
	out->job = string_or_null(json_object_get(labels, RUNTIME_LABEL_JOB));
	out->version =
	    string_or_null(json_object_get(labels, RUNTIME_LABEL_VERSION));
	out->owner =
	    string_or_null(json_object_get(labels, RUNTIME_LABEL_OWNER));
	detached = json_object_get(labels, RUNTIME_LABEL_DETACHED);
	out->detached = json_is_string(detached) &&
	    strcmp(json_string_value(detached), "true") == 0;
}

int
engine_parse_inspect(
    struct runtime_instance *out, const char *json, char **error)
{
	json_t *root = json_loads(json, 0, NULL), *c, *state, *config;
	const char *name;

	*out = (struct runtime_instance)RUNTIME_INSTANCE_INIT;
	c = json_is_array(root) ? json_array_get(root, 0) : NULL;
	if (!json_is_object(c)) {
		*error = xstrdup("cannot read what inspect printed");
		json_decref(root);
		return -1;
	}
	state = json_object_get(c, "State");
	config = json_object_get(c, "Config");
	name = json_string_value(json_object_get(c, "Name"));
	if (name != NULL && name[0] == '/')
		name++;
	out->name = name != NULL ? xstrdup(name) : NULL;
	take_labels(out, json_object_get(config, "Labels"));
	out->state =
	    state_of(json_string_value(json_object_get(state, "Status")));
	if (out->state == RUNTIME_EXITED)
		out->exit_code =
		    (int)json_integer_value(json_object_get(state, "ExitCode"));
	out->oom_killed = json_is_true(json_object_get(state, "OOMKilled"));
	out->created_at =
	    engine_parse_time(json_string_value(json_object_get(c, "Created")));
	out->finished_at = engine_parse_time(
	    json_string_value(json_object_get(state, "FinishedAt")));
	json_decref(root);
	return 0;
}

/* docker's "k=v,k=v" labels as an object (values holding ',' are cut,
 * which ours never do). */
static json_t *
labels_from_text(const char *text)
{
	json_t *labels = json_object();
	char *copy = xstrdup(text != NULL ? text : ""), *save, *item;

	for (item = strtok_r(copy, ",", &save); item != NULL;
	     item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');

		if (eq == NULL)
			continue;
		*eq = '\0';
		json_object_set_new(labels, item, json_string(eq + 1));
	}
	free(copy);
	return labels;
}

static void
parse_ps_item(struct runtime_instance *out, enum engine_kind kind, json_t *c)
{
	json_t *names = json_object_get(c, "Names"), *labels;
	const char *status;

	*out = (struct runtime_instance)RUNTIME_INSTANCE_INIT;
	if (json_is_array(names))
		out->name = string_or_null(json_array_get(names, 0));
	else
		out->name = string_or_null(names);
	out->state = state_of(json_string_value(json_object_get(c, "State")));
	if (kind == ENGINE_PODMAN) {
		take_labels(out, json_object_get(c, "Labels"));
		out->created_at =
		    json_integer_value(json_object_get(c, "Created"));
		if (out->state == RUNTIME_EXITED) {
			out->exit_code = (int)json_integer_value(
			    json_object_get(c, "ExitCode"));
			out->finished_at =
			    json_integer_value(json_object_get(c, "ExitedAt"));
		}
		return;
	}
	labels =
	    labels_from_text(json_string_value(json_object_get(c, "Labels")));
	take_labels(out, labels);
	json_decref(labels);
	out->created_at = engine_parse_time(
	    json_string_value(json_object_get(c, "CreatedAt")));
	status = json_string_value(json_object_get(c, "Status"));
	if (out->state == RUNTIME_EXITED && status != NULL &&
	    sscanf(status, "Exited (%d)", &out->exit_code) != 1)
		out->exit_code = -1;
}

int
engine_parse_ps(struct runtime_instance **out, size_t *out_count,
    enum engine_kind kind, const char *text, char **error)
{
	json_t *items = json_array(), *c;
	size_t i;

	if (kind == ENGINE_PODMAN) {
		json_decref(items);
		items = json_loads(text, 0, NULL);
	} else {
		json_error_t e;
		const char *p = text;

		/* One object a line. */
		while (*p != '\0') {
			size_t n = strcspn(p, "\n");

			if (n > 0) {
				json_t *obj = json_loadb(p, n, 0, &e);

				if (obj == NULL)
					break;
				json_array_append_new(items, obj);
			}
			p += n + (p[n] == '\n');
		}
		if (*p != '\0') {
			json_decref(items);
			items = NULL;
		}
	}
	if (!json_is_array(items)) {
		*error = xstrdup("cannot read what ps printed");
		json_decref(items);
		return -1;
	}
	*out = xcalloc(json_array_size(items) + 1, sizeof(**out));
	json_array_foreach(items, i, c) parse_ps_item(&(*out)[i], kind, c);
	*out_count = json_array_size(items);
	json_decref(items);
	return 0;
}
