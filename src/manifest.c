/*
 * The Kubernetes objects of one run (manifest.h).  The Job follows
 * examples/kubernetes/manifest.yaml: no retries of the pod (jobrun
 * retries steps), a podFailurePolicy that ignores disruptions and fails
 * the Job on any other exit, the hard stop as activeDeadlineSeconds, no
 * service-account token, jobrun's own capability set, and the
 * termination message falling back to the log.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "runtime.h"
#include "xalloc.h"

/* Finished Jobs (and what they own) go after a day. */
#define MANIFEST_TTL_S 86400

static json_t *
labels(const struct manifest_input *in)
{
	char *instance = runtime_instance_name(in->run_id);
	json_t *l = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
	    "app.kubernetes.io/name", "jobrun", "app.kubernetes.io/instance",
	    instance, "app.kubernetes.io/version", PACKAGE_VERSION,
	    "app.kubernetes.io/component", "job",
	    "app.kubernetes.io/managed-by", "jobrun", RUNTIME_LABEL_RUN_ID,
	    in->run_id, RUNTIME_LABEL_JOB, in->job);

	free(instance);
	return l;
}

static json_t *
metadata(const struct manifest_input *in, const char *suffix)
{
	char *name = runtime_instance_name(in->run_id);
	char *full = xasprintf("%s%s", name, suffix);
	json_t *m = json_pack("{s:s, s:o}", "name", full, "labels", labels(in));

	free(full);
	free(name);
	return m;
}

static json_t *
config_map(const struct manifest_input *in)
{
	return json_pack("{s:s, s:s, s:o, s:{s:s}}", "apiVersion", "v1", "kind",
	    "ConfigMap", "metadata", metadata(in, "-job"), "data",
	    in->job_file_name, in->job_text);
}

static json_t *
secret(const struct manifest_input *in)
{
	return json_pack("{s:s, s:s, s:o, s:s, s:{s:s}}", "apiVersion", "v1",
	    "kind", "Secret", "metadata", metadata(in, "-secrets"), "type",
	    "Opaque", "stringData", MANIFEST_BUNDLE_KEY, in->bundle);
}

static const char *
pull_policy(const char *pull)
{
	if (pull != NULL && strcmp(pull, "always") == 0)
		return "Always";
	if (pull != NULL && strcmp(pull, "never") == 0)
		return "Never";
	return "IfNotPresent";
}

static json_t *
resources(const struct manifest_input *in)
{
	json_t *limits = json_object();
	char buf[64];

	if (in->cpus > 0) {
		snprintf(buf, sizeof(buf), "%gm", in->cpus * 1000);
		json_object_set_new(limits, "cpu", json_string(buf));
	}
	if (in->memory > 0) {
		snprintf(
		    buf, sizeof(buf), "%llu", (unsigned long long)in->memory);
		json_object_set_new(limits, "memory", json_string(buf));
	}
	return json_pack("{s:o}", "limits", limits);
}

static json_t *
container(const struct manifest_input *in)
{
	char *job_path =
	    xasprintf("%s/%s", MANIFEST_JOB_DIR, in->job_file_name);
	char *bundle_path =
	    xasprintf("%s/%s", MANIFEST_BUNDLE_DIR, MANIFEST_BUNDLE_KEY);
	json_t *args = json_pack("[s, s]", "run", "--no-local"), *c;
	size_t i;

	for (i = 0; in->flags != NULL && in->flags[i] != NULL; i++)
		json_array_append_new(args, json_string(in->flags[i]));
	json_array_append_new(args, json_string(job_path));
	c = json_pack("{s:s, s:s, s:s, s:o, s:[{s:s, s:s}],"
		      " s:s, s:o, s:{s:b, s:b, s:b, s:{s:[s], s:[s, "
		      "s, s, s, s]}}, s:[{s:s, s:s, s:b}, {s:s, s:s, "
		      "s:b}]}",
	    "name", "jobrun", "image", in->image, "imagePullPolicy",
	    pull_policy(in->pull), "args", args, "env", "name", "JOBRUN_BUNDLE",
	    "value", bundle_path, "terminationMessagePolicy",
	    "FallbackToLogsOnError", "resources", resources(in),
	    "securityContext", "privileged", 0, "allowPrivilegeEscalation", 0,
	    "runAsNonRoot", 0, "capabilities", "drop", "ALL", "add", "SETUID",
	    "SETGID", "KILL", "CHOWN", "DAC_READ_SEARCH", "volumeMounts",
	    "name", "job", "mountPath", MANIFEST_JOB_DIR, "readOnly", 1, "name",
	    "bundle", "mountPath", MANIFEST_BUNDLE_DIR, "readOnly", 1);

	free(job_path);
	free(bundle_path);
	return c;
}

static json_t *
pod_failure_policy(void)
{
	/* A disruption (eviction, preemption) is not the job's failure;
	 * any exit but 0 fails the Job at once. */
	return json_pack("{s:[{s:s, s:[{s:s}]}, {s:s, s:{s:s, s:s, "
			 "s:[i]}}]}",
	    "rules", "action", "Ignore", "onPodConditions", "type",
	    "DisruptionTarget", "action", "FailJob", "onExitCodes",
	    "containerName", "jobrun", "operator", "NotIn", "values", 0);
}

static json_t *
job(const struct manifest_input *in)
{
	char *cm = xasprintf("jobrun-%s-job", in->run_id);
	char *sec = xasprintf("jobrun-%s-secrets", in->run_id);
	json_t *spec, *j;

	spec = json_pack("{s:i, s:b, s:i, s:o, s:{s:{s:o}, s:{s:s, s:b, s:b, "
			 "s:I, s:o, s:[{s:s, s:{s:s}}, {s:s, s:{s:s, s:i}}]}}}",
	    "backoffLimit", 0, "suspend", 1, "ttlSecondsAfterFinished",
	    MANIFEST_TTL_S, "podFailurePolicy", pod_failure_policy(),
	    "template", "metadata", "labels", labels(in), "spec",
	    "restartPolicy", "Never", "automountServiceAccountToken", 0,
	    "enableServiceLinks", 0, "terminationGracePeriodSeconds",
	    (json_int_t)in->grace_s, "containers",
	    json_pack("[o]", container(in)), "volumes", "name", "job",
	    "configMap", "name", cm, "name", "bundle", "secret", "secretName",
	    sec, "defaultMode", 0400);
	if (in->deadline_s > 0)
		json_object_set_new(spec, "activeDeadlineSeconds",
		    json_integer((json_int_t)in->deadline_s));
	j = json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "batch/v1", "kind",
	    "Job", "metadata", metadata(in, ""), "spec", spec);
	free(cm);
	free(sec);
	return j;
}

json_t *
manifest_build(const struct manifest_input *in)
{
	return json_pack("{s:s, s:s, s:[o, o, o]}", "apiVersion", "v1", "kind",
	    "List", "items", job(in), config_map(in), secret(in));
}
