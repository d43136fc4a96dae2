/*
 * Gathers the steps' summaries into artifacts/summary.md (step-summary.h).
 * The workspace may hold what steps made (a symlink where artifacts/ or
 * summary.md should be): nothing is followed, and the file is replaced.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file.h"
#include "list.h"
#include "step-summary.h"
#include "xalloc.h"

/* The summaries joined: each ends with a newline, a blank line between. */
static char *
join(const char *const *summaries, size_t n, size_t *length)
{
	size_t i, size = 1, used = 0, len;
	char *text;

	for (i = 0; i < n; i++)
		if (summaries[i] != NULL)
			size += strlen(summaries[i]) + 2;
	text = xmalloc(size);
	for (i = 0; i < n; i++) {
		if (summaries[i] == NULL)
			continue;
		if (used > 0)
			text[used++] = '\n';
		len = strlen(summaries[i]);
		memcpy(text + used, summaries[i], len);
		used += len;
		if (len > 0 && summaries[i][len - 1] != '\n')
			text[used++] = '\n';
	}
	text[used] = '\0';
	*length = used;
	return text;
}

/* Writes text (size bytes) to artifacts/summary.md under workspace_fd. */
static int
write_file(int workspace_fd, const char *text, size_t size, char **error)
{
	int dir, fd;

	if ((dir = file_open_dir(workspace_fd, "artifacts", 0755, error)) < 0)
		return -1;
	fd = file_create(dir, "summary.md", 0644, error);
	close(dir);
	if (fd < 0)
		return -1;
	if (file_write_all(fd, text, size) < 0) {
		*error = xasprintf(
		    "cannot write artifacts/summary.md: %s", strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* No summary: one an earlier job left goes. */
static void
remove_stale(int workspace_fd)
{
	int dir = openat(workspace_fd, "artifacts",
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (dir < 0)
		return;
	unlinkat(dir, "summary.md", 0);
	close(dir);
}

int
step_summary_write(const char *workspace, const char *const *summaries,
    size_t n, struct mask_set *mask, char **error)
{
	size_t i, length, masked_length;
	char *text, *masked;
	int workspace_fd, rc = 0;
	bool any = false;

	for (i = 0; i < n; i++)
		any = any || summaries[i] != NULL;
	workspace_fd =
	    open(workspace, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (workspace_fd < 0) {
		*error = xasprintf("cannot open the workspace '%s': %s",
		    workspace, strerror(errno));
		return -1;
	}
	if (!any) {
		remove_stale(workspace_fd);
		close(workspace_fd);
		return 0;
	}
	text = join(summaries, n, &length);
	/* What the steps wrote: masked with every secret. */
	masked = mask != NULL
	    ? mask_string_output(mask, text, length, &masked_length)
	    : NULL;
	if (masked != NULL)
		rc = write_file(workspace_fd, masked, masked_length, error);
	else
		rc = write_file(workspace_fd, text, length, error);
	wipe(text, length);
	free(text);
	free(masked);
	close(workspace_fd);
	return rc;
}
