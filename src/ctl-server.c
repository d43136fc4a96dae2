/*
 * The control socket server (ctl-server.h).  Everything runs in the job's
 * one event loop: the listening socket and each connection are watched
 * for input, frames are assembled in a per-connection buffer, and a
 * request is answered as soon as its frame is complete.  Each connection
 * belongs to a peer (a uid and a class, from SO_PEERCRED when it
 * connects), which holds its slots and its secret bytes.  Request bodies
 * may hold secrets, so they are wiped as soon as they have been handled.
 * With a worker (worker.h), a large frame is parsed and its secrets
 * decoded there, the connection out of the loop meanwhile.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "base64.h"
#include "clock.h"
#include "ctl-server.h"
#include "list.h"
#include "worker.h"
#include "xalloc.h"

struct registration;
struct parse_job;
static void registration_free(struct registration *r);
static void parse_job_orphan(struct parse_job *job);

/* A uid in one class: what its connections hold together. */
struct peer {
	uid_t uid;
	enum ctl_peer_class class;
	size_t slots;
	size_t secret_bytes;
};

/* Room for jobrun's uid, root, the allowed uids, and each of them under
 * the other class when a classifier says so. */
#define PEERS_MAX (2 * (CTL_SERVER_USERS_MAX + 2))

struct client {
	struct ctl_server *server;
	int fd; /* -1: the slot is free */
	struct peer *peer;
	unsigned char header[CTL_FRAME_HEADER];
	size_t header_len;
	char *body;
	size_t body_len;
	size_t body_need;
	uint64_t deadline;
	struct registration *pending; /* a register request in progress */
	struct parse_job *parsing; /* its frame, on the worker */
};

struct ctl_server_action {
	const char *name; /* borrowed */
	ctl_server_action_fn fn;
	void *context;
};

struct ctl_server {
	struct loop *loop;
	int listen_fd;
	char *dir;
	char *path;
	ctl_server_register_fn on_register;
	void *context;
	ctl_server_classify_fn classify;
	void *classify_context;
	struct ctl_server_action actions[CTL_SERVER_ACTIONS_MAX];
	size_t n_actions;
	struct client clients[CTL_SERVER_CLIENTS_MAX];
	struct {
		uid_t uid;
		enum ctl_peer_class class;
	} allowed[CTL_SERVER_USERS_MAX]; /* besides ours and root */
	size_t n_allowed;
	struct peer peers[PEERS_MAX];
	size_t n_peers;
	size_t turn; /* the client whose registration goes next */
	struct worker *worker; /* parses large frames, when set */
	ctl_server_ticket_fn ticket;
	ctl_server_settled_fn settled;
	size_t secret_bytes; /* registered by everyone */
	size_t untrusted_secret_bytes;
	size_t untrusted_slots;
};

/* ---- replies ---- */

/* Sends a reply (consumed) and its newline; a client that cannot take it
 * is dropped by the caller. */
static int
send_reply(int fd, json_t *reply)
{
	size_t size;
	char *line = ctl_frame_encode_reply(reply, &size);
	int rc = -1;

	json_decref(reply);
	if (line == NULL)
		return -1;
	if (send(fd, line, size, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)size)
		rc = 0;
	free(line);
	return rc;
}

static int
send_error(int fd, const char *message)
{
	return send_reply(fd, ctl_frame_error(message));
}

/* An error the client may retry: the server is busy, not refusing it. */
static int
send_busy(int fd, const char *message)
{
	json_t *reply = ctl_frame_error(message);

	json_object_set_new(reply, "busy", json_true());
	return send_reply(fd, reply);
}

/*
 * Closes a connection without losing the reply already sent: a Unix socket
 * closed with unread input resets, and the peer could lose what is in
 * flight to it, so the input is read and dropped first.
 */
static void
hang_up(int fd)
{
	char scratch[4096];
	int rounds = 0;

	shutdown(fd, SHUT_WR);
	while (rounds++ < 256 &&
	    recv(fd, scratch, sizeof(scratch), MSG_DONTWAIT) > 0)
		continue;
	close(fd);
}

static void
client_reset_frame(struct client *c)
{
	if (c->body != NULL) {
		wipe(c->body, c->body_need);
		free(c->body);
	}
	c->body = NULL;
	c->header_len = c->body_len = c->body_need = 0;
}

static void
client_close(struct client *c)
{
	if (c->fd < 0)
		return;
	loop_remove(c->server->loop, c->fd);
	hang_up(c->fd);
	c->fd = -1;
	client_reset_frame(c);
	registration_free(c->pending);
	c->pending = NULL;
	parse_job_orphan(c->parsing);
	c->parsing = NULL;
	c->peer->slots--;
	if (c->peer->class == CTL_PEER_UNTRUSTED)
		c->server->untrusted_slots--;
	c->peer = NULL;
}

/* ---- register ---- */

