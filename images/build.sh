#!/bin/sh
# Builds the runner image (images/runner/Dockerfile) with podman, or with
# docker when podman is absent, from the repository the script lives in.
#
#   images/build.sh [-t TAG] [EXTRA BUILD ARGUMENTS...]
#
# TAG defaults to localhost/jobrun:VERSION (VERSION from configure.ac);
# JOBRUN_IMAGE_TOOL=docker|podman picks the tool.  Extra arguments go to
# the build command as they are (e.g. --no-cache).  podman never pulls the
# base image (machines without a registry import it: see images/README.md);
# docker pulls it only when it is missing.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
version=$(sed -n 's/^AC_INIT(\[jobrun\], \[\([^]]*\)\].*/\1/p' "$top/configure.ac")
revision=$(git -C "$top" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
tag=localhost/jobrun:${version:-unknown}
if [ "${1:-}" = -t ]; then
	[ $# -ge 2 ] || { echo "images/build.sh: -t needs a tag" >&2; exit 2; }
	tag=$2
	shift 2
fi

tool=${JOBRUN_IMAGE_TOOL:-}
if [ -z "$tool" ]; then
	if command -v podman >/dev/null 2>&1; then
		tool=podman
	elif command -v docker >/dev/null 2>&1; then
		tool=docker
	else
		echo "images/build.sh: neither podman nor docker is installed" >&2
		exit 127
	fi
fi

# --network=host: the build stages run apt-get, and on the machines this
# project uses podman's bridge is neither needed nor wanted.  docker's
# --pull is a yes/no flag whose "no" is its default.
pull=
[ "$tool" = podman ] && pull=--pull=never
set -x
"$tool" build --network=host $pull \
	--build-arg VERSION="$version" --build-arg REVISION="$revision" \
	-t "$tag" -f "$top/images/runner/Dockerfile" "$@" "$top"
set +x

# The build stage's image is kept by podman as a dangling image of some
# 400 MB; remove ours (by their label) so repeated builds do not pile up.
"$tool" image prune -f --filter label=org.example.jobrun.stage=build >/dev/null
