#!/usr/bin/env bash
# The project's single entry point: set-up and dispatch. It installs what is needed (Debian
# packages, CPythons), configures one meson build directory per CPython and build variant, and
# hands the rest to meson: building, running tests (meson test), counting them
# (scripts/test_results.py reads meson's results). What each test stage runs is declared in
# scripts/test_matrix.txt.
set -euo pipefail
cd "$(dirname "$0")"

packages=(g++ meson ninja-build pkg-config cmake libboost-dev libmimalloc-dev doctest-dev
  openmpi-bin libopenmpi-dev libboost-mpi-dev) # the last three: the MPI executor (cluster/)
build_root=build

usage() {
  cat >&2 <<EOF
usage: $0 setup|demo|test|fuzz|soak|bench|coverage|python [args]
  setup         install packages, configure and build for every usable CPython >= 3.12
  demo [args]   build for the newest GIL CPython and run samples/workloads: the seeds' three
                workloads on threads, isolates' pool, CPython's InterpreterPoolExecutor (3.14+),
                a free-threaded CPython's threads (when one is found) and ProcessPoolExecutor
  test [meson test args]
                build and run stage 'test' of scripts/test_matrix.txt: the unit, reliability and
                compile-fail suites on every usable CPython, the MPI, install and runner
                suites on the newest GIL build; ends with 'N passed, N failed[, N skipped]'
                counting test cases. Arguments go to meson test instead of the matrix's suites
                (e.g. --suite process, or a test name such as executor).
  test --sanitize [meson test args]
                stage 'sanitize': ASan+UBSan on the oldest and the newest GIL build (the MPI
                suite too on the newest), TSan on the newest, each its own build directory
                (build/asan-py3.X, build/tsan-py3.X) and meson test setup
  test --sanitize=thread [meson test args]
                the tests built by clang with TSan against a free-threaded CPython itself
                built with TSan (./run.sh python 3.14t-tsan, built here when missing)
  fuzz [seconds] stage 'fuzz': the libFuzzer targets, built by clang (build/fuzz-py3.X),
                each running that many seconds (default 60), two at a time
  soak [--quick] stage 'soak': tests/executor/soak on the newest GIL build: 1,000,000 pool
                tasks, 10,000,000 channel messages, 1,000 pool and 10,000 channel create/destroy
                cycles, RSS checked against CPython's own per-interpreter leak (--quick: 1/100)
  bench [--smoke|--quick]
                build for the newest GIL CPython and run every benchmark (bench/run_all.sh);
                figures go to build/bench/results.json, the workloads plot to
                build/bench/workloads.svg. --smoke: every bench in a tiny mode, its JSON checked
  coverage      the unit and reliability suites on the newest GIL build built with coverage,
                then line coverage per component (gcovr)
  python 3.X... build these CPythons (3.14, 3.15, 3.14t free-threaded, 3.14t-tsan) from source
                into $python_cache, where the commands above find them (about 6-10 minutes
                each on 2 cores, once; pinned in scripts/cpython_sources.txt)
EOF
  exit 2
}

ensure_packages() {
  local missing=() pkg
  for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' \
      || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  local sudo=()
  if ((EUID != 0)) && command -v sudo >/dev/null; then sudo=(sudo); fi
  echo "installing: ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
}

# `./run.sh python 3.X[t]` builds that CPython (scripts/build_cpython.sh) with these, so its
# standard library is complete: _ssl/_hashlib, _ctypes, zlib, bz2, lzma, zstd (3.14's
# compression.zstd), sqlite3, readline, curses, uuid, dbm.
cpython_build_packages=(make curl xz-utils libssl-dev libffi-dev zlib1g-dev libbz2-dev liblzma-dev
  libzstd-dev libsqlite3-dev libreadline-dev libncurses-dev uuid-dev libgdbm-dev libgdbm-compat-dev)
python_cache=${ISOLATES_PYTHON_CACHE:-$HOME/.cache/isolates/cpython}
# clang 16, not Debian 12's default clang 14: interp/convert.h captures structured bindings in
# lambdas (C++20), which clang supports only from version 16. For libFuzzer and TSan's CPython.
clang_packages=(clang-16 libclang-rt-16-dev)

