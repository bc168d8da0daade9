// Interpreter::Options::main_interpreter: an Interpreter that drives the process's main
// interpreter through a thread state of its own, where extensions that refuse sub-interpreters
// load (tests/support/extension/isolates_test_refusing.c, and the standard library's single-phase
// modules); everything else of Interpreter works there as on a sub-interpreter.

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <isolates/interp/errors.h>
#include <isolates/interp/interpreter.h>
#include <isolates/interp/runtime.h>
#include "tests/support/doctest.h"
#include "tests/support/skip.h"
#include "tests/support/extension/test_extension.h"

using namespace isolates;
using namespace std::chrono_literals;

namespace {

Interpreter::Options on_main() {
    Interpreter::Options options;
    options.main_interpreter = true;
    options.sys_path = {test::test_extension_dir};
    return options;
}

Interpreter::Options on_sub() {
    Interpreter::Options options;
    options.sys_path = {test::test_extension_dir};
    return options;
}

/// Runs `work` on a new thread and joins it; rethrows what it threw on this thread, so the
/// test's assertions stay on the test's thread.
void on_a_thread(const std::function<void()>& work) {
    std::exception_ptr failure;
    std::thread thread([&] {
        try {
            work();
        } catch (...) {
            failure = std::current_exception();
        }
    });
    thread.join();
    if (failure) std::rethrow_exception(failure);
}

/// The ImportError a sub-interpreter raises for `module`, or "" when it imports the module.
std::string refusal_in_a_sub(const std::string& module) {
    Interpreter sub(on_sub());
    try {
        sub.import_module(module);
        return "";
    } catch (const PythonError& e) {
        return e.type_name() + ": " + e.message();
    }
}

} // namespace