/* The values of a register request: "secrets" and "secrets_base64". */
struct secret_list {
	char **values;
	size_t *lengths;
	bool *decoded; /* values[i] was allocated here */
	size_t n;
	size_t bytes;
};

static void
secret_list_release(struct secret_list *list)
{
	size_t i;

	for (i = 0; i < list->n; i++) {
		if (!list->decoded[i])
			continue;
		wipe(list->values[i], list->lengths[i]);
		free(list->values[i]);
	}
	free(list->values);
	free(list->lengths);
	free(list->decoded);
}

/* The items of member (a string or a list of strings), or NULL. */
static size_t
member_count(json_t *member)
{
	return json_is_string(member) ? 1
	    : json_is_array(member)   ? json_array_size(member)
				      : 0;
}

/* Why item i of member name is not base64: where, or its length. */
static void
base64_error(char *message, size_t size, const char *name, size_t i, size_t bad,
    size_t length)
{
	if (bad < length)
		snprintf(message, size,
		    "\"%s\" item %zu is not base64 (standard alphabet, "
		    "padded, no line breaks): bad at character %zu",
		    name, i, bad);
	else
		snprintf(message, size,
		    "\"%s\" item %zu is not base64: %zu characters: not a "
		    "multiple of 4 (padded with '=')",
		    name, i, length);
}

/*
 * Appends member's values to list, decoded from base64 when base64.
 * Returns NULL, or an error reply naming the member, the item and the
 * cause (never its bytes).
 */
static json_t *
collect(struct secret_list *list, json_t *member, const char *name, bool base64)
{
	char message[200];
	size_t i, n = member_count(member), size, bad;
	json_t *item;
	unsigned char *bytes;

	if (member == NULL)
		return NULL;
	if (!json_is_string(member) && !json_is_array(member)) {
		snprintf(message, sizeof(message),
		    "expected \"%s\": a string or a list of strings", name);
		return ctl_frame_error(message);
	}
	for (i = 0; i < n; i++) {
		item =
		    json_is_string(member) ? member : json_array_get(member, i);
		if (!json_is_string(item)) {
			snprintf(message, sizeof(message),
			    "expected \"%s\": a string or a list of strings "
			    "(item %zu is not a string)",
			    name, i);
			return ctl_frame_error(message);
		}
		if (!base64) {
			list->values[list->n] =
			    (char *)(uintptr_t)json_string_value(item);
			list->lengths[list->n] = json_string_length(item);
		} else {
			bytes = base64_decode(json_string_value(item),
			    json_string_length(item), &size, &bad);
			if (bytes == NULL) {
				base64_error(message, sizeof(message), name, i,
				    bad, json_string_length(item));
				return ctl_frame_error(message);
			}
			list->values[list->n] = (char *)bytes;
			list->lengths[list->n] = size;
			list->decoded[list->n] = true;
		}
		if (list->lengths[list->n] == 0) {
			/* Counted when decoded, so that it is freed. */
			list->n += list->decoded[list->n];
			snprintf(message, sizeof(message),
			    "\"%s\" item %zu is empty: a secret has at least "
			    "one byte",
			    name, i);
			return ctl_frame_error(message);
		}
		list->bytes += list->lengths[list->n];
		list->n++;
	}
	return NULL;
}

/*
 * The caps on secret bytes: NULL when bytes more may be registered by
 * peer (NULL: no caps, ctl_server_answer()), else the error reply.
 */
static json_t *
over_cap(const struct ctl_server *server, const struct peer *peer, size_t bytes)
{
	char message[200];

	if (server == NULL || peer == NULL)
		return NULL;
	if (peer->class == CTL_PEER_UNTRUSTED &&
	    peer->secret_bytes + bytes > CTL_SERVER_SECRET_BYTES_PEER)
		snprintf(message, sizeof(message),
		    "%zu bytes of secrets would take uid %lu past "
		    "its cap of %d bytes (%zu registered)",
		    bytes, (unsigned long)peer->uid,
		    CTL_SERVER_SECRET_BYTES_PEER, peer->secret_bytes);
	else if (peer->class == CTL_PEER_UNTRUSTED &&
	    server->untrusted_secret_bytes + bytes >
		CTL_SERVER_SECRET_BYTES_UNTRUSTED)
		snprintf(message, sizeof(message),
		    "%zu bytes of secrets would take untrusted "
		    "steps past their cap of %d bytes in all",
		    bytes, CTL_SERVER_SECRET_BYTES_UNTRUSTED);
	else if (server->secret_bytes + bytes > CTL_SERVER_SECRET_BYTES_JOB)
		snprintf(message, sizeof(message),
		    "%zu bytes of secrets would take the job past "
		    "its cap of %d bytes",
		    bytes, CTL_SERVER_SECRET_BYTES_JOB);
	else
		return NULL;
	return ctl_frame_error(message);
}

