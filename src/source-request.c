/*
 * A source request (source-backend.h) as JSON, the form jobrun passes it
 * to jobrun-source in: everything a backend reads.  A token stays in its
 * variable or file, which the backend reads itself; but a URL may hold a
 * password, so both sides wipe the text when done.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "diag.h"
#include "source-backend.h"
#include "xalloc.h"

static void
set_text(json_t *o, const char *name, const char *value)
{
	if (value != NULL)
		json_object_set_new(o, name, json_string(value));
}

char *
source_request_to_json(const struct source_request *r)
{
	json_t *o = json_object();
	const struct source_spec *spec = r->spec;
	char *text;

	set_text(o, "label", r->label);
	set_text(o, "type", r->type);
	set_text(o, "url", r->url);
	set_text(o, "ref", r->ref);
	set_text(o, "target", r->target);
	set_text(o, "workspace", r->workspace);
	json_object_set_new(o, "progress", json_boolean(r->progress));
	json_object_set_new(o, "depth", json_integer(spec->depth));
	json_object_set_new(o, "submodules", json_boolean(spec->submodules));
	set_text(o, "token_env", spec->token_env);
	set_text(o, "token_file", spec->token_file);
	set_text(o, "ssh_key_file", spec->ssh_key_file);
	json_object_set_new(
	    o, "timeout_ms", json_integer((json_int_t)spec->timeout_ms));
	set_text(o, "known_hosts", spec->known_hosts);
	set_text(o, "ca_file", spec->ca_file);
	json_object_set_new(o, "max_size", json_integer(spec->max_size));
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (text == NULL)
		diag_fatal(EXIT_JOBRUN_ERROR, "out of memory");
	return text;
}

/* The string member name of o, copied, or NULL when absent; -1 when it
 * is there but not a string. */
static int
get_text(json_t *o, const char *name, char **out)
{
	json_t *v = json_object_get(o, name);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -1;
	*out = xstrdup(json_string_value(v));
	return 0;
}

static int
get_number(json_t *o, const char *name, long long *out)
{
	json_t *v = json_object_get(o, name);

	*out = 0;
	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*out = (long long)json_integer_value(v);
	return 0;
}

int
source_request_from_json(const char *text, size_t size,
    struct source_request_owned *out, char **error)
{
	json_error_t je;
	json_t *o = json_loadb(text, size, JSON_REJECT_DUPLICATES, &je);
	char *label = NULL, *type = NULL, *url = NULL, *ref = NULL,
	     *target = NULL, *workspace = NULL;
	long long timeout = 0;
	int bad = 0;

	memset(out, 0, sizeof(*out));
	if (o == NULL || !json_is_object(o)) {
		*error = xasprintf("the request is not a JSON object: %s",
		    o == NULL ? je.text : "another value");
		json_decref(o);
		return -1;
	}
	bad |= get_text(o, "label", &label);
	bad |= get_text(o, "type", &type);
	bad |= get_text(o, "url", &url);
	bad |= get_text(o, "ref", &ref);
	bad |= get_text(o, "target", &target);
	bad |= get_text(o, "workspace", &workspace);
	bad |= get_number(o, "depth", &out->spec.depth);
	bad |= get_text(o, "token_env", &out->spec.token_env);
	bad |= get_text(o, "token_file", &out->spec.token_file);
	bad |= get_text(o, "ssh_key_file", &out->spec.ssh_key_file);
	bad |= get_number(o, "timeout_ms", &timeout);
	bad |= get_text(o, "known_hosts", &out->spec.known_hosts);
	bad |= get_text(o, "ca_file", &out->spec.ca_file);
	bad |= get_number(o, "max_size", &out->spec.max_size);
	out->spec.present = true;
	out->spec.timeout_ms = (uint64_t)timeout;
	out->spec.submodules = json_is_true(json_object_get(o, "submodules"));
	out->request.progress = json_is_true(json_object_get(o, "progress"));
	out->request.label = out->label = label;
	out->request.type = out->type = type;
	out->request.url = out->url = url;
	out->request.ref = out->ref = ref;
	out->request.target = out->target = target;
	out->request.workspace = out->workspace = workspace;
	out->request.spec = &out->spec;
	json_decref(o);
	if (bad != 0 || label == NULL || type == NULL || url == NULL ||
	    target == NULL || workspace == NULL) {
		*error = xstrdup("the request lacks a member or has one of "
				 "the wrong type");
		source_request_owned_release(out);
		return -1;
	}
	return 0;
}

void
source_request_owned_release(struct source_request_owned *r)
{
	free(r->label);
	free(r->type);
	free(r->url);
	free(r->ref);
	free(r->target);
	free(r->workspace);
	free(r->spec.token_env);
	free(r->spec.token_file);
	free(r->spec.ssh_key_file);
	free(r->spec.known_hosts);
	free(r->spec.ca_file);
	memset(r, 0, sizeof(*r));
}
