"""ProcessPoolExecutor measured as process_bench measures isolates' process workers.

usage: processpool_reference.py --trivial N      one timed run: N trivial tasks on 2 warmed workers
       processpool_reference.py --startup        start 2 workers, each answering a first task
Prints one JSON object on stdout ({"tasks_per_s": ...} or {"startup_s": ..., "pss_kib": ...}).
"""
import argparse
import concurrent.futures as cf
import json
import os
import sys
import time


def noop():
    return None


def first_task():
    # Long enough that the pool starts its second process for the second task.
    time.sleep(0.05)
    return os.getpid()


def pss_kib(pid):
    """Proportional set size of a process: its private pages plus its share of shared ones."""
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--trivial", type=int)
    parser.add_argument("--startup", action="store_true")
    args = parser.parse_args()
    if args.trivial:
        with cf.ProcessPoolExecutor(max_workers=2) as pool:
            for f in [pool.submit(first_task) for _ in range(4)]:  # both workers started
                f.result()
            start = time.perf_counter()
            futures = [pool.submit(noop) for _ in range(args.trivial)]
            for f in futures:
                f.result()
            json.dump({"tasks_per_s": args.trivial / (time.perf_counter() - start)}, sys.stdout)
        return
    start = time.perf_counter()
    with cf.ProcessPoolExecutor(max_workers=2) as pool:
        pids = {f.result() for f in [pool.submit(first_task) for _ in range(2)]}
        seconds = time.perf_counter() - start
        pss = [pss_kib(pid) for pid in pids]
    json.dump({"startup_s": seconds, "pss_kib": sum(pss) / len(pss), "workers": len(pids)}, sys.stdout)


if __name__ == "__main__":
    main()
