/*
 * The Podman/Docker backend's pieces that do not run anything: the
 * arguments of "create", and the parsers of what the tools print (inspect,
 * ps, errors), where the two tools differ.  Pure functions, tested by a
 * table in tests/unit/test-runtime-engine.c.
 */
#ifndef JOBRUN_RUNTIME_ENGINE_H
#define JOBRUN_RUNTIME_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime.h"

enum engine_kind {
	ENGINE_PODMAN,
	ENGINE_DOCKER,
};

struct engine;

/* What one run of the tool gave: NUL-terminated, owned. */
struct engine_output {
	int status;
	char *out;
	size_t out_length;
	char *err;
	size_t err_length;
};

/*
 * Runs the tool with args (NULL-terminated, after the program name) and
 * waits for it; its standard output goes to out_fd, or (out_fd -1) into
 * o->out.  Returns 0 with *o filled (release it), or -1 with *error when
 * it could not start.
 */
int engine_run(struct engine *e, const char *const *args, int out_fd,
    struct engine_output *o, char **error);

void engine_output_release(struct engine_output *o);

/* A growing NULL-terminated argument vector; every string owned. */
struct engine_args {
	char **v;
	size_t n, cap;
};

#define ENGINE_ARGS_INIT                                                       \
	{                                                                      \
		NULL, 0, 0                                                     \
	}

void engine_args_add(struct engine_args *a, const char *s);
void engine_args_release(struct engine_args *a);

/*
 * The arguments that create the instance of spec (after the program
 * name): "create", or with cidfile "run --cidfile CIDFILE", which creates
 * the same instance, starts it and attaches to it (standard input
 * included) in one call of the tool.  The tool writes the instance's id
 * into cidfile (which must not exist) once it is created, before it starts.
 */
void engine_create_args(struct engine_args *out, enum engine_kind kind,
    const struct runtime_spec *spec, const char *cidfile);

/* The errno a tool's complaint means: ENOENT (no such container or
 * image), EEXIST (the name is in use), else EIO. */
int engine_error_errno(const char *err);

/* Whether an image's Config (JSON) says it holds jobrun: the label, or
 * jobrun as its entrypoint. */
bool engine_config_has_jobrun(const char *config_json);

/* Parses "container inspect" (a JSON array of one) into *out.  Returns 0,
 * or -1 with *error. */
int engine_parse_inspect(
    struct runtime_instance *out, const char *json, char **error);

/* Parses "ps --format json" (podman: an array) or "ps --format '{{json
 * .}}'" (docker: one object a line).  Returns 0 with a new array (free
 * with runtime_instances_free()), or -1 with *error. */
int engine_parse_ps(struct runtime_instance **out, size_t *out_count,
    enum engine_kind kind, const char *text, char **error);

/* "2024-05-01T10:00:00.123456789Z" or with "+02:00" (RFC 3339), or
 * docker's "2024-05-01 10:00:00 +0000 UTC": seconds since the epoch, or 0
 * when it is not a time (podman's "0001-01-01T00:00:00Z" included). */
int64_t engine_parse_time(const char *text);

#endif
