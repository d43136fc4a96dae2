/*
 * The Kubernetes backend of the runtime seam, driving kubectl: kubeconfig,
 * contexts, credential plugins and TLS stay kubectl's, and no HTTP client
 * lives here.  Objects go to kubectl on its standard input ("create -f -"),
 * never on its command line, so the Secret's values appear in no argv.
 *
 * The seam over Kubernetes (runtime-kube.h names the objects):
 *   create    the Job, suspended; then its ConfigMap and Secret, owned by
 *             it (deleting the Job deletes them); AlreadyExists is EEXIST
 *   find      "get jobs,pods -l instance=NAME -o json": the Job's state
 *             and its pod's (runtime-kube-parse.c)
 *   attach    resume the Job (start), then follow the pod's log
 *   signal    delete the pod: the kubelet sends jobrun (PID 1) SIGTERM,
 *             SIGKILL after the grace period (SIGKILL: a grace of 1 s)
 *   wait      the pod's container's exit code, asked every half second
 *   collect   the termination summary Kubernetes keeps in the pod's status
 *             becomes result.json: the pod's files cannot be read once its
 *             container has ended (kubectl cp and exec need it running);
 *             a pod removed first (a deleted one goes once it has ended)
 *             leaves the exit status the Job's failure message gives
 *   destroy   delete the Job, ConfigMap and Secret by label
 *   list      "get jobs,pods -l RUN-ID-LABEL -o json"
 * There is no standard input to a pod, so no lifeline: a Job lives on when
 * the host side dies, as with --detach.  Every kubectl run is bounded in
 * time; following a log is resumed (--since-time) when it breaks or stays
 * silent that long.
 *
 * The follower is a child process of this one (fork, no exec) that loops
 * over "kubectl logs -f" and writes the job's output to a pipe, so that
 * runtime-run.c reads it as it reads podman's: the host side of a run is
 * single-threaded, so the child may use the heap.  It leads its own
 * process group, with its kubectl runs, so that detaching ends them all.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "diag.h"
#include "duration.h"
#include "file.h"
#include "manifest.h"
#include "mask.h"
#include "proc.h"
#include "reap.h"
#include "runtime-kube.h"
#include "runtime-run.h"
#include "xalloc.h"

/* Each kubectl run's bound, unless JOBRUN_KUBE_TIMEOUT says. */
#define KUBE_TIMEOUT_DEFAULT_MS (30 * 1000)
/* How often a pod is looked at while waiting for it. */
#define KUBE_POLL_MS 500
/* Failed looks in a row after which the follower gives up. */
#define KUBE_FOLLOW_TRIES 3
#define KUBE_ARGS_MAX 32
/* How long a pod may stay pending, unless JOBRUN_KUBE_PENDING_TIMEOUT
 * says. */
#define KUBE_PENDING_DEFAULT_MS (10 * 60 * 1000)

struct kube {
	char *program;
	char *namespace; /* NULL: the context's */
	char *context; /* NULL: the current one */
	char *results_claim; /* JOBRUN_KUBE_RESULTS_VOLUME, or NULL */
	uint64_t timeout_ms;
	uint64_t pending_ms;
	uint64_t attached_at; /* clock_now_ms() of the first follow or wait */
	struct mask_set *mask; /* borrowed; may be NULL */
};

/* What one kubectl run gave: NUL-terminated, owned. */
struct kube_output {
	int status; /* its exit status, 128+N when killed by signal N */
	bool timed_out;
	char *out;
	size_t out_length;
	char *err;
	size_t err_length;
};

static struct kube *
kube_of(struct runtime *rt)
{
	return rt->backend;
}

