#!/bin/sh
# A plugin builds against what 'make install' installs, as a user would
# build one: jobrun is installed into a private DESTDIR, examples/plugin is
# copied out of the tree and built with the installed jobrun-plugin.pc and
# <jobrun/plugin.h>, and the shared object it gives exports jobrun_plugin
# with the installed header's ABI version.
. "$JOBRUN_SRCDIR/tests/lib.sh"
plan 18

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
is "$(pkg --modversion)" "$("$bin" --version | sed 's/^jobrun //')" \
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

done_testing
