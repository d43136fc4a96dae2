/*
 * The workspace's own files and directories (workspace.h).
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "workspace.h"
#include "xalloc.h"

/* The pinned workspace (workspace_pin()) and its path through /proc;
 * one per process, as the workspace is. */
static int pinned = -1;
static char pinned_path[64];

/* Pins the workspace open at fd (taken). */
static void
pin_fd(int fd)
{
	pinned = fd;
	snprintf(pinned_path, sizeof(pinned_path), "/proc/self/fd/%d", fd);
	/* Without /proc, paths are all there is. */
	if (access(pinned_path, X_OK) < 0)
		pinned_path[0] = '\0';
}

int
workspace_pin(const struct config *config, char **error)
{
	const char *path = config_get(config, CONFIG_WORKSPACE);
	int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC, fd;

	if (pinned >= 0)
		return 0;
	if (config_number(config, CONFIG_LOCAL) != 0)
		flags |= O_NOFOLLOW;
	if ((fd = open(path, flags)) < 0) {
		if (errno == ENOENT)
			return 0;
		*error = errno == ELOOP || errno == ENOTDIR
		    ? xasprintf("the workspace '%s' is not a directory (a "
				"symbolic link is not followed in local mode, "
				"where steps can write there): remove it",
			  path)
		    : xasprintf("cannot open the workspace '%s': %s", path,
			  strerror(errno));
		return -1;
	}
	pin_fd(fd);
	return 0;
}

int
workspace_repin(const struct config *config, bool *removed, char **error)
{
	struct stat st;
	int fd;

	*removed = false;
	if (pinned < 0 || fstat(pinned, &st) < 0 || st.st_nlink > 0)
		return 0;
	*removed = true;
	close(pinned);
	pinned = -1;
	/* The directory just made, as file_make_dirs() opened it (its last
	 * part not followed), not opened again by its path. */
	fd = file_make_dirs(config_get(config, CONFIG_WORKSPACE), error);
	if (fd < 0)
		return -1;
	pin_fd(fd);
	return 0;
}

char *
workspace_file(const struct config *config, const char *name)
{
	if (pinned >= 0 && pinned_path[0] != '\0')
		return xasprintf("%s/%s", pinned_path, name);
	return xasprintf("%s/%s", config_get(config, CONFIG_WORKSPACE), name);
}

char *
workspace_triggers_file(const struct config *config)
{
	const char *file = config_get(config, CONFIG_TRIGGERS_FILE);
	char *standard =
	    xasprintf("%s/triggers.json", config_get(config, CONFIG_WORKSPACE));
	bool in_workspace = strcmp(file, standard) == 0;

	free(standard);
	return in_workspace ? workspace_file(config, "triggers.json")
			    : xstrdup(file);
}

static void
remove_with_temps(const char *path)
{
	unlink(path);
	file_remove_stale_temps(path);
}

void
workspace_remove_earlier(const struct config *config)
{
	char *path;

	path = workspace_file(config, "result.json");
	remove_with_temps(path);
	free(path);
	path = workspace_file(config, "outputs.json");
	remove_with_temps(path);
	free(path);
	path = workspace_triggers_file(config);
	remove_with_temps(path);
	free(path);
}

/* Opens name under the workspace, made and cleared; -1 with *error. */
static int
open_cleared(int root, const char *name, mode_t mode, char **error)
{
	int fd = file_open_dir(root, name, mode, error);

	if (fd < 0)
		return -1;
	if (fchmod(fd, mode) < 0 || file_clear_dir(fd) < 0) {
		*error = xasprintf("cannot clear the directory '%s': %s", name,
		    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int
workspace_open(struct workspace *ws, const struct config *config, char **error)
{
	int root;

	ws->path = config_get(config, CONFIG_WORKSPACE);
	root = pinned >= 0 ? dup(pinned) : file_make_dirs(ws->path, error);
	if (root < 0) {
		if (pinned >= 0)
			*error = xasprintf("cannot open the workspace '%s': %s",
			    ws->path, strerror(errno));
		return -1;
	}
	ws->logs = open_cleared(root, "logs", 0755, error);
	if (ws->logs >= 0)
		ws->outputs = open_cleared(root, "outputs", 0711, error);
	close(root);
	if (ws->logs < 0 || ws->outputs < 0) {
		workspace_close(ws);
		return -1;
	}
	ws->logs_path = xasprintf("%s/logs", ws->path);
	ws->outputs_path = xasprintf("%s/outputs", ws->path);
	return 0;
}

int
workspace_logs_private(struct workspace *ws, bool private)
{
	return ws->logs >= 0 ? fchmod(ws->logs, private ? 0700 : 0755) : 0;
}

void
workspace_close(struct workspace *ws)
{
	if (ws->outputs >= 0) {
		file_clear_dir(ws->outputs);
		close(ws->outputs);
	}
	if (ws->logs >= 0)
		close(ws->logs);
	ws->logs = ws->outputs = -1;
	free(ws->logs_path);
	free(ws->outputs_path);
	ws->logs_path = ws->outputs_path = NULL;
}
