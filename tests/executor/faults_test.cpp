// Faults around the InterpreterPoolExecutor and channels: tasks that never return, shutdown while
// tasks run, wait in the queue or block on channels (every future resolved, promptly), close()
// waking every blocked C++ thread and Python caller, destroying the pool from odd places, and
// exceptions from continuations and initializers. The README's Reliability section lists them.

#include <unistd.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <isolates/channels/channel.h>
#include <isolates/executor/interpreter_pool_executor.h>
#include <isolates/executor/thread_executor.h>
#include <isolates/interp/errors.h>
#include "tests/support/doctest.h"
#include "tests/support/pool_test_helpers.h"

using namespace isolates;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {
constexpr const char* faults_helpers = R"(
import time, isolates
def add(a, b):
    return a + b
def spin():
    while True:
        pass
def sleep_forever():
    while True:
        time.sleep(0.01)
def recv_forever(ch):
    return ch.recv()
def send_forever(ch):
    while True:
        ch.send(0)
def recv_polling(ch):
    # Blocked on a channel, but with a timeout: an interrupt lands between the waits.
    while True:
        try:
            return ch.recv(timeout=0.05)
        except isolates.ChannelEmpty:
            pass
def iterate(ch):
    return sum(1 for _ in ch)
def select_forever(a, b):
    return isolates.select([a, b])
)";

InterpreterPoolExecutor::Options faults_pool_options(std::size_t workers) {
    return testing::pool_options(workers, faults_helpers);
}

using testing::wait_running;

/// Generous bound for "promptly" on a loaded 2-core machine: not a performance assertion, only
/// "did not hang".
constexpr auto prompt = 20s;

template <class T> bool all_ready(const std::vector<Future<T>>& futures) {
    for (const auto& f : futures)
        if (!f.ready()) return false;
    return true;
}

/// How each future resolved: value, cancelled, other error.
struct Tally {
    int values = 0, cancelled = 0, errors = 0;
};
template <class T> Tally tally(const std::vector<Future<T>>& futures) {
    Tally t;
    for (const auto& f : futures) {
        try {
            f.get();
            ++t.values;
        } catch (const CancelledError&) {
            ++t.cancelled;
        } catch (...) {
            ++t.errors;
        }
    }
    return t;
}

std::string probe_path() { return ISOLATES_POOL_DESTROY_PROBE; }

/// Runs the probe with `scenario`; returns its wait status and fills `output`.
int run_probe(const std::string& scenario, std::string& output) {
    // exec: the shell is replaced, so pclose reports the probe's own signal, if any.
    const std::string command = "exec " + probe_path() + " " + scenario + " 2>&1";
    std::fflush(nullptr);
    FILE* pipe = ::popen(command.c_str(), "r");
    REQUIRE(pipe != nullptr);
    char buffer[4096];
    std::size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
    return ::pclose(pipe);
}
} // namespace

