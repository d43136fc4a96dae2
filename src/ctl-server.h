/*
 * The control socket: one Unix stream socket per job, in a private 0700
 * directory outside the workspace, through which steps and plugins register
 * secrets, add triggers and set workflow outputs while the job runs.
 *
 * Protocol (runnerlib's, unchanged): a request is a 4-byte big-endian
 * length followed by that many bytes of a JSON object with an "action";
 * the reply is one JSON object and a newline, with "status" "ok" or
 * "error".  Actions:
 *
 *   {"action":"register","secrets":["v1","v2"]}  (or one string)
 *       -> {"status":"ok","registered":N,"refused":M}
 *          sent only once every stream's masker has the secrets and has
 *          rescanned what it holds back (the handler's job)
 *   {"action":"ping"} -> {"status":"ok","version":"..."}
 *   actions added with ctl_server_on(); the runner adds
 *   {"action":"trigger","job":NAME,"env":{K:V},"depends_on":[J],
 *    "condition":C} and {"action":"output","key":K,"value":V}
 *       -> {"status":"ok"} (triggers.h says what they do)
 *
 * Anything else gets {"status":"error","error":"..."}.  A connection may
 * send several requests.  Limits: frames of at most CTL_FRAME_MAX
 * bytes, CTL_SERVER_CLIENTS_MAX connections at once, CTL_SERVER_IDLE_MS without
 * progress per connection; past them a client gets an error reply (when a
 * reply can still be framed) and is disconnected, and the runner goes on.
 * Peers are checked with SO_PEERCRED: only jobrun's own uid, root and the
 * uids of run_as steps (ctl_server_allow_uid()).  No action gives a secret
 * back, so an untrusted step may use the socket.
 */
#ifndef JOBRUN_CTL_SERVER_H
#define JOBRUN_CTL_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "ctl-frame.h"
#include "loop.h"

#define CTL_SERVER_CLIENTS_MAX 64
#define CTL_SERVER_IDLE_MS 10000
#define CTL_SERVER_USERS_MAX 16
#define CTL_SERVER_ACTIONS_MAX 8

struct ctl_server;

/*
 * Registers n secrets (values[i] of lengths[i] bytes, borrowed for the
 * call).  Returns how many were accepted (the rest were refused, for
 * example as too short), or -1 with a message in *error (caller frees).
 */
typedef long (*ctl_server_register_fn)(void *context, char *const *values,
    const size_t *lengths, size_t n, char **error);

/*
 * Handles one request of an action added with ctl_server_on(); request is
 * borrowed for the call.  Returns 0 (the reply is {"status":"ok"}), or -1
 * with a message in *error (allocated; the socket frees it) for the reply.
 */
typedef int (*ctl_server_action_fn)(
    void *context, json_t *request, char **error);

/*
 * Creates the private directory and the socket, and watches it with loop.
 * Returns the socket, or NULL with a message in *error (caller frees).
 */
struct ctl_server *ctl_server_open(struct loop *loop,
    ctl_server_register_fn on_register, void *context, char **error);

/*
 * Lets uid (a run_as step's user) use the socket: opens its directory to
 * others for search only (0711, the name stays unguessable) and the socket
 * to connect (0666); SO_PEERCRED still decides.  Idempotent.  Returns 0,
 * or -1 with a message in *error (caller frees).
 */
int ctl_server_allow_uid(struct ctl_server *sock, uid_t uid, char **error);

/*
 * Answers requests {"action":action,...} with fn(context, ...); action is
 * borrowed for the socket's life.  Returns 0, or -1 when
 * CTL_SERVER_ACTIONS_MAX actions are added already.
 */
int ctl_server_on(struct ctl_server *sock, const char *action,
    ctl_server_action_fn fn, void *context);

/* Returns the socket's path (borrowed). */
const char *ctl_server_path(const struct ctl_server *sock);

/*
 * Disconnects clients idle past CTL_SERVER_IDLE_MS; returns the milliseconds
 * until the next such deadline, or -1 when there is none.
 */
int ctl_server_expire(struct ctl_server *sock, uint64_t now_ms);

/*
 * Answers one request body as the socket would (without the framing):
 * returns the reply as a new string, for the fuzz target and tests.
 */
char *ctl_server_answer(ctl_server_register_fn on_register, void *context,
    const char *body, size_t length);

/* Closes every connection, removes the socket and its directory, frees. */
void ctl_server_close(struct ctl_server *sock);

#endif
