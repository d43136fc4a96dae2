#!/bin/sh
# The git source against git itself, side by side in one run: jobrun
# preparing a generated repository (5,000 files, 200 commits on one branch)
# and running one trivial step, against `git clone` of the same repository
# over the same transport: git:// (git daemon), smart HTTP (git
# http-backend behind tests/git-server.py), ssh (an sshd of its own on
# 127.0.0.1, when run as root) and a path; each full and at depth 1.
# Prints hyperfine's means and each jobrun's ratio to the matching git
# clone, and the libgit2 jobrun runs with.
#
#   tests/bench/clone.sh [path/to/jobrun]   (needs hyperfine, git, python3;
#                                            sshd for the ssh rows)
#
# Everything is written under $TMPDIR (say which filesystem when quoting:
# checkout cost is file creation).  RUNS sets hyperfine's runs (default 5).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
jobrun=$(cd "$(dirname "${1:-./jobrun}")" && pwd)/$(basename "${1:-./jobrun}")
runs=${RUNS:-5}
tmp=$(mktemp -d)
pids=
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT
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
mkdir served
git init -q --bare -b main served/repo.git
git -C served/repo.git fast-import --quiet <stream
git -C served/repo.git gc -q
touch served/repo.git/git-daemon-export-ok
rm stream

free_port()
{
	python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# git://
port=$(free_port)
git daemon --reuseaddr --export-all --base-path="$tmp/served" \
	--listen=127.0.0.1 --port="$port" "$tmp/served" >/dev/null 2>&1 &
pids="$pids $!"
git_url="git://127.0.0.1:$port/repo.git"

# smart HTTP
python3 "$here/../git-server.py" http "$tmp/served" "$tmp/http.port" \
	--lifetime 3600 &
pids="$pids $!"
i=0
while [ ! -s "$tmp/http.port" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
http_url="http://127.0.0.1:$(cat "$tmp/http.port")/repo.git"

# ssh: an sshd of our own, root only (it switches to the user it lets in).
ssh_url=
if [ "$(id -u)" = 0 ] && [ -x /usr/sbin/sshd ]; then
	mkdir -p -m 700 sshd && mkdir -p /run/sshd
	ssh-keygen -q -t ed25519 -N '' -f sshd/host_key
	ssh-keygen -q -t ed25519 -N '' -f sshd/id
	cp sshd/id.pub sshd/authorized_keys
	sport=$(free_port)
	cat >sshd/config <<CONF
ListenAddress 127.0.0.1
Port $sport
HostKey $tmp/sshd/host_key
AuthorizedKeysFile $tmp/sshd/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile none
CONF
	/usr/sbin/sshd -D -f sshd/config 2>/dev/null &
	pids="$pids $!"
	echo "[127.0.0.1]:$sport $(cut -d' ' -f1,2 sshd/host_key.pub)" >sshd/known_hosts
	ssh_url="ssh://$(id -un)@127.0.0.1:$sport$tmp/served/repo.git"
	ssh_git="ssh -i $tmp/sshd/id -o UserKnownHostsFile=$tmp/sshd/known_hosts -o StrictHostKeyChecking=yes"
	sleep 1
fi

# job NAME URL DEPTH: a job file preparing URL at DEPTH.
job()
{
	cat >"$1.yaml" <<YAML
source:
  type: git
  url: "$2"
  depth: $3
  ssh_key_file: $tmp/sshd/id
  known_hosts: $tmp/sshd/known_hosts
steps: [{name: noop, run: "true"}]
YAML
}

# bench NAME JOBRUN-JOB GIT-COMMAND: times both, fresh each run, one
# warm-up each.
bench()
{
	hyperfine -N --style none --runs "$runs" --warmup 1 \
		--prepare "rm -rf $tmp/ws $tmp/clone" --export-json "$1.json" \
		-n "jobrun ($1)" "$jobrun run --workspace $tmp/ws $2.yaml" \
		-n "git clone ($1)" "$3" >/dev/null
}

rows=
for transport in git http ssh path; do
	case $transport in
	git) url=$git_url ;;
	http) url=$http_url ;;
	ssh) url=$ssh_url ;;
	path) url=$tmp/served/repo.git ;;
	esac
	[ -n "$url" ] || continue
	for depth in 0 1; do
		name=$transport-$depth
		job "$name" "$url" "$depth"
		flags=
		[ "$depth" = 0 ] || flags="--depth 1"
		clone_url=$url
		# git ignores --depth for a plain path: a file:// URL is the
		# shallow clone it would make.
		[ "$transport" = path ] && [ "$depth" = 1 ] && clone_url=file://$url
		if [ "$transport" = ssh ]; then
			bench "$name" "$name" \
				"env 'GIT_SSH_COMMAND=$ssh_git' git clone -q $flags $clone_url $tmp/clone"
		else
			bench "$name" "$name" "git clone -q $flags $clone_url $tmp/clone"
		fi
		rows="$rows $name"
	done
done

python3 - "$tmp" $rows <<'PY'
import json, os, sys
tmp = sys.argv[1]
labels = {"git": "git://", "http": "smart HTTP", "ssh": "ssh", "path": "path"}
print("| transport | depth | jobrun | git clone | ratio |")
print("|---|---|---|---|---|")
for name in sys.argv[2:]:
    transport, depth = name.split("-")
    r = json.load(open(os.path.join(tmp, name + ".json")))["results"]
    j, g = r[0], r[1]
    print("| %s | %s | %.0f ± %.0f ms | %.0f ± %.0f ms | %.2fx |" % (
        labels[transport], "full" if depth == "0" else "1",
        j["mean"] * 1000, j["stddev"] * 1000,
        g["mean"] * 1000, g["stddev"] * 1000, j["mean"] / g["mean"]))
PY
echo
echo "filesystem of $tmp: $(df -T "$tmp" | awk 'NR == 2 { print $2 }'); $("$jobrun" --version | grep libgit2); $(git --version)"
