/*
 * Which ref a git source means.  The ref a job gives is resolved against
 * the refs the remote advertises, in this order; the first that matches
 * wins:
 *
 *   1. nothing (or "HEAD"): the remote's default branch;
 *   2. a full commit id (40 hex digits);
 *   3. a full ref name the remote has ("refs/heads/main", "refs/pull/7/head");
 *   4. a branch: refs/heads/<ref>;
 *   5. a tag: refs/tags/<ref>;
 *   6. a pull request: "pull/N" or "pull/N/head" is refs/pull/N/head;
 *   7. a merge request: "merge-requests/N" or "merge-requests/N/head" is
 *      refs/merge-requests/N/head;
 *   8. an abbreviated commit id (4 to 39 hex digits).
 *
 * So a branch named like a short commit id wins over the commit.  A named
 * ref is fetched alone (into refs/remotes/origin/<branch>, refs/tags/<tag>,
 * or its own name for other refs); a commit id needs the branches and tags
 * (then the pull and merge request refs when it is not among them).
 */
#ifndef JOBRUN_SOURCE_GITREF_H
#define JOBRUN_SOURCE_GITREF_H

#include <stdbool.h>
#include <stddef.h>

#include <git2.h>

struct gitref {
	bool by_id; /* a commit id: id is set; otherwise the names are */
	char *id; /* lower-case hex, 4 to 40 digits */
	char *remote_name; /* "refs/heads/main" */
	char *local_name; /* "refs/remotes/origin/main" */
	git_oid oid; /* what the remote advertised for remote_name */
	bool has_special; /* the remote has pull or merge request refs */
	char *listing; /* what the remote has, for messages */
};

#define GITREF_INIT                                                            \
	{                                                                      \
		0                                                              \
	}

/*
 * Resolves ref (NULL or "" for the default branch) against the n heads
 * the remote advertised (git_remote_ls()).  Returns 0, or -1 with *error
 * (caller frees) saying that it was not found, the closest names and what
 * the remote has.  The strings in out are owned by it.
 */
int gitref_resolve(struct gitref *out, const char *ref,
    const git_remote_head **heads, size_t n, char **error);

/*
 * For a ref resolved to a commit id: when the remote advertises a ref whose
 * commit the id names (a branch first, then a tag, then any other ref;
 * an annotated tag by its peeled commit), sets ref's remote_name,
 * local_name and oid to it, so the commit can be fetched as that ref
 * alone and shallow, and returns true.  Returns false, changing nothing,
 * when no advertised ref's commit matches or two different ones do.
 */
bool gitref_find_tip(
    struct gitref *ref, const git_remote_head **heads, size_t n);

/* Frees what ref holds. */
void gitref_release(struct gitref *ref);

/* True when text is 4 to 40 hex digits. */
bool gitref_is_hex_id(const char *text);

#endif
