/*
 * The workspace's own files and directories (workspace.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "workspace.h"
#include "xalloc.h"

char *
workspace_file(const struct config *config, const char *name)
{
	return xasprintf("%s/%s", config_get(config, CONFIG_WORKSPACE), name);
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
	remove_with_temps(config_get(config, CONFIG_TRIGGERS_FILE));
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
	if ((root = file_make_dirs(ws->path, error)) < 0)
		return -1;
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
