#!/usr/bin/env bash
# Runs every benchmark program of one build, each to its end even when another failed, and checks
# that each wrote the figures bench/required_keys.txt lists for it (bench/check_keys.py).
#
# usage: bench/run_all.sh BUILD_DIR PYTHON_EXE [--quick|--smoke]
#   (full or --quick)  tables on stdout; the figures merged into build/bench/results.json (one
#                      flat JSON object of metric name to number, plus "python", "spread",
#                      "notes" and each program's "context", bench/context.py) and the
#                      workloads plot drawn into build/bench/workloads.svg
#   --smoke            every program in a tiny mode, whose figures mean nothing: it only proves
#                      that each runs and writes its keys. Output and JSON go to
#                      build/bench/smoke/NAME.log and NAME.json; results.json is left alone.
# Prints `ok: NAME` or `FAILED: NAME: why` for each program as it ends, then `N passed, N failed`
# last; exits with status 1 when any failed.
#
# The programs are the executables named *_bench that bench/ defines, as meson's introspection of
# BUILD_DIR lists them (not a glob: a program moved to another folder leaves its old binary in an
# existing build directory). Each takes the common command line (bench/command_line.h),
#   --json FILE --python PYTHON_EXE [--quick|--smoke]
# prints a table on stdout, progress on stderr, and measures the CPython reference (through
# PYTHON_EXE) in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
usage() {
  echo "usage: $0 BUILD_DIR PYTHON_EXE [--quick|--smoke]" >&2
  exit 2
}
(($# == 2 || $# == 3)) || usage
build_dir=$1 python=$2 mode=${3:-}
[[ -z $mode || $mode == --quick || $mode == --smoke ]] || usage
mode_name=${mode#--}
mode_name=${mode_name:-full} # bench/context.py records it
keys=bench/required_keys.txt
out_dir=build/bench
# A smoke program that has not ended after this long hangs (together they take well under a
# minute on 2 cores).
smoke_timeout=180

parts_dir=$out_dir
[[ $mode == --smoke ]] && parts_dir=$out_dir/smoke
mkdir -p "$parts_dir"

info=$build_dir/meson-info
if [[ ! -f $info/intro-targets.json ]]; then
  echo "$build_dir is not a configured meson build directory" >&2
  exit 1
fi
mapfile -t benches < <("$python" - "$info" <<'PY'
import json, os, sys
info = sys.argv[1]
with open(os.path.join(info, "meson-info.json")) as f:
    bench_dir = os.path.join(json.load(f)["directories"]["source"], "bench")
with open(os.path.join(info, "intro-targets.json")) as f:
    found = [t["filename"][0] for t in json.load(f)
             if t["type"] == "executable" and t["name"].endswith("_bench")
             and os.path.dirname(t["defined_in"]).startswith(bench_dir)]
print("\n".join(sorted(found)))
PY
)
((${#benches[@]})) || { echo "meson defines no benchmarks in $build_dir" >&2; exit 1; }

passed=0 failed=0 parts=() built=()
for bench in "${benches[@]}"; do
  name=$(basename "$bench")
  built+=("$name")
  json=$parts_dir/$name.json log=$parts_dir/$name.log why= status=0
  rm -f "$json" "$log" # a failed run must not leave an earlier run's figures or output behind
  load_before=$(cut -d' ' -f1-3 /proc/loadavg)
  if [[ ! -x $bench ]]; then
    why="not built (ninja -C $build_dir bench-programs)"
  else
    if [[ $mode == --smoke ]]; then
      echo "== $name (log: $log)" >&2
      timeout --kill-after=10 "$smoke_timeout" "$bench" --json "$json" --python "$python" --smoke \
        >"$log" 2>&1 || status=$?
    else
      echo "== $name" >&2
      "$bench" --json "$json" --python "$python" ${mode:+"$mode"} || status=$?
    fi
    if [[ $mode == --smoke ]] && ((status == 124)); then
      why="timed out after $smoke_timeout s"
    elif ((status != 0)); then
      why="exit status $status"
    elif ! "$python" bench/context.py "$json" "$mode_name" "$load_before"; then
      why="its JSON could not be read to add the context (bench/context.py failed)"
    elif why=$("$python" bench/check_keys.py "$keys" "$name" "$json"); then
      why=
    else
      why=${why:-"its keys could not be checked (bench/check_keys.py failed)"}
    fi
  fi
  if [[ -z $why ]]; then
    note=
    # A program that could not measure a reference says so on a line of its own.
    [[ $mode == --smoke ]] && note=$(grep -m1 '^reference skipped:' "$log" || true)
    echo "ok: $name${note:+ ($note)}"
    passed=$((passed + 1))
    parts+=("$json")
  else
    [[ $mode == --smoke && -f $log ]] && tail -n 20 "$log" | sed 's/^/  | /' >&2
    echo "FAILED: $name: $why"
    failed=$((failed + 1))
  fi
done

# Listed but not built: cluster_bench, when meson found no MPI.
while read -r name; do
  [[ " ${built[*]} " == *" $name "* ]] || echo "not built here: $name (listed in $keys)" >&2
done < <("$python" bench/check_keys.py "$keys" --names)

if [[ $mode != --smoke ]] && ((${#parts[@]})); then
  "$python" - "$out_dir/results.json" "${parts[@]}" <<'PY'
import json, os, platform, sys
# Figures side by side; each program's spread and notes merged, its context kept under its name.
merged = {"spread": {}, "notes": {}, "context": {}}
for part in sys.argv[2:]:
    with open(part) as f:
        figures = json.load(f)
    for key in ("spread", "notes"):
        merged[key].update(figures.pop(key, {}))
    figures.pop("rounds", None)
    merged["context"][os.path.basename(part)[:-len(".json")]] = figures.pop("context", {})
    merged.update(figures)
merged["python"] = platform.python_version()
with open(sys.argv[1], "w") as f:
    json.dump(merged, f, indent=1, sort_keys=True)
print("wrote", sys.argv[1], "with", len(merged), "figures", file=sys.stderr)
PY
  # The workloads benchmark's figures as a plot (gnuplot; run.sh bench installs gnuplot-nox).
  if grep -q '"workloads\.' "$out_dir/results.json"; then
    if command -v gnuplot >/dev/null; then
      "$python" bench/workloads/plot.py "$out_dir/results.json" "$out_dir/workloads.svg"
    else
      echo "gnuplot not found: no plot (install gnuplot-nox)" >&2
    fi
  fi
fi

echo "$passed passed, $failed failed"
((failed == 0))
