/*
 * runnerlib's job environment (REACTORCIDE_JOB_ENV / --job-env): either
 * KEY=VALUE lines given inline, or the path of a file holding such lines.
 * Blank lines and lines starting with '#' are skipped; whitespace around
 * keys and values is trimmed; nothing is expanded.
 */
#ifndef JOBRUN_ENVFILE_H
#define JOBRUN_ENVFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "list.h"

/*
 * Reads spec (inline lines, or a path: a single line holding no '=') into
 * out.  origin names where spec came from, for
 * messages.  Returns 0, or -1 with a message in *error (caller frees).
 */
int envfile_load(
    struct nvlist *out, const char *spec, const char *origin, char **error);

/*
 * True when the n bytes at name are a variable name: letters, digits and
 * '_', not starting with a digit (isalnum() in the C locale).
 */
bool envfile_name_valid(const char *name, size_t n);

/* The largest job environment file read, in bytes. */
#define ENVFILE_MAX_SIZE (1024 * 1024)

/* Parses KEY=VALUE lines of text into out; as envfile_load() otherwise. */
int envfile_parse(
    struct nvlist *out, const char *text, const char *origin, char **error);

#endif