static void
pause_ms(uint64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000),
		(long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The full argument vector: kubectl, the context and namespace, the
 * request timeout (bounded calls), then args.  Static strings in buf. */
static void
kube_argv(const struct kube *k, const char *const *args, bool bounded,
    char *argv[KUBE_ARGS_MAX], char options[3][320])
{
	size_t n = 0;

	argv[n++] = k->program;
	if (k->context != NULL) {
		snprintf(options[0], 320, "--context=%s", k->context);
		argv[n++] = options[0];
	}
	if (k->namespace != NULL) {
		snprintf(options[1], 320, "--namespace=%s", k->namespace);
		argv[n++] = options[1];
	}
	if (bounded) {
		snprintf(options[2], 320, "--request-timeout=%llus",
		    (unsigned long long)(k->timeout_ms + 999) / 1000);
		argv[n++] = options[2];
	}
	/* runtime_tool_spawn() takes char *const[]; nothing writes to them. */
	while (*args != NULL && n < KUBE_ARGS_MAX - 1)
		argv[n++] = (char *)(uintptr_t)*args++;
	argv[n] = NULL;
}

/*
 * Starts kubectl with args: standard input in (-1: /dev/null), output
 * out, error err (-1: /dev/null); in its own process group unless
 * same_group.  Returns the pid, or -1 with *error.
 */
static pid_t
kube_spawn(const struct kube *k, const char *const *args, bool bounded, int in,
    int out, int err, bool same_group, char **error)
{
	char *argv[KUBE_ARGS_MAX], options[3][320];

	kube_argv(k, args, bounded, argv, options);
	return runtime_tool_spawn(argv, in, out, err, same_group, error);
}

static int
exit_status(int wstatus)
{
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return WEXITSTATUS(wstatus);
}

static void
append(char **buf, size_t *len, const char *data, size_t n)
{
	*buf = xreallocarray(*buf, *len + n + 1, 1);
	memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = '\0';
}

/* Feeds input to fd[0], reads fd[1] and fd[2] to their ends, until the
 * deadline.  Returns false when the deadline came first. */
static bool
exchange(struct pollfd fds[3], const char *input, size_t input_length,
    struct kube_output *o, uint64_t deadline)
{
	size_t written = 0;
	char chunk[8192];

	while (fds[0].fd >= 0 || fds[1].fd >= 0 || fds[2].fd >= 0) {
		uint64_t now = clock_now_ms();
		size_t i;

		if (now >= deadline)
			return false;
		if (poll(fds, 3, (int)(deadline - now)) < 0 && errno != EINTR)
			return false;
		if (fds[0].fd >= 0 && fds[0].revents != 0) {
			ssize_t n = write(
			    fds[0].fd, input + written, input_length - written);

			if (n > 0)
				written += (size_t)n;
			if ((n < 0 && errno != EINTR && errno != EAGAIN) ||
			    written == input_length) {
				close(fds[0].fd);
				fds[0].fd = -1;
			}
		}
		for (i = 1; i < 3; i++) {
			ssize_t n;

			if (fds[i].fd < 0 || fds[i].revents == 0)
				continue;
			n = read(fds[i].fd, chunk, sizeof(chunk));
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				close(fds[i].fd);
				fds[i].fd = -1;
			} else if (i == 1) {
				append(
				    &o->out, &o->out_length, chunk, (size_t)n);
			} else if (o->err_length < (1 << 16)) {
				append(
				    &o->err, &o->err_length, chunk, (size_t)n);
			}
		}
	}
	return true;
}

/*
 * Runs kubectl with args, input (may be NULL) on its standard input, and
 * collects what it prints, within the backend's timeout (killed past
 * it: o->timed_out).  Returns 0 (whatever its status), or -1 with *error
 * when it could not be run.
 */
static int
kube_run(const struct kube *k, const char *const *args, const char *input,
    size_t input_length, struct kube_output *o, char **error)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
	struct pollfd fds[3];
	int wstatus = 0;
	pid_t pid;

	*o = (struct kube_output){ .out = xstrdup(""), .err = xstrdup("") };
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
	    pipe2(err, O_CLOEXEC) < 0) {
		*error = xasprintf("cannot make a pipe: %s", strerror(errno));
		goto fail;
	}
	pid = kube_spawn(k, args, true, in[0], out[1], err[1], false, error);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	in[0] = out[1] = err[1] = -1;
	if (pid < 0)
		goto fail;
	/* A kubectl that stops reading must not stop jobrun. */
	(void)fcntl(in[1], F_SETFL, O_NONBLOCK);
	fds[0] = (struct pollfd){ input_length > 0 ? in[1] : -1, POLLOUT, 0 };
	fds[1] = (struct pollfd){ out[0], POLLIN, 0 };
	fds[2] = (struct pollfd){ err[0], POLLIN, 0 };
	if (input_length == 0)
		close(in[1]);
	o->timed_out = !exchange(
	    fds, input, input_length, o, clock_now_ms() + k->timeout_ms);
	if (o->timed_out)
		kill(pid, SIGKILL);
	for (size_t i = 0; i < 3; i++)
		if (fds[i].fd >= 0)
			close(fds[i].fd);
	(void)reap_child(pid, &wstatus, true);
	o->status = exit_status(wstatus);
	return 0;
fail:
	for (size_t i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	return -1;
}

static void
kube_output_release(struct kube_output *o)
{
	free(o->out);
	free(o->err);
	o->out = o->err = NULL;
}

/* The errno kubectl's complaint means. */
static int
kube_errno(const struct kube_output *o)
{
	if (o->timed_out)
		return ETIMEDOUT;
	if (strstr(o->err, "AlreadyExists") != NULL ||
	    strstr(o->err, "already exists") != NULL)
		return EEXIST;
	if (strstr(o->err, "NotFound") != NULL)
		return ENOENT;
	if (strstr(o->err, "connection refused") != NULL ||
	    strstr(o->err, "Unable to connect") != NULL ||
	    strstr(o->err, "was refused") != NULL ||
	    strstr(o->err, "no such host") != NULL)
		return ECONNREFUSED;
	return EIO;
}

/*
 * The message of a kubectl run that failed: the command (its verb words),
 * its exit status and the last line of its standard error, masked (it may
 * quote an object).
 */
