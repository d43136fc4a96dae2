/*
 * Typed reading of a libyaml document tree (loaded by yamldoc.h), with one
 * clear error per problem: "file:line:column: what was expected".  A
 * schema (jobfile.c) is written as tables of these helpers; nothing here
 * knows about jobs.
 *
 * Every helper returns 0 on success and -1 after adding a problem to
 * walk->problems.  Helpers that read many things (a mapping's keys, a
 * list's items) go on after a problem, so that one run shows every
 * independent problem; they return -1 if any part had one.  Only a spent
 * budget stops the whole walk (walk->stopped).
 */
#ifndef JOBRUN_YAMLWALK_H
#define JOBRUN_YAMLWALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "list.h"
#include "problems.h"

/* Most values a walk may visit; aliases cannot multiply past this. */
#define YAMLWALK_BUDGET 2000000
/* Most entries in a map of free-form names (env:, config:). */
#define YAMLWALK_MAP_MAX 4096
/* Most entries in one sequence. */
#define YAMLWALK_SEQUENCE_MAX 100000

/*
 * A key another tool uses (GitHub Actions' "needs") for a field of ours
 * ("depends_on"): an unknown key named foreign gets "did you mean 'name'?",
 * and note's words after it when note is not NULL (it returns a new string
 * or NULL; value is the key's value, to show it in our terms).
 */
struct yamlwalk_alias {
	const char *foreign;
	const char *name;
	char *(*note)(const yaml_node_t *value);
};

struct yamlwalk {
	yaml_document_t *document;
	const char *file;
	const char *what; /* "the job file": the document, for messages */
	struct problems *problems; /* borrowed; where problems go */
	size_t budget;
	bool stopped; /* the budget is spent: read nothing more */
	/*
	 * Keys yamlwalk_fields() could not match to a field (unknown or
	 * unreadable).  A caller checking for a required key skips the check
	 * when this grew while reading the mapping: the missing key may be
	 * the misspelt one, already reported.
	 */
	size_t key_problems;
	const struct yamlwalk_alias *aliases; /* may be NULL */
	size_t n_aliases;
};

/* A known key of a mapping and the function that reads its value. */
struct yamlwalk_field {
	const char *name;
	int (*parse)(struct yamlwalk *walk, yaml_node_t *value, void *target);
};

/* Adds a problem at node (NULL: no position) and returns -1. */
int yamlwalk_error(struct yamlwalk *walk, const yaml_node_t *node,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Returns the position of node, counted from 1. */
struct srcpos yamlwalk_pos(const yaml_node_t *node);

/* Returns "a mapping", "a list", "a string" or "nothing" for messages. */
const char *yamlwalk_kind(const yaml_node_t *node);

/* True for an empty plain scalar, "~" or "null". */
bool yamlwalk_is_null(const yaml_node_t *node);

/* Returns the node at index, counting it against the budget; NULL on error. */
yaml_node_t *yamlwalk_node(struct yamlwalk *walk, int index);

/* Reads a non-null scalar without NUL bytes into a new string. */
int yamlwalk_string(
    struct yamlwalk *walk, yaml_node_t *node, const char *what, char **out);

/* Reads true or false. */
int yamlwalk_bool(struct yamlwalk *walk, yaml_node_t *node, bool *out);

/*
 * True for a plain scalar that YAML 1.2's core schema reads as an integer
 * (see yamlwalk_integer()), whose value is then in *out.
 */
bool yamlwalk_plain_integer(const yaml_node_t *node, long long *out);

/*
 * Reads an integer in [min, max]: a plain scalar that YAML 1.2's core
 * schema reads as an integer (12, -3, +4, 0o17, 0x1f).  A quoted "3" is a
 * string and refused, as a JSON Schema sees it.
 */
int yamlwalk_integer(struct yamlwalk *walk, yaml_node_t *node, long long min,
    long long max, long long *out);

/*
 * Reads a duration in milliseconds: a plain integer as yamlwalk_integer()
 * reads it counts seconds; any other scalar, quoted or not, is read by
 * duration_parse() ("90s", "1h30m", "45").
 */
int yamlwalk_duration(
    struct yamlwalk *walk, yaml_node_t *node, uint64_t *out_ms);

/*
 * Reads a list of strings (each "what") and appends them to out.  With
 * allow_single, a lone string counts as a list of one.
 */
int yamlwalk_strings(struct yamlwalk *walk, yaml_node_t *node, const char *what,
    bool allow_single, struct strlist *out);

/*
 * Reads a list of names (each "what") into out, as yamlwalk_strings()
 * without allow_single, refusing each name valid() says no to with
 * "'NAME' in list_name is not valid_what".
 */
int yamlwalk_names(struct yamlwalk *walk, yaml_node_t *node, const char *what,
    const char *list_name, bool (*valid)(const char *), const char *valid_what,
    struct strlist *out);

/*
 * Reads a mapping of names to scalar values into out.  A null value reads as
 * "".  valid_name (may be NULL) checks each name; name_what describes a
 * valid name in the error.  Duplicate names are an error.
 */
int yamlwalk_map(struct yamlwalk *walk, yaml_node_t *node, const char *what,
    bool (*valid_name)(const char *), const char *name_what,
    struct nvlist *out);

/*
 * Reads a mapping whose keys must be among fields[0..n_fields).  Calls each
 * field's parse with its value and target; unknown keys get a "did you mean"
 * hint (from walk->aliases, a '-' written for '_', or a near spelling),
 * duplicate keys an error naming the first.  When seen is not NULL, seen[i] is
 * set to the key node of fields[i], or NULL if absent (a key whose value had a
 * problem counts as present, so that callers checking for required keys do not
 * report it twice).
 */
int yamlwalk_fields(struct yamlwalk *walk, yaml_node_t *node, const char *what,
    const struct yamlwalk_field *fields, size_t n_fields, void *target,
    yaml_node_t **seen);

/* Calls parse for each item of the sequence node (at most the limit). */
int yamlwalk_sequence(struct yamlwalk *walk, yaml_node_t *node,
    const char *what, int (*parse)(struct yamlwalk *, yaml_node_t *, void *),
    void *target);

#endif
