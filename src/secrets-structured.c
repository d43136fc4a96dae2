/*
 * Credentials inside a secret that is a document (secrets.h,
 * secrets_structured_each()): a JSON object (a cloud service account's
 * key, a Docker auth file), a YAML mapping (a kubeconfig), an INI or
 * .npmrc file (AWS credentials: "name = value" lines), a .netrc file.
 * Tools print such a member on its own (jq -r .private_key, a curl
 * Authorization header), which the secret's whole and line forms do not
 * cover.  Only members whose names say they hold a credential are taken,
 * so that a document's names, types and public URLs stay readable.
 */
#include "config.h"

#include <ctype.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "list.h"
#include "secrets.h"
#include "source.h"
#include "xalloc.h"

/* Parts of a member name that say it holds a credential. */
static const char *const credential_words[] = { "pass", "secret", "token",
	"key", "auth", "credential", "private", "cookie", "session" };

/* A name's last word that says the member is about a credential, not
 * one: token_type, auth_method, role_session_name, keyring, tokenUri. */
static const char *const about_words[] = { "type", "method", "region", "name",
	"uri", "url", "endpoint", "expires", "expiry", "expiration", "scope",
	"scopes", "format", "alg", "algorithm", "kind", "file", "path",
	"keyring", "process", "provider", "version", "duration", "mode" };

/* The last word of name: after its last character that is no letter or
 * digit, or its last lower case letter followed by an upper case one. */
static const char *
last_word(const char *name, size_t length, size_t *word_length)
{
	size_t start = length;

	while (start > 0 && isalnum((unsigned char)name[start - 1]) &&
	    !(start < length && isupper((unsigned char)name[start]) &&
		islower((unsigned char)name[start - 1])))
		start--;
	*word_length = length - start;
	return name + start;
}

static bool
credential_name(const char *name, size_t length)
{
	const char *last;
	size_t i, j, n, last_length;
	bool found = false;

	for (i = 0;
	     i < sizeof(credential_words) / sizeof(*credential_words) && !found;
	     i++) {
		n = strlen(credential_words[i]);
		for (j = 0; j + n <= length && !found; j++)
			found =
			    strncasecmp(name + j, credential_words[i], n) == 0;
	}
	if (!found)
		return false;
	last = last_word(name, length, &last_length);
	for (i = 0; i < sizeof(about_words) / sizeof(*about_words); i++)
		if (strlen(about_words[i]) == last_length &&
		    strncasecmp(last, about_words[i], last_length) == 0)
			return false;
	return true;
}

/* An http(s) URL without user info (auth_uri, token_uri): public. */
static bool
public_url(const char *value, size_t length)
{
	const char *authority;
	size_t n;

	if (length > 8 && strncasecmp(value, "https://", 8) == 0)
		authority = value + 8;
	else if (length > 7 && strncasecmp(value, "http://", 7) == 0)
		authority = value + 7;
	else
		return false;
	/* The authority: up to the first '/', '?' or '#' (value holds no
	 * NUL at its end). */
	for (n = 0; (size_t)(authority - value) + n < length &&
	     strchr("/?#", authority[n]) == NULL;
	     n++)
		;
	return memchr(authority, '@', n) == NULL;
}

struct members {
	secrets_member_fn fn;
	void *context;
	size_t found;
};

/* The value of a member whose name says it holds a credential. */
static void
take(struct members *m, const char *value, size_t length)
{
	if (length == 0 || public_url(value, length))
		return;
	m->fn(m->context, value, length);
	m->found++;
}

static void url_line(struct members *m, const char *line, const char *eol);

/* A member's value: whole under a credential's name, else the password
 * of a URL's user info (a database URL, a registry's). */
static void
member(struct members *m, const char *name, size_t name_length,
    const char *value, size_t length)
{
	if (credential_name(name, name_length))
		take(m, value, length);
	else if (memmem(value, length, "://", 3) != NULL &&
	    memchr(value, '@', length) != NULL)
		url_line(m, value, value + length);
}

/* ---- JSON ---- */

/* A number as a credential (a PIN, a numeric password), as printed. */
static void
integer_member(struct members *m, const char *name, json_t *value)
{
	char text[32];
	int n = snprintf(text, sizeof(text), "%" JSON_INTEGER_FORMAT,
	    json_integer_value(value));

	if (n > 0 && (size_t)n < sizeof(text))
		member(m, name, strlen(name), text, (size_t)n);
}

/* node and what is in it; credential: node is an array under a
 * credential's name, its strings are credentials. */
