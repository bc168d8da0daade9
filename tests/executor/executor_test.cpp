// InterpreterPoolExecutor: every task form, map order, affinity, cancellation of pending and
// running tasks, timeouts, shutdown both ways, continuations, coroutines, interpreter
// replacement, broken pools, stats; plus Interpreter::healthy(), which the pool relies on.

#include <atomic>
#include <chrono>
#include <coroutine>
#include <future>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <isolates/executor/interpreter_pool_executor.h>
#include <isolates/executor/thread_executor.h>
#include <isolates/interp/interpreter.h>
#include "tests/support/doctest.h"
#include "tests/support/eager_coroutine.h"
#include "tests/support/pool_test_helpers.h"

using namespace isolates;
using namespace std::chrono_literals;

namespace {
constexpr const char* executor_helpers = R"(
import sys
calls = 0
def add(a, b):
    global calls
    calls += 1
    return a + b
def fail(message):
    raise ValueError(message)
def spin():
    while True:
        pass
def spin_catching():
    # Swallows the first interrupt: the pool must interrupt again.
    try:
        while True:
            pass
    except KeyboardInterrupt:
        pass
    while True:
        pass
def remember(key, value):
    globals()[key] = value
def recall(key):
    return globals().get(key)
)";

InterpreterPoolExecutor::Options executor_pool_options(std::size_t workers) {
    return testing::pool_options(workers, executor_helpers);
}

using testing::wait_running;

using testing::Eager;

Eager sum_on_pool(InterpreterPoolExecutor& pool, std::promise<long long>& out) {
    long long total = 0;
    for (int k = 0; k < 4; ++k) total += (co_await pool.submit("__main__:add", k, 100)).as_int64();
    out.set_value(total);
}
} // namespace

