/*
 * What a step's process gets: its environment, its command line and its
 * working directory, all computed in the parent before fork.
 */
#ifndef JOBRUN_STEPENV_H
#define JOBRUN_STEPENV_H

#include "configuration.h"
#include "job.h"
#include "list.h"

/*
 * Returns the step's environment as a NULL-terminated array of
 * "NAME=VALUE": jobrun's own environment, then the JOBRUN_* facts about the
 * job and step, then job_env (the job file's env: and --job-env), then
 * extra (may be NULL: outputs of dependencies, ...), then the step's env:;
 * the directory of the running jobrun is appended to PATH.  step may be
 * NULL (a command a plugin runs): no step facts, no step env:.
 * Free it with stepenv_free().
 */
char **stepenv_build(const struct config *config, const struct step *step,
    unsigned attempt, const struct nvlist *job_env, const struct nvlist *extra);

/*
 * Returns the argument vector for running command with shell, a program
 * name followed by options, split at spaces and tabs (no quoting): "bash
 * -eo pipefail" gives {"bash", "-eo", "pipefail", "-c", command, NULL}.
 * A POSIX shell named alone (sh, bash, dash, ash, ksh, mksh, zsh, by name
 * or path) gets "-e" before "-c", so that a step stops at its first
 * failing command: "sh" gives {"sh", "-e", "-c", command, NULL}.  Any
 * other program, or a shell given with options, runs exactly as written.
 * Free it with stepenv_free().
 */
char **stepenv_argv(const char *shell, const char *command);

/* Returns the value of name in envp, or NULL. */
const char *stepenv_get(char *const *envp, const char *name);

/*
 * Returns the step's working directory: its workdir: (relative to the job
 * dir), or the job dir.  *owned is what the caller frees (may be NULL).
 */
const char *stepenv_workdir(
    const struct config *config, const struct step *step, char **owned);

/* Wipes and frees a vector from stepenv_build() or stepenv_argv(). */
void stepenv_free(char **vector);

#endif