TEST_SUITE("Reliability") {

// --- Tasks that never return ------------------------------------------------------------------

TEST_CASE("Faults.never_returning_tasks_are_stopped_by_their_timeout" * doctest::timeout(120)) {
    auto options = faults_pool_options(2);
    options.task_timeout = 200ms;
    InterpreterPoolExecutor pool(options);
    const auto start = Clock::now();
    CHECK_THROWS_WITH_AS(pool.submit("__main__:spin").get(), "__main__:spin timed out after 200 ms", TimeoutError);
    CHECK_THROWS_AS(pool.submit("__main__:sleep_forever").get(), TimeoutError);
    CHECK_THROWS_AS(pool.submit_source("while True:\n    try:\n        pass\n"
                                       "    except Exception:\n        pass\n").get(),
                    TimeoutError);
    Future<int> cpp = pool.submit([](Interpreter&) {
        while (!InterpreterPoolExecutor::stop_requested()) std::this_thread::sleep_for(1ms);
        return 1;
    });
    CHECK_THROWS_AS(cpp.get(), TimeoutError);
    CHECK(Clock::now() - start < prompt);
    // Both workers serve again, in the same interpreters (a timeout does not damage them).
    for (std::size_t k = 0; k < 2; ++k) CHECK(pool.submit_to(k, "__main__:add", 1, k).get().as_int64() == 1 + int(k));
    const auto stats = pool.stats();
    CHECK(stats.timed_out == 4);
    CHECK(stats.replaced_interpreters == 0);
}

TEST_CASE("Faults.a_timed_out_task_blocked_on_a_channel_frees_its_worker_when_closed" *
          doctest::timeout(120)) {
    auto options = faults_pool_options(2);
    options.task_timeout = 200ms;
    InterpreterPoolExecutor pool(options);
    Channel never(4);
    Future<Value> blocked = pool.submit_to(0, "__main__:recv_forever", never);
    // The future resolves at the deadline even though the task sits in C++ without the GIL.
    CHECK_THROWS_AS(blocked.get(), TimeoutError);
    // The other worker serves meanwhile; the blocked one is back once the channel closes.
    CHECK(pool.submit_to(1, "__main__:add", 1, 1).get().as_int64() == 2);
    never.close();
    CHECK(pool.submit_to(0, "__main__:add", 2, 2).get().as_int64() == 4);
    Channel polled(4);
    CHECK_THROWS_AS(pool.submit("__main__:recv_polling", polled).get(), TimeoutError);
    CHECK(pool.submit("__main__:add", 3, 3).get().as_int64() == 6);
}

// --- Shutdown while tasks run, wait or block ---------------------------------------------------

TEST_CASE("Faults.shutdown_cancelling_resolves_running_queued_and_channel_blocked_tasks" *
          doctest::timeout(120)) {
    InterpreterPoolExecutor pool(faults_pool_options(2));
    Channel polled(4);
    std::vector<Future<Value>> running{pool.submit_to(0, "__main__:spin"),
                                       pool.submit_to(1, "__main__:recv_polling", polled)};
    for (auto& f : running) wait_running(f);
    std::vector<Future<Value>> queued;
    for (int k = 0; k < 500; ++k) queued.push_back(pool.submit("__main__:add", k, 1));
    std::vector<Future<void>> queued_source;
    for (int k = 0; k < 50; ++k) queued_source.push_back(pool.submit_source_to(k % 2, "x = 1"));
    const auto start = Clock::now();
    pool.shutdown(/*wait=*/true, /*cancel_pending=*/true);
    CHECK(Clock::now() - start < prompt);
    REQUIRE(all_ready(running));
    REQUIRE(all_ready(queued));
    REQUIRE(all_ready(queued_source));
    CHECK(tally(running).cancelled == 2);
    CHECK(tally(queued).cancelled == 500);
    CHECK(tally(queued_source).cancelled == 50);
    CHECK(pool.stats().cancelled == 552);
    CHECK_THROWS_AS(pool.submit("__main__:add", 1, 1), UsageError);
}

TEST_CASE("Faults.shutdown_draining_runs_everything_queued" * doctest::timeout(120)) {
    InterpreterPoolExecutor pool(faults_pool_options(2));
    Channel gate(1);
    Future<Value> waiting = pool.submit_to(0, "__main__:recv_forever", gate);
    wait_running(waiting);
    std::vector<Future<Value>> queued;
    for (int k = 0; k < 300; ++k) queued.push_back(pool.submit("__main__:add", k, 1));
    std::thread opener([&] {
        std::this_thread::sleep_for(100ms);
        gate.send(Value("open"));
    });
    pool.shutdown(/*wait=*/true, /*cancel_pending=*/false);
    opener.join();
    CHECK(waiting.get().as_str() == "open");
    long long total = 0;
    for (auto& f : queued) total += f.get().as_int64();
    CHECK(total == 300LL * 301 / 2);
}

TEST_CASE("Faults.shutdown_racing_with_submitters_leaves_no_future_hanging" * doctest::timeout(120)) {
    for (bool cancel : {true, false}) {
        CAPTURE(cancel);
        InterpreterPoolExecutor pool(faults_pool_options(2));
        std::vector<std::vector<Future<Value>>> accepted(4);
        std::atomic<int> refused{0};
        std::vector<std::thread> submitters;
        for (int t = 0; t < 4; ++t)
            submitters.emplace_back([&, t] {
                for (int k = 0;; ++k) {
                    try {
                        accepted[t].push_back(pool.submit("__main__:add", k, t));
                    } catch (const UsageError&) {
                        ++refused;
                        return;
                    }
                    if (k % 64 == 0) std::this_thread::yield();
                }
            });
        std::this_thread::sleep_for(100ms);
        pool.shutdown(/*wait=*/true, cancel);
        for (auto& t : submitters) t.join();
        CHECK(refused == 4);
        std::size_t n = 0;
        for (int t = 0; t < 4; ++t) {
            // Every accepted future is resolved by the time shutdown returned (a racing submit
            // that landed after the workers left is cancelled by the final drain).
            REQUIRE(all_ready(accepted[t]));
            const Tally counts = tally(accepted[t]);
            CHECK(counts.errors == 0);
            if (!cancel) CHECK(counts.cancelled <= 1);
            n += accepted[t].size();
        }
        const auto stats = pool.stats();
        CHECK(stats.submitted == n);
        CHECK(stats.completed + stats.cancelled == n);
        MESSAGE("cancel=" << cancel << ": " << n << " accepted, " << stats.completed
                          << " ran, " << stats.cancelled << " cancelled");
    }
}

TEST_CASE("Faults.shutdown_without_waiting_resolves_a_task_blocked_on_recv_at_once" *
          doctest::timeout(120)) {
    // Tasks blocked without timeouts in ch.recv(), ch.send(), iteration and isolates.select() sit
    // in C++ with the GIL released. Their futures resolve at once, and the interrupt wakes each
    // wait (Interpreter::InterruptWakeup), so the pool is destroyed without anyone closing them.
    Channel never(4);
    Channel full(1);
    full.send(Value(0));
    Channel a(1), b(1);
    auto pool = std::make_unique<InterpreterPoolExecutor>(faults_pool_options(4));
    std::vector<Future<Value>> blocked{pool->submit_to(0, "__main__:recv_forever", never),
                                       pool->submit_to(1, "__main__:send_forever", full),
                                       pool->submit_to(2, "__main__:iterate", never),
                                       pool->submit_to(3, "__main__:select_forever", a, b)};
    for (auto& f : blocked) wait_running(f);
    std::vector<Future<Value>> queued;
    for (int k = 0; k < 100; ++k) queued.push_back(pool->submit("__main__:add", k, 1));
    pool->shutdown(/*wait=*/false, /*cancel_pending=*/true);
    CHECK(all_ready(blocked));
    CHECK(all_ready(queued));
    CHECK(tally(blocked).cancelled == 4);
    CHECK(tally(queued).cancelled == 100);
    std::atomic<bool> destroyed{false};
    std::thread destroyer([&] {
        pool.reset();
        destroyed = true;
    });
    const auto until = Clock::now() + 10s;
    while (!destroyed && Clock::now() < until) std::this_thread::sleep_for(10ms);
    CHECK(destroyed);
    for (Channel* ch : {&never, &full, &a, &b}) ch->close(); // frees a worker left blocked
    destroyer.join();
}

// A Python call blocked in ch.recv() waits without the GIL; Interpreter::interrupt() wakes it
// (Interpreter::InterruptWakeup), so cancelling shutdown returns without anyone closing the
// channel. The watchdog closes it only if shutdown hangs, so that a regression fails, not hangs.
TEST_CASE("Faults.shutdown_cancelling_ends_a_task_blocked_on_recv_promptly" *
          doctest::timeout(60)) {
    Channel never(4);
    InterpreterPoolExecutor pool(faults_pool_options(1));
    Future<Value> blocked = pool.submit("__main__:recv_forever", never);
    wait_running(blocked);
    std::atomic<bool> returned{false};
    std::thread watchdog([&] {
        const auto until = Clock::now() + 5s;
        while (!returned && Clock::now() < until) std::this_thread::sleep_for(10ms);
        if (!returned) never.close();
    });
    pool.shutdown(/*wait=*/true, /*cancel_pending=*/true);
    returned = true;
    watchdog.join();
    CHECK(blocked.cancelled());
    CHECK(never.closed() == false); // shutdown returned before the watchdog had to close it
}

// --- close() wakes everything blocked on a channel ------------------------------------------

TEST_CASE("Faults.close_wakes_every_kind_of_blocked_cpp_thread" * doctest::timeout(60)) {
    Channel empty(4);
    Channel full(2);
    full.send(Value(1));
    full.send(Value(2));
    Channel other(4);
    std::atomic<int> woken{0};
    std::vector<std::thread> threads;
    auto expect_closed = [&](auto action) {
        threads.emplace_back([&, action] {
            try {
                action();
            } catch (const ChannelClosed&) {
                ++woken;
            }
        });
    };
    expect_closed([&] { empty.recv(); });
    expect_closed([&] { (void)empty.recv_for(1h); });
    expect_closed([&] { full.send(Value(3)); });
    expect_closed([&] { (void)full.send_for(Value(3), 1h); });
    expect_closed([&] {
        const Channel both[] = {empty, other};
        other.close(); // select skips a closed channel and keeps waiting on the other
        (void)select(both);
    });
    threads.emplace_back([&] {
        int n = 0;
        for (const Value& v : empty) n += static_cast<int>(v.as_int64());
        if (n == 0) ++woken; // the loop ended because the channel closed
    });
    std::this_thread::sleep_for(100ms);
    CHECK(woken == 0);
    empty.close();
    full.close();
    for (auto& t : threads) t.join();
    CHECK(woken == 6);
    CHECK(full.recv().as_int64() == 1); // what was sent before close is still received
}

TEST_CASE("Faults.close_wakes_python_callers_in_interpreters_and_pool_tasks" *
          doctest::timeout(120)) {
    Channel empty(4);
    Channel full(1);
    full.send(Value(0));
    Channel spare(4);
    InterpreterPoolExecutor pool(faults_pool_options(4));
    pool.wait_until_started();
    constexpr const char* catching = R"(
import isolates
def catch(kind, ch, spare):
    try:
        if kind == 'recv': ch.recv()
        elif kind == 'send': ch.send(1)
        elif kind == 'recv_timeout': ch.recv(timeout=3600.0)
        elif kind == 'select': isolates.select([ch, spare])
        elif kind == 'iterate': return 'ended' if sum(1 for _ in ch) == 0 else 'got values'
    except isolates.ChannelClosed:
        return 'closed'
    return 'returned'
)";
    std::vector<Future<Value>> tasks;
    for (std::size_t k = 0; k < 4; ++k) pool.submit_source_to(k, catching).get();
    tasks.push_back(pool.submit_to(0, "__main__:catch", "recv", empty, spare));
    tasks.push_back(pool.submit_to(1, "__main__:catch", "send", full, spare));
    tasks.push_back(pool.submit_to(2, "__main__:catch", "select", empty, spare));
    tasks.push_back(pool.submit_to(3, "__main__:catch", "iterate", empty, spare));
    // Plain interpreters on their own threads too.
    std::vector<std::string> answers(3);
    std::vector<std::thread> threads;
    const char* kinds[] = {"recv_timeout", "send", "iterate"};
    for (int k = 0; k < 3; ++k)
        threads.emplace_back([&, k] {
            Interpreter in;
            in.exec(catching);
            answers[k] = in.call("__main__:catch", kinds[k], k == 1 ? full : empty, spare).as_str();
        });
    for (auto& f : tasks) wait_running(f);
    std::this_thread::sleep_for(200ms);
    for (auto& f : tasks) CHECK_FALSE(f.ready());
    empty.close();
    full.close();
    // select skips a closed channel and goes on waiting on the others: it wakes with
    // ChannelClosed only once every channel it waits on is closed.
    std::this_thread::sleep_for(100ms);
    CHECK_FALSE(tasks[2].ready());
    spare.close();
    for (auto& t : threads) t.join();
    CHECK(tasks[0].get().as_str() == "closed");
    CHECK(tasks[1].get().as_str() == "closed");
    CHECK(tasks[2].get().as_str() == "closed");
    CHECK(tasks[3].get().as_str() == "ended");
    CHECK(answers[0] == "closed");
    CHECK(answers[1] == "closed");
    CHECK(answers[2] == "ended");
}

