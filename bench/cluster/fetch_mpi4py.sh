#!/usr/bin/env bash
# Unpacks Debian sid's python3-mpi4py (4.1.x) into DEST, never installing it: a temporary apt
# configuration of its own (sources list, state and cache under DEST/apt) downloads the .deb and
# `dpkg -x` unpacks it into DEST/root. Debian 12's own python3-mpi4py is built for python3.11
# only; sid's is built for newer CPythons and links libmpi.so.40, the soname Debian 12's Open MPI
# 4.1 has too, so cluster_bench can run mpi4py.futures on the CPython it embeds.
#
# usage: bench/cluster/fetch_mpi4py.sh DEST
# Prints the directory to put on PYTHONPATH (DEST/root/usr/lib/python3/dist-packages) last;
# exits non-zero, saying why, when it cannot. Does nothing but print when DEST already holds it.
set -euo pipefail
(($# == 1)) || { echo "usage: $0 DEST" >&2; exit 2; }
dest=$(mkdir -p "$1" && cd "$1" && pwd)
site=$dest/root/usr/lib/python3/dist-packages
if [[ -f $dest/unpacked ]]; then
  echo "$site"
  exit 0
fi
apt_dir=$dest/apt
rm -rf "$apt_dir" "$dest/root"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$dest/root"
cat >"$apt_dir/sources.list" <<LIST
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main
LIST
apt_options=(-o "Dir::Etc::sourcelist=$apt_dir/sources.list" -o Dir::Etc::sourceparts=-
  -o "Dir::State::lists=$apt_dir/lists" -o "Dir::Cache::archives=$apt_dir/archives"
  -o "Dir::Cache::pkgcache=$apt_dir/pkgcache.bin" -o "Dir::Cache::srcpkgcache=$apt_dir/srcpkgcache.bin"
  -o APT::Get::List-Cleanup=0 -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
echo "fetching sid's package index into $apt_dir" >&2
apt-get "${apt_options[@]}" update -qq >&2
(cd "$apt_dir/archives" && apt-get "${apt_options[@]}" download python3-mpi4py >&2)
deb=$(ls "$apt_dir"/archives/python3-mpi4py_*.deb)
dpkg -x "$deb" "$dest/root"
[[ -d $site/mpi4py ]] || { echo "$deb holds no $site/mpi4py" >&2; exit 1; }
basename "$deb" >"$dest/unpacked"
echo "$site"