TEST_SUITE("MainInterpreter") {

TEST_CASE("MainInterpreter.loads_a_module_that_refuses_sub_interpreters" * doctest::timeout(60)) {
    long first = 0, second = 0, pid = 0;
    std::int64_t id = -1;
    bool current_is_it = false;
    on_a_thread([&] {
        Interpreter in(on_main());
        id = in.id();
        in.import_module(test::refusing_module);
        first = in.call("isolates_test_refusing:bump").as_int64();
        second = in.call("isolates_test_refusing:bump").as_int64();
        pid = in.call("isolates_test_refusing:pid").as_int64();
        Interpreter::Active active(in);
        current_is_it = Interpreter::current() == &in;
    });
    CHECK(id == 0);
    CHECK(first >= 1);
    CHECK(second == first + 1);
    CHECK(pid == ::getpid());
    CHECK(current_is_it);
}

TEST_CASE("MainInterpreter.a_sub_interpreter_refuses_the_same_module" * doctest::timeout(60)) {
    // Whether or not the main interpreter loaded it already.
    for (int round = 0; round < 2; ++round) {
        Interpreter sub(on_sub());
        try {
            sub.import_module(test::refusing_module);
            FAIL("a sub-interpreter imported a single-phase-init module");
        } catch (const PythonError& e) {
            CHECK(e.type_name() == "ImportError");
            CHECK(e.message().find("does not support loading in subinterpreters") !=
                  std::string::npos);
        }
        if (round == 0) on_a_thread([] { Interpreter(on_main()).import_module(test::refusing_module); });
    }
}

TEST_CASE("MainInterpreter.two_on_two_threads_share_one_process_state" * doctest::timeout(60)) {
    constexpr int calls = 200;
    std::atomic<int> ready{0};
    std::vector<long> last(2), pids(2);
    std::vector<std::string> seen(2);
    std::vector<std::exception_ptr> failures(2);
    Interpreter in(on_main()); // the Runtime's own thread may own one too
    in.import_module(test::refusing_module);
    const long before = in.call("isolates_test_refusing:bump").as_int64();
    std::vector<std::thread> threads;
    for (int k = 0; k < 2; ++k)
        threads.emplace_back([&, k] {
            try {
                Interpreter in(on_main());
                in.import_module(test::refusing_module);
                in.exec("shared_by_" + std::to_string(k) + " = " + std::to_string(k));
                ++ready;
                while (ready < 2) std::this_thread::sleep_for(1ms);
                for (int i = 0; i < calls; ++i)
                    last[k] = in.call("isolates_test_refusing:bump").as_int64();
                pids[k] = in.call("isolates_test_refusing:pid").as_int64();
                // __main__ is the main interpreter's, shared with the other thread.
                seen[k] = in.eval("repr((shared_by_0, shared_by_1))").as_str();
                ++ready;
                while (ready < 4) std::this_thread::sleep_for(1ms); // both read before either ends
            } catch (...) {
                failures[k] = std::current_exception();
                ready += 2;
            }
        });
    for (auto& thread : threads) thread.join();
    for (auto& failure : failures)
        if (failure) std::rethrow_exception(failure);
    const long now = in.call("isolates_test_refusing:bump").as_int64();
    // One counter: every bump of both threads and of this one counted once.
    CHECK(std::max(last[0], last[1]) == before + 2 * calls);
    CHECK(std::min(last[0], last[1]) > before + calls - 1);
    CHECK(now == before + 2 * calls + 1);
    CHECK(pids[0] == ::getpid());
    CHECK(pids[1] == ::getpid());
    CHECK(seen[0] == "(0, 1)");
    CHECK(seen[1] == "(0, 1)");
}

TEST_CASE("MainInterpreter.the_runtime_thread_may_own_one_and_a_thread_only_one" *
          doctest::timeout(60)) {
    Interpreter in(on_main());
    CHECK(in.id() == 0);
    // This thread also has the Runtime's thread state of the main interpreter: an interrupt
    // still reaches this Interpreter's call.
    std::atomic<bool> stop{false};
    std::thread interrupter([&] {
        while (!stop && !in.interrupt("TimeoutError")) std::this_thread::sleep_for(1ms);
    });
    CHECK_THROWS_WITH_AS(in.exec("while True:\n    pass\n"), doctest::Contains("TimeoutError"),
                         PythonError);
    stop = true;
    interrupter.join();
    CHECK(in.eval("__import__('threading').current_thread() is not None").as_bool());
    CHECK(in.healthy());
    CHECK_THROWS_WITH_AS(Interpreter{on_main()}, doctest::Contains("only one"), UsageError);
    // A sub-interpreter beside it on the same thread is fine, and isolated from it.
    Interpreter sub;
    in.exec("only_in_main = 1");
    CHECK_THROWS_WITH_AS(sub.eval("only_in_main"), doctest::Contains("NameError"), PythonError);
    CHECK(in.eval("only_in_main").as_int64() == 1);
    in.exec("del only_in_main");
    CHECK(in.eval("__import__('sys').path.count(" +
                  std::string("'") + test::test_extension_dir + "')")
              .as_int64() == 1); // once, however many Interpreters on main asked for it
}

TEST_CASE("MainInterpreter.runs_calls_call_each_exec_eval_and_errors" * doctest::timeout(60)) {
    on_a_thread([] {
        Interpreter in(on_main());
        in.exec("def main_add(a, b=10):\n    return a + b\n"
                "def main_fail(x):\n    if x == 3:\n        raise ValueError(f'bad {x}')\n"
                "    return x * 2\n");
        CHECK(in.eval("main_add(1, 2)").as_int64() == 3);
        CHECK(in.call("__main__:main_add", 5).as_int64() == 15);
        const Value items[] = {1, 2, 3, 4};
        Interpreter::EachResult each = in.call_each("__main__:main_fail", items);
        REQUIRE(each.failure);
        CHECK(each.results.size() == 2);
        try {
            std::rethrow_exception(each.failure);
        } catch (const PythonError& e) {
            CHECK(e.type_name() == "ValueError");
            CHECK(e.message() == "bad 3");
            CHECK(e.traceback().find("main_fail") != std::string::npos);
        }
        try {
            in.call("__main__:main_fail", 3);
            FAIL("expected PythonError");
        } catch (const PythonError& e) {
            CHECK(e.type_name() == "ValueError");
            CHECK(e.traceback().find("in main_fail") != std::string::npos);
        }
        const Value text[] = {"[1]"};
        in.call_void("json:loads", text);
        CHECK(in.healthy());
        in.exec("del main_add, main_fail");
    });
}

TEST_CASE("MainInterpreter.a_call_target_redefined_by_another_sees_the_new_one" *
          doctest::timeout(60)) {
    // Each Interpreter caches its call targets; a change made through another Interpreter on the
    // same (main) interpreter must reach this one's cache too.
    Interpreter in(on_main());
    in.exec("def redefined():\n    return 1\n");
    CHECK(in.call("__main__:redefined").as_int64() == 1);
    CHECK(in.call("__main__:redefined").as_int64() == 1); // from the cache
    on_a_thread([] { Interpreter(on_main()).exec("def redefined():\n    return 2\n"); });
    CHECK(in.call("__main__:redefined").as_int64() == 2);
    in.exec("del redefined");
}

TEST_CASE("MainInterpreter.many_at_once_on_many_threads" * doctest::timeout(120)) {
    // More than CPython's dict watcher ids per interpreter would allow if each took its own two:
    // they share the builtins watcher, and a lookup cache without an id simply stays off.
    constexpr int count = 10;
    std::atomic<int> made{0};
    std::vector<long> results(count);
    std::vector<std::exception_ptr> failures(count);
    std::vector<std::thread> threads;
    for (int k = 0; k < count; ++k)
        threads.emplace_back([&, k] {
            try {
                Interpreter in(on_main());
                ++made;
                while (made < count) std::this_thread::sleep_for(1ms);
                long sum = 0;
                for (int i = 0; i < 20; ++i) sum += in.call("operator:add", k, i).as_int64();
                results[k] = sum;
                CHECK(in.healthy());
            } catch (...) {
                failures[k] = std::current_exception();
                made += count;
            }
        });
    for (auto& thread : threads) thread.join();
    for (auto& failure : failures)
        if (failure) std::rethrow_exception(failure);
    for (int k = 0; k < count; ++k) CHECK(results[k] == 20 * k + 190);
}

TEST_CASE("MainInterpreter.interrupt_stops_a_loop_from_another_thread" * doctest::timeout(60)) {
    std::atomic<Interpreter*> running{nullptr};
    std::string ended_by;
    long after = 0;
    std::thread thread([&] {
        Interpreter in(on_main());
        running = &in;
        try {
            in.exec("while True:\n    pass\n");
        } catch (const PythonError& e) {
            ended_by = e.type_name();
        }
        running = nullptr;
        after = in.eval("sum(range(1000))").as_int64(); // no stale interrupt
    });
    while (!running) std::this_thread::sleep_for(1ms);
    Interpreter* target = running;
    while (!target->interrupt("TimeoutError")) std::this_thread::sleep_for(1ms);
    thread.join();
    CHECK(ended_by == "TimeoutError");
    CHECK(after == 499500);
}

TEST_CASE("MainInterpreter.block_in_c_outlives_an_interrupt" * doctest::timeout(60)) {
    // The fault the test module exists for: a C call that ignores the interrupt until it returns.
    std::atomic<Interpreter*> running{nullptr};
    std::string ended_by;
    std::chrono::steady_clock::duration took{};
    std::thread thread([&] {
        Interpreter in(on_main());
        in.import_module(test::refusing_module);
        running = &in;
        const auto start = std::chrono::steady_clock::now();
        try {
            in.exec("import isolates_test_refusing\nisolates_test_refusing.block_in_c(0.5)\n"
                    "while True:\n    pass\n");
        } catch (const PythonError& e) {
            ended_by = e.type_name();
        }
        took = std::chrono::steady_clock::now() - start;
        running = nullptr;
    });
    while (!running) std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(50ms);
    Interpreter* target = running;
    while (!target->interrupt("TimeoutError")) std::this_thread::sleep_for(1ms);
    thread.join();
    CHECK(ended_by == "TimeoutError");
    CHECK(took >= 500ms);
}

TEST_CASE("MainInterpreter.standard_single_phase_modules" * doctest::timeout(120)) {
    // Single-phase modules of the standard library: refused in sub-interpreters, loaded in the
    // main interpreter, as long as the version still builds them single-phase.
    std::string left_out; // why each module was not checked
    for (const std::string module : {"_curses", "readline"}) {
        CAPTURE(module);
        bool found = false;
        on_a_thread([&] {
            Interpreter in(on_main());
            found = in.eval("__import__('importlib.util').util.find_spec('" + module +
                            "') is not None")
                        .as_bool();
        });
        if (!found) {
            left_out += module + " is not built; ";
            continue;
        }
        const std::string refusal = refusal_in_a_sub(module);
        if (refusal.empty()) {
            left_out += module + " is multi-phase (a sub-interpreter loads it); ";
            continue;
        }
        CHECK(refusal.find("ImportError: ") == 0);
        CHECK(refusal.find("does not support loading in subinterpreters") != std::string::npos);
        bool loaded = false;
        on_a_thread([&] {
            Interpreter in(on_main());
            in.import_module(module);
            loaded = in.eval("'" + module + "' in __import__('sys').modules").as_bool();
        });
        CHECK(loaded);
    }
    if (left_out.find("_curses") != std::string::npos && left_out.find("readline") != std::string::npos)
        ISOLATES_SKIP("Python " + Runtime::python_version() + ": " + left_out);
}

} // TEST_SUITE
