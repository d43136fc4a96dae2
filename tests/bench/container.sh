#!/bin/sh
# The runner image against its baselines, in one run:
#   1. the image's size, and its base's;
#   2. a whole `podman run` of a one-step job (`true`) against `podman
#      run` of `true` itself in the same image;
#   3. start to first step: from just before `podman run` to the moment
#      the job's first step runs (it prints `date +%s%N`), against the
#      moment a bare `date` runs as the container's own process;
#   4. the job's overhead inside the container: the same jobs (a chain of
#      1,000 trivial steps, and examples/hello) run by jobrun in the
#      container and by the same jobrun sources built on the machine, as
#      timed by jobrun itself (result.json's duration_ms; runs alternate
#      between the two, so that a busy machine slows both alike);
#   5. the CPU time (user + system) of the chain, both ways.
#
#   tests/bench/container.sh [IMAGE [path/to/jobrun]]
#
# Needs podman (see images/README.md), python3 and bc.  The workspaces
# are under $TMPDIR (say which file system when quoting).  Each round runs
# every variant once, so a machine that gets busier slows them alike.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
version=$(sed -n 's/^AC_INIT(\[jobrun\], \[\([^]]*\)\].*/\1/p' "$top/configure.ac")
image=${1:-localhost/jobrun:$version}
jobrun=$(cd "$(dirname "${2:-./jobrun}")" && pwd)/$(basename "${2:-./jobrun}")
runs=${RUNS:-30}
# shellcheck disable=SC1091
[ -f /var/tmp/jobrun-podman/env.sh ] && . /var/tmp/jobrun-podman/env.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
run="podman run --rm --network=none"

# median: of the numbers on standard input, one a line.
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "== 1. size"
base=$(podman image inspect --format '{{index .Labels "org.opencontainers.image.base.name"}}' "$image")
for i in "$image" "$base"; do
	printf '%-50s %s bytes\n' "$i" "$(podman image inspect --format '{{.Size}}' "$i")"
done

# ms T0 T1: milliseconds between two `date +%s%N` readings.
ms() { echo "($2 - $1) / 1000000" | bc -l; }

echo "== 2, 3. podman run (median of $runs, the four runs of a round in turn)"
i=0
while [ $i -lt "$runs" ]; do
	t0=$(date +%s%N)
	$run --entrypoint true "$image"
	t1=$(date +%s%N)
	ms "$t0" "$t1" >>whole-true.ms
	t0=$(date +%s%N)
	$run "$image" run --job-command true 2>/dev/null
	t1=$(date +%s%N)
	ms "$t0" "$t1" >>whole-jobrun.ms
	t0=$(date +%s%N)
	t1=$($run --entrypoint date "$image" +%s%N)
	ms "$t0" "$t1" >>first-bare.ms
	t0=$(date +%s%N)
	t1=$($run -e REACTORCIDE_JOB_COMMAND='date +%s%N' "$image" 2>/dev/null)
	ms "$t0" "$t1" >>first-step.ms
	i=$((i + 1))
done
# report NAME FILE: the median and the minimum of FILE's milliseconds.
report()
{
	printf '%-50s median %7.1f ms  min %7.1f ms\n' "$1" \
		"$(median <"$2")" "$(sort -n "$2" | head -1)"
}
report "whole: podman run --entrypoint true IMAGE" whole-true.ms
report "whole: podman run IMAGE run --job-command true" whole-jobrun.ms
report "start to the container's own process (date)" first-bare.ms
report "start to jobrun's first step (date)" first-step.ms
# Each round's own difference, so that the machine's drift cancels out.
paste whole-jobrun.ms whole-true.ms | awk '{ print $1 - $2 }' >whole-cost.ms
paste first-step.ms first-bare.ms | awk '{ print $1 - $2 }' >first-cost.ms
report "jobrun's cost, whole (per round)" whole-cost.ms
report "jobrun's cost, to the first step (per round)" first-cost.ms

echo "== 4. the job inside the container and on the machine (jobrun's duration_ms, median of $runs, interleaved)"
mkdir -p ci
{
	echo "steps:"
	echo "  - {name: s0, run: \"true\"}"
	i=1
	while [ $i -lt 1000 ]; do
		echo "  - {name: s$i, run: \"true\", depends_on: [s$((i - 1))]}"
		i=$((i + 1))
	done
} >ci/chain.yaml
cp "$top/examples/hello/job.yaml" ci/hello.yaml
# on WHERE JOB: runs JOB once and appends jobrun's duration_ms to
# WHERE-JOB.ms.  On the machine jobrun gets the environment a container
# gets (PATH, HOME), so the steps' environments are the same size.
on()
{
	rm -rf ws && mkdir -p ws/src
	if [ "$1" = machine ]; then
		(cd ws/src && env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root "$jobrun" run -j1 --workspace "$tmp/ws" \
			"$tmp/ci/$2.yaml" >/dev/null 2>&1)
	else
		$run -v "$tmp/ws:/job" -v "$tmp/ci:/job/ci:ro" "$image" \
			run -j1 "/job/ci/$2.yaml" >/dev/null 2>&1
	fi
	python3 -c 'import json; print(json.load(open("ws/result.json"))["duration_ms"])' >>"$1-$2.ms"
}
for job in chain hello; do
	i=0
	while [ $i -lt "$runs" ]; do
		on machine $job
		on container $job
		i=$((i + 1))
	done
	m=$(median <"machine-$job.ms")
	c=$(median <"container-$job.ms")
	printf '%-6s median: machine %6s ms, container %6s ms, ratio %.2f;' \
		"$job" "$m" "$c" "$(echo "$c / $m" | bc -l)"
	printf ' min: machine %s ms, container %s ms\n' \
		"$(sort -n "machine-$job.ms" | head -1)" \
		"$(sort -n "container-$job.ms" | head -1)"
done

echo "== 5. CPU time of the chain: user + system of jobrun and its steps (median of $runs, interleaved)"
# A shell runs jobrun and reads its own children's times (fields 16 and
# 17 of /proc/self/stat, in clock ticks), in the container as on the
# machine; CPU time is what a busy machine disturbs least.  Here jobrun
# is not PID 1 but the shell's child, alike in both places.
ticks=$(getconf CLK_TCK)
cpu_script='jobrun=$1; shift; "$jobrun" run -j1 "$@" >/dev/null 2>&1; set -- $(cat /proc/$$/stat); echo $((${16} + ${17}))'
i=0
: >machine-cpu.ticks
: >container-cpu.ticks
while [ $i -lt "$runs" ]; do
	rm -rf ws && mkdir -p ws/src
	(cd ws/src && env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root sh -c "$cpu_script" sh "$jobrun" --workspace "$tmp/ws" \
		"$tmp/ci/chain.yaml") >>machine-cpu.ticks
	rm -rf ws && mkdir -p ws/src
	$run -v "$tmp/ws:/job" -v "$tmp/ci:/job/ci:ro" --entrypoint sh "$image" \
		-c "$cpu_script" sh jobrun /job/ci/chain.yaml >>container-cpu.ticks
	i=$((i + 1))
done
m=$(median <machine-cpu.ticks)
c=$(median <container-cpu.ticks)
printf 'chain  CPU: machine %.0f ms, container %.0f ms, ratio %.2f\n' \
	"$(echo "$m * 1000 / $ticks" | bc -l)" "$(echo "$c * 1000 / $ticks" | bc -l)" \
	"$(echo "$c / $m" | bc -l)"