static char *
complaint(
    const struct kube *k, const char *command, const struct kube_output *o)
{
	const char *err = o->err;
	size_t n = o->err_length;
	char *line, *masked, *msg;

	while (n > 0 && (err[n - 1] == '\n' || err[n - 1] == ' '))
		n--;
	line = xstrndup(err, n);
	if (strrchr(line, '\n') != NULL)
		memmove(line, strrchr(line, '\n') + 1,
		    strlen(strrchr(line, '\n') + 1) + 1);
	masked = k->mask != NULL
	    ? mask_string(k->mask, line, strlen(line), NULL)
	    : xstrdup(line);
	if (o->timed_out)
		msg = xasprintf("'kubectl %s' did not end within %llu s: "
				"killed",
		    command, (unsigned long long)(k->timeout_ms / 1000));
	else if (masked[0] == '\0')
		msg = xasprintf(
		    "'kubectl %s' failed with status %d", command, o->status);
	else
		msg = xasprintf("'kubectl %s' failed with status %d: %s",
		    command, o->status, masked);
	free(masked);
	free(line);
	return msg;
}

/* Runs kubectl; a failure (status not 0) is -1 with *error and errno. */
static int
kube_call(const struct kube *k, const char *command, const char *const *args,
    const char *input, size_t input_length, struct kube_output *o, char **error)
{
	if (kube_run(k, args, input, input_length, o, error) < 0)
		return -1;
	if (o->status == 0 && !o->timed_out)
		return 0;
	*error = complaint(k, command, o);
	errno = kube_errno(o);
	kube_output_release(o);
	return -1;
}

/*
 * The Job named name and its pod.  Returns 0 with *out filled (state
 * RUNTIME_ABSENT when there is no such Job), or -1 with *error.
 */
static int
kube_status_of(const struct kube *k, const char *name, struct kube_status *out,
    char **error)
{
	char *selector = xasprintf(KUBE_LABEL_INSTANCE "=%s", name);
	const char *args[] = { "get", "jobs,pods", "-l", selector, "-o", "json",
		NULL };
	struct kube_status *list = NULL;
	struct kube_output o;
	size_t n = 0, i;
	int rc;

	*out = (struct kube_status){ .inst = RUNTIME_INSTANCE_INIT };
	rc = kube_call(k, "get jobs,pods", args, NULL, 0, &o, error);
	free(selector);
	if (rc < 0)
		return -1;
	rc = kube_parse_list(&list, &n, o.out, error);
	kube_output_release(&o);
	for (i = 0; rc == 0 && i < n; i++)
		if (list[i].inst.name != NULL &&
		    strcmp(list[i].inst.name, name) == 0) {
			*out = list[i];
			list[i] =
			    (struct kube_status){ .inst =
						      RUNTIME_INSTANCE_INIT };
			break;
		}
	kube_statuses_free(list, n);
	return rc;
}

/* ---- the seam ---- */

static int
kube_probe(struct runtime *rt, char **error)
{
	struct kube *k = kube_of(rt);
	const char *args[] = { "version", "-o", "json", NULL };
	struct kube_output o;
	char *why = NULL;

	if (kube_call(k, "version", args, NULL, 0, &o, &why) < 0) {
		*error =
		    xasprintf("the Kubernetes API does not answer: %s", why);
		free(why);
		errno = ECONNREFUSED;
		return -1;
	}
	kube_output_release(&o);
	return 0;
}

/* The image is the kubelet's to pull, by the Job's imagePullPolicy: a
 * node's images cannot be seen from here. */
static int
kube_pull(struct runtime *rt, const char *image, enum runtime_pull policy,
    char **error)
{
	(void)rt;
	(void)image;
	(void)policy;
	(void)error;
	return 0;
}

/* Sends one object, or a List, to "kubectl create -f -"; its JSON (as
 * kubectl prints it back) in *out_json when wanted.  The text is wiped:
 * it may hold the bundle. */
static int
create_objects(
    const struct kube *k, json_t *objects, char **out_json, char **error)
{
	const char *args[] = { "create", "--validate=false", "-f", "-", "-o",
		"json", NULL };
	char *text = json_dumps(objects, JSON_COMPACT);
	struct kube_output o;
	int rc;

	if (text == NULL) {
		*error = xstrdup("cannot write the objects as JSON");
		errno = EINVAL;
		return -1;
	}
	rc = kube_call(k, "create -f -", args, text, strlen(text), &o, error);
	explicit_bzero(text, strlen(text));
	free(text);
	if (rc < 0)
		return -1;
	if (out_json != NULL) {
		*out_json = o.out;
		o.out = NULL;
	}
	kube_output_release(&o);
	return 0;
}

static int kube_destroy(struct runtime *rt, const char *name, char **error);

/* The Job first, suspended; then what it owns, so that a Job is all a
 * run needs removing, and nothing runs before its Secret is there. */
