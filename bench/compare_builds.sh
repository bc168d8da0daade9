#!/usr/bin/env bash
# Compares two builds of isolates (e.g. before and after a refactoring) on the executor and
# channel benchmarks: runs each build's benchmark programs alternately, ROUNDS times each (old,
# new, old, new, ...; interleaved so that machine noise hits both alike), then prints every
# figure's median for both builds and the ratio new/old, and writes build/bench/compare.json.
# The references measured beside us (CPython's pools, queues, free-threaded threads) are left
# out: a build of ours does not change them.
#
# usage: bench/compare_builds.sh OLD_BUILD_DIR NEW_BUILD_DIR PYTHON_EXE [ROUNDS=5] [bench args]
#   e.g. bench/compare_builds.sh ../before/build/py3.15 build/py3.15 \
#          ~/.cache/isolates/cpython/3.15.0rc2/bin/python3.15 5 --quick
set -euo pipefail
cd "$(dirname "$0")/.."
old=$1 new=$2 python=$3 rounds=${4:-5}
shift $(( $# < 4 ? $# : 4 ))
out_dir=build/bench/compare
mkdir -p "$out_dir"
for round in $(seq 1 "$rounds"); do
  for side in old new; do
    dir=${!side}
    for bench in executor_bench channels_bench; do
      prog=$(ls "$dir"/bench/*/"$bench")
      echo "== round $round/$rounds: $side $bench" >&2
      "$prog" --json "$out_dir/$side-$bench-$round.json" --python "$python" "$@" > /dev/null
    done
  done
done
"$python" - "$out_dir" "$rounds" <<'PY'
import json, statistics, sys
out_dir, rounds = sys.argv[1], int(sys.argv[2])
figures = {"old": {}, "new": {}}
for side in figures:
    for bench in ("executor_bench", "channels_bench"):
        for r in range(1, rounds + 1):
            with open(f"{out_dir}/{side}-{bench}-{r}.json") as f:
                for name, value in json.load(f).items():
                    if isinstance(value, (int, float)) and name != "rounds":
                        figures[side].setdefault(name, []).append(value)
rows = {}
print(f"| figure | old median | new median | new/old |  ({rounds} interleaved runs each)")
print("|---|---:|---:|---:|")
# Only our own figures: the references (CPython's pools, queues, threads) do not change with a build.
references = ("cpython", "processpool", "threadpool", "interpreterpool", "freethreaded_threads",
              "gil_enabled")
ours = [name for name in sorted(set(figures["old"]) & set(figures["new"]))
        if not any(part.startswith(references) for part in name.split(".")[1:])]
for name in ours:
    o, n = statistics.median(figures["old"][name]), statistics.median(figures["new"][name])
    ratio = n / o if o else float("nan")
    rows[name] = {"old": o, "new": n, "ratio": ratio}
    print(f"| {name} | {o:.4g} | {n:.4g} | {ratio:.2f} |")
with open(f"{out_dir}/compare.json", "w") as f:
    json.dump(rows, f, indent=1, sort_keys=True)
PY
