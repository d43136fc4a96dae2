/*
 * Host keys of ssh remotes (source-hostkey.h), checked against known_hosts
 * files read here as OpenSSH reads them: a line's host patterns are
 * names, "[host]:port" for a port other than 22, wildcards ('*', '?'),
 * negations ('!') or one hashed name ("|1|salt|hash"); its key is the
 * base64 blob after the type.  A key that a line marked "@revoked" lists
 * for the host is refused, whatever other lines say.  "@cert-authority"
 * lines name a CA's key, not a host's: host certificates are not checked,
 * so they are never used.  Lines OpenSSH would skip (unknown markers,
 * keys that do not decode) are skipped.  Otherwise a key is accepted only
 * when a line lists it for the host; a host not listed, or listed with
 * another key of the same type, is refused with the key's type and
 * SHA256 fingerprint, so that whoever runs the job can compare it with
 * the server's and add it.  Nothing is ever written to a known_hosts
 * file.  libssh2's reader is not used: it honours no marker, wildcard or
 * negation, and stops reading at the first line it cannot parse.
 */
#include "config.h"

#include "source-hostkey.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "xalloc.h"

/* What the files say of the offered key for the host. */
struct verdict {
	const char *host; /* "host" or "[host]:port", lower case */
	const unsigned char *key; /* the offered key's blob */
	size_t key_len;
	bool listed; /* a line lists this key */
	bool changed; /* a line lists another key of its type */
	bool cert_authority; /* a @cert-authority line names the host */
	char *revoked; /* where a @revoked line lists it */
	int files_read;
};

/* The key type's name as known_hosts writes it. */
static const char *
key_type(const git_cert_hostkey *key)
{
	switch (key->raw_type) {
	case GIT_CERT_SSH_RAW_TYPE_RSA:
		return "ssh-rsa";
	case GIT_CERT_SSH_RAW_TYPE_DSS:
		return "ssh-dss";
	case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_256:
		return "ecdsa-sha2-nistp256";
	case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_384:
		return "ecdsa-sha2-nistp384";
	case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_521:
		return "ecdsa-sha2-nistp521";
	case GIT_CERT_SSH_RAW_TYPE_KEY_ED25519:
		return "ssh-ed25519";
	default:
		return "unknown";
	}
}

/* "SHA256:" and the key's digest in unpadded base64, as ssh-keygen -l
 * prints it. */
static char *
fingerprint(const git_cert_hostkey *key)
{
	unsigned char digest[32], text[48];
	int len;

	if (EVP_Digest(key->hostkey, key->hostkey_len, digest, NULL,
		EVP_sha256(), NULL) != 1)
		return xstrdup("SHA256:?");
	len = EVP_EncodeBlock(text, digest, (int)sizeof(digest));
	while (len > 0 && text[len - 1] == '=')
		len--;
	return xasprintf("SHA256:%.*s", len, (const char *)text);
}

/* Decodes len bytes of padded base64; NULL when they are not. */
static unsigned char *
decode_base64(const char *text, size_t len, size_t *out_len)
{
	unsigned char *out;
	int n;

	if (len == 0 || len % 4 != 0 || len > 65536)
		return NULL;
	out = xmalloc(len / 4 * 3 + 1);
	n = EVP_DecodeBlock(out, (const unsigned char *)text, (int)len);
	if (n < 0) {
		free(out);
		return NULL;
	}
	*out_len = (size_t)n - (text[len - 1] == '=') - (text[len - 2] == '=');
	return out;
}

/* A key blob's type: its first string; false when it has none. */
static bool
blob_type(const unsigned char *blob, size_t len, const unsigned char **type,
    size_t *type_len)
{
	size_t n;

	if (len < 4)
		return false;
	n = (size_t)blob[0] << 24 | (size_t)blob[1] << 16 |
	    (size_t)blob[2] << 8 | blob[3];
	if (n > len - 4)
		return false;
	*type = blob + 4;
	*type_len = n;
	return true;
}

