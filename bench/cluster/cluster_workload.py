"""The workloads of cluster_bench, imported both by isolates' ranks and by mpi4py_reference.py,
and the same work run locally, which each side runs on its own Python."""
import time


def noop():
    return None


def count(n):
    total = 0
    for i in range(n):
        total += i
    return total


def local_seconds(tasks, count_n, count_tasks):
    """The cluster's work run here, serially, on this Python: [seconds of `tasks` noop() calls,
    seconds of `count_tasks` count(count_n) calls]. A side's cluster time over these cancels the
    speed of its interpreter's version out of the comparison."""
    start = time.perf_counter()
    for _ in range(tasks):
        noop()
    trivial = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(count_tasks):
        count(count_n)
    return [trivial, time.perf_counter() - start]
