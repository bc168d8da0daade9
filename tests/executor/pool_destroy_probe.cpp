// pool_destroy_probe: destroys an InterpreterPoolExecutor from inside a continuation that runs on
// one of its own workers, then lets main() return at once, in a process of its own: what is
// checked is also that the Runtime's finalisation waits for the pool's cleanup and the process
// exits cleanly. Run by Faults.destroying_the_pool_inside_its_own_continuation_is_safe.
//
// Scenarios: "drain" (tasks queued at destruction still run) and "cancel"
// (cancel_pending_on_destroy: they resolve as cancelled). Prints one line per fact checked.

#include <cstdio>
#include <cstring>
#include <future>
#include <memory>
#include <vector>

#include <isolates.h>

using namespace isolates;

int main(int argc, char** argv) {
    const bool cancel = argc == 2 && std::strcmp(argv[1], "cancel") == 0;
    if (argc != 2 || (!cancel && std::strcmp(argv[1], "drain") != 0)) {
        std::fprintf(stderr, "usage: %s drain|cancel\n", argv[0]);
        return 2;
    }
    Runtime runtime;
    InterpreterPoolExecutor::Options options;
    options.workers = 2;
    options.cancel_pending_on_destroy = cancel;
    auto pool = std::make_unique<InterpreterPoolExecutor>(options);
    std::promise<void> destroyed;
    std::promise<void> go;
    std::shared_future<void> gate = go.get_future().share();
    // then() without an executor runs on the worker that resolved the future.
    Future<int> continuation = pool->submit("builtins:len", "abc").then([&](const Value&) {
        gate.wait(); // until the tasks below are queued
        pool.reset();
        destroyed.set_value();
        return 1;
    });
    std::vector<Future<Value>> queued;
    for (int k = 0; k < 50; ++k) queued.push_back(pool->submit("builtins:abs", -k));
    go.set_value();
    destroyed.get_future().wait();
    std::printf("destroyed on its own worker\n");
    std::printf("continuation returned %d\n", continuation.get());
    int values = 0, cancelled = 0, other = 0;
    for (auto& f : queued) {
        try {
            values += f.get().as_int64() >= 0;
        } catch (const CancelledError&) {
            ++cancelled;
        } catch (...) {
            ++other;
        }
    }
    std::printf("queued: %d values, %d cancelled, %d other\n", values, cancelled, other);
    std::fflush(stdout);
    return 0; // ~Runtime waits for the cleanup thread to join the workers and free the pool
}
