"""mpi4py.futures running cluster_bench's comparison, one round per run.

Run as `mpirun -n 3 PYTHON -m mpi4py.futures mpi4py_reference.py TASKS WARMUP COUNT COUNT_TASKS`
(rank 0 runs this script, ranks 1 and 2 serve, as isolates' cluster does); prints one JSON object.
A round, as cluster_bench's own (ClusterComparison there): WARMUP noop tasks one after the other,
untimed; TASKS noop submits timed until the last result is back; then COUNT_TASKS count(COUNT)
tasks through map, timed from the call until its results; and the same work run locally
(cluster_workload.local_seconds) on this Python.
"""
import json
import sys
import time

from mpi4py.futures import MPIPoolExecutor

from cluster_workload import count, local_seconds, noop


def main():
    tasks, warmup, count_n, count_tasks = (int(x) for x in sys.argv[1:5])
    with MPIPoolExecutor() as executor:
        for _ in range(warmup):
            executor.submit(noop).result()
        start = time.perf_counter()
        for future in [executor.submit(noop) for _ in range(tasks)]:
            future.result()
        trivial = tasks / (time.perf_counter() - start)
        start = time.perf_counter()
        list(executor.map(count, [count_n] * count_tasks))
        cpu = time.perf_counter() - start
    local_trivial, local_cpu = local_seconds(tasks, count_n, count_tasks)
    print(json.dumps({"trivial_tasks_per_s": trivial, "count_tasks_s": cpu,
                      "local_trivial_s": local_trivial, "local_count_s": local_cpu}))


if __name__ == "__main__":
    main()
