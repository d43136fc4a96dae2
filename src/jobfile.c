/*
 * The job file's schema, written as tables of known keys and the functions
 * that read their values (see yamlwalk.h); loading the YAML text, its
 * limits and its syntax errors are yamldoc.c's.  Values that configuration
 * layers may override are stored as raw settings under their dotted key; the
 * rest go to the typed fields of struct job.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "duration.h"
#include "envfile.h"
#include "jobfile.h"
#include "plan.h"
#include "problems.h"
#include "xalloc.h"
#include "yamldoc.h"
#include "yamlwalk.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Stores a scalar as the setting key after checking it with check. */
static int
put_setting(struct yamlwalk *walk, yaml_node_t *node, struct job *job,
    const char *key, const char *what)
{
	char *value = NULL;

	if (yamlwalk_string(walk, node, what, &value) < 0)
		return -1;
	nvlist_set(&job->settings, key, value, yamlwalk_pos(node));
	free(value);
	return 0;
}

static bool
env_name_valid(const char *name)
{
	return envfile_name_valid(name, strlen(name));
}

static const char env_name_what[] = "a valid variable name: expected letters, "
				    "digits and '_', not starting with a digit";

static int
read_env(struct yamlwalk *walk, yaml_node_t *node, struct nvlist *env)
{
	return yamlwalk_map(
	    walk, node, "env", env_name_valid, env_name_what, env);
}

static int
read_name(
    struct yamlwalk *walk, yaml_node_t *node, char **out, const char *what)
{
	if (yamlwalk_string(walk, node, what, out) < 0)
		return -1;
	if (strlen(*out) > JOB_NAME_MAX)
		return yamlwalk_error(walk, node,
		    "a name of %zu characters ('%.20s...') is too long: "
		    "expected at most %d",
		    strlen(*out), *out, JOB_NAME_MAX);
	if (!job_name_valid(*out))
		return yamlwalk_error(walk, node,
		    "'%.60s' is not a valid name: expected letters, digits, "
		    "'_', '.' and '-', starting with a letter or digit, "
		    "at most %d characters",
		    *out, JOB_NAME_MAX);
	return 0;
}

/*
 * Reads a duration and stores it as a setting in the form duration_parse()
 * reads back ("0x10" in the file is stored as "16s").
 */
static int
put_duration_setting(
    struct yamlwalk *walk, yaml_node_t *node, struct job *job, const char *key)
{
	char text[64];
	uint64_t ms;

	if (yamlwalk_duration(walk, node, &ms) < 0)
		return -1;
	nvlist_set(&job->settings, key, duration_format(text, sizeof(text), ms),
	    yamlwalk_pos(node));
	return 0;
}
/*
 * True when the mapping node was read whole, so that a key missing from it
 * is missing indeed: node is a mapping, the walk goes on, and none of its
 * keys was unknown or unreadable since key_problems was taken.
 */
static bool
required_keys_known(
    const struct yamlwalk *walk, const yaml_node_t *node, size_t key_problems)
{
	return node->type == YAML_MAPPING_NODE && !walk->stopped &&
	    walk->key_problems == key_problems;
}

/* ---- top level ---- */

static int
top_version(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	long long version;

	(void)target;
	if (!yamlwalk_plain_integer(node, &version))
		return yamlwalk_integer(walk, node, 1, 1, &version);
	if (version != 1)
		return yamlwalk_error(walk, node,
		    "unsupported version '%.40s': expected 1",
		    (const char *)node->data.scalar.value);
	return 0;
}

static int
top_name(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	char *name = NULL;
	int rc;

	rc = read_name(walk, node, &name, "a job name");
	free(name);
	if (rc < 0)
		return -1;
	return put_setting(walk, node, target, "name", "a job name");
}

static int
top_shell(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	return put_setting(walk, node, target, "shell", "a shell");
}

static int
top_workdir(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	return put_setting(walk, node, target, "workdir", "a directory");
}

static int
top_untrusted_user(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	return put_setting(walk, node, target, "untrusted_user", "a user");
}

static int
top_isolation(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	return put_setting(walk, node, target, "isolation", "strict or weak");
}

static int
top_timeout(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	return put_duration_setting(walk, node, target, "timeout");
}

