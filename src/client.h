/*
 * The client side of the control socket: the commands a step runs to talk
 * to the jobrun that runs it ("jobrun secret add").
 */
#ifndef JOBRUN_CLIENT_H
#define JOBRUN_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/*
 * Sends request (a JSON object, not consumed) over the socket at path and
 * waits up to timeout_ms for the reply.  Returns 0 with the reply in *reply
 * (caller decrefs), or -1 with a message in *error (caller frees).
 */
int client_request(const char *path, json_t *request, int timeout_ms,
    json_t **reply, char **error);

/* Options of "jobrun secret add". */
struct secret_add_options {
	bool raw; /* all of standard input is one secret */
	const char *from_env; /* take the value of this variable instead */
	const char *socket; /* NULL: $JOBRUN_SOCKET, then runnerlib's */
};

/*
 * Runs "jobrun secret add": reads values (never from argv), registers them
 * and returns the exit status: 0 all registered, 1 some refused, 125 on
 * its own failure.  Values never appear in messages.
 */
int client_secret_add(const struct secret_add_options *options);

#endif
