#!/bin/sh
# The git source against git itself, in one run: jobrun preparing a
# generated repository (5,000 files, 200 commits on one branch) and
# running one trivial step, against `git clone` of the same repository,
# over git:// (git daemon on 127.0.0.1) and from a path, full and with
# depth 1.  Prints hyperfine's medians and each jobrun's ratio to the
# matching git clone.
#
#   tests/bench/clone.sh [path/to/jobrun]   (needs hyperfine, git, python3)
#
# Everything is written under $TMPDIR (say which filesystem when quoting:
# checkout cost is file creation).  RUNS sets hyperfine's runs (default 10).
set -eu
jobrun=$(cd "$(dirname "${1:-./jobrun}")" && pwd)/$(basename "${1:-./jobrun}")
runs=${RUNS:-10}
tmp=$(mktemp -d)
daemon=
trap 'test -n "$daemon" && kill "$daemon"; rm -rf "$tmp"' EXIT
cd "$tmp"

# The repository: a first commit of 5,000 files of about 1 KiB in 50
# directories, then 199 commits changing 25 files each, through
# git fast-import so that making it takes seconds.
python3 - <<'PY' >stream
import random, sys
random.seed(7)
out = sys.stdout.buffer
words = [b"alpha", b"beta", b"gamma", b"delta", b"omega", b"kappa", b"sigma"]
def blob(i, rev):
    line = b" ".join(random.choice(words) for _ in range(12))
    return b"/* file %d rev %d */\n" % (i, rev) + (line + b"\n") * 14
def commit(n, files):
    out.write(b"commit refs/heads/main\n")
    out.write(b"committer Bench <bench@example.org> %d +0000\n" % (1700000000 + n))
    msg = b"Commit %d\n" % n
    out.write(b"data %d\n%s" % (len(msg), msg))
    for i, rev in files:
        data = blob(i, rev)
        out.write(b"M 644 inline d%02d/f%04d.c\ndata %d\n%s\n" % (i % 50, i, len(data), data))
commit(1, [(i, 0) for i in range(5000)])
for n in range(2, 201):
    commit(n, [(random.randrange(5000), n) for _ in range(25)])
PY
git init -q --bare -b main repo.git
git -C repo.git fast-import --quiet <stream
git -C repo.git gc -q
touch repo.git/git-daemon-export-ok
rm stream

port=$(python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
git daemon --reuseaddr --export-all --base-path="$tmp" --listen=127.0.0.1 \
	--port="$port" "$tmp" >/dev/null 2>&1 &
daemon=$!
sleep 1

url="git://127.0.0.1:$port/repo.git"
path=$tmp/repo.git
printf 'steps: [{name: noop, run: "true"}]\n' >noop.yaml
printf 'source: {type: git, url: "%s", depth: 1}\nsteps: [{name: noop, run: "true"}]\n' \
	"$url" >shallow.yaml

# bench NAME JOBRUN-COMMAND GIT-COMMAND: times both, fresh each run.
bench()
{
	hyperfine -N --style none --runs "$runs" --warmup 1 \
		--prepare "rm -rf $tmp/ws $tmp/clone" --export-json "$1.json" \
		-n "jobrun ($1)" "$2" -n "git clone ($1)" "$3" >/dev/null
}

run="$jobrun run --workspace $tmp/ws --source-type git"
bench git-full "$run --source-url $url noop.yaml" "git clone -q $url $tmp/clone"
bench git-depth1 "$jobrun run --workspace $tmp/ws shallow.yaml" \
	"git clone -q --depth 1 $url $tmp/clone"
bench path-full "$run --source-url $path noop.yaml" "git clone -q $path $tmp/clone"
bench file-full "$run --source-url file://$path noop.yaml" \
	"git clone -q --no-local file://$path $tmp/clone"

python3 - "$tmp" <<'PY'
import json, os, sys
tmp = sys.argv[1]
print("| transport | jobrun | git clone | ratio |")
print("|---|---|---|---|")
for name, label in [("git-full", "git://, full"), ("git-depth1", "git://, depth 1"),
                    ("path-full", "path (git: hard links)"),
                    ("file-full", "file:// (git: --no-local)")]:
    r = json.load(open(os.path.join(tmp, name + ".json")))["results"]
    j, g = r[0]["median"], r[1]["median"]
    print("| %s | %.0f ms | %.0f ms | %.2fx |" % (label, j * 1000, g * 1000, j / g))
PY
echo
echo "filesystem of $tmp: $(df -T "$tmp" | awk 'NR == 2 { print $2 }')"
"$jobrun" run --workspace "$tmp/ws2" --source-type git --source-url "$url" \
	shallow.yaml 2>&1 | grep -i 'depth' || true
