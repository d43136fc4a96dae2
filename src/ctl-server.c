/*
 * The control socket server (ctl-server.h).  Everything runs in the job's one
 * event loop: the listening socket and each connection are watched for
 * input, frames are assembled in a per-connection buffer, and a request is
 * answered as soon as its frame is complete.  Request bodies may hold
 * secrets, so they are wiped as soon as they have been handled.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "clock.h"
#include "ctl-frame.h"
#include "ctl-server.h"
#include "list.h"
#include "xalloc.h"

struct client {
	struct ctl_server *sock;
	int fd; /* -1: the slot is free */
	unsigned char header[CTL_FRAME_HEADER];
	size_t header_len;
	char *body;
	size_t body_len;
	size_t body_need;
	uint64_t deadline;
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
	struct ctl_server_action actions[CTL_SERVER_ACTIONS_MAX];
	size_t n_actions;
	struct client clients[CTL_SERVER_CLIENTS_MAX];
	uid_t allowed[CTL_SERVER_USERS_MAX]; /* run_as users besides ours */
	size_t n_allowed;
};

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
client_close(struct client *c)
{
	if (c->fd < 0)
		return;
	loop_remove(c->sock->loop, c->fd);
	hang_up(c->fd);
	c->fd = -1;
	if (c->body != NULL) {
		wipe(c->body, c->body_need);
		free(c->body);
	}
	c->body = NULL;
	c->header_len = c->body_len = c->body_need = 0;
}

/* Collects the secrets of a register request: a string or a list of them. */
static json_t *
register_request(
    ctl_server_register_fn on_register, void *context, json_t *request)
{
	json_t *secrets = json_object_get(request, "secrets"), *item;
	char **values, *error = NULL;
	size_t *lengths, n, i;
	long accepted;
	json_t *reply;

	if (json_is_string(secrets)) {
		n = 1;
	} else if (json_is_array(secrets)) {
		n = json_array_size(secrets);
	} else {
		return ctl_frame_error(
		    "expected \"secrets\": a string or a list of strings");
	}
	values = xcalloc(n, sizeof(*values));
	lengths = xcalloc(n, sizeof(*lengths));
	for (i = 0; i < n; i++) {
		item = json_is_string(secrets) ? secrets
					       : json_array_get(secrets, i);
		if (!json_is_string(item)) {
			free(values);
			free(lengths);
			return ctl_frame_error("expected \"secrets\": a "
					       "string or a list of strings");
		}
		values[i] = (char *)(uintptr_t)json_string_value(item);
		lengths[i] = json_string_length(item);
	}
	accepted = on_register(context, values, lengths, n, &error);
	free(values);
	free(lengths);
	if (accepted < 0) {
		reply = ctl_frame_error(
		    error != NULL ? error : "cannot register the secrets");
		free(error);
		return reply;
	}
	return json_pack("{s:s, s:I, s:I}", "status", "ok", "registered",
	    (json_int_t)accepted, "refused",
	    (json_int_t)(n - (size_t)accepted));
}

/* An action added with ctl_server_on(); NULL when there is none. */
static json_t *
added_action(struct ctl_server *sock, const char *action, json_t *request)
{
	char *error = NULL;
	json_t *reply;
	size_t i;

	for (i = 0; i < sock->n_actions; i++) {
		if (strcmp(sock->actions[i].name, action) != 0)
			continue;
		if (sock->actions[i].fn(
			sock->actions[i].context, request, &error) == 0)
			return ctl_frame_ok();
		reply = ctl_frame_error(
		    error != NULL ? error : "the request failed");
		free(error);
		return reply;
	}
	return NULL;
}

/* Answers one request; sock (NULL for ctl_server_answer()) has the added
 * actions. */
static json_t *
handle_request(struct ctl_server *sock, ctl_server_register_fn on_register,
    void *context, const char *body, size_t length)
{
	json_error_t parse_error;
	json_t *request, *reply;
	const char *action;
	char message[256];

	request =
	    json_loadb(body, length, JSON_REJECT_DUPLICATES, &parse_error);
	if (request == NULL || !json_is_object(request)) {
		snprintf(message, sizeof(message),
		    "expected a JSON object with an \"action\"%s%s",
		    request == NULL ? ": " : "",
		    request == NULL ? parse_error.text : "");
		json_decref(request);
		return ctl_frame_error(message);
	}
	action = json_string_value(json_object_get(request, "action"));
	if (action == NULL) {
		reply = ctl_frame_error("expected an \"action\" string");
	} else if (strcmp(action, "register") == 0) {
		reply = register_request(on_register, context, request);
	} else if (strcmp(action, "ping") == 0) {
		reply = json_pack(
		    "{s:s, s:s}", "status", "ok", "version", PACKAGE_VERSION);
	} else if (sock == NULL ||
	    (reply = added_action(sock, action, request)) == NULL) {
		snprintf(message, sizeof(message),
		    "unknown action '%.40s': expected register, ping%s", action,
		    sock != NULL && sock->n_actions > 0
			? " or another known one"
			: "");
		reply = ctl_frame_error(message);
	}
	json_decref(request);
	return reply;
}