static void
json_walk(struct members *m, json_t *node, bool credential, int depth)
{
	const char *name;
	json_t *value;
	size_t i;

	if (depth > 64)
		return;
	if (json_is_object(node)) {
		json_object_foreach(node, name, value)
		{
			if (json_is_string(value))
				member(m, name, strlen(name),
				    json_string_value(value),
				    json_string_length(value));
			else if (json_is_integer(value))
				integer_member(m, name, value);
			else
				json_walk(m, value,
				    json_is_array(value) &&
					credential_name(name, strlen(name)),
				    depth + 1);
		}
	} else if (json_is_array(node)) {
		json_array_foreach(node, i, value)
		{
			if (credential && json_is_string(value))
				take(m, json_string_value(value),
				    json_string_length(value));
			else
				json_walk(m, value,
				    credential && json_is_array(value),
				    depth + 1);
		}
	}
}

static bool
from_json(struct members *m, const char *data, size_t size)
{
	json_error_t error;
	json_t *root;

	if (size == 0 || (data[0] != '{' && data[0] != '['))
		return false;
	root = json_loadb(data, size, JSON_DECODE_ANY, &error);
	if (root == NULL)
		return false;
	json_walk(m, root, false, 0);
	json_decref(root);
	return true;
}

/* ---- YAML ---- */

/* One level of the document: in a mapping, whether a key comes next and
 * whether the last key names a credential. */
struct level {
	bool mapping;
	bool want_key;
	bool credential;
	bool is_key; /* the level is a mapping's (complex) key */
	bool inherited; /* a sequence under a credential's name: its items */
};

/* The value of a mapping's member ends: the next scalar is a key. */
static void
value_done(struct level *top)
{
	if (top != NULL && top->mapping)
		top->want_key = true;
}

/*
 * Wipes what a parser still holds of the document: its input, decoded or
 * not, and the scalars of the tokens it has not handed out (after an
 * error).  libyaml takes no allocator, so what it frees on its own is not
 * wiped: a long scalar's buffer before it grew, in the scanner.
 */
static void
wipe_parser(yaml_parser_t *parser)
{
	yaml_token_t *token;

	if (parser->raw_buffer.start != NULL)
		wipe(parser->raw_buffer.start,
		    (size_t)(parser->raw_buffer.end -
			parser->raw_buffer.start));
	if (parser->buffer.start != NULL)
		wipe(parser->buffer.start,
		    (size_t)(parser->buffer.end - parser->buffer.start));
	for (token = parser->tokens.head;
	     token != NULL && token != parser->tokens.tail; token++)
		if (token->type == YAML_SCALAR_TOKEN &&
		    token->data.scalar.value != NULL)
			wipe(token->data.scalar.value,
			    token->data.scalar.length);
}

static bool
from_yaml(struct members *m, const char *data, size_t size)
{
	struct level levels[64], *top = NULL;
	yaml_parser_t parser;
	yaml_event_t event;
	size_t depth = 0;
	bool ok = true, done = false, mapped = false;

	if (memchr(data, ':', size) == NULL || !yaml_parser_initialize(&parser))
		return false;
	yaml_parser_set_input_string(
	    &parser, (const unsigned char *)data, size);
	while (ok && !done) {
		if (!yaml_parser_parse(&parser, &event)) {
			ok = false;
			break;
		}
		switch (event.type) {
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT:
			if (depth == sizeof(levels) / sizeof(*levels)) {
				ok = false;
				break;
			}
			levels[depth].is_key =
			    top != NULL && top->mapping && top->want_key;
			levels[depth].inherited = top != NULL &&
			    ((top->mapping && !top->want_key &&
				 top->credential) ||
				(!top->mapping && top->inherited));
			top = &levels[depth++];
			top->mapping = event.type == YAML_MAPPING_START_EVENT;
			top->want_key = true;
			top->credential = false;
			mapped = mapped || top->mapping;
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			if (depth == 0) {
				ok = false;
				break;
			}
			depth--;
			top = depth > 0 ? &levels[depth - 1] : NULL;
			if (levels[depth].is_key && top != NULL) {
				/* A complex key: never a credential's name;
				 * its value comes next. */
				top->credential = false;
				top->want_key = false;
			} else {
				value_done(top);
			}
			break;
		case YAML_SCALAR_EVENT:
			if (top != NULL && top->mapping && top->want_key) {
				top->credential = credential_name(
				    (const char *)event.data.scalar.value,
				    event.data.scalar.length);
				top->want_key = false;
			} else {
				if (top != NULL &&
				    ((top->mapping && top->credential) ||
					(!top->mapping && top->inherited)))
					take(m,
					    (const char *)
						event.data.scalar.value,
					    event.data.scalar.length);
				value_done(top);
			}
			break;
		case YAML_ALIAS_EVENT:
			value_done(top);
			break;
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		default:
			break;
		}
		if (event.type == YAML_SCALAR_EVENT)
			wipe(event.data.scalar.value, event.data.scalar.length);
		yaml_event_delete(&event);
	}
	wipe_parser(&parser);
	yaml_parser_delete(&parser);
	return ok && mapped;
}

