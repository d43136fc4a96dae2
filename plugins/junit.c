/*
 * junit: a bundled plugin that reports a job's steps as JUnit XML, the
 * format CI front ends (GitLab, Jenkins, GitHub actions' reporters) read,
 * so that each step shows up as a test case with its outcome and output.
 *
 * USER DOCUMENTATION (for jobrun-plugin(3) / jobrun(1))
 *
 * Loading: plugins: [{path: junit}], --plugin junit or JOBRUN_PLUGINS=junit.
 *
 * At post-execution the plugin writes ARTIFACTS_DIR/junit.xml (the job's
 * artifacts directory, /job/artifacts by default, made with its parents
 * when missing).  A job that never reaches post-execution (it failed or
 * was cancelled before its steps) gets the file at cleanup instead, its
 * steps as jobrun then reports them (skipped, or not run).  The file is
 * written atomically: a temporary file in the same directory, flushed to
 * disk, then renamed, so a reader sees the old file or the whole new one.
 * Mode 0644 (less the umask).
 *
 * Contents: one <testsuite name="JOB" tests= failures= errors="0"
 * skipped= time=> holding one <testcase name="STEP" classname="JOB"
 * time="S.mmm"> per step of the job file, in its order; time is the
 * step's duration over all its attempts, in seconds.
 *   failed      <failure type="failed" message="exit code N"/> or
 *               message="killed by signal N"
 *   timed_out   <failure type="timed_out" message="timed out after S.mmm s"/>
 *   skipped     <skipped message="skipped"/>
 *   cancelled   <skipped message="cancelled"/>
 *   not run     <skipped message="not run"/> (the job ended before it)
 * A step whose failure continue_on_error forgave (the job did not fail
 * for it) is a test case that passed: no <failure>, and its <system-out>
 * starts with a line saying so, as "jobrun: failed, exit code N,
 * forgiven by continue_on_error" (with a jobrun older than ABI 1.1, which
 * does not say, it is a failure).
 * failures counts failed and timed-out steps; skipped counts the others
 * that did not succeed.  A step that ran gets a <system-out> with the last
 * 64 KiB of its log (masked by jobrun), preceded by a line saying how many
 * bytes were left out when the log was longer.  Names and output are
 * escaped; bytes that are not valid UTF-8, and characters XML 1.0 does not
 * allow (control characters but tab, newline and carriage return), are
 * dropped.  A missing log gives no <system-out>.
 *
 * Files under the workspace are a step's to plant (a silent step's log is
 * never created by jobrun), so none is followed or waited on: the log
 * directory, each log, the artifacts directory and the directories of the
 * file setting are opened without following a symbolic link, and a log
 * without blocking; a log is read only when it is a regular file with one
 * link.  Any other log (a link, a FIFO, a directory, a hard link) is left
 * out with a warning naming it, and its <system-out> is the line
 * "jobrun: log left out: REASON" (REASON as "a symbolic link", "not a
 * regular file", "hard-linked"); the report is still written.  An
 * artifacts directory that is a symbolic link fails the report.
 *
 * Settings:
 *   file   the report's name, relative to the artifacts directory
 *          (default junit.xml); an absolute path or one with a ".."
 *          component is refused.  Directories in it are made when
 *          missing; one that is a symbolic link (a step may have made it)
 *          is not followed: the report then fails.
 * Any other key is refused and fails the job at init (status 125).
 * Failing to write the report is logged as an error and reported to
 * jobrun, which reports it; the job's own status does not change.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jobrun/plugin.h>

/* How much of the end of a step's log goes into <system-out>. */
#define JUNIT_LOG_TAIL (64 * 1024)

struct junit {
	const struct jobrun_host *host;
	char *file;
	bool attempted;
};

/* The counts of the <testsuite> element. */
struct junit_counts {
	size_t tests, failures, skipped;
	uint64_t duration_ms;
};

/*
 * The length of the valid UTF-8 sequence at s (at most length bytes) that
 * encodes a character XML 1.0 allows, or 0 when the byte at s must be
 * dropped.  *code gets the character.
 */
