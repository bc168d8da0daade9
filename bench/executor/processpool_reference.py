"""ProcessPoolExecutor's start-up, measured as process_bench measures isolates' workers.

usage: processpool_reference.py --startup    start 2 workers, each answering a first task
Prints one JSON object on stdout ({"startup_s": ..., "pss_kib": ..., "workers": ...}).
(The trivial-task comparison is bench/executor/trivial_tasks.py.)
"""
import argparse
import concurrent.futures as cf
import json
import sys
import time

from trivial_tasks import first_task


def pss_kib(pid):
    """Proportional set size of a process: its private pages plus its share of shared ones."""
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--startup", action="store_true", required=True)
    parser.parse_args()
    start = time.perf_counter()
    with cf.ProcessPoolExecutor(max_workers=2) as pool:
        pids = {f.result() for f in [pool.submit(first_task) for _ in range(2)]}
        seconds = time.perf_counter() - start
        pss = [pss_kib(pid) for pid in pids]
    json.dump({"startup_s": seconds, "pss_kib": sum(pss) / len(pss), "workers": len(pids)}, sys.stdout)


if __name__ == "__main__":
    main()
