/*
 * Host keys of ssh remotes (source-hostkey.h), checked against known_hosts
 * files with libssh2's own reader: the library libgit2 speaks ssh with, so
 * every form OpenSSH writes (hashed names, "[host]:port", markers, key
 * types up to ed25519) is read as OpenSSH reads it.  A key is accepted
 * only when a file lists it for the host; a host not listed, or listed
 * with another key of the same type, is refused with the key's type and
 * SHA256 fingerprint, so that whoever runs the job can compare it with
 * the server's and add it.  Nothing is ever written to a known_hosts file.
 */
#include "config.h"

#include "source-hostkey.h"

#include <stdlib.h>
#include <string.h>

#include <libssh2.h>
#include <openssl/evp.h>

#include "xalloc.h"

/* The key type's name as known_hosts writes it, and libssh2's bit. */
static const char *
key_type(const git_cert_hostkey *key, int *libssh2_type)
{
	switch (key->raw_type) {
	case GIT_CERT_SSH_RAW_TYPE_RSA:
		*libssh2_type = LIBSSH2_KNOWNHOST_KEY_SSHRSA;
		return "ssh-rsa";
	case GIT_CERT_SSH_RAW_TYPE_DSS:
		*libssh2_type = LIBSSH2_KNOWNHOST_KEY_SSHDSS;
		return "ssh-dss";
	case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_256:
		*libssh2_type = LIBSSH2_KNOWNHOST_KEY_ECDSA_256;
		return "ecdsa-sha2-nistp256";
	case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_384:
		*libssh2_type = LIBSSH2_KNOWNHOST_KEY_ECDSA_384;
		return "ecdsa-sha2-nistp384";
	case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_521:
		*libssh2_type = LIBSSH2_KNOWNHOST_KEY_ECDSA_521;
		return "ecdsa-sha2-nistp521";
	case GIT_CERT_SSH_RAW_TYPE_KEY_ED25519:
		*libssh2_type = LIBSSH2_KNOWNHOST_KEY_ED25519;
		return "ssh-ed25519";
	default:
		*libssh2_type = LIBSSH2_KNOWNHOST_KEY_UNKNOWN;
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

/* Reads each file that exists; returns how many could be read. */
static int
read_files(LIBSSH2_KNOWNHOSTS *hosts, const char *const *files, size_t n)
{
	size_t i;
	int read = 0;

	for (i = 0; i < n; i++)
		if (files[i] != NULL &&
		    libssh2_knownhost_readfile(
			hosts, files[i], LIBSSH2_KNOWNHOST_FILE_OPENSSH) >= 0)
			read++;
	return read;
}

/* Looks the key up; one of LIBSSH2_KNOWNHOST_CHECK_*. */
static int
lookup(const char *const *files, size_t n_files, const char *host, int port,
    const git_cert_hostkey *key, int type_bit, int *files_read)
{
	LIBSSH2_SESSION *session;
	LIBSSH2_KNOWNHOSTS *hosts;
	struct libssh2_knownhost *entry = NULL;
	int rc = LIBSSH2_KNOWNHOST_CHECK_FAILURE;

	if ((session = libssh2_session_init()) == NULL)
		return rc;
	if ((hosts = libssh2_knownhost_init(session)) != NULL) {
		*files_read = read_files(hosts, files, n_files);
		rc = libssh2_knownhost_checkp(hosts, host, port, key->hostkey,
		    key->hostkey_len,
		    LIBSSH2_KNOWNHOST_TYPE_PLAIN |
			LIBSSH2_KNOWNHOST_KEYENC_RAW | type_bit,
		    &entry);
		libssh2_knownhost_free(hosts);
	}
	libssh2_session_free(session);
	return rc;
}

int
source_hostkey_check(const git_cert *cert, const char *host, int port,
    const char *known_hosts, char **error)
{
	const git_cert_hostkey *key = (const git_cert_hostkey *)cert;
	char *home_file = NULL, *print, *where;
	const char *files[2], *type;
	int type_bit, rc, files_read = 0;

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
	type = key_type(key, &type_bit);
	rc = lookup(files, 2, host, port, key, type_bit, &files_read);
	if (rc == LIBSSH2_KNOWNHOST_CHECK_MATCH) {
		free(home_file);
		return 0;
	}
	print = fingerprint(key);
	where = known_hosts != NULL
	    ? xasprintf("'%s'%s", known_hosts,
		  files_read == 0 ? ", which cannot be read," : "")
	    : xasprintf("%s or /etc/ssh/ssh_known_hosts",
		  home_file ? home_file : "~/.ssh/known_hosts");
	if (rc == LIBSSH2_KNOWNHOST_CHECK_MISMATCH)
		*error = xasprintf(
		    "the host key of '%s' has CHANGED: the server offers %s "
		    "%s, which is not the %s key %s lists for it; refused "
		    "(someone may be in the middle)",
		    host, type, print, type, where);
	else
		*error = xasprintf("the host key of '%s' is unknown: the "
				   "server offers %s %s, which %s does not "
				   "list; refused (set known_hosts: in the "
				   "source to a file that has it)",
		    host, type, print, where);
	free(print);
	free(where);
	free(home_file);
	return -1;
}
