#!/bin/sh
# Start-up cost of jobrun on a one-step job, side by side with the floor:
# the same step run by `sh -c` directly.  Reports medians (hyperfine) and
# the peak RSS of jobrun itself (GNU time).
#
#   tests/bench/startup.sh [path/to/jobrun]
#
# Needs hyperfine and /usr/bin/time (Debian: hyperfine, time).
set -eu
jobrun=${1:-./jobrun}
runs=${RUNS:-300}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/one.yaml" <<'YAML'
steps: [{name: one, run: "true"}]
YAML

hyperfine -N --warmup 20 --runs "$runs" --export-json "$tmp/h.json" \
	"sh -c true" \
	"$jobrun run --job-command true" \
	"$jobrun run $tmp/one.yaml" >/dev/null 2>&1

python3 - "$tmp/h.json" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
base = results[0]["median"]
print(f"{'command':60} {'median':>10} {'ratio':>7}")
for r in results:
    print(f"{r['command'][-60:]:60} {r['median']*1000:8.3f}ms {r['median']/base:6.2f}x")
PY

for cmd in "sh -c true" "$jobrun run --job-command true" "$jobrun run $tmp/one.yaml"; do
	# GNU time writes its report after the command's own standard error;
	# ru_maxrss covers the command and the children it waited for.
	/usr/bin/time -v $cmd >/dev/null 2>"$tmp/err" || true
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/err")
	printf '%-60s peak RSS %s KiB\n' "$(echo "$cmd" | tail -c 60)" "$rss"
done
