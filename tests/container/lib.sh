# tests/container/lib.sh: sourced by every container suite script instead
# of tests/lib.sh (which it sources).  Takes the image from JOBRUN_IMAGE
# before tests/lib.sh clears JOBRUN_* (default: localhost/jobrun:VERSION),
# sets JOBRUN_IMAGE, brings in podman's environment, and ends the script
# with a skip (or a bail-out under JOBRUN_CONTAINER_REQUIRED=1) when podman
# or the image is not there.
image=${JOBRUN_IMAGE:-}
podman_env=${JOBRUN_PODMAN_ENV:-/var/tmp/jobrun-podman/env.sh}
required=${JOBRUN_CONTAINER_REQUIRED:-0}
: "${JOBRUN_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$JOBRUN_SRCDIR/tests/lib.sh"

version=$(sed -n 's/^AC_INIT(\[jobrun\], \[\([^]]*\)\].*/\1/p' \
	"$JOBRUN_SRCDIR/configure.ac")
JOBRUN_IMAGE=${image:-localhost/jobrun:$version}
# shellcheck disable=SC1090
[ -f "$podman_env" ] && . "$podman_env"

# unavailable REASON: ends the suite, skipped or failed as asked.
unavailable()
{
	if [ "$required" = 1 ]; then
		echo "Bail out! $1"
		exit 1
	fi
	echo "1..0 # SKIP $1"
	exit 0
}
command -v podman >/dev/null 2>&1 || unavailable "podman is not installed"
podman image exists "$JOBRUN_IMAGE" ||
	unavailable "no image $JOBRUN_IMAGE: run 'make image' first"
