// Process workers sending short tasks ahead (executor/detail/pool_worker_remote.cpp): what is in
// flight behind a crash runs once on the replacement, a cancel reaches a task that was sent but
// not started, reply buffers outlive the tasks behind them, long tasks still spread.

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <isolates/channels/shared_buffer.h>
#include <isolates/executor/interpreter_pool_executor.h>
#include <isolates/interp/convert.h>
#include "tests/support/doctest.h"
#include "tests/support/pool_test_helpers.h"

using namespace isolates;
using namespace std::chrono_literals;

namespace {

constexpr const char* pipeline_helpers = R"(
import os, time
ran = []
def record(k):
    ran.append(k)
    return os.getpid()
def log():
    return tuple(ran)
def crash_after(seconds):
    time.sleep(seconds)
    os._exit(7)
def pid_after(seconds):
    time.sleep(seconds)
    return os.getpid()
def break_builtins_after(seconds):
    import builtins
    time.sleep(seconds)
    builtins.len = None
    return os.getpid()
def buffer_of(k):
    import isolates
    return isolates.SharedBuffer(bytes([k % 251]) * 4096, shared_memory=True)
)";

InterpreterPoolExecutor::Options pipeline_options(std::size_t workers) {
    InterpreterPoolExecutor::Options options;
    options.workers = workers;
    options.worker_kind = InterpreterPoolExecutor::WorkerKind::processes;
    options.init_source = pipeline_helpers;
    return options;
}

/// Short tasks: while they stream through, the workers send ahead (the window grows); what is
/// submitted right behind them is sent ahead too.
std::vector<Future<Value>> short_tasks(InterpreterPoolExecutor& pool) {
    std::vector<Future<Value>> futures;
    for (int k = 0; k < 400; ++k) futures.push_back(pool.submit("os:getpid"));
    return futures;
}

void wait_all(std::vector<Future<Value>>& futures) {
    for (auto& future : futures) future.get();
}

/// Waits until the worker has taken some of the `queued` tasks behind a running one, which it
/// can only have done by sending them ahead.
bool sent_ahead(InterpreterPoolExecutor& pool, std::size_t queued) {
    for (int k = 0; k < 200; ++k) {
        if (pool.stats().queue_depth + 1 < queued) return true;
        std::this_thread::sleep_for(1ms);
    }
    return false;
}

/// A stream of short tasks, then `head` (a long one), then `records` tasks record(0 ..) that the
/// worker sends ahead behind `head` while it runs.
struct Burst {
    std::int64_t pid_before = 0; // the process that ran the short tasks
    Future<Value> head;
    std::vector<Future<Value>> behind;
};
Burst burst(InterpreterPoolExecutor& pool, const std::string& head, double seconds, int records) {
    Burst burst;
    auto before = short_tasks(pool);
    burst.head = pool.submit(head, seconds);
    for (int k = 0; k < records; ++k) burst.behind.push_back(pool.submit("__main__:record", k));
    wait_all(before);
    burst.pid_before = before.back().get().as_int64();
    return burst;
}

} // namespace

TEST_SUITE("ProcessPipeline") {

TEST_CASE("ProcessPipeline.tasks_sent_behind_a_crash_run_once_in_order_on_the_replacement" * doctest::timeout(120)) {
    InterpreterPoolExecutor pool(pipeline_options(1));
    Burst crash = burst(pool, "__main__:crash_after", 0.3, 20);
    CHECK(sent_ahead(pool, 20));
    CHECK_THROWS_WITH_AS(crash.head.get(), doctest::Contains("exited with status 7"), WorkerProcessError);
    for (auto& future : crash.behind) CHECK(future.get().as_int64() != crash.pid_before);
    // The replacement ran each exactly once, in submission order; the crashed one ran none.
    std::vector<std::int64_t> expected;
    for (int k = 0; k < 20; ++k) expected.push_back(k);
    CHECK(pool.submit("__main__:log").get().as<std::vector<std::int64_t>>() == expected);
    CHECK(pool.stats().replaced_interpreters == 1);
}

TEST_CASE("ProcessPipeline.a_cancel_stops_a_task_sent_ahead_before_it_starts" * doctest::timeout(120)) {
    InterpreterPoolExecutor pool(pipeline_options(1));
    Burst slow = burst(pool, "__main__:pid_after", 0.3, 10);
    auto& behind = slow.behind;
    REQUIRE(sent_ahead(pool, 10));
    CHECK(behind[0].cancel());
    CHECK(behind[1].cancel());
    CHECK_THROWS_AS(behind[0].get(), CancelledError);
    const std::int64_t pid = slow.head.get().as_int64();
    for (int k = 2; k < 10; ++k) CHECK(behind[k].get().as_int64() == pid);
    // Skipped, not run: the process is the same one and never saw 0 or 1.
    CHECK(pool.submit("__main__:log").get().as<std::vector<std::int64_t>>() == std::vector<std::int64_t>{2, 3, 4, 5, 6, 7, 8, 9});
    CHECK(pool.stats().replaced_interpreters == 0);
}

TEST_CASE("ProcessPipeline.tasks_sent_behind_one_that_broke_the_interpreter_run_on_the_replacement" * doctest::timeout(120)) {
    InterpreterPoolExecutor pool(pipeline_options(1));
    Burst breaking = burst(pool, "__main__:break_builtins_after", 0.3, 10);
    CHECK(sent_ahead(pool, 10));
    CHECK(breaking.head.get().as_int64() == breaking.pid_before);
    for (auto& future : breaking.behind) CHECK(future.get().as_int64() != breaking.pid_before);
    // Skipped by the broken interpreter, run once each, in order, by the replacement.
    CHECK(pool.submit("__main__:log").get().as<std::vector<std::int64_t>>() ==
          std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
    CHECK(pool.stats().replaced_interpreters == 1);
}

TEST_CASE("ProcessPipeline.shared_memory_results_outlive_the_tasks_behind_them" * doctest::timeout(120)) {
    InterpreterPoolExecutor pool(pipeline_options(1));
    std::vector<Future<Value>> futures;
    for (int k = 0; k < 300; ++k) futures.push_back(pool.submit("__main__:buffer_of", k));
    for (int k = 0; k < 300; ++k) {
        const SharedBuffer buffer = futures[k].get().as<SharedBuffer>();
        REQUIRE(buffer.size() == 4096);
        CHECK(buffer.bytes()[0] == std::byte(k % 251));
        CHECK(buffer.bytes()[4095] == std::byte(k % 251));
    }
}

TEST_CASE("ProcessPipeline.long_tasks_still_spread_over_the_workers" * doctest::timeout(120)) {
    InterpreterPoolExecutor pool(pipeline_options(2));
    auto before = short_tasks(pool);
    wait_all(before); // the windows are open: only the fair share holds tasks back
    std::vector<Future<Value>> futures;
    for (int k = 0; k < 4; ++k) futures.push_back(pool.submit("__main__:pid_after", 0.25));
    std::map<std::int64_t, int> per_process;
    for (auto& future : futures) ++per_process[future.get().as_int64()];
    CHECK(per_process.size() == 2);
    for (const auto& [pid, count] : per_process) CHECK(count == 2);
}

TEST_CASE("ProcessPipeline.prefetch_beyond_the_skip_slots_is_a_usage_error") {
    auto options = pipeline_options(1);
    options.process_prefetch = 63;
    CHECK_THROWS_WITH_AS(InterpreterPoolExecutor{options}, doctest::Contains("at most 62"), UsageError);
}

} // TEST_SUITE