TEST_SUITE("Executor") {

TEST_CASE("Executor.submit_call_returns_results_and_python_errors" * doctest::timeout(30)) {
    InterpreterPoolExecutor pool(executor_pool_options(2));
    CHECK(pool.size() == 2);
    CHECK(pool.submit("__main__:add", 40, 2).get().as_int64() == 42);
    CHECK(pool.submit("__main__:add", std::string("a"), "b").get().as_str() == "ab");
    CHECK(pool.submit("json:dumps", Value::list({1, 2})).get().as_str() == "[1, 2]");
    CHECK(pool.submit_call({}, "builtins:sorted", {Value::list({3, 1, 2})},
                           {{"reverse", Value(true)}})
              .get() == Value::list({3, 2, 1}));
    try {
        pool.submit("__main__:fail", "bad input 7").get();
        FAIL("expected PythonError");
    } catch (const PythonError& e) {
        CHECK(e.type_name() == "ValueError");
        CHECK(e.message() == "bad input 7");
        CHECK(e.traceback().find("in fail") != std::string::npos);
    }
    CHECK_THROWS_WITH_AS(pool.submit("no_such_module_xyz:f").get(),
                         doctest::Contains("ModuleNotFoundError"), PythonError);
    CHECK_THROWS_AS(pool.submit("missing_colon").get(), UsageError);
}

TEST_CASE("Executor.submit_source_and_callables" * doctest::timeout(30)) {
    InterpreterPoolExecutor pool(executor_pool_options(1));
    pool.submit_source("made_by_source = 6 * 7").get();
    CHECK(pool.submit("__main__:recall", "made_by_source").get().as_int64() == 42);
    CHECK_THROWS_WITH_AS(pool.submit_source("1 / 0").get(), doctest::Contains("ZeroDivisionError"),
                         PythonError);
    Future<std::int64_t> id = pool.submit([](Interpreter& in) {
        CHECK(in.owner() == std::this_thread::get_id());
        CHECK(InterpreterPoolExecutor::current_worker() == std::size_t{0});
        return in.eval("made_by_source + 1").as_int64();
    });
    CHECK(id.get() == 43);
    Future<void> throwing = pool.submit([](Interpreter&) { throw std::runtime_error("c++ task"); });
    CHECK_THROWS_WITH_AS(throwing.get(), "c++ task", std::runtime_error);
    CHECK_FALSE(InterpreterPoolExecutor::current_worker().has_value());
}

TEST_CASE("Executor.map_keeps_the_order_of_its_input" * doctest::timeout(30)) {
    InterpreterPoolExecutor pool(executor_pool_options(2));
    std::vector<int> items;
    for (int k = 0; k < 200; ++k) items.push_back(k);
    std::vector<Value> squares = pool.map("math:pow", std::vector<Value>{}).get();
    CHECK(squares.empty());
    std::vector<Value> results = pool.map("builtins:str", items).get();
    REQUIRE(results.size() == items.size());
    for (int k = 0; k < 200; ++k) CHECK(results[k].as_str() == std::to_string(k));
    CHECK_THROWS_AS(pool.map("__main__:fail", std::vector<std::string>{"x"}).get(), PythonError);
}

TEST_CASE("Executor.submit_to_keeps_state_in_one_worker" * doctest::timeout(30)) {
    InterpreterPoolExecutor pool(executor_pool_options(2));
    pool.submit_to(1, "__main__:remember", "k", "on one").get();
    for (int k = 0; k < 5; ++k)
        CHECK(pool.submit_to(1, "__main__:recall", "k").get().as_str() == "on one");
    CHECK(pool.submit_to(0, "__main__:recall", "k").get().is_none());
    CHECK(pool.submit_to(1, [](Interpreter&) { return *InterpreterPoolExecutor::current_worker(); })
              .get() == 1);
    pool.submit_source_to(0, "k = 'zero'").get();
    CHECK(pool.submit_to(0, "__main__:recall", "k").get().as_str() == "zero");
    CHECK_THROWS_AS(pool.submit_to(2, "__main__:recall", "k"), UsageError);
}

TEST_CASE("Executor.cancel_of_a_pending_task_means_it_never_runs" * doctest::timeout(30)) {
    InterpreterPoolExecutor pool(executor_pool_options(1));
    Future<Value> blocker = pool.submit("__main__:spin");
    Future<Value> pending = pool.submit("__main__:remember", "ran", true);
    wait_running(blocker);
    CHECK(pending.cancel());
    CHECK_THROWS_AS(pending.get(), CancelledError);
    CHECK(blocker.cancel());
    CHECK_THROWS_AS(blocker.get(), CancelledError);
    CHECK(pool.submit("__main__:recall", "ran").get().is_none());
}

TEST_CASE("Executor.cancel_stops_a_running_python_task_and_the_worker_keeps_serving" *
          doctest::timeout(30)) {
    InterpreterPoolExecutor pool(executor_pool_options(1));
    for (const char* target : {"__main__:spin", "__main__:spin_catching"}) {
        Future<Value> running = pool.submit(target);
        wait_running(running);
        CHECK_FALSE(running.ready());
        CHECK(running.cancel());
        CHECK(running.cancelled());
        CHECK_THROWS_AS(running.get(), CancelledError);
        // The worker is back: the next task runs, in the same interpreter.
        pool.submit("__main__:remember", "after", target).get();
        CHECK(pool.submit("__main__:recall", "after").get().as_str() == target);
    }
    const auto stats = pool.stats();
    CHECK(stats.cancelled == 2);
    CHECK(stats.replaced_interpreters == 0);
}

TEST_CASE("Executor.cancel_of_a_cpp_task_lands_at_its_next_python_call" * doctest::timeout(30)) {
    InterpreterPoolExecutor pool(executor_pool_options(1));
    std::atomic<bool> started{false};
    Future<int> task = pool.submit([&](Interpreter& in) {
        started = true;
        while (!InterpreterPoolExecutor::stop_requested()) std::this_thread::sleep_for(1ms);
        in.call("__main__:spin"); // interrupted once it runs
        return 1;
    });
    while (!started) std::this_thread::sleep_for(1ms);
    CHECK(task.cancel());
    CHECK_THROWS_AS(task.get(), CancelledError);
    CHECK(pool.submit("__main__:add", 1, 1).get().as_int64() == 2);
}

TEST_CASE("Executor.timeouts_stop_running_tasks" * doctest::timeout(30)) {
    auto options = executor_pool_options(1);
    options.task_timeout = 100ms;
    InterpreterPoolExecutor pool(options);
    const auto start = std::chrono::steady_clock::now();
    CHECK_THROWS_AS(pool.submit("__main__:spin").get(), TimeoutError);
    CHECK(std::chrono::steady_clock::now() - start < 10s);
    InterpreterPoolExecutor::TaskOptions longer;
    longer.timeout = 5s;
    CHECK(pool.submit_with(longer, "__main__:add", 2, 3).get().as_int64() == 5);
    InterpreterPoolExecutor::TaskOptions shorter;
    shorter.timeout = 20ms;
    CHECK_THROWS_AS(pool.submit_with(shorter, "__main__:spin_catching").get(), TimeoutError);
    CHECK(pool.submit("__main__:add", 1, 2).get().as_int64() == 3);
    pool.shutdown();
    const auto stats = pool.stats();
    CHECK(stats.timed_out == 2);
    CHECK(stats.failed == 2);
    CHECK(stats.completed == 2);
}

TEST_CASE("Executor.timeout_names_the_target_and_stats_say_where_the_interrupt_stopped_it" *
          doctest::timeout(30)) {
    InterpreterPoolExecutor pool(executor_pool_options(1));
    CHECK(pool.stats().last_timeout_traceback.empty());
    InterpreterPoolExecutor::TaskOptions limit;
    limit.timeout = 150ms;
    CHECK_THROWS_WITH_AS(pool.submit_with(limit, "__main__:spin").get(),
                         "__main__:spin timed out after 150 ms", TimeoutError);
    // Its future resolved at the deadline; the worker records where the code stopped before it
    // takes its next task, so once this one ran the record is there.
    CHECK(pool.submit("__main__:add", 1, 1).get().as_int64() == 2);
    const std::string where = pool.stats().last_timeout_traceback;
    CHECK(where.find("__main__:spin timed out after 150 ms; the interrupt stopped it here:\n") == 0);
    INFO(where);
    CHECK(where.find("in spin") != std::string::npos);
    CHECK(where.find("KeyboardInterrupt") != std::string::npos);

    // A C++ task has no target to name; its code ends with what the interrupt raised in it.
    limit.timeout = 1500us;
    CHECK_THROWS_WITH_AS(pool.submit_with(limit, [](Interpreter& in) { in.call("__main__:spin"); }).get(),
                         "task timed out after 1500 us", TimeoutError);
    CHECK(pool.submit("__main__:add", 1, 1).get().as_int64() == 2);
    CHECK(pool.stats().last_timeout_traceback.find("task timed out after 1500 us; the interrupt "
                                                   "stopped it here:\n") == 0);

    // The pool's task_timeout gives the same message.
    auto options = executor_pool_options(1);
    options.task_timeout = 200ms;
    InterpreterPoolExecutor timed(options);
    CHECK_THROWS_WITH_AS(timed.submit_source("while True: pass").get(),
                         "task timed out after 200 ms", TimeoutError);
    // A map's chunk is named after its target and items.
    const std::vector<std::vector<Value>> no_arguments(2);
    CHECK_THROWS_WITH_AS(timed.starmap("__main__:spin", no_arguments, {.chunksize = 2}).get(),
                         "__main__:spin (chunk of items 0 to 1) timed out after 200 ms",
                         TimeoutError);
}

TEST_CASE("Executor.stats_count_a_task_before_its_future_resolves" * doctest::timeout(30)) {
    InterpreterPoolExecutor pool(executor_pool_options(2));
    // A callback runs on the worker right after the future resolved: the task is counted already.
    // (It runs at once on this thread if the task was that quick: after it resolved, too.)
    std::promise<std::uint64_t> seen_in_callback;
    Future<Value> first = pool.submit("__main__:add", 1, 2);
    first.on_done([&] { seen_in_callback.set_value(pool.stats().completed); });
    CHECK(seen_in_callback.get_future().get() == 1);
    CHECK(first.get().as_int64() == 3);

    for (int k = 0; k < 50; ++k) {
        pool.submit("__main__:add", k, 1).get();
        REQUIRE(pool.stats().completed == static_cast<std::uint64_t>(k) + 2);
    }
    CHECK_THROWS_AS(pool.submit("__main__:fail", "no").get(), PythonError);
    CHECK(pool.stats().failed == 1);
    const auto s = pool.stats();
    CHECK(s.submitted == s.completed + s.failed + s.cancelled);
}

TEST_CASE("Executor.shutdown_runs_pending_tasks_by_default" * doctest::timeout(30)) {
    InterpreterPoolExecutor pool(executor_pool_options(1));
    std::vector<Future<Value>> futures;
    for (int k = 0; k < 50; ++k) futures.push_back(pool.submit("__main__:add", k, 1));
    pool.shutdown(/*wait=*/true, /*cancel_pending=*/false);
    for (int k = 0; k < 50; ++k) {
        REQUIRE(futures[k].ready());
        CHECK(futures[k].get().as_int64() == k + 1);
    }
    CHECK_THROWS_AS(pool.submit("__main__:add", 1, 1), UsageError);
    pool.shutdown(); // idempotent
}

TEST_CASE("Executor.shutdown_can_cancel_pending_and_running_tasks" * doctest::timeout(30)) {
    InterpreterPoolExecutor pool(executor_pool_options(1));
    Future<Value> running = pool.submit("__main__:spin");
    std::vector<Future<Value>> pending;
    for (int k = 0; k < 20; ++k) pending.push_back(pool.submit("__main__:add", k, 1));
    wait_running(running);
    pool.shutdown(/*wait=*/false, /*cancel_pending=*/true);
    for (auto& future : pending) CHECK_THROWS_AS(future.get(), CancelledError);
    CHECK_THROWS_AS(running.get(), CancelledError);
    pool.shutdown(true, false);
    CHECK(pool.stats().cancelled == 21);
}

TEST_CASE("Executor.destructor_resolves_every_future" * doctest::timeout(30)) {
    std::vector<Future<Value>> drained;
    std::vector<Future<Value>> cancelled;
    {
        InterpreterPoolExecutor pool(executor_pool_options(2));
        for (int k = 0; k < 30; ++k) drained.push_back(pool.submit("__main__:add", k, k));
    }
    for (int k = 0; k < 30; ++k) CHECK(drained[k].get().as_int64() == 2 * k);
    {
        auto options = executor_pool_options(1);
        options.cancel_pending_on_destroy = true;
        InterpreterPoolExecutor pool(options);
        cancelled.push_back(pool.submit("__main__:spin"));
        for (int k = 0; k < 30; ++k) cancelled.push_back(pool.submit("__main__:add", k, k));
    }
    for (auto& future : cancelled) CHECK(future.ready());
    CHECK_THROWS_AS(cancelled.back().get(), CancelledError);
}

TEST_CASE("Executor.continuations_when_all_and_when_any" * doctest::timeout(30)) {
    InterpreterPoolExecutor pool(executor_pool_options(2));
    ThreadExecutor continuations;
    Future<std::string> text = pool.submit("__main__:add", 20, 22).then(
        [](const Value& v) {
            CHECK_FALSE(InterpreterPoolExecutor::current_worker().has_value());
            return std::to_string(v.as_int64());
        },
        continuations);
    CHECK(text.get() == "42");
    Future<std::size_t> on_pool = pool.submit("__main__:add", 1, 1).then(
        [](const Value&) { return *InterpreterPoolExecutor::current_worker(); }, pool);
    CHECK(on_pool.get() < 2);

    std::vector<Future<Value>> futures;
    for (int k = 0; k < 10; ++k) futures.push_back(pool.submit("__main__:add", k, 0));
    std::vector<Value> all = when_all(futures).get();
    for (int k = 0; k < 10; ++k) CHECK(all[k].as_int64() == k);

    Future<Value> slow = pool.submit("__main__:spin");
    Future<Value> fast = pool.submit("__main__:add", 1, 2);
    CHECK(when_any(std::vector<Future<Value>>{slow, fast}).get() == 1);
    slow.cancel();
    std::future<Value> standard = pool.submit("__main__:add", 2, 2).to_std_future();
    CHECK(standard.get().as_int64() == 4);
}

TEST_CASE("Executor.coroutines_co_await_pool_tasks" * doctest::timeout(30)) {
    InterpreterPoolExecutor pool(executor_pool_options(2));
    std::promise<long long> result;
    auto done = result.get_future();
    sum_on_pool(pool, result);
    CHECK(done.get() == 406);
}

TEST_CASE("Executor.pools_of_one_and_of_eight_workers" * doctest::timeout(60)) {
    for (std::size_t workers : {std::size_t{1}, std::size_t{8}}) {
        InterpreterPoolExecutor pool(executor_pool_options(workers));
        pool.wait_until_started();
        std::vector<Future<std::int64_t>> ids;
        for (std::size_t k = 0; k < workers; ++k)
            ids.push_back(pool.submit_to(k, [](Interpreter& in) { return in.id(); }));
        std::set<std::int64_t> distinct;
        for (auto& id : ids) distinct.insert(id.get());
        CHECK(distinct.size() == workers);
        std::vector<Future<Value>> sums;
        for (int k = 0; k < 400; ++k) sums.push_back(pool.submit("__main__:add", k, 1));
        long long total = 0;
        for (auto& s : sums) total += s.get().as_int64();
        CHECK(total == 400 * 401 / 2);
        pool.shutdown();
        const auto stats = pool.stats();
        CHECK(stats.submitted == workers + 400);
        CHECK(stats.completed == workers + 400);
        CHECK(stats.queue_depth == 0);
        CHECK(stats.busy.size() == workers);
    }
}

TEST_CASE("Executor.initializer_imports_runs_source_and_extends_sys_path" * doctest::timeout(30)) {
    InterpreterPoolExecutor::Options options;
    options.workers = 2;
    options.sys_path = {"/isolates-test-path"};
    options.init_modules = {"json", "textwrap"};
    options.init_source = "import sys\nready = 'textwrap' in sys.modules\n";
    InterpreterPoolExecutor pool(options);
    for (std::size_t k = 0; k < 2; ++k) {
        CHECK(pool.submit_to(k, [](Interpreter& in) { return in.eval("ready").as_bool(); }).get());
        CHECK(pool.submit_to(k, [](Interpreter& in) {
                      return in.eval("__import__('sys').path[0]").as<std::string>();
                  }).get() == "/isolates-test-path");
    }
}

TEST_CASE("Executor.failing_initializer_breaks_the_pool_with_the_reason" * doctest::timeout(30)) {
    InterpreterPoolExecutor::Options options;
    options.workers = 2;
    options.init_source = "raise RuntimeError('no database')";
    InterpreterPoolExecutor pool(options);
    Future<Value> queued;
    try {
        queued = pool.submit("builtins:len", "abc"); // may be accepted before the failure
    } catch (const BrokenPoolError&) {
    }
    CHECK_THROWS_WITH_AS(pool.wait_until_started(), doctest::Contains("no database"),
                         BrokenPoolError);
    CHECK(pool.broken());
    CHECK(pool.broken_reason().find("RuntimeError: no database") != std::string::npos);
    if (queued.valid()) CHECK_THROWS_AS(queued.get(), BrokenPoolError);
    CHECK_THROWS_AS(pool.submit("builtins:len", "abc"), BrokenPoolError);

    options.init_source.clear();
    options.init_modules = {"module_that_does_not_exist_42"};
    InterpreterPoolExecutor missing(options);
    CHECK_THROWS_WITH_AS(missing.wait_until_started(), doctest::Contains("module_that_does_not"),
                         BrokenPoolError);
}

TEST_CASE("Executor.a_broken_interpreter_is_replaced" * doctest::timeout(30)) {
    InterpreterPoolExecutor pool(executor_pool_options(1));
    const auto first = pool.submit([](Interpreter& in) { return in.id(); }).get();
    pool.submit_source("import sys\nsys.modules.clear()").get();
    // The next task runs in a fresh interpreter that ran the initializer again.
    CHECK(pool.submit("__main__:add", 2, 2).get().as_int64() == 4);
    const auto second = pool.submit([](Interpreter& in) { return in.id(); }).get();
    CHECK(second != first);
    pool.submit_source("import builtins\ndel builtins.__import__").get();
    CHECK(pool.submit("__main__:add", 3, 3).get().as_int64() == 6);
    CHECK(pool.stats().replaced_interpreters == 2);
}

TEST_CASE("Executor.queue_bound_holds_submitters_back" * doctest::timeout(30)) {
    auto options = executor_pool_options(1);
    options.queue_bound = 2;
    InterpreterPoolExecutor pool(options);
    Future<Value> running = pool.submit("__main__:spin");
    wait_running(running);
    auto a = pool.submit("__main__:add", 1, 0);
    auto b = pool.submit("__main__:add", 2, 0);
    std::atomic<bool> submitted{false};
    std::thread third([&] {
        auto c = pool.submit("__main__:add", 3, 0);
        submitted = true;
        CHECK(c.get().as_int64() == 3);
    });
    std::this_thread::sleep_for(50ms);
    CHECK_FALSE(submitted.load());
    CHECK(pool.stats().queue_depth == 2);
    running.cancel();
    third.join();
    CHECK(a.get().as_int64() + b.get().as_int64() == 3);
}

TEST_CASE("Executor.more_tasks_than_the_ring_holds_all_run" * doctest::timeout(60)) {
    InterpreterPoolExecutor pool(executor_pool_options(1));
    Future<Value> blocker = pool.submit("__main__:spin");
    wait_running(blocker);
    std::vector<Future<Value>> futures;
    for (int k = 0; k < 10000; ++k) futures.push_back(pool.submit("__main__:add", k, 1));
    CHECK(pool.stats().queue_depth == 10000);
    blocker.cancel();
    long long total = 0;
    for (auto& f : futures) total += f.get().as_int64();
    CHECK(total == 10000LL * 10001 / 2);
}

TEST_CASE("Executor.post_runs_jobs_on_workers" * doctest::timeout(30)) {
    InterpreterPoolExecutor pool(executor_pool_options(2));
    std::promise<bool> on_worker;
    pool.post([&] { on_worker.set_value(InterpreterPoolExecutor::current_worker().has_value()); });
    CHECK(on_worker.get_future().get());
}

} // TEST_SUITE