static int
top_trusted(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	struct job *job = target;
	bool value;

	if (yamlwalk_bool(walk, node, &value) < 0)
		return -1;
	job->trusted = value ? TRISTATE_TRUE : TRISTATE_FALSE;
	return 0;
}

static int
top_env(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	return read_env(walk, node, &((struct job *)target)->env);
}

/* ---- secrets ---- */

static int
secrets_env(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	struct job *job = target;

	return yamlwalk_names(walk, node, "variable names", "secrets.env",
	    env_name_valid, env_name_what, &job->secrets.env);
}

static int
secrets_env_globs(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	struct job *job = target;

	return yamlwalk_strings(walk, node, "name globs such as '*_TOKEN'",
	    false, &job->secrets.env_globs);
}

static int
secrets_files(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	struct job *job = target;

	return yamlwalk_strings(
	    walk, node, "file paths", false, &job->secrets.files);
}

/* Compiles each pattern once, so a bad one is caught before anything runs. */
static int
secrets_patterns(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	struct job *job = target;
	struct strlist *patterns = &job->secrets.patterns;
	PCRE2_UCHAR message[256];
	PCRE2_SIZE offset;
	pcre2_code *code;
	size_t i, first = patterns->len;
	int status, rc;

	rc = yamlwalk_strings(walk, node, "PCRE2 patterns", false, patterns);
	for (i = first; i < patterns->len; i++) {
		code = pcre2_compile((PCRE2_SPTR)patterns->items[i],
		    PCRE2_ZERO_TERMINATED, PCRE2_UTF, &status, &offset, NULL);
		if (code == NULL) {
			pcre2_get_error_message(
			    status, message, sizeof(message));
			problems_add(walk->problems, patterns->pos[i],
			    "bad pattern in secrets.patterns: %s at offset %zu",
			    (char *)message, (size_t)offset);
			rc = -1;
			continue;
		}
		pcre2_code_free(code);
	}
	return rc;
}

static int
secrets_min_length(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	struct job *job = target;
	long long value;
	char text[32];

	if (yamlwalk_integer(walk, node, 1, 4096, &value) < 0)
		return -1;
	/* Stored in decimal, as the other configuration layers write it. */
	snprintf(text, sizeof(text), "%lld", value);
	nvlist_set(
	    &job->settings, "secrets.min_length", text, yamlwalk_pos(node));
	return 0;
}
static const struct yamlwalk_field secrets_fields[] = {
	{ "env", secrets_env },
	{ "env_globs", secrets_env_globs },
	{ "files", secrets_files },
	{ "patterns", secrets_patterns },
	{ "min_length", secrets_min_length },
};

static int
top_secrets(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	return yamlwalk_fields(walk, node, "secrets", secrets_fields,
	    ARRAY_SIZE(secrets_fields), target, NULL);
}

/* ---- source and ci_source ---- */

struct source_target {
	struct job *job;
	struct source_spec *spec;
	const char *prefix; /* "source" or "ci_source" */
};

static const char *const source_types[] = { "git", "copy", "tarball", "none" };

static int
check_source_type(struct yamlwalk *walk, yaml_node_t *node)
{
	const char *value = (const char *)node->data.scalar.value;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(source_types); i++)
		if (strcmp(value, source_types[i]) == 0)
			return 0;
	return yamlwalk_error(walk, node,
	    "unknown source type '%.40s': expected git, copy, tarball or none",
	    value);
}

static int
source_setting(struct yamlwalk *walk, yaml_node_t *node, void *target,
    const char *field, const char *what)
{
	struct source_target *t = target;
	char key[32];

	snprintf(key, sizeof(key), "%s.%s", t->prefix, field);
	return put_setting(walk, node, t->job, key, what);
}

static int
source_type(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	if (source_setting(walk, node, target, "type", "a source type") < 0)
		return -1;
	return check_source_type(walk, node);
}

static int
source_url(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	return source_setting(walk, node, target, "url", "a URL or path");
}

static int
source_ref(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	return source_setting(
	    walk, node, target, "ref", "a branch, tag or commit");
}

static int
source_depth(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	struct source_target *t = target;

	return yamlwalk_integer(walk, node, 0, 1000000, &t->spec->depth);
}

static int
source_submodules(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	struct source_target *t = target;

	return yamlwalk_bool(walk, node, &t->spec->submodules);
}