static int
kube_create(struct runtime *rt, const struct runtime_spec *spec, char **error)
{
	struct kube *k = kube_of(rt);
	json_t *list, *job, *created, *rest;
	char *json = NULL, *undo = NULL;
	const char *uid;
	int rc = -1, saved;

	if (spec->kube == NULL) {
		*error = xstrdup("the kubernetes runtime needs the job's "
				 "objects (its file and bundle)");
		errno = EINVAL;
		return -1;
	}
	list = manifest_build(spec->kube);
	kube_decorate(list, spec);
	if (k->results_claim != NULL)
		kube_add_results_volume(list, k->results_claim, spec->name);
	job = json_array_get(json_object_get(list, "items"), 0);
	if (create_objects(k, job, &json, error) < 0) {
		json_decref(list);
		return -1;
	}
	created = json_loads(json, 0, NULL);
	uid = json_string_value(
	    json_object_get(json_object_get(created, "metadata"), "uid"));
	if (uid == NULL) {
		*error = xasprintf("'kubectl create' printed no uid for "
				   "Job '%s'",
		    spec->name);
		errno = EIO;
	} else {
		kube_set_owner(list, spec->name, uid);
		json_array_remove(json_object_get(list, "items"), 0);
		rest = json_pack("{s:s, s:s, s:O}", "apiVersion", "v1", "kind",
		    "List", "items", json_object_get(list, "items"));
		rc = create_objects(k, rest, NULL, error);
		json_decref(rest);
	}
	if (rc < 0) {
		/* Nothing left behind; the error is the first one. */
		saved = errno == EEXIST ? EIO : errno;
		if (kube_destroy(rt, spec->name, &undo) < 0)
			free(undo);
		errno = saved;
	}
	json_decref(created);
	free(json);
	json_decref(list);
	return rc;
}

static int
kube_find(struct runtime *rt, const char *name, struct runtime_instance *out,
    char **error)
{
	struct kube_status s;

	if (kube_status_of(kube_of(rt), name, &s, error) < 0) {
		*out = (struct runtime_instance)RUNTIME_INSTANCE_INIT;
		return -1;
	}
	*out = s.inst;
	s.inst = (struct runtime_instance)RUNTIME_INSTANCE_INIT;
	kube_status_release(&s);
	return 0;
}

/* ---- the follower ---- */

/* Writes every new complete line of buf (kubectl's output so far) to out;
 * keeps the incomplete rest.  final: the rest is a last line.  In the
 * follower only. */
static void
emit_lines(
    struct kube_log_cursor *c, char **buf, size_t *len, int out, bool final)
{
	size_t start = 0, offset;
	char *nl;

	while (start < *len) {
		size_t n;

		nl = memchr(*buf + start, '\n', *len - start);
		if (nl == NULL && !final)
			break;
		n = nl != NULL ? (size_t)(nl - (*buf + start)) : *len - start;
		/* Nobody reads any more (SIGPIPE is ignored): the follower's
		 * work is over. */
		if (kube_log_accept(c, *buf + start, n, &offset) &&
		    (file_write_all(out, *buf + start + offset, n - offset) <
			    0 ||
			(nl != NULL && file_write_all(out, "\n", 1) < 0)) &&
		    errno == EPIPE)
			_exit(1);
		start += n + (nl != NULL);
	}
	memmove(*buf, *buf + start, *len - start);
	*len -= start;
}

/* One "kubectl logs -f" of pod, from the cursor, until it ends or stays
 * silent for the timeout.  Returns the number of new bytes it gave. */
static size_t
follow_once(const struct kube *k, const char *pod, struct kube_log_cursor *c,
    int out, bool final)
{
	char since[64], since_arg[80], chunk[8192], *buf = NULL, *error = NULL;
	const char *args[] = { "logs", "--follow", "--timestamps", "-c",
		KUBE_CONTAINER, pod, since_arg, NULL };
	int pipefd[2], wstatus;
	size_t len = 0, total = 0;
	pid_t pid;

	kube_log_since(c, since, sizeof(since));
	snprintf(since_arg, sizeof(since_arg), "--since-time=%s", since);
	if (since[0] == '\0')
		args[6] = NULL;
	kube_log_resume(c);
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return 0;
	pid = kube_spawn(k, args, false, -1, pipefd[1], -1, true, &error);
	close(pipefd[1]);
	free(error);
	for (;;) {
		struct pollfd p = { pipefd[0], POLLIN, 0 };
		int ready = pid < 0 ? 0 : poll(&p, 1, (int)k->timeout_ms);
		ssize_t n;

		if (ready < 0 && errno == EINTR)
			continue;
		if (ready <= 0) {
			/* Silent too long: ask again from where it was. */
			if (pid >= 0)
				kill(pid, SIGKILL);
			break;
		}
		if ((n = read(pipefd[0], chunk, sizeof(chunk))) <= 0)
			break;
		append(&buf, &len, chunk, (size_t)n);
		total += (size_t)n;
		emit_lines(c, &buf, &len, out, false);
	}
	close(pipefd[0]);
	if (pid >= 0)
		(void)reap_child(pid, &wstatus, true);
	/* A line cut by a break comes again whole after the resume. */
	if (final)
		emit_lines(c, &buf, &len, out, true);
	free(buf);
	return total;
}