TEST_SUITE("Interpreter") {

TEST_CASE("Interpreter.healthy_detects_broken_builtins_and_modules" * doctest::timeout(30)) {
    const char* breakers[] = {
        "import sys\nsys.modules.clear()",
        "import sys\nsys.modules = {}",
        "import builtins\ndel builtins.len",
        "import builtins\nbuiltins.__import__ = None",
        "import builtins\nbuiltins.__dict__.clear()",
        "import builtins\nbuiltins.print = None", // any replaced builtin would leak into later tasks
        // healthy() checks in full only after sys.modules or sys.modules' binding changed
        // (watched): every way of changing them is seen, from another Python thread too.
        "import sys, types\nsys.modules['builtins'] = types.ModuleType('builtins')",
        "import sys\ndel sys.modules['sys']",
        "import sys, threading\nt = threading.Thread(target=sys.modules.clear)\nt.start()\nt.join()",
        "import sys, threading\nt = threading.Thread(target=setattr, args=(sys, 'modules', {}))\n"
        "t.start()\nt.join()",
    };
    for (const char* breaker : breakers) {
        Interpreter in;
        CHECK(in.healthy());
        in.exec("import builtins\nbuiltins.project_helper = len\n"); // adding a name is fine
        CHECK(in.healthy());
        try {
            in.exec(breaker);
        } catch (const PythonError&) {
        }
        CHECK_MESSAGE(!in.healthy(), breaker);
    }
}

} // TEST_SUITE

