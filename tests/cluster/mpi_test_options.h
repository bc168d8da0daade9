#pragma once
// The options every rank of the MPI tests makes its executors with: one worker per serving rank
// (3 processes share this machine's 2 cores) and the Python the tests call, as __main__ helpers.

#include <chrono>

#include <isolates/cluster/mpi_pool_executor.h>

namespace isolates::test {

inline MpiPoolExecutor::Options cluster_options() {
    MpiPoolExecutor::Options options;
    options.pool.workers = 1;
    options.heartbeat = std::chrono::milliseconds(250);
    options.rank_timeout = std::chrono::milliseconds(2000);
    options.pool.init_source = R"(
import os, time
def square(x):
    return x * x
def pid_after(seconds):
    time.sleep(seconds)
    return os.getpid()
def fail(x):
    raise ValueError(f"bad item {x}")
def nap(seconds):
    time.sleep(seconds)
    return seconds
def spin(seconds):
    # A Python loop, which an interrupt stops (time.sleep in a sub-interpreter sees it only
    # when the sleep ends).
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    return seconds
def has_module(name):
    import sys
    return name in sys.modules
def in_sys_path(entry):
    import sys
    return entry in sys.path
def die():
    os.kill(os.getpid(), 9)
)";
    return options;
}

} // namespace isolates::test
