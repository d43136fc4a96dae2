# tests/git-lib.sh: sourced after tests/lib.sh by the git source's tests.
# Makes repositories with the git program (the tests may use it; jobrun
# may not) and serves them on 127.0.0.1: git daemon (git://) and
# git http-backend behind tests/git-server.py (smart HTTP).  Every server
# is stopped when the test exits.

GIT_SERVER=$JOBRUN_SRCDIR/tests/git-server.py
_servers=""
trap 'for _p in $_servers; do kill "$_p" 2>/dev/null; done; rm -rf "$TEST_DIR"' EXIT

# No configuration of the machine or the user leaks into git or jobrun.
HOME=$TEST_DIR/home
mkdir -p "$HOME"
GIT_CONFIG_NOSYSTEM=1
GIT_AUTHOR_NAME="Ada Tester"
GIT_AUTHOR_EMAIL=ada@example.org
GIT_COMMITTER_NAME="Ada Tester"
GIT_COMMITTER_EMAIL=ada@example.org
export HOME GIT_CONFIG_NOSYSTEM GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL \
	GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL

# skip_all REASON: the whole test is skipped.
skip_all()
{
	echo "1..0 # SKIP $1"
	exit 0
}

# need_git: skips the test when git is not installed.
need_git()
{
	command -v git >/dev/null 2>&1 || skip_all "git is not installed"
}

# git_quiet ARGS...: git without its chatter.
git_quiet() { git "$@" >/dev/null 2>&1; }

