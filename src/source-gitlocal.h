/*
 * A local repository as a git source, made fast (source-gitlocal.c): its
 * objects are copied into the new repository before the fetch, so that
 * libgit2's fetch finds everything there and transfers nothing, where it
 * would otherwise build and index a whole new pack (about 100 times the
 * work of `git clone` from a path).
 */
#ifndef JOBRUN_SOURCE_GITLOCAL_H
#define JOBRUN_SOURCE_GITLOCAL_H

/*
 * Copies the object database of the repository at path (a work tree or a
 * bare repository; its objects/info/alternates too) into the objects
 * directory of the repository whose .git directory is gitdir.  Returns 0,
 * or -1 with *error (the caller frees it); the fetch that follows then
 * has more to do, nothing worse.
 */
int source_gitlocal_copy_objects(
    const char *path, const char *gitdir, char **error);

#endif
