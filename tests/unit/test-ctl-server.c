/*
 * Unit tests for ctl-server.c and ctl-client.c with real sockets and
 * processes: the parent runs the event loop, forked children are the
 * clients.
 */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctl-client.h"
#include "ctl-server.h"
#include "loop.h"
#include "tap.h"

static long registered;
static char last_value[64];

static long
count_secrets(void *context, char *const *values, const size_t *lengths,
    size_t n, char **error)
{
	size_t i, accepted = 0;

	for (i = 0; i < n; i++) {
		if (lengths[i] < 4)
			continue; /* too short, as the masker would refuse */
		accepted++;
		snprintf(last_value, sizeof(last_value), "%.*s",
		    (int)lengths[i], values[i]);
	}
	registered += (long)accepted;
	return (long)accepted;
}

/* Runs the loop until every child has exited; returns how many failed. */
static int
serve_until_done(struct loop *loop, struct ctl_server *sock, int children)
{
	int failed = 0, status;
	time_t give_up = time(NULL) + 60;

	while (children > 0 && time(NULL) < give_up) {
		loop_once(loop, 20);
		while (waitpid(-1, &status, WNOHANG) > 0) {
			children--;
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
				printf("# a client %s %d\n",
				    WIFEXITED(status) ? "exited with"
						      : "was killed by signal",
				    WIFEXITED(status) ? WEXITSTATUS(status)
						      : WTERMSIG(status));
				failed++;
			}
		}
	}
	return children > 0 ? -1 : failed;
}

/* In a child: one request, the reply's status must be expected. */
static int
expect_status(const char *path, const char *request_text, const char *expected)
{
	json_t *request = json_loads(request_text, 0, NULL), *reply;
	char *error;
	int rc;

	if (ctl_client_request(path, request, 5000, &reply, &error) < 0)
		return 1;
	rc = strcmp(json_string_value(json_object_get(reply, "status")),
		 expected) != 0;
	json_decref(reply);
	json_decref(request);
	return rc;
}

/* In a child: sends raw bytes, returns the reply line in buf. */
static int
raw_exchange(
    const char *path, const void *data, size_t size, char *buf, size_t cap)
{
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	ssize_t n;
	int fd;

	strcpy(address.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&address, sizeof(address)) < 0)
		return -1;
	/* A server that refuses us may hang up before we are done writing;
	 * its reply is still there to read. */
	if (write(fd, data, size) < 0 && errno != EPIPE && errno != ECONNRESET)
		return -1;
	errno = 0;
	n = read(fd, buf, cap - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
	return 0;
}

static int
run_child(int (*body)(const char *), const char *path)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(body(path));
	return pid > 0 ? 1 : 0;
}

static int
child_ping(const char *path)
{
	return expect_status(path, "{\"action\":\"ping\"}", "ok");
}

static int
child_register(const char *path)
{
	return expect_status(path,
	    "{\"action\":\"register\",\"secrets\":[\"s3cr3t-one\","
	    "\"s3cr3t-two\",\"ab\"]}",
	    "ok");
}

/* Frames text with its 4-byte big-endian length into out. */
static size_t
frame(char *out, const char *text)
{
	size_t n = strlen(text);

	out[0] = (char)(n >> 24);
	out[1] = (char)(n >> 16);
	out[2] = (char)(n >> 8);
	out[3] = (char)n;
	memcpy(out + 4, text, n);
	return n + 4;
}

static int
child_bad_requests(const char *path)
{
	static const char huge[] = "\x00\x20\x00\x00";
	static const char empty[] = "\0\0\0\0";
	char reply[512], request[128];
	int bad = 0;

	raw_exchange(
	    path, request, frame(request, "{oops"), reply, sizeof(reply));
	bad += strstr(reply, "\"status\":\"error\"") == NULL;
	bad += strstr(reply, "expected a JSON object") == NULL;
	raw_exchange(
	    path, request, frame(request, "[1, 2]"), reply, sizeof(reply));
	bad += strstr(reply, "expected a JSON object") == NULL;
	raw_exchange(path, request, frame(request, "{\"action\":\"frob\"}"),
	    reply, sizeof(reply));
	bad += strstr(reply, "unknown action") == NULL;
	raw_exchange(path, request,
	    frame(request, "{\"action\":\"register\",\"secrets\":[1]}"), reply,
	    sizeof(reply));
	bad += strstr(reply, "a string or a list of strings") == NULL;
	raw_exchange(path, huge, 4, reply, sizeof(reply));
	bad += strstr(reply, "a frame of 2097152 bytes") == NULL;
	raw_exchange(path, empty, 4, reply, sizeof(reply));
	bad += strstr(reply, "a frame of 0 bytes") == NULL;
	return bad;
}