static void
count_bytes(struct ctl_server *server, struct peer *peer, size_t bytes)
{
	if (server == NULL || peer == NULL)
		return;
	peer->secret_bytes += bytes;
	server->secret_bytes += bytes;
	if (peer->class == CTL_PEER_UNTRUSTED)
		server->untrusted_secret_bytes += bytes;
}

/*
 * A register request in progress.  Its secrets go to the handler a few at
 * a time (CTL_SERVER_STEP_BYTES), one batch per turn of the loop
 * (ctl_server_expire()), so that a large request does not hold the loop
 * while every secret's forms are built.
 */
struct registration {
	json_t *request; /* holds the strings that values borrow */
	struct secret_list list;
	size_t next; /* the next secret to hand over */
	long accepted;
	char *error; /* the handler's failure: the rest are not handed */
	bool waiting; /* all handed: waits for the handler's ticket */
	uint64_t ticket;
	bool untrusted; /* from an untrusted peer */
};

static void
registration_free(struct registration *r)
{
	if (r == NULL)
		return;
	secret_list_release(&r->list);
	json_decref(r->request);
	free(r->error);
	free(r);
}

/*
 * The secrets of a register request, collected (and decoded) into *list:
 * NULL, or an error reply (then list holds nothing).  Pure: a large
 * request is collected on the worker.
 */
static json_t *
collect_secrets(json_t *request, struct secret_list *list)
{
	json_t *plain = json_object_get(request, "secrets");
	json_t *encoded = json_object_get(request, "secrets_base64"), *reply;
	size_t n = member_count(plain) + member_count(encoded);

	memset(list, 0, sizeof(*list));
	if (plain == NULL && encoded == NULL)
		return ctl_frame_error("expected \"secrets\" or "
				       "\"secrets_base64\": a string or a "
				       "list of strings");
	list->values = xcalloc(n + 1, sizeof(*list->values));
	list->lengths = xcalloc(n + 1, sizeof(*list->lengths));
	list->decoded = xcalloc(n + 1, sizeof(*list->decoded));
	if ((reply = collect(list, plain, "secrets", false)) == NULL &&
	    (reply = collect(list, encoded, "secrets_base64", true)) == NULL &&
	    list->n == 0)
		reply =
		    ctl_frame_error("no secret given: \"secrets\" is empty");
	if (reply != NULL) {
		secret_list_release(list);
		memset(list, 0, sizeof(*list));
	}
	return reply;
}

/*
 * Starts registering the secrets of request (collected in *list, which it
 * takes): returns an error reply (none is registered), or NULL with the
 * registration in *out.  The bytes count against the caps from now on.
 */
static json_t *
registration_start(struct ctl_server *server, struct peer *peer,
    json_t *request, struct secret_list *list, struct registration **out)
{
	json_t *reply;

	*out = NULL;
	if ((reply = over_cap(server, peer, list->bytes)) != NULL) {
		secret_list_release(list);
		return reply;
	}
	count_bytes(server, peer, list->bytes);
	*out = xcalloc(1, sizeof(**out));
	(*out)->request = json_incref(request);
	(*out)->list = *list;
	(*out)->untrusted = peer != NULL && peer->class == CTL_PEER_UNTRUSTED;
	return NULL;
}

/*
 * Hands the next secrets to the handler, CTL_SERVER_STEP_BYTES of them
 * (at least one secret); returns true when all are done.
 */
static bool
registration_step(
    struct registration *r, ctl_server_register_fn on_register, void *context)
{
	size_t k = 0, bytes = 0;
	long accepted;

	while (r->next + k < r->list.n &&
	    (k == 0 ||
		bytes + r->list.lengths[r->next + k] <= CTL_SERVER_STEP_BYTES))
		bytes += r->list.lengths[r->next + k++];
	if (r->error == NULL && k > 0) {
		accepted = on_register(context, &r->list.values[r->next],
		    &r->list.lengths[r->next], k, r->untrusted, &r->error);
		if (accepted < 0 && r->error == NULL)
			r->error = xstrdup("cannot register the secrets");
		if (accepted > 0)
			r->accepted += accepted;
		r->next += k;
	}
	return r->error != NULL || r->next == r->list.n;
}

/* The reply of a finished registration, which it frees. */
static json_t *
registration_reply(struct registration *r)
{
	json_t *reply;

	if (r->error != NULL)
		reply = ctl_frame_error(r->error);
	else
		reply = json_pack("{s:s, s:I, s:I}", "status", "ok",
		    "registered", (json_int_t)r->accepted, "refused",
		    (json_int_t)(r->list.n - (size_t)r->accepted));
	registration_free(r);
	return reply;
}

/* ---- requests ---- */

