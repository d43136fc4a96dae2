/*
 * The control socket's client (ctl-client.h): "jobrun secret add",
 * "jobrun trigger" and "jobrun output set" speak the framing of
 * ctl-frame.h, as runnerlib's client does.  Values read from standard
 * input are wiped once sent.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base64.h"
#include "ctl-client.h"
#include "clock.h"
#include "ctl-frame.h"
#include "diag.h"
#include "file.h"
#include "list.h"
#include "xalloc.h"

#define CLIENT_TIMEOUT_MS 30000
#define CLIENT_INPUT_MAX (1024 * 1024)

static int
connect_to(const char *path, char **error)
{
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	int fd, saved;

	if (strlen(path) >= sizeof(address.sun_path)) {
		*error = xasprintf("the socket path '%s' is too long", path);
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(address.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 &&
	    connect(fd, (struct sockaddr *)&address, sizeof(address)) == 0)
		return fd;
	saved = errno;
	if (fd >= 0)
		close(fd);
	*error = xasprintf("cannot connect to the control socket '%s': %s",
	    path, strerror(saved));
	errno = saved;
	return -1;
}

static int
send_all(int fd, const char *data, size_t size)
{
	ssize_t n;

	while (size > 0) {
		n = send(fd, data, size, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		data += n;
		size -= (size_t)n;
	}
	return 0;
}

/* Reads one line (the reply) within timeout_ms. */
static char *
read_reply(int fd, int timeout_ms, char **error)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t used = 0, cap = 4096;
	char *line = xmalloc(cap), *end;
	ssize_t n;

	for (;;) {
		if (poll(&pfd, 1, timeout_ms) <= 0) {
			*error = xstrdup("no reply from jobrun in time");
			break;
		}
		if (used + 1 >= cap) {
			if (cap >= CTL_REPLY_MAX) {
				*error = xasprintf("jobrun's reply is longer "
						   "than %d bytes",
				    CTL_REPLY_MAX);
				break;
			}
			line = xreallocarray(line, cap *= 2, 1);
		}
		n = recv(fd, line + used, cap - used - 1, 0);
		if (n <= 0) {
			*error = xstrdup("jobrun closed the connection without "
					 "a reply");
			break;
		}
		used += (size_t)n;
		if ((end = memchr(line, '\n', used)) != NULL) {
			*end = '\0';
			return line;
		}
	}
	free(line);
	return NULL;
}

static const char *
text_of(json_t *object, const char *key)
{
	const char *text = json_string_value(json_object_get(object, key));

	return text != NULL ? text : "";
}

/* One exchange; *retry says whether a failure may pass if tried again. */
static int
exchange(const char *path, const char *frame, size_t size, int timeout_ms,
    json_t **reply, char **error, bool *retry)
{
	char *line;
	int fd, sent, saved;

	*retry = false;
	if ((fd = connect_to(path, error)) < 0) {
		/* A full backlog: jobrun is there but busy. */
		*retry = errno == EAGAIN || errno == ECONNREFUSED;
		return -1;
	}
	/* A server that refuses at once may hang up before the frame is all
	 * sent; its reply says why, so it is read all the same. */
	sent = send_all(fd, frame, size);
	saved = errno;
	line = read_reply(fd, timeout_ms, error);
	close(fd);
	if (line == NULL && sent < 0) {
		free(*error);
		*error = xasprintf(
		    "cannot send to the control socket: %s", strerror(saved));
	}
	if (line == NULL)
		return -1;
	*reply = ctl_frame_decode_reply(line, strlen(line));
	free(line);
	if (*reply == NULL) {
		*error = xstrdup("jobrun's reply is not a JSON object with a "
				 "\"status\"");
		return -1;
	}
	*retry = json_is_true(json_object_get(*reply, "busy"));
	return 0;
}

