#!/usr/bin/env bash
# run_fuzzer.sh FUZZER SECONDS WORK SEEDS: runs one libFuzzer target for SECONDS over the
# committed seeds (SEEDS, left unchanged) and a working corpus (WORK/corpus, where new inputs
# go); a crash leaves its reproducer in WORK/artifacts/ and fails the test.
set -uo pipefail
fuzzer=$1 seconds=$2 work=$3 seeds=$4
mkdir -p "$work/corpus" "$work/artifacts"
"$fuzzer" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
  "$work/corpus" "$seeds" >"$work/log" 2>&1
status=$?
grep -E '^stat::number_of_executed_units' "$work/log" || true
if ((status != 0)); then
  tail -n 60 "$work/log"
  echo "$fuzzer exited with status $status; reproducer(s): $(ls "$work/artifacts")"
  echo "rerun one with: $fuzzer $work/artifacts/<file>"
fi
exit $status
