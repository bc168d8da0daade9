"""CPython's own executors measured the same way as isolates' pool (run by executor_bench).

usage: reference.py --tasks N --count C --hashes H --repeat R [--freethreaded]
       reference.py --map-items N --map-chunksize C
Prints one JSON object on stdout: for each executor kind available in this Python
(threadpool, processpool, and interpreterpool on 3.14+), the median trivial-task throughput
(tasks/s: submit N trivial tasks, then wait for all) and the median wall times of 4 CPU-bound
tasks on 1 and on 2 workers: count(C), and H hashlib.sha256 digests of a short message.
With --freethreaded (run by a free-threaded CPython) the only kind is "freethreaded_threads":
a ThreadPoolExecutor, i.e. plain threads of one interpreter running without a GIL.
With --map-items, only ProcessPoolExecutor.map(ident, range(N), chunksize=C) on 2 workers, one
timed run after a warm-up ({"map_items_per_s.processpool": items/s}); executor_bench runs it once
per run of its own map, alternating. Progress goes to stderr.
"""
import argparse
import concurrent.futures as cf
import hashlib
import json
import statistics
import sys
import sysconfig
import time


def noop():
    return None


def count(n):
    i = 0
    while i < n:
        i += 1
    return i


MESSAGE = b"isolates: the quick brown fox jumps over the lazy dog"


def hash_many(n):
    digest = b""
    for _ in range(n):
        digest = hashlib.sha256(MESSAGE).digest()
    return digest.hex()


# The map benchmark's function of about 2 us per item (on this 2-core machine, 3.15): a small
# arithmetic loop.
WORK_ROUNDS = 20


def work(x):
    s = x
    for i in range(WORK_ROUNDS):
        s = (s * 31 + i) % 1000003
    return s


def ident(x):
    return x


def list_map_seconds(n):
    """One interpreter's own list(map(work, items)) over n ints: the map speedup's baseline."""
    items = list(range(n))
    start = time.perf_counter()
    list(map(work, items))
    return time.perf_counter() - start


def processpool_map_rate(items, chunksize):
    with cf.ProcessPoolExecutor(max_workers=2) as pool:
        warm(pool, 2)
        data = list(range(items))
        start = time.perf_counter()
        results = list(pool.map(ident, data, chunksize=chunksize))
        rate = items / (time.perf_counter() - start)
    if results != data:
        sys.exit("reference.py: ProcessPoolExecutor.map returned wrong results")
    return rate


def executors(freethreaded):
    if freethreaded:
        if not sysconfig.get_config_var("Py_GIL_DISABLED"):
            sys.exit("reference.py --freethreaded needs a free-threaded CPython")
        return {"freethreaded_threads": cf.ThreadPoolExecutor}
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


def cpu_seconds(pool, function, n, tasks=4):
    start = time.perf_counter()
    for f in [pool.submit(function, n) for _ in range(tasks)]:
        f.result()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--map-items", type=int)
    parser.add_argument("--map-chunksize", type=int)
    map_only = "--map-items" in sys.argv
    parser.add_argument("--tasks", type=int, required=not map_only)
    parser.add_argument("--count", type=int, required=not map_only)
    parser.add_argument("--hashes", type=int, required=not map_only)
    parser.add_argument("--repeat", type=int, required=not map_only)
    parser.add_argument("--freethreaded", action="store_true")
    args = parser.parse_args()
    if map_only:
        rate = processpool_map_rate(args.map_items, args.map_chunksize or 1)
        json.dump({"map_items_per_s.processpool": rate}, sys.stdout)
        return
    out = {}
    if args.freethreaded:
        out["gil_enabled.freethreaded_threads"] = float(sys._is_gil_enabled())
    for name, kind in executors(args.freethreaded).items():
        # Process pools are ~100x slower per task; fewer tasks keep the run short (a rate).
        tasks = args.tasks if name != "processpool" else max(200, args.tasks // 10)
        print(f"  reference {name}: trivial tasks", file=sys.stderr, flush=True)
        with kind(max_workers=2) as pool:
            warm(pool, 2)
            out[f"trivial_tasks_per_s.{name}"] = statistics.median(
                trivial_rate(pool, tasks) for _ in range(args.repeat))
        print(f"  reference {name}: count and sha256, 1 and 2 workers", file=sys.stderr, flush=True)
        with kind(max_workers=1) as one, kind(max_workers=2) as two:
            warm(one, 1)
            warm(two, 2)
            for label, function, n in (("cpu", count, args.count), ("sha256", hash_many, args.hashes)):
                runs = {1: [], 2: []}
                for _ in range(args.repeat):  # alternating, so both see the same noise
                    runs[1].append(cpu_seconds(one, function, n))
                    runs[2].append(cpu_seconds(two, function, n))
                for workers in (1, 2):
                    out[f"{label}_s_{workers}w.{name}"] = statistics.median(runs[workers])
                out[f"{label}_speedup_2w.{name}"] = (out[f"{label}_s_1w.{name}"]
                                                     / out[f"{label}_s_2w.{name}"])
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
