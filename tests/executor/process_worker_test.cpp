// Process workers (InterpreterPoolExecutor::WorkerKind::processes): the same pool and futures,
// with tasks run in worker processes' main interpreters; faults only a process survives.

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <future>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <isolates/channels/shared_buffer.h>
#include <isolates/executor/interpreter_pool_executor.h>
#include <isolates/interp/convert.h>
#include "tests/support/child_process.h"
#include "tests/support/doctest.h"
#include "tests/support/skip.h"
#include "tests/support/extension/test_extension.h"
#include "tests/support/pool_test_helpers.h"
#include "tests/support/process_resources.h"
#include "tests/support/worker_faults.h"

using namespace isolates;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

InterpreterPoolExecutor::Options process_options(std::size_t workers) {
    InterpreterPoolExecutor::Options options;
    options.workers = workers;
    options.worker_kind = InterpreterPoolExecutor::WorkerKind::processes;
    options.sys_path = {test::test_extension_dir};
    return options;
}

std::int64_t pid_of(InterpreterPoolExecutor& pool, std::size_t worker) {
    return pool.submit_to(worker, "os:getpid").get().as_int64();
}

/// Whether the process runs (a zombie waiting for a reaper counts as ended).
bool process_exists(std::int64_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return false;
    const auto state = line.rfind(')');
    return state != std::string::npos && state + 2 < line.size() && line[state + 2] != 'Z';
}

/// Waits up to `limit` for `pid` to end.
bool ends_within(std::int64_t pid, std::chrono::milliseconds limit) {
    const auto deadline = Clock::now() + limit;
    while (process_exists(pid)) {
        if (Clock::now() > deadline) return false;
        std::this_thread::sleep_for(10ms);
    }
    return true;
}

} // namespace