// --- Destroying the pool from odd places -------------------------------------------------------

TEST_CASE("Faults.destroying_the_pool_from_another_thread_resolves_everything" *
          doctest::timeout(120)) {
    auto options = faults_pool_options(2);
    options.cancel_pending_on_destroy = true;
    auto pool = std::make_unique<InterpreterPoolExecutor>(options);
    std::vector<Future<Value>> futures{pool->submit("__main__:spin"), pool->submit("__main__:spin")};
    for (int k = 0; k < 200; ++k) futures.push_back(pool->submit("__main__:add", k, 1));
    wait_running(futures[0]);
    std::thread destroyer([p = std::move(pool)]() mutable { p.reset(); });
    destroyer.join();
    REQUIRE(all_ready(futures));
    const Tally counts = tally(futures);
    CHECK(counts.errors == 0);
    CHECK(counts.cancelled >= 2);
    CHECK(counts.values + counts.cancelled == 202);
}

TEST_CASE("Faults.shutdown_from_a_continuation_on_a_worker" * doctest::timeout(60)) {
    InterpreterPoolExecutor pool(faults_pool_options(2));
    // then() without an executor runs on the worker that resolved the future: waiting there would
    // wait for itself.
    Future<int> inline_shutdown = pool.submit("__main__:add", 1, 1).then([&](const Value&) {
        pool.shutdown();
        return 1;
    });
    CHECK_THROWS_WITH_AS(inline_shutdown.get(), doctest::Contains("would wait for itself"),
                         UsageError);
    CHECK(pool.submit("__main__:add", 2, 2).get().as_int64() == 4); // still serving
    // From a continuation on another executor, waiting is fine.
    {
        InterpreterPoolExecutor other(faults_pool_options(1));
        ThreadExecutor elsewhere;
        Future<int> outside = other.submit("__main__:add", 1, 1).then(
            [&](const Value& v) {
                other.shutdown();
                return static_cast<int>(v.as_int64());
            },
            elsewhere);
        CHECK(outside.get() == 2);
        CHECK_THROWS_AS(other.submit("__main__:add", 1, 1), UsageError);
    }
    // Without waiting it works on a worker too: the queued tasks are cancelled, the caller's own
    // task (this continuation) runs to its end, and the pool stops accepting.
    Channel gate(1);
    Future<Value> held = pool.submit("__main__:recv_forever", gate);
    wait_running(held);
    std::vector<Future<Value>> queued;
    Future<int> posted_shutdown = make_ready_future(0).then(
        [&](int) {
            pool.shutdown(false, true);
            return 1;
        },
        pool);
    CHECK(posted_shutdown.get() == 1);
    REQUIRE(held.wait_for(prompt) == std::future_status::ready);
    CHECK_THROWS_AS(held.get(), CancelledError);
    CHECK_THROWS_AS(pool.submit("__main__:add", 1, 1), UsageError);
}

