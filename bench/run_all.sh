#!/usr/bin/env bash
# Runs every benchmark program of one build and merges their figures into
# build/bench/results.json: one flat JSON object of metric name to number, plus "python".
#
# usage: bench/run_all.sh BUILD_DIR PYTHON_EXE [--quick]
# Each benchmark is an executable BUILD_DIR/bench/*/*_bench taking
#   --json FILE --python PYTHON_EXE [--quick]
# that prints a table on stdout, progress on stderr, and measures the CPython reference
# (through PYTHON_EXE) in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=$1 python=$2
shift 2
out_dir=build/bench
mkdir -p "$out_dir"
parts=()
shopt -s nullglob
benches=("$build_dir"/bench/*/*_bench)
((${#benches[@]})) || { echo "no benchmarks are built in $build_dir/bench" >&2; exit 1; }
for bench in "${benches[@]}"; do
  name=$(basename "$bench")
  echo "== $name" >&2
  "$bench" --json "$out_dir/$name.json" --python "$python" "$@"
  parts+=("$out_dir/$name.json")
done
"$python" - "$out_dir/results.json" "${parts[@]}" <<'PY'
import json, platform, sys
merged = {}
for part in sys.argv[2:]:
    with open(part) as f:
        merged.update(json.load(f))
merged["python"] = platform.python_version()
with open(sys.argv[1], "w") as f:
    json.dump(merged, f, indent=1, sort_keys=True)
print("wrote", sys.argv[1], "with", len(merged), "figures")
PY
# The workloads benchmark's figures as a plot (gnuplot; run.sh bench installs gnuplot-nox).
if grep -q '"workloads\.' "$out_dir/results.json"; then
  if command -v gnuplot >/dev/null; then
    "$python" bench/workloads/plot.py "$out_dir/results.json" "$out_dir/workloads.svg"
  else
    echo "gnuplot not found: no plot (install gnuplot-nox)" >&2
  fi
fi
