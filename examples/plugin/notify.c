/*
 * notify: an example jobrun plugin, written as a user would write one
 * (see jobrun-plugin(3) and README.md beside it).  From its config it
 * registers a token as a secret, gives the steps NOTIFY_CHANNEL and
 * NOTIFY_TOKEN, logs the job and its commit before the steps run, and,
 * when the job succeeded, asks for a follow-up job in triggers.json.
 *
 * Its settings (the plugin's config: in the job file):
 *   channel  where notifications go; given to the steps as NOTIFY_CHANNEL
 *   token    a credential: registered as a secret first, then given to the
 *            steps as NOTIFY_TOKEN (whatever prints it prints ***)
 *   trigger  a job to run after this one when it succeeded (optional)
 */
#define _DEFAULT_SOURCE /* explicit_bzero */

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jobrun/plugin.h>

/* What the hooks need, copied from the config in init(): what the host
 * returns is only valid until the hook that asked returns. */
struct notify {
	const struct jobrun_host *host;
	char *channel;
	char *token;
	char *trigger;
};

static char *
copy(const char *string)
{
	size_t size;
	char *copied;

	if (string == NULL)
		return NULL;
	size = strlen(string) + 1;
	if ((copied = malloc(size)) != NULL)
		memcpy(copied, string, size);
	return copied;
}

/* Frees a string that may hold a secret, wiping it first. */
static void
wipe(char *string)
{
	if (string == NULL)
		return;
	explicit_bzero(string, strlen(string));
	free(string);
}

static void
notify_free(struct notify *notify)
{
	free(notify->channel);
	wipe(notify->token);
	free(notify->trigger);
	free(notify);
}

static bool
is_known(const char *key)
{
	static const char *const known[] = { "channel", "token", "trigger" };
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(*known); i++)
		if (strcmp(key, known[i]) == 0)
			return true;
	return false;
}

/* A misspelt key is refused rather than ignored. */
static int
check_keys(struct jobrun_context *context, const struct jobrun_host *host)
{
	const char *key, *value;
	size_t index;

	for (index = 0; host->config_item(context, index, &key, &value) == 0;
	     index++) {
		if (!is_known(key)) {
			host->log(context, JOBRUN_LOG_ERROR,
			    "unknown setting '%s' (known: channel, token, "
			    "trigger)",
			    key);
			return -1;
		}
	}
	return 0;
}

/* Copies a setting into *out; 0 when it is not set, -1 out of memory. */
static int
setting(struct jobrun_context *context, const struct jobrun_host *host,
    const char *key, char **out)
{
	const char *value = host->config_get(context, key);

	*out = copy(value);
	if (value != NULL && *out == NULL) {
		host->log(context, JOBRUN_LOG_ERROR, "out of memory");
		return -1;
	}
	return 0;
}

static int
notify_init(struct jobrun_context *context, const struct jobrun_host *host,
    void **state)
{
	struct notify *notify;

	/*
	 * Every member of ABI 1.0 is there: jobrun refuses a plugin of
	 * another major version before calling it.  A host service or a
	 * member added in a later minor version, say 1.2, would be used
	 * only after checking that this jobrun has it:
	 *
	 *	if (host->abi_version >= JOBRUN_PLUGIN_ABI(1, 2))
	 *		host->newer_service(context, ...);
	 *	else
	 *		do without it;
	 *
	 * This plugin uses nothing newer than 1.0, so it checks nothing.
	 */
	if (check_keys(context, host) == -1)
		return -1;
	if ((notify = calloc(1, sizeof(*notify))) == NULL) {
		host->log(context, JOBRUN_LOG_ERROR, "out of memory");
		return -1;
	}
	notify->host = host;
	if (setting(context, host, "channel", &notify->channel) == -1 ||
	    setting(context, host, "token", &notify->token) == -1 ||
	    setting(context, host, "trigger", &notify->trigger) == -1)
		goto fail;
	if (notify->channel == NULL) {
		host->log(context, JOBRUN_LOG_ERROR, "'channel' is required");
		goto fail;
	}
	/* Registered before anything can print it: what was printed
	 * before cannot be taken back. */
	if (notify->token != NULL &&
	    host->secret_add(context, notify->token, strlen(notify->token)) ==
		-1)
		goto fail;
	*state = notify;
	return 0;
fail:
	notify_free(notify);
	return -1;
}

/* Before the steps: say what runs, and give the steps their variables. */
static int
before_steps(struct jobrun_context *context, struct notify *notify)
{
	const struct jobrun_host *host = notify->host;
	const char *commit = host->fact(context, "commit");

	host->log(context, JOBRUN_LOG_INFO, "job '%s' at commit %s, to %s",
	    host->fact(context, "job"), commit != NULL ? commit : "(none)",
	    notify->channel);
	if (host->env_set(context, "NOTIFY_CHANNEL", notify->channel) == -1)
		return -1;
	if (notify->token != NULL &&
	    host->env_set(context, "NOTIFY_TOKEN", notify->token) == -1)
		return -1;
	return 0;
}

/* After the steps: on success, ask for the follow-up job. */
static int
after_steps(struct jobrun_context *context, struct notify *notify)
{
	const struct jobrun_host *host = notify->host;
	const char *outcome = host->fact(context, "outcome");
	char channel[256] = "NOTIFY_CHANNEL=";
	const char *env[] = { channel, NULL };
	struct jobrun_trigger trigger = {
		.job_name = notify->trigger,
		.env = env,
	};

	host->log(context, JOBRUN_LOG_INFO, "job '%s' ended: %s",
	    host->fact(context, "job"), outcome != NULL ? outcome : "unknown");
	if (notify->trigger == NULL || outcome == NULL ||
	    strcmp(outcome, "success") != 0)
		return 0;
	if (strlen(channel) + strlen(notify->channel) >= sizeof(channel)) {
		host->log(context, JOBRUN_LOG_ERROR, "channel name too long");
		return -1;
	}
	strcat(channel, notify->channel);
	return host->trigger_add(context, &trigger);
}

static int
notify_phase(
    struct jobrun_context *context, void *state, enum jobrun_phase phase)
{
	switch (phase) {
	case JOBRUN_PHASE_PRE_EXECUTION:
		return before_steps(context, state);
	case JOBRUN_PHASE_POST_EXECUTION:
		return after_steps(context, state);
	default:
		return 0;
	}
}

static void
notify_fini(struct jobrun_context *context, void *state)
{
	(void)context;
	if (state != NULL)
		notify_free(state);
}

const struct jobrun_plugin jobrun_plugin = {
	.abi_version = JOBRUN_PLUGIN_ABI_VERSION,
	.name = "notify",
	.version = "1.0",
	.init = notify_init,
	.phase = notify_phase,
	.fini = notify_fini,
};
