/*
 * Unit tests for ctl-server.c and ctl-client.c with real sockets and
 * processes: the parent runs the event loop, forked children are the
 * clients.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <poll.h>
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

#include "base64.h"
#include "clock.h"
#include "ctl-client.h"
#include "ctl-server.h"
#include "loop.h"
#include "tap.h"

static long registered;
static char last_value[64];
static size_t last_length;
static bool last_untrusted; /* the last registration came from one */

static long
count_secrets(void *context, char *const *values, const size_t *lengths,
    size_t n, bool untrusted, char **error)
{
	size_t i, accepted = 0;

	last_untrusted = untrusted;
	for (i = 0; i < n; i++) {
		if (lengths[i] < 4)
			continue; /* too short, as the masker would refuse */
		accepted++;
		last_length = lengths[i];
		memset(last_value, 0, sizeof(last_value));
		memcpy(last_value, values[i],
		    lengths[i] < sizeof(last_value) - 1
			? lengths[i]
			: sizeof(last_value) - 1);
	}
	registered += (long)accepted;
	return (long)accepted;
}

/* Runs the loop until every child has exited; returns how many failed. */
static int
serve_until_done(struct loop *loop, struct ctl_server *sock, int children)
{
	int failed = 0, status, wait_ms;
	time_t give_up = time(NULL) + 60;

	while (children > 0 && time(NULL) < give_up) {
		/* As the runner does: the server's timed work on every
		 * wake-up (registrations advance there). */
		wait_ms = ctl_server_expire(sock, clock_now_ms());
		loop_once(loop, wait_ms >= 0 && wait_ms < 20 ? wait_ms : 20);
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

/* 1 (and says so) when reply lacks text. */
static int
missing(const char *reply, const char *text)
{
	if (strstr(reply, text) != NULL)
		return 0;
	printf("# expected '%s' in '%s'\n", text, reply);
	fflush(stdout);
	return 1;
}

/* 1 (and says so) when reply holds text. */
static int
present(const char *reply, const char *text)
{
	if (strstr(reply, text) == NULL)
		return 0;
	printf("# did not expect '%s' in '%s'\n", text, reply);
	fflush(stdout);
	return 1;
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
	pid_t pid = (fflush(stdout), fork());

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
	bad += missing(reply, "\"status\":\"error\"");
	bad += missing(reply, "expected a JSON object");
	raw_exchange(
	    path, request, frame(request, "[1, 2]"), reply, sizeof(reply));
	bad += missing(reply, "expected a JSON object");
	raw_exchange(path, request, frame(request, "{\"action\":\"frob\"}"),
	    reply, sizeof(reply));
	bad += missing(reply, "unknown action");
	raw_exchange(path, request,
	    frame(request, "{\"action\":\"register\",\"secrets\":[1]}"), reply,
	    sizeof(reply));
	bad += missing(reply, "a string or a list of strings");
	raw_exchange(path, huge, 4, reply, sizeof(reply));
	bad += missing(reply, "a frame of 2097152 bytes");
	raw_exchange(path, empty, 4, reply, sizeof(reply));
	bad += missing(reply, "a frame of 0 bytes");
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

/* ---- peers, limits, byte-safe secrets ---- */

#define UNTRUSTED_UID 65531
#define UNTRUSTED_UID_2 65532

static int triggers_added;

static int
add_trigger(void *context, json_t *request, char **error)
{
	(void)context;
	(void)request;
	(void)error;
	triggers_added++;
	return 0;
}

/* In a child: becomes uid (and its gid) or exits 2. */
static void
become(uid_t uid)
{
	if (setgroups(0, NULL) < 0 || setgid(uid) < 0 || setuid(uid) < 0)
		_exit(2);
}

/* Sends one framed request and returns the reply line in buf. */
static int
framed_exchange(const char *path, const char *text, char *buf, size_t cap)
{
	size_t n = strlen(text);
	char *framed = malloc(n + 4);
	int rc;

	framed[0] = (char)(n >> 24);
	framed[1] = (char)(n >> 16);
	framed[2] = (char)(n >> 8);
	framed[3] = (char)n;
	memcpy(framed + 4, text, n);
	rc = raw_exchange(path, framed, n + 4, buf, cap);
	free(framed);
	return rc;
}

/* An untrusted peer registers and pings, and may do nothing else. */
static int
child_untrusted(const char *path)
{
	char reply[512];
	int bad = 0;

	become(UNTRUSTED_UID);
	bad += expect_status(path,
	    "{\"action\":\"register\",\"secrets\":\"untrusted-secret\"}", "ok");
	bad += expect_status(path, "{\"action\":\"ping\"}", "ok");
	framed_exchange(path, "{\"action\":\"trigger\",\"job\":\"evil\"}",
	    reply, sizeof(reply));
	bad += missing(reply, "permission denied");
	bad += missing(reply, "may only register secrets");
	framed_exchange(path, "{\"action\":\"frob\"}", reply, sizeof(reply));
	bad += missing(reply, "unknown action");
	/* 200 KiB announced: past an untrusted peer's frames. */
	raw_exchange(path, "\0\x03\x20\0", 4, reply, sizeof(reply));
	bad += missing(reply,
	    "a frame of 204800 bytes: expected 1 to 131072 from an untrusted "
	    "step");
	return bad;
}

static int
child_trusted_trigger(const char *path)
{
	return expect_status(
	    path, "{\"action\":\"trigger\",\"job\":\"deploy\"}", "ok");
}

/* Connects and sends one byte of a header; returns the fd, kept open. */
static int
hold_slot(const char *path)
{
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	strcpy(address.sun_path, path);
	if (connect(fd, (struct sockaddr *)&address, sizeof(address)) < 0 ||
	    write(fd, "", 1) != 1)
		return -1;
	return fd;
}

/*
 * As the untrusted uid: holds CTL_SERVER_SLOTS_PER_PEER connections, each
 * with one byte of a request, then checks that one more is refused as
 * busy; holds them until the parent closes go (fd 3), then reads each
 * one's time-out reply.
 */
static int
child_hog(const char *path)
{
	int fds[CTL_SERVER_SLOTS_PER_PEER], i, bad = 0;
	char reply[512], byte;

	become(UNTRUSTED_UID);
	for (i = 0; i < CTL_SERVER_SLOTS_PER_PEER; i++)
		if ((fds[i] = hold_slot(path)) < 0)
			return 10;
	framed_exchange(path, "{\"action\":\"ping\"}", reply, sizeof(reply));
	bad += missing(reply, "\"busy\":true");
	bad += missing(reply, "too many connections from this uid");
	if (bad != 0)
		printf("# the ninth connection got '%s'\n", reply);
	fflush(stdout);
	/* Later, one byte more on each: progress does not move the
	 * deadline, which runs from a request's first byte. */
	if (write(4, "h", 1) != 1 || read(3, &byte, 1) != 1)
		return 11;
	for (i = 0; i < CTL_SERVER_SLOTS_PER_PEER; i++)
		if (write(fds[i], "", 1) != 1)
			return 12;
	if (write(4, "h", 1) != 1 || read(3, &byte, 1) < 0)
		return 13;
	for (i = 0; i < CTL_SERVER_SLOTS_PER_PEER; i++) {
		ssize_t n = read(fds[i], reply, sizeof(reply) - 1);

		reply[n > 0 ? n : 0] = '\0';
		bad += missing(reply, "within 5 s of its first byte");
		close(fds[i]);
	}
	return bad;
}

/* A register request of count secrets of size bytes each (filler). */
static char *
big_request(int count, size_t size, char fill)
{
	char *text = malloc((size + 3) * (size_t)count + 64), *p = text;
	int i;

	p += sprintf(p, "{\"action\":\"register\",\"secrets\":[");
	for (i = 0; i < count; i++) {
		*p++ = '"';
		memset(p, fill + i % 20, size);
		p += size;
		*p++ = '"';
		*p++ = i + 1 < count ? ',' : ']';
	}
	strcpy(p, "}");
	return text;
}

/* As uid (0: as we are), count requests of 100 KiB of secrets each (an
 * untrusted peer's frames are small); the last reply must hold last, the
 * others must be ok. */
static int
register_100k(const char *path, uid_t uid, int count, const char *last)
{
	char reply[512], *request = big_request(5, 20 * 1024, 'a');
	int i, bad = 0;

	if (uid != 0)
		become(uid);
	for (i = 0; i < count; i++) {
		framed_exchange(path, request, reply, sizeof(reply));
		bad +=
		    missing(reply, i + 1 < count ? "\"status\":\"ok\"" : last);
	}
	free(request);
	return bad;
}

static int
child_cap_peer(const char *path)
{
	return register_100k(path, UNTRUSTED_UID, 3, "past its cap of 262144");
}

static int
child_cap_untrusted(const char *path)
{
	return register_100k(
	    path, UNTRUSTED_UID_2, 2, "untrusted steps past their cap");
}

static int
child_cap_trusted(const char *path)
{
	return register_100k(path, 0, 1, "\"status\":\"ok\"");
}

/* Bytes that are not text: NUL, 0xff, a lone continuation byte. */
static const char odd_bytes[] = "\x00\xff\x80odd\x00secret";
#define ODD_SIZE (sizeof(odd_bytes) - 1)

static int
child_base64(const char *path)
{
	char *encoded = base64_encode(odd_bytes, ODD_SIZE);
	char request[256];

	snprintf(request, sizeof(request),
	    "{\"action\":\"register\",\"secrets_base64\":[\"%s\"]}", encoded);
	free(encoded);
	return expect_status(path, request, "ok");
}

/* Errors that name their cause and never echo the value. */
static int
child_bad_secrets(const char *path)
{
	char reply[512];
	int bad = 0;

	framed_exchange(path,
	    "{\"action\":\"register\",\"secrets_base64\":[\"c2VjcmV0!!\"]}",
	    reply, sizeof(reply));
	bad += missing(reply, "item 0 is not base64");
	bad += missing(reply, "bad at character 8");
	framed_exchange(path,
	    "{\"action\":\"register\",\"secrets_base64\":[\"c2VjcmV0\","
	    "\"c2Vj\","
	    "\"c2VjcmV\"]}",
	    reply, sizeof(reply));
	bad += missing(reply, "item 2 is not base64");
	bad += missing(reply, "7 characters: not a multiple of 4");
	framed_exchange(path,
	    "{\"action\":\"register\",\"secrets\":[\"ok-value\",\"s3cr\xff"
	    "t-raw\"]}",
	    reply, sizeof(reply));
	bad += missing(reply, "not UTF-8 text");
	bad += missing(reply, "secrets_base64");
	bad += present(reply, "s3cr");
	framed_exchange(path, "{\"action\":\"register\",\"secrets\":[\"\"]}",
	    reply, sizeof(reply));
	bad += missing(reply, "item 0 is empty");
	framed_exchange(path, "{\"action\":\"register\",\"secret\":\"x\"}",
	    reply, sizeof(reply));
	bad += missing(
	    reply, "expected \\\"secrets\\\" or \\\"secrets_base64\\\"");
	framed_exchange(path, "{\"action\":\"hunter2-is-my-password!\"}", reply,
	    sizeof(reply));
	bad += present(reply, "hunter2");
	if (bad != 0)
		printf("# last reply '%s'\n", reply);
	return bad;
}

/* "jobrun secret add --raw" with bytes that are not text on stdin. */
static int
child_secret_add_raw(const char *path)
{
	struct ctl_secret_add_options options = { .raw = true, .socket = path };
	int pipe_fds[2];

	if (pipe(pipe_fds) < 0 ||
	    write(pipe_fds[1], odd_bytes, ODD_SIZE) != (ssize_t)ODD_SIZE)
		return 3;
	close(pipe_fds[1]);
	dup2(pipe_fds[0], STDIN_FILENO);
	return ctl_client_secret_add(&options);
}

/* "jobrun secret add" refused (a short value): status 1. */
static int
child_secret_add_refused(const char *path)
{
	struct ctl_secret_add_options options = { .socket = path };
	int pipe_fds[2];

	if (pipe(pipe_fds) < 0 || write(pipe_fds[1], "ab\n", 3) != 3)
		return 3;
	close(pipe_fds[1]);
	dup2(pipe_fds[0], STDIN_FILENO);
	return ctl_client_secret_add(&options) == 1 ? 0 : 4;
}

/* Without a server at the path: status 125. */
static int
child_secret_add_unreachable(const char *path)
{
	struct ctl_secret_add_options options = { .from_env = "HOME",
		.socket = "/nonexistent/jobrun.sock" };

	(void)path;
	return ctl_client_secret_add(&options) == 125 ? 0 : 4;
}

/*
 * As the untrusted uid, while the hog holds the uid's slots: "secret
 * add" is refused as busy, retries, and succeeds once the slots free.
 */
static int
child_secret_add_retry(const char *path)
{
	become(UNTRUSTED_UID);
	if (write(4, "r", 1) != 1)
		return 3;
	return child_secret_add_raw(path);
}

/* Runs body in a child with fds 3 (go, read) and 4 (ready, write). */
static pid_t
run_child_piped(
    int (*body)(const char *), const char *path, int go[2], int ready[2])
{
	pid_t pid = (fflush(stdout), fork());

	if (pid == 0) {
		dup2(go[0], 3);
		dup2(ready[1], 4);
		close(go[1]);
		close(ready[0]);
		_exit(body(path));
	}
	return pid;
}

/* Serves until fd has a byte to read. */
static void
serve_until_readable(struct loop *loop, int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char byte;

	while (poll(&pfd, 1, 0) == 0)
		loop_once(loop, 10);
	if (read(fd, &byte, 1) < 0)
		return;
}

static void
test_peers(struct loop *loop, struct ctl_server *server, const char *path)
{
	int go[2], ready[2], status, rounds;
	pid_t hog, retry;
	uint64_t first;
	char *error;

	ok(ctl_server_allow_uid(
	       server, UNTRUSTED_UID, CTL_PEER_UNTRUSTED, &error) == 0 &&
		ctl_server_allow_uid(
		    server, UNTRUSTED_UID_2, CTL_PEER_UNTRUSTED, &error) == 0,
	    "untrusted uids are allowed");
	ctl_server_on(server, "trigger", add_trigger, NULL);
	is_int(serve_until_done(loop, server, run_child(child_untrusted, path)),
	    0,
	    "an untrusted peer registers and pings, nothing else, in small "
	    "frames");
	is_int(triggers_added, 0, "its trigger was not added");
	ok(last_untrusted,
	    "its secret is handed over as from an untrusted step");
	is_int(serve_until_done(
		   loop, server, run_child(child_trusted_trigger, path)),
	    0, "a trusted peer adds a trigger");
	is_int(triggers_added, 1, "and it is added");

	/* The hog holds its uid's slots; "secret add" by the same uid
	 * retries until they free. */
	if (pipe(go) < 0 || pipe(ready) < 0)
		return;
	hog = run_child_piped(child_hog, path, go, ready);
	serve_until_readable(loop, ready[0]);
	first = clock_now_ms();
	is_int(serve_until_done(loop, server,
		   run_child(child_register, path) +
		       run_child(child_trusted_trigger, path)),
	    0,
	    "a trusted peer is served while an untrusted uid holds its "
	    "slots");
	retry = run_child_piped(child_secret_add_retry, path, go, ready);
	serve_until_readable(loop, ready[0]);
	/* Serve a while: the retrying client is refused meanwhile. */
	while (clock_now_ms() < first + 300)
		loop_once(loop, 10);
	if (write(go[1], "x", 1) != 1)
		return;
	serve_until_readable(loop, ready[0]);
	for (rounds = 0; rounds < 10; rounds++)
		loop_once(loop, 0);
	/* first + 300 ms has passed: the held requests' deadlines (their
	 * first byte + 5 s) are before this, their last bytes' after. */
	ctl_server_expire(server, clock_now_ms() + CTL_SERVER_REQUEST_MS - 100);
	if (write(go[1], "y", 1) != 1)
		return;
	for (rounds = 0; rounds < 500 && waitpid(hog, &status, WNOHANG) == 0;
	     rounds++)
		loop_once(loop, 10);
	if (rounds == 500)
		kill(hog, SIGKILL);
	waitpid(hog, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "one connection more is refused as busy, and held requests time "
	    "out 5 s after their first byte, whatever follows");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		printf("# the hog ended with status %d\n", status);
	is_int(serve_until_done(loop, server, 1), 0,
	    "secret add retries while the socket is busy, then registers");
	(void)retry;
	ok(last_length == ODD_SIZE &&
		memcmp(last_value, odd_bytes, ODD_SIZE) == 0,
	    "the value (NUL and non-UTF-8 bytes) arrives byte for byte");
	close(go[0]);
	close(go[1]);
	close(ready[0]);
	close(ready[1]);
}

/* As root: 200 KiB at a time until the job's cap refuses, saying so. */
static int
child_cap_job(const char *path)
{
	char reply[512], *request = big_request(10, 20 * 1024, 'A');
	int i;

	for (i = 0; i < 8; i++) {
		framed_exchange(path, request, reply, sizeof(reply));
		if (strstr(reply, "\"status\":\"ok\"") == NULL)
			break;
	}
	free(request);
	return missing(reply, "would take the job past its cap of 1048576");
}

static void
test_caps(struct loop *loop, struct ctl_server *server, const char *path)
{
	is_int(serve_until_done(loop, server, run_child(child_cap_peer, path)),
	    0, "past 256 KiB of secrets, one uid is refused, naming the cap");
	is_int(serve_until_done(
		   loop, server, run_child(child_cap_untrusted, path)),
	    0, "untrusted uids together are capped at 384 KiB");
	is_int(
	    serve_until_done(loop, server, run_child(child_cap_trusted, path)),
	    0, "which leaves room for trusted peers");
	is_int(serve_until_done(loop, server, run_child(child_cap_job, path)),
	    0, "past 1 MiB of secrets, the job refuses more, naming the cap");
}

static void
test_bytes(struct loop *loop, struct ctl_server *server, const char *path)
{
	last_length = 0;
	is_int(serve_until_done(loop, server, run_child(child_base64, path)), 0,
	    "secrets_base64 registers");
	ok(last_length == ODD_SIZE &&
		memcmp(last_value, odd_bytes, ODD_SIZE) == 0,
	    "NUL and non-UTF-8 bytes arrive intact");
	is_int(
	    serve_until_done(loop, server, run_child(child_bad_secrets, path)),
	    0, "bad values get errors naming the cause, never the value");
	last_length = 0;
	is_int(serve_until_done(
		   loop, server, run_child(child_secret_add_raw, path)),
	    0, "secret add --raw with NUL and non-UTF-8 bytes exits 0");
	ok(last_length == ODD_SIZE &&
		memcmp(last_value, odd_bytes, ODD_SIZE) == 0,
	    "and registers them byte for byte");
	is_int(serve_until_done(
		   loop, server, run_child(child_secret_add_refused, path)),
	    0, "secret add exits 1 when a value is refused");
	is_int(serve_until_done(
		   loop, server, run_child(child_secret_add_unreachable, path)),
	    0, "and 125 when jobrun cannot be reached");
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
	ok(!last_untrusted, "jobrun's own user's are handed over as trusted");
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

	test_bytes(loop, sock, path);
	if (getuid() == 0) {
		chmod(dir, 0711);
		chmod(path, 0666);
		test_peers(loop, sock, path);
		test_caps(loop, sock, path);
	} else {
		ok(true, "# SKIP peers of other uids need root");
	}

	ctl_server_close(sock);
	ok(stat(path, &st) < 0 && stat(dir, &st) < 0,
	    "closing removes the socket and its directory");
	free(dir);
	loop_free(loop);
	return done_testing();
}