/* An action added with ctl_server_on(); NULL when there is none. */
static json_t *
added_action(struct ctl_server *server, const struct peer *peer,
    const char *action, json_t *request)
{
	char *error = NULL, message[200];
	json_t *reply;
	size_t i;

	for (i = 0; i < server->n_actions; i++) {
		if (strcmp(server->actions[i].name, action) != 0)
			continue;
		if (peer->class != CTL_PEER_TRUSTED) {
			snprintf(message, sizeof(message),
			    "permission denied: uid %lu runs untrusted "
			    "steps, which may only register secrets, not "
			    "'%s'",
			    (unsigned long)peer->uid, server->actions[i].name);
			return ctl_frame_error(message);
		}
		if (server->actions[i].fn(
			server->actions[i].context, request, &error) == 0)
			return ctl_frame_ok();
		reply = ctl_frame_error(
		    error != NULL ? error : "the request failed");
		free(error);
		return reply;
	}
	return NULL;
}

/* Why body is not a request: its place and the kind of fault, never its
 * bytes (they may be a secret's). */
static json_t *
parse_error_reply(const json_error_t *parse_error)
{
	char message[300];
	const char *kind = "not JSON";

	if (strstr(parse_error->text, "decode byte") != NULL ||
	    strstr(parse_error->text, "UTF-8") != NULL)
		kind = "not UTF-8 text (send such secrets in "
		       "\"secrets_base64\")";
	else if (strstr(parse_error->text, "duplicate") != NULL)
		kind = "a member given twice";
	else if (strstr(parse_error->text, "\\u0000") != NULL ||
	    strstr(parse_error->text, "NUL") != NULL)
		kind = "a NUL character (send such secrets in "
		       "\"secrets_base64\")";
	snprintf(message, sizeof(message),
	    "expected a JSON object with an \"action\": %s at byte %d "
	    "(line %d, column %d)",
	    kind, parse_error->position, parse_error->line,
	    parse_error->column);
	return ctl_frame_error(message);
}

