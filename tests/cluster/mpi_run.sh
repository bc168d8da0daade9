#!/usr/bin/env bash
# mpi_run.sh KILLED PROGRAM [ARGS...]: runs PROGRAM on 3 ranks of this machine under mpirun
# (--enable-recovery keeps the job alive when a test kills a rank) and exits 0 only when every
# rank exited 0, except that exactly KILLED ranks other than rank 0 must have died of SIGKILL
# (a test that kills a rank on purpose). So a leak or sanitizer report at any rank's exit, a
# crash in teardown or a rank that never ends (the meson timeout) fails the test. Each rank's
# exit status is written by a small shell around it, since mpirun reports only one.
# Under ASan (ASAN_OPTIONS set by the test setup), Open MPI's own leaks at MPI_Finalize are
# suppressed too (lsan_mpi.supp), which needs the slow unwinder: Open MPI has no frame pointers.
# They are added to this CPython's suppressions (ISOLATES_LSAN_SUPPRESSIONS, which tests/meson.build
# joins), or to the ones for every CPython when that is not set.
set -uo pipefail
killed_expected=$1
shift
statuses=$(mktemp -d)
trap 'rm -rf "$statuses"' EXIT
if [[ -n ${ASAN_OPTIONS:-} ]]; then
  supp_dir=${ISOLATES_SANITIZERS_DIR:?the asan test setup sets ISOLATES_SANITIZERS_DIR}
  cat "${ISOLATES_LSAN_SUPPRESSIONS:-$supp_dir/lsan.supp}" "$supp_dir/lsan_mpi.supp" >"$statuses/lsan.supp"
  export ASAN_OPTIONS="$ASAN_OPTIONS:fast_unwind_on_malloc=0"
  export LSAN_OPTIONS="suppressions=$statuses/lsan.supp:print_suppressions=0"
fi
launcher=(mpirun --oversubscribe --enable-recovery -n 3)
((EUID == 0)) && launcher+=(--allow-run-as-root)
for name in ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS TSAN_OPTIONS; do
  [[ -n ${!name:-} ]] && launcher+=(-x "$name")
done
# The rank's status goes to a file named after its rank (Open MPI's OMPI_COMM_WORLD_RANK).
"${launcher[@]}" bash -c '"$@"; status=$?; echo $status >"'"$statuses"'/rank-$OMPI_COMM_WORLD_RANK"; exit $status' \
  rank "$@" </dev/null
mpirun_status=$?

failed=0 killed=0
for rank in 0 1 2; do
  status=$(cat "$statuses/rank-$rank" 2>/dev/null || echo missing)
  if [[ $status == 0 ]]; then continue; fi
  if [[ $status == 137 && $rank != 0 ]] && ((killed < killed_expected)); then
    killed=$((killed + 1)); continue
  fi
  echo "# rank $rank exited with status $status (mpirun: $mpirun_status)" >&2
  failed=1
done
if ((killed != killed_expected)); then
  echo "# expected $killed_expected rank(s) killed by SIGKILL, saw $killed" >&2
  failed=1
fi
exit $failed
