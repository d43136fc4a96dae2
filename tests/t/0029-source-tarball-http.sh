#!/bin/sh
# The tarball source over http(s): an archive streamed into the target
# (with and without a Content-Length, through a redirect, over HTTPS with
# the test's CA, which a ca_file replaces the system's store with); a
# server that stalls, one that sends more than max_size,
# one that announces more, one that redirects in a loop, one that fails
# twice before it works; a token, sent to the URL's host only and never
# printed; a hostile archive refused and removed; an lzop one refused by
# name.
. "$JOBRUN_SRCDIR/tests/lib.sh"
. "$JOBRUN_SRCDIR/tests/git-lib.sh"

mkdir -p tree/sub files
printf 'hello\n' >tree/hello.txt
head -c 300000 /dev/urandom >tree/sub/random.bin
printf '#!/bin/sh\n' >tree/run.sh && chmod 755 tree/run.sh
tar -C tree -czf files/good.tar.gz .
"$PYTHON3" - files/hostile.tar <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as tar:
    for name in ("fine.txt", "../escaped.txt"):
        info = tarfile.TarInfo(name)
        info.size = 5
        tar.addfile(info, io.BytesIO(b"data\n"))
PY
printf '\211LZO\000\r\n\032\nnot really lzop' >files/odd.tar.lzo
size=$(stat -c %s files/good.tar.gz)
TOKEN=tar-token-5f1e2d3c4b5a69788
make_ca "$TEST_DIR/pki" right
make_ca "$TEST_DIR/pki" wrong
start_files "$TEST_DIR/files" FILES --log "$TEST_DIR/files.log"
start_files "$TEST_DIR/files" OTHER --log "$TEST_DIR/other.log"
cp "$TEST_DIR/OTHER.port" "$TEST_DIR/FILES.port.other"
start_files "$TEST_DIR/files" LOCKED --token "$TOKEN" \
	--log "$TEST_DIR/locked.log"
cp "$TEST_DIR/OTHER.port" "$TEST_DIR/LOCKED.port.other"
start_files "$TEST_DIR/files" TLS --cert "$TEST_DIR/pki/right-cert.pem" \
	--key "$TEST_DIR/pki/right-key.pem"
base="http://127.0.0.1:$FILES_PORT"

# fetch URL [SETTINGS]: a job with that tarball source on a fresh
# workspace; $in_store, when set, is a command to run jobrun with.
fetch()
{
	cat >job.yaml <<YAML
source:
  type: tarball
  url: "$1"
  ${2:-}
steps: [{name: a, run: touch "\$JOBRUN_WORKSPACE/ran"}]
YAML
	rm -rf ws
	run ${in_store:-} env JOBRUN_WORKSPACE="$TEST_DIR/ws" "$JOBRUN" run job.yaml
}

same() { diff -r tree ws/src >/dev/null 2>&1 && echo same; }
ran() { test -e ws/ran && echo ran; }

plan 39

fetch "$base/good.tar.gz"
is "$status $(same) $(ran)" "0 same ran" "an archive over http is extracted"
contains err "tarball $base/good.tar.gz -> $TEST_DIR/ws/src (" "and reported"
# On a terminal, the bytes received are shown (and the line cleared).
if command -v script >/dev/null 2>&1; then
	rm -rf ws
	TERM=dumb script -qec "env JOBRUN_WORKSPACE='$TEST_DIR/ws' '$JOBRUN' run job.yaml" \
		/dev/null >tty.out 2>&1
	contains tty.out "jobrun: source: downloading" "on a terminal, progress is shown"
else
	echo "ok $((_tap_count += 1)) # SKIP script(1) is not installed"
fi
fetch "$base/chunked/good.tar.gz"
is "$status $(same)" "0 same" "also without a Content-Length"
fetch "$base/redirect/good.tar.gz"
is "$status $(same)" "0 same" "also through a redirect"

fetch "https://localhost:$TLS_PORT/good.tar.gz" "ca_file: $TEST_DIR/pki/right-ca.pem"
is "$status $(same)" "0 same" "over https with ca_file naming the server's CA"
fetch "https://localhost:$TLS_PORT/good.tar.gz" "ca_file: $TEST_DIR/pki/wrong-ca.pem"
is "$status $(ran)" "125 " "another CA is refused"
contains err "is not trusted (checked against $TEST_DIR/pki/wrong-ca.pem)" \
	"with a message naming the CA file"
