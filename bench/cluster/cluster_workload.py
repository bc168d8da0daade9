"""The workloads of cluster_bench, imported both by isolates' ranks and by mpi4py_reference.py."""


def noop():
    return None


def count(n):
    total = 0
    for i in range(n):
        total += i
    return total