TEST_CASE("Faults.destroying_the_pool_inside_its_own_continuation_is_safe" *
          doctest::timeout(120)) {
    // In a process of its own, so that the Runtime's end right after is checked too.
    for (const char* scenario : {"drain", "cancel"}) {
        CAPTURE(scenario);
        std::string output;
        const int status = run_probe(scenario, output);
        INFO(output);
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
        CHECK(output.find("destroyed on its own worker") != std::string::npos);
        CHECK(output.find("continuation returned 1") != std::string::npos);
        if (std::string(scenario) == "drain")
            CHECK(output.find("queued: 50 values, 0 cancelled, 0 other") != std::string::npos);
        else
            CHECK(output.find(" cancelled, 0 other") != std::string::npos);
    }
}

TEST_CASE("Faults.continuations_a_shut_down_pool_discards_resolve_as_cancelled" *
          doctest::timeout(60)) {
    InterpreterPoolExecutor pool(faults_pool_options(1));
    Channel gate(1);
    Future<Value> held = pool.submit("__main__:recv_forever", gate); // holds the one worker
    wait_running(held);
    std::vector<Future<int>> continuations;
    for (int k = 0; k < 10; ++k)
        continuations.push_back(make_ready_future(k).then([](int v) { return v; }, pool));
    pool.shutdown(true, true);
    for (auto& c : continuations) {
        REQUIRE(c.ready());
        CHECK(c.cancelled());
        CHECK_THROWS_WITH_AS(c.get(), doctest::Contains("discarded it without running it"),
                             CancelledError);
    }
}

