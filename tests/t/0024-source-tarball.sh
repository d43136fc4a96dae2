#!/bin/sh
# The tarball source: plain, gzip, bzip2, xz and zstd archives extract
# with their modes and times; other compressions (lzop, lrzip, grzip,
# lz4, uuencode) are refused by name and no program runs for them; a
# corpus of hostile archives is refused entry by entry, and nothing is
# ever written outside the target.
. "$JOBRUN_SRCDIR/tests/lib.sh"

cat >job.yaml <<'YAML'
steps: [{name: a, run: touch "$JOBRUN_WORKSPACE/ran"}]
YAML

# extract ARCHIVE: runs job.yaml with ARCHIVE extracted into a fresh
# workspace; stamp marks the time before.
extract()
{
	rm -rf ws
	touch stamp
	sleep 0.01
	run env JOBRUN_WORKSPACE="$TEST_DIR/ws" "$JOBRUN" run \
		--source-type tarball --source-url "$1" job.yaml
}

# written_outside: what changed in the test directory outside ws/.
written_outside()
{
	find "$TEST_DIR" -mindepth 1 -newer stamp ! -path "$TEST_DIR/ws" \
		! -path "$TEST_DIR/ws/*" ! -name out ! -name err | sort
}

# ---- good archives ----

mkdir -p tree/sub tree/ro
printf 'hello\n' >tree/hello.txt
head -c 50000 /dev/urandom >tree/sub/random.bin
printf '#!/bin/sh\n' >tree/run.sh && chmod 755 tree/run.sh
printf 'ro\n' >tree/ro/file && chmod 444 tree/ro/file && chmod 555 tree/ro
ln tree/hello.txt tree/sub/hard
ln -s ../hello.txt tree/sub/soft
touch -d '2001-02-03 04:05:06' tree/hello.txt tree/sub
tar -C tree -cf plain.tar .
gzip -c plain.tar >good.tar.gz
formats="plain.tar good.tar.gz"
if command -v bzip2 >/dev/null 2>&1; then
	bzip2 -c plain.tar >good.tar.bz2 && formats="$formats good.tar.bz2"
fi
if command -v xz >/dev/null 2>&1; then
	xz -c plain.tar >good.tar.xz && formats="$formats good.tar.xz"
fi
if command -v zstd >/dev/null 2>&1; then
	zstd -q -c plain.tar >good.tar.zst && formats="$formats good.tar.zst"
fi

# ---- compressions jobrun does not read ----

# name|what the message says it is, for each archive odd/NAME.
mkdir odd
printf '\211LZO\000\r\n\032\nnot really lzop' >odd/tar.lzo
printf 'LRZI\000\006not really lrzip, padded to a header' >odd/tar.lrz
printf 'GRZipII\000\002\004:)not really grzip' >odd/tar.grz
if command -v lz4 >/dev/null 2>&1; then
	lz4 -q -c plain.tar >odd/tar.lz4
else
	printf '\004\042\115\030not really lz4' >odd/tar.lz4
fi
"$PYTHON3" -c 'import binascii, sys
data = open("plain.tar", "rb").read()
out = open("odd/tar.uu", "w")
out.write("begin 644 plain.tar\n")
for i in range(0, len(data), 45):
    out.write(binascii.b2a_uu(data[i:i + 45]).decode())
out.write("`\nend\n")'
cat >odd.txt <<EOF
tar.lzo|compressed with lzop
tar.lrz|compressed with lrzip
tar.grz|compressed with grzip
tar.lz4|compressed with lz4
tar.uu|uuencoded
EOF

# A stand-in for each program libarchive may run to decompress records
# that it ran.
mkdir bin
for program in lzop lrzip grzip lz4 lzip lzma gzip bzip2 xz zstd \
	uudecode rpm2cpio; do
	printf '#!/bin/sh\ntouch "%s/ran-%s"\ncat >/dev/null\nexit 1\n' \
		"$TEST_DIR" "$program" >"bin/$program"
	chmod +x "bin/$program"
done

# ---- the hostile corpus ----

mkdir -p hostile outside
echo keep >outside/file
"$PYTHON3" - "$TEST_DIR" <<'PY'
import io, sys, tarfile
top = sys.argv[1]

def member(tar, name, kind=tarfile.REGTYPE, data=b"pwned\n", mode=0o644,
           link=""):
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.linkname = kind, mode, link
    if kind == tarfile.CHRTYPE:
        info.devmajor, info.devminor = 1, 3
    if kind == tarfile.REGTYPE:
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    else:
        tar.addfile(info)

