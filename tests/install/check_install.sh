#!/usr/bin/env bash
# usage: tests/install/check_install.sh BUILD_DIR PYTHON_EXE
# The installed library as another project sees it (./run.sh test runs this once, for the newest
# GIL build): `meson install` of BUILD_DIR at its configured prefix (the default, /usr/local)
# into a temporary --destdir, which is also what a custom prefix looks like; then checks the
# names, the headers (exactly those docs/layout.md lists, each compiling on its own), the
# default search paths, and builds consumer/ with CMake (CMAKE_PREFIX_PATH at that prefix), with
# g++ and pkg-config (PKG_CONFIG_PATH at it) and with meson, and runs each with no
# LD_LIBRARY_PATH: it must start CPython PYTHON_EXE from the installed library. Speaks TAP (meson's
# suite 'install'): one `ok`/`not ok` line per check, the failing check's log as `#` lines.
set -uo pipefail
build=$(cd "$1" && pwd) python=$2
consumer=$(cd "$(dirname "$0")/consumer" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Nothing from the environment helps the consumers find the library.
unset LD_LIBRARY_PATH LD_RUN_PATH PKG_CONFIG_PATH PKG_CONFIG_LIBDIR CMAKE_PREFIX_PATH CPATH \
  CPLUS_INCLUDE_PATH LIBRARY_PATH
source "$(dirname "$0")/../support/tap.sh"

# Where the build installs (prefix, libdir and includedir as meson holds them) and what the
# consumers must print.
mapfile -t dirs < <(meson introspect "$build" --buildoptions | "$python" -c '
import json, sys
options = {o["name"]: o["value"] for o in json.load(sys.stdin)}
print("\n".join(options[k] for k in ("prefix", "libdir", "includedir")))')
prefix=${dirs[0]} libdir=$prefix/${dirs[1]} includedir=$prefix/${dirs[2]}
mapfile -t py < <("$python" -c '
import platform, sys, sysconfig
gil = "t" if sysconfig.get_config_var("Py_GIL_DISABLED") == 1 else ""
print("%d.%d%s" % (sys.version_info[0], sys.version_info[1], gil))
print(platform.python_version())')
abi=${py[0]} expected="6 * 7 = 42 on CPython ${py[1]}, and in a worker process"
root=$work/root lib=$work/root$libdir inc=$work/root$includedir

check "meson install to $prefix under a temporary --destdir" \
  meson install -C "$build" --no-rebuild --quiet --destdir "$root"

soname_is() { readelf -d "$1" | grep -F "Library soname: [$2]"; }
check "libisolates-$abi.so.0.1.0 with soname libisolates-$abi.so.0, beside other CPythons' builds" \
  soname_is "$lib/libisolates-$abi.so" "libisolates-$abi.so.0"

top_is() { [[ $(cd "$1" && echo *) == "isolates isolates.h" ]]; }
check "$includedir holds only isolates.h and isolates/ (no interp/, channels/ at the top)" \
  top_is "$inc"
# Installed = public: exactly the headers docs/layout.md lists (between its "installed headers"
# markers), and no path with a detail/ folder in it.
only_public() {
  local listed
  listed=$(sed -n '/^<!-- installed headers/,/^<!-- end of installed headers/p' \
    "$(dirname "$0")/../../docs/layout.md" | grep -E '\.h$' | sort) || return 1
  diff <(cd "$inc" && find . -type f | sed 's@^\./@@' | sort) <(echo "$listed") || return 1
  ! (cd "$inc" && find . -path '*detail*' | grep .)
}
check "exactly the headers docs/layout.md lists are installed, none under detail/" only_public
check "the process worker isolates-worker-$abi in $libdir/isolates/" \
  test -x "$lib/isolates/isolates-worker-$abi"

# Every installed header on its own (it includes what it needs), with only the include directory
# the .pc hands out and its CPython's flags (isolates/interp/cpython.h brings Python.h), found
# through the .pc's variables; two compilers at a time.
each_header() {
  local pc="$lib/pkgconfig" python_cflags
  python_cflags=$(PKG_CONFIG_PATH=$(PKG_CONFIG_PATH=$pc pkg-config --variable=python_pcdir isolates) \
    pkg-config --cflags "$(PKG_CONFIG_PATH=$pc pkg-config --variable=python_embed isolates)") || return 1
  export header_flags="-std=c++20 -fsyntax-only $(PKG_CONFIG_PATH=$pc pkg-config --cflags isolates) $python_cflags"
  (cd "$inc" && find . -name '*.h' | sed 's@^\./@@' | sort) | xargs -P 2 -I{} sh -c \
    'echo "#include <{}>" | g++ $header_flags -x c++ - || { echo "FAILED: <{}> alone"; exit 1; }'
}
check "every installed header compiles on its own with only <includedir> on the include path" \
  each_header

on_pc_path() { pkg-config --variable pc_path pkg-config | tr : '\n' | grep -xF "$libdir/pkgconfig"; }
check "$libdir/pkgconfig is on pkg-config's default search path" on_pc_path
in_ldconfig() { cat /etc/ld.so.conf /etc/ld.so.conf.d/*.conf | grep -xF "$libdir"; }
check "$libdir is one of ldconfig's directories (for programs linked without the rpath)" \
  in_ldconfig

# run_consumer BINARY: it must start CPython from the installed library and print $expected.
run_consumer() {
  local out
  out=$("$1") || return 1
  echo "$out"
  [[ $out == "$expected" ]]
}

by_pkg_config() (
  export PKG_CONFIG_PATH=$lib/pkgconfig
  [[ $(pkg-config --libs "isolates-$abi") == $(pkg-config --libs isolates) ]] || return 1
  g++ -std=c++20 -o "$work/pkg-config-consumer" "$consumer/consumer.cpp" \
    $(pkg-config --cflags --libs isolates) || return 1
  run_consumer "$work/pkg-config-consumer"
)
check "g++ \$(pkg-config --cflags --libs isolates) builds a consumer that runs" by_pkg_config

by_cmake() {
  cmake -S "$consumer" -B "$work/cmake" -G Ninja -DCMAKE_PREFIX_PATH="$root$prefix" \
    && cmake --build "$work/cmake" && run_consumer "$work/cmake/consumer"
}
check "CMake find_package(isolates CONFIG) builds a consumer that runs" by_cmake

# Where a default install puts the CMake package, CMake looks by default: the search re-rooted
# at the staging tree, with nothing else to go on (configure only).
cmake_default() {
  cmake -S "$consumer" -B "$work/cmake-default" -G Ninja -DISOLATES_PACKAGE="isolates-$abi" \
    -DCMAKE_FIND_ROOT_PATH="$root" -DCMAKE_FIND_ROOT_PATH_MODE_PACKAGE=ONLY || return 1
  grep -xF "isolates-${abi}_DIR:PATH=$lib/cmake/isolates-$abi" "$work/cmake-default/CMakeCache.txt"
}
check "CMake's default search finds find_package(isolates-$abi CONFIG) under $prefix" \
  cmake_default

by_meson() {
  PKG_CONFIG_PATH=$lib/pkgconfig meson setup "$work/meson" "$consumer" \
    && ninja -C "$work/meson" && run_consumer "$work/meson/consumer"
}
check "meson dependency('isolates') builds a consumer that runs" by_meson

finish
