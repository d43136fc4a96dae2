#!/bin/sh
# Start-up cost of jobrun on a one-step job, side by side with the floor:
# the same step run by `sh -c` directly.  Several jobrun binaries (say the
# last release and this tree) are compared in one run.  Reports medians
# (hyperfine), the peak RSS (GNU time: jobrun and the sh it waits for) and
# the instructions of every process (callgrind, steady on a busy machine).
#
#   tests/bench/startup.sh [path/to/jobrun ...]
#
# Needs hyperfine, /usr/bin/time and valgrind (Debian: hyperfine, time,
# valgrind).
set -eu
[ $# -gt 0 ] || set -- ./jobrun
runs=${RUNS:-300}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/one.yaml" <<'YAML'
steps: [{name: one, run: "true"}]
YAML

# One command a line: the floor, then each jobrun (paths without spaces).
cmds=$tmp/cmds
echo "sh -c true" >"$cmds"
for j in "$@"; do
	echo "$j run --job-command true" >>"$cmds"
done

(cd "$tmp" && mkdir -p ws/src)
export JOBRUN_WORKSPACE="$tmp/ws" JOBRUN_CODE_DIR="$tmp/ws/src"
set --
while read -r c; do set -- "$@" "$c"; done <"$cmds"
hyperfine -N --warmup 20 --runs "$runs" --export-json "$tmp/h.json" \
	"$@" >/dev/null 2>&1

python3 - "$tmp/h.json" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
base = results[0]["median"]
print(f"{'command':60} {'median':>10} {'ratio':>7}")
for r in results:
    print(f"{r['command'][-60:]:60} {r['median']*1000:8.3f}ms {r['median']/base:6.2f}x")
PY

for cmd in "$@"; do
	# GNU time writes its report after the command's own standard error;
	# ru_maxrss covers the command and the children it waited for.
	/usr/bin/time -v $cmd >/dev/null 2>"$tmp/err" || true
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/err")
	rm -f "$tmp"/cg.*
	valgrind --tool=callgrind --trace-children=yes \
		--callgrind-out-file="$tmp/cg.%p" $cmd >/dev/null 2>&1 || true
	# A forked child's profile starts with its parent's counts: the
	# total is the largest profile plus those of exec'd programs.
	ir=$(for f in "$tmp"/cg.*; do
		printf '%s %s\n' "$(sed -n 's/^cmd: *//p' "$f" | head -1 | cut -d' ' -f1)" \
			"$(sed -n 's/^summary: *//p' "$f")"
	done | awk '{ if ($1 ~ /jobrun$/) { if ($2 > j) j = $2 } else o += $2 }
		END { print j + o }')
	printf '%-60s peak RSS %6s KiB %12s instructions\n' \
		"$(echo "$cmd" | tail -c 60)" "$rss" "$ir"
done