def archive(name, *members):
    with tarfile.open("%s/hostile/%s.tar" % (top, name), "w",
                      format=tarfile.GNU_FORMAT) as tar:
        member(tar, "fine.txt", data=b"fine\n")
        for args in members:
            member(tar, *args[0], **args[1])

S, H = tarfile.SYMTYPE, tarfile.LNKTYPE
archive("dotdot", (("../x-dotdot",), {}))
archive("deep-dotdot", (("a/../../x-deep",), {}))
archive("absolute", ((top + "/x-absolute",), {}))
archive("link-abs-then-write", (("esc", S), {"link": top + "/outside"}),
        (("esc/pwned",), {}))
archive("link-up-then-write", (("esc", S), {"link": "../outside"}),
        (("esc/pwned",), {}))
archive("link-through-link", (("self", S), {"link": "."}),
        (("sneaky", S), {"link": "self/.."}))
archive("hardlink-up", (("h", H), {"link": "../outside/file"}))
archive("hardlink-abs", (("h", H), {"link": top + "/outside/file"}))
archive("hardlink-via-link", (("d", S), {"link": "."}),
        (("h", H), {"link": "d/fine.txt"}))
archive("device", (("null", tarfile.CHRTYPE), {}))
archive("fifo", (("fifo", tarfile.FIFOTYPE), {}))
archive("setuid", (("suid",), {"mode": 0o4755}))
archive("setgid", (("sgid",), {"mode": 0o2755}))
PY

# name|entry|why for each hostile archive.
cat >corpus.txt <<EOF
dotdot|../x-dotdot|has a '..' component
deep-dotdot|a/../../x-deep|has a '..' component
absolute|$TEST_DIR/x-absolute|has an absolute path
link-abs-then-write|esc|is a symbolic link to an absolute path
link-up-then-write|esc|is a symbolic link that points outside the target
link-through-link|sneaky|is a symbolic link that points outside the tree
hardlink-up|h|is a hard link to a path outside the target
hardlink-abs|h|is a hard link to a path outside the target
hardlink-via-link|h|is a hard link through a symbolic link
device|null|is a device node
fifo|fifo|is a FIFO
setuid|suid|has the setuid bit
setgid|sgid|has the setgid bit
EOF

n_formats=$(echo $formats | wc -w)
n_hostile=$(wc -l <corpus.txt)
n_odd=$(wc -l <odd.txt)
plan $((n_formats * 3 + 3 + n_odd * 2 + n_hostile * 4 + 3))

# The stand-ins come first in PATH while archives are extracted.
saved_path=$PATH
PATH=$TEST_DIR/bin:$PATH
for archive in $formats; do
	extract "$TEST_DIR/$archive"
	is "$status" 0 "$archive: extracted"
	is "$(diff -r --no-dereference tree ws/src && echo same)" "same" \
		"$archive: byte for byte"
	is "$(cd ws/src && find . -mindepth 1 -printf '%p %M %Ts %n\n' | sort)" \
		"$(cd tree && find . -mindepth 1 -printf '%p %M %Ts %n\n' | sort)" \
		"$archive: modes, times and hard links kept"
	chmod -R u+w ws
done
contains err "jobrun: source: tarball $TEST_DIR/$archive -> $TEST_DIR/ws/src (" \
	"the console says what was extracted"
ok "[ -e ws/ran ]" "and the step ran"
is "$(ls ran-* 2>/dev/null)" "" "no program ran to decompress them"

while IFS='|' read -r name what; do
	rm -f ran-*
	extract "$TEST_DIR/odd/$name"
	is "$status $(test -e ws/ran && echo ran) $(ls ran-* 2>/dev/null)" \
		"125  " "$name: refused, and no program ran"
	contains err "cannot read '$TEST_DIR/odd/$name': it is $what, which a tarball source is not" \
		"$name: the message names the compression"
done <odd.txt
PATH=$saved_path

while IFS='|' read -r name entry why; do
	extract "$TEST_DIR/hostile/$name.tar"
	is "$status $(test -e ws/ran && echo ran)" "125 " \
		"$name: refused before any step"
	contains err "entry '$entry' in '$TEST_DIR/hostile/$name.tar' $why: refused" \
		"$name: the message names the entry"
	is "$(written_outside)" "" "$name: nothing written outside the target"
	is "$(ls -A ws 2>/dev/null | grep -c '^src$')" 0 \
		"$name: nor left in it (fine.txt came first)"
done <corpus.txt
is "$(cat outside/file)" "keep" "the file outside was never touched"

extract "ftp://127.0.0.1:1/app.tar.gz"
is "$status" 125 "an ftp URL is refused"
contains err "a tarball source is a local path, a file:// URL or an http(s) URL" \
	"with a message saying what is taken"

done_testing
