/*
 * Helpers for reading a libyaml document tree by schema.  The first error
 * wins and carries the file, line and column of the offending node; every
 * visit is counted so that YAML aliases cannot make a small file expand into
 * an endless walk.
 */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "duration.h"
#include "problems.h"
#include "suggest.h"
#include "xalloc.h"
#include "yamlwalk.h"

int
yamlwalk_error(
    struct yamlwalk *walk, const yaml_node_t *node, const char *fmt, ...)
{
	struct srcpos pos = { 0, 0 };
	va_list ap;
	char *message;

	va_start(ap, fmt);
	if (vasprintf(&message, fmt, ap) < 0)
		message = NULL;
	va_end(ap);
	if (node != NULL)
		pos = yamlwalk_pos(node);
	problems_add(walk->problems, pos, "%s",
	    message != NULL ? message : "out of memory");
	free(message);
	return -1;
}

struct srcpos
yamlwalk_pos(const yaml_node_t *node)
{
	struct srcpos pos;

	pos.line = (unsigned)node->start_mark.line + 1;
	pos.column = (unsigned)node->start_mark.column + 1;
	return pos;
}

bool
yamlwalk_is_null(const yaml_node_t *node)
{
	const char *value = (const char *)node->data.scalar.value;

	if (node->type != YAML_SCALAR_NODE ||
	    node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return node->data.scalar.length == 0 || strcmp(value, "~") == 0 ||
	    strcmp(value, "null") == 0 || strcmp(value, "Null") == 0 ||
	    strcmp(value, "NULL") == 0;
}

const char *
yamlwalk_kind(const yaml_node_t *node)
{
	switch (node->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_SCALAR_NODE:
		return yamlwalk_is_null(node) ? "nothing" : "a string";
	case YAML_NO_NODE:
		break;
	}
	return "nothing";
}

/* Takes units of work from the walk's budget; -1 once it is spent. */
static int
charge(struct yamlwalk *walk, size_t units)
{
	if (walk->budget < units) {
		walk->budget = 0;
		if (walk->stopped)
			return -1;
		walk->stopped = true;
		return yamlwalk_error(walk, NULL,
		    "%s expands to more than %d values (through YAML aliases "
		    "or very large maps): expected at most %d",
		    walk->what != NULL ? walk->what : "the document",
		    YAMLWALK_BUDGET, YAMLWALK_BUDGET);
	}
	walk->budget -= units;
	return 0;
}

yaml_node_t *
yamlwalk_node(struct yamlwalk *walk, int index)
{
	yaml_node_t *node;

	if (charge(walk, 1) < 0)
		return NULL;
	node = yaml_document_get_node(walk->document, index);
	if (node == NULL)
		yamlwalk_error(walk, NULL, "broken YAML document");
	return node;
}

int
yamlwalk_string(
    struct yamlwalk *walk, yaml_node_t *node, const char *what, char **out)
{
	const char *value;
	size_t length;

	if (node->type != YAML_SCALAR_NODE || yamlwalk_is_null(node))
		return yamlwalk_error(walk, node, "expected %s, got %s", what,
		    yamlwalk_kind(node));
	value = (const char *)node->data.scalar.value;
	length = node->data.scalar.length;
	if (strlen(value) != length)
		return yamlwalk_error(walk, node,
		    "expected %s, got a string with a NUL byte", what);
	free(*out);
	*out = xstrndup(value, length);
	return 0;
}

int
yamlwalk_bool(struct yamlwalk *walk, yaml_node_t *node, bool *out)
{
	static const char *const yes[] = { "true", "True", "TRUE" };
	static const char *const no[] = { "false", "False", "FALSE" };
	const char *value;
	size_t i;

	if (node->type != YAML_SCALAR_NODE || yamlwalk_is_null(node))
		return yamlwalk_error(walk, node,
		    "expected true or false, got %s", yamlwalk_kind(node));
	value = (const char *)node->data.scalar.value;
	for (i = 0; i < 3; i++) {
		if (strcmp(value, yes[i]) != 0 && strcmp(value, no[i]) != 0)
			continue;
		/* "true" in quotes is a string; say so, or it reads odd. */
		if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
			return yamlwalk_error(walk, node,
			    "expected true or false without quotes, got the "
			    "quoted string '%s'",
			    value);
		*out = strcmp(value, yes[i]) == 0;
		return 0;
	}
	return yamlwalk_error(
	    walk, node, "expected true or false, got '%.40s'", value);
}

/*
 * Reads text as an integer of the YAML 1.2 core schema: [-+]?[0-9]+ in
 * decimal, 0o[0-7]+ in octal or 0x[0-9a-fA-F]+ in hexadecimal.  A value
 * past what long long holds reads as LLONG_MIN or LLONG_MAX, outside any
 * range asked for.  Returns false when text is not such an integer.
 */
static bool
core_integer(const char *text, long long *out)
{
	const char *digits = text, *allowed = "0123456789";
	unsigned long long value = 0, limit;
	bool negative = false;
	int base = 10;

	if (strncmp(text, "0o", 2) == 0) {
		digits += 2, base = 8, allowed = "01234567";
	} else if (strncmp(text, "0x", 2) == 0) {
		digits += 2, base = 16, allowed = "0123456789abcdefABCDEF";
	} else if (text[0] == '-' || text[0] == '+') {
		negative = text[0] == '-';
		digits++;
	}
	if (digits[0] == '\0' || strspn(digits, allowed) != strlen(digits))
		return false;
	limit = negative ? (unsigned long long)LLONG_MAX + 1 : LLONG_MAX;
	for (; *digits != '\0'; digits++) {
		int digit = isdigit((unsigned char)*digits)
		    ? *digits - '0'
		    : tolower((unsigned char)*digits) - 'a' + 10;

		if (value > (limit - (unsigned)digit) / (unsigned)base) {
			value = limit;
			break;
		}
		value = value * (unsigned)base + (unsigned)digit;
	}
	if (negative)
		*out = value == limit ? LLONG_MIN : -(long long)value;
	else
		*out = (long long)value;
	return true;
}

bool
yamlwalk_plain_integer(const yaml_node_t *node, long long *out)
{
	return node->type == YAML_SCALAR_NODE &&
	    node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    strlen((const char *)node->data.scalar.value) ==
	    node->data.scalar.length &&
	    core_integer((const char *)node->data.scalar.value, out);
}

int
yamlwalk_integer(struct yamlwalk *walk, yaml_node_t *node, long long min,
    long long max, long long *out)
{
	const char *text;
	long long value;

	if (node->type != YAML_SCALAR_NODE || yamlwalk_is_null(node))
		return yamlwalk_error(walk, node, "expected an integer, got %s",
		    yamlwalk_kind(node));
	text = (const char *)node->data.scalar.value;
	/* "3" in quotes is a string, as YAML and a JSON Schema see it. */
	if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return yamlwalk_error(walk, node,
		    "expected an integer without quotes, got the quoted "
		    "string '%.40s'",
		    text);
	if (!yamlwalk_plain_integer(node, &value) || value < min || value > max)
		return yamlwalk_error(walk, node,
		    "expected an integer from %lld to %lld, got '%.40s'", min,
		    max, text);
	*out = value;
	return 0;
}

int
yamlwalk_duration(struct yamlwalk *walk, yaml_node_t *node, uint64_t *out_ms)
{
	const char *why;
	long long seconds;
	char *text = NULL;
	int rc = 0;

	if (yamlwalk_string(walk, node, "a duration", &text) < 0)
		return -1;
	/* A plain integer (10, 0x10) is one to YAML: a number of seconds. */
	if (yamlwalk_plain_integer(node, &seconds)) {
		if (seconds <= 0)
			rc = yamlwalk_error(walk, node,
			    "expected a duration longer than zero, got "
			    "'%.40s'",
			    text);
		else if ((unsigned long long)seconds > DURATION_MAX_MS / 1000)
			rc = yamlwalk_error(walk, node,
			    "expected a duration of at most 366d, got '%.40s'",
			    text);
		else
			*out_ms = (uint64_t)seconds * 1000;
	} else if (duration_parse(out_ms, text, &why) < 0) {
		rc = yamlwalk_error(walk, node, "%s, got '%.40s'", why, text);
	}
	free(text);
	return rc;
}

int
yamlwalk_sequence(struct yamlwalk *walk, yaml_node_t *node, const char *what,
    int (*parse)(struct yamlwalk *, yaml_node_t *, void *), void *target)
{
	yaml_node_item_t *item;
	yaml_node_t *child;
	int rc = 0;

	if (node->type != YAML_SEQUENCE_NODE)
		return yamlwalk_error(walk, node,
		    "expected a list of %s, got %s", what, yamlwalk_kind(node));
	if (node->data.sequence.items.top - node->data.sequence.items.start >
	    YAMLWALK_SEQUENCE_MAX)
		return yamlwalk_error(walk, node,
		    "too many %s (at most %d in one list)", what,
		    YAMLWALK_SEQUENCE_MAX);
	for (item = node->data.sequence.items.start;
	     item < node->data.sequence.items.top; item++) {
		if ((child = yamlwalk_node(walk, *item)) == NULL)
			return -1;
		/* An item's problems do not hide the next item's. */
		if (parse(walk, child, target) < 0)
			rc = -1;
		if (walk->stopped)
			return -1;
	}
	return rc;
}

struct strings_target {
	const char *what;
	struct strlist *out;
	bool (*valid)(const char *);
	const char *list_name;
	const char *valid_what;
};

static int
strings_item(struct yamlwalk *walk, yaml_node_t *node, void *target)
{
	struct strings_target *t = target;
	char *value = NULL;
	int rc = 0;

	if (yamlwalk_string(walk, node, t->what, &value) < 0)
		return -1;
	if (t->valid != NULL && !t->valid(value))
		rc = yamlwalk_error(walk, node, "'%.60s' in %s is not %s",
		    value, t->list_name, t->valid_what);
	else
		strlist_push(t->out, value, yamlwalk_pos(node));
	free(value);
	return rc;
}

int
yamlwalk_strings(struct yamlwalk *walk, yaml_node_t *node, const char *what,
    bool allow_single, struct strlist *out)
{
	struct strings_target target = { what, out, NULL, NULL, NULL };

	if (allow_single && node->type == YAML_SCALAR_NODE)
		return strings_item(walk, node, &target);
	if (node->type != YAML_SEQUENCE_NODE) {
		return yamlwalk_error(walk, node,
		    "expected a list of %s, got %s", what, yamlwalk_kind(node));
	}
	return yamlwalk_sequence(walk, node, what, strings_item, &target);
}

int
yamlwalk_names(struct yamlwalk *walk, yaml_node_t *node, const char *what,
    const char *list_name, bool (*valid)(const char *), const char *valid_what,
    struct strlist *out)
{
	struct strings_target target = { what, out, valid, list_name,
		valid_what };

	return yamlwalk_sequence(walk, node, what, strings_item, &target);
}

/* Reads the key of a pair: a non-empty scalar. */
static int
yamlwalk_key(struct yamlwalk *walk, yaml_node_pair_t *pair, const char *what,
    yaml_node_t **key, yaml_node_t **value)
{
	if ((*key = yamlwalk_node(walk, pair->key)) == NULL ||
	    (*value = yamlwalk_node(walk, pair->value)) == NULL)
		return -1;
	if ((*key)->type != YAML_SCALAR_NODE || yamlwalk_is_null(*key))
		return yamlwalk_error(walk, *key,
		    "expected a name as a key in %s, got %s", what,
		    yamlwalk_kind(*key));
	/* Keys are compared as C strings: "run\0x" must not pass as run. */
	if (strlen((const char *)(*key)->data.scalar.value) !=
	    (*key)->data.scalar.length)
		return yamlwalk_error(walk, *key,
		    "expected a name as a key in %s, got a string with a NUL "
		    "byte",
		    what);
	return 0;
}

static const char *
key_text(const yaml_node_t *key)
{
	return (const char *)key->data.scalar.value;
}

/* Reads one entry of a mapping of names to values into out. */
static int
map_entry(struct yamlwalk *walk, yaml_node_pair_t *pair, const char *what,
    bool (*valid_name)(const char *), const char *name_what, struct nvlist *out)
{
	yaml_node_t *key, *value;
	const struct nvpair *earlier;
	char *text = NULL;

	if (yamlwalk_key(walk, pair, what, &key, &value) < 0)
		return -1;
	if (valid_name != NULL && !valid_name(key_text(key)))
		return yamlwalk_error(walk, key, "'%.60s' in %s is not %s",
		    key_text(key), what, name_what);
	if ((earlier = nvlist_get(out, key_text(key))) != NULL)
		return yamlwalk_error(walk, key,
		    "duplicate key '%.60s' in %s (first at line %u): "
		    "expected each name once",
		    key_text(key), what, earlier->pos.line);
	if (value->type != YAML_SCALAR_NODE)
		return yamlwalk_error(walk, value,
		    "expected a string value for '%.60s' in %s, got %s",
		    key_text(key), what, yamlwalk_kind(value));
	if (yamlwalk_is_null(value))
		text = xstrdup("");
	else if (yamlwalk_string(walk, value, "a string", &text) < 0)
		return -1;
	nvlist_set(out, key_text(key), text, yamlwalk_pos(key));
	wipe(text, strlen(text));
	free(text);
	return 0;
}

int
yamlwalk_map(struct yamlwalk *walk, yaml_node_t *node, const char *what,
    bool (*valid_name)(const char *), const char *name_what, struct nvlist *out)
{
	yaml_node_pair_t *pair;
	size_t entries;
	int rc = 0;

	if (node->type != YAML_MAPPING_NODE)
		return yamlwalk_error(walk, node,
		    "expected %s (a mapping of names to values), got %s", what,
		    yamlwalk_kind(node));
	entries = (size_t)(node->data.mapping.pairs.top -
	    node->data.mapping.pairs.start);
	if (entries > YAMLWALK_MAP_MAX)
		return yamlwalk_error(walk, node,
		    "too many entries in %s (at most %d)", what,
		    YAMLWALK_MAP_MAX);
	/* Every entry costs a value of the budget, so a large map aliased
	 * many times cannot take seconds. */
	if (charge(walk, entries) < 0)
		return -1;
	for (pair = node->data.mapping.pairs.start;
	     pair < node->data.mapping.pairs.top; pair++) {
		if (map_entry(walk, pair, what, valid_name, name_what, out) < 0)
			rc = -1;
		if (walk->stopped)
			return -1;
	}
	return rc;
}

/*
 * Returns the one known name that key starts with or that starts with key,
 * at least three characters long ("environment" for env, "depends" for
 * depends_on); NULL if none or more than one.
 */
static const char *
prefix_hint(
    const char *key, const struct yamlwalk_field *fields, size_t n_fields)
{
	size_t i, length, key_length = strlen(key);
	const char *hint = NULL;

	for (i = 0; i < n_fields; i++) {
		length = strlen(fields[i].name);
		if (length > key_length)
			length = key_length;
		if (length < 3 || strncmp(key, fields[i].name, length) != 0)
			continue;
		if (hint != NULL)
			return NULL;
		hint = fields[i].name;
	}
	return hint;
}

/* Returns "a, b or c" for the known keys, for messages. */
static char *
field_names(const struct yamlwalk_field *fields, size_t n_fields)
{
	size_t i, size = 1;
	char *text;

	for (i = 0; i < n_fields; i++)
		size += strlen(fields[i].name) + 4;
	text = xmalloc(size);
	text[0] = '\0';
	for (i = 0; i < n_fields; i++) {
		if (i > 0)
			strcat(text, i + 1 < n_fields ? ", " : " or ");
		strcat(text, fields[i].name);
	}
	return text;
}

/* Returns the field named name, or NULL. */
static const char *
field_named(
    const char *name, const struct yamlwalk_field *fields, size_t n_fields)
{
	size_t i;

	for (i = 0; i < n_fields; i++)
		if (strcmp(name, fields[i].name) == 0)
			return fields[i].name;
	return NULL;
}

/*
 * Reports a key another tool uses for one of fields (walk->aliases), or a
 * field written with '-' for '_'; -1 after reporting, 0 if neither.
 */
static int
foreign_key(struct yamlwalk *walk, yaml_node_t *key, yaml_node_t *value,
    const char *what, const struct yamlwalk_field *fields, size_t n_fields)
{
	const struct yamlwalk_alias *alias;
	char *note, *underscored, *p;
	const char *name;
	size_t i;

	for (i = 0; i < walk->n_aliases; i++) {
		alias = &walk->aliases[i];
		if (strcmp(key_text(key), alias->foreign) != 0 ||
		    field_named(alias->name, fields, n_fields) == NULL)
			continue;
		note = alias->note != NULL ? alias->note(value) : NULL;
		yamlwalk_error(walk, key,
		    "unknown key '%s' in %s (did you mean '%s'?%s%s)",
		    alias->foreign, what, alias->name, note ? " " : "",
		    note ? note : "");
		free(note);
		return -1;
	}
	underscored = xstrdup(key_text(key));
	for (p = underscored; *p != '\0'; p++)
		if (*p == '-')
			*p = '_';
	name = field_named(underscored, fields, n_fields);
	free(underscored);
	if (name == NULL || strchr(key_text(key), '-') == NULL)
		return 0;
	return yamlwalk_error(walk, key,
	    "unknown key '%.60s' in %s (did you mean '%s'? keys are written "
	    "with '_', not '-')",
	    key_text(key), what, name);
}

static int
unknown_key(struct yamlwalk *walk, yaml_node_t *key, yaml_node_t *value,
    const char *what, const struct yamlwalk_field *fields, size_t n_fields)
{
	const char *names[64], *hint;
	char *known;
	size_t i;

	if (strcmp(key_text(key), "<<") == 0)
		return yamlwalk_error(walk, key,
		    "YAML merge keys ('<<') are not supported in %s; "
		    "write the keys out or alias the whole value",
		    what);
	if (foreign_key(walk, key, value, what, fields, n_fields) < 0)
		return -1;
	for (i = 0; i < n_fields && i < 64; i++)
		names[i] = fields[i].name;
	hint = suggest_closest(key_text(key), names, i);
	if (hint == NULL)
		hint = prefix_hint(key_text(key), fields, n_fields);
	if (hint != NULL)
		return yamlwalk_error(walk, key,
		    "unknown key '%.60s' in %s (did you mean '%s'?)",
		    key_text(key), what, hint);
	known = field_names(fields, n_fields);
	yamlwalk_error(walk, key, "unknown key '%.60s' in %s: expected %s",
	    key_text(key), what, known);
	free(known);
	return -1;
}

/*
 * Reads one pair of a mapping of known keys.  A key named twice is reported
 * and its second value left unread.
 */
static int
fields_pair(struct yamlwalk *walk, yaml_node_pair_t *pair, const char *what,
    const struct yamlwalk_field *fields, size_t n_fields, void *target,
    yaml_node_t **seen)
{
	yaml_node_t *key, *value;
	size_t i;

	/* The key may be a required one, misspelt or unreadable. */
	if (yamlwalk_key(walk, pair, what, &key, &value) < 0) {
		walk->key_problems++;
		return -1;
	}
	for (i = 0; i < n_fields; i++)
		if (strcmp(key_text(key), fields[i].name) == 0)
			break;
	if (i == n_fields) {
		walk->key_problems++;
		return unknown_key(walk, key, value, what, fields, n_fields);
	}
	if (seen[i] != NULL)
		return yamlwalk_error(walk, key,
		    "duplicate key '%s' in %s (first at line %u): "
		    "expected each key once",
		    fields[i].name, what, yamlwalk_pos(seen[i]).line);
	seen[i] = key;
	return fields[i].parse(walk, value, target);
}

int
yamlwalk_fields(struct yamlwalk *walk, yaml_node_t *node, const char *what,
    const struct yamlwalk_field *fields, size_t n_fields, void *target,
    yaml_node_t **seen)
{
	yaml_node_t *local_seen[64];
	yaml_node_pair_t *pair;
	size_t i;
	int rc = 0;

	if (node->type != YAML_MAPPING_NODE)
		return yamlwalk_error(walk, node,
		    "expected %s (a mapping), got %s", what,
		    yamlwalk_kind(node));
	if (seen == NULL) {
		if (n_fields > 64)
			BUG("%zu fields in %s", n_fields, what);
		seen = local_seen;
	}
	for (i = 0; i < n_fields; i++)
		seen[i] = NULL;
	for (pair = node->data.mapping.pairs.start;
	     pair < node->data.mapping.pairs.top; pair++) {
		/* A key's problems do not hide the next key's. */
		if (fields_pair(
			walk, pair, what, fields, n_fields, target, seen) < 0)
			rc = -1;
		if (walk->stopped)
			return -1;
	}
	return rc;
}
