#!/usr/bin/env bash
# Builds one CPython that isolates can embed, once, into a cache outside the repository:
#   scripts/build_cpython.sh 3.14|3.15|3.14t|3.15t|3.14t-tsan
# ("t": the free-threaded build, --disable-gil; "-tsan": built by clang 16 with ThreadSanitizer,
# for ./run.sh test --sanitize=thread, with CPython's own TSan suppressions kept beside it in
# <prefix>/share/isolates/). The release and its sha256 come from
# scripts/cpython_sources.txt; the tarball from $ISOLATES_CPYTHON_TARBALLS (a directory, e.g. CI's
# copy) when it holds it, else from Debian's package pool through the mirror apt uses. Installs
# into $ISOLATES_PYTHON_CACHE (default ~/.cache/isolates/cpython)/<release>[t], where run.sh's
# Python discovery looks, and prints that prefix last. Needs the packages run.sh installs first.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

series=${1:?usage: $0 3.X[t][-tsan]}
variant= tsan=
if [[ $series == *-tsan ]]; then tsan=-tsan; series=${series%-tsan}; fi
if [[ $series == *t ]]; then variant=t; series=${series%t}; fi
read -r tarball sha256 < <(awk -v s="$series" '$1 == s { print $2, $3 }' "$here/cpython_sources.txt") || true
if [[ -z ${tarball:-} ]]; then
  echo "error: no CPython $series in scripts/cpython_sources.txt (have:" \
    "$(awk '/^[0-9]/ { printf "%s ", $1 }' "$here/cpython_sources.txt"))" >&2
  exit 2
fi
release=${tarball#python"$series"_}; release=${release%.orig.tar.xz}   # 3.15.0~rc2
release=${release/\~/}                                                 # 3.15.0rc2
cache=${ISOLATES_PYTHON_CACHE:-$HOME/.cache/isolates/cpython}
prefix="$cache/$release$variant$tsan"
if [[ -x $prefix/bin/python$series$variant ]]; then
  echo "CPython $release$variant$tsan is already built in $prefix"
  echo "$prefix"
  exit 0
fi
mkdir -p "$cache"
# One builder per release at a time; a second one waits, then finds it built.
exec 9>"$cache/.lock-$release$variant$tsan"
flock 9
if [[ -x $prefix/bin/python$series$variant ]]; then echo "$prefix"; exit 0; fi

# The mirror apt is configured with (deb822 or one-line sources), else Debian's own.
debian_mirror() {
  local uri
  uri=$(sed -nE 's#^URIs:[[:space:]]*([^[:space:]]*/debian)/?$#\1#p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
  [[ -n $uri ]] || uri=$(sed -nE 's#^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]*/debian)/?[[:space:]].*#\2#p' \
    /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -n1)
  echo "${uri:-http://deb.debian.org/debian}"
}

started=$SECONDS
work=$(mktemp -d "$cache/build-$release$variant$tsan.XXXXXX")
trap 'rm -rf "$work"' EXIT
if [[ -n ${ISOLATES_CPYTHON_TARBALLS:-} && -f $ISOLATES_CPYTHON_TARBALLS/$tarball ]]; then
  echo "-- CPython $release$variant$tsan: source from $ISOLATES_CPYTHON_TARBALLS/$tarball"
  cp "$ISOLATES_CPYTHON_TARBALLS/$tarball" "$work/"
else
  url="$(debian_mirror)/pool/main/p/python$series/$tarball"
  echo "-- CPython $release$variant$tsan: downloading $url"
  curl -fsSL --retry 3 -o "$work/$tarball" "$url"
fi
if ! echo "$sha256  $work/$tarball" | sha256sum -c --quiet -; then
  echo "error: $tarball does not have the sha256 in scripts/cpython_sources.txt" >&2
  exit 1
fi
tar -xJf "$work/$tarball" -C "$work"
src=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'Python-*' | head -n1)

# --enable-shared: isolates embeds libpython; the rpath lets everything find it without
# LD_LIBRARY_PATH. The bundled libmpdec, because Debian 12's has no pkg-config file (and 3.14
# wants >= 2.5.0 through it). No ensurepip: nothing here installs packages with pip. No test
# modules: CPython's own test suite is neither built nor installed (nor byte-compiled three
# times by make install), which takes minutes off each build.
configure=(--prefix="$prefix" --enable-shared --without-system-libmpdec --with-ensurepip=no
           --disable-test-modules LDFLAGS="-Wl,-rpath,$prefix/lib")
[[ $variant == t ]] && configure+=(--disable-gil)
[[ -n $tsan ]] && configure+=(--with-thread-sanitizer CC=clang-16 CXX=clang++-16)
jobs=$(nproc)
echo "-- configure ${configure[*]}"
(cd "$src" && ./configure "${configure[@]}" >"$work/configure.log" 2>&1) \
  || { tail -n 40 "$work/configure.log"; echo "error: configure failed" >&2; exit 1; }
echo "-- make -j$jobs (about 10 minutes on 2 cores)"
(cd "$src" && make -j"$jobs" >"$work/make.log" 2>&1) \
  || { tail -n 60 "$work/make.log"; echo "error: make failed" >&2; exit 1; }
# Modules the build could not make: a missing -dev package would silently drop e.g. _ssl.
missing=$(sed -nE '/^The necessary bits to build these optional modules were not found:/,/^$/p;
                    /^Following modules built successfully but were removed/,/^$/p;
                    /^The following modules found by detect_modules\(\) .* failed to build:/,/^$/p' \
          "$work/make.log" | grep -vE '^(The|Following|To find|$)' || true)
[[ -n $missing ]] && echo "-- note: modules not built: $(echo $missing)"
echo "-- make install"
(cd "$src" && make install DESTDIR="$work/root" >"$work/install.log" 2>&1) \
  || { tail -n 40 "$work/install.log"; echo "error: make install failed" >&2; exit 1; }
if [[ -n $tsan ]]; then
  mkdir -p "$work/root$prefix/share/isolates"
  cp "$src/Tools/tsan/suppressions_free_threading.txt" "$src/Tools/tsan/suppressions.txt" \
    "$work/root$prefix/share/isolates/"
fi
# Moved into place whole, so a build that stopped half-way never looks usable.
mv "$work/root$prefix" "$prefix"
"$prefix/bin/python$series$variant" -c 'import sys, ssl, hashlib, ctypes, sqlite3, zlib, decimal; print("-- built", sys.version.split()[0], ssl.OPENSSL_VERSION)'
echo "-- CPython $release$variant$tsan took $((SECONDS - started)) s"
echo "$prefix"