/* The follower's loop (in the child): the pod's log to out until its
 * container has ended.  Exits 0 then, 1 when the pod cannot start, is
 * gone or cannot be looked at: the parent's wait says why. */
static void __attribute__((noreturn))
follower(const struct kube *k, const char *name, int out)
{
	struct kube_log_cursor cursor = { 0 };
	uint64_t since = clock_now_ms();
	unsigned failures = 0;

	for (;;) {
		struct kube_status s;
		char *error = NULL;
		bool ended;

		if (kube_status_of(k, name, &s, &error) < 0) {
			free(error);
			if (++failures >= KUBE_FOLLOW_TRIES)
				_exit(1);
			pause_ms(KUBE_POLL_MS);
			continue;
		}
		failures = 0;
		if (s.inst.state == RUNTIME_ABSENT ||
		    kube_waiting_is_fatal(s.waiting) ||
		    (s.inst.state == RUNTIME_EXITED && s.pod == NULL))
			_exit(1);
		if (s.pod == NULL || s.waiting != NULL) {
			kube_status_release(&s);
			/* Pending too long: kube_wait() says why. */
			if (clock_now_ms() - since >= k->pending_ms)
				_exit(1);
			pause_ms(KUBE_POLL_MS);
			continue;
		}
		ended = s.inst.state == RUNTIME_EXITED;
		if (follow_once(k, s.pod, &cursor, out, ended) == 0 && !ended)
			pause_ms(KUBE_POLL_MS);
		kube_status_release(&s);
		if (ended)
			_exit(0);
	}
}

