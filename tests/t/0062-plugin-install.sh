#!/bin/sh
# A plugin builds against what 'make install' installs, as a user would
# build one: jobrun is installed into a private DESTDIR, examples/plugin is
# copied out of the tree and built with the installed jobrun-plugin.pc and
# <jobrun/plugin.h>, and the shared object it gives exports jobrun_plugin
# with the installed header's ABI version; so does the plugin shown in
# jobrun-plugin(3).  The installed jobrun then runs the example's job with
# it, and loads it by name once it is installed.
. "$JOBRUN_SRCDIR/tests/lib.sh"
plan 36

root=$TEST_DIR/root

# make check runs this test: the makes below must not join its jobserver
# or inherit its flags.
unset MAKEFLAGS MFLAGS MAKELEVEL
make -C "$JOBRUN_BUILDDIR" install DESTDIR="$root" >install.log 2>&1
is "$?" 0 "make install DESTDIR=... succeeds"

# Where things went, from what was installed.
pc=$(find "$root" -name jobrun-plugin.pc -path '*/pkgconfig/*')
bin=$(find "$root" -name jobrun -type f -path '*/bin/*')
ok "[ -f '$pc' ] && [ -x '$bin' ]" "jobrun and jobrun-plugin.pc are installed"
pcdir=${pc%/*}
libdir=${pcdir%/pkgconfig}
libdir=${libdir#"$root"}

export PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_SYSROOT_DIR="$root"
unset PKG_CONFIG_LIBDIR CPATH C_INCLUDE_PATH
pkg() { pkg-config "$@" jobrun-plugin; }

include=$(pkg --cflags | sed 's/^-I//; s/ *$//')
header=$include/jobrun/plugin.h
ok "[ -f '$header' ]" "pkg-config --cflags names where the header was installed"
ok "find '$root' -name jobrun-plugin.3 -path '*/man3/*' | grep -q ." \
	"jobrun-plugin(3) is installed"
is "$(pkg --libs | tr -d ' ')" "" "plugins link nothing of jobrun's"
is "$(pkg --modversion)" "$("$bin" --version | sed -n 's/^jobrun //p')" \
	"the .pc has jobrun's version"
major=$(sed -n 's/^#define JOBRUN_PLUGIN_ABI_MAJOR \([0-9]*\)$/\1/p' "$header")
minor=$(sed -n 's/^#define JOBRUN_PLUGIN_ABI_MINOR \([0-9]*\)$/\1/p' "$header")
is "$(pkg --variable=abi_version)" "$major.$minor" \
	"abi_version is the installed header's MAJOR.MINOR"
plugindir=$(pkg --variable=plugindir)
is "$plugindir" "$root$libdir/jobrun/plugins" \
	"plugindir is LIBDIR/jobrun/plugins (under the sysroot)"

# The user's build: a copy of the example, away from the source tree,
# with the dependencies recorded (-MD) to see which header it used.
cp -R "$JOBRUN_SRCDIR/examples/plugin" user
chmod -R u+w user
rm -f user/*.so user/*.d
CFLAGS='-O2' make -C user CPPFLAGS=-MD >build.log 2>&1
is "$?" 0 "the example builds with the installed pkg-config file"
lacks build.log "warning:" "without warnings"
contains user/notify.d "$header" "against the installed header"
lacks user/notify.d "$JOBRUN_SRCDIR/include" "not the source tree's"

# The plugin shown in jobrun-plugin(3) EXAMPLE builds too.
sed -n '/^\.SH EXAMPLE$/,/^\.SH /p' "$JOBRUN_SRCDIR/man/jobrun-plugin.3" |
	sed -n '/^\.nf$/,/^\.fi$/p' | sed '/^\.nf$/d; /^\.fi$/d' |
	sed "s/\\\\-/-/g; s/\\\\e/\\\\/g; s/\\\\(aq/'/g" >hello.c
ok "grep -q '^const struct jobrun_plugin jobrun_plugin = {' hello.c" \
	"jobrun-plugin(3) shows a whole plugin"
cc -std=c11 -Wall -Wextra -Wno-unused-parameter -Werror -fPIC -shared \
	$(pkg --cflags) -o hello.so hello.c >hello.log 2>&1
is "$?$(cat hello.log)" 0 "which builds without warnings"

so=user/notify.so
ok "nm -D --defined-only '$so' | grep -qE ' [DR] jobrun_plugin\$'" \
	"notify.so exports the data symbol jobrun_plugin"
is "$(nm -D --defined-only "$so" | grep -cv ' jobrun_plugin$')" 0 \
	"and nothing else of its own"

# Loaded as jobrun loads it; the struct's first members read back.
if "$PYTHON3" -c 'import ctypes' 2>/dev/null; then
	is "$("$PYTHON3" - "$so" <<'PY'
import ctypes, sys

class Plugin(ctypes.Structure):
    _fields_ = [("abi_version", ctypes.c_uint),
                ("name", ctypes.c_char_p),
                ("version", ctypes.c_char_p)]

library = ctypes.CDLL(sys.argv[1], mode=ctypes.RTLD_LOCAL)
plugin = Plugin.in_dll(library, "jobrun_plugin")
print("%d.%d %s" % (plugin.abi_version >> 16, plugin.abi_version & 0xffff,
                    plugin.name.decode()))
PY
)" "$major.$minor notify" "dlopen finds jobrun_plugin with ABI $major.$minor"
else
	_tap_count=$((_tap_count + 1))
	echo "ok $_tap_count # SKIP no python3 to dlopen the plugin"
fi

# make install puts it where jobrun looks, owner-writable only.
case $plugindir in
"$root"/*)
	make -C user install >install-plugin.log 2>&1
	is "$?" 0 "make install installs the plugin"
	;;
*) is "$plugindir" "$root/..." "refusing to install outside DESTDIR" ;;
esac
is "$(stat -c %a "$plugindir/notify.so" 2>&1)" 644 \
	"into the plugin directory, mode 644"
is "$(stat -c %a "$plugindir" 2>&1)" 755 "which has mode 755"

# ---- the example's job, run by the installed jobrun ----

# Away from the plugin: in local mode the current directory is the code
# under test, from which no plugin is loaded.
mkdir work
cd work || exit 1
# run leaves its output in $TEST_DIR/out and err.
token=$(sed -n 's/^ *token: //p' ../user/job.yaml)
ok "[ \${#token} -ge 8 ]" "the example's job has a token ($token)"
run "$bin" run -j1 ../user/job.yaml
is "$status" 0 "the example's job succeeds with the plugin"
contains "$TEST_DIR/err" "jobrun: plugin notify: job 'notify-demo' at commit (none), to ci-builds" \
	"the plugin logs the job at PRE_EXECUTION"
contains "$TEST_DIR/out" "channel: ci-builds" "the step sees the variable the plugin set"
contains "$TEST_DIR/out" "token: ***" "the token the plugin registered is masked"
ok "cat '$TEST_DIR/out' '$TEST_DIR/err' .jobrun/logs/show.log \
	.jobrun/result.json .jobrun/triggers.json >all && ! grep -qF '$token' all" \
	"nowhere in the output, the log, result.json or triggers.json"
contains .jobrun/logs/show.log "token: ***" "masked in the step's log too"
triggers()
{
	"$PYTHON3" -c 'import json, sys
for job in json.load(open(sys.argv[1]))["jobs"]:
    print(job["job_name"], *("%s=%s" % kv for kv in job.get("env", {}).items()))
' "$1" 2>&1
}
is "$(triggers .jobrun/triggers.json)" "deploy-staging NOTIFY_CHANNEL=ci-builds" \
	"the job succeeded: the plugin added its trigger"
contains "$TEST_DIR/err" "jobrun: plugin notify: job 'notify-demo' ended: success" \
	"the plugin sees the outcome at POST_EXECUTION"

# A failed job gets no trigger.
sed 's/^\(      echo "token: \$NOTIFY_TOKEN"\)$/\1; exit 1/' ../user/job.yaml \
	>../user/fail.yaml
run "$bin" run -j1 ../user/fail.yaml
is "$status" 1 "a failing step fails the job"
is "$(triggers .jobrun/triggers.json)" "" "and the plugin adds no trigger"

# A setting the plugin does not know refuses the job.
sed 's/^\(      trigger: .*\)$/\1\n      chanel: typo/' ../user/job.yaml \
	>../user/typo.yaml
run "$bin" run -j1 ../user/typo.yaml
is "$status" 125 "a failing init refuses the job"
contains "$TEST_DIR/err" "plugin notify: error: unknown setting 'chanel'" \
	"naming the unknown setting"

# Installed, it is found by name in the plugin directory.
cat >byname.yaml <<'YAML'
name: byname
plugins:
  - {path: notify, config: {channel: installed}}
steps:
  - {name: show, run: 'echo "channel: $NOTIFY_CHANNEL"'}
YAML
run "$bin" run -j1 --plugin-dir "$plugindir" byname.yaml
is "$status $(cat "$TEST_DIR/out")" "0 channel: installed" \
	"the installed plugin is loaded by name from the plugin directory"

# From its own directory, the code under test in local mode, it is refused.
cd ../user || exit 1
run "$bin" run -j1 job.yaml
is "$status" 125 "a plugin under the code dir is refused"
contains "$TEST_DIR/err" "is under the code dir" "saying why"

done_testing
