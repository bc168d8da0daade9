// pool_destroy_probe: destroys an InterpreterPoolExecutor from inside a continuation that runs on
// one of its own workers, in a process of its own because the outcome may be an abort. Run by
// Faults.destroying_the_pool_inside_its_own_continuation_is_a_clear_error, which accepts either
// a clean exit or an abort whose message says what went wrong.

#include <cstdio>
#include <cstring>
#include <future>
#include <memory>

#include "isolates.h"

using namespace isolates;

int main(int argc, char** argv) {
    if (argc != 2 || std::strcmp(argv[1], "destroy_in_continuation") != 0) {
        std::fprintf(stderr, "usage: %s destroy_in_continuation\n", argv[0]);
        return 2;
    }
    Runtime runtime;
    InterpreterPoolExecutor::Options options;
    options.workers = 1;
    auto pool = std::make_unique<InterpreterPoolExecutor>(options);
    std::printf("started\n");
    std::fflush(stdout);
    std::promise<void> done;
    // then() without an executor runs on the worker that resolved the future.
    Future<int> continuation = pool->submit("builtins:len", "abc").then([&](const Value&) {
        pool.reset();
        done.set_value();
        return 1;
    });
    done.get_future().wait();
    try {
        continuation.get();
        std::printf("continuation returned\n");
    } catch (const std::exception& e) {
        std::printf("continuation failed: %s\n", e.what());
    }
    std::fflush(stdout);
    return 0;
}
