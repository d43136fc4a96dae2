/*
 * The control socket's client: the commands a step runs to talk to the
 * jobrun that runs it ("jobrun secret add", "jobrun trigger", "jobrun
 * output set"), over the framing of ctl-frame.h.
 */
#ifndef JOBRUN_CTL_CLIENT_H
#define JOBRUN_CTL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* How long a client keeps trying while the socket is busy. */
#define CTL_CLIENT_RETRY_MS 5000

/*
 * Sends request (a JSON object, not consumed) over the socket at path and
 * waits up to timeout_ms for the reply.  While the socket is busy (its
 * backlog full, or a reply with "busy":true) it tries again, pausing 20
 * ms, then twice as long each time up to 0.5 s, for CTL_CLIENT_RETRY_MS
 * in all.  Returns 0 with the reply in *reply (caller decrefs; its
 * "status" may be "error"), or -1 with a message in *error (caller
 * frees) when jobrun cannot be reached or its reply cannot be read.
 */
int ctl_client_request(const char *path, json_t *request, int timeout_ms,
    json_t **reply, char **error);

/* Options of "jobrun secret add". */
struct ctl_secret_add_options {
	bool raw; /* all of standard input is one secret */
	const char *from_env; /* take the value of this variable instead */
	const char *socket; /* NULL: $JOBRUN_SOCKET, then runnerlib's */
};

/*
 * Runs "jobrun secret add": reads values (never from argv), registers them
 * and returns the exit status: 0 all registered, 1 refused (by jobrun: a
 * cap, a value too short, an untrusted step's limit), 125 when jobrun
 * cannot be reached or the input cannot be read.  Any bytes register:
 * values that are UTF-8 text go in "secrets" (runnerlib's form), others
 * in "secrets_base64".  Values never appear in messages.
 */
int ctl_client_secret_add(const struct ctl_secret_add_options *options);

/* Options of "jobrun trigger NAME"; every pointer is borrowed. */
struct ctl_trigger_options {
	const char *job;
	const char *const *env; /* "NAME=VALUE" */
	size_t n_env;
	const char *const *depends_on;
	size_t n_depends_on;
	const char *condition; /* NULL: the worker's default */
	const char *socket; /* NULL: $JOBRUN_SOCKET, then runnerlib's */
};

/*
 * Runs "jobrun trigger": asks the running jobrun to add a trigger.
 * Returns the exit status: 0 added, 1 refused, 125 on its own failure.
 */
int ctl_client_trigger(const struct ctl_trigger_options *options);

/*
 * Runs "jobrun output set KEY": the value is standard input, without one
 * trailing newline.  Returns 0 set, 1 refused, 125 on its own failure.
 */
int ctl_client_output_set(const char *key, const char *socket);

#endif