static int
source_token_env(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	struct source_target *t = target;

	if (yamlwalk_string(
		walk, node, "a variable name", &t->spec->token_env) < 0)
		return -1;
	if (!env_name_valid(t->spec->token_env))
		return yamlwalk_error(walk, node, "'%.60s' is not %s",
		    t->spec->token_env, env_name_what);
	return 0;
}

static int
source_token_file(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	struct source_target *t = target;

	return yamlwalk_string(walk, node, "a file path", &t->spec->token_file);
}

static int
source_ssh_key_file(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	struct source_target *t = target;

	return yamlwalk_string(
	    walk, node, "a file path", &t->spec->ssh_key_file);
}

static int
source_timeout(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	struct source_target *t = target;

	return yamlwalk_duration(walk, node, &t->spec->timeout_ms);
}

/* known_hosts, ca_file and max_size: the network sources' settings. */
static int
source_known_hosts(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	struct source_target *t = target;

	return yamlwalk_string(
	    walk, node, "a file path", &t->spec->known_hosts);
}

static int
source_ca_file(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	struct source_target *t = target;

	return yamlwalk_string(walk, node, "a file path", &t->spec->ca_file);
}

static int
source_max_size(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	struct source_target *t = target;

	return yamlwalk_integer(walk, node, 1, 1LL << 50, &t->spec->max_size);
}

static const struct yamlwalk_field source_fields[] = {
	{ "type", source_type },
	{ "url", source_url },
	{ "ref", source_ref },
	{ "depth", source_depth },
	{ "submodules", source_submodules },
	{ "token_env", source_token_env },
	{ "token_file", source_token_file },
	{ "ssh_key_file", source_ssh_key_file },
	{ "timeout", source_timeout },
	{ "known_hosts", source_known_hosts },
	{ "ca_file", source_ca_file },
	{ "max_size", source_max_size },
};

static int
read_source(struct yamlwalk *walk, yaml_node_t *node, struct job *job,
    struct source_spec *spec, const char *prefix)
{
	struct source_target target = { job, spec, prefix };
	yaml_node_t *seen[ARRAY_SIZE(source_fields)];
	const char *type;
	char key[32];
	int rc;

	size_t key_problems = walk->key_problems;

	rc = yamlwalk_fields(walk, node, prefix, source_fields,
	    ARRAY_SIZE(source_fields), &target, seen);
	if (!required_keys_known(walk, node, key_problems))
		return -1;
	snprintf(key, sizeof(key), "%s.type", prefix);
	type = job_setting(job, key);
	if (seen[0] == NULL)
		rc = yamlwalk_error(walk, node,
		    "%s has no 'type': expected git, copy, tarball or none",
		    prefix);
	else if (type != NULL && strcmp(type, "none") != 0 && seen[1] == NULL)
		rc = yamlwalk_error(walk, node,
		    "%s of type '%s' has no 'url': expected where to get it",
		    prefix, type);
	spec->present = true;
	spec->pos = yamlwalk_pos(node);
	return rc;
}

static int
top_source(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	struct job *job = target;

	return read_source(walk, node, job, &job->source, "source");
}

static int
top_ci_source(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	struct job *job = target;

	return read_source(walk, node, job, &job->ci_source, "ci_source");
}

/* ---- plugins ---- */

static int
plugin_path(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	struct plugin_spec *plugin = target;

	return yamlwalk_string(walk, node, "a plugin path", &plugin->path);
}

static int
plugin_priority(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	struct plugin_spec *plugin = target;

	return yamlwalk_integer(walk, node, -10000, 10000, &plugin->priority);
}

static int
plugin_config(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	struct plugin_spec *plugin = target;

	return yamlwalk_map(
	    walk, node, "plugin config", NULL, NULL, &plugin->config);
}

static const struct yamlwalk_field plugin_fields[] = {
	{ "path", plugin_path },
	{ "priority", plugin_priority },
	{ "config", plugin_config },
};

static int
plugin_item(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	struct plugin_spec *plugin = job_add_plugin(target);
	yaml_node_t *seen[ARRAY_SIZE(plugin_fields)];
	size_t key_problems = walk->key_problems;
	int rc;

	plugin->pos = yamlwalk_pos(node);
	rc = yamlwalk_fields(walk, node, "a plugin", plugin_fields,
	    ARRAY_SIZE(plugin_fields), plugin, seen);
	if (!required_keys_known(walk, node, key_problems))
		return -1;
	if (seen[0] == NULL)
		rc = yamlwalk_error(walk, node,
		    "plugin has no 'path': expected the .so file to load");
	return rc;
}

