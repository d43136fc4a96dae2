#!/bin/sh
# A step's output through the real pipe path: `jobrun run` of a one-step
# job whose step is `cat FILE`, console to /dev/null, with 0, 1, 10, 100
# and 1,000 secrets (their encodings are always masked too), side by side
# with `cat FILE | cat` (the pipe's own limit), `cat FILE | tee LOG` (the
# same I/O as jobrun, which also writes the step's log file; but tee reads
# and writes 8 KiB at a time) and `cat FILE | dd of=LOG bs=64k` (the log
# write with jobrun's 64 KiB reads).  Prints medians (hyperfine) and the
# ratio of each to the baselines.
#
#   tests/bench/pipe.sh [JOBRUN [GIB]]    (needs hyperfine, python3)
#
# FILE is GIB GiB (default 1) of generated log-like text, made once and
# kept in $TMPDIR/jobrun-pipe-bench (delete it to regenerate), with the
# first secret in it about every 64 KiB so the matching path runs too.
# RUNS (default 5) runs of each, after one warm-up.
set -eu
jobrun=$(realpath "${1:-./jobrun}")
gib=${2:-1}
runs=${RUNS:-5}
dir=${TMPDIR:-/tmp}/jobrun-pipe-bench
mkdir -p "$dir"
cd "$dir"

# 1,000 secrets: seeded random alphanumeric tokens of 20 to 40 characters.
python3 - "$gib" <<'PY'
import os, random, sys
gib = float(sys.argv[1])
rng = random.Random(1)
alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
secrets = ["".join(rng.choice(alnum) for _ in range(rng.randint(20, 40)))
           for _ in range(1000)]
for n in (1, 10, 100, 1000):
    with open(f"secrets-{n}.txt", "w") as f:
        f.write("".join(s + "\n" for s in secrets[:n]))
want = int(gib * (1 << 30))
if os.path.exists("log.txt") and os.path.getsize("log.txt") == want:
    sys.exit(0)
words = ("build test deploy cache fetch compile link warning info debug "
         "error retry upload artifact layer image pull push step runner "
         "module package resolve download verify checksum").split()
lines, size = [], 0
while size < 16 << 20:
    t = rng.randrange(86400)
    line = "2026-11-22T%02d:%02d:%02d.%03dZ %s %s /src/%s/%s.c:%d id=%016x" % (
        t // 3600, t // 60 % 60, t % 60, rng.randrange(1000),
        rng.choice(words).upper(), " ".join(rng.choice(words) for _ in
        range(rng.randint(3, 12))), rng.choice(words), rng.choice(words),
        rng.randrange(2000), rng.getrandbits(64))
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
hyperfine --warmup 1 --runs "$runs" --export-json "$dir/h.json" "$@" \
	>/dev/null

python3 - "$dir/h.json" "$gib" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
gib = float(sys.argv[2])
names = ["`cat \\| cat`", "`cat \\| tee LOG`", "`cat \\| dd of=LOG bs=64k`",
    "jobrun, 0 secrets", "jobrun, 1 secret"] + \
    [f"jobrun, {n} secrets" for n in (10, 100, "1,000")]
cat, tee, dd = (results[i]["median"] for i in range(3))
print("| command | median | GB/s | vs cat\\|cat | vs cat\\|tee | vs cat\\|dd |")
print("|---|---|---|---|---|---|")
for name, r in zip(names, results):
    m = r["median"]
    print(f"| {name} | {m*1000:.0f} ms | {gib*(1<<30)/m/1e9:.2f} | "
          f"{m/cat:.2f}x | {m/tee:.2f}x | {m/dd:.2f}x |")
PY