static size_t
junit_xml_char(const unsigned char *s, size_t length, uint32_t *code)
{
	size_t need, i;
	uint32_t c = s[0];

	if (c < 0x80) {
		*code = c;
		return c >= 0x20 || c == '\t' || c == '\n' || c == '\r';
	}
	if (c >= 0xc2 && c <= 0xdf) {
		need = 2;
		c &= 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		c &= 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		c &= 0x07;
	} else
		return 0;
	if (length < need)
		return 0;
	for (i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates, past U+10FFFF, U+FFFE and U+FFFF. */
	if ((need == 3 && c < 0x800) || (need == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff || c == 0xfffe ||
	    c == 0xffff)
		return 0;
	*code = c;
	return need;
}

/* Writes length bytes of s, escaped for text and attribute values. */
static void
junit_escape(FILE *out, const char *s, size_t length)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;
	uint32_t code;

	while (i < length) {
		if ((n = junit_xml_char(p + i, length - i, &code)) == 0) {
			i++;
			continue;
		}
		switch (code) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&apos;", out);
			break;
		case '\r':
			fputs("&#13;", out);
			break;
		default:
			fwrite(p + i, 1, n, out);
		}
		i += n;
	}
}

static void
junit_escape_string(FILE *out, const char *s)
{
	if (s != NULL)
		junit_escape(out, s, strlen(s));
}

/* Why a log that could not be opened is left out; NULL when missing. */
static const char *
junit_open_failure(int error, bool directory)
{
	if (error == ENOENT)
		return NULL;
	if (directory && (error == ELOOP || error == ENOTDIR))
		return "its directory is a symbolic link or not a directory";
	if (error == ELOOP)
		return "a symbolic link";
	return strerror(error);
}

/*
 * Opens a step's log to read it.  A step can plant a file at its log's
 * path (jobrun creates the log with the step's first byte, so a silent
 * step's is the step's), so nothing there is trusted: the log directory
 * and the log are opened without following a symbolic link, the log
 * without waiting (a FIFO would hold the job), and it is read only when it
 * is a regular file with one link (a hard link is another file's content).
 * Returns the fd, or -1 with *why saying why it is left out (NULL when
 * there is no log).
 */