static int
top_plugins(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	return yamlwalk_sequence(walk, node, "plugins", plugin_item, target);
}

/* ---- steps ---- */

static int
step_name(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	struct step *step = target;

	step->name_pos = yamlwalk_pos(node);
	return read_name(walk, node, &step->name, "a step name");
}

static int
step_run(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	return yamlwalk_string(
	    walk, node, "a command to run", &((struct step *)target)->run);
}

static int
step_depends_on(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	return yamlwalk_strings(walk, node, "step names", true,
	    &((struct step *)target)->depends_on);
}

static int
step_env(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	return read_env(walk, node, &((struct step *)target)->env);
}

static int
step_workdir(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	return yamlwalk_string(
	    walk, node, "a directory", &((struct step *)target)->workdir);
}

static int
step_shell(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	return yamlwalk_string(
	    walk, node, "a shell", &((struct step *)target)->shell);
}

static int
step_timeout(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	return yamlwalk_duration(
	    walk, node, &((struct step *)target)->timeout_ms);
}

static int
step_retries(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	return yamlwalk_integer(
	    walk, node, 0, 100, &((struct step *)target)->retries);
}

static int
step_continue_on_error(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	return yamlwalk_bool(
	    walk, node, &((struct step *)target)->continue_on_error);
}

static int
step_if(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	struct step *step = target;

	step->condition_pos = yamlwalk_pos(node);
	return yamlwalk_string(walk, node, "a condition", &step->condition);
}

static int
step_trusted(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	struct step *step = target;
	bool value;

	if (yamlwalk_bool(walk, node, &value) < 0)
		return -1;
	step->trusted = value ? TRISTATE_TRUE : TRISTATE_FALSE;
	return 0;
}

static int
step_run_as(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	return yamlwalk_string(walk, node, "a user or uid[:gid]",
	    &((struct step *)target)->run_as);
}

static const struct yamlwalk_field step_fields[] = {
	{ "name", step_name },
	{ "run", step_run },
	{ "depends_on", step_depends_on },
	{ "env", step_env },
	{ "workdir", step_workdir },
	{ "shell", step_shell },
	{ "timeout", step_timeout },
	{ "retries", step_retries },
	{ "continue_on_error", step_continue_on_error },
	{ "if", step_if },
	{ "trusted", step_trusted },
	{ "run_as", step_run_as },
};

/* Names a step in messages: "step 'build'" or, without a name, "step 3". */
static char *
step_label(struct yamlwalk *walk, yaml_node_t *node, size_t index)
{
	yaml_node_pair_t *pair;
	yaml_node_t *key, *value;

	if (node->type == YAML_MAPPING_NODE) {
		for (pair = node->data.mapping.pairs.start;
		     pair < node->data.mapping.pairs.top; pair++) {
			key = yaml_document_get_node(walk->document, pair->key);
			value =
			    yaml_document_get_node(walk->document, pair->value);
			if (key != NULL && value != NULL &&
			    key->type == YAML_SCALAR_NODE &&
			    value->type == YAML_SCALAR_NODE &&
			    strcmp((char *)key->data.scalar.value, "name") ==
				0 &&
			    job_name_valid((char *)value->data.scalar.value))
				return xasprintf("step '%s'",
				    (char *)value->data.scalar.value);
		}
	}
	return xasprintf("step %zu", index);
}

static int
step_item(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	struct job *job = target;
	struct step *step = job_add_step(job);
	yaml_node_t *seen[ARRAY_SIZE(step_fields)];
	size_t key_problems = walk->key_problems;
	char *label;
	int rc;

	step->pos = yamlwalk_pos(node);
	label = step_label(walk, node, job->n_steps);
	rc = yamlwalk_fields(walk, node, label, step_fields,
	    ARRAY_SIZE(step_fields), step, seen);
	if (!required_keys_known(walk, node, key_problems)) {
		free(label);
		return -1;
	}
	if (seen[0] == NULL)
		rc = yamlwalk_error(walk, node,
		    "%s has no 'name': expected a name for the step", label);
	if (seen[1] == NULL)
		rc = yamlwalk_error(walk, node,
		    "%s has no 'run': expected the command to run", label);
	free(label);
	return rc;
}