/* 200 registrations, one connection each. */
static int
child_many(const char *path)
{
	char request[128];
	int i, bad = 0;

	for (i = 0; i < 200; i++) {
		snprintf(request, sizeof(request),
		    "{\"action\":\"register\",\"secrets\":\"value-%d-%d\"}",
		    (int)getpid(), i);
		bad += expect_status(path, request, "ok");
	}
	return bad;
}

/* As nobody, through a socket opened up to everyone: SO_PEERCRED says no. */
static int
child_stranger(const char *path)
{
	struct passwd *nobody = getpwnam("nobody");
	char reply[512];

	if (nobody == NULL || setgid(nobody->pw_gid) < 0 ||
	    setuid(nobody->pw_uid) < 0)
		return 2;
	if (raw_exchange(path, reply, frame(reply, "{\"action\":\"ping\"}"),
		reply, sizeof(reply)) < 0) {
		printf("# the stranger could not talk to the socket: %s\n",
		    strerror(errno));
		fflush(stdout);
		return 3;
	}
	if (strstr(reply, "permission denied") == NULL) {
		printf(
		    "# the stranger got '%s' (%s)\n", reply, strerror(errno));
		return 1;
	}
	return 0;
}

static int
child_idle(const char *path)
{
	char reply[512];

	/* Half a header, then silence: the server times the client out. */
	if (raw_exchange(path, "\0\0", 2, reply, sizeof(reply)) < 0)
		return 1;
	return strstr(reply, "timed out") == NULL;
}

int
main(void)
{
	struct loop *loop = loop_new();
	struct ctl_server *sock;
	struct stat st;
	char *error, *dir;
	const char *path;
	int i, children;

	signal(SIGPIPE, SIG_IGN);
	sock = ctl_server_open(loop, count_secrets, NULL, &error);
	if (!ok(sock != NULL, "the control socket opens")) {
		printf("# %s\n", error);
		return done_testing();
	}
	path = ctl_server_path(sock);
	ok(stat(path, &st) == 0 && S_ISSOCK(st.st_mode) &&
		(st.st_mode & 0777) == 0600,
	    "the socket is 0600");
	dir = strdup(path);
	*strrchr(dir, '/') = '\0';
	ok(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700,
	    "in a 0700 directory");

	is_int(serve_until_done(loop, sock, run_child(child_ping, path)), 0,
	    "ping is answered");
	is_int(serve_until_done(loop, sock, run_child(child_register, path)), 0,
	    "register is answered ok");
	is_int(registered, 2, "two secrets registered, a short one refused");
	is_str(last_value, "s3cr3t-two", "the values arrive intact");
	is_int(
	    serve_until_done(loop, sock, run_child(child_bad_requests, path)),
	    0, "malformed, unknown, oversized and empty frames get errors");

	registered = 0;
	children = 0;
	for (i = 0; i < 50; i++)
		children += run_child(child_many, path);
	is_int(serve_until_done(loop, sock, children), 0,
	    "50 clients x 200 registrations are all acknowledged");
	is_int(registered, 10000, "and all 10,000 registered");

	if (getuid() == 0) {
		chmod(dir, 0755);
		chmod(path, 0666);
		is_int(serve_until_done(
			   loop, sock, run_child(child_stranger, path)),
		    0, "another uid is refused by SO_PEERCRED");
		chmod(path, 0600);
		chmod(dir, 0700);
	} else {
		ok(true, "# SKIP another uid needs root");
	}

	{
		pid_t pid = fork();
		int status, rounds;

		if (pid == 0)
			_exit(child_idle(path));
		for (rounds = 0; rounds < 50; rounds++)
			loop_once(loop, 10);
		ctl_server_expire(sock, (uint64_t)-1 / 2);
		for (rounds = 0;
		     rounds < 50 && waitpid(pid, &status, WNOHANG) == 0;
		     rounds++)
			loop_once(loop, 10);
		waitpid(pid, &status, 0);
		ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "an idle client is timed out with a message");
	}

	ctl_server_close(sock);
	ok(stat(path, &st) < 0 && stat(dir, &st) < 0,
	    "closing removes the socket and its directory");
	free(dir);
	loop_free(loop);
	return done_testing();
}
