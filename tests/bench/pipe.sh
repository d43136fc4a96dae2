#!/bin/sh
# A step's output through the real pipe path: `jobrun run` of a one-step
# job whose step is `cat FILE`, console to /dev/null, with 0, 1, 10, 100
# and 1,000 secrets (all their forms are always masked too), side by side
# in one hyperfine run with `cat FILE | cat` (the pipe's own limit),
# `cat FILE | tee LOG` (the same I/O as jobrun, which also writes the
# step's log file; but tee reads and writes 8 KiB at a time) and
# `cat FILE | dd of=LOG bs=64k` (the log write with jobrun's 64 KiB
# reads).  Prints means and medians, the ratio of each to the baselines,
# and the cost of 1,000 secrets against none.  Given a second jobrun
# (another build, e.g. the commit before a change), its runs with 0 and
# 1,000 secrets go in the same hyperfine run, after the first's, and the
# cost of 1,000 secrets is printed for each.
#
#   tests/bench/pipe.sh [JOBRUN [MB [OTHER_JOBRUN]]]
#                                        (needs hyperfine, python3)
#
# FILE is MB megabytes (default 200) of generated log-like text: lines of
# random lower-case words and numbers, made once and kept in
# $TMPDIR/jobrun-pipe-bench (delete it to regenerate), with the first
# secret in it about every 64 KiB so the matching path runs too.  RUNS
# (default 7) runs of each, after one warm-up.
set -eu
jobrun=$(realpath "${1:-./jobrun}")
mb=${2:-200}
other=
if [ -n "${3:-}" ]; then
	other=$(realpath "$3")
fi
runs=${RUNS:-7}
dir=${TMPDIR:-/tmp}/jobrun-pipe-bench
mkdir -p "$dir"
cd "$dir"

# 1,000 secrets: seeded random alphanumeric tokens of 20 to 40 characters.
python3 - "$mb" <<'PY'
import os, random, sys
mb = float(sys.argv[1])
rng = random.Random(1)
alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
secrets = ["".join(rng.choice(alnum) for _ in range(rng.randint(20, 40)))
           for _ in range(1000)]
for n in (1, 10, 100, 1000):
    with open(f"secrets-{n}.txt", "w") as f:
        f.write("".join(s + "\n" for s in secrets[:n]))
want = int(mb * 1000 * 1000)
if os.path.exists("log.txt") and os.path.getsize("log.txt") == want:
    sys.exit(0)
lower = "abcdefghijklmnopqrstuvwxyz"
def token():
    if rng.random() < 0.3:
        return str(rng.randrange(10 ** rng.randint(1, 9)))
    return "".join(rng.choice(lower) for _ in range(rng.randint(2, 10)))
lines, size = [], 0
while size < 16 << 20:
    line = " ".join(token() for _ in range(rng.randint(4, 16)))
    if size // 65536 != (size + len(line) + 1) // 65536:
        line += " token=" + secrets[0]
    lines.append(line)
    size += len(line) + 1
block = ("\n".join(lines) + "\n").encode()
with open("log.txt", "wb") as f:
    left = want
    while left > 0:
        f.write(block[:left])
        left -= min(left, len(block))
PY

# Each run removes the LOG of the last, as jobrun does with the step logs
# of the job before: truncating it instead would make ext4 write the old
# file back first (auto_da_alloc) and cost seconds.
set -- "cat log.txt | cat > /dev/null" \
	"rm -f tee.log; cat log.txt | tee tee.log > /dev/null" \
	"rm -f dd.log; cat log.txt | dd of=dd.log bs=64k status=none"
jobrun_cmd="$jobrun run -j1 --workspace $dir/ws --job-dir $dir --job-command 'cat log.txt' > /dev/null"
set -- "$@" "$jobrun_cmd"
for n in 1 10 100 1000; do
	set -- "$@" "REACTORCIDE_SECRET_VALUES_LIST=$dir/secrets-$n.txt $jobrun_cmd"
done
if [ -n "$other" ]; then
	other_cmd="$other run -j1 --workspace $dir/ws --job-dir $dir --job-command 'cat log.txt' > /dev/null"
	set -- "$@" "$other_cmd" \
		"REACTORCIDE_SECRET_VALUES_LIST=$dir/secrets-1000.txt $other_cmd"
fi
hyperfine --warmup 1 --runs "$runs" --export-json "$dir/h.json" "$@" \
	>/dev/null

python3 - "$dir/h.json" "$mb" "$other" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
mb = float(sys.argv[2])
names = ["`cat \\| cat`", "`cat \\| tee LOG`", "`cat \\| dd of=LOG bs=64k`",
    "jobrun, 0 secrets", "jobrun, 1 secret"] + \
    [f"jobrun, {n} secrets" for n in (10, 100, "1,000")]
if sys.argv[3]:
    names += ["other jobrun, 0 secrets", "other jobrun, 1,000 secrets"]
cat, tee, dd = (results[i]["mean"] for i in range(3))
print("| command | mean | median | MB/s (mean) | vs cat\\|cat | vs cat\\|tee | vs cat\\|dd |")
print("|---|---|---|---|---|---|---|")
for name, r in zip(names, results):
    m = r["mean"]
    print(f"| {name} | {m*1000:.0f} ms | {r['median']*1000:.0f} ms | "
          f"{mb/m:.0f} | {m/cat:.2f}x | {m/tee:.2f}x | {m/dd:.2f}x |")
print("\n| command | user | sys |\n|---|---|---|")
for name, r in zip(names, results):
    print(f"| {name} | {r['user']*1000:.0f} ms | {r['system']*1000:.0f} ms |")
pairs = [("jobrun", results[3], results[7])]
if sys.argv[3]:
    pairs.append(("other jobrun", results[8], results[9]))
for name, none, full in pairs:
    cpu = (full["user"] + full["system"]) / (none["user"] + none["system"])
    print(f"\n{name}: 1,000 secrets with their forms vs none: "
          f"{full['mean']/none['mean']:.2f}x (means), "
          f"{full['median']/none['median']:.2f}x (medians), {cpu:.2f}x (CPU), "
          f"{len(none['times'])} runs each")
PY