static int
top_steps(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	return yamlwalk_sequence(walk, node, "steps", step_item, target);
}

/* ---- triggers ---- */

static int
trigger_job(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	struct trigger_spec *trigger = target;

	return read_name(walk, node, &trigger->job, "a job name");
}

static int
trigger_when(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	static const enum trigger_when whens[] = { TRIGGER_WHEN_SUCCESS,
		TRIGGER_WHEN_FAILURE, TRIGGER_WHEN_ALWAYS };
	struct trigger_spec *trigger = target;
	char *value = NULL;
	size_t i;

	if (yamlwalk_string(walk, node, "success, failure or always", &value) <
	    0)
		return -1;
	for (i = 0; i < ARRAY_SIZE(whens); i++) {
		if (strcmp(value, trigger_when_name(whens[i])) == 0) {
			trigger->when = whens[i];
			free(value);
			return 0;
		}
	}
	yamlwalk_error(walk, node,
	    "expected success, failure or always, got '%.40s'", value);
	free(value);
	return -1;
}

static int
trigger_if(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	struct trigger_spec *trigger = target;

	trigger->condition_pos = yamlwalk_pos(node);
	return yamlwalk_string(walk, node, "a condition", &trigger->condition);
}

static int
trigger_env(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	return read_env(walk, node, &((struct trigger_spec *)target)->env);
}

static int
trigger_depends_on(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	return yamlwalk_strings(walk, node, "job names", true,
	    &((struct trigger_spec *)target)->depends_on);
}

static int
trigger_condition(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	struct trigger_spec *trigger = target;
	const char *value;

	if (yamlwalk_string(walk, node, "all_success, any_failed or always",
		&trigger->worker_condition) < 0)
		return -1;
	value = trigger->worker_condition;
	if (strcmp(value, "all_success") != 0 &&
	    strcmp(value, "any_failed") != 0 && strcmp(value, "always") != 0)
		return yamlwalk_error(walk, node,
		    "expected all_success, any_failed or always, got '%.40s'",
		    value);
	return 0;
}

static int
trigger_for_each(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	return yamlwalk_strings(walk, node, "values", false,
	    &((struct trigger_spec *)target)->for_each);
}

static int
trigger_as(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	struct trigger_spec *trigger = target;

	if (yamlwalk_string(walk, node, "a variable name", &trigger->item_var) <
	    0)
		return -1;
	if (!env_name_valid(trigger->item_var))
		return yamlwalk_error(walk, node, "'%.60s' is not %s",
		    trigger->item_var, env_name_what);
	return 0;
}

static int
trigger_job_command(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	return yamlwalk_string(walk, node, "a command",
	    &((struct trigger_spec *)target)->job_command);
}

static int
trigger_container_image(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	return yamlwalk_string(walk, node, "an image name",
	    &((struct trigger_spec *)target)->container_image);
}

static int
trigger_timeout(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	return yamlwalk_duration(
	    walk, node, &((struct trigger_spec *)target)->timeout_ms);
}

static int
trigger_priority(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	struct trigger_spec *trigger = target;

	trigger->has_priority = true;
	return yamlwalk_integer(walk, node, -10000, 10000, &trigger->priority);
}

static int
ref_type(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	char *value = NULL;

	if (yamlwalk_string(walk, node, "a source type", &value) < 0)
		return -1;
	nvlist_set(target, "type", value, yamlwalk_pos(node));
	free(value);
	return check_source_type(walk, node);
}

static int
ref_string(struct yamlwalk *walk, yaml_node_t *node, struct nvlist *out,
    const char *key)
{
	char *value = NULL;

	if (yamlwalk_string(walk, node, "a string", &value) < 0)
		return -1;
	nvlist_set(out, key, value, yamlwalk_pos(node));
	free(value);
	return 0;
}

static int
ref_url(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	return ref_string(walk, node, target, "url");
}

static int
ref_ref(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	return ref_string(walk, node, target, "ref");
}

/* A trigger names the sources of the job it starts with these three. */
static const struct yamlwalk_field trigger_source_fields[] = {
	{ "type", ref_type },
	{ "url", ref_url },
	{ "ref", ref_ref },
};

