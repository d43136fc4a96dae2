/*
 * The results a containerised job gives back, unpacked safely into the
 * host's workspace (results-unpack.c, in jobrun-source; jobrun reaches
 * them through runtime_extract_results() in runtime-run.h).
 */
#ifndef JOBRUN_RESULTS_UNPACK_H
#define JOBRUN_RESULTS_UNPACK_H

/*
 * Extracts from the archive in fd (tar, or cpio from results_pack())
 * into dir only what a job's
 * workspace gives back (result.json, triggers.json, outputs.json, logs/,
 * artifacts/); refuses absolute names, "..", links that leave dir and
 * anything that is not a file, directory or relative link.  Returns the
 * number of entries skipped as unsafe, or -1 with *error.  Works from
 * inside dir (it changes the working directory and returns to it).
 */
int results_unpack_stream(int fd, const char *dir, char **error);

/* The same from the directory from, read without following links. */
int results_unpack_dir(const char *from, const char *dir, char **error);

/*
 * The results as text, for a Kubernetes collector pod's log (which the
 * host reads with "kubectl logs": text, in lines, rotated by the kubelet
 * past its containerLogMaxSize):
 *   jobrun-results 1
 *   a cpio (newc) archive in base64, 76 characters a line
 *   jobrun-results-end BYTES SHA256-HEX
 * so that the host refuses an archive cut short or altered
 * (kube_results_decode() in runtime-kube.h) instead of unpacking part of
 * it.
 */
#define RESULTS_PACK_BEGIN "jobrun-results 1"
#define RESULTS_PACK_END "jobrun-results-end"
/* Bytes of the archive a line holds (76 characters of base64). */
#define RESULTS_PACK_GROUP 57

/*
 * Writes to fd the framing above around a cpio archive of what
 * results_unpack_stream() would take from dir (links as links, nothing
 * followed).  Returns 0, or -1 with *error.
 */
int results_pack(const char *dir, int fd, char **error);

#endif