TEST_CASE("Executor.cancel_holds_no_lock_while_it_waits_for_the_running_interpreter" * doctest::timeout(60)) {
    // The canceller waits for the worker's GIL to interrupt its task; meanwhile the worker,
    // holding that GIL, touches the cancelled future (then() takes the state's lock). A stop that
    // held the state's lock while it waited for the GIL would deadlock here.
    InterpreterPoolExecutor::Options options;
    options.workers = 1;
    InterpreterPoolExecutor pool(options);
    auto handle = std::make_shared<Future<void>>();
    std::atomic<bool> published{false}, holding{false}, cancelling{false}, continued{false};
    *handle = pool.submit([&, handle](Interpreter& in) {
        while (!published.load()) std::this_thread::yield();
        Interpreter::Active active(in); // holds this interpreter's GIL until the task returns
        holding = true;
        while (!cancelling.load()) std::this_thread::yield();
        std::this_thread::sleep_for(50ms); // the canceller is waiting for this GIL by now
        Future<void> next = handle->then([] {});
        continued = next.ready(); // resolved inline: the future it follows was cancelled
    });
    published = true;
    while (!holding.load()) std::this_thread::yield();
    cancelling = true;
    CHECK(handle->cancel());
    CHECK_THROWS_AS(handle->get(), CancelledError);
    pool.shutdown();
    CHECK(continued.load());
}