static int
kube_follow(struct runtime *rt, const char *name, struct runtime_attach *out,
    char **error)
{
	int pipefd[2];
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		*error = xasprintf("cannot make a pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	if ((pid = fork()) < 0) {
		*error = xasprintf("cannot fork: %s", strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		return -1;
	}
	if (pid == 0) {
		(void)setpgid(0, 0);
		close(pipefd[0]);
		follower(kube_of(rt), name, pipefd[1]);
	}
	(void)setpgid(pid, pid);
	close(pipefd[1]);
	if (kube_of(rt)->attached_at == 0)
		kube_of(rt)->attached_at = clock_now_ms();
	out->pid = pid;
	out->output = pipefd[0];
	return 0;
}

/* Resumes the suspended Job: the Job controller makes its pod. */
static int
kube_start(struct runtime *rt, const char *name, char **error)
{
	const char *args[] = { "patch", "job", name, "--type=merge", "-p",
		"{\"spec\":{\"suspend\":false}}", "-o", "name", NULL };
	struct kube_output o;

	if (kube_call(kube_of(rt), "patch job", args, NULL, 0, &o, error) < 0)
		return -1;
	kube_output_release(&o);
	return 0;
}

static int
kube_attach(struct runtime *rt, const char *name, bool start,
    struct runtime_attach *out, char **error)
{
	if (start && kube_start(rt, name, error) < 0)
		return -1;
	return kube_follow(rt, name, out, error);
}

static int
kube_logs(struct runtime *rt, const char *name, bool follow,
    struct runtime_attach *out, char **error)
{
	/* The follower ends when the container has: following or not, it
	 * gives the whole log. */
	(void)follow;
	return kube_follow(rt, name, out, error);
}

static int
kube_signal(struct runtime *rt, const char *name, int signo, char **error)
{
	char *selector = xasprintf(KUBE_LABEL_JOB_NAME "=%s", name);
	const char *args[] = { "delete", "pods", "-l", selector, "--wait=false",
		signo == SIGKILL ? "--grace-period=1" : NULL, NULL };
	struct kube_output o;
	int rc;

	if (signo != SIGTERM && signo != SIGKILL) {
		free(selector);
		*error = xasprintf("a pod can be sent SIGTERM or SIGKILL, not "
				   "signal %d",
		    signo);
		errno = EINVAL;
		return -1;
	}
	rc = kube_call(kube_of(rt), "delete pods", args, NULL, 0, &o, error);
	free(selector);
	if (rc == 0)
		kube_output_release(&o);
	return rc;
}

/* Why an instance that will not end by itself cannot give a status, or
 * NULL while it may still. */
static char *
no_status(const struct kube *k, const char *name, const struct kube_status *s)
{
	char took[32];

	if (s->inst.state == RUNTIME_RUNNING &&
	    (s->pod == NULL || s->waiting != NULL) &&
	    clock_now_ms() - k->attached_at >= k->pending_ms) {
		duration_format(took, sizeof(took), k->pending_ms);
		if (s->pod == NULL)
			return xasprintf("Job '%s' made no pod within %s "
					 "(JOBRUN_KUBE_PENDING_TIMEOUT)",
			    name, took);
		return xasprintf("the pod of '%s' was still pending after %s "
				 "(JOBRUN_KUBE_PENDING_TIMEOUT): %s%s%s",
		    name, took, s->waiting, s->message != NULL ? ": " : "",
		    s->message != NULL ? s->message : "");
	}
	if (s->inst.state == RUNTIME_ABSENT)
		return xasprintf("Job '%s' is gone", name);
	if (s->inst.state == RUNTIME_EXITED && s->inst.exit_code < 0)
		return xasprintf("Job '%s' failed: %s", name,
		    s->failed != NULL ? s->failed : "no exit status");
	if (kube_waiting_is_fatal(s->waiting))
		return xasprintf("the pod of '%s' cannot start: %s: %s", name,
		    s->waiting, s->message != NULL ? s->message : "");
	if (s->inst.state == RUNTIME_CREATED)
		return xasprintf("Job '%s' was never started", name);
	return NULL;
}

static int
kube_wait(struct runtime *rt, const char *name, int *out_status, char **error)
{
	struct kube *k = kube_of(rt);

	if (k->attached_at == 0)
		k->attached_at = clock_now_ms();
	for (;;) {
		struct kube_status s;
		char *why;

		if (kube_status_of(k, name, &s, error) < 0)
			return -1;
		if ((why = no_status(k, name, &s)) != NULL) {
			*error = why;
			kube_status_release(&s);
			errno = ESRCH;
			return -1;
		}
		if (s.inst.state == RUNTIME_EXITED) {
			*out_status = s.inst.exit_code;
			kube_status_release(&s);
			return 0;
		}
		kube_status_release(&s);
		pause_ms(KUBE_POLL_MS);
	}
}

/* ---- the results volume ---- */

/* Deletes pod (absent is fine); a failure is a warning. */
static void
collector_delete(const struct kube *k, const char *pod, bool wait)
{
	const char *args[] = { "delete", "pod", pod, "--ignore-not-found",
		wait ? "--wait=true" : "--wait=false", NULL };
	struct kube_output o;
	char *error = NULL;

	if (kube_call(k, "delete pod", args, NULL, 0, &o, &error) < 0) {
		diag_warn(
		    "cannot remove the collector pod '%s': %s", pod, error);
		free(error);
		return;
	}
	kube_output_release(&o);
}

/* Waits for pod's collector to end, within the pending deadline (a pod
 * that cannot start ends it at once).  Returns its exit code, or -1 with
 * *error. */
static int
collector_wait(const struct kube *k, const char *pod, char **error)
{
	const char *args[] = { "get", "pod", pod, "-o", "json", NULL };
	uint64_t start = clock_now_ms();
	char took[32];

	for (;;) {
		struct kube_output o;
		char *waiting = NULL, reason[128];
		int code, ended;

		if (kube_call(k, "get pod", args, NULL, 0, &o, error) < 0)
			return -1;
		ended = kube_pod_ended(o.out, KUBE_COLLECTOR, &code, &waiting);
		kube_output_release(&o);
		if (ended)
			return code;
		snprintf(reason, sizeof(reason), "%.*s",
		    waiting != NULL ? (int)strcspn(waiting, ":") : 0,
		    waiting != NULL ? waiting : "");
		if (kube_waiting_is_fatal(reason) ||
		    clock_now_ms() - start >= k->pending_ms) {
			duration_format(took, sizeof(took), k->pending_ms);
			*error = kube_waiting_is_fatal(reason)
			    ? xasprintf("the collector pod '%s' cannot start: "
					"%s",
				  pod, waiting)
			    : xasprintf("the collector pod '%s' did not end "
					"within %s: %s",
				  pod, took,
				  waiting != NULL ? waiting : "running");
			free(waiting);
			errno = ETIMEDOUT;
			return -1;
		}
		free(waiting);
		pause_ms(KUBE_POLL_MS);
	}
}

/* "the collector pod failed with status N: LAST LINE" (masked). */
static char *
last_line_message(
    const struct kube *k, const char *pod, int code, const char *log)
{
	size_t n = strlen(log), start;
	char *line, *masked, *msg;

	while (n > 0 && (log[n - 1] == '\n' || log[n - 1] == ' '))
		n--;
	for (start = n; start > 0 && log[start - 1] != '\n'; start--)
		;
	line = xstrndup(log + start, n - start);
	masked = k->mask != NULL
	    ? mask_string(k->mask, line, strlen(line), NULL)
	    : xstrdup(line);
	msg = masked[0] != '\0'
	    ? xasprintf("the collector pod '%s' failed with status %d: %s", pod,
		  code, masked)
	    : xasprintf(
		  "the collector pod '%s' failed with status %d", pod, code);
	free(masked);
	free(line);
	return msg;
}

/* Writes the archive to an unlinked file of dir and unpacks it there
 * (the safe extraction, runtime_extract_results()). */
static int
unpack_archive(const char *name, const char *tar, size_t length,
    const char *dir, char **error)
{
	char *path = xasprintf("%s/.collect-XXXXXX", dir);
	int fd = mkostemp(path, O_CLOEXEC), skipped;

	if (fd < 0) {
		*error = xasprintf(
		    "cannot make a file in '%s': %s", dir, strerror(errno));
		free(path);
		return -1;
	}
	unlink(path);
	free(path);
	if (file_write_all(fd, tar, length) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		*error = xasprintf("cannot write the results archive in '%s': "
				   "%s",
		    dir, strerror(errno));
		close(fd);
		return -1;
	}
	skipped = runtime_extract_results(fd, dir, error);
	close(fd);
	if (skipped > 0)
		diag_warn("%d unsafe entr%s in the results of '%s' skipped",
		    skipped, skipped == 1 ? "y" : "ies", name);
	return skipped < 0 ? -1 : 0;
}

/*
 * The whole result files from the results volume: a collector pod packs
 * the run's sub-directory of the claim to its log (results-unpack.h), read
 * here with "kubectl logs", checked (kube_results_decode()) and unpacked
 * into dir.  The pod is removed whatever happens.
 */
static int
collect_volume(
    const struct kube *k, const char *name, const char *dir, char **error)
{
	const char *job_args[] = { "get", "job", name, "-o", "json", NULL };
	char *pod_name = xasprintf("%s" KUBE_COLLECTOR_SUFFIX, name);
	const char *log_args[] = { "logs", pod_name, "-c", KUBE_COLLECTOR,
		NULL };
	struct kube_output o = { 0 };
	char *tar = NULL;
	size_t tar_length = 0;
	json_t *pod;
	int code = -1, rc = -1;

	if (kube_call(k, "get job", job_args, NULL, 0, &o, error) < 0) {
		free(pod_name);
		return -1;
	}
	pod = kube_collector_pod(o.out, name, k->results_claim, error);
	kube_output_release(&o);
	if (pod == NULL) {
		free(pod_name);
		return -1;
	}
	/* One left by an earlier collect of this run goes first. */
	collector_delete(k, pod_name, true);
	if (create_objects(k, pod, NULL, error) == 0 &&
	    (code = collector_wait(k, pod_name, error)) >= 0 &&
	    kube_call(k, "logs", log_args, NULL, 0, &o, error) == 0) {
		if (code != 0) {
			/* Its log ends with jobrun's message: say it. */
			*error = last_line_message(k, pod_name, code, o.out);
		} else if (kube_results_decode(o.out, o.out_length, &tar,
			       &tar_length, error) == 0) {
			rc = unpack_archive(name, tar, tar_length, dir, error);
			free(tar);
		}
		kube_output_release(&o);
	}
	json_decref(pod);
	collector_delete(k, pod_name, false);
	free(pod_name);
	return rc;
}

/* Only the termination summary comes back (see the top of the file):
 * dir/result.json is written from it; with a results volume, the whole
 * files after it (collect_volume()). */
static int
kube_collect_result(
    struct runtime *rt, const char *name, const char *dir, char **error)
{
	struct kube_status s;
	char *result, *why = NULL, *path;
	const struct kube *k = kube_of(rt);
	size_t n;
	int rc;

	if (kube_status_of(k, name, &s, error) < 0)
		return -1;
	if (s.pod == NULL && s.inst.state == RUNTIME_EXITED &&
	    s.inst.exit_code >= 0)
		result = kube_result_from_status(s.inst.job, s.inst.exit_code);
	else
		result = kube_result_from_summary(s.message, &why);
	if (result == NULL) {
		*error = s.inst.oom_killed
		    ? xasprintf("its container ran out of memory (OOMKilled) "
				"and left no summary")
		    : xasprintf("%s", why != NULL ? why : "no result");
		free(why);
		kube_status_release(&s);
		errno = ENOENT;
		return -1;
	}
	/* The container wrote the summary; it was parsed and re-encoded
	 * above, so the file is ours: written, not unpacked. */
	n = strlen(result);
	while (n > 0 && result[n - 1] == '\n')
		n--;
	path = xasprintf("%s/result.json", dir);
	rc = file_write_atomic(path, result, n, true, error);
	free(path);
	free(result);
	kube_status_release(&s);
	if (rc == 0 && k->results_claim != NULL &&
	    collect_volume(k, name, dir, &why) < 0) {
		*error = xasprintf(
		    "the results volume '%s': %s", k->results_claim, why);
		free(why);
		errno = EIO;
		return -1;
	}
	return rc;
}

static int
kube_destroy(struct runtime *rt, const char *name, char **error)
{
	char *selector = xasprintf(KUBE_LABEL_INSTANCE "=%s", name);
	const char *args[] = { "delete", "jobs,configmaps,secrets", "-l",
		selector, "--ignore-not-found", "--wait=false",
		"--cascade=background", NULL };
	struct kube_output o;
	int rc;

	rc = kube_call(kube_of(rt), "delete jobs,configmaps,secrets", args,
	    NULL, 0, &o, error);
	free(selector);
	if (rc == 0)
		kube_output_release(&o);
	return rc;
}

static int
kube_list(struct runtime *rt, struct runtime_instance **out, size_t *out_count,
    char **error)
{
	const char *args[] = { "get", "jobs,pods", "-l", RUNTIME_LABEL_RUN_ID,
		"-o", "json", NULL };
	struct kube_status *list = NULL;
	struct kube_output o;
	size_t n = 0, i;

	if (kube_call(kube_of(rt), "get jobs,pods", args, NULL, 0, &o, error) <
	    0)
		return -1;
	if (kube_parse_list(&list, &n, o.out, error) < 0) {
		kube_output_release(&o);
		return -1;
	}
	kube_output_release(&o);
	*out = xcalloc(n > 0 ? n : 1, sizeof(**out));
	for (i = 0; i < n; i++) {
		(*out)[i] = list[i].inst;
		list[i].inst = (struct runtime_instance)RUNTIME_INSTANCE_INIT;
	}
	*out_count = n;
	kube_statuses_free(list, n);
	return 0;
}

/* The follower ends by itself once the container has; else (a failure on
 * this side) it and its kubectl are ended.  The status is asked by wait:
 * -1. */
static int
kube_detach(struct runtime *rt, struct runtime_attach *attach)
{
	uint64_t deadline = clock_now_ms() + 2000;
	pid_t pid = attach->pid;
	int wstatus;

	(void)rt;
	runtime_attach_close(attach);
	attach->pid = -1;
	if (pid < 0)
		return -1;
	while (reap_child(pid, &wstatus, false) == 0) {
		if (clock_now_ms() >= deadline) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			(void)reap_child(pid, &wstatus, true);
			break;
		}
		pause_ms(5);
	}
	return -1;
}

