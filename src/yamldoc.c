/*
 * Loading YAML text into a libyaml document, with limits (size, depth) that
 * keep a hostile file cheap, and messages that point at where the problem
 * starts: libyaml's own wording for the problems people meet most often
 * (tabs, unclosed quotes and brackets, a ':' in a value) is rewritten to
 * say what was expected.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xalloc.h"
#include "yamldoc.h"

/*
 * Returns the byte offset in data of mark, which libyaml counts in
 * characters; size when it cannot tell (UTF-16 input).
 */
static size_t
mark_offset(const char *data, size_t size, const yaml_mark_t *mark)
{
	size_t offset = 0, characters = 0;

	if (size >= 2 &&
	    ((unsigned char)data[0] == 0xfe || (unsigned char)data[0] == 0xff))
		return size;
	if (size >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		offset = 3;
	for (; offset < size; offset++) {
		if (((unsigned char)data[offset] & 0xc0) == 0x80)
			continue;
		if (characters++ == mark->index)
			return offset;
	}
	return size;
}

/* Returns the name after the '*' of an alias at index, for messages. */
static char *
alias_name(const char *data, size_t size, size_t index)
{
	size_t end = index + 1;

	while (end < size && end - index <= 60 &&
	    strchr(" \t\r\n,[]{}", data[end]) == NULL)
		end++;
	return xstrndup(data + index + 1, end - index - 1);
}

/*
 * An unclosed quote or bracket is found where the file ends or the next
 * thing fails to fit; point at where it opens instead.  NULL if the problem
 * is something else.
 */
static char *
unclosed_problem(const char *name, const yaml_parser_t *parser,
    const char *data, size_t size)
{
	const yaml_mark_t *mark = &parser->problem_mark;
	const yaml_mark_t *start = &parser->context_mark;
	const char *context = parser->context ? parser->context : "";
	size_t at = mark_offset(data, size, start);
	char opener = at < size ? data[at] : '\0';

	if (start->line == mark->line)
		return NULL;
	if (strcmp(context, "while scanning a quoted scalar") == 0 &&
	    (opener == '"' || opener == '\''))
		return xasprintf("%s:%zu:%zu: invalid YAML: this quoted string "
				 "is never closed: expected a closing %s quote",
		    name, start->line + 1, start->column + 1,
		    opener == '"' ? "double" : "single");
	if ((strcmp(context, "while parsing a flow sequence") == 0 ||
		strcmp(context, "while parsing a flow mapping") == 0) &&
	    (opener == '[' || opener == '{'))
		return xasprintf("%s:%zu:%zu: invalid YAML: this '%c' is never "
				 "closed: expected ',' or '%c' before line "
				 "%zu, column %zu",
		    name, start->line + 1, start->column + 1, opener,
		    opener == '[' ? ']' : '}', mark->line + 1,
		    mark->column + 1);
	return NULL;
}

/*
 * Rewords the libyaml problems people meet most often (tabs, a ': ' in a
 * value, '@' or '`', an unknown alias) to say what was expected.  NULL if
 * the problem is something else.
 */
static char *
reworded_problem(const char *name, const yaml_parser_t *parser,
    const char *data, size_t size)
{
	static const char no_token[] =
	    "found character that cannot start any token";
	const yaml_mark_t *mark = &parser->problem_mark;
	const char *problem = parser->problem ? parser->problem : "";
	size_t at = mark_offset(data, size, mark);
	char c = at < size ? data[at] : '\0', *alias, *message, *what;

	if (strncmp(problem, "found a tab character", 21) == 0 ||
	    (strcmp(problem, no_token) == 0 && c == '\t'))
		what = xstrdup("a tab in the indentation: expected spaces");
	else if (strcmp(problem, no_token) == 0 && c > ' ' && c < 0x7f)
		what = xasprintf("a value cannot start with '%c': expected it "
				 "in quotes",
		    c);
	else if (strcmp(problem,
		     "mapping values are not allowed in this context") == 0)
		what = xstrdup("unexpected ':': expected a quoted string if "
			       "the ':' is part of a value, or a key "
			       "indented like the ones before it");
	else if (strcmp(problem, "found undefined alias") == 0 && c == '*') {
		alias = alias_name(data, size, at);
		what = xasprintf("unknown alias '*%s': expected an anchor "
				 "'&%s' before it",
		    alias, alias);
		free(alias);
	} else
		return NULL;
	message = xasprintf("%s:%zu:%zu: invalid YAML: %s", name,
	    mark->line + 1, mark->column + 1, what);
	free(what);
	return message;
}

/* Describes the problem that stopped libyaml, in one line. */
static char *
yaml_problem(const char *name, const yaml_parser_t *parser, const char *data,
    size_t size)
{
	const yaml_mark_t *mark = &parser->problem_mark;
	const yaml_mark_t *start = &parser->context_mark;
	const char *problem = parser->problem ? parser->problem : "bad YAML";
	char *message;

	if (parser->error == YAML_READER_ERROR)
		return xasprintf("%s: invalid YAML: %s at byte offset %zu: "
				 "expected UTF-8 text without control "
				 "characters",
		    name, problem, parser->problem_offset);
	if ((message = unclosed_problem(name, parser, data, size)) != NULL ||
	    (message = reworded_problem(name, parser, data, size)) != NULL)
		return message;
	if (parser->context != NULL && start->line != mark->line)
		return xasprintf("%s:%zu:%zu: invalid YAML: %s %s that started "
				 "at line %zu, column %zu",
		    name, mark->line + 1, mark->column + 1, problem,
		    parser->context, start->line + 1, start->column + 1);
	if (parser->context != NULL)
		return xasprintf("%s:%zu:%zu: invalid YAML: %s %s", name,
		    mark->line + 1, mark->column + 1, problem, parser->context);
	return xasprintf("%s:%zu:%zu: invalid YAML: %s", name, mark->line + 1,
	    mark->column + 1, problem);
}

/*
 * Refuses YAML nested deeper than YAMLDOC_MAX_DEPTH before it is loaded:
 * libyaml's scanner slows down with the square of the flow depth, and no
 * document jobrun reads needs more than a few levels.  Syntax errors are
 * reported here too.
 */
static int
check_depth(const char *name, const char *data, size_t size, char **error)
{
	yaml_parser_t parser;
	yaml_event_t event;
	int depth = 0, rc = -1;
	bool done = false;

	if (!yaml_parser_initialize(&parser)) {
		*error = xasprintf("%s: cannot start the YAML parser", name);
		return -1;
	}
	yaml_parser_set_input_string(
	    &parser, (const unsigned char *)data, size);
	while (!done) {
		if (!yaml_parser_parse(&parser, &event)) {
			*error = yaml_problem(name, &parser, data, size);
			goto out;
		}
		if (event.type == YAML_SEQUENCE_START_EVENT ||
		    event.type == YAML_MAPPING_START_EVENT)
			depth++;
		else if (event.type == YAML_SEQUENCE_END_EVENT ||
		    event.type == YAML_MAPPING_END_EVENT)
			depth--;
		done = event.type == YAML_STREAM_END_EVENT;
		if (depth > YAMLDOC_MAX_DEPTH) {
			*error = xasprintf("%s:%zu:%zu: YAML nested more than "
					   "%d levels deep: expected at most "
					   "%d",
			    name, event.start_mark.line + 1,
			    event.start_mark.column + 1, YAMLDOC_MAX_DEPTH,
			    YAMLDOC_MAX_DEPTH);
			yaml_event_delete(&event);
			goto out;
		}
		yaml_event_delete(&event);
	}
	rc = 0;
out:
	yaml_parser_delete(&parser);
	return rc;
}

int
yamldoc_load(yaml_document_t *out, const char *name, const char *data,
    size_t size, const char *unit, char **error)
{
	yaml_parser_t parser;
	yaml_document_t extra;
	int rc = -1;

	*error = NULL;
	if (check_depth(name, data, size, error) < 0)
		return -1;
	if (!yaml_parser_initialize(&parser)) {
		*error = xasprintf("%s: cannot start the YAML parser", name);
		return -1;
	}
	yaml_parser_set_input_string(
	    &parser, (const unsigned char *)data, size);
	if (!yaml_parser_load(&parser, out)) {
		*error = yaml_problem(name, &parser, data, size);
		goto out;
	}
	/* An empty stream has ended: there is no second document to look for.
	 */
	if (yaml_document_get_root_node(out) == NULL) {
		rc = 0;
		goto out;
	}
	if (!yaml_parser_load(&parser, &extra)) {
		*error = yaml_problem(name, &parser, data, size);
		yaml_document_delete(out);
		goto out;
	}
	if (yaml_document_get_root_node(&extra) != NULL) {
		*error = xasprintf("%s:%zu:%zu: a second YAML document: "
				   "expected one %s per file",
		    name, extra.start_mark.line + 1,
		    extra.start_mark.column + 1, unit);
		yaml_document_delete(&extra);
		yaml_document_delete(out);
		goto out;
	}
	yaml_document_delete(&extra);
	rc = 0;
out:
	yaml_parser_delete(&parser);
	return rc;
}

/* Reads at most limit + 1 bytes of fd into a new buffer; NULL with errno. */
static char *
read_limited(int fd, size_t limit, size_t *size)
{
	size_t cap = 64 * 1024, used = 0;
	char *data = xmalloc(cap);
	ssize_t n;

	for (;;) {
		if (used == cap) {
			if (cap > limit)
				break;
			cap *= 2;
			data = xreallocarray(data, cap, 1);
		}
		n = read(fd, data + used, cap - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(data);
			return NULL;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	*size = used;
	return data;
}

int
yamldoc_read_file(char **out, size_t *size, const char *path, const char *what,
    size_t limit, char **error)
{
	struct stat st;
	char *data;
	int fd, saved;

	*error = NULL;
	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		*error = xasprintf(
		    "cannot open %s '%s': %s", what, path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		*error = xasprintf(
		    "cannot open %s '%s': %s", what, path, strerror(EISDIR));
		close(fd);
		return -1;
	}
	data = read_limited(fd, limit, size);
	saved = errno;
	if (fd != STDIN_FILENO)
		close(fd);
	if (data == NULL) {
		*error = xasprintf(
		    "cannot read %s '%s': %s", what, path, strerror(saved));
		return -1;
	}
	if (*size > limit) {
		*error = xasprintf("%s: the %s is too large: expected at most "
				   "%zu bytes",
		    path, what, limit);
		free(data);
		return -1;
	}
	*out = data;
	return 0;
}