/* OpenSSH's match_pattern(): '*' and '?', no brackets, any case. */
static bool
pattern_matches(const char *name, const char *pattern, size_t len)
{
	if (len == 0)
		return *name == '\0';
	if (*pattern == '*') {
		do
			if (pattern_matches(name, pattern + 1, len - 1))
				return true;
		while (*name++ != '\0');
		return false;
	}
	if (*name == '\0')
		return false;
	if (*pattern != '?' &&
	    tolower((unsigned char)*pattern) != tolower((unsigned char)*name))
		return false;
	return pattern_matches(name + 1, pattern + 1, len - 1);
}

/* "|1|salt|hash": HMAC-SHA1 of the name, keyed with the salt. */
static bool
hashed_matches(const char *name, const char *field)
{
	const char *salt = field + 3, *bar = strchr(salt, '|');
	unsigned char *key, *hash, mac[EVP_MAX_MD_SIZE];
	size_t key_len = 0, hash_len = 0;
	unsigned mac_len = 0;
	bool same = false;

	if (bar == NULL)
		return false;
	key = decode_base64(salt, (size_t)(bar - salt), &key_len);
	hash = decode_base64(bar + 1, strlen(bar + 1), &hash_len);
	if (key != NULL && hash != NULL &&
	    HMAC(EVP_sha1(), key, (int)key_len, (const unsigned char *)name,
		strlen(name), mac, &mac_len) != NULL)
		same = mac_len == hash_len && memcmp(mac, hash, mac_len) == 0;
	free(key);
	free(hash);
	return same;
}

/* Whether a line's host field names the host: one hashed name, or
 * patterns of which one matches and no negated one does. */
static bool
hosts_match(const char *name, const char *field)
{
	const char *pattern = field, *comma;
	bool negated, found = false;
	size_t len;

	if (strncmp(field, "|1|", 3) == 0)
		return hashed_matches(name, field);
	for (; pattern != NULL; pattern = comma ? comma + 1 : NULL) {
		comma = strchr(pattern, ',');
		len = comma ? (size_t)(comma - pattern) : strlen(pattern);
		if ((negated = *pattern == '!')) {
			pattern++;
			len--;
		}
		if (!pattern_matches(name, pattern, len))
			continue;
		if (negated)
			return false;
		found = true;
	}
	return found;
}

/* The next field of *line, whitespace-separated; NULL at its end. */
static char *
next_field(char **line)
{
	char *start = *line + strspn(*line, " \t\r\n"), *end;

	if (*start == '\0' || *start == '#')
		return NULL;
	end = start + strcspn(start, " \t\r\n");
	*line = *end != '\0' ? end + 1 : end;
	*end = '\0';
	return start;
}

/* Whether two blobs are keys of the same type. */
static bool
same_type(
    const unsigned char *a, size_t a_len, const unsigned char *b, size_t b_len)
{
	const unsigned char *a_type, *b_type;
	size_t a_type_len, b_type_len;

	return blob_type(a, a_len, &a_type, &a_type_len) &&
	    blob_type(b, b_len, &b_type, &b_type_len) &&
	    a_type_len == b_type_len && memcmp(a_type, b_type, a_type_len) == 0;
}

/* Reads one line: "[@marker] hosts type base64 [comment]". */
static void
read_line(struct verdict *v, char *line, const char *file, unsigned number)
{
	char *marker = NULL, *hosts, *type, *text;
	unsigned char *blob;
	size_t len = 0;
	bool same;

	if ((hosts = next_field(&line)) != NULL && hosts[0] == '@') {
		marker = hosts;
		hosts = next_field(&line);
		if (strcmp(marker, "@revoked") != 0 &&
		    strcmp(marker, "@cert-authority") != 0)
			return;
	}
	if (hosts == NULL || (type = next_field(&line)) == NULL ||
	    (text = next_field(&line)) == NULL ||
	    !hosts_match(v->host, hosts) ||
	    (blob = decode_base64(text, strlen(text), &len)) == NULL)
		return;
	same = len == v->key_len && memcmp(blob, v->key, len) == 0;
	if (marker != NULL && strcmp(marker, "@cert-authority") == 0)
		v->cert_authority = true;
	else if (marker != NULL && same && v->revoked == NULL)
		v->revoked = xasprintf("'%s' line %u", file, number);
	else if (marker == NULL && same)
		v->listed = true;
	else if (marker == NULL && same_type(blob, len, v->key, v->key_len))
		v->changed = true;
	free(blob);
}