static void
kube_free(struct runtime *rt)
{
	struct kube *k = kube_of(rt);

	free(k->program);
	free(k->namespace);
	free(k->context);
	free(k->results_claim);
	free(k);
	free(rt);
}

static const struct runtime_ops kube_ops = {
	.name = "kubernetes",
	.probe = kube_probe,
	.pull = kube_pull,
	.create = kube_create,
	.find = kube_find,
	.attach = kube_attach,
	.start = kube_start,
	.logs = kube_logs,
	.signal = kube_signal,
	.wait = kube_wait,
	.collect_result = kube_collect_result,
	.destroy = kube_destroy,
	.list = kube_list,
	.detach = kube_detach,
	.free = kube_free,
};

/* A claim's name: a DNS subdomain (RFC 1123), at most 253 characters. */
static bool
claim_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0)
		return true; /* unset */
	if (n > 253 ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-.") != n)
		return false;
	return name[0] != '-' && name[0] != '.' && name[n - 1] != '-' &&
	    name[n - 1] != '.';
}

static char *
setting(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? xstrdup(v) : NULL;
}

struct runtime *
runtime_kube_new(const char *program, struct mask_set *mask, char **error)
{
	const char *timeout = getenv("JOBRUN_KUBE_TIMEOUT");
	const char *pending = getenv("JOBRUN_KUBE_PENDING_TIMEOUT");
	const char *claim = getenv("JOBRUN_KUBE_RESULTS_VOLUME"), *why = NULL;
	char *path = proc_find_program(program, getenv("PATH")), *end = NULL;
	unsigned long seconds = KUBE_TIMEOUT_DEFAULT_MS / 1000;
	uint64_t pending_ms = KUBE_PENDING_DEFAULT_MS;
	struct runtime *rt;
	struct kube *k;

	if (timeout != NULL && timeout[0] != '\0') {
		errno = 0;
		seconds = strtoul(timeout, &end, 10);
		if (*end != '\0' || errno != 0 || seconds == 0 ||
		    seconds > 3600) {
			*error = xasprintf("JOBRUN_KUBE_TIMEOUT: expected 1 to "
					   "3600 seconds, not '%s'",
			    timeout);
			free(path);
			return NULL;
		}
	}
	if (pending != NULL && pending[0] != '\0' &&
	    duration_parse(&pending_ms, pending, &why) < 0) {
		*error = xasprintf(
		    "JOBRUN_KUBE_PENDING_TIMEOUT: '%s': %s", pending, why);
		free(path);
		return NULL;
	}
	if (claim != NULL && !claim_name_valid(claim)) {
		*error =
		    xasprintf("JOBRUN_KUBE_RESULTS_VOLUME: '%s' is not the "
			      "name of a PersistentVolumeClaim",
			claim);
		free(path);
		return NULL;
	}
	if (path == NULL) {
		*error = xasprintf("cannot find '%s' in PATH", program);
		return NULL;
	}
	rt = xcalloc(1, sizeof(*rt));
	k = xcalloc(1, sizeof(*k));
	k->program = path;
	k->namespace = setting("JOBRUN_KUBE_NAMESPACE");
	k->context = setting("JOBRUN_KUBE_CONTEXT");
	k->timeout_ms = (uint64_t)seconds * 1000;
	k->pending_ms = pending_ms;
	k->results_claim =
	    claim != NULL && claim[0] != '\0' ? xstrdup(claim) : NULL;
	k->mask = mask;
	rt->ops = &kube_ops;
	rt->kind = "kubernetes";
	rt->backend = k;
	rt->interrupt_fd = -1;
	return rt;
}
