/*
 * Shallow fetches over libgit2's stateful transports (git:// and ssh) with
 * libgit2 1.7 and 1.8.  Those versions send the want list, "deepen N" and
 * a flush, read the server's shallow lines, then send the same want list
 * again in front of the haves or "done" (libgit2 issue #6889, fixed in 1.9
 * by pull request #6947).  Over smart HTTP every request repeats the wants
 * anyway; over a stateful connection git-upload-pack expects haves, says
 * "expected SHA1 list, got 'want ...'" and hangs up.
 *
 * The transport made here is libgit2's own smart transport over its own
 * git:// or ssh subtransport, with one difference: on the upload-pack
 * stream, a write that begins with the bytes of the stream's first write
 * (the want list) has that copy dropped.  In the stateful protocol the
 * wants are sent once, so such a write is always the resent copy; nothing
 * else is changed.
 */
#ifndef JOBRUN_SOURCE_GITSTATEFUL_H
#define JOBRUN_SOURCE_GITSTATEFUL_H

#include <stdbool.h>

#include <git2.h>

/*
 * True when url would be fetched over a stateful transport (git://, ssh://,
 * ssh+git://, git+ssh:// or the scp-like "host:path") by a libgit2 that
 * sends the wants twice (1.7 and 1.8, as loaded at run time).
 */
bool gitstateful_needed(const char *url);

/*
 * A git_transport_cb for git_remote_callbacks.transport (payload unused):
 * when owner's URL needs it (gitstateful_needed), makes the transport
 * described above into *out; otherwise sets *out to NULL, so libgit2 makes
 * its usual one.  Returns 0, or a libgit2 error code.
 */
int gitstateful_transport(
    git_transport **out, git_remote *owner, void *payload);

#endif
