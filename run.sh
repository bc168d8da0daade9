#!/usr/bin/env bash
# The project's single entry point: ./run.sh setup|demo|test|fuzz|soak|bench [args]
set -euo pipefail
cd "$(dirname "$0")"

packages=(g++ meson ninja-build pkg-config cmake libboost-dev libmimalloc-dev doctest-dev
  openmpi-bin libopenmpi-dev libboost-mpi-dev) # the last three: the MPI executor (cluster/)
build_root=build
# A build variant (sanitizers, fuzzing) names its directories "$build_root/${build_variant}py3.X",
# appends `meson setup` options here and sets test_env for the test binary.
build_variant=
meson_extra_args=()
test_env=()
# A test binary that hangs (say, in sub-interpreter shutdown) must not hang CI forever.
test_timeout=${ISOLATES_TEST_TIMEOUT:-900}

usage() {
  cat >&2 <<EOF
usage: $0 setup|demo|test|fuzz|soak|bench|python [args]
  setup         install packages, build for every usable CPython >= 3.12
  demo [args]   build for the newest GIL CPython and run samples/workloads: the articles' three
                workloads on threads, isolates' pool, CPython's InterpreterPoolExecutor (3.14+),
                a free-threaded CPython's threads (when one is found) and ProcessPoolExecutor
  test [args]   build and run the tests (tests/isolates_tests, tests/channels/channels_tests)
                for every usable CPython (args go to doctest); without args, also install the
                newest GIL build into a temporary directory and build and run a program against
                it with CMake, pkg-config and meson (tests/install/check_install.sh)
  test --sanitize [args]
                the same tests under AddressSanitizer+UndefinedBehaviorSanitizer and under
                ThreadSanitizer, each in its own build (build/asan-py3.X, build/tsan-py3.X):
                ASan on the oldest and the newest GIL build, TSan on the newest
  test --sanitize=thread [args]
                the tests built by clang with TSan against a free-threaded CPython itself
                built with TSan (./run.sh python 3.14t-tsan, built here when missing)
  fuzz [seconds] build the libFuzzer targets with clang (build/fuzz-py3.X, newest GIL CPython) and
                run them for about that many seconds in total (default 60)
  soak [--quick] build for the newest GIL CPython and run tests/executor/soak: 1,000,000 pool tasks,
                10,000,000 channel messages, 1,000 pool and 10,000 channel create/destroy cycles,
                RSS checked against CPython's own per-interpreter leak (--quick: 1/100 of it)
  bench [args]  build for the newest GIL CPython and run the benchmarks (with a free-threaded
                CPython's threads beside them when one is found); figures go to
                build/bench/results.json, the workloads plot to build/bench/workloads.svg
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
  # What demo, bench, fuzz and soak use: the newest GIL build.
  newest=${gil_builds[0]:-0}
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

# build_for INDEX [ninja targets]: configure once, then let ninja (and meson's own regeneration) do the rest.
# Runs in a subshell so PKG_CONFIG_PATH stays scoped; every step is checked explicitly because
# callers use `build_for ... || ...`, which switches off set -e inside.
build_for() (
  local ver=${py_versions[$1]} dir="$build_root/${build_variant}py${py_versions[$1]}"
  export PKG_CONFIG_PATH="${py_libpcs[$1]}${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
  if [[ ! -f $dir/build.ninja ]]; then
    meson setup "$dir" "-Dpython_embed=python-$ver-embed" --buildtype=debugoptimized \
      "${meson_extra_args[@]}" || return 1
  fi
  ninja -C "$dir" "${@:2}" || return 1
)

# run_built PATH [args]: replaces this script with a program from the newest build.
run_built() {
  local prog="$build_root/py${py_versions[$newest]}/$1"; shift
  if [[ ! -x $prog ]]; then
    echo "$prog is not built yet" >&2
    exit 1
  fi
  exec "$prog" "$@"
}

header() { echo "== Python ${py_versions[$1]} (${py_exes[$1]})"; }

total_passed=0
total_failed=0
failures=()

# record_failure COUNT WHAT: counts COUNT failures and keeps WHAT for the list printed at the end.
record_failure() {
  total_failed=$((total_failed + $1))
  failures+=("$2")
  echo "FAILED: $2" >&2
}

# print_totals: the failures once more (the tail of a long log is what gets read), then the
# totals line CI parses; its status says whether anything failed.
print_totals() {
  if ((${#failures[@]})); then
    echo "failures:"
    printf '  %s\n' "${failures[@]}"
  fi
  echo "$total_passed passed, $total_failed failed"
  ((total_failed == 0))
}

# failed_test_cases LOG: the doctest test cases whose block in LOG (colour codes stripped)
# reports an error or a crash.
failed_test_cases() {
  awk '
    /^={20,}/ { test_case = ""; next }
    /^TEST CASE:/ { sub(/^TEST CASE:[[:space:]]*/, ""); test_case = $0; next }
    test_case != "" && /(ERROR|CRASHED)/ { print test_case; test_case = "" }' "$1" | sort -u
}

# The doctest binaries, relative to a build directory: the suite that links everything, and the
# pure C++ channel tests that link no Python layer.
test_binaries=(tests/isolates_tests tests/channels/channels_tests)

# run_tests_for INDEX [doctest args]: runs every test binary of this Python's build and adds
# their doctest counts to the totals.
run_tests_for() {
  local i=$1; shift
  local binary
  for binary in "${test_binaries[@]}"; do
    run_test_binary "$i" "$build_root/${build_variant}py${py_versions[$i]}/$binary" "$@"
  done
}

# run_test_binary INDEX PATH [doctest args]: adds this binary's doctest counts to the totals.
run_test_binary() {
  local i=$1 bin=$2; shift 2
  local name=${bin##*/} log status=0 summary
  if [[ ! -x $bin ]]; then
    record_failure 1 "$bin was not built"; return
  fi
  echo "-- $name"
  log=$(mktemp)
  # --foreground keeps the binary in our process group, so Ctrl-C still reaches it.
  timeout --foreground --kill-after=10 "$test_timeout" env "${test_env[@]}" \
    "${test_launcher[@]}" "$bin" --duration=false "$@" 2>&1 \
    | tee "$log" || status=$?
  ((status == 124)) && echo "$name timed out after ${test_timeout}s (ISOLATES_TEST_TIMEOUT)" >&2
  # Colour codes (--force-colors) would break the parse.
  sed -i 's/\x1b\[[0-9;]*m//g' "$log"
  summary=$(grep -E '^\[doctest\] test cases:' "$log" | tail -n1) || true
  local what="${build_variant}py${py_versions[$i]} $name" cases
  cases=$(failed_test_cases "$log" | paste -sd, | sed 's/,/, /g')
  rm -f "$log"
  if [[ -z $summary ]]; then
    record_failure 1 "$what exited with status $status and no doctest summary${cases:+ (in $cases)}"
    return
  fi
  local passed failed
  passed=$(sed -nE 's/.*\|[[:space:]]*([0-9]+) passed.*/\1/p' <<<"$summary")
  failed=$(sed -nE 's/.*\|[[:space:]]*([0-9]+) failed.*/\1/p' <<<"$summary")
  passed=${passed:-0} failed=${failed:-1}
  total_passed=$((total_passed + passed))
  ((failed == 0)) || record_failure "$failed" "$what: $failed failed: ${cases:-see its output above}"
  # A crash or hang after the summary (e.g. in interpreter shutdown) is still a failure; but
  # mpirun's status after a test killed a rank is Open MPI's to choose (a hang still times out).
  if ((status != 0 && failed == 0)) && [[ $status == 124 || ${#test_launcher[@]} == 0 ]]; then
    record_failure 1 "$what exited with status $status after reporting success"
  fi
}

# mpi_check INDEX: the MPI executor's tests (tests/cluster/mpi_tests), on 3 ranks of this
# machine: rank 0 runs the test cases, ranks 1 and 2 serve. --enable-recovery keeps the job
# alive when a test kills a rank. Under ASan, Open MPI's own leaks at MPI_Finalize are
# suppressed (lsan_mpi.supp), which needs the slow unwinder: Open MPI has no frame pointers.
test_launcher=()
mpi_check() {
  local i=$1 bin="$build_root/${build_variant}py${py_versions[$1]}/tests/cluster/mpi_tests"
  local saved_env=("${test_env[@]}") adjusted=() entry supp_file=
  if ! build_for "$i" tests/cluster/mpi_tests; then
    record_failure 1 "tests/cluster/mpi_tests could not be built (is MPI found? meson's summary says)"
    return
  fi
  if [[ $build_variant == asan- ]]; then
    supp_file=$(mktemp)
    cat "$supp/lsan.supp" "$supp/lsan_mpi.supp" >"$supp_file"
    for entry in "${test_env[@]}"; do
      case $entry in
        ASAN_OPTIONS=*) entry+=":fast_unwind_on_malloc=0" ;;
        LSAN_OPTIONS=*) entry="LSAN_OPTIONS=suppressions=$supp_file:print_suppressions=0" ;;
      esac
      adjusted+=("$entry")
    done
    test_env=("${adjusted[@]}")
  fi
  test_launcher=(mpirun --oversubscribe --enable-recovery -n 3)
  ((EUID == 0)) && test_launcher+=(--allow-run-as-root)
  for entry in "${test_env[@]}"; do test_launcher+=(-x "${entry%%=*}"); done
  echo "-- under ${test_launcher[*]}"
  run_test_binary "$i" "$bin"
  test_env=("${saved_env[@]}") test_launcher=()
  if [[ -n $supp_file ]]; then rm -f "$supp_file"; fi
}

# install_check INDEX: installs this Python's build into a temporary directory and builds and
# runs a consumer through CMake, pkg-config and meson (tests/install/check_install.sh); adds its
# checks to the totals.
install_check() {
  local i=$1 log status=0 summary passed failed
  echo "-- install and consumers (tests/install/check_install.sh)"
  log=$(mktemp)
  timeout --foreground --kill-after=10 "$test_timeout" tests/install/check_install.sh \
    "$build_root/py${py_versions[$i]}" "${py_exes[$i]}" 2>&1 | tee "$log" || status=$?
  summary=$(grep -E '^install checks: [0-9]+ passed, [0-9]+ failed$' "$log" | tail -n1) || true
  rm -f "$log"
  passed=$(sed -nE 's/.* ([0-9]+) passed.*/\1/p' <<<"$summary")
  failed=$(sed -nE 's/.* ([0-9]+) failed.*/\1/p' <<<"$summary")
  total_passed=$((total_passed + ${passed:-0}))
  ((${failed:-0} == 0)) || record_failure "$failed" "tests/install/check_install.sh: $failed checks failed"
  if [[ -z $summary ]] || ((status != 0 && ${failed:-0} == 0)); then
    record_failure 1 "tests/install/check_install.sh exited with status $status"
  fi
}

# --- Sanitizers ------------------------------------------------------------------------------
# libpython is not instrumented: a sanitizer build switches CPython to plain malloc (see
# interp/runtime.cpp) and tests/support/sanitizers/*.supp hides reports from CPython internals only.
supp="$PWD/tests/sanitizers"

# use_sanitizer asan|tsan INDEX: selects that build variant of Python INDEX for build_for and
# run_tests_for.
use_sanitizer() {
  # allocator_may_return_null: the tests ask for impossible allocations on purpose (MemoryError).
  case $1 in
    asan)
      build_variant=asan-
      meson_extra_args=(-Db_sanitize=address,undefined -Db_lundef=false -Dsanitize_tests=true)
      # 3.12 only: lsan.supp names a CPython 3.12 leak by its _curses frame, which ASan records
      # only with the slow unwinder (libpython has no frame pointers); that run takes ~5x longer.
      local unwind=
      if [[ ${py_versions[$2]} == 3.12 ]]; then unwind=:fast_unwind_on_malloc=0; fi
      test_env=(
        "ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:allocator_may_return_null=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_string_checks=1$unwind"
        "LSAN_OPTIONS=suppressions=$supp/lsan.supp:print_suppressions=0"
        "UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:suppressions=$supp/ubsan.supp"
      ) ;;
    tsan)
      build_variant=tsan-
      meson_extra_args=(-Db_sanitize=thread -Dsanitize_tests=true)
      test_env=(
        "TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:allocator_may_return_null=1:suppressions=$supp/tsan.supp"
      ) ;;
  esac
}

# tsan_cpython_tests [doctest args]: the suite built by clang 16 with ThreadSanitizer against a
# free-threaded CPython that is itself built with ThreadSanitizer (./run.sh python 3.14t-tsan,
# made here when missing), so races inside CPython are seen too, with CPython's own
# suppressions for its free-threaded build added to ours.
tsan_cpython_tests() {
  packages+=("${cpython_build_packages[@]}" "${fuzz_packages[@]}")
  ensure_packages
  local series=3.14t-tsan prefix
  prefix=$(scripts/build_cpython.sh "$series" | tail -n1) || {
    echo "FAILED: building CPython $series"; echo "0 passed, 1 failed"; return 1; }
  PYTHON="$prefix/bin/python3" allow_tsan=1 find_pythons
  build_variant=tsan-cpython-
  meson_extra_args=(-Db_sanitize=thread -Db_lundef=false -Dsanitize_tests=true)
  local dir="$build_root/${build_variant}py${py_versions[0]}" supp_all
  mkdir -p "$dir"
  supp_all="$PWD/$dir/tsan-all.supp"
  cat "$supp/tsan.supp" "$prefix"/share/isolates/suppressions*.txt >"$supp_all"
  test_env=("TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:allocator_may_return_null=1:suppressions=$supp_all")
  header 0
  if CXX=$fuzz_cxx CC=clang-16 build_for 0; then
    run_tests_for 0 "$@"
  else
    record_failure 1 "${build_variant}build for $prefix"
  fi
  print_totals
}

# --- Fuzzing ---------------------------------------------------------------------------------
# clang 16, not Debian 12's default clang 14: isolates/interp/convert.h captures structured bindings in
# lambdas (C++20), which clang supports only from version 16.
fuzz_packages=(clang-16 libclang-rt-16-dev)
fuzz_cxx=clang++-16
fuzz_targets=(value_wire_fuzzer value_python_fuzzer)

# fuzz_run SECONDS: builds the fuzz targets for the newest CPython and runs each for its share.
fuzz_run() {
  local seconds=$1 i=0 dir target share status failed=0 total_execs=0
  packages+=("${fuzz_packages[@]}")
  ensure_packages
  find_pythons
  header "$newest"
  build_variant=fuzz-
  meson_extra_args=(-Dfuzzing=true -Db_sanitize=address,undefined -Db_lundef=false
                    -Dcpp_args=-fsanitize=fuzzer-no-link -Dsanitize_tests=true)
  dir="$build_root/fuzz-py${py_versions[$newest]}"
  local ninja_targets=()
  for target in "${fuzz_targets[@]}"; do ninja_targets+=("tests/interp/fuzz/$target"); done
  if ! CXX=$fuzz_cxx build_for "$newest" "${ninja_targets[@]}"; then
    echo "FAILED: fuzz build"
    echo "0 passed, 1 failed"
    return 1
  fi
  share=$(( seconds / ${#fuzz_targets[@]} )); ((share > 0)) || share=1
  export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:allocator_may_return_null=1"
  export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
  export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$supp/ubsan.supp"
  for target in "${fuzz_targets[@]}"; do
    # New inputs go to the build dir; the committed seeds in tests/interp/fuzz/corpus/ stay unchanged.
    local work="$dir/corpus/$target" artifacts="$dir/artifacts/$target/" log="$dir/$target.log"
    mkdir -p "$work" "$artifacts"
    echo "-- $target for ${share}s"
    status=0
    "$dir/tests/fuzz/$target" -max_total_time="$share" -print_final_stats=1 \
      -artifact_prefix="$artifacts" "$work" "tests/interp/fuzz/corpus/$target" >"$log" 2>&1 || status=$?
    local execs
    execs=$(sed -nE 's/^stat::number_of_executed_units:[[:space:]]*([0-9]+).*/\1/p' "$log" | tail -n1)
    total_execs=$((total_execs + ${execs:-0}))
    if ((status != 0)); then
      failed=$((failed + 1))
      tail -n 60 "$log"
      echo "FAILED: $target exited with status $status; reproducer(s):" $(ls "$artifacts")
      echo "  rerun one with: $dir/tests/fuzz/$target $artifacts<file>"
    else
      echo "   ${execs:-?} executions, $(ls "$work" | wc -l) inputs in the working corpus, no crash"
    fi
  done
  echo "fuzzing: $total_execs executions in total"
  echo "$(( ${#fuzz_targets[@]} - failed )) passed, $failed failed"
  ((failed == 0))
}

cmd=${1:-}
(($#)) && shift
case $cmd in
  setup)
    ensure_packages
    find_pythons
    for i in "${!py_versions[@]}"; do header "$i"; build_for "$i"; done
    ;;
  demo)
    ensure_packages
    find_pythons
    header "$newest"
    build_for "$newest"
    # The articles' three workloads (a CPU loop, hashlib.sha256, CSV rows hashed through map)
    # on every model of parallelism this machine has, in one table.
    run_built samples/workloads --python "${py_exes[$newest]}" --repeat 3 \
      ${freethreaded_exe:+--freethreaded-python "$freethreaded_exe"} "$@"
    ;;
  test)
    ensure_packages
    find_pythons
    # Each run is "variant:python index". Plain: every Python found. Sanitizers (CI's matrix):
    # ASan+UBSan on the oldest and the newest GIL build, TSan on the newest GIL build.
    runs=()
    if [[ ${1:-} == --sanitize=thread ]]; then
      shift
      tsan_cpython_tests "$@"
      exit
    elif [[ ${1:-} == --sanitize ]]; then
      shift
      ((${#gil_builds[@]})) || no_python "the sanitizer builds need a GIL build of CPython."
      oldest=${gil_builds[-1]}
      runs=("asan:$oldest")
      ((oldest != newest)) && runs+=("asan:$newest")
      runs+=("tsan:$newest")
    else
      for i in "${!py_versions[@]}"; do runs+=("plain:$i"); done
    fi
    for run in "${runs[@]}"; do
      variant=${run%%:*} i=${run#*:}
      if [[ $variant != plain ]]; then
        use_sanitizer "$variant" "$i"
        echo "== $variant"
      fi
      header "$i"
      if build_for "$i" test-programs; then
        run_tests_for "$i" "$@"
        # Once, for the newest GIL build, and not when doctest arguments pick some tests.
        if [[ $variant == plain && $i == "$newest" && $# == 0 ]]; then
          # The MPI tests first: building them builds libisolates-mpi, which meson install
          # (without rebuilding) installs with the rest.
          mpi_check "$i"
          install_check "$i"
        fi
        # The MPI tests under ASan too (Open MPI is not built for TSan: not run there).
        if [[ $variant == asan && $i == "$newest" && $# == 0 ]]; then mpi_check "$i"; fi
      else
        # Counted as a failure so the final line alone tells CI something is wrong.
        record_failure 1 "${build_variant}build for Python ${py_versions[$i]}"
      fi
    done
    print_totals
    ;;
  python)
    (($#)) || usage
    packages+=("${cpython_build_packages[@]}")
    ensure_packages
    for series in "$@"; do scripts/build_cpython.sh "$series"; done
    ;;
  fuzz)
    fuzz_run "${1:-60}"
    ;;
  soak)
    ensure_packages
    find_pythons
    header "$newest"
    if ! build_for "$newest"; then
      echo "FAILED: build for Python ${py_versions[$newest]}"
      echo "0 passed, 1 failed"
      exit 1
    fi
    # Same guard as the tests: a hang must not hang CI.
    exec timeout --foreground --kill-after=10 "$test_timeout" \
      "$build_root/py${py_versions[$newest]}/tests/soak/soak" "$@"
    ;;
  bench)
    # bench/workloads/plot.py draws with gnuplot; cluster_bench compares with mpi4py.futures.
    packages+=(gnuplot-nox python3-mpi4py)
    ensure_packages
    find_pythons
    header "$newest"
    build_for "$newest"
    # executor_bench measures threads of one free-threaded interpreter through this.
    export ISOLATES_FREETHREADED_PYTHON=$freethreaded_exe
    exec bench/run_all.sh "$build_root/py${py_versions[$newest]}" "${py_exes[$newest]}" "$@"
    ;;
  *) usage ;;
esac