/* A frame is complete: answer it and get ready for the next one. */
static void
finish_frame(struct client *c)
{
	json_t *reply = handle_request(c->sock, c->sock->on_register,
	    c->sock->context, c->body, c->body_need);

	wipe(c->body, c->body_need);
	free(c->body);
	c->body = NULL;
	c->header_len = c->body_len = c->body_need = 0;
	if (send_reply(c->fd, reply) < 0)
		client_close(c);
}

/* Reads what the connection has; returns false once it was closed. */
static bool
read_some(struct client *c)
{
	char scratch[4096];
	uint32_t length;
	ssize_t n;

	if (c->header_len < 4) {
		n = read(c->fd, c->header + c->header_len, 4 - c->header_len);
		if (n <= 0)
			goto closed;
		c->header_len += (size_t)n;
		if (c->header_len < 4)
			return true;
		length = ctl_frame_get_length(c->header);
		if (!ctl_frame_length_valid(length)) {
			snprintf(scratch, sizeof(scratch),
			    "a frame of %lu bytes: expected 1 to %d",
			    (unsigned long)length, CTL_FRAME_MAX);
			send_error(c->fd, scratch);
			client_close(c);
			return false;
		}
		c->body_need = length;
		c->body = xmalloc(length);
		c->body_len = 0;
		return true;
	}
	n = read(c->fd, c->body + c->body_len, c->body_need - c->body_len);
	if (n <= 0)
		goto closed;
	c->body_len += (size_t)n;
	if (c->body_len == c->body_need)
		finish_frame(c);
	return c->fd >= 0;
closed:
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	client_close(c);
	return false;
}

static void
on_client(struct loop *loop, int fd, uint32_t events, void *data)
{
	struct client *c = data;
	int rounds = 0;

	/* A few reads per wake-up, so one client cannot starve the loop. */
	while (c->fd >= 0 && rounds++ < 16 && read_some(c))
		continue;
	if (c->fd >= 0)
		c->deadline = clock_now_ms() + CTL_SERVER_IDLE_MS;
}

/* Only jobrun's own user, root and the allowed run_as users may talk to
 * the socket. */
static bool
peer_allowed(const struct ctl_server *sock, int fd)
{
	struct ucred cred;
	socklen_t size = sizeof(cred);
	size_t i;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &size) < 0)
		return false;
	if (cred.uid == getuid() || cred.uid == 0)
		return true;
	for (i = 0; i < sock->n_allowed; i++)
		if (cred.uid == sock->allowed[i])
			return true;
	return false;
}

