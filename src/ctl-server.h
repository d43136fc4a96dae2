/*
 * The control socket's server: one Unix stream socket per job, in a
 * private 0700 directory outside the workspace, through which steps and
 * plugins register secrets, add triggers and set workflow outputs while
 * the job runs.  The wire format is ctl-frame.h's.  Actions:
 *
 *   {"action":"register","secrets":["v1","v2"]}  (or one string)
 *   {"action":"register","secrets_base64":["djE=", ...]}  (or one string)
 *       -> {"status":"ok","registered":N,"refused":M}
 *          Both members may be given; "secrets_base64" carries any bytes
 *          (NUL and non-UTF-8 included), standard alphabet, padded.  The
 *          reply is sent only once every stream's masker has the secrets
 *          and has rescanned what it holds back (the handler's job).
 *   {"action":"ping"} -> {"status":"ok","version":"..."}
 *   actions added with ctl_server_on(); the runner adds
 *   {"action":"trigger",...} and {"action":"output",...} (triggers.h).
 *
 * Anything else gets {"status":"error","error":"..."} that names the
 * cause; no error message quotes a value of the request (it may be a
 * secret): a malformed body is named by its position.  "secrets" may hold
 * NUL (as \u0000); text that is not UTF-8 cannot be JSON and goes in
 * "secrets_base64".  A connection may send several
 * requests.
 *
 * Peers.  SO_PEERCRED gives each connection's uid and pid; the peer's
 * class decides what it may do:
 *   CTL_PEER_TRUSTED    jobrun's own uid and root, and uids allowed as
 *                       trusted: every action;
 *   CTL_PEER_UNTRUSTED  uids allowed as untrusted (run_as users of
 *                       untrusted steps): "register" and "ping" only;
 *                       any other action is refused ("permission denied");
 *   CTL_PEER_REFUSED    everyone else: the connection is refused.
 * A classifier (ctl_server_classify()) may decide instead, from the
 * peer's ucred (for example by the step its pid belongs to).
 *
 * Limits, each refused with an error reply that says which:
 *   - at most CTL_SERVER_CLIENTS_MAX connections; untrusted peers hold at
 *     most CTL_SERVER_UNTRUSTED_SLOTS of them in all and
 *     CTL_SERVER_SLOTS_PER_PEER per uid, so trusted peers always find
 *     room.  A refusal for want of room carries "busy":true: the client
 *     may try again;
 *   - frames of at most CTL_FRAME_MAX bytes, CTL_SERVER_UNTRUSTED_FRAME_MAX
 *     from untrusted peers (jansson takes about 13 ms a MiB, on the
 *     worker for frames over CTL_SERVER_INLINE_BYTES, else on the loop);
 *   - a request must arrive whole within CTL_SERVER_REQUEST_MS of its
 *     first byte (one byte every few seconds does not keep a slot), and a
 *     connection may wait CTL_SERVER_IDLE_MS between requests;
 *   - secrets: at most CTL_SERVER_SECRET_BYTES_JOB bytes per job,
 *     CTL_SERVER_SECRET_BYTES_PEER per untrusted peer (uid), and
 *     CTL_SERVER_SECRET_BYTES_UNTRUSTED for all untrusted peers together
 *     (so they cannot use up what trusted steps need); a request over a
 *     cap registers nothing.  The caps are low because the masker's cost
 *     grows with the bytes of secrets it holds (about a second per
 *     hundred KiB here, tests/bench/ctlbench.c), and that time is the
 *     loop's.
 */
#ifndef JOBRUN_CTL_SERVER_H
#define JOBRUN_CTL_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <jansson.h>

#include "ctl-frame.h"
#include "loop.h"
#include "worker.h"

#define CTL_SERVER_CLIENTS_MAX 64
#define CTL_SERVER_UNTRUSTED_SLOTS 32
#define CTL_SERVER_UNTRUSTED_FRAME_MAX (128 * 1024)
#define CTL_SERVER_SLOTS_PER_PEER 8
#define CTL_SERVER_REQUEST_MS 5000
#define CTL_SERVER_IDLE_MS 10000
#define CTL_SERVER_USERS_MAX 16
#define CTL_SERVER_ACTIONS_MAX 8
#define CTL_SERVER_SECRET_BYTES_JOB (1024 * 1024)
#define CTL_SERVER_SECRET_BYTES_PEER (256 * 1024)
#define CTL_SERVER_SECRET_BYTES_UNTRUSTED (384 * 1024)
/* The bytes of secrets handed to the register handler per turn of the
 * loop (at least one secret, however long). */
#define CTL_SERVER_STEP_BYTES 4096
/* Frames up to this long are parsed on the loop, longer ones on the
 * worker (ctl_server_use_worker()). */
#define CTL_SERVER_INLINE_BYTES (64 * 1024)

/* What a peer may do (ctl-server.h's head comment). */
enum ctl_peer_class {
	CTL_PEER_DEFAULT, /* a classifier's "decide by uid" */
	CTL_PEER_REFUSED,
	CTL_PEER_UNTRUSTED,
	CTL_PEER_TRUSTED,
};

struct ctl_server;

