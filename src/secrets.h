/*
 * Where a job's secrets come from, before any step runs: the values of
 * the variables named in secrets.env and REACTORCIDE_SECRET_ENV_NAMES
 * (comma-separated), of variables whose names match secrets.env_globs
 * (opt-in, fnmatch(3) patterns such as "*_TOKEN"), the values of
 * REACTORCIDE_SECRET_VALUES_LIST (comma-separated, or the path of a file
 * of one value per line), the contents of secrets.files and
 * REACTORCIDE_SECRETS_FILE (the whole file, trimmed, and the value of every
 * dotenv assignment in it: secrets_parse_dotenv()), the credentials of source:
 * and ci_source: (token_env's value, token_file's contents, and the
 * password or token in the source URLs: source_url_credentials()), and the
 * PCRE2 patterns of secrets.patterns; for each value that is a document
 * (JSON, YAML, INI, .netrc), the credentials in it too
 * (secrets_structured_each()).  Variables are looked up in the job's
 * environment (env:, --job-env) and then in jobrun's own.
 */
#ifndef JOBRUN_SECRETS_H
#define JOBRUN_SECRETS_H

#include <stdbool.h>
#include <stddef.h>

#include "configuration.h"
#include "job.h"
#include "list.h"
#include "mask.h"

/*
 * Adds every secret of the job (NULL: a job command, without a job file)
 * to set.  A value too short to mask safely is
 * refused with a warning that names where it came from, never the value;
 * so is a named variable that is not set (a job without its secrets, such
 * as a pull request from a fork, still runs).  Returns 0, or -1 with a
 * message in *error (caller frees) when a secrets file cannot be read or a
 * pattern does not compile.
 */
int secrets_collect(struct mask_set *set, const struct job *job,
    const struct config *config, const struct nvlist *job_env, char **error);

/*
 * At a step's start: adds the value of every variable of envp (a
 * NULL-terminated array of "NAME=VALUE", the step's final environment,
 * which holds every layer: the job file's env:, the job env, plugins'
 * env_set, step outputs) whose name matches one of globs (fnmatch(3)).
 * Empty values are skipped; a value too short to mask is skipped too,
 * with a warning naming the variable when warn_short.  The masker's
 * streams see the new secrets on their next call; a caller that must
 * know they are masked in bytes already held calls mask_stream_rescan()
 * on each.  Returns 0, or -1 with a message in *error (caller frees)
 * when the set is full.
 */
int secrets_add_env_globs(struct mask_set *set, const struct strlist *globs,
    char *const *envp, bool warn_short, char **error);

/*
 * Parses text as a dotenv file, as sh sourcing it (". file") reads it,
 * and calls add(context, value, length) with the value of each
 * assignment; stops at the first add() that returns non-zero and returns
 * that, else 0.
 *
 * The rules: the text is read command by command (a command ends at a
 * line break, ';', '&' or '|').  A command of assignments, NAME=VALUE or
 * NAME+=VALUE (NAME of letters, digits and '_', not first a digit),
 * optionally after "export", "readonly", "declare" or "typeset" (whose
 * other words, such as -x, are passed over), adds each value; so does
 * "A=1 B=2 make" for A and B.  Blank lines, comments ('#' at the start of
 * a word) and any other command are skipped to the end of their line.
 * VALUE is one shell word: concatenated parts, each
 *   - unquoted: up to a blank, ; & | < > or a line end; a backslash
 *     stands for the next byte, before a line break for nothing;
 *   - 'single-quoted': everything up to the next ', line breaks included,
 *     literally;
 *   - "double-quoted" (or $"..."): up to the next unescaped ", line
 *     breaks included; \ before $ ` " \ stands for that character and
 *     before a line break for nothing; any other \ stays.  Dotenv loaders
 *     (python-dotenv, docker compose) also read \n, \r and \t as control
 *     characters: when that reading differs, add() gets it too;
 *   - $'ANSI-C': bash's escapes (\n, \t, \E, \ooo, \xHH, \uHHHH,
 *     \UHHHHHHHH as UTF-8, \cX, ...) decoded; a NUL ends it, as in bash.
 * Nothing is expanded: $NAME, ${...}, $(...) and `...` are kept as
 * written, the text and not what a shell would substitute.  The first
 * assignment of a line, when its value starts unquoted, is also read as
 * dotenv loaders read it, the rest of the line up to a " #" without blanks
 * around; when that differs, add() gets it too.  A "\r\n" outside quotes is a
 * line break.  Empty values are not passed.
 *
 * A command whose assignment cannot be read (a quote, $' or $( that is
 * not closed, an unquoted ( or ) in a value) is skipped from that word to
 * the end of the word's line, and skip(context, line, why) is called
 * when skip is not NULL: line from 1, why a constant string saying what
 * is wrong, never holding the text.  The parse goes on at the next line.
 */
int secrets_parse_dotenv(const char *text, size_t size,
    int (*add)(void *context, const char *value, size_t length),
    void (*skip)(void *context, size_t line, const char *why), void *context);

/*
 * Calls fn(context, value, length) for each credential inside a secret
 * that is a document: the string value of each member whose name holds
 * "pass", "secret", "token", "key", "auth", "credential", "private",
 * "cookie" or "session" (any case) in a JSON object or a YAML mapping, at
 * any depth, or on a "name = value" line (INI, .npmrc), and the word after
 * "password" in a .netrc file; an http(s) URL without user info is no
 * credential (token_uri).  Returns how many it found.
 */
typedef void (*secrets_member_fn)(
    void *context, const char *value, size_t length);
size_t secrets_structured_each(
    const char *data, size_t size, secrets_member_fn fn, void *context);

/*
 * Whether text is a file of assignments only: at least one NAME=VALUE
 * (secrets_parse_dotenv()), and besides them nothing but comments, blank
 * lines and declaration words; no other command, no line that cannot be
 * read, no NAME==... (a line of padded base64).  Its lines are names and
 * values, not parts of one secret.
 */
bool secrets_dotenv_only(const char *text, size_t size);

/*
 * Adds the secrets that settings give -- secret_values_list,
 * secret_env_names and secrets_file, from the environment and from flags
 * (n_flags of them; may be none) -- as far as they can be read, ignoring
 * errors: for jobrun's messages written before the job's secrets are known
 * (diag_hold()).
 */
struct config_flag;
void secrets_collect_settings(
    struct mask_set *set, const struct config_flag *flags, size_t n_flags);

/*
 * While on, secrets are gathered for the messages held until a run knows
 * its own (diag_hold()): what gathering them says is dropped
 * (diag_discard(): the run says it), and secrets files that are not
 * regular files (a FIFO that a helper writes) are refused, not read: at
 * exit, with signals blocked, nothing may wait for a writer that may never
 * come.
 */
void secrets_for_held_messages(bool on);

#endif