/* True when the peer has hung up and nothing is left to read. */
static bool
hung_up(const struct client *c)
{
	char byte;

	return recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

/*
 * Returns a free slot.  When all are taken, connections whose peer hung up
 * (and whose end of file the loop has not seen yet) are let go first, so a
 * burst of short-lived clients is not refused.
 */
static struct client *
free_slot(struct ctl_server *sock)
{
	size_t i;

	for (i = 0; i < CTL_SERVER_CLIENTS_MAX; i++)
		if (sock->clients[i].fd < 0)
			return &sock->clients[i];
	for (i = 0; i < CTL_SERVER_CLIENTS_MAX; i++)
		if (hung_up(&sock->clients[i]))
			client_close(&sock->clients[i]);
	for (i = 0; i < CTL_SERVER_CLIENTS_MAX; i++)
		if (sock->clients[i].fd < 0)
			return &sock->clients[i];
	return NULL;
}

static void
on_listen(struct loop *loop, int fd, uint32_t events, void *data)
{
	struct ctl_server *sock = data;
	struct client *c;
	int client_fd;

	while ((client_fd = accept4(
		    fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if (!peer_allowed(sock, client_fd)) {
			send_error(client_fd,
			    "permission denied: only jobrun's user, root and "
			    "run_as users may use this socket");
			hang_up(client_fd);
			continue;
		}
		if ((c = free_slot(sock)) == NULL) {
			send_error(client_fd,
			    "too many clients at once: try "
			    "again");
			close(client_fd);
			continue;
		}
		c->fd = client_fd;
		c->deadline = clock_now_ms() + CTL_SERVER_IDLE_MS;
		if (loop_add(loop, client_fd, EPOLLIN, on_client, c) < 0) {
			close(client_fd);
			c->fd = -1;
		}
	}
}

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

struct ctl_server *
ctl_server_open(struct loop *loop, ctl_server_register_fn on_register,
    void *context, char **error)
{
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	struct ctl_server *sock;
	mode_t old_mask;
	size_t i;
	int rc;

	*error = NULL;
	sock = xcalloc(1, sizeof(*sock));
	sock->loop = loop;
	sock->on_register = on_register;
	sock->context = context;
	sock->listen_fd = -1;
	for (i = 0; i < CTL_SERVER_CLIENTS_MAX; i++) {
		sock->clients[i].fd = -1;
		sock->clients[i].sock = sock;
	}
	if ((sock->dir = make_private_dir(error)) == NULL)
		goto fail;
	sock->path = xasprintf("%s/control.sock", sock->dir);
	if (strlen(sock->path) >= sizeof(address.sun_path)) {
		*error = xasprintf("the control socket's path '%s' is too "
				   "long: expected at most %zu bytes",
		    sock->path, sizeof(address.sun_path) - 1);
		goto fail;
	}
	memcpy(address.sun_path, sock->path, strlen(sock->path) + 1);
	sock->listen_fd =
	    socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (sock->listen_fd < 0)
		goto system_error;
	old_mask = umask(0177);
	rc =
	    bind(sock->listen_fd, (struct sockaddr *)&address, sizeof(address));
	umask(old_mask);
	if (rc < 0 || listen(sock->listen_fd, CTL_SERVER_CLIENTS_MAX) < 0 ||
	    loop_add(loop, sock->listen_fd, EPOLLIN, on_listen, sock) < 0)
		goto system_error;
	return sock;
system_error:
	*error = xasprintf("cannot open the control socket '%s': %s",
	    sock->path, strerror(errno));
fail:
	ctl_server_close(sock);
	return NULL;
}

int
ctl_server_allow_uid(struct ctl_server *sock, uid_t uid, char **error)
{
	size_t i;

	*error = NULL;
	if (uid == getuid() || uid == 0)
		return 0;
	for (i = 0; i < sock->n_allowed; i++)
		if (sock->allowed[i] == uid)
			return 0;
	if (sock->n_allowed == CTL_SERVER_USERS_MAX) {
		*error = xasprintf("the control socket admits at most %d "
				   "run_as users",
		    CTL_SERVER_USERS_MAX);
		return -1;
	}
	/* The directory's name stays secret (mode 0711): peers are checked. */
	if (chmod(sock->dir, 0711) < 0 || chmod(sock->path, 0666) < 0) {
		*error = xasprintf("cannot open the control socket '%s' to "
				   "run_as users: %s",
		    sock->path, strerror(errno));
		return -1;
	}
	sock->allowed[sock->n_allowed++] = uid;
	return 0;
}

const char *
ctl_server_path(const struct ctl_server *sock)
{
	return sock->path;
}

int
ctl_server_expire(struct ctl_server *sock, uint64_t now)
{
	uint64_t next = UINT64_MAX;
	struct client *c;
	size_t i;

	for (i = 0; i < CTL_SERVER_CLIENTS_MAX; i++) {
		c = &sock->clients[i];
		if (c->fd < 0)
			continue;
		if (now >= c->deadline) {
			send_error(c->fd,
			    "timed out: a request must arrive "
			    "whole within 10 s");
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
ctl_server_close(struct ctl_server *sock)
{
	size_t i;

	if (sock == NULL)
		return;
	for (i = 0; i < CTL_SERVER_CLIENTS_MAX; i++)
		client_close(&sock->clients[i]);
	if (sock->listen_fd >= 0) {
		loop_remove(sock->loop, sock->listen_fd);
		close(sock->listen_fd);
	}
	if (sock->path != NULL)
		unlink(sock->path);
	if (sock->dir != NULL)
		rmdir(sock->dir);
	free(sock->path);
	free(sock->dir);
	free(sock);
}

char *
ctl_server_answer(ctl_server_register_fn on_register, void *context,
    const char *body, size_t length)
{
	json_t *reply =
	    handle_request(NULL, on_register, context, body, length);
	char *text = json_dumps(reply, JSON_COMPACT | JSON_PRESERVE_ORDER);

	json_decref(reply);
	return text;
}

int
ctl_server_on(struct ctl_server *sock, const char *action,
    ctl_server_action_fn fn, void *context)
{
	if (sock->n_actions == CTL_SERVER_ACTIONS_MAX)
		return -1;
	sock->actions[sock->n_actions].name = action;
	sock->actions[sock->n_actions].fn = fn;
	sock->actions[sock->n_actions].context = context;
	sock->n_actions++;
	return 0;
}