TEST_SUITE("ProcessWorkers") {

TEST_CASE("ProcessWorkers.run_python_calls_in_their_own_processes" * doctest::timeout(120)) {
    InterpreterPoolExecutor pool(process_options(2));
    const std::int64_t first = pid_of(pool, 0), second = pid_of(pool, 1);
    CHECK(first != ::getpid());
    CHECK(second != ::getpid());
    CHECK(first != second);

    CHECK(pool.submit("operator:add", 40, 2).get().as_int64() == 42);
    auto joined = pool.submit_call({}, "builtins:str.join", {Value("-"), Value::list({Value("a"), Value("b")})});
    CHECK(joined.get().as_str() == "a-b");
    auto keyword = pool.submit_call({}, "builtins:int", {Value("ff")}, {{"base", Value(16)}});
    CHECK(keyword.get().as_int64() == 255);
    pool.submit_source("import sys\nsys.isolates_marker = 7").get();
    pool.submit<void>("importlib:import_module", "json").get();
}

TEST_CASE("ProcessWorkers.python_errors_keep_type_message_and_traceback" * doctest::timeout(120)) {
    InterpreterPoolExecutor::Options options = process_options(1);
    options.init_source = "def fail(x):\n    raise ValueError(f'bad {x}')\n";
    InterpreterPoolExecutor pool(options);
    try {
        pool.submit("__main__:fail", 3).get();
        FAIL("no error");
    } catch (const PythonError& e) {
        CHECK(e.type_name() == "ValueError");
        CHECK(e.message() == "bad 3");
        CHECK(e.traceback().find("in fail") != std::string::npos);
    }
    CHECK_THROWS_AS(pool.submit("no_such_module_here:f").get(), PythonError);
    // The worker goes on serving.
    CHECK(pool.submit("operator:mul", 6, 7).get().as_int64() == 42);
}

TEST_CASE("ProcessWorkers.map_and_starmap_chunk_across_processes" * doctest::timeout(120)) {
    InterpreterPoolExecutor pool(process_options(2));
    std::vector<std::int64_t> items;
    for (std::int64_t k = 0; k < 1000; ++k) items.push_back(k);
    MapOptions chunked;
    chunked.chunksize = 37;
    auto results = pool.map("operator:neg", items, chunked).get();
    REQUIRE(results.size() == items.size());
    for (std::size_t k = 0; k < items.size(); ++k) CHECK(results[k].as_int64() == -items[k]);

    std::vector<Value> pairs{Value::tuple({Value(2), Value(10)}), Value::tuple({Value(3), Value(2)})};
    auto powers = pool.starmap("builtins:pow", pairs).get();
    CHECK(powers[0].as_int64() == 1024);
    CHECK(powers[1].as_int64() == 9);

    std::vector<Value> mixed{Value(1), Value("x"), Value(3)};
    try {
        pool.map("operator:neg", mixed).get();
        FAIL("no error");
    } catch (const ItemError& e) {
        CHECK(e.index() == 1);
        CHECK(e.type_name() == "TypeError");
    }
}

TEST_CASE("ProcessWorkers.cpp_callables_are_usage_errors" * doctest::timeout(120)) {
    InterpreterPoolExecutor pool(process_options(1));
    CHECK_THROWS_AS(pool.submit([](Interpreter&) { return 1; }), UsageError);
    std::vector<int> items{1, 2};
    CHECK_THROWS_AS(pool.map([](Interpreter&, int x) { return x; }, items), UsageError);
    // post() jobs are C++ that needs no interpreter: they run on the worker's thread.
    std::promise<int> ran;
    pool.post([&] { ran.set_value(5); });
    CHECK(ran.get_future().get() == 5);
    // then() continuations run through post().
    CHECK(pool.submit("operator:add", 1, 1).then([](Value v) { return v.as_int64() + 1; }).get() == 3);
}

TEST_CASE("ProcessWorkers.an_extension_that_refuses_subinterpreters_loads_there" * doctest::timeout(120)) {
    InterpreterPoolExecutor pool(process_options(1));
    const std::int64_t pid = pool.submit("isolates_test_refusing:pid").get().as_int64();
    CHECK(pid == pid_of(pool, 0));
    CHECK(pool.submit("isolates_test_refusing:bump").get().as_int64() == 1);
    CHECK(pool.submit("isolates_test_refusing:bump").get().as_int64() == 2);

    InterpreterPoolExecutor::Options subs;
    subs.workers = 1;
    subs.sys_path = {test::test_extension_dir};
    InterpreterPoolExecutor sub_pool(subs);
    try {
        sub_pool.submit("isolates_test_refusing:bump").get();
        FAIL("the sub-interpreter loaded it");
    } catch (const PythonError& e) {
        CHECK(e.type_name() == "ImportError");
        CHECK(e.message().find("subinterpreters") != std::string::npos);
    }
}

TEST_CASE("ProcessWorkers.init_modules_init_source_and_import_module_run_in_each_process" * doctest::timeout(120)) {
    InterpreterPoolExecutor::Options options = process_options(2);
    options.init_modules = {"isolates_test_refusing"};
    options.init_source = "import isolates_test_refusing\nstarted_bumps = isolates_test_refusing.bump()\n";
    InterpreterPoolExecutor pool(options);
    for (std::size_t k = 0; k < 2; ++k)
        CHECK_NOTHROW(pool.submit_source_to(k, "assert started_bumps == 1").get());
    pool.import_module("colorsys").get();
    auto hsv = pool.submit("colorsys:rgb_to_hsv", 1.0, 0.0, 0.0).get();
    CHECK(hsv[0].as_double() == 0.0);
}

TEST_CASE("ProcessWorkers.a_timeout_interrupts_python_and_the_process_serves_on" * doctest::timeout(120)) {
    InterpreterPoolExecutor pool(process_options(1));
    const std::int64_t pid = pid_of(pool, 0);
    InterpreterPoolExecutor::TaskOptions limited;
    limited.timeout = 200ms;
    auto spin = pool.submit_source_with(limited, "while True: pass");
    CHECK_THROWS_AS(spin.get(), TimeoutError);
    CHECK(pid_of(pool, 0) == pid); // interrupted, not killed
    CHECK(pool.stats().replaced_interpreters == 0);
}

TEST_CASE("ProcessWorkers.code_blocked_in_c_past_its_timeout_costs_its_process_only" * doctest::timeout(120)) {
    InterpreterPoolExecutor::Options options = process_options(1);
    options.kill_after = 300ms;
    InterpreterPoolExecutor pool(options);
    const std::int64_t pid = pid_of(pool, 0);
    InterpreterPoolExecutor::TaskOptions limited;
    limited.timeout = 200ms;
    const auto start = Clock::now();
    auto blocked = pool.submit_with(limited, "isolates_test_refusing:block_in_c", 60.0);
    auto queued = pool.submit("operator:add", 2, 3);
    CHECK_THROWS_AS(blocked.get(), TimeoutError);
    CHECK(Clock::now() - start < 5s); // resolved at its timeout, not after the C call
    CHECK(queued.get().as_int64() == 5); // ran on the replacement, once
    CHECK(pid_of(pool, 0) != pid);
    CHECK_FALSE(process_exists(pid));
    CHECK(pool.stats().replaced_interpreters == 1);
}

TEST_CASE("ProcessWorkers.cancel_of_a_blocked_task_kills_and_replaces_its_process" * doctest::timeout(120)) {
    InterpreterPoolExecutor::Options options = process_options(1);
    options.kill_after = 200ms;
    InterpreterPoolExecutor pool(options);
    const std::int64_t pid = pid_of(pool, 0);
    auto sleeping = pool.submit("time:sleep", 60);
    testing::wait_running(sleeping);
    std::this_thread::sleep_for(100ms); // in the worker's time.sleep by now
    CHECK(sleeping.cancel());
    CHECK_THROWS_AS(sleeping.get(), CancelledError);
    CHECK(pool.submit("operator:add", 1, 2).get().as_int64() == 3);
    CHECK(pid_of(pool, 0) != pid);
}

TEST_CASE("ProcessWorkers.a_crash_fails_its_task_with_how_the_process_ended" * doctest::timeout(120)) {
    InterpreterPoolExecutor pool(process_options(1));
    SUBCASE("os._exit") {
        auto exiting = pool.submit("os:_exit", 3);
        std::vector<Future<Value>> after;
        for (int k = 0; k < 20; ++k) after.push_back(pool.submit("operator:add", k, 1));
        try {
            exiting.get();
            FAIL("no error");
        } catch (const WorkerProcessError& e) {
            CHECK(std::string(e.what()).find("exited with status 3") != std::string::npos);
        }
        // Queued behind the crash: each runs exactly once, on the replacement.
        for (int k = 0; k < 20; ++k) CHECK(after[k].get().as_int64() == k + 1);
    }
    SUBCASE("SIGKILL mid-task") {
        auto killed = pool.submit_source("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n");
        try {
            killed.get();
            FAIL("no error");
        } catch (const WorkerProcessError& e) {
            CHECK(std::string(e.what()).find("signal 9 (SIGKILL)") != std::string::npos);
        }
    }
    SUBCASE("abort") {
        // (A SIGSEGV would do as well, but AddressSanitizer builds catch that one and exit.)
        auto crashed = pool.submit("os:abort");
        try {
            crashed.get();
            FAIL("no error");
        } catch (const WorkerProcessError& e) {
            CHECK(std::string(e.what()).find("signal 6 (SIGABRT)") != std::string::npos);
        }
    }
    CHECK(pool.submit("operator:add", 1, 1).get().as_int64() == 2);
    CHECK(pool.stats().replaced_interpreters == 1);
}

TEST_CASE("ProcessWorkers.a_malformed_reply_fails_its_task_and_the_pool_serves_on" *
          doctest::timeout(120)) {
    // A worker process that answers with garbage, half a frame or another request's number
    // (tests/process/scripted_worker.cpp): its task fails with a WorkerProcessError saying so,
    // the process is killed and replaced, and the next task is answered.
    InterpreterPoolExecutor::Options options = process_options(1);
    options.worker_executable = ISOLATES_SCRIPTED_WORKER;
    InterpreterPoolExecutor pool(options);
    CHECK(pool.submit("scripted:echo", 1).get().as_int64() == 1);
    const std::pair<const char*, const char*> cases[] = {
        {"scripted:garbage", "after a malformed reply"},
        {"scripted:truncated", "after a malformed reply"},
        {"scripted:wrong_seq", "after a reply to another request"},
    };
    std::int64_t k = 2;
    for (const auto& [bad_target, error_says] : cases) {
        const std::string target = bad_target, said = error_says;
        CAPTURE(target);
        auto bad = pool.submit(target, 0);
        auto queued = pool.submit("scripted:echo", k); // behind it: sent again to the replacement
        try {
            bad.get();
            FAIL("no error");
        } catch (const WorkerProcessError& e) {
            CHECK(std::string(e.what()).find(said) != std::string::npos);
        }
        CHECK(queued.get().as_int64() == k);
        ++k;
    }
    CHECK(pool.stats().replaced_interpreters == 3);
}

TEST_CASE("ProcessWorkers.a_payload_several_times_the_ring_goes_both_ways" * doctest::timeout(120)) {
    // Rings of 1 MiB each way (ProcessWorkerOptions::ring_bytes): 5 MiB go to the worker and
    // 10 MiB come back, each frame in pieces.
    InterpreterPoolExecutor::Options options = process_options(1);
    options.init_source = "def mirror(b):\n"
                          "    return b[::-1] + b\n";
    InterpreterPoolExecutor pool(options);
    std::string sent(5u << 20, '\0');
    for (std::size_t k = 0; k < sent.size(); ++k) sent[k] = static_cast<char>((k * 7 + k / 4093) & 0xFF);
    const Value reply = pool.submit("__main__:mirror", Value::bytes(sent)).get();
    // What came back is made of what arrived: both halves equal to what was sent means both
    // directions carried every byte.
    const auto bytes = reply.as_bytes();
    REQUIRE(bytes.size() == 2 * sent.size());
    const std::string back(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    CHECK(std::equal(sent.rbegin(), sent.rend(), back.begin()));
    CHECK(back.compare(sent.size(), sent.size(), sent) == 0);
}

TEST_CASE("ProcessWorkers.fifty_replacements_leave_no_descriptor_mapping_or_segment_behind" *
          doctest::timeout(300)) {
    // 25 crashes and 25 kills on timeout; afterwards this process holds exactly the descriptors,
    // mappings and shared-memory segments it held before (taken after one of each, so what the
    // first replacement sets up once is in both counts).
    InterpreterPoolExecutor::Options options = process_options(1);
    options.kill_after = 50ms;
    InterpreterPoolExecutor pool(options);
    REQUIRE(testing::crash_process_worker(pool));
    REQUIRE(testing::hang_process_worker_past_its_timeout(pool, 20ms));
    pid_of(pool, 0); // the replacement runs
    const auto before = testing::process_resources();
    const auto replaced_before = pool.stats().replaced_interpreters;
    int failed_as_they_must = 0;
    for (int k = 0; k < 25; ++k) {
        failed_as_they_must += testing::crash_process_worker(pool) ? 1 : 0;
        failed_as_they_must += testing::hang_process_worker_past_its_timeout(pool, 20ms) ? 1 : 0;
    }
    const std::int64_t last = pid_of(pool, 0);
    CHECK(failed_as_they_must == 50);
    CHECK(pool.stats().replaced_interpreters - replaced_before == 50);
    const auto after = testing::process_resources();
    INFO("before: " << testing::describe(before) << "; after: " << testing::describe(after));
    CHECK(after == before);
    CHECK(process_exists(last));
}

TEST_CASE("ProcessWorkers.a_missing_executable_breaks_the_pool_with_its_name" * doctest::timeout(60)) {
    InterpreterPoolExecutor::Options options = process_options(1);
    options.worker_executable = "/nonexistent/isolates-worker";
    InterpreterPoolExecutor pool(options);
    CHECK_THROWS_AS(pool.wait_until_started(), BrokenPoolError);
    CHECK(pool.broken_reason().find("/nonexistent/isolates-worker") != std::string::npos);
}

TEST_CASE("ProcessWorkers.a_failing_initializer_breaks_the_pool_with_its_traceback" * doctest::timeout(60)) {
    InterpreterPoolExecutor::Options options = process_options(1);
    options.init_source = "raise RuntimeError('no start')";
    InterpreterPoolExecutor pool(options);
    CHECK_THROWS_AS(pool.wait_until_started(), BrokenPoolError);
    CHECK(pool.broken_reason().find("RuntimeError: no start") != std::string::npos);
}

TEST_CASE("ProcessWorkers.a_mixed_pool_routes_listed_modules_to_its_processes" * doctest::timeout(120)) {
    InterpreterPoolExecutor::Options options;
    options.workers = 1;
    options.worker_kind = InterpreterPoolExecutor::WorkerKind::mixed;
    options.process_workers = 1;
    options.process_modules = {"isolates_test_refusing"};
    options.sys_path = {test::test_extension_dir};
    InterpreterPoolExecutor pool(options);
    REQUIRE(pool.size() == 2);
    const std::int64_t process = pool.submit("isolates_test_refusing:pid").get().as_int64();
    CHECK(process != ::getpid());
    CHECK(pool.submit_to(1, "os:getpid").get().as_int64() == process);
    // Everything else runs in sub-interpreters of this process, C++ callables included.
    CHECK(pool.submit("os:getpid").get().as_int64() == ::getpid());
    CHECK(pool.submit([](Interpreter& in) { return in.eval("6 * 7"); }).get().as_int64() == 42);
    CHECK_THROWS_AS(pool.submit_to(1, [](Interpreter&) { return 1; }), UsageError);
    // map chunks follow their target (a sub-interpreter would refuse the import).
    MapOptions chunked;
    chunked.chunksize = 2;
    auto waits = pool.map("isolates_test_refusing:block_in_c", std::vector<double>(5, 0.0), chunked).get();
    CHECK(waits.size() == 5);
    InterpreterPoolExecutor::Options bad = options;
    bad.process_workers = 0;
    CHECK_THROWS_AS(InterpreterPoolExecutor{bad}, UsageError);
}

TEST_CASE("ProcessWorkers.the_standard_librarys_single_phase_modules_go_to_processes" * doctest::timeout(120)) {
    InterpreterPoolExecutor::Options options;
    options.workers = 1;
    options.worker_kind = InterpreterPoolExecutor::WorkerKind::mixed;
    options.process_workers = 1;
    options.process_modules = {"readline", "_curses"};
    InterpreterPoolExecutor pool(options);
    std::string nothing_to_route; // why each module was left out
    for (const char* module : {"readline", "_curses"}) {
        // Refused in a sub-interpreter (worker 0), unless this CPython lacks it or made it
        // multi-phase (then there is nothing to route).
        try {
            pool.submit_to<void>(0, "importlib:import_module", module).get();
            nothing_to_route += std::string(module) + " loads in a sub-interpreter; ";
            continue;
        } catch (const PythonError& e) {
            if (e.type_name() == "ModuleNotFoundError") {
                nothing_to_route += std::string(module) + " is not built; ";
                continue;
            }
            CHECK(e.message().find("subinterpreters") != std::string::npos);
        }
        // Routed by its module: a target in it runs in the worker process.
        const std::string target = std::string(module) + (module == std::string("readline")
                                                               ? ":get_history_length"
                                                               : ":has_colors");
        auto result = pool.submit(target);
        try {
            result.get();
        } catch (const PythonError& e) {
            // _curses.has_colors() needs initscr(): an error raised inside the process still
            // proves the module was imported there.
            CHECK(e.type_name().find("ImportError") == std::string::npos);
        }
    }
    if (nothing_to_route.find("readline") != std::string::npos &&
        nothing_to_route.find("_curses") != std::string::npos)
        ISOLATES_SKIP("this CPython: " + nothing_to_route);
}

TEST_CASE("ProcessWorkers.a_host_that_dies_leaves_no_workers_and_no_segments" * doctest::timeout(120)) {
    const auto run = testing::run_command(ISOLATES_PROCESS_POOL_PROBE);
    std::vector<std::int64_t> workers;
    std::vector<std::string> segments;
    std::istringstream lines(run.output);
    for (std::string word, value; lines >> word >> value;) {
        if (word == "worker") workers.push_back(std::stoll(value));
        if (word == "segment") segments.push_back(value);
    }
    INFO("probe output: " << run.output);
    REQUIRE(workers.size() == 2);
    REQUIRE(segments.size() == 3); // the host's, then one per worker
    // Each worker sees its lifeline close within its 100 ms watch and removes its segments.
    for (std::int64_t pid : workers) CHECK(ends_within(pid, 5s));
    for (std::size_t k = 1; k < segments.size(); ++k) CHECK_FALSE(testing::segment_exists(segments[k]));
    // The dead host's own segment goes with the next one any isolates process makes (this one,
    // unless another isolates process on the machine made one first).
    SharedBuffer::copy_of("next", SharedBuffer::Storage::shared_memory);
    CHECK_FALSE(testing::segment_exists(segments[0]));
}

} // TEST_SUITE