static json_t *
unknown_action(const struct ctl_server *server, const char *action)
{
	char message[200];
	size_t length = strspn(action,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");

	/* Only a name is repeated, never other text (it may be a secret). */
	if (length == 0 || length > 40 || action[length] != '\0')
		action = "(not a name)";
	snprintf(message, sizeof(message),
	    "unknown action '%s': expected register, ping%s", action,
	    server != NULL && server->n_actions > 0 ? " or another known one"
						    : "");
	return ctl_frame_error(message);
}

/* A request parsed, and a register request's secrets collected: the
 * part of answering that needs nothing of the server's. */
struct parsed {
	json_t *request; /* NULL: reply says why */
	json_t *reply; /* an early reply, or NULL */
	struct secret_list list; /* a register request's, when collected */
	bool collected;
};

static void
parse_request(const char *body, size_t length, struct parsed *p)
{
	json_error_t parse_error;
	const char *action;

	memset(p, 0, sizeof(*p));
	p->request = json_loadb(body, length,
	    JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &parse_error);
	if (p->request == NULL) {
		p->reply = parse_error_reply(&parse_error);
		return;
	}
	action = json_string_value(json_object_get(p->request, "action"));
	if (json_is_object(p->request) && action != NULL &&
	    strcmp(action, "register") == 0) {
		p->reply = collect_secrets(p->request, &p->list);
		p->collected = p->reply == NULL;
	}
}

static void
parsed_release(struct parsed *p)
{
	if (p->collected)
		secret_list_release(&p->list);
	json_decref(p->request);
	json_decref(p->reply);
	memset(p, 0, sizeof(*p));
}

/*
 * Answers one parsed request (which it releases); server (NULL for
 * ctl_server_answer()) has the added actions, the caps and peer (NULL:
 * trusted, uncapped).  Returns the reply, or NULL with a registration
 * started in *pending.
 */
static json_t *
handle_request(struct ctl_server *server, struct peer *peer, struct parsed *p,
    struct registration **pending)
{
	json_t *request = p->request, *reply = p->reply;
	const char *action;

	*pending = NULL;
	if (request == NULL || reply != NULL) {
		p->reply = NULL;
		parsed_release(p);
		return reply;
	}
	action = json_string_value(json_object_get(request, "action"));
	if (!json_is_object(request))
		reply = ctl_frame_error("expected a JSON object with an "
					"\"action\"");
	else if (action == NULL)
		reply = ctl_frame_error("expected an \"action\" string");
	else if (strcmp(action, "register") == 0) {
		reply = registration_start(
		    server, peer, request, &p->list, pending);
		p->collected = false;
	} else if (strcmp(action, "ping") == 0)
		reply = json_pack(
		    "{s:s, s:s}", "status", "ok", "version", PACKAGE_VERSION);
	else if (server != NULL)
		reply = added_action(server, peer, action, request);
	if (reply == NULL && *pending == NULL)
		reply = unknown_action(server, action);
	parsed_release(p);
	return reply;
}

/* ---- connections ---- */

static void on_client(struct loop *loop, int fd, uint32_t events, void *data);

/* Sends a reply and waits for the next request (or hangs up). */
static void
answer(struct client *c, json_t *reply)
{
	c->deadline = clock_now_ms() + CTL_SERVER_IDLE_MS;
	if (send_reply(c->fd, reply) < 0)
		client_close(c);
}

/*
 * A request is parsed: answer it.  A registration is answered once it is
 * done; until then the connection is not read (it is out of the loop),
 * so requests are answered in order.  watched: the connection is in the
 * loop now.
 */
static void
finish_parsed(struct client *c, struct parsed *p, bool watched)
{
	struct registration *pending;
	json_t *reply = handle_request(c->server, c->peer, p, &pending);

	if (pending != NULL) {
		c->pending = pending;
		if (watched)
			loop_remove(c->server->loop, c->fd);
		return;
	}
	answer(c, reply);
	if (!watched && c->fd >= 0 &&
	    loop_add(c->server->loop, c->fd, EPOLLIN, on_client, c) < 0)
		client_close(c);
}

/* A large frame, parsed on the worker; client is NULL once it closed. */
struct parse_job {
	struct client *client;
	char *body;
	size_t length;
	struct parsed parsed;
};

static void
parse_job_free(struct parse_job *job)
{
	if (job->body != NULL) {
		wipe(job->body, job->length);
		free(job->body);
	}
	parsed_release(&job->parsed);
	free(job);
}

static void
parse_job_orphan(struct parse_job *job)
{
	if (job != NULL)
		job->client = NULL;
}

/* On the worker: the JSON and the secrets; the body is wiped there. */
static void
run_parse(void *data)
{
	struct parse_job *job = data;

	parse_request(job->body, job->length, &job->parsed);
	wipe(job->body, job->length);
	free(job->body);
	job->body = NULL;
}

static void
parse_done(void *data, bool ran)
{
	struct parse_job *job = data;
	struct client *c = job->client;

	if (ran && c != NULL) {
		c->parsing = NULL;
		finish_parsed(c, &job->parsed, false);
	}
	parse_job_free(job);
}

/*
 * A frame is complete: parse it and answer it.  A large one is parsed on
 * the worker (jansson takes about 13 ms a MiB), the connection out of the
 * loop meanwhile.
 */
static void
finish_frame(struct client *c)
{
	struct ctl_server *server = c->server;
	struct parse_job *job;
	struct parsed parsed;

	if (server->worker != NULL && c->body_need > CTL_SERVER_INLINE_BYTES) {
		job = xcalloc(1, sizeof(*job));
		job->client = c;
		job->body = c->body;
		job->length = c->body_need;
		c->body = NULL;
		client_reset_frame(c);
		c->parsing = job;
		loop_remove(server->loop, c->fd);
		worker_submit(server->worker, run_parse, parse_done, job);
		return;
	}
	parse_request(c->body, c->body_need, &parsed);
	client_reset_frame(c);
	finish_parsed(c, &parsed, true);
}

/* The next client, round robin from the last one served, with a
 * registration that has secrets left to hand over; NULL when none has. */
static struct client *
next_pending(struct ctl_server *server)
{
	struct client *c;
	size_t k;

	for (k = 0; k < CTL_SERVER_CLIENTS_MAX; k++) {
		c = &server
			 ->clients[(server->turn + k) % CTL_SERVER_CLIENTS_MAX];
		if (c->fd >= 0 && c->pending != NULL && !c->pending->waiting)
			return c;
	}
	return NULL;
}

/* Answers c's registration, which is done, and reads c again. */
static void
answer_registration(struct client *c)
{
	struct registration *done = c->pending;

	c->pending = NULL;
	answer(c, registration_reply(done));
	if (c->fd >= 0 &&
	    loop_add(c->server->loop, c->fd, EPOLLIN, on_client, c) < 0)
		client_close(c);
}

/* Whether r's secrets are all masked by now (the handler's work off the
 * loop settled); its failure becomes r's. */
static bool
registration_settled(struct ctl_server *server, struct registration *r)
{
	char *error = NULL;

	if (!server->settled(server->context, r->ticket, &error))
		return false;
	if (error != NULL && r->error == NULL)
		r->error = error;
	else
		free(error);
	return true;
}

/*
 * Answers the registrations whose handler's work settled, then hands one
 * step of one registration over (round robin, so that no client waits
 * behind a big one); one whose secrets are all handed waits for the
 * handler's ticket to settle (ctl_server_settle()), or is answered at
 * once.  Returns true when a registration has secrets left to hand.
 */
static bool
advance_registrations(struct ctl_server *server)
{
	struct client *c;
	struct registration *r;
	size_t i;

	for (i = 0; i < CTL_SERVER_CLIENTS_MAX; i++) {
		c = &server->clients[i];
		if (c->fd >= 0 && c->pending != NULL && c->pending->waiting &&
		    registration_settled(server, c->pending))
			answer_registration(c);
	}
	if ((c = next_pending(server)) == NULL)
		return false;
	server->turn = (size_t)(c - server->clients) + 1;
	r = c->pending;
	if (registration_step(r, server->on_register, server->context)) {
		if (server->settled == NULL || r->error != NULL)
			answer_registration(c);
		else {
			r->waiting = true;
			r->ticket = server->ticket(server->context);
			if (registration_settled(server, r))
				answer_registration(c);
		}
	}
	return next_pending(server) != NULL;
}

/* The header is complete: check the length and make room for the body. */
static bool
start_body(struct client *c)
{
	uint32_t length = ctl_frame_get_length(c->header);
	bool untrusted = c->peer->class == CTL_PEER_UNTRUSTED;
	char message[120];

	/* Parsing a frame costs about 13 ms per MiB (on the worker when
	 * there is one, else on the loop): untrusted peers get small ones. */
	if (!ctl_frame_length_valid(length) ||
	    (untrusted && length > CTL_SERVER_UNTRUSTED_FRAME_MAX)) {
		snprintf(message, sizeof(message),
		    "a frame of %lu bytes: expected 1 to %d%s",
		    (unsigned long)length,
		    untrusted ? CTL_SERVER_UNTRUSTED_FRAME_MAX : CTL_FRAME_MAX,
		    untrusted ? " from an untrusted step" : "");
		send_error(c->fd, message);
		client_close(c);
		return false;
	}
	c->body_need = length;
	c->body = xmalloc(length);
	c->body_len = 0;
	return true;
}

/* Reads what the connection has; returns false once it was closed or
 * nothing is left to read now. */
static bool
read_some(struct client *c)
{
	ssize_t n;

	if (c->header_len < CTL_FRAME_HEADER)
		n = read(c->fd, c->header + c->header_len,
		    CTL_FRAME_HEADER - c->header_len);
	else
		n = read(
		    c->fd, c->body + c->body_len, c->body_need - c->body_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return false;
	if (n <= 0) {
		client_close(c);
		return false;
	}
	/* A request's deadline runs from its first byte, not its last. */
	if (c->header_len == 0 && c->body == NULL)
		c->deadline = clock_now_ms() + CTL_SERVER_REQUEST_MS;
	if (c->header_len < CTL_FRAME_HEADER) {
		c->header_len += (size_t)n;
		return c->header_len < CTL_FRAME_HEADER || start_body(c);
	}
	c->body_len += (size_t)n;
	if (c->body_len == c->body_need)
		finish_frame(c);
	return c->fd >= 0;
}

static void
on_client(struct loop *loop, int fd, uint32_t events, void *data)
{
	struct client *c = data;
	int rounds = 0;

	(void)loop;
	(void)fd;
	(void)events;
	/* A few reads per wake-up, so one client cannot starve the loop. */
	while (c->fd >= 0 && rounds++ < 16 && read_some(c))
		continue;
}

/* ---- peers ---- */

/* The class of uid by the uid rules. */
static enum ctl_peer_class
uid_class(const struct ctl_server *server, uid_t uid)
{
	size_t i;

	if (uid == getuid() || uid == 0)
		return CTL_PEER_TRUSTED;
	for (i = 0; i < server->n_allowed; i++)
		if (server->allowed[i].uid == uid)
			return server->allowed[i].class;
	return CTL_PEER_REFUSED;
}

/* The peer of (uid, class), made on first use; NULL when the table is
 * full (it holds every uid the rules admit, twice). */
static struct peer *
peer_of(struct ctl_server *server, uid_t uid, enum ctl_peer_class class)
{
	struct peer *p;
	size_t i;

	for (i = 0; i < server->n_peers; i++) {
		p = &server->peers[i];
		if (p->uid == uid && p->class == class)
			return p;
	}
	if (server->n_peers == PEERS_MAX)
		return NULL;
	p = &server->peers[server->n_peers++];
	*p = (struct peer){ .uid = uid, .class = class };
	return p;
}

/* Classifies the peer of fd: NULL (refused) or its peer. */
static struct peer *
classify(struct ctl_server *server, int fd)
{
	struct ucred cred;
	socklen_t size = sizeof(cred);
	enum ctl_peer_class class = CTL_PEER_DEFAULT, by_uid;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &size) < 0)
		return NULL;
	by_uid = uid_class(server, cred.uid);
	if (by_uid == CTL_PEER_REFUSED)
		return NULL;
	if (server->classify != NULL)
		class = server->classify(server->classify_context, &cred);
	if (class == CTL_PEER_DEFAULT)
		class = by_uid;
	if (class == CTL_PEER_REFUSED)
		return NULL;
	return peer_of(server, cred.uid, class);
}