# Prints, one per line: verdict, full version, real prefix, LIBPC, build key, reason when unusable.
# The build key is the ABI the embed file is named by: "3.14", or "3.14t" for a free-threaded
# build, so the two builds of one version get build directories of their own.
# Kept Python-2 compatible so that a wrong $PYTHON still gets a useful explanation.
probe_script='
import os, sys, sysconfig
v = sys.version_info
cv = sysconfig.get_config_var
libpc = cv("LIBPC") or ""
key = "%d.%d%s" % (v[0], v[1], cv("Py_GIL_DISABLED") == 1 and "t" or "")
pc = "python-%s-embed.pc" % key
why = ""
if v < (3, 12):
    why = "is Python %d.%d, need >= 3.12" % (v[0], v[1])
elif "--with-thread-sanitizer" in (cv("CONFIG_ARGS") or "") and sys.argv[1:] != ["allow-tsan"]:
    why = "is built with ThreadSanitizer (only ./run.sh test --sanitize=thread uses it)"
elif cv("Py_ENABLE_SHARED") != 1:
    why = "was not built with --enable-shared, so there is no libpython to embed"
elif not os.path.isfile(os.path.join(libpc, pc)):
    why = "has no %s in %s" % (pc, libpc or "its LIBPC")
print("\n".join([why and "no" or "ok", "%d.%d.%d" % tuple(v[:3]),
                 os.path.realpath(sys.prefix), libpc or "-", key, why or "-"]))
'

no_python() {
  cat >&2 <<EOF2
error: $1
isolates needs a CPython >= 3.12 configured with --enable-shared, which ships
python-3.X-embed.pc. Build one here (about 10 minutes, once):
    ./run.sh python 3.14
or install one, e.g. PYTHON_CONFIGURE_OPTS=--enable-shared pyenv install 3.13, then run again,
or point at one explicitly:
    PYTHON=/path/to/python3.X ./run.sh ...
EOF2
  exit 1
}

