"""CPython's own executors measured the same way as isolates' pool (run by executor_bench).

usage: reference.py --tasks N --count C --repeat R
Prints one JSON object on stdout: for each executor kind available in this Python
(threadpool, processpool, and interpreterpool on 3.14+), the median trivial-task throughput
(tasks/s: submit N trivial tasks, then wait for all) and the median wall times of 4 CPU-bound
count(C) tasks on 1 and on 2 workers. Progress goes to stderr.
"""
import argparse
import concurrent.futures as cf
import json
import statistics
import sys
import time


def noop():
    return None


def count(n):
    i = 0
    while i < n:
        i += 1
    return i


def executors():
    kinds = {"threadpool": cf.ThreadPoolExecutor, "processpool": cf.ProcessPoolExecutor}
    if hasattr(cf, "InterpreterPoolExecutor"):
        kinds["interpreterpool"] = cf.InterpreterPoolExecutor
    return kinds


def warm(pool, workers):
    # Start every worker before timing (ProcessPoolExecutor starts processes lazily).
    list(pool.map(count, [1000] * (4 * workers)))


def trivial_rate(pool, tasks):
    start = time.perf_counter()
    futures = [pool.submit(noop) for _ in range(tasks)]
    for f in futures:
        f.result()
    return tasks / (time.perf_counter() - start)


def cpu_seconds(pool, n, tasks=4):
    start = time.perf_counter()
    for f in [pool.submit(count, n) for _ in range(tasks)]:
        f.result()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--repeat", type=int, required=True)
    args = parser.parse_args()
    out = {}
    for name, kind in executors().items():
        # Process pools are ~100x slower per task; fewer tasks keep the run short (a rate).
        tasks = args.tasks if name != "processpool" else max(200, args.tasks // 10)
        print(f"  reference {name}: trivial tasks", file=sys.stderr, flush=True)
        with kind(max_workers=2) as pool:
            warm(pool, 2)
            out[f"trivial_tasks_per_s.{name}"] = statistics.median(
                trivial_rate(pool, tasks) for _ in range(args.repeat))
        print(f"  reference {name}: CPU-bound, 1 and 2 workers", file=sys.stderr, flush=True)
        with kind(max_workers=1) as one, kind(max_workers=2) as two:
            warm(one, 1)
            warm(two, 2)
            runs = {1: [], 2: []}
            for _ in range(args.repeat):  # alternating, so both see the same noise
                runs[1].append(cpu_seconds(one, args.count))
                runs[2].append(cpu_seconds(two, args.count))
            for workers in (1, 2):
                out[f"cpu_s_{workers}w.{name}"] = statistics.median(runs[workers])
        out[f"cpu_speedup_2w.{name}"] = out[f"cpu_s_1w.{name}"] / out[f"cpu_s_2w.{name}"]
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
