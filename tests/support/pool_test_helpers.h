#pragma once
// Helpers shared by the test files that drive an InterpreterPoolExecutor.

#include <chrono>
#include <cstddef>
#include <thread>

#include <isolates/executor/interpreter_pool_executor.h>

namespace isolates::testing {

/// Options for a pool of `workers` whose interpreters run `init_source` first.
inline InterpreterPoolExecutor::Options pool_options(std::size_t workers, const char* init_source) {
    InterpreterPoolExecutor::Options options;
    options.workers = workers;
    options.init_source = init_source;
    return options;
}

/// Waits until the future's task is running on a worker (or resolved).
template <class T> void wait_running(const Future<T>& future) {
    while (!future.running() && !future.ready())
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

} // namespace isolates::testing