static int
junit_open_log(const char *log_file, const char **why)
{
	const char *slash = strrchr(log_file, '/');
	struct stat st;
	char *dir_path;
	int dir = AT_FDCWD, fd;

	*why = NULL;
	if (slash != NULL) {
		if ((dir_path = strndup(log_file,
			 slash == log_file ? 1 : (size_t)(slash - log_file))) ==
		    NULL) {
			*why = strerror(errno);
			return -1;
		}
		dir = open(
		    dir_path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		free(dir_path);
		if (dir < 0) {
			*why = junit_open_failure(errno, true);
			return -1;
		}
	}
	fd = openat(dir, slash != NULL ? slash + 1 : log_file,
	    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		*why = junit_open_failure(errno, false);
	else if (fstat(fd, &st) < 0)
		*why = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		*why = "not a regular file";
	else if (st.st_nlink != 1)
		*why = "hard-linked";
	if (fd >= 0 && *why != NULL) {
		close(fd);
		fd = -1;
	}
	if (dir != AT_FDCWD)
		close(dir);
	return fd;
}

/* Reads the last JUNIT_LOG_TAIL bytes of fd into buffer; returns how many
 * bytes, and in *skip how many came before them. */
static size_t
junit_read_tail(int fd, char *buffer, off_t *skip)
{
	struct stat st;
	ssize_t got;
	size_t used = 0;

	*skip = 0;
	if (fstat(fd, &st) == 0 && st.st_size > JUNIT_LOG_TAIL)
		*skip = st.st_size - JUNIT_LOG_TAIL;
	if (*skip > 0 && lseek(fd, *skip, SEEK_SET) < 0)
		*skip = 0;
	while (used < JUNIT_LOG_TAIL &&
	    (got = read(fd, buffer + used, JUNIT_LOG_TAIL - used)) > 0)
		used += (size_t)got;
	return used;
}

/*
 * Writes the <system-out> of a step: note (NULL: none) on a line of its
 * own, then the last JUNIT_LOG_TAIL bytes of its log.  A missing log gives
 * none (without a note); one that cannot be read is left out with a
 * warning naming it, and a line saying so instead of its content.
 */
static void
junit_write_log(struct jobrun_context *context, struct junit *junit, FILE *out,
    const char *log_file, const char *note)
{
	const char *why = NULL;
	char *buffer;
	size_t used = 0;
	off_t skip = 0;
	int fd = log_file != NULL ? junit_open_log(log_file, &why) : -1;

	if (why != NULL)
		junit->host->log(context, JOBRUN_LOG_WARNING,
		    "step log '%s' left out: %s", log_file, why);
	if (fd < 0 && why == NULL && note == NULL)
		return;
	if ((buffer = malloc(JUNIT_LOG_TAIL)) == NULL) {
		junit->host->log(context, JOBRUN_LOG_ERROR, "out of memory");
		if (fd >= 0)
			close(fd);
		return;
	}
	if (fd >= 0) {
		used = junit_read_tail(fd, buffer, &skip);
		close(fd);
	}

	fputs("      <system-out>", out);
	if (note != NULL) {
		junit_escape_string(out, note);
		fputc('\n', out);
	}
	if (why != NULL) {
		fputs("jobrun: log left out: ", out);
		junit_escape_string(out, why);
		fputc('\n', out);
	}
	if (skip > 0)
		fprintf(out, "[%lld bytes before this left out]\n",
		    (long long)skip);
	junit_escape(out, buffer, used);
	fputs("</system-out>\n", out);
	free(buffer);
}

/* Whether step failed and continue_on_error forgave it (ABI 1.1). */
static bool
junit_forgiven(const struct junit *junit, const struct jobrun_step *step)
{
	return junit->host->abi_version >= JOBRUN_PLUGIN_ABI(1, 1) &&
	    step->continue_on_error &&
	    (step->outcome == JOBRUN_OUTCOME_FAILED ||
		step->outcome == JOBRUN_OUTCOME_TIMED_OUT);
}

/* How step failed, as a <failure>'s message says it, into buffer. */
static void
junit_failure_text(char *buffer, size_t size, const struct jobrun_step *step)
{
	if (step->outcome == JOBRUN_OUTCOME_TIMED_OUT)
		snprintf(buffer, size, "timed out after %llu.%03llu s",
		    (unsigned long long)(step->duration_ms / 1000),
		    (unsigned long long)(step->duration_ms % 1000));
	else if (step->exit_code < 0 && step->signal > 0)
		snprintf(buffer, size, "killed by signal %d", step->signal);
	else
		snprintf(buffer, size, "exit code %d", step->exit_code);
}

static void
junit_write_outcome(
    FILE *out, const struct junit *junit, const struct jobrun_step *step)
{
	char how[64];

	if (junit_forgiven(junit, step))
		return; /* passed: the failure goes to <system-out> */
	junit_failure_text(how, sizeof(how), step);
	switch (step->outcome) {
	case JOBRUN_OUTCOME_SUCCESS:
		break;
	case JOBRUN_OUTCOME_FAILED:
		fprintf(out,
		    "      <failure type=\"failed\" message=\"%s\"/>\n", how);
		break;
	case JOBRUN_OUTCOME_TIMED_OUT:
		fprintf(out,
		    "      <failure type=\"timed_out\" message=\"%s\"/>\n",
		    how);
		break;
	case JOBRUN_OUTCOME_SKIPPED:
		fputs("      <skipped message=\"skipped\"/>\n", out);
		break;
	case JOBRUN_OUTCOME_CANCELLED:
		fputs("      <skipped message=\"cancelled\"/>\n", out);
		break;
	default:
		fputs("      <skipped message=\"not run\"/>\n", out);
		break;
	}
}

static void
junit_count(struct junit_counts *counts, const struct junit *junit,
    const struct jobrun_step *step)
{
	counts->tests++;
	counts->duration_ms += step->duration_ms;
	if (junit_forgiven(junit, step))
		return;
	if (step->outcome == JOBRUN_OUTCOME_FAILED ||
	    step->outcome == JOBRUN_OUTCOME_TIMED_OUT)
		counts->failures++;
	else if (step->outcome != JOBRUN_OUTCOME_SUCCESS)
		counts->skipped++;
}

/* The <system-out> of step: a forgiven failure is said first. */
static void
junit_write_step_out(struct jobrun_context *context, struct junit *junit,
    FILE *out, const struct jobrun_step *step)
{
	char how[64], note[128];

	if (!junit_forgiven(junit, step)) {
		junit_write_log(context, junit, out, step->log_file, NULL);
		return;
	}
	junit_failure_text(how, sizeof(how), step);
	snprintf(note, sizeof(note),
	    "jobrun: %s%s, forgiven by continue_on_error",
	    step->outcome == JOBRUN_OUTCOME_TIMED_OUT ? "" : "failed, ", how);
	junit_write_log(context, junit, out, step->log_file, note);
}

/* Writes the whole report to out. */
static void
junit_write_report(
    struct jobrun_context *context, struct junit *junit, FILE *out)
{
	const struct jobrun_host *host = junit->host;
	const struct jobrun_step *step;
	struct junit_counts counts = { 0 };
	const char *job = host->fact(context, "job");
	size_t count = host->step_count(context), i;

	for (i = 0; i < count; i++)
		if ((step = host->step_get(context, i)) != NULL)
			junit_count(&counts, junit, step);
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n"
	      "  <testsuite name=\"",
	    out);
	junit_escape_string(out, job);
	fprintf(out,
	    "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" "
	    "skipped=\"%zu\" time=\"%llu.%03llu\">\n",
	    counts.tests, counts.failures, counts.skipped,
	    (unsigned long long)(counts.duration_ms / 1000),
	    (unsigned long long)(counts.duration_ms % 1000));
	for (i = 0; i < count; i++) {
		if ((step = host->step_get(context, i)) == NULL)
			continue;
		fputs("    <testcase name=\"", out);
		junit_escape_string(out, step->name);
		fputs("\" classname=\"", out);
		junit_escape_string(out, job);
		fprintf(out, "\" time=\"%llu.%03llu\">\n",
		    (unsigned long long)(step->duration_ms / 1000),
		    (unsigned long long)(step->duration_ms % 1000));
		junit_write_outcome(out, junit, step);
		junit_write_step_out(context, junit, out, step);
		fputs("    </testcase>\n", out);
	}
	fputs("  </testsuite>\n</testsuites>\n", out);
}

/* mkdir -p: makes path and its missing parents. */
static int
junit_mkdirs(char *path)
{
	struct stat st;
	char *slash = path;

	do {
		slash = strchr(slash + 1, '/');
		if (slash != NULL)
			*slash = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST &&
		    (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))) {
			if (slash != NULL)
				*slash = '/';
			return -1;
		}
		if (slash != NULL)
			*slash = '/';
	} while (slash != NULL);
	return 0;
}

