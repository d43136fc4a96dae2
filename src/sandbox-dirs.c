/*
 * The directories of a job with untrusted steps.  The CI directory is
 * closed to them; the code directory must stay writable both for trusted
 * steps (jobrun's uid, often root without CAP_DAC_OVERRIDE, as in
 * Kubernetes' restricted sets) and for the untrusted users.  Handing the
 * tree to the untrusted user would lock out a root without DAC_OVERRIDE;
 * POSIX ACLs give both users access, and a directory's default ACL passes
 * the same on to whatever either creates in it, whoever owns it.  Setting
 * an ACL takes only ownership of the file, which jobrun has of the tree it
 * checked out (CAP_CHOWN makes it so for the rest).  The ACLs are written
 * as the kernel's extended attributes directly (system.posix_acl_*), so no
 * library is needed.
 */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "diag.h"
#include "sandbox.h"
#include "xalloc.h"

/* The kernel's ACL format (linux/posix_acl_xattr.h): little-endian. */
#define ACL_XATTR_VERSION 2
#define ACL_USER_OBJ 0x01
#define ACL_USER 0x02
#define ACL_GROUP_OBJ 0x04
#define ACL_MASK 0x10
#define ACL_OTHER 0x20
#define ACL_UNDEFINED_ID ((uint32_t)-1)
#define ACL_ACCESS_NAME "system.posix_acl_access"
#define ACL_DEFAULT_NAME "system.posix_acl_default"

/* How many distinct users an ACL names: the untrusted ones and jobrun. */
#define MAX_NAMED_USERS 16

struct acl_entry {
	uint16_t tag;
	uint16_t perm;
	uint32_t id;
};

struct acl {
	uint32_t version;
	struct acl_entry entries[MAX_NAMED_USERS + 4];
};

/* What the walk needs: nftw(3) takes no context. */
static struct {
	uid_t users[MAX_NAMED_USERS]; /* sorted, distinct */
	size_t n_users;
	const char *skip; /* a subtree left alone (the workspace) */
	uid_t owner_uid; /* without ACLs: who the tree goes to */
	gid_t owner_gid;
	int error; /* errno of the first failure */
	const char *failed; /* its path's stage */
} walk;

static void
put_entry(struct acl *acl, size_t *n, unsigned tag, unsigned perm, uint32_t id)
{
	acl->entries[*n].tag = htole16((uint16_t)tag);
	acl->entries[*n].perm = htole16((uint16_t)perm);
	acl->entries[*n].id = htole32(id);
	(*n)++;
}

/*
 * An ACL for mode: its owner, group and others as they are, each named
 * user with user_perm, and a mask that lets them through.  Returns its
 * size in bytes.
 */
static size_t
build_acl(struct acl *acl, mode_t mode, unsigned owner_perm, unsigned user_perm)
{
	unsigned group_perm = (mode >> 3) & 7;
	size_t i, n = 0;

	acl->version = htole32(ACL_XATTR_VERSION);
	put_entry(acl, &n, ACL_USER_OBJ, owner_perm, ACL_UNDEFINED_ID);
	for (i = 0; i < walk.n_users; i++)
		put_entry(acl, &n, ACL_USER, user_perm, walk.users[i]);
	put_entry(acl, &n, ACL_GROUP_OBJ, group_perm, ACL_UNDEFINED_ID);
	put_entry(acl, &n, ACL_MASK, group_perm | user_perm, ACL_UNDEFINED_ID);
	put_entry(acl, &n, ACL_OTHER, mode & 7, ACL_UNDEFINED_ID);
	return sizeof(acl->version) + n * sizeof(acl->entries[0]);
}

/* Opens one file or directory to the named users; 0 or -1 with errno. */
static int
open_entry(const char *path, const struct stat *st)
{
	bool directory = S_ISDIR(st->st_mode);
	unsigned owner_perm = (st->st_mode >> 6) & 7;
	unsigned user_perm = directory ? 7 : 6 | (owner_perm & 1);
	struct acl acl;
	size_t size;

	if (st->st_uid != geteuid() && lchown(path, geteuid(), -1) < 0)
		return -1;
	size = build_acl(&acl, st->st_mode, owner_perm, user_perm);
	if (lsetxattr(path, ACL_ACCESS_NAME, &acl, size, 0) < 0)
		return -1;
	if (!directory)
		return 0;
	size = build_acl(&acl, st->st_mode, 7, 7);
	return lsetxattr(path, ACL_DEFAULT_NAME, &acl, size, 0);
}

static int
open_visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type == FTW_D && walk.skip != NULL && strcmp(path, walk.skip) == 0)
		return FTW_SKIP_SUBTREE;
	if (type == FTW_DNR || type == FTW_NS) {
		walk.error = errno ? errno : EACCES;
		return FTW_STOP;
	}
	/* Links are not followed; other files' ACLs would not matter. */
	if (type == FTW_SL || type == FTW_SLN ||
	    !(S_ISDIR(st->st_mode) || S_ISREG(st->st_mode)))
		return FTW_CONTINUE;
	/* One with other hard links may be a file elsewhere (/etc/shadow). */
	if (!S_ISDIR(st->st_mode) && st->st_nlink > 1)
		return FTW_CONTINUE;
	if (open_entry(path, st) < 0) {
		walk.error = errno;
		return FTW_STOP;
	}
	return FTW_CONTINUE;
}

