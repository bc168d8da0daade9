"""CPython's own executors measured as executor_bench measures isolates' pool, one round per run.

usage: reference.py --count C --hashes H [--freethreaded]
       reference.py --map-items N --map-chunksize C
Prints one JSON object on stdout: for each executor kind available in this Python
(threadpool, processpool, and interpreterpool on 3.14+), the wall times of one round of 4
CPU-bound tasks on 1 and on 2 workers: count(C), and H hashlib.sha256 digests of a short message.
A round, as executor_bench's own (CpuTasks there): fresh pools of 1 and 2 workers, each warmed with
4 count(1000) calls per worker, untimed; then per workload the 1-worker pool's 4 tasks, then the
2-worker pool's, each timed from the first submit until the last result is back.
With --freethreaded (run by a free-threaded CPython) the only kind is "freethreaded_threads":
a ThreadPoolExecutor, i.e. plain threads of one interpreter running without a GIL.
With --map-items, only ProcessPoolExecutor.map(ident, range(N), chunksize=C) on 2 workers, one
timed run on a fresh pool after the same warm-up ({"map_items_per_s.processpool": items/s});
executor_bench runs it once per round of its own map, alternating, on a fresh pool warmed alike.
The trivial-task comparison is bench/executor/trivial_tasks.py. Progress goes to stderr.
"""
import argparse
import concurrent.futures as cf
import hashlib
import json
import sys
import sysconfig
import time


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


WARMUP_CALLS_PER_WORKER = 4  # of count(1000): every worker started (executor_bench: the same)


def warm(pool, workers):
    # Start every worker before timing (ProcessPoolExecutor starts processes lazily).
    list(pool.map(count, [1000] * (WARMUP_CALLS_PER_WORKER * workers)))


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
    parser.add_argument("--count", type=int, required=not map_only)
    parser.add_argument("--hashes", type=int, required=not map_only)
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
        print(f"  reference {name}: count and sha256, 1 and 2 workers", file=sys.stderr, flush=True)
        with kind(max_workers=1) as one, kind(max_workers=2) as two:
            warm(one, 1)
            warm(two, 2)
            for label, function, n in (("cpu", count, args.count), ("sha256", hash_many, args.hashes)):
                out[f"{label}_s_1w.{name}"] = cpu_seconds(one, function, n)
                out[f"{label}_s_2w.{name}"] = cpu_seconds(two, function, n)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
