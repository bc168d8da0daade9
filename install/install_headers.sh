#!/bin/sh
# meson install script: install_headers.sh INCLUDEDIR SUBDIR HEADER...
# Copies the public headers into $DESTDIR/INCLUDEDIR/SUBDIR. In the source tree they include
# each other as "interp/value.h" (the tree's root is on the include path); installed, a consumer
# has only INCLUDEDIR on its include path (so that our interp/, channels/, ... never sit beside
# its own folders), and each such line becomes #include <isolates/interp/value.h>.
set -eu
includedir=$1 subdir=$2
shift 2
dest="${DESTDIR:-}$includedir/$subdir"
mkdir -p "$dest"
for header in "$@"; do
  case $header in /*) ;; *) header="$MESON_SOURCE_ROOT/$header" ;; esac
  out="$dest/${header##*/}"
  sed 's@^\([[:space:]]*#[[:space:]]*include[[:space:]]*\)"\(\(base\|channels\|executor\|interp\|python\)/[^"]*\)"@\1<isolates/\2>@' \
    "$header" >"$out"
  chmod 644 "$out"
  [ -n "${MESON_INSTALL_QUIET:-}" ] || echo "Installing $header to $dest"
done