// --- Exceptions from continuations and initializers -------------------------------------------

TEST_CASE("Faults.exceptions_from_continuations_are_reported" * doctest::timeout(60)) {
    InterpreterPoolExecutor pool(faults_pool_options(2));
    ThreadExecutor elsewhere;
    auto throwing = [](const Value&) -> int { throw std::runtime_error("continuation failed"); };
    CHECK_THROWS_WITH_AS(pool.submit("__main__:add", 1, 1).then(throwing).get(),
                         "continuation failed", std::runtime_error);
    CHECK_THROWS_WITH_AS(pool.submit("__main__:add", 1, 1).then(throwing, elsewhere).get(),
                         "continuation failed", std::runtime_error);
    CHECK_THROWS_WITH_AS(pool.submit("__main__:add", 1, 1).then(throwing, pool).get(),
                         "continuation failed", std::runtime_error);
    // A continuation that raises a Python error through the worker's interpreter, then one that
    // sees the failure through the future it is given.
    Future<std::string> seen =
        pool.submit("__main__:add", 1, "x")
            .then([](const Value& v) { return v.repr(); })
            .then([](Future<std::string> previous) {
                try {
                    previous.get();
                    return std::string("no error");
                } catch (const PythonError& e) {
                    return e.type_name();
                }
            });
    CHECK(seen.get() == "TypeError");
    // The error travels through when_all and to std::future.
    std::vector<Future<int>> parts{pool.submit("__main__:add", 1, 1).then(throwing),
                                   make_ready_future(1)};
    CHECK_THROWS_AS(when_all(parts).get(), std::runtime_error);
    CHECK_THROWS_AS(pool.submit("__main__:add", 1, 1).then(throwing).to_std_future().get(),
                    std::runtime_error);
    // A continuation scheduled on a pool that has shut down meanwhile reports that.
    auto other = std::make_unique<InterpreterPoolExecutor>(faults_pool_options(1));
    Channel gate(1);
    Future<Value> slow = pool.submit("__main__:recv_forever", gate);
    Future<int> stranded = slow.then([](const Value&) { return 1; }, *other);
    other->shutdown(); // the executor must outlive the continuation; it need not still run

    gate.send(Value(1));
    CHECK_THROWS_WITH_AS(stranded.get(), doctest::Contains("after shutdown"), UsageError);
    CHECK(pool.submit("__main__:add", 2, 2).get().as_int64() == 4);
}

