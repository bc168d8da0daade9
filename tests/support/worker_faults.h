#pragma once
// The two ways a process worker gets replaced, caused on purpose: its process dies mid-task, or
// a task ignores the interrupt of its timeout until kill_after kills the process. Each returns
// whether the task failed as it must (WorkerProcessError, TimeoutError); the pool replaces the
// process before its next task.

#include <chrono>
#include <cstddef>

#include <isolates/executor/errors.h>
#include <isolates/executor/interpreter_pool_executor.h>

namespace isolates::testing {

/// Worker `worker`'s process exits mid-task (os._exit(3)).
inline bool crash_process_worker(InterpreterPoolExecutor& pool, std::size_t worker = 0) {
    try {
        pool.submit_to(worker, "os:_exit", 3).get();
    } catch (const WorkerProcessError&) {
        return true;
    } catch (...) {
    }
    return false;
}

/// A task on worker `worker` swallows every KeyboardInterrupt, so its timeout (`timeout`) cannot
/// stop it and the pool kills its process after Options::kill_after.
inline bool hang_process_worker_past_its_timeout(InterpreterPoolExecutor& pool,
                                                 std::chrono::milliseconds timeout,
                                                 std::size_t worker = 0) {
    InterpreterPoolExecutor::TaskOptions limited;
    limited.timeout = timeout;
    limited.worker = worker;
    try {
        pool.submit_source_with(limited, "import time\n"
                                         "while True:\n"
                                         "    try:\n"
                                         "        time.sleep(10)\n"
                                         "    except KeyboardInterrupt:\n"
                                         "        pass\n")
            .get();
    } catch (const TimeoutError&) {
        return true;
    } catch (...) {
    }
    return false;
}

} // namespace isolates::testing
