"""mpi4py.futures running cluster_bench's workloads, for comparison in the same run.

Run as `mpirun -n 3 python3 -m mpi4py.futures mpi4py_reference.py TASKS COUNT` (rank 0 runs this
script, ranks 1 and 2 serve, as isolates' cluster does); prints one JSON object.
"""
import json
import sys
import time

from mpi4py.futures import MPIPoolExecutor

from cluster_workload import count, noop


def main():
    tasks, count_n = int(sys.argv[1]), int(sys.argv[2])
    with MPIPoolExecutor() as executor:
        executor.submit(noop).result()  # workers up
        start = time.perf_counter()
        for future in [executor.submit(noop) for _ in range(tasks)]:
            future.result()
        trivial = tasks / (time.perf_counter() - start)
        start = time.perf_counter()
        list(executor.map(count, [count_n] * 4))
        cpu = time.perf_counter() - start
    print(json.dumps({"trivial_tasks_per_s": trivial, "count_4_tasks_s": cpu}))


if __name__ == "__main__":
    main()