int
ctl_client_request(const char *path, json_t *request, int timeout_ms,
    json_t **reply, char **error)
{
	uint64_t give_up = clock_now_ms() + CTL_CLIENT_RETRY_MS;
	int pause_ms = 20, rc;
	size_t size;
	char *frame;
	bool retry;

	*reply = NULL;
	*error = NULL;
	if ((frame = ctl_frame_encode_request(request, &size)) == NULL) {
		*error = xasprintf(
		    "the request is larger than %d bytes", CTL_FRAME_MAX);
		return -1;
	}
	for (;;) {
		rc = exchange(
		    path, frame, size, timeout_ms, reply, error, &retry);
		if (!retry || clock_now_ms() + (uint64_t)pause_ms > give_up)
			break;
		json_decref(*reply);
		*reply = NULL;
		free(*error);
		*error = NULL;
		poll(NULL, 0, pause_ms);
		pause_ms = pause_ms * 2 > 500 ? 500 : pause_ms * 2;
	}
	wipe(frame, size);
	free(frame);
	if (rc == 0 && retry) {
		*error =
		    xasprintf("the control socket stayed busy for %d s: %s",
			CTL_CLIENT_RETRY_MS / 1000, text_of(*reply, "error"));
		json_decref(*reply);
		*reply = NULL;
		rc = -1;
	}
	return rc;
}

/* The request's two lists: text, and bytes that are not UTF-8. */
struct secret_lists {
	json_t *text;
	json_t *base64;
};

/* Adds one value: as a string when it is UTF-8 (NUL included), else in
 * base64. */
static void
add_value(struct secret_lists *lists, const char *data, size_t size)
{
	json_t *text = json_stringn(data, size);
	char *encoded;

	if (text != NULL) {
		json_array_append_new(lists->text, text);
		return;
	}
	encoded = base64_encode(data, size);
	json_array_append_new(lists->base64, json_string(encoded));
	wipe(encoded, strlen(encoded));
	free(encoded);
}

/* One secret per line (a trailing "\r" is dropped; empty lines skipped),
 * or the whole input with raw. */
static void
add_values(struct secret_lists *lists, const char *data, size_t size, bool raw)
{
	const char *line = data, *end = data + size, *eol;
	size_t length;

	if (raw) {
		if (size > 0)
			add_value(lists, data, size);
		return;
	}
	for (; line < end; line = eol + 1) {
		eol = memchr(line, '\n', (size_t)(end - line));
		if (eol == NULL)
			eol = end;
		length = (size_t)(eol - line);
		if (length > 0 && line[length - 1] == '\r')
			length--;
		if (length > 0)
			add_value(lists, line, length);
		if (eol == end)
			break;
	}
}

static const char *
socket_path(const char *path)
{
	if (path == NULL || path[0] == '\0')
		path = getenv("JOBRUN_SOCKET");
	if (path == NULL || path[0] == '\0')
		path = getenv("REACTORCIDE_SECRETS_SOCKET");
	return path != NULL && path[0] != '\0' ? path : NULL;
}

/* The register request of lists (consumed): only the lists that have
 * values, so that runnerlib's server reads a request of text alone. */
static json_t *
register_request(struct secret_lists *lists)
{
	json_t *request = json_pack("{s:s}", "action", "register");

	if (json_array_size(lists->text) > 0)
		json_object_set(request, "secrets", lists->text);
	if (json_array_size(lists->base64) > 0)
		json_object_set(request, "secrets_base64", lists->base64);
	json_decref(lists->text);
	json_decref(lists->base64);
	return request;
}

/* Reads the values into lists; returns 0, or 125 with a message. */
static int
read_values(
    const struct ctl_secret_add_options *options, struct secret_lists *lists)
{
	const char *value;
	size_t size = 0;
	char *data;

	if (options->from_env != NULL) {
		if ((value = getenv(options->from_env)) == NULL) {
			diag_error("secret add: variable '%s' is not set",
			    options->from_env);
			return 125;
		}
		add_values(lists, value, strlen(value), true);
		return 0;
	}
	if ((data = file_read_fd(STDIN_FILENO, CLIENT_INPUT_MAX, &size)) ==
	    NULL) {
		if (errno != EFBIG)
			diag_error("secret add: cannot read standard input: %s",
			    strerror(errno));
		else
			diag_error("secret add: standard input is larger "
				   "than %d bytes",
			    CLIENT_INPUT_MAX);
		return 125;
	}
	add_values(lists, data, size, options->raw);
	wipe(data, size);
	free(data);
	return 0;
}