/* True when the peer has hung up and nothing is left to read. */
static bool
hung_up(const struct client *c)
{
	char byte;

	return c->fd >= 0 &&
	    recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

/* Why peer may not have one more slot now, or NULL. */
static const char *
no_room(const struct ctl_server *server, const struct peer *peer)
{
	if (peer->class == CTL_PEER_UNTRUSTED &&
	    peer->slots >= CTL_SERVER_SLOTS_PER_PEER)
		return "too many connections from this uid at once: try again";
	if (peer->class == CTL_PEER_UNTRUSTED &&
	    server->untrusted_slots >= CTL_SERVER_UNTRUSTED_SLOTS)
		return "too many connections from untrusted steps at once: "
		       "try again";
	return NULL;
}

static struct client *
first_free(struct ctl_server *server)
{
	size_t i;

	for (i = 0; i < CTL_SERVER_CLIENTS_MAX; i++)
		if (server->clients[i].fd < 0)
			return &server->clients[i];
	return NULL;
}

/*
 * Returns a free slot for peer, or NULL with *why.  When there is none,
 * connections whose peer hung up (and whose end of file the loop has not
 * seen yet) are let go first, so a burst of short-lived clients is not
 * refused.
 */
static struct client *
free_slot(struct ctl_server *server, struct peer *peer, const char **why)
{
	struct client *c;
	size_t i;

	if ((*why = no_room(server, peer)) == NULL &&
	    (c = first_free(server)) != NULL)
		return c;
	for (i = 0; i < CTL_SERVER_CLIENTS_MAX; i++)
		if (hung_up(&server->clients[i]))
			client_close(&server->clients[i]);
	if ((*why = no_room(server, peer)) != NULL)
		return NULL;
	if ((c = first_free(server)) == NULL)
		*why = "too many connections at once: try again";
	return c;
}

static void
admit(struct ctl_server *server, int fd)
{
	struct peer *peer = classify(server, fd);
	const char *why;
	struct client *c;

	if (peer == NULL) {
		send_error(fd,
		    "permission denied: only jobrun's user, root "
		    "and the users of run_as steps may use this "
		    "socket");
		hang_up(fd);
		return;
	}
	if ((c = free_slot(server, peer, &why)) == NULL) {
		send_busy(fd, why);
		hang_up(fd);
		return;
	}
	if (loop_add(server->loop, fd, EPOLLIN, on_client, c) < 0) {
		send_busy(fd, "cannot watch the connection: try again");
		close(fd);
		return;
	}
	c->fd = fd;
	c->peer = peer;
	c->deadline = clock_now_ms() + CTL_SERVER_IDLE_MS;
	peer->slots++;
	if (peer->class == CTL_PEER_UNTRUSTED)
		server->untrusted_slots++;
}

static void
on_listen(struct loop *loop, int fd, uint32_t events, void *data)
{
	struct ctl_server *server = data;
	int client_fd;

	(void)loop;
	(void)events;
	while ((client_fd = accept4(
		    fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0)
		admit(server, client_fd);
}

/* ---- the socket ---- */

/* The private directory: $XDG_RUNTIME_DIR, $TMPDIR or /tmp, never the
 * workspace (which may be a volume shared with others). */
static char *
make_private_dir(char **error)
{
	const char *bases[] = { getenv("XDG_RUNTIME_DIR"), getenv("TMPDIR"),
		"/tmp" };
	char *dir;
	size_t i;

	for (i = 0; i < 3; i++) {
		if (bases[i] == NULL || bases[i][0] != '/')
			continue;
		dir = xasprintf("%s/jobrun-XXXXXX", bases[i]);
		if (mkdtemp(dir) != NULL)
			return dir;
		free(dir);
	}
	*error = xasprintf("cannot create a private directory for the "
			   "control socket: %s",
	    strerror(errno));
	return NULL;
}

static int
listen_at(struct ctl_server *server, char **error)
{
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	mode_t old_mask;
	int rc;

	if (strlen(server->path) >= sizeof(address.sun_path)) {
		*error = xasprintf("the control socket's path '%s' is too "
				   "long: expected at most %zu bytes",
		    server->path, sizeof(address.sun_path) - 1);
		return -1;
	}
	memcpy(address.sun_path, server->path, strlen(server->path) + 1);
	server->listen_fd =
	    socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (server->listen_fd < 0)
		goto system_error;
	old_mask = umask(0177);
	rc = bind(
	    server->listen_fd, (struct sockaddr *)&address, sizeof(address));
	umask(old_mask);
	if (rc < 0 || listen(server->listen_fd, CTL_SERVER_CLIENTS_MAX) < 0 ||
	    loop_add(server->loop, server->listen_fd, EPOLLIN, on_listen,
		server) < 0)
		goto system_error;
	return 0;
system_error:
	*error = xasprintf("cannot open the control socket '%s': %s",
	    server->path, strerror(errno));
	return -1;
}

struct ctl_server *
ctl_server_open(struct loop *loop, ctl_server_register_fn on_register,
    void *context, char **error)
{
	struct ctl_server *server;
	size_t i;

	*error = NULL;
	server = xcalloc(1, sizeof(*server));
	server->loop = loop;
	server->on_register = on_register;
	server->context = context;
	server->listen_fd = -1;
	for (i = 0; i < CTL_SERVER_CLIENTS_MAX; i++) {
		server->clients[i].fd = -1;
		server->clients[i].server = server;
	}
	if ((server->dir = make_private_dir(error)) == NULL)
		goto fail;
	server->path = xasprintf("%s/control.sock", server->dir);
	if (listen_at(server, error) == 0)
		return server;
fail:
	ctl_server_close(server);
	return NULL;
}

int
ctl_server_allow_uid(struct ctl_server *server, uid_t uid,
    enum ctl_peer_class class, char **error)
{
	size_t i;

	*error = NULL;
	if (class != CTL_PEER_TRUSTED && class != CTL_PEER_UNTRUSTED) {
		*error = xstrdup("a uid is allowed as trusted or untrusted");
		return -1;
	}
	if (uid == getuid() || uid == 0)
		return 0;
	for (i = 0; i < server->n_allowed; i++) {
		if (server->allowed[i].uid != uid)
			continue;
		if (class == CTL_PEER_UNTRUSTED)
			server->allowed[i].class = class;
		return 0;
	}
	if (server->n_allowed == CTL_SERVER_USERS_MAX) {
		*error = xasprintf("the control socket admits at most %d "
				   "run_as users",
		    CTL_SERVER_USERS_MAX);
		return -1;
	}
	/* The directory's name stays secret (mode 0711): peers are checked. */
	if (chmod(server->dir, 0711) < 0 || chmod(server->path, 0666) < 0) {
		*error = xasprintf("cannot open the control socket '%s' to "
				   "run_as users: %s",
		    server->path, strerror(errno));
		return -1;
	}
	server->allowed[server->n_allowed].uid = uid;
	server->allowed[server->n_allowed].class = class;
	server->n_allowed++;
	return 0;
}

void
ctl_server_classify(
    struct ctl_server *server, ctl_server_classify_fn fn, void *context)
{
	server->classify = fn;
	server->classify_context = context;
}

bool
ctl_server_busy(const struct ctl_server *server)
{
	const struct client *c;
	size_t i;

	for (i = 0; i < CTL_SERVER_CLIENTS_MAX; i++) {
		c = &server->clients[i];
		if (c->fd >= 0 &&
		    (c->header_len > 0 || c->body_len > 0 ||
			c->pending != NULL || c->parsing != NULL))
			return true;
	}
	return false;
}

const char *
ctl_server_path(const struct ctl_server *server)
{
	return server->path;
}

int
ctl_server_expire(struct ctl_server *server, uint64_t now)
{
	uint64_t next = UINT64_MAX;
	struct client *c;
	size_t i;

	if (advance_registrations(server))
		next = now;
	for (i = 0; i < CTL_SERVER_CLIENTS_MAX; i++) {
		c = &server->clients[i];
		/* A registration in progress is the server's work, not the
		 * client's: it has no deadline. */
		if (c->fd < 0 || c->pending != NULL || c->parsing != NULL)
			continue;
		if (now >= c->deadline) {
			send_error(c->fd,
			    c->header_len > 0
				? "timed out: a request must arrive whole "
				  "within 5 s of its first byte"
				: "timed out: idle for 10 s");
			client_close(c);
			continue;
		}
		if (c->deadline < next)
			next = c->deadline;
	}
	if (next == UINT64_MAX)
		return -1;
	return next - now > 60000 ? 60000 : (int)(next - now);
}

void
ctl_server_close(struct ctl_server *server)
{
	size_t i;

	if (server == NULL)
		return;
	for (i = 0; i < CTL_SERVER_CLIENTS_MAX; i++)
		client_close(&server->clients[i]);
	if (server->listen_fd >= 0) {
		loop_remove(server->loop, server->listen_fd);
		close(server->listen_fd);
	}
	if (server->path != NULL)
		unlink(server->path);
	if (server->dir != NULL)
		rmdir(server->dir);
	free(server->path);
	free(server->dir);
	free(server);
}

char *
ctl_server_answer(ctl_server_register_fn on_register, void *context,
    const char *body, size_t length)
{
	struct registration *pending;
	struct parsed parsed;
	json_t *reply;
	char *text;

	parse_request(body, length, &parsed);
	reply = handle_request(NULL, NULL, &parsed, &pending);
	if (pending != NULL) {
		while (!registration_step(pending, on_register, context))
			continue;
		reply = registration_reply(pending);
	}
	text = json_dumps(reply, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(reply);
	return text;
}

void
ctl_server_use_worker(struct ctl_server *server, struct worker *worker)
{
	server->worker = worker;
}

void
ctl_server_settle(struct ctl_server *server, ctl_server_ticket_fn ticket,
    ctl_server_settled_fn settled)
{
	server->ticket = ticket;
	server->settled = settled;
}

int
ctl_server_on(struct ctl_server *server, const char *action,
    ctl_server_action_fn fn, void *context)
{
	if (server->n_actions == CTL_SERVER_ACTIONS_MAX)
		return -1;
	server->actions[server->n_actions].name = action;
	server->actions[server->n_actions].fn = fn;
	server->actions[server->n_actions].context = context;
	server->n_actions++;
	return 0;
}
