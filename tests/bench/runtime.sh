#!/bin/sh
# jobrun run --runtime podman against podman run, side by side in one run:
#   1. examples/hello: `jobrun run --runtime podman --image IMAGE` (create,
#      start + attach with the bundle, copy the results out, remove)
#      against `podman run --rm` of the same image and job file (the job
#      reading its file from a bind mount); medians of RUNS rounds, the two
#      variants alternating so that a busy machine slows both alike;
#   2. from the command to the first line of the first step, cached image;
#   3. N runs at once (default 50): every result collected, no container
#      left, and the wall time.
# Several jobrun binaries (say the last commit's and this tree's) are
# compared in one run: each round runs podman, then each jobrun in turn;
# 2 and 3 use the last one.
#
#   tests/bench/runtime.sh [IMAGE [path/to/jobrun ...]]
#
# Needs podman (images/README.md), python3.  Ratios are more telling than
# the figures on a shared machine.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
version=$(sed -n 's/^AC_INIT(\[jobrun\], \[\([^]]*\)\].*/\1/p' "$top/configure.ac")
image=${1:-localhost/jobrun:$version}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] || set -- ./jobrun
# Absolute paths: the runs happen in a temporary directory.
jobruns=
for j in "$@"; do
	jobruns="$jobruns $(cd "$(dirname "$j")" && pwd)/$(basename "$j")"
done
jobrun=${jobruns##* }
runs=${RUNS:-10}
many=${MANY:-50}
# shellcheck disable=SC1091
[ -f /var/tmp/jobrun-podman/env.sh ] && . /var/tmp/jobrun-podman/env.sh
tmp=$(mktemp -d)
trap 'podman rm -f $(podman ps -aq --filter "name=^jobrun-bench$$") >/dev/null 2>&1; rm -rf "$tmp"' EXIT
cd "$tmp"
cp "$top/examples/hello/job.yaml" job.yaml

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# elapsed CMD...: runs CMD (output discarded), prints its wall time in ms.
elapsed()
{
	t0=$(date +%s%N)
	"$@" >/dev/null 2>&1 || echo "failed: $*" >&2
	echo $((($(date +%s%N) - t0) / 1000000))
}

echo "== 1. examples/hello, median of $runs"
: >podman.ms
i=0
while [ $i -lt "$runs" ]; do
	elapsed podman run --rm --network=none -v "$tmp:/mnt/jobrun/job:ro" "$image" \
		run --no-local /mnt/jobrun/job/job.yaml >>podman.ms
	n=0
	for j in $jobruns; do
		elapsed "$j" run --runtime podman --image "$image" \
			--run-id "bench$$-$n-$i" job.yaml >>"jobrun$n.ms"
		n=$((n + 1))
	done
	i=$((i + 1))
done
p=$(median <podman.ms)
printf '%-45s %8s ms\n' "podman run --rm IMAGE run job.yaml" "$p"
n=0
for j in $jobruns; do
	m=$(median <"jobrun$n.ms")
	printf '%-45s %8s ms  %sx\n' "$j run --runtime podman job.yaml" "$m" \
		"$(echo "scale=2; $m / $p" | bc)"
	n=$((n + 1))
done

echo "== 2. command to the first step's first line, median of $runs"
: >first.ms
i=0
while [ $i -lt "$runs" ]; do
	python3 - "$jobrun" "$image" "bench$$-f$i" >>first.ms <<'PY'
import subprocess, sys, time
t0 = time.monotonic()
p = subprocess.Popen([sys.argv[1], "run", "--runtime", "podman", "--image",
    sys.argv[2], "--run-id", sys.argv[3], "job.yaml"],
    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
for line in p.stdout:
    if line.startswith(b"[greet]"):
        print(int((time.monotonic() - t0) * 1000))
        break
p.stdout.read()
p.wait()
PY
	i=$((i + 1))
done
printf '%-45s %8s ms\n' "to the first line of step greet" "$(median <first.ms)"

echo "== 3. $many runs at once"
t0=$(date +%s%N)
i=0
while [ $i -lt "$many" ]; do
	mkdir "m$i"
	cp job.yaml "m$i/"
	(cd "m$i" && "$jobrun" run --runtime podman --image "$image" \
		--run-id "bench$$-m$i" job.yaml >out 2>err; echo $? >status) &
	i=$((i + 1))
done
wait
wall=$((($(date +%s%N) - t0) / 1000000))
ok=$(cat m*/status | grep -cx 0 || true)
collected=$(grep -l '"outcome": "success"' m*/.jobrun/result.json 2>/dev/null | wc -l)
left=$(podman ps -aq --filter "name=^jobrun-bench$$" | wc -l)
printf '%s runs: %s succeeded, %s results collected, %s containers left, %s ms\n' \
	"$many" "$ok" "$collected" "$left" "$wall"
