"""Draws the workloads benchmark: throughput against workers for each model, one panel per
workload, from build/bench/results.json (the `workloads.*` figures) with gnuplot.

usage: plot.py RESULTS_JSON OUTPUT_SVG
Needs gnuplot on PATH (run.sh bench installs gnuplot-nox).
"""
import json
import re
import subprocess
import sys

MODELS = {
    "threads": "threads, one interpreter (GIL)",
    "isolates": "isolates InterpreterPoolExecutor",
    "interpreterpool": "CPython InterpreterPoolExecutor",
    "freethreaded_threads": "threads, free-threaded build",
    "processpool": "ProcessPoolExecutor",
}
WORKLOADS = {
    "count": "CPU loop: count(n), 4 tasks (M iterations/s)",
    "sha256": "hashlib.sha256 loop, 4 tasks (M hashes/s)",
    "csv": "CSV rows hashed, map over chunks (M rows/s)",
}


def series(figures):
    """{workload: {model: [(workers, millions per second), ...]}}"""
    out = {}
    for key, value in figures.items():
        m = re.fullmatch(r"workloads\.(\w+)\.per_s_(\d+)w\.(\w+)", key)
        if m:
            workload, workers, model = m.group(1), int(m.group(2)), m.group(3)
            out.setdefault(workload, {}).setdefault(model, []).append((workers, value / 1e6))
    for models in out.values():
        for points in models.values():
            points.sort()
    return out


def gnuplot_script(data, output, python):
    lines = [
        "set terminal svg size 1500,520 dynamic font 'sans,12' background '#ffffff'",
        f"set output '{output}'",
        f"set multiplot layout 1,{len(data)} title \"The articles' workloads on CPython {python}: "
        "throughput against workers (median of alternating rounds)\"",
        "set key below vertical maxrows 3 font 'sans,10'",
        "set xlabel 'workers'",
        "set grid",
        "set yrange [0:*]",
    ]
    for workload in [w for w in WORKLOADS if w in data] + [w for w in data if w not in WORKLOADS]:
        models = data[workload]
        workers = sorted({w for points in models.values() for w, _ in points})
        lines.append(f"set xtics ({', '.join(str(w) for w in workers)})")
        lines.append(f"set xrange [{workers[0] - 0.3}:{workers[-1] + 0.3}]")
        lines.append(f"set title '{WORKLOADS.get(workload, workload)}'")
        plots, blocks = [], []
        for model in [m for m in MODELS if m in models]:
            plots.append(f"'-' using 1:2 with linespoints lw 2 pt 7 title '{MODELS[model]}'")
            blocks.append("\n".join(f"{w} {v:.6g}" for w, v in models[model]) + "\ne")
        lines.append("plot " + ", ".join(plots))
        lines.extend(blocks)
    lines.append("unset multiplot")
    return "\n".join(lines) + "\n"


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        figures = json.load(f)
    data = series(figures)
    if not data:
        sys.exit(f"{sys.argv[1]} has no workloads.* figures")
    subprocess.run(["gnuplot"], input=gnuplot_script(data, sys.argv[2], figures.get("python", "?")),
                   text=True, check=True)
    print("wrote", sys.argv[2])


if __name__ == "__main__":
    main()
