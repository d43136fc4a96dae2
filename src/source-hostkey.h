/*
 * Checking an ssh remote's host key against known_hosts, for the git
 * source (source-git.c calls it from libgit2's certificate check).
 */
#ifndef JOBRUN_SOURCE_HOSTKEY_H
#define JOBRUN_SOURCE_HOSTKEY_H

#include <git2.h>

/*
 * Checks the host key libgit2 got from host (the name the URL gives, port
 * its port: 22 when it gives none) against the known_hosts file named by
 * known_hosts or, when it is NULL, against $HOME/.ssh/known_hosts and
 * /etc/ssh/ssh_known_hosts.  Returns 0 when a file lists this key for the
 * host and no @revoked line does; otherwise -1 with *error (the caller
 * frees it) naming the host, the key's type and SHA256 fingerprint, and
 * whether the key is revoked, or the host unknown or known with another
 * key.
 */
int source_hostkey_check(const git_cert *cert, const char *host, int port,
    const char *known_hosts, char **error);

#endif
