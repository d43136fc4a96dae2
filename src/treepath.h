/*
 * Paths inside a tree: lexical normalization, "is this under that", and the
 * check that a symbolic link in a tree resolves inside that tree.  The copy
 * and tarball sources use the link check so that nothing they produce
 * points out of the directory they fill; source.c uses the lexical helpers
 * to keep user-given directories inside the workspace.
 */
#ifndef JOBRUN_TREEPATH_H
#define JOBRUN_TREEPATH_H

#include <stdbool.h>

/* How many symbolic links one resolution may follow, as Linux's MAXSYMLINKS. */
#define TREEPATH_MAX_LINKS 40

/*
 * Returns path normalized without touching the file system: repeated and
 * trailing slashes collapse, "." components go, and ".." removes the
 * component before it.  An absolute path stays absolute ("/.." is "/"); a
 * relative one that climbs above its start keeps its leading ".."
 * components ("a/../../b" is "../b"); an empty result is ".".  The caller
 * frees the result.
 */
char *treepath_normalize(const char *path);

/* True when the normalized path is dir itself or a path below it; both are
 * normalized first. */
bool treepath_is_under(const char *path, const char *dir);

/* True when path has a ".." component. */
bool treepath_has_dotdot(const char *path);

/*
 * Checks the symbolic link at relpath (relative to the tree whose root
 * directory is open as rootfd; its parent directories are real
 * directories) as the kernel would resolve it, following the links it
 * meets inside the tree.  Returns 0 when it ends inside the tree (a target
 * that does not exist yet counts by its name), or -1 with *why pointing at
 * a static phrase: "points to an absolute path", "points outside the
 * tree" or "is a symbolic link loop".  errno is meaningful only for other
 * failures, when *why is "cannot be read".
 */
int treepath_check_link(int rootfd, const char *relpath, const char **why);

/*
 * Walks the tree open as rootfd without following links and checks every
 * symbolic link with treepath_check_link().  Returns 0, or -1 with *bad
 * (caller frees) naming the first bad link relative to the root and *why
 * as treepath_check_link() sets it.
 */
int treepath_check_tree(int rootfd, char **bad, const char **why);

#endif