# Fills py_exes, py_versions (build keys: 3.X, 3.Xt) and py_libpcs, newest first (a GIL build
# before the free-threaded build of the same version); only the newest of each key, because the
# build directory is per key. gil_builds holds the indices of the GIL builds, newest first.
find_pythons() {
  local candidates=() root
  if [[ -n ${PYTHON:-} ]]; then
    candidates=("$PYTHON")
  else
    candidates=(python3.15 python3.14 python3.13 python3.12)
    root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
    candidates+=("$python_cache"/*/bin/python3 "$root"/versions/*/bin/python3)
  fi
  local exe out lines=() info
  declare -A seen_prefix=()
  for exe in "${candidates[@]}"; do
    # pyenv shims exist on PATH even for versions that are not activated; they just fail.
    if ! out=$("$exe" -E -s -c "$probe_script" ${allow_tsan:+allow-tsan} 2>/dev/null); then
      [[ -n ${PYTHON:-} ]] && no_python "PYTHON=$PYTHON could not be run (try running it yourself)."
      continue
    fi
    mapfile -t info <<<"$out"
    if [[ ${info[0]} != ok ]]; then
      [[ -n ${PYTHON:-} ]] && no_python "PYTHON=$PYTHON ${info[5]}."
      continue
    fi
    [[ -n ${seen_prefix[${info[2]}]:-} ]] && continue
    seen_prefix[${info[2]}]=1
    lines+=("${info[1]}"$'\t'"${info[4]}"$'\t'"$exe"$'\t'"${info[3]}")
  done
  py_exes=() py_versions=() py_libpcs=() gil_builds=()
  declare -A seen_key=()
  local full key libpc
  while IFS=$'\t' read -r full key exe libpc; do
    [[ -n ${seen_key[$key]:-} ]] && continue
    seen_key[$key]=1
    [[ $key == *t ]] || gil_builds+=("${#py_exes[@]}")
    py_exes+=("$exe") py_versions+=("$key") py_libpcs+=("$libpc")
  done < <(((${#lines[@]})) && printf '%s\n' "${lines[@]}" | sort -t$'\t' -k1,1Vr -k2,2)
  if ((${#py_exes[@]} == 0)); then
    # Nothing usable on this machine: build the newest stable CPython here once (the cache is
    # searched above), so a fresh machine needs nothing done by hand.
    [[ -z ${PYTHON:-} && -z ${building_fallback:-} ]] || no_python "no usable CPython found."
    echo "no usable CPython found: building CPython 3.14 with ./run.sh python 3.14 (once)"
    packages+=("${cpython_build_packages[@]}")
    ensure_packages
    scripts/build_cpython.sh 3.14 || no_python "building CPython 3.14 failed."
    building_fallback=1 find_pythons
    return
  fi
  # What demo, bench, fuzz and soak use: the newest GIL build; the sanitizer stage also the oldest.
  newest=${gil_builds[0]:-0}
  oldest=${gil_builds[-1]:-0}
  # The free-threaded CPython that demo and bench measure beside it: the same version's, or the
  # newest one found; empty when there is none.
  freethreaded_exe=
  local k
  for k in "${!py_versions[@]}"; do
    [[ ${py_versions[$k]} == *t ]] || continue
    [[ -z $freethreaded_exe || ${py_versions[$k]} == "${py_versions[$newest]}t" ]] \
      && freethreaded_exe=${py_exes[$k]}
  done
}

# variant_options VARIANT: sets variant_args (meson setup options) and variant_env (compiler
# choice) of a build variant. Warnings are errors in every build CI makes. Debug information is
# line tables only (-g1): enough for every stack trace a sanitizer or debugger prints, and a
# tenth less compile time than full -g.
variant_options() {
  variant_args=(--buildtype=debugoptimized -Dwerror=true) variant_env=()
  local cpp_args=-g1
  case $1 in
    plain) ;;
    coverage) variant_args+=(-Db_coverage=true) ;;
    # Two warnings the sanitizers bring are not errors: GCC's maybe-uninitialized reports false
    # positives through ASan's instrumentation (in Boost.MPI's status.hpp), and -Wtsan says only
    # that TSan does not model std::atomic_thread_fence (the fences are explained where used).
    # ASan+UBSan at -O1, as ASan's documentation advises: GCC compiles the instrumented unity
    # files in less than half the time -O2 takes, and the tests run about as fast.
    asan) variant_args+=(-Db_sanitize=address,undefined -Db_lundef=false -Dsanitize_tests=true
                         -Doptimization=1)
          cpp_args+=" -Wno-error=maybe-uninitialized" ;;
    tsan) variant_args+=(-Db_sanitize=thread -Dsanitize_tests=true)
          cpp_args+=" -Wno-tsan" ;;
    fuzz)
      variant_args+=(-Dfuzzing=true -Db_sanitize=address,undefined -Db_lundef=false
                     -Dsanitize_tests=true)
      cpp_args+=" -fsanitize=fuzzer-no-link"
      variant_env=(CXX=clang++-16 CC=clang-16) ;;
    tsan-cpython)
      variant_args+=(-Db_sanitize=thread -Db_lundef=false -Dsanitize_tests=true)
      variant_env=(CXX=clang++-16 CC=clang-16) ;;
    *) echo "unknown build variant $1" >&2; exit 2 ;;
  esac
  variant_args+=("-Dcpp_args=$cpp_args")
}

# build_dir VARIANT INDEX: build/py3.15, build/asan-py3.15, ...
build_dir() {
  local prefix=$1-
  [[ $1 == plain ]] && prefix=
  echo "$build_root/${prefix}py${py_versions[$2]}"
}