int
ctl_client_secret_add(const struct ctl_secret_add_options *options)
{
	const char *path = socket_path(options->socket);
	struct secret_lists lists = { json_array(), json_array() };
	json_t *request, *reply;
	json_int_t refused;
	char *error;
	int rc;

	if (path == NULL) {
		diag_error("secret add: no control socket: run it from a "
			   "jobrun step, or give --socket");
		rc = 125;
	} else if ((rc = read_values(options, &lists)) == 0 &&
	    json_array_size(lists.text) + json_array_size(lists.base64) == 0) {
		diag_error("secret add: no value given%s",
		    options->from_env != NULL ? ": the variable is empty"
					      : " on standard input");
		rc = 125;
	}
	if (rc != 0) {
		json_decref(lists.text);
		json_decref(lists.base64);
		return rc;
	}
	request = register_request(&lists);
	rc = ctl_client_request(
	    path, request, CLIENT_TIMEOUT_MS, &reply, &error);
	json_decref(request);
	if (rc < 0) {
		diag_error("secret add: %s", error);
		free(error);
		return 125;
	}
	if (strcmp(text_of(reply, "status"), "ok") != 0) {
		diag_error("secret add: refused: %s", text_of(reply, "error"));
		json_decref(reply);
		return 1;
	}
	refused = json_integer_value(json_object_get(reply, "refused"));
	json_decref(reply);
	if (refused > 0) {
		diag_error("secret add: %lld value(s) refused as too short to "
			   "mask safely",
		    (long long)refused);
		return 1;
	}
	return 0;
}

/* Sends request (consumed) for command; returns the exit status. */
static int
send_simple(const char *command, const char *socket, json_t *request)
{
	const char *path = socket_path(socket);
	json_t *reply;
	char *error;
	int rc;

	if (path == NULL) {
		diag_error("%s: no control socket: run it from a jobrun step, "
			   "or give --socket",
		    command);
		json_decref(request);
		return 125;
	}
	rc = ctl_client_request(
	    path, request, CLIENT_TIMEOUT_MS, &reply, &error);
	json_decref(request);
	if (rc < 0) {
		diag_error("%s: %s", command, error);
		free(error);
		return 125;
	}
	rc = strcmp(text_of(reply, "status"), "ok") == 0 ? 0 : 1;
	if (rc != 0)
		diag_error("%s: refused: %s", command, text_of(reply, "error"));
	json_decref(reply);
	return rc;
}

int
ctl_client_trigger(const struct ctl_trigger_options *options)
{
	json_t *env = json_object(), *depends_on = json_array(), *request;
	const char *equals;
	size_t i;

	for (i = 0; i < options->n_env; i++) {
		equals = strchr(options->env[i], '=');
		if (equals == NULL || equals == options->env[i]) {
			diag_error("trigger: expected --env NAME=VALUE, got "
				   "'%.40s'",
			    options->env[i]);
			json_decref(env);
			json_decref(depends_on);
			return 125;
		}
		char *name = xstrndup(
		    options->env[i], (size_t)(equals - options->env[i]));
		json_object_set_new(env, name, json_string(equals + 1));
		free(name);
	}
	for (i = 0; i < options->n_depends_on; i++)
		json_array_append_new(
		    depends_on, json_string(options->depends_on[i]));
	request = json_pack("{s:s, s:s, s:o, s:o}", "action", "trigger", "job",
	    options->job, "env", env, "depends_on", depends_on);
	if (request == NULL) {
		diag_error("trigger: the values must be UTF-8 text");
		return 125;
	}
	if (options->condition != NULL)
		json_object_set_new(
		    request, "condition", json_string(options->condition));
	return send_simple("trigger", options->socket, request);
}

int
ctl_client_output_set(const char *key, const char *socket)
{
	json_t *request, *value;
	char *data;
	size_t size = 0;

	if ((data = file_read_fd(STDIN_FILENO, CLIENT_INPUT_MAX, &size)) ==
	    NULL) {
		if (errno != EFBIG)
			diag_error("output set: cannot read standard input: %s",
			    strerror(errno));
		else
			diag_error("output set: standard input is larger "
				   "than %d bytes",
			    CLIENT_INPUT_MAX);
		return 125;
	}
	/* Like $(...), one trailing newline is not part of the value. */
	if (size > 0 && data[size - 1] == '\n')
		size--;
	value = json_stringn(data, size);
	wipe(data, size);
	free(data);
	if (value == NULL) {
		diag_error("output set: the value must be UTF-8 text");
		return 125;
	}
	request = json_pack(
	    "{s:s, s:s, s:o}", "action", "output", "key", key, "value", value);
	if (request == NULL) {
		diag_error("output set: the key must be UTF-8 text");
		return 125;
	}
	return send_simple("output set", socket, request);
}