/* Reads each file that exists into v. */
static void
read_files(struct verdict *v, const char *const *files, size_t n)
{
	char *line = NULL;
	size_t size = 0, i;
	unsigned number;
	FILE *f;

	for (i = 0; i < n; i++) {
		if (files[i] == NULL || (f = fopen(files[i], "re")) == NULL)
			continue;
		v->files_read++;
		for (number = 1; getline(&line, &size, f) >= 0; number++)
			read_line(v, line, files[i], number);
		fclose(f);
	}
	free(line);
}

/* The refusal, for a key no line accepts. */
static char *
refusal(const struct verdict *v, const char *host, const char *type,
    const char *print, const char *where)
{
	if (v->revoked != NULL)
		return xasprintf("the host key of '%s' is REVOKED: the server "
				 "offers %s %s, which %s marks @revoked; "
				 "refused",
		    host, type, print, v->revoked);
	if (v->changed)
		return xasprintf("the host key of '%s' has CHANGED: the "
				 "server offers %s %s, which is not the %s "
				 "key %s lists for it; refused (someone may "
				 "be in the middle)",
		    host, type, print, type, where);
	return xasprintf("the host key of '%s' is unknown: the server offers "
			 "%s %s, which %s does not list%s; refused (set "
			 "known_hosts: in the source to a file that has it)",
	    host, type, print, where,
	    v->cert_authority ? " (a @cert-authority line names the host, "
				"but host certificates are not checked)"
			      : "");
}

int
source_hostkey_check(const git_cert *cert, const char *host, int port,
    const char *known_hosts, char **error)
{
	const git_cert_hostkey *key = (const git_cert_hostkey *)cert;
	char *home_file = NULL, *print, *where, *name, *c;
	const char *files[2];
	struct verdict v = { 0 };

	*error = NULL;
	if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2 ||
	    !(key->type & GIT_CERT_SSH_RAW)) {
		*error = xasprintf("the host key of '%s' cannot be checked: "
				   "libgit2 did not give it",
		    host);
		return -1;
	}
	if (known_hosts != NULL) {
		files[0] = known_hosts;
		files[1] = NULL;
	} else {
		if (getenv("HOME") != NULL)
			home_file =
			    xasprintf("%s/.ssh/known_hosts", getenv("HOME"));
		files[0] = home_file;
		files[1] = "/etc/ssh/ssh_known_hosts";
	}
	/* The name OpenSSH looks up: "[host]:port" but on port 22. */
	name = port > 0 && port != 22 ? xasprintf("[%s]:%d", host, port)
				      : xstrdup(host);
	for (c = name; *c != '\0'; c++)
		*c = (char)tolower((unsigned char)*c);
	v.host = name;
	v.key = (const unsigned char *)key->hostkey;
	v.key_len = key->hostkey_len;
	read_files(&v, files, 2);
	free(name);
	if (v.listed && v.revoked == NULL) {
		free(home_file);
		return 0;
	}
	print = fingerprint(key);
	where = known_hosts != NULL
	    ? xasprintf("'%s'%s", known_hosts,
		  v.files_read == 0 ? ", which cannot be read," : "")
	    : xasprintf("%s or /etc/ssh/ssh_known_hosts",
		  home_file ? home_file : "~/.ssh/known_hosts");
	*error = refusal(&v, host, key_type(key), print, where);
	free(print);
	free(where);
	free(home_file);
	free(v.revoked);
	return -1;
}