TEST_CASE("Faults.exceptions_from_posted_jobs_are_reported" * doctest::timeout(60)) {
    auto options = faults_pool_options(2);
    std::mutex mutex;
    std::vector<std::string> reported;
    options.on_post_error = [&](std::exception_ptr error) {
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            std::lock_guard lock(mutex);
            reported.emplace_back(e.what());
        }
    };
    InterpreterPoolExecutor pool(options);
    pool.post([] { throw std::runtime_error("posted job failed"); });
    pool.post([] {}); // a good one is not reported
    pool.post([] { throw UsageError("another posted job failed"); });
    pool.shutdown(); // every posted job has run
    std::sort(reported.begin(), reported.end());
    CHECK(reported == std::vector<std::string>{"another posted job failed", "posted job failed"});
    CHECK(pool.stats().failed == 2);
}

TEST_CASE("Faults.exceptions_from_initializers_are_reported" * doctest::timeout(120)) {
    for (const char* source : {"raise SystemExit(1)", "raise KeyboardInterrupt",
                               "def broken(:\n  pass", "import no_such_module_for_init_q"}) {
        CAPTURE(source);
        InterpreterPoolExecutor::Options options;
        options.workers = 2;
        options.init_source = source;
        InterpreterPoolExecutor pool(options);
        CHECK_THROWS_WITH_AS(pool.wait_until_started(), doctest::Contains("could not initialise"),
                             BrokenPoolError);
        CHECK(pool.broken());
        CHECK_FALSE(pool.broken_reason().empty());
        CHECK_THROWS_AS(pool.submit("builtins:len", "abc"), BrokenPoolError);
    }
    // An initializer that fails only when a replacement interpreter is made: the pool reports
    // broken with the reason, and queued tasks resolve with it rather than hang.
    const auto marker = std::filesystem::temp_directory_path() /
                        ("isolates-init-" + std::to_string(::getpid()));
    std::filesystem::remove(marker);
    auto options = faults_pool_options(1);
    options.init_source = std::string(faults_helpers) +
                          "import os\n"
                          "path = " + "'" + marker.string() + "'\n"
                          "if os.path.exists(path):\n"
                          "    raise RuntimeError('database gone on the second start')\n"
                          "open(path, 'w').close()\n";
    InterpreterPoolExecutor pool(options);
    CHECK(pool.submit("__main__:add", 1, 1).get().as_int64() == 2);
    Channel gate(1);
    Future<Value> held = pool.submit("__main__:recv_forever", gate); // holds the one worker
    Future<void> breaker = pool.submit_source("import sys\nsys.modules.clear()\n");
    std::vector<Future<Value>> queued;
    for (int k = 0; k < 20; ++k) queued.push_back(pool.submit("__main__:add", k, 1));
    gate.send(Value(1));
    CHECK(held.get().as_int64() == 1);
    breaker.get();
    for (auto& f : queued) {
        REQUIRE(f.wait_for(prompt) == std::future_status::ready);
        CHECK_THROWS_WITH_AS(f.get(), doctest::Contains("database gone"), BrokenPoolError);
    }
    CHECK(pool.broken());
    CHECK(pool.broken_reason().find("RuntimeError: database gone on the second start") !=
          std::string::npos);
    CHECK_THROWS_AS(pool.submit("__main__:add", 1, 1), BrokenPoolError);
    std::filesystem::remove(marker);
}

} // TEST_SUITE