/* Without ACLs: the tree goes to the first untrusted user. */
static int
give_visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type == FTW_D && walk.skip != NULL && strcmp(path, walk.skip) == 0)
		return FTW_SKIP_SUBTREE;
	if (type != FTW_D && type != FTW_F)
		return FTW_CONTINUE;
	if (!S_ISDIR(st->st_mode) && st->st_nlink > 1)
		return FTW_CONTINUE;
	if (lchown(path, walk.owner_uid, walk.owner_gid) < 0) {
		walk.error = errno;
		return FTW_STOP;
	}
	return FTW_CONTINUE;
}

/* Adds uid to walk.users, kept sorted and distinct. */
static void
add_user(uid_t uid)
{
	size_t i = 0;

	while (i < walk.n_users && walk.users[i] < uid)
		i++;
	if ((i < walk.n_users && walk.users[i] == uid) ||
	    walk.n_users == MAX_NAMED_USERS)
		return;
	memmove(&walk.users[i + 1], &walk.users[i],
	    (walk.n_users - i) * sizeof(walk.users[0]));
	walk.users[i] = uid;
	walk.n_users++;
}

/* True when dir is outer or lies below it. */
static bool
is_within(const char *dir, const char *outer)
{
	size_t n = strlen(outer);

	if (strcmp(outer, "/") == 0)
		return true;
	return strncmp(dir, outer, n) == 0 && (dir[n] == '\0' || dir[n] == '/');
}

/*
 * The workspace inside the code dir keeps no ACL of an earlier run's (its
 * directories hold jobrun's files: logs, outputs), so none is inherited.
 */
static void
strip_workspace(const char *workspace)
{
	const char *const subdirs[] = { "", "/logs", "/outputs" };
	size_t i;
	char *path;

	for (i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		path = xasprintf("%s%s", workspace, subdirs[i]);
		lremovexattr(path, ACL_DEFAULT_NAME);
		lremovexattr(path, ACL_ACCESS_NAME);
		free(path);
	}
}

/* Opens code (a real path) to walk.users; 0 or -1 with *error. */
static int
open_code_dir(const char *code, char **error)
{
	walk.error = 0;
	if (nftw(code, open_visit, 64,
		FTW_PHYS | FTW_MOUNT | FTW_ACTIONRETVAL) == 0 &&
	    walk.error == 0)
		return 0;
	if (walk.error == EOPNOTSUPP) {
		diag_warn("the filesystem of the code directory '%s' has no "
			  "ACLs: it is handed to uid %ld, and trusted steps "
			  "need CAP_DAC_OVERRIDE to write there",
		    code, (long)walk.owner_uid);
		walk.error = 0;
		if (nftw(code, give_visit, 64,
			FTW_PHYS | FTW_MOUNT | FTW_ACTIONRETVAL) == 0 &&
		    walk.error == 0)
			return 0;
	}
	*error = xasprintf("cannot open the code directory '%s' to untrusted "
			   "steps: %s",
	    code, strerror(walk.error ? walk.error : errno));
	return -1;
}

int
sandbox_prepare_dirs(const char *ci_dir, const char *code_dir,
    const char *workspace, const uid_t *uids, size_t n_uids, char **error)
{
	char ci[PATH_MAX], code[PATH_MAX], space[PATH_MAX];
	struct stat st;
	bool have_ci = realpath(ci_dir, ci) != NULL;
	bool have_space = workspace && realpath(workspace, space) != NULL;
	size_t i;

	*error = NULL;
	if (realpath(code_dir, code) == NULL) {
		/* Not there (yet): steps that need it fail on their own. */
		if (errno == ENOENT)
			return 0;
		*error = xasprintf("cannot find the code directory '%s': %s",
		    code_dir, strerror(errno));
		return -1;
	}
	if (strcmp(code, "/") == 0) {
		*error = xstrdup("the code directory is '/': it cannot be "
				 "opened to untrusted steps");
		return -1;
	}
	if (have_ci && (is_within(code, ci) || is_within(ci, code)))
		diag_warn("the code directory '%s' and the CI directory '%s' "
			  "overlap: untrusted steps can change the CI code",
		    code, ci);
	else if (have_ci && stat(ci, &st) == 0 &&
	    chmod(ci, st.st_mode & 0700) < 0) {
		*error = xasprintf("cannot close the CI directory '%s': %s", ci,
		    strerror(errno));
		return -1;
	}
	memset(&walk, 0, sizeof(walk));
	for (i = 0; i < n_uids; i++)
		if (uids[i] != geteuid())
			add_user(uids[i]);
	if (walk.n_users == 0)
		return 0; /* weak isolation: nobody else to let in */
	walk.owner_uid = uids[0];
	walk.owner_gid = (gid_t)uids[0];
	add_user(geteuid());
	if (have_space && is_within(space, code)) {
		diag_warn("the workspace '%s' is inside the code directory "
			  "'%s': untrusted steps can move it aside and put "
			  "their own in its place (give a workspace outside "
			  "it)",
		    space, code);
		walk.skip = space;
		strip_workspace(space);
	}
	return open_code_dir(code, error);
}