lacks err "attempt" "at once"
fetch "https://localhost:$TLS_PORT/good.tar.gz"
is "$status" 125 "the system's store does not have the test's CA"

# ca_file replaces the system's store: with the server's CA in a store of
# this test's own (bound over /etc/ssl/certs in a mount namespace, as
# root), a ca_file naming another CA still refuses the server.
if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
	mkdir store
	cp "$TEST_DIR/pki/right-ca.pem" store/ca-certificates.crt
	cp "$TEST_DIR/pki/right-ca.pem" \
		"store/$(openssl x509 -hash -noout -in "$TEST_DIR/pki/right-ca.pem").0"
	# with_store CMD...: CMD with store/ as the system's certificate
	# store.
	with_store()
	{
		unshare -m sh -c 'mount --bind "$0" /etc/ssl/certs && exec "$@"' \
			"$TEST_DIR/store" "$@"
	}
	in_store=with_store
	fetch "https://localhost:$TLS_PORT/good.tar.gz"
	is "$status $(same)" "0 same" "a system's store with the server's CA accepts it"
	fetch "https://localhost:$TLS_PORT/good.tar.gz" "ca_file: $TEST_DIR/pki/wrong-ca.pem"
	is "$status $(ran)" "125 " "with a ca_file naming another CA, the system's store is not used"
	contains err "is not trusted (checked against $TEST_DIR/pki/wrong-ca.pem)" \
		"and the message names the ca_file"
	in_store=
else
	for i in 1 2 3; do
		echo "ok $((_tap_count += 1)) # SKIP a store of the test's own needs root and unshare -m"
	done
fi

fetch "$base/loop"
is "$status $(ran)" "125 " "a redirect loop fails"
contains err "redirects more than 5 times" "and says so"
lacks err "attempt" "with no retry"

fetch "$base/endless" "max_size: 1000000"
is "$status $(ran)" "125 " "a body past max_size fails"
contains err "is larger than max_size (1000000 bytes): download stopped" \
	"and says so"
is "$(ls -A ws | grep -c '^src$')" 0 "and leaves no target behind"
fetch "$base/good.tar.gz" "max_size: $((size - 1))"
is "$status" 125 "an announced size past max_size fails"
contains err "is larger than max_size ($((size - 1)) bytes)" "and says so"
fetch "$base/good.tar.gz" "max_size: $size"
is "$status $(same)" "0 same" "an archive of exactly max_size is extracted"

fetch "$base/stall/good.tar.gz" "timeout: 8s"
is "$status $(ran)" "125 " "a server that stalls fails"
contains err "stalled" "and the stall is named"

fetch "$base/flaky/2/good.tar.gz"
is "$status $(same)" "0 same" "two 503 answers are retried until it works"
is "$(grep -c 'answered HTTP 503; retrying in' err)" 2 "each retry announced"

fetch "$base/missing.tar.gz"
is "$status" 125 "a 404 fails"
contains err "answered HTTP 404" "and says so"
lacks err "attempt" "with no retry"

fetch "http://127.0.0.1:$LOCKED_PORT/good.tar.gz" "token_env: TAR_TOKEN"
is "$status" 125 "token_env naming an unset variable fails"
TAR_TOKEN=$TOKEN
export TAR_TOKEN
fetch "http://127.0.0.1:$LOCKED_PORT/good.tar.gz" "token_env: TAR_TOKEN"
is "$status $(same)" "0 same" "a token from token_env opens a locked server"
lacks err "$TOKEN" "and is not printed"
fetch "http://127.0.0.1:$LOCKED_PORT/offsite/good.tar.gz" "token_env: TAR_TOKEN"
is "$status $(same)" "0 same" "a redirect to another server works"
is "$(cat other.log | cut -d' ' -f2 | sort -u)" "-" \
	"and the other server gets no credentials"
unset TAR_TOKEN

fetch "$base/hostile.tar"
is "$status $(ran)" "125 " "a hostile archive over http is refused"
contains err "entry '../escaped.txt' in '$base/hostile.tar' has a '..' component" \
	"naming the entry"
is "$(ls -A ws | grep -c '^src$') $(test -e escaped.txt && echo out)" "0 " \
	"and nothing of it is left"

fetch "$base/odd.tar.lzo"
is "$status $(ran)" "125 " "an archive compressed with lzop over http is refused"
contains err "cannot read '$base/odd.tar.lzo': it is compressed with lzop" \
	"naming the compression"

done_testing