/*
 * Registers n secrets (values[i] of lengths[i] bytes, any bytes, borrowed
 * for the call; the server passes a few at a time, see
 * ctl_server_expire()); untrusted: they come from an untrusted peer.
 * Returns how many were accepted (the rest were refused, for example as
 * too short), or -1 with a message in *error (caller frees).
 */
typedef long (*ctl_server_register_fn)(void *context, char *const *values,
    const size_t *lengths, size_t n, bool untrusted, char **error);

/*
 * For a register handler that finishes its work off the loop: the
 * handler's last ticket, taken once a registration's secrets are all
 * handed over; and whether all work up to ticket is done (true), with a
 * failure in *error (allocated, the server frees it) when it failed.
 */
typedef uint64_t (*ctl_server_ticket_fn)(void *context);
typedef bool (*ctl_server_settled_fn)(
    void *context, uint64_t ticket, char **error);

/*
 * Handles one request of an action added with ctl_server_on(); request is
 * borrowed for the call.  Returns 0 (the reply is {"status":"ok"}), or -1
 * with a message in *error (allocated; the server frees it) for the reply.
 */
typedef int (*ctl_server_action_fn)(
    void *context, json_t *request, char **error);

/* Classifies a peer from its credentials (borrowed for the call). */
typedef enum ctl_peer_class (*ctl_server_classify_fn)(
    void *context, const struct ucred *peer);

/*
 * Creates the private directory and the socket, and watches it with loop.
 * Returns the server, or NULL with a message in *error (caller frees).
 */
struct ctl_server *ctl_server_open(struct loop *loop,
    ctl_server_register_fn on_register, void *context, char **error);

/*
 * Lets uid use the socket as class (CTL_PEER_TRUSTED or
 * CTL_PEER_UNTRUSTED; a run_as step's user is untrusted unless the step
 * is trusted): opens the directory to others for search only (0711, the
 * name stays unguessable) and the socket to connect (0666); SO_PEERCRED
 * still decides.  jobrun's own uid and root are always trusted.  A later
 * call for the same uid can only lower its class.  Returns 0, or -1 with
 * a message in *error (caller frees).
 */
int ctl_server_allow_uid(struct ctl_server *server, uid_t uid,
    enum ctl_peer_class class, char **error);

/*
 * Classifies peers with fn(context, ucred) before the uid rules above;
 * fn returns CTL_PEER_DEFAULT to leave a peer to them.  Only a peer the
 * uid rules admit can connect at all (the socket's mode).
 */
void ctl_server_classify(
    struct ctl_server *server, ctl_server_classify_fn fn, void *context);

/*
 * Answers requests {"action":action,...} from trusted peers with
 * fn(context, ...); action is borrowed for the server's life.  Returns 0,
 * or -1 when CTL_SERVER_ACTIONS_MAX actions are added already.
 */
int ctl_server_on(struct ctl_server *server, const char *action,
    ctl_server_action_fn fn, void *context);

/*
 * Parses frames over CTL_SERVER_INLINE_BYTES (and decodes their secrets)
 * on worker (borrowed; it must outlive the server's connections: close
 * the server first), so that no frame holds the loop while jansson reads
 * it.  Without a worker every frame is parsed on the loop.
 */
void ctl_server_use_worker(struct ctl_server *server, struct worker *worker);

/*
 * Makes a registration wait, after its last secret was handed to the
 * register handler, until settled(context, ticket(context), ...) is true
 * (checked by ctl_server_expire()); only then is the client answered.
 * For a handler whose secrets are masked only once work off the loop is
 * done.  Without it the client is answered after its last handler call.
 */
void ctl_server_settle(struct ctl_server *server, ctl_server_ticket_fn ticket,
    ctl_server_settled_fn settled);

/*
 * Whether a request is in progress: a frame partly read, parsed on the
 * worker, or a registration not yet answered.  An open connection that
 * has sent nothing since its last answer is not.
 */
bool ctl_server_busy(const struct ctl_server *server);

/* Returns the socket's path (borrowed). */
const char *ctl_server_path(const struct ctl_server *server);

/*
 * The server's timed work; call it on every wake-up of the loop.  It
 * hands the next secrets of a registration in progress to the register
 * handler (CTL_SERVER_STEP_BYTES of them per call, round robin between
 * clients, so that a large request never holds the loop for all its
 * secrets; the client is answered after its last one), and disconnects
 * clients past their deadline (CTL_SERVER_REQUEST_MS from a request's
 * first byte, CTL_SERVER_IDLE_MS idle) with a message; a registration
 * whose secrets are all handed is answered once it settled
 * (ctl_server_settle()).  Returns the milliseconds until it must be
 * called again: 0 while a registration has secrets left to hand, -1 when
 * nothing is due (a registration waiting to settle waits for the loop's
 * next wake-up: the work it waits for wakes the loop when it is done).
 */
int ctl_server_expire(struct ctl_server *server, uint64_t now_ms);

/*
 * Answers one request body as the server would a trusted peer (without
 * the framing, the added actions or the caps): returns the reply as a new
 * string, for the fuzz target and tests.
 */
char *ctl_server_answer(ctl_server_register_fn on_register, void *context,
    const char *body, size_t length);

/* Closes every connection, removes the socket and its directory, frees. */
void ctl_server_close(struct ctl_server *server);

#endif
