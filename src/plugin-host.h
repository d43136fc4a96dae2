/*
 * The host side of the plugin ABI: the services a plugin calls through
 * struct jobrun_host (include/jobrun/plugin.h).  Each service finds the
 * job's state through the plugin's context (its host_data is the
 * struct lifecycle, lifecycle.h) and works on it: the facts, the
 * environment of later steps, the secrets, the triggers, the steps.
 */
#ifndef JOBRUN_PLUGIN_HOST_H
#define JOBRUN_PLUGIN_HOST_H

#include <jobrun/plugin.h>

/* Fills host with jobrun's ABI version and every service. */
void plugin_host_init(struct jobrun_host *host);

#endif
