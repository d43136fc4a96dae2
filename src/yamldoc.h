/*
 * YAML documents in and out of libyaml: read a file within a size limit,
 * refuse nesting past a depth, load exactly one document, and describe
 * whatever stopped libyaml as one line "file:line:column: invalid YAML:
 * what was expected".  Nothing here knows what the document means; a schema
 * reads the loaded tree with yamlwalk.h.
 */
#ifndef JOBRUN_YAMLDOC_H
#define JOBRUN_YAMLDOC_H

#include <stddef.h>
#include <yaml.h>

/* How deep YAML may nest; a job file needs about five levels. */
#define YAMLDOC_MAX_DEPTH 64

/*
 * Reads the file at path ("-" for standard input) into a new buffer *out
 * (the caller frees it) of *size bytes.  what names the file in messages
 * ("job file").  A file of more than limit bytes, a directory, or one that
 * cannot be opened or read is refused.  Returns 0, or -1 with a message in
 * *error (the caller frees it).
 */
int yamldoc_read_file(char **out, size_t *size, const char *path,
    const char *what, size_t limit, char **error);

/*
 * Loads the one YAML document in size bytes of data into *out; name stands
 * for the file in messages.  An empty stream (or one of only comments)
 * loads as a document without a root node: the caller decides whether that
 * is an error.  A second document is an error saying "expected one unit per
 * file".  Returns 0 (the caller then calls yaml_document_delete(out)), or -1
 * with a message in *error (the caller frees it) and nothing to delete.
 */
int yamldoc_load(yaml_document_t *out, const char *name, const char *data,
    size_t size, const char *unit, char **error);

#endif