/*
 * Opens the directory the report goes in: the artifacts dir, made when
 * missing, then each directory of the file setting, made when missing;
 * none of them is followed when it is a symbolic link (a step may have put
 * one there).  *name gets the report's last component, in junit->file.
 */
static int
junit_open_dir(struct jobrun_context *context, struct junit *junit,
    char *artifacts, const char **name)
{
	char *component = junit->file, *slash;
	struct stat st;
	int dir, next, saved;

	/* The artifacts dir itself is not followed either: jobrun refuses a
	 * link there, and would lose its own files in it. */
	if (junit_mkdirs(artifacts) < 0 ||
	    (dir = open(artifacts,
		 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		saved = errno;
		if (lstat(artifacts, &st) == 0 && !S_ISDIR(st.st_mode))
			junit->host->log(context, JOBRUN_LOG_ERROR,
			    "cannot write the report: '%s' is not a "
			    "directory (a symbolic link is not followed)",
			    artifacts);
		else
			junit->host->log(context, JOBRUN_LOG_ERROR,
			    "cannot make directory '%s': %s", artifacts,
			    strerror(saved));
		return -1;
	}
	while ((slash = strchr(component, '/')) != NULL) {
		*slash = '\0';
		if ((mkdirat(dir, component, 0755) < 0 && errno != EEXIST) ||
		    (next = openat(dir, component,
			 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) <
			0) {
			junit->host->log(context, JOBRUN_LOG_ERROR,
			    "cannot write '%s/%s': directory '%s': %s",
			    artifacts, junit->file, component, strerror(errno));
			*slash = '/';
			close(dir);
			return -1;
		}
		*slash = '/';
		close(dir);
		dir = next;
		component = slash + 1;
		while (*component == '/')
			component++;
	}
	*name = component;
	return dir;
}

/*
 * Creates a temporary file beside the report, in dir: a name of our own
 * made unique with O_EXCL, as mkstemp() would, but relative to dir.
 */
static FILE *
junit_create_temporary(int dir, const char *name, char *temporary, size_t size)
{
	struct timespec now;
	FILE *out;
	int fd = -1;

	for (int attempt = 0; fd < 0 && attempt < 100; attempt++) {
		clock_gettime(CLOCK_REALTIME, &now);
		snprintf(temporary, size, ".%s.%ld.%lx", name, (long)getpid(),
		    (unsigned long)now.tv_nsec ^ (unsigned long)attempt);
		fd = openat(dir, temporary,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0 && errno != EEXIST)
			return NULL;
	}
	if (fd < 0)
		return NULL;
	if ((out = fdopen(fd, "w")) == NULL) {
		close(fd);
		unlinkat(dir, temporary, 0);
	}
	return out;
}

/* Writes the report to a temporary file in dir, then renames it name. */
static int
junit_write_file(struct jobrun_context *context, struct junit *junit, int dir,
    const char *name)
{
	char temporary[512];
	FILE *out;
	int result = -1, saved;

	if ((out = junit_create_temporary(
		 dir, name, temporary, sizeof(temporary))) == NULL)
		return -1;
	junit_write_report(context, junit, out);
	if (fflush(out) != 0 || ferror(out) || fsync(fileno(out)) < 0) {
		fclose(out);
	} else if (fclose(out) == 0 &&
	    renameat(dir, temporary, dir, name) == 0) {
		result = 0;
	}
	if (result < 0) {
		saved = errno;
		unlinkat(dir, temporary, 0);
		errno = saved;
	}
	return result;
}

static int
junit_write(struct jobrun_context *context, struct junit *junit)
{
	const char *artifacts = junit->host->fact(context, "artifacts_dir");
	const char *name;
	char *copy;
	int dir, result = -1;

	junit->attempted = true;
	if (artifacts == NULL) {
		junit->host->log(context, JOBRUN_LOG_ERROR,
		    "cannot write the report: no artifacts directory");
		return -1;
	}
	if ((copy = strdup(artifacts)) == NULL) {
		junit->host->log(context, JOBRUN_LOG_ERROR, "out of memory");
		return -1;
	}
	if ((dir = junit_open_dir(context, junit, copy, &name)) >= 0) {
		if ((result = junit_write_file(context, junit, dir, name)) < 0)
			junit->host->log(context, JOBRUN_LOG_ERROR,
			    "cannot write '%s/%s': %s", artifacts, junit->file,
			    strerror(errno));
		close(dir);
	}
	free(copy);
	return result;
}

/* Whether name is relative and has no ".." component. */
static bool
junit_file_valid(const char *name)
{
	const char *p = name;
	size_t length;

	if (name[0] == '\0' || name[0] == '/')
		return false;
	while (*p != '\0') {
		length = strcspn(p, "/");
		if (length == 2 && p[0] == '.' && p[1] == '.')
			return false;
		p += length;
		p += *p == '/';
	}
	return name[strlen(name) - 1] != '/';
}

static int
junit_init(struct jobrun_context *context, const struct jobrun_host *host,
    void **state)
{
	const char *key, *value, *file = "junit.xml";
	struct junit *junit;

	for (size_t i = 0; host->config_item(context, i, &key, &value) == 0;
	     i++) {
		if (strcmp(key, "file") != 0) {
			host->log(context, JOBRUN_LOG_ERROR,
			    "unknown setting '%s' (expected file)", key);
			return -1;
		}
		if (value == NULL || !junit_file_valid(value)) {
			host->log(context, JOBRUN_LOG_ERROR,
			    "setting 'file': expected a relative path "
			    "without '..'");
			return -1;
		}
		file = value;
	}
	if ((junit = calloc(1, sizeof(*junit))) == NULL ||
	    (junit->file = strdup(file)) == NULL) {
		free(junit);
		host->log(context, JOBRUN_LOG_ERROR, "out of memory");
		return -1;
	}
	junit->host = host;
	*state = junit;
	return 0;
}

static int
junit_phase(
    struct jobrun_context *context, void *state, enum jobrun_phase phase)
{
	struct junit *junit = state;

	if (phase == JOBRUN_PHASE_POST_EXECUTION ||
	    (phase == JOBRUN_PHASE_CLEANUP && !junit->attempted))
		return junit_write(context, junit);
	return 0;
}

static void
junit_fini(struct jobrun_context *context, void *state)
{
	struct junit *junit = state;

	if (junit == NULL)
		return;
	free(junit->file);
	free(junit);
}

const struct jobrun_plugin jobrun_plugin = {
	.abi_version = JOBRUN_PLUGIN_ABI_VERSION,
	.name = "junit",
	.version = PACKAGE_VERSION,
	.init = junit_init,
	.phase = junit_phase,
	.fini = junit_fini,
};