# build VARIANT INDEX [ninja targets]: configures the directory once (meson regenerates itself
# after that), then builds the targets. Returns non-zero when either fails.
build() (
  local variant=$1 i=$2 dir
  dir=$(build_dir "$variant" "$i")
  variant_options "$variant"
  export PKG_CONFIG_PATH="${py_libpcs[$i]}${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
  if [[ ! -f $dir/build.ninja ]]; then
    env "${variant_env[@]}" meson setup "$dir" "-Dpython_embed=python-${py_versions[$i]}-embed" \
      "${variant_args[@]}" ${extra_setup_args[@]+"${extra_setup_args[@]}"} || return 1
  elif ((${#extra_setup_args[@]})); then
    meson configure "$dir" "${extra_setup_args[@]}" || return 1
  fi
  ninja -C "$dir" "${@:3}"
)
extra_setup_args=()

header() { echo "== Python ${py_versions[$1]} (${py_exes[$1]})${2:+, $2}"; }

# run_stage STAGE [meson test args]: every row of STAGE in scripts/test_matrix.txt, grouped by
# build directory: builds the suites' programs (ninja suite-<suite>), runs them with one
# `meson test`, then counts every run's test cases (scripts/test_results.py). Extra arguments
# replace the matrix's suites. Returns non-zero when anything failed.
run_stage() {
  local stage=$1; shift
  local row_stage variant pythons suites order=() key i
  declare -A suites_of=()
  while read -r row_stage variant pythons suites; do
    [[ -z $row_stage || $row_stage == \#* || $row_stage != "$stage" ]] && continue
    local indices=()
    case $pythons in
      every) indices=("${!py_versions[@]}") ;;
      newest) indices=("$newest") ;;
      oldest) indices=("$oldest") ;;
      *) echo "scripts/test_matrix.txt: unknown pythons '$pythons'" >&2; return 2 ;;
    esac
    for i in "${indices[@]}"; do
      key="$variant:$i"
      [[ -z ${suites_of[$key]+set} ]] && order+=("$key")
      suites_of[$key]="${suites_of[$key]:-} $suites"
    done
  done <scripts/test_matrix.txt
  ((${#order[@]})) || { echo "no rows of stage $stage in scripts/test_matrix.txt" >&2; return 2; }
  local logs=() build_failures=() dir setup suite targets test_args
  for key in "${order[@]}"; do
    variant=${key%%:*} i=${key#*:}
    dir=$(build_dir "$variant" "$i")
    read -ra suites <<<"${suites_of[$key]}"
    header "$i" "$variant: ${suites[*]}"
    targets=() test_args=()
    for suite in "${suites[@]}"; do targets+=("suite-$suite"); test_args+=(--suite "$suite"); done
    (($#)) && test_args=("$@")
    if ! build "$variant" "$i" "${targets[@]}"; then
      build_failures+=(--failure "$dir: the build failed (see the compiler output above)")
      continue
    fi
    setup=() log=testlog.json
    case $variant in asan|fuzz) setup=(--setup asan) log=testlog-asan.json ;;
                     tsan|tsan-cpython) setup=(--setup tsan) log=testlog-tsan.json ;; esac
    # meson test writes its results, which are counted below; its own status is not needed.
    meson test -C "$dir" --no-rebuild --print-errorlogs "${setup[@]}" "${test_args[@]}" || true
    logs+=("$dir/meson-logs/$log")
  done
  echo "== $stage: counted from meson's results"
  python3 scripts/test_results.py "${build_failures[@]}" "${logs[@]}"
}

# tsan_cpython_tests [meson test args]: the unit and reliability suites built by clang 16 with
# ThreadSanitizer against a free-threaded CPython that is itself built with ThreadSanitizer
# (./run.sh python 3.14t-tsan, made here when missing), so races inside CPython are seen too,
# with CPython's own suppressions for its free-threaded build added to ours.
tsan_cpython_tests() {
  packages+=("${cpython_build_packages[@]}" "${clang_packages[@]}")
  ensure_packages
  local prefix
  prefix=$(scripts/build_cpython.sh 3.14t-tsan | tail -n1) || {
    echo "FAILED: building CPython 3.14t-tsan"; echo "0 passed, 1 failed"; return 1; }
  PYTHON="$prefix/bin/python3" allow_tsan=1 find_pythons
  local dir supp_all
  dir=$(build_dir tsan-cpython 0)
  header 0 tsan-cpython
  build tsan-cpython 0 suite-unit || { echo "FAILED: the build"; echo "0 passed, 1 failed"; return 1; }
  supp_all="$PWD/$dir/tsan-all.supp"
  cat tests/support/sanitizers/tsan.supp "$prefix"/share/isolates/suppressions*.txt >"$supp_all"
  TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:allocator_may_return_null=1:suppressions=$supp_all" \
    meson test -C "$dir" --no-rebuild --print-errorlogs --timeout-multiplier 4 \
    ${@:---suite unit --suite reliability} || true
  python3 scripts/test_results.py "$dir/meson-logs/testlog.json"
}

# coverage_report: line coverage per component of the coverage build's last test run.
coverage_report() {
  local dir=$1
  gcovr -r . --object-directory "$dir" --json-summary "$dir/coverage.json" \
    -e 'tests/' -e 'bench/' -e 'samples/' -e 'subprojects/' -e 'build/' >/dev/null
  python3 - "$dir/coverage.json" <<'PY'
import json, sys
files = json.load(open(sys.argv[1]))["files"]
parts = {}
for f in files:
    part = f["filename"].split("/")[0]
    total, covered = parts.get(part, (0, 0))
    parts[part] = (total + f["line_total"], covered + f["line_covered"])
print("%-10s %8s %8s %7s" % ("component", "lines", "covered", "percent"))
for part, (total, covered) in sorted(parts.items()):
    print("%-10s %8d %8d %6.1f%%" % (part, total, covered, 100.0 * covered / max(total, 1)))
total = sum(t for t, _ in parts.values()); covered = sum(c for _, c in parts.values())
print("%-10s %8d %8d %6.1f%%" % ("all", total, covered, 100.0 * covered / max(total, 1)))
PY
}

cmd=${1:-}
(($#)) && shift
case $cmd in
  setup)
    ensure_packages
    find_pythons
    for i in "${!py_versions[@]}"; do header "$i"; build plain "$i"; done
    ;;
  demo)
    ensure_packages
    find_pythons
    header "$newest"
    build plain "$newest" samples/workloads
    # The seeds' three workloads (a CPU loop, hashlib.sha256, CSV rows hashed through map)
    # on every model of parallelism this machine has, in one table.
    exec "$(build_dir plain "$newest")/samples/workloads" --python "${py_exes[$newest]}" \
      --repeat 3 ${freethreaded_exe:+--freethreaded-python "$freethreaded_exe"} "$@"
    ;;
  test)
    if [[ ${1:-} == --sanitize=thread ]]; then
      shift
      tsan_cpython_tests "$@"
      exit
    fi
    stage=test
    if [[ ${1:-} == --sanitize ]]; then shift; stage=sanitize; fi
    ensure_packages
    find_pythons
    ((${#gil_builds[@]})) || [[ $stage == test ]] \
      || no_python "the sanitizer builds need a GIL build of CPython."
    run_stage "$stage" "$@"
    ;;
  python)
    (($#)) || usage
    packages+=("${cpython_build_packages[@]}")
    ensure_packages
    # In parallel: one build's serial steps (configure, install) overlap another's compiling.
    logs=$(mktemp -d) pids=() status=0
    for series in "$@"; do
      scripts/build_cpython.sh "$series" >"$logs/$series.log" 2>&1 &
      pids+=($!)
    done
    for k in "${!pids[@]}"; do
      wait "${pids[$k]}" || { status=1; echo "FAILED: building CPython ${*:k+1:1}"; }
      cat "$logs/${*:k+1:1}.log"
    done
    rm -rf "$logs"
    exit $status
    ;;
  fuzz)
    seconds=${1:-60}
    packages+=("${clang_packages[@]}")
    ensure_packages
    find_pythons
    # Each target runs that long, the targets side by side (one core each).
    extra_setup_args=("-Dfuzz_seconds=$seconds")
    run_stage fuzz
    ;;
  soak)
    ensure_packages
    find_pythons
    if [[ ${1:-} == --quick ]]; then run_stage soak --suite soak --test-args=--quick
    else run_stage soak; fi
    ;;
  bench)
    # bench/workloads/plot.py draws with gnuplot; cluster_bench compares with mpi4py.futures
    # (a smoke run needs neither: it skips the reference when mpi4py is missing, and plots nothing).
    [[ ${1:-} == --smoke ]] || packages+=(gnuplot-nox python3-mpi4py)
    ensure_packages
    find_pythons
    header "$newest"
    build plain "$newest" bench-programs
    # executor_bench measures threads of one free-threaded interpreter through this.
    export ISOLATES_FREETHREADED_PYTHON=$freethreaded_exe
    # cluster_bench runs mpi4py.futures on the bench's own CPython when it can: Debian sid's
    # python3-mpi4py, unpacked under build/ (never installed); else Debian 12's on its python3.
    if [[ ${1:-} != --smoke ]]; then
      ISOLATES_MPI4PY_PATH=$(bench/cluster/fetch_mpi4py.sh "$build_root/mpi4py-sid") \
        || { echo "could not unpack sid's python3-mpi4py: cluster_bench uses Debian 12's" >&2
             ISOLATES_MPI4PY_PATH=; }
      export ISOLATES_MPI4PY_PATH
    fi
    exec bench/run_all.sh "$(build_dir plain "$newest")" "${py_exes[$newest]}" "$@"
    ;;
  coverage)
    packages+=(gcovr)
    ensure_packages
    find_pythons
    dir=$(build_dir coverage "$newest")
    header "$newest" coverage
    build coverage "$newest" test-programs
    find "$dir" -name '*.gcda' -delete
    meson test -C "$dir" --no-rebuild --suite unit --suite reliability || true
    python3 scripts/test_results.py "$dir/meson-logs/testlog.json" || true
    coverage_report "$dir"
    ;;
  *) usage ;;
esac
