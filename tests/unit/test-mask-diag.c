/*
 * Unit tests for the masking of jobrun's own messages (diag.h): a message
 * longer than a line is masked whole before it is cut, so a secret at the
 * cut never shows even in part, and a sink gets the whole message.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "mask.h"
#include "tap.h"

#define SECRET "s3cr3t-at-the-cut-0123456789"

static char *sunk;

static void
sink(const char *message, void *context)
{
	(void)context;
	free(sunk);
	sunk = strdup(message);
}

/* Runs diag_error with standard error sent to a file; returns what came. */
static char *
captured(const char *message)
{
	char path[] = "/tmp/test-mask-diag-XXXXXX";
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	char *text = calloc(1, 16384);
	ssize_t n;

	unlink(path);
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	diag_error("%s", message);
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = pread(fd, text, 16383, 0);
	text[n > 0 ? n : 0] = '\0';
	close(fd);
	return text;
}

/* A message whose secret straddles the 4 KiB cut. */
static char *
long_message(void)
{
	char *message = malloc(8192);

	memset(message, 'x', 4070);
	strcpy(message + 4070, SECRET);
	strcat(message, " and more after it");
	return message;
}

int
main(void)
{
	struct mask_set *set = mask_set_new(NULL, 4);
	char *message = long_message(), *out;

	mask_set_add(set, SECRET, strlen(SECRET), NULL);

	out = captured(message);
	ok(strlen(out) <= 4096,
	    "without a mask set, a message is cut to 4 KiB");
	ok(strstr(out, "...\n") != NULL, "and ends with a marker");
	free(out);

	diag_set_mask(set);
	out = captured(message);
	ok(strstr(out, "s3cr") == NULL,
	    "masked whole before the cut: no part of the secret shows");
	ok(strstr(out, "***") != NULL, "the token shows");
	ok(strncmp(out, "jobrun: xxx", 11) == 0 && out[strlen(out) - 1] == '\n',
	    "one line, with its label");
	free(out);
	out = captured("short " SECRET " message");
	is_str(out, "jobrun: short *** message\n", "a short message is masked");
	free(out);

	diag_set_sink(sink, NULL);
	diag_error("%s", message);
	ok(sunk != NULL && strlen(sunk) == strlen(message),
	    "a sink gets the whole message, uncut, to mask it whole");
	diag_set_sink(NULL, NULL);
	diag_set_mask(NULL);
	free(sunk);
	free(message);
	mask_set_free(set);
	return done_testing();
}
