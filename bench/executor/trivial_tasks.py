"""The trivial-task comparison's functions and one round of it on CPython's executors.

isolates' pools import noop and first_task from this file (executor_bench, process_bench), and
the same programs run it as the reference, one round per run, interleaved with their own rounds:

usage: trivial_tasks.py --kinds KIND[,KIND...] --tasks N --warmup W --workers K --first-tasks F
  KIND: threadpool, processpool, interpreterpool (3.14+; left out of the output before), or
  freethreaded_threads (a ThreadPoolExecutor of a free-threaded CPython, which must run this).
Prints one JSON object {"KIND": tasks per second, ...}. A round, on each side alike
(bench/executor/trivial_tasks.h says the same for isolates): a fresh pool of K workers; F calls of
first_task (a 50 ms sleep: every worker has started) and W calls of noop, untimed; then the timed
region, from the first of N submits of noop until the last result is back; then the pool shuts
down, untimed.
"""
import argparse
import concurrent.futures as cf
import json
import os
import sys
import sysconfig
import time


def noop():
    return None


def first_task():
    # Long enough that a pool starts its second worker for the second task.
    time.sleep(0.05)
    return os.getpid()


def executor_class(kind):
    """CPython's executor of `kind`, or None when this CPython has none."""
    if kind == "freethreaded_threads":
        if not sysconfig.get_config_var("Py_GIL_DISABLED"):
            sys.exit("trivial_tasks.py: freethreaded_threads needs a free-threaded CPython")
        return cf.ThreadPoolExecutor
    return {"threadpool": cf.ThreadPoolExecutor, "processpool": cf.ProcessPoolExecutor,
            "interpreterpool": getattr(cf, "InterpreterPoolExecutor", None)}[kind]


def one_round(kind_class, tasks, warmup, workers, first_tasks):
    """Tasks per second of one round (the module docstring's protocol)."""
    with kind_class(max_workers=workers) as pool:
        for f in [pool.submit(first_task) for _ in range(first_tasks)]:
            f.result()
        for f in [pool.submit(noop) for _ in range(warmup)]:
            f.result()
        start = time.perf_counter()
        futures = [pool.submit(noop) for _ in range(tasks)]
        for f in futures:
            f.result()
        return tasks / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser()
    for option in ("--tasks", "--warmup", "--workers", "--first-tasks"):
        parser.add_argument(option, type=int, required=True)
    parser.add_argument("--kinds", required=True)
    args = parser.parse_args()
    out = {}
    for kind in args.kinds.split(","):
        kind_class = executor_class(kind)
        if kind_class is None:
            continue
        print(f"  {kind}: {args.tasks} trivial tasks", file=sys.stderr, flush=True)
        out[kind] = one_round(kind_class, args.tasks, args.warmup, args.workers, args.first_tasks)
    if "freethreaded_threads" in out:
        out["gil_enabled"] = float(sys._is_gil_enabled())
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
