#!/bin/sh
# Per-step overhead of jobrun, side by side with two baselines in one run:
# a C loop that posix_spawns "sh -c true" N times (the floor for running N
# steps one after another) and GNU make running the same graph from a
# generated Makefile.  Then scheduling cost at 100, 1,000 and 10,000 steps.
#
#   tests/bench/steps.sh [path/to/jobrun]      (needs hyperfine, make, cc)
#
# The workspace is on the filesystem of $TMPDIR (say which when quoting).
set -eu
jobrun=$(cd "$(dirname "${1:-./jobrun}")" && pwd)/$(basename "${1:-./jobrun}")
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
cc -O2 -o spawnloop "$here/spawnloop.c"

# make_jobs N: writes chain-N.yaml, par-N.yaml, chain-N.mk and par-N.mk.
make_jobs()
{
	n=$1
	{
		echo "steps:"
		i=0
		while [ $i -lt "$n" ]; do
			if [ $i -eq 0 ]; then
				echo "  - {name: s$i, run: \"true\"}"
			else
				echo "  - {name: s$i, run: \"true\", depends_on: [s$((i - 1))]}"
			fi
			i=$((i + 1))
		done
	} >chain-$n.yaml
	sed 's/, depends_on: \[s[0-9]*\]//' chain-$n.yaml >par-$n.yaml
	{
		printf 'all: s%d\n' $((n - 1))
		i=0
		while [ $i -lt "$n" ]; do
			if [ $i -eq 0 ]; then printf 's0:\n\tsh -c true\n'
			else printf 's%d: s%d\n\tsh -c true\n' $i $((i - 1)); fi
			i=$((i + 1))
		done
		echo ".PHONY: all $(seq -f 's%g' 0 $((n - 1)) | tr '\n' ' ')"
	} >chain-$n.mk
	{
		printf 'all:'
		seq -f ' s%g' 0 $((n - 1)) | tr -d '\n'
		printf '\n'
		i=0
		while [ $i -lt "$n" ]; do
			printf 's%d:\n\tsh -c true\n' $i
			i=$((i + 1))
		done
		echo ".PHONY: all $(seq -f 's%g' 0 $((n - 1)) | tr '\n' ' ')"
	} >par-$n.mk
}

for n in 100 1000 10000; do make_jobs $n; done

echo "== 1,000 trivial steps (medians of 10 runs) =="
hyperfine -N --warmup 2 --runs 10 --export-json h1.json \
	"./spawnloop 1000" \
	"$jobrun run -j1 --workspace $tmp/ws --code-dir $tmp chain-1000.yaml" \
	"make -s -j1 -f chain-1000.mk" \
	"$jobrun run -j2 --workspace $tmp/ws --code-dir $tmp chain-1000.yaml" \
	"$jobrun run -j2 --workspace $tmp/ws --code-dir $tmp par-1000.yaml" \
	"make -s -j2 -f par-1000.mk" >/dev/null 2>&1
python3 - h1.json <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
base = r[0]["median"]
for x in r:
    words = x["command"].split()
    name = x["command"] if "jobrun" not in words[0] else \
        "jobrun run " + words[2] + " " + words[-1]
    print(f"{name:40} {x['median']*1000:9.1f} ms  {x['median']/base:5.2f}x the spawn loop")
PY

echo "== scheduling cost per step (jobrun -j2, chain and fully parallel) =="
for shape in chain par; do
	for n in 100 1000 10000; do
		runs=10; [ $n -eq 10000 ] && runs=3
		hyperfine -N --runs $runs --export-json h.json \
			"$jobrun run -j2 --workspace $tmp/ws --code-dir $tmp $shape-$n.yaml" >/dev/null 2>&1
		python3 -c "import json; m = json.load(open('h.json'))['results'][0]['median']; print(f'$shape {$n:>6} steps: {m*1000:9.1f} ms total, {m/$n*1e6:7.1f} us per step')"
	done
done