/* ---- INI, .npmrc and .netrc lines ---- */

static bool
blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* The line [name, eol) split at its first sep: a credential's name
 * before it takes the value after it, without blanks and quotes around
 * it.  Returns whether the name was a credential's. */
static bool
split_line(struct members *m, const char *name, const char *eol, char sep)
{
	const char *at = memchr(name, sep, (size_t)(eol - name)), *name_end,
		   *value, *value_end;

	if (at == NULL || at == name)
		return false;
	for (name_end = at; name_end > name && blank(name_end[-1]); name_end--)
		;
	if (!credential_name(name, (size_t)(name_end - name)))
		return false;
	for (value = at + 1; value < eol && blank(*value); value++)
		;
	for (value_end = eol; value_end > value && blank(value_end[-1]);
	     value_end--)
		;
	if (value_end - value >= 2 && (*value == '"' || *value == '\'') &&
	    value_end[-1] == *value) {
		value++;
		value_end--;
	}
	take(m, value, (size_t)(value_end - value));
	return true;
}

/* A .pgpass line, host:port:database:user:password ('\' escapes a ':'):
 * the password. */
static void
pgpass_line(struct members *m, const char *line, const char *eol)
{
	const char *p;
	int colons = 0;

	for (p = line; p < eol && colons < 4; p++) {
		if (*p == ' ' || *p == '\t')
			return;
		if (*p == '\\' && p + 1 < eol)
			p++;
		else if (*p == ':')
			colons++;
	}
	if (colons == 4 && p < eol)
		take(m, p, (size_t)(eol - p));
}

/* The passwords of a URL's user info on a line (.git-credentials). */
static void
url_line(struct members *m, const char *line, const char *eol)
{
	struct strlist found = STRLIST_INIT;
	char *url = xstrndup(line, (size_t)(eol - line));
	size_t i;

	source_url_credentials(url, &found);
	for (i = 0; i < found.len; i++) {
		take(m, found.items[i], strlen(found.items[i]));
		wipe(found.items[i], strlen(found.items[i]));
	}
	strlist_release(&found);
	wipe(url, strlen(url));
	free(url);
}

/*
 * Lines: "name = value", "name=value" and "name: value" (INI files,
 * .npmrc, .pypirc; sections and comments skipped), URLs with a password
 * (.git-credentials), .pgpass lines.
 */
static void
from_lines(struct members *m, const char *data, size_t size)
{
	const char *line = data, *end = data + size, *eol, *name;

	for (; line < end; line = eol + 1) {
		eol = memchr(line, '\n', (size_t)(end - line));
		if (eol == NULL)
			eol = end;
		for (name = line; name < eol && blank(*name); name++)
			;
		if (name == eol || *name == '#' || *name == ';' || *name == '[')
			continue;
		if (split_line(m, name, eol, '=') ||
		    split_line(m, name, eol, ':'))
			continue;
		if (memmem(name, (size_t)(eol - name), "://", 3) != NULL)
			url_line(m, name, eol);
		else
			pgpass_line(m, name, eol);
	}
}

/* The word after "password" in a .netrc file ("machine HOST login USER
 * password PASSWORD", on one line or several; a word may be quoted, as
 * curl and Python's netrc read it). */
static void
from_netrc(struct members *m, const char *data, size_t size)
{
	const char *p = data, *end = data + size, *word, *word_end;
	const char *previous = NULL;
	size_t previous_length = 0;
	bool netrc = false;

	while (p < end) {
		while (p < end && isspace((unsigned char)*p))
			p++;
		if (p == end)
			break;
		if (*p == '"') {
			word = ++p;
			while (p < end && *p != '"')
				p += *p == '\\' && p + 1 < end ? 2 : 1;
			word_end = p;
			if (p < end)
				p++;
		} else {
			word = p;
			while (p < end && !isspace((unsigned char)*p))
				p++;
			word_end = p;
		}
		if ((word_end - word == 7 &&
			strncmp(word, "machine", 7) == 0) ||
		    (word_end - word == 7 && strncmp(word, "default", 7) == 0))
			netrc = true;
		if (netrc && previous != NULL && previous_length == 8 &&
		    strncmp(previous, "password", 8) == 0)
			take(m, word, (size_t)(word_end - word));
		previous = word;
		previous_length = (size_t)(word_end - word);
	}
}

size_t
secrets_structured_each(
    const char *data, size_t size, secrets_member_fn fn, void *context)
{
	struct members m = { fn, context, 0 };

	while (size > 0 && isspace((unsigned char)*data)) {
		data++;
		size--;
	}
	if (!from_json(&m, data, size) && !from_yaml(&m, data, size)) {
		from_lines(&m, data, size);
		from_netrc(&m, data, size);
	}
	return m.found;
}