static int
trigger_source(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	return yamlwalk_fields(walk, node, "trigger source",
	    trigger_source_fields, ARRAY_SIZE(trigger_source_fields),
	    &((struct trigger_spec *)target)->source, NULL);
}

static int
trigger_ci_source(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	return yamlwalk_fields(walk, node, "trigger ci_source",
	    trigger_source_fields, ARRAY_SIZE(trigger_source_fields),
	    &((struct trigger_spec *)target)->ci_source, NULL);
}

static const struct yamlwalk_field trigger_fields[] = {
	{ "job", trigger_job },
	{ "when", trigger_when },
	{ "if", trigger_if },
	{ "env", trigger_env },
	{ "depends_on", trigger_depends_on },
	{ "condition", trigger_condition },
	{ "for_each", trigger_for_each },
	{ "as", trigger_as },
	{ "job_command", trigger_job_command },
	{ "container_image", trigger_container_image },
	{ "timeout", trigger_timeout },
	{ "priority", trigger_priority },
	{ "source", trigger_source },
	{ "ci_source", trigger_ci_source },
};

static int
trigger_item(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	struct trigger_spec *trigger = job_add_trigger(target);
	yaml_node_t *seen[ARRAY_SIZE(trigger_fields)];
	size_t key_problems = walk->key_problems;
	int rc;

	trigger->pos = yamlwalk_pos(node);
	rc = yamlwalk_fields(walk, node, "a trigger", trigger_fields,
	    ARRAY_SIZE(trigger_fields), trigger, seen);
	if (trigger->item_var == NULL)
		trigger->item_var = xstrdup("ITEM");
	if (!required_keys_known(walk, node, key_problems))
		return -1;
	if (seen[0] == NULL)
		rc = yamlwalk_error(walk, node,
		    "trigger has no 'job': expected the name of the job to "
		    "run");
	/* Unless for_each had a problem of its own, said already. */
	if (seen[7] != NULL && trigger->for_each.len == 0 && rc == 0)
		rc = yamlwalk_error(walk, seen[7],
		    "'as' names the variable of 'for_each', which is missing: "
		    "expected a 'for_each' list of values");
	return rc;
}

static int
top_triggers(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	return yamlwalk_sequence(walk, node, "triggers", trigger_item, target);
}

/* ---- container (read by runtime-job.c, as settings) ---- */

static int
container_image(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	return put_setting(walk, node, target, "container.image", "an image");
}

static int
container_pull(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	const char *v = node->type == YAML_SCALAR_NODE
	    ? (const char *)node->data.scalar.value
	    : "";

	if (strcmp(v, "always") != 0 && strcmp(v, "missing") != 0 &&
	    strcmp(v, "never") != 0)
		return yamlwalk_error(
		    walk, node, "expected always, missing or never");
	return put_setting(walk, node, target, "container.pull", "a policy");
}

static int
resources_cpus(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	return put_setting(walk, node, target, "container.resources.cpus",
	    "a number of processors");
}

static int
resources_memory(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	return put_setting(
	    walk, node, target, "container.resources.memory", "a size");
}

static int
resources_pids(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	long long value;

	if (yamlwalk_integer(walk, node, 1, 1 << 22, &value) < 0)
		return -1;
	return put_setting(walk, node, target, "container.resources.pids",
	    "a number of processes");
}

static const struct yamlwalk_field container_resources_fields[] = {
	{ "cpus", resources_cpus },
	{ "memory", resources_memory },
	{ "pids", resources_pids },
};

static int
container_resources(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	return yamlwalk_fields(walk, node, "container.resources",
	    container_resources_fields, ARRAY_SIZE(container_resources_fields),
	    target, NULL);
}

static const struct yamlwalk_field container_fields[] = {
	{ "image", container_image },
	{ "pull", container_pull },
	{ "resources", container_resources },
};

static int
top_container(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	return yamlwalk_fields(walk, node, "container", container_fields,
	    ARRAY_SIZE(container_fields), target, NULL);
}

static const struct yamlwalk_field top_fields[] = {
	{ "version", top_version },
	{ "name", top_name },
	{ "shell", top_shell },
	{ "workdir", top_workdir },
	{ "timeout", top_timeout },
	{ "trusted", top_trusted },
	{ "untrusted_user", top_untrusted_user },
	{ "isolation", top_isolation },
	{ "env", top_env },
	{ "secrets", top_secrets },
	{ "source", top_source },
	{ "ci_source", top_ci_source },
	{ "plugins", top_plugins },
	{ "steps", top_steps },
	{ "triggers", top_triggers },
	{ "container", top_container },
};

