/*
 * Files: the writes, reads and directory operations jobrun does in places
 * a step can also write to (the workspace), done so that nothing a step
 * plants there (a FIFO, a device, a symlink) can block jobrun or redirect
 * what it writes.
 *
 *   - Files jobrun reads (a step's outputs, env files) are opened with
 *     O_NOFOLLOW|O_NONBLOCK and must be regular files.
 *   - Files jobrun writes are created afresh (O_CREAT|O_EXCL|O_NOFOLLOW
 *     after removing what was there) or replaced atomically.
 *   - Directories inside the workspace are created and opened without
 *     following symlinks, and cleared through their descriptor.
 *
 * Functions that report take char **error: on failure it receives a
 * message (the caller frees it) that names the path and the cause.
 */
#ifndef JOBRUN_FILE_H
#define JOBRUN_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Writes all size bytes of data to fd, retrying after EINTR and waiting
 * (poll) when fd is non-blocking and full.  Returns 0, or -1 with errno.
 */
int file_write_all(int fd, const void *data, size_t size);

/*
 * Replaces path with data and a final newline, atomically: a temporary
 * file beside it (created, never followed), then rename(2).  With durable,
 * the file and its directory are fsync'ed, so the new content survives a
 * crash of the machine.  Returns 0, or -1 with *error set.
 */
int file_write_atomic(const char *path, const char *data, size_t size,
    bool durable, char **error);

/*
 * Whether file_write_atomic() could write path, before there is anything
 * to write: a temporary file is made beside it and removed.  Returns 0, or
 * -1 with *error set.
 */
int file_check_writable(const char *path, char **error);

/*
 * Removes the temporary files file_write_atomic() left beside path when
 * its writer died before the rename (their writer's pid is in the name;
 * a living writer keeps its file).
 */
void file_remove_stale_temps(const char *path);

/*
 * Opens name under dirfd (AT_FDCWD for a plain path) for reading, without
 * following a symlink and without blocking on a FIFO; anything but a
 * regular file is refused.  Returns the descriptor (close-on-exec, in
 * blocking mode), or -1 with *error set; a missing file sets errno ENOENT.
 */
int file_open_read(int dirfd, const char *name, char **error);

/*
 * Reads the whole regular file name under dirfd (see file_open_read())
 * into a NUL-terminated buffer *out (the caller frees it; its length in
 * *length).  A file longer than limit bytes is refused.  Returns 0, or -1
 * with *error set (errno ENOENT when the file does not exist).
 */
int file_read_all(int dirfd, const char *name, size_t limit, char **out,
    size_t *length, char **error);

/*
 * Reads fd to its end (a pipe, standard input) into a NUL-terminated
 * buffer: at most limit bytes.  Every buffer it outgrows is wiped first,
 * since the bytes may be secret.  Returns the buffer (the caller wipes and
 * frees it) with its length in *size, or NULL with errno set (EFBIG when
 * there is more than limit).
 */
char *file_read_fd(int fd, size_t limit, size_t *size);

/*
 * Creates name under dirfd as a new empty regular file (read and write) with
 * mode, after removing whatever had that name (a file, a symlink, a FIFO:
 * never followed or opened).  Returns the descriptor (close-on-exec), or
 * -1 with *error set.
 */
int file_create(int dirfd, const char *name, mode_t mode, char **error);

/*
 * Creates the directory name under dirfd (mode) unless it exists, and
 * opens it without following a symlink: a symlink or a non-directory in
 * its place is refused.  Returns the directory's descriptor, or -1 with
 * *error set.
 */
int file_open_dir(int dirfd, const char *name, mode_t mode, char **error);

/*
 * Creates path and its missing parents (mode 0755), then opens it as
 * file_open_dir() does (its last component must not be a symlink).
 * Returns the descriptor, or -1 with *error set.
 */
int file_make_dirs(const char *path, char **error);

/*
 * Removes everything in the directory dirfd, subdirectories included,
 * without following a symlink.  Returns 0, or -1 with errno (what could
 * be removed is gone).
 */
int file_clear_dir(int dirfd);

/*
 * Removes name under dirfd and everything in it when it is a directory,
 * never following a symlink.  A missing name is not an error.  Returns 0,
 * or -1 with errno.
 */
int file_remove_tree(int dirfd, const char *name);

#endif
