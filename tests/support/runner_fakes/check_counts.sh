#!/usr/bin/env bash
# usage: tests/support/runner_fakes/check_counts.sh MAIN_SOURCE_ROOT
# Proves the counting rules of MAIN_SOURCE_ROOT/scripts/test_results.py on fake test programs
# whose outcomes are known (this folder's meson project, built with the main tree's TAP reporter,
# skip.h and mpi_run.sh): configures and builds it in a temporary directory, runs its meson test,
# counts the results with test_results.py and checks the totals and every failure it names.
# Speaks TAP (meson's suite 'runner'): one `ok`/`not ok` line per check.
set -uo pipefail
root=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The fakes' meson tests set their sanitizer options themselves; none come from the caller's.
unset ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS TSAN_OPTIONS ISOLATES_SANITIZERS_DIR
# test_results.py names a failure after its build directory: "fakes <test>: <case>".
build=$work/fakes
source "$(dirname "$0")/../tap.sh"

build_fakes() {
  meson setup "$build" "$root/tests/support/runner_fakes" -Dmain_root="$root" &&
    ninja -C "$build"
}
check "the fake test programs build (with $root's TAP reporter)" build_fakes
((failed == 0)) || finish

# The fake project declares its MPI test only when it finds Open MPI and mpirun.
have_mpi=0
meson introspect --tests "$build" >"$work/tests.json"
grep -qF '"mpi-rank-leaks"' "$work/tests.json" && have_mpi=1

# Fakes fail on purpose: meson test's status says nothing here, its results do.
meson test -C "$build" --no-rebuild >"$work/meson-test.log" 2>&1
python3 "$root/scripts/test_results.py" "$build/meson-logs/testlog.json" >"$work/results" 2>&1
results_status=$?
sed 's/^/# /' "$work/results"

# test_log NAME: what meson recorded of fake test NAME: its exit status, stdout and stderr.
test_log() {
  python3 -c 'import json, sys
for line in open(sys.argv[1]):
    t = json.loads(line)
    if t["name"] == sys.argv[2]:
        print("returncode %s" % t["returncode"]); print(t["stdout"]); print(t["stderr"])' \
    "$build/meson-logs/testlog.json" "$1"
}
has_line() { grep -qxF -- "$2" "$1"; }
log_has() { test_log "$1" >"$work/test.log" && grep -qF -- "$2" "$work/test.log"; }
# ranks_pass_but NAME RANK: mpi_run.sh reports only RANK as failed.
ranks_pass_but() {
  test_log "$1" >"$work/test.log" && grep -qF "# rank $2 exited" "$work/test.log" &&
    (($(grep -c '^# rank [0-9] exited' "$work/test.log") == 1))
}

# Each fake program's share of the totals:
#   mixed         2 passed, 1 failed, 1 skipped (ISOLATES_SKIP is a skip, never a pass)
#   crash         1 passed, 1 failed: doctest still reports the crashed case `not ok` after the
#                 reporter's Bail out!, so the crash counts once, as that case
#   leak-at-exit  2 passed, 1 failed: its cases pass, LeakSanitizer's exit status 23 after them
#   mpi-rank-leaks 1 passed, 1 failed: rank 0's case passes, rank 1's leak fails mpi_run.sh
#   exit-skip     1 skipped (status 77); exit-ok 1 passed
expected=(
  "fakes mixed: Mixed.fails"
  "fakes crash: Crash.segfaults (crashed)"
  "fakes leak-at-exit: error, exit status 23 after its cases"
)
if ((have_mpi)); then
  totals="7 passed, 4 failed, 2 skipped"
  expected+=("fakes mpi-rank-leaks: error, exit status 1 after its cases")
else
  totals="6 passed, 3 failed, 2 skipped"
fi

check "test_results.py exits 1: something failed" test "$results_status" = 1
check "totals: $totals" test "$(tail -n 1 "$work/results")" = "$totals"
for line in "${expected[@]}"; do
  check "FAILED: $line" has_line "$work/results" "  FAILED: $line"
done
only_expected() { (($(grep -c '^  FAILED: ' "$work/results") == ${#expected[@]})); }
check "no other failure listed (${#expected[@]} in all)" only_expected
check "exit status 77 listed as skipped, never passed" has_line "$work/results" \
  "skipped: fakes exit-skip"
check "crash: the reporter names the crashed case in Bail out!" \
  log_has crash "Bail out! Crash.segfaults crashed"
check "crash: SIGSEGV ended the program" log_has crash "returncode -11"
check "leak-at-exit: failed by LeakSanitizer's report" \
  log_has leak-at-exit "ERROR: LeakSanitizer: detected memory leaks"
if ((have_mpi)); then
  check "mpi-rank-leaks: mpi_run.sh fails rank 1 for LeakSanitizer's status 23" \
    log_has mpi-rank-leaks "# rank 1 exited with status 23"
  check "mpi-rank-leaks: ranks 0 and 2 exit 0 (Open MPI's own leaks suppressed)" \
    ranks_pass_but mpi-rank-leaks 1
else
  skip "mpi-rank-leaks: the MPI fake" "no Open MPI (dependency mpi or mpirun not found)"
fi
finish