/* ---- documents ---- */

/* Shows GitHub Actions' timeout-minutes: N as our timeout: Nm. */
static char *
minutes_note(const yaml_node_t *value)
{
	const char *text = (const char *)value->data.scalar.value;
	size_t digits = 0;

	if (value->type == YAML_SCALAR_NODE)
		digits = strspn(text, "0123456789");
	if (digits == 0 || digits > 9 || text[digits] != '\0')
		text = "10";
	return xasprintf("it takes a duration with its unit, as in "
			 "'timeout: %sm'",
	    text);
}

/* Keys of GitHub Actions (and GitLab) that have a name of their own here. */
static const struct yamlwalk_alias foreign_keys[] = {
	{ "needs", "depends_on", NULL },
	{ "timeout-minutes", "timeout", minutes_note },
	{ "timeout_minutes", "timeout", minutes_note },
	{ "working-directory", "workdir", NULL },
	{ "working_directory", "workdir", NULL },
	{ "environment", "env", NULL },
	{ "variables", "env", NULL },
	{ "script", "run", NULL },
	{ "command", "run", NULL },
	{ "allow_failure", "continue_on_error", NULL },
	{ "allow-failure", "continue_on_error", NULL },
	{ "rules", "if", NULL },
	{ "when", "if", NULL },
	{ "id", "name", NULL },
};

/*
 * Walks the document's root with the job schema, adding every problem
 * found to problems; the job holds what could be read.
 */
static struct job *
read_job(const char *name, yaml_document_t *document, struct problems *problems)
{
	struct yamlwalk walk = { 0 };
	struct job *job = job_new(name);

	walk.document = document;
	walk.file = name;
	walk.what = "the job file";
	walk.problems = problems;
	walk.budget = YAMLWALK_BUDGET;
	walk.aliases = foreign_keys;
	walk.n_aliases = ARRAY_SIZE(foreign_keys);
	if (yamlwalk_fields(&walk, yaml_document_get_root_node(document),
		"the job file", top_fields, ARRAY_SIZE(top_fields), job,
		NULL) < 0 &&
	    walk.stopped)
		return job;
	/* Checks across steps see what could be read, so one run shows the
	 * problems of both kinds. */
	plan_check(job, problems);
	return job;
}

/* jobfile_parse(); *partial (may be NULL) gets a refused job's part. */
static struct job *
parse(const char *name, const char *data, size_t size, char **error,
    struct job **partial)
{
	struct problems problems = PROBLEMS_INIT(name);
	yaml_document_t document;
	struct job *job;

	*error = NULL;
	if (partial != NULL)
		*partial = NULL;
	if (yamldoc_load(&document, name, data, size, "job", error) < 0)
		return NULL;
	if (yaml_document_get_root_node(&document) == NULL) {
		*error = xasprintf("%s: the job file is empty: expected a "
				   "mapping with 'steps'",
		    name);
		yaml_document_delete(&document);
		return NULL;
	}
	job = read_job(name, &document, &problems);
	yaml_document_delete(&document);
	if (problems_count(&problems) > 0) {
		*error = problems_join(
		    &problems, PROBLEMS_DIAG_SEPARATOR, PROBLEMS_DIAG_MAX);
		if (partial != NULL)
			*partial = job;
		else
			job_free(job);
		job = NULL;
	}
	problems_release(&problems);
	return job;
}

struct job *
jobfile_parse(const char *name, const char *data, size_t size, char **error)
{
	return parse(name, data, size, error, NULL);
}

struct job *
jobfile_load_partial(const char *path, char **error, struct job **partial)
{
	struct job *job;
	size_t size;
	char *data;

	if (partial != NULL)
		*partial = NULL;
	if (yamldoc_read_file(
		&data, &size, path, "job file", JOBFILE_MAX_SIZE, error) < 0)
		return NULL;
	job = parse(path, data, size, error, partial);
	free(data);
	return job;
}

struct job *
jobfile_load(const char *path, char **error)
{
	return jobfile_load_partial(path, error, NULL);
}