# free_port: prints a TCP port on 127.0.0.1 that nothing listens on.
free_port()
{
	"$PYTHON3" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_port PORT: waits up to 5 s until something listens on PORT.
wait_port()
{
	"$PYTHON3" - "$1" <<'PY'
import socket, sys, time
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
PY
}

# start_daemon DIR: serves the repositories under DIR over git://; sets
# DAEMON_PORT.
start_daemon()
{
	DAEMON_PORT=$(free_port)
	git daemon --reuseaddr --export-all --base-path="$1" \
		--listen=127.0.0.1 --port="$DAEMON_PORT" "$1" \
		>/dev/null 2>&1 &
	_servers="$_servers $!"
	wait_port "$DAEMON_PORT"
}

# wait_for_file FILE: waits up to 5 s for a server to write FILE (its port).
wait_for_file()
{
	_i=0
	while [ ! -s "$1" ] && [ $_i -lt 100 ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
}

# start_http DIR [OPTIONS]: serves DIR over smart HTTP; sets HTTP_PORT.
start_http()
{
	_root=$1
	shift
	rm -f "$TEST_DIR/http.port"
	"$PYTHON3" "$GIT_SERVER" http "$_root" "$TEST_DIR/http.port" "$@" &
	_servers="$_servers $!"
	wait_for_file "$TEST_DIR/http.port"
	HTTP_PORT=$(cat "$TEST_DIR/http.port")
}

# start_blackhole: a server that accepts and never answers; sets
# BLACKHOLE_PORT.
start_blackhole()
{
	rm -f "$TEST_DIR/hole.port"
	"$PYTHON3" "$GIT_SERVER" blackhole "$TEST_DIR/hole.port" &
	_servers="$_servers $!"
	wait_for_file "$TEST_DIR/hole.port"
	BLACKHOLE_PORT=$(cat "$TEST_DIR/hole.port")
}

# make_repo DIR: a repository with history and every kind of ref:
#   main (default, 3 commits), dev, a lightweight tag v1, an annotated tag
#   v2, refs/pull/7/head and refs/merge-requests/9/head (each on a commit
#   of its own).
make_repo()
{
	git_quiet init -b main "$1"
	(
		cd "$1" || exit 1
		echo one >README
		mkdir -p src && printf 'int main(void) { return 0; }\n' >src/main.c
		git_quiet add . && git_quiet commit -m "First commit"
		git_quiet tag v1
		echo two >>README && git_quiet commit -am "Second commit"
		git_quiet tag -a v2 -m "Release 2"
		git_quiet checkout -b dev
		echo dev >dev.txt && git_quiet add dev.txt &&
			git_quiet commit -m "Work on dev"
		git_quiet checkout -b pr main
		echo pr >pr.txt && git_quiet add pr.txt &&
			git_quiet commit -m "Pull request seven"
		git update-ref refs/pull/7/head HEAD
		git_quiet checkout -b mr main
		echo mr >mr.txt && git_quiet add mr.txt &&
			git_quiet commit -m "Merge request nine"
		git update-ref refs/merge-requests/9/head HEAD
		git_quiet checkout main
		git_quiet branch -D pr mr
		echo three >>README && git_quiet commit -am "Third commit on main"
	)
}

# bare_copy SRC DEST: a bare repository with all of SRC's refs, to serve.
bare_copy()
{
	git_quiet clone --mirror "$1" "$2"
	touch "$2/git-daemon-export-ok"
}

# start_sshd: an sshd (openssh-server) on 127.0.0.1 with an ed25519 host
# key, letting this user in with the key $SSH_DIR/id_ed25519 only; sets
# SSH_PORT, SSH_USER, SSH_DIR and SSH_KNOWN_HOSTS (a known_hosts file
# listing the host key as "[127.0.0.1]:PORT").  Skips the test when sshd
# or ssh-keygen is missing or sshd does not come up.
start_sshd()
{
	[ -x /usr/sbin/sshd ] || skip_all "sshd is not installed (openssh-server)"
	command -v ssh-keygen >/dev/null 2>&1 ||
		skip_all "ssh-keygen is not installed (openssh-client)"
	SSH_DIR=$TEST_DIR/sshd
	SSH_USER=$(id -un)
	mkdir -p "$SSH_DIR" && chmod 700 "$SSH_DIR"
	ssh-keygen -q -t ed25519 -N '' -C host -f "$SSH_DIR/host_key"
	ssh-keygen -q -t ed25519 -N '' -C jobrun-test -f "$SSH_DIR/id_ed25519"
	cp "$SSH_DIR/id_ed25519.pub" "$SSH_DIR/authorized_keys"
	SSH_PORT=$(free_port)
	cat >"$SSH_DIR/sshd_config" <<CONF
ListenAddress 127.0.0.1
Port $SSH_PORT
HostKey $SSH_DIR/host_key
AuthorizedKeysFile $SSH_DIR/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
PidFile none
CONF
	[ "$(id -u)" = 0 ] && mkdir -p /run/sshd
	/usr/sbin/sshd -D -e -f "$SSH_DIR/sshd_config" 2>"$SSH_DIR/log" &
	_servers="$_servers $!"
	wait_port "$SSH_PORT" ||
		skip_all "sshd did not start: $(head -c 200 "$SSH_DIR/log")"
	echo "[127.0.0.1]:$SSH_PORT $(cut -d' ' -f1,2 "$SSH_DIR/host_key.pub")" \
		>"$SSH_DIR/known_hosts"
}

# host_fingerprint FILE.pub: the key's "SHA256:..." as ssh-keygen prints it.
host_fingerprint() { ssh-keygen -l -E sha256 -f "$1" | cut -d' ' -f2; }

# make_ca DIR NAME: a CA (DIR/NAME-ca.pem) and a certificate it signs for
# 127.0.0.1 and localhost (DIR/NAME-cert.pem, DIR/NAME-key.pem), with
# openssl.  Skips the test without openssl.
make_ca()
{
	command -v openssl >/dev/null 2>&1 || skip_all "openssl is not installed"
	mkdir -p "$1"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$2 test CA" \
		-keyout "$1/$2-ca-key.pem" -out "$1/$2-ca.pem" >/dev/null 2>&1
	openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
		-keyout "$1/$2-key.pem" -out "$1/$2.csr" >/dev/null 2>&1
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$1/$2.ext"
	openssl x509 -req -in "$1/$2.csr" -CA "$1/$2-ca.pem" \
		-CAkey "$1/$2-ca-key.pem" -CAcreateserial -days 2 \
		-extfile "$1/$2.ext" -out "$1/$2-cert.pem" >/dev/null 2>&1
}

# start_https DIR CERTDIR NAME: serves DIR over smart HTTPS with the
# certificate make_ca made under NAME; sets HTTPS_PORT.
start_https()
{
	rm -f "$TEST_DIR/https.port"
	"$PYTHON3" "$GIT_SERVER" http "$1" "$TEST_DIR/https.port" \
		--cert "$2/$3-cert.pem" --key "$2/$3-key.pem" &
	_servers="$_servers $!"
	wait_for_file "$TEST_DIR/https.port"
	HTTPS_PORT=$(cat "$TEST_DIR/https.port")
}

# start_files DIR NAME [OPTIONS]: serves DIR with tests/git-server.py's
# files mode; sets NAME_PORT (e.g. FILES_PORT).
start_files()
{
	_root=$1
	_name=$2
	shift 2
	rm -f "$TEST_DIR/$_name.port"
	"$PYTHON3" "$GIT_SERVER" files "$_root" "$TEST_DIR/$_name.port" "$@" &
	_servers="$_servers $!"
	wait_for_file "$TEST_DIR/$_name.port"
	eval "${_name}_PORT=\$(cat \"\$TEST_DIR/\$_name.port\")"
}

# start_redirector BASE: an HTTP server on 127.0.0.1 that answers every
# request with "302 Location: BASE<the request's path>"; sets
# REDIRECT_PORT.
start_redirector()
{
	_start_plain_http redirect "$1"
	REDIRECT_PORT=$_plain_port
}

# start_catcher LOG: an HTTP server on 127.0.0.1 that asks for basic
# authentication (401) on every request and appends "HOST AUTHORIZATION"
# ("-" when there is none) to LOG; sets CATCH_PORT.
start_catcher()
{
	_start_plain_http catch "$1"
	CATCH_PORT=$_plain_port
}

_start_plain_http()
{
	rm -f "$TEST_DIR/plain.port"
	"$PYTHON3" - "$1" "$2" "$TEST_DIR/plain.port" <<'PY' &
import http.server, os, sys, threading
mode, arg, portfile = sys.argv[1:4]
class Handler(http.server.BaseHTTPRequestHandler):
    def answer(self):
        if mode == "catch":
            with open(arg, "a") as log:
                log.write("%s %s\n" % (self.headers.get("Host"),
                                       self.headers.get("Authorization", "-")))
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="other"')
        else:
            self.send_response(302)
            self.send_header("Location", arg + self.path)
        self.send_header("Content-Length", "0")
        self.end_headers()
    do_GET = do_POST = answer
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % server.server_address[1])
os.rename(portfile + ".tmp", portfile)
threading.Timer(120, lambda: os._exit(0)).start()
server.serve_forever()
PY
	_servers="$_servers $!"
	wait_for_file "$TEST_DIR/plain.port"
	_plain_port=$(cat "$TEST_DIR/plain.port")
}
