#!/bin/sh
# The copy source: a clean tree copies byte for byte with its modes and
# times; links are copied only when they resolve inside the tree; links
# out (../, absolute, through another link), loops, FIFOs, sockets and
# devices are refused, naming the entry, before any step runs.
. "$JOBRUN_SRCDIR/tests/lib.sh"
plan 21

cat >job.yaml <<'YAML'
steps: [{name: a, run: touch "$JOBRUN_WORKSPACE/ran"}]
YAML

# copy DIR: runs job.yaml with DIR copied into a fresh workspace.
copy()
{
	rm -rf ws
	run env JOBRUN_WORKSPACE="$TEST_DIR/ws" "$JOBRUN" run --source-type copy \
		--source-url "$1" job.yaml
}

# ---- a clean tree ----

mkdir -p tree/sub/deeper tree/locked tree/private "tree/with space"
printf 'hello\n' >tree/hello.txt
head -c 100000 /dev/urandom >tree/sub/random.bin
: >tree/empty
printf '#!/bin/sh\necho run\n' >tree/run.sh
chmod 755 tree/run.sh
printf 'secret\n' >tree/private/key
chmod 600 tree/private/key
chmod 700 tree/private
printf 'x\n' >"tree/with space/file name"
printf 'ro\n' >tree/locked/ro.txt
chmod 444 tree/locked/ro.txt
chmod 555 tree/locked
ln -s sub/random.bin tree/link-to-file
ln -s ../hello.txt tree/sub/up-link
ln -s deeper tree/sub/dir-link
ln -s not-there-yet tree/dangling
printf 'suid\n' >tree/suid
chmod 4755 tree/suid
touch -d '2001-02-03 04:05:06' tree/hello.txt tree/sub tree/link-to-file
touch -h -d '2002-03-04 05:06:07' tree/link-to-file

copy "$TEST_DIR/tree"
is "$status" 0 "a clean tree is copied"
contains err "jobrun: source: copy $TEST_DIR/tree -> $TEST_DIR/ws/src (" \
	"and the console says so"
is "$(diff -r --no-dereference tree ws/src && echo same)" "same" "byte for byte (diff -r)"
stat_all() { (cd "$1" && find . -path ./suid -prune -o -printf '%p %M %T@\n' | sort); }
is "$(stat_all ws/src)" "$(stat_all tree)" "with every mode and time kept"
is "$(readlink ws/src/sub/up-link) $(readlink ws/src/sub/dir-link)" \
	"../hello.txt deeper" "links inside the tree are copied as links"
is "$(stat -c %a ws/src/suid)" "755" "the setuid bit is dropped"
ok "[ -e ws/ran ]" "and the step ran"
chmod -R u+w ws tree

# ---- what is refused ----

# refused NAME SETUP DESCRIPTION: a tree with one bad entry made by SETUP
# (run inside it) is refused with a message naming NAME.
refused()
{
	rm -rf bad && mkdir -p bad/sub && echo ok >bad/sub/fine
	(cd bad && eval "$2")
	copy "$TEST_DIR/bad"
	is "$status $(test -e ws/ran && echo ran)" "125 " "$3: refused before any step"
	contains err "'$TEST_DIR/bad/$1' $4: refused" "$3: the message names it"
}

refused sub/up "ln -s ../../outside sub/up" "a link out with ../" \
	"is a symbolic link that points outside the tree"
refused abs "ln -s /etc/passwd abs" "an absolute link" \
	"is a symbolic link that points to an absolute path"
refused sub/loop "ln -s loop sub/loop" "a link loop" \
	"is a symbolic link that is a symbolic link loop"
refused sneaky "ln -s . self && ln -s self/.. sneaky" \
	"a link out through another link" \
	"is a symbolic link that points outside the tree"
refused fifo "mkfifo fifo" "a FIFO" "is a FIFO"
refused sock "\"$PYTHON3\" -c 'import socket; socket.socket(socket.AF_UNIX).bind(\"sock\")'" \
	"a socket" "is a socket"
if [ "$(id -u)" = 0 ]; then
	refused null "mknod null c 1 3" "a device" "is a device"
else
	ok true "# SKIP making a device needs root"
	ok true "# SKIP making a device needs root"
fi

done_testing
