#!/bin/sh
# The runner image's jobrun in place of a binary on this host, for
# clone.sh and the other scripts that take a JOBRUN: each call enters a
# running container of the image (its mount, network and PID namespaces,
# its root) with nsenter and runs the image's jobrun there, with the
# image's libraries, from the caller's directory.  Entering costs a few
# milliseconds, where a `podman run` per call costs a few hundred.
#
#   mkdir -p /dev/shm/bench
#   podman run -d --name jobrun-bench --network=host \
#       -v /dev/shm/bench:/dev/shm/bench --entrypoint sleep IMAGE infinity
#   JOBRUN_BENCH_PID=$(podman inspect -f '{{.State.Pid}}' jobrun-bench) \
#       TMPDIR=/dev/shm/bench tests/bench/clone.sh tests/bench/jobrun-in-image.sh
#   podman rm -f jobrun-bench
#
# The container shares the host's network (the servers clone.sh starts
# listen on 127.0.0.1) and mounts $TMPDIR at the same path (workspaces,
# job files and ssh keys are under it).  Run as root.
set -eu
: "${JOBRUN_BENCH_PID:?the pid of a running container of the image}"
exec nsenter --target "$JOBRUN_BENCH_PID" --mount --net --pid --ipc --uts \
	--root --wd="$PWD" jobrun "$@"
