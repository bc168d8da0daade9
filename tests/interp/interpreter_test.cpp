// Interpreter: isolation, running code, errors, thread ownership, interrupts.

#include <atomic>
#include <chrono>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <isolates/interp/errors.h>
#include <isolates/interp/interpreter.h>
#include <isolates/interp/runtime.h>
#include "tests/support/doctest.h"

using namespace isolates;
using namespace std::chrono_literals;

TEST_SUITE("Interpreter") {

TEST_CASE("Interpreter.runs_statements_expressions_and_calls") {
    Interpreter in;
    in.exec("def add(a, b=10):\n    return a + b\nx = 41\n");
    CHECK(in.eval("x + 1").as_int64() == 42);
    CHECK(in.call("__main__:add", 1, 2).as_int64() == 3);
    const std::pair<std::string, Value> kwargs[] = {{"b", 100}};
    const Value args[] = {1};
    CHECK(in.call_with("__main__:add", args, kwargs).as_int64() == 101);
    CHECK(in.call("json:dumps", Value::list({1, "a"})).as_str() == "[1, \"a\"]");
    CHECK(in.call("os.path:join", "a", "b").as_str() == "a/b");
    in.exec("class K:\n    @staticmethod\n    def twice(v): return v * 2\n");
    CHECK(in.call("__main__:K.twice", "ab").as_str() == "abab");
    in.import_module("collections");
    CHECK(in.eval("'collections' in __import__('sys').modules").as_bool());
}

TEST_CASE("Interpreter.two_interpreters_do_not_share_globals_or_modules") {
    Interpreter a;
    Interpreter b;
    CHECK(a.id() != b.id());
    a.exec("secret = 'only in a'\nimport sys\nsys.modules['planted'] = sys\n");
    CHECK(a.eval("secret").as_str() == "only in a");
    CHECK_THROWS_WITH_AS(b.eval("secret"), doctest::Contains("NameError"), PythonError);
    CHECK(b.eval("'planted' in __import__('sys').modules").as_bool() == false);
    a.exec("import json\njson.marker = 1\n");
    CHECK(b.eval("hasattr(__import__('json'), 'marker')").as_bool() == false);
    CHECK(a.eval("id(__import__('sys'))") != b.eval("id(__import__('sys'))"));
}

TEST_CASE("Interpreter.python_exceptions_carry_type_message_and_traceback") {
    Interpreter in;
    in.exec("def inner():\n    raise ValueError('bad value 7')\ndef outer():\n    inner()\n");
    try {
        in.call("__main__:outer");
        FAIL("expected PythonError");
    } catch (const PythonError& e) {
        CHECK(e.type_name() == "ValueError");
        CHECK(e.message() == "bad value 7");
        CHECK(e.traceback().find("Traceback (most recent call last)") != std::string::npos);
        CHECK(e.traceback().find("in inner") != std::string::npos);
        CHECK(e.traceback().find("in outer") != std::string::npos);
        CHECK(std::string(e.what()).ends_with("ValueError: bad value 7\n"));
    }
    CHECK_THROWS_WITH_AS(in.exec("def broken(:\n"), doctest::Contains("SyntaxError"), PythonError);
    using namespace std::string_literals;
    CHECK_THROWS_WITH_AS(in.exec("x = 1\0raise SystemExit"s),
                         doctest::Contains("source code string cannot contain null bytes"),
                         PythonError);
    CHECK_THROWS_WITH_AS(in.call("no_such_module_xyz:f"),
                         doctest::Contains("No module named 'no_such_module_xyz'"), PythonError);
    CHECK_THROWS_WITH_AS(in.call("json:no_such_function"), doctest::Contains("AttributeError"),
                         PythonError);
    CHECK_THROWS_WITH_AS(in.call("json:dumps"), doctest::Contains("TypeError"), PythonError);
    CHECK_THROWS_WITH_AS(in.call("json.dumps"),
                         "expected a call target 'package.module:qualname', got 'json.dumps'",
                         UsageError);
    in.exec("import json\n");
    try {
        in.eval("json.loads('{')");
        FAIL("expected PythonError");
    } catch (const PythonError& e) {
        CHECK(e.type_name() == "json.decoder.JSONDecodeError");
    }
    // The interpreter keeps working after every one of those.
    CHECK(in.eval("1 + 1").as_int64() == 2);
}

TEST_CASE("Interpreter.system_exit_and_keyboard_interrupt_are_just_errors") {
    Interpreter in;
    CHECK_THROWS_WITH_AS(in.exec("raise SystemExit(3)"), doctest::Contains("SystemExit: 3"),
                         PythonError);
    CHECK_THROWS_WITH_AS(in.exec("raise KeyboardInterrupt"),
                         doctest::Contains("KeyboardInterrupt"), PythonError);
    CHECK(in.eval("'still here'").as_str() == "still here");
}

TEST_CASE("Interpreter.python_error_can_be_rethrown_on_another_thread") {
    std::exception_ptr error;
    {
        Interpreter in;
        try {
            in.exec("1/0");
        } catch (...) {
            error = std::current_exception();
        }
    }
    std::string seen;
    std::thread([&] {
        try {
            std::rethrow_exception(error);
        } catch (const PythonError& e) {
            seen = e.type_name() + ": " + e.message();
        }
    }).join();
    CHECK(seen == "ZeroDivisionError: division by zero");
}

TEST_CASE("Interpreter.used_from_the_wrong_thread_throws") {
    Interpreter in;
    std::string message;
    std::thread([&] {
        try {
            in.eval("1");
        } catch (const UsageError& e) {
            message = e.what();
        }
    }).join();
    CHECK(message.find("was called from a thread that does not own it") != std::string::npos);
    CHECK(in.eval("2").as_int64() == 2);
}

TEST_CASE("Interpreter.extra_sys_path_comes_first") {
    const auto dir = std::filesystem::temp_directory_path() / "isolates_test_sys_path";
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "isolates_probe_module.py") << "def answer():\n    return 42\n";
    Interpreter in(Interpreter::Options{{dir.string()}});
    CHECK(in.call("isolates_probe_module:answer").as_int64() == 42);
    CHECK(in.eval("__import__('sys').path[0]").as_str() == dir.string());
    std::filesystem::remove_all(dir);
}

TEST_CASE("Interpreter.interpreters_on_many_threads_run_independently") {
    constexpr int thread_count = 4;
    std::vector<std::thread> threads;
    std::vector<int64_t> results(thread_count, -1);
    for (int t = 0; t < thread_count; ++t)
        threads.emplace_back([&results, t] {
            Interpreter in;
            in.exec("total = sum(range(" + std::to_string(10000 * (t + 1)) + "))");
            results[t] = in.eval("total").as_int64();
        });
    for (auto& thread : threads) thread.join();
    for (int t = 0; t < thread_count; ++t) {
        const int64_t n = 10000LL * (t + 1);
        CHECK(results[t] == n * (n - 1) / 2);
    }
}

TEST_CASE("Interpreter.create_and_destroy_concurrently" * doctest::timeout(120)) {
    constexpr int thread_count = 4;
    constexpr int rounds = 15;
    std::atomic<int> completed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < thread_count; ++t)
        threads.emplace_back([&] {
            for (int r = 0; r < rounds; ++r) {
                Interpreter in;
                in.exec("import json, collections\nx = json.dumps(list(range(100)))\n");
                if (in.eval("len(x)").as_int64() > 0) ++completed;
            }
        });
    for (auto& thread : threads) thread.join();
    CHECK(completed == thread_count * rounds);
}

TEST_CASE("Interpreter.one_thread_may_own_several_and_nest_them") {
    Interpreter outer;
    Interpreter inner;
    outer.exec("name = 'outer'");
    inner.exec("name = 'inner'");
    {
        Interpreter::Active active(outer);
        CHECK(Interpreter::current() == &outer);
        CHECK(inner.eval("name").as_str() == "inner"); // detaches outer for the call
        CHECK(Interpreter::current() == &outer);
    }
    CHECK(Interpreter::current() == nullptr);
    CHECK(outer.eval("name").as_str() == "outer");
}

/// An Interpreter of its own thread running `while True: pass` until an interrupt ends it;
/// `then` runs afterwards on that thread with the same interpreter.
class EndlessLoop {
public:
    explicit EndlessLoop(std::function<void(Interpreter&)> then = {})
        : thread_([this, then = std::move(then)] {
              Interpreter in;
              running_ = &in;
              try {
                  in.exec("while True:\n    pass\n");
              } catch (const PythonError& e) {
                  ended_by_ = e.type_name();
              }
              running_ = nullptr;
              if (then) then(in);
          }) {}
    /// The looping interpreter, once its thread has made it (it may not be in the loop yet).
    Interpreter& interpreter() {
        while (!running_) std::this_thread::sleep_for(1ms);
        return *running_;
    }
    /// Joins the thread; returns the type of the exception that ended the loop.
    std::string join() {
        thread_.join();
        return ended_by_;
    }

private:
    std::atomic<Interpreter*> running_{nullptr};
    std::string ended_by_;
    std::thread thread_;
};

TEST_CASE("Interpreter.interrupt_stops_a_running_loop" * doctest::timeout(60)) {
    std::atomic<bool> done{false};
    EndlessLoop loop([&](Interpreter& in) {
        // A later call is not hit by a stale interrupt.
        CHECK(in.eval("sum(range(1000))").as_int64() == 499500);
        done = true;
    });
    Interpreter& in = loop.interpreter();
    while (!in.interrupt("TimeoutError")) std::this_thread::sleep_for(1ms);
    CHECK(loop.join() == "TimeoutError");
    CHECK(done);
}

TEST_CASE("Interpreter.interrupt_from_a_thread_running_another_interpreter" * doctest::timeout(60)) {
    // The interrupting thread has its own interpreter attached (as a host function called from
    // Python would): the visit attaches the target and gives the thread its own back afterwards.
    EndlessLoop loop;
    Interpreter own;
    own.exec("name = 'own'");
    Interpreter& target = loop.interpreter();
    {
        Interpreter::Active active(own);
        while (!target.interrupt("TimeoutError")) std::this_thread::sleep_for(1ms);
        CHECK(Interpreter::current() == &own);
        CHECK(own.eval("name").as_str() == "own"); // still attached and usable
    }
    CHECK(loop.join() == "TimeoutError");
    CHECK(own.eval("name").as_str() == "own");
}

TEST_CASE("Interpreter.interrupt_when_idle_does_nothing") {
    Interpreter in;
    CHECK_FALSE(in.interrupt());
    CHECK(in.eval("3").as_int64() == 3);
}

TEST_CASE("Interpreter.interrupt_rejects_unknown_exceptions" * doctest::timeout(60)) {
    EndlessLoop loop;
    Interpreter& in = loop.interpreter();
    std::string message;
    while (message.empty()) {
        try {
            in.interrupt("NoSuchError");
            std::this_thread::sleep_for(1ms); // not running yet: nothing was checked
        } catch (const UsageError& e) {
            message = e.what();
        }
    }
    CHECK(message == "interrupt() needs the name of a built-in exception class, got 'NoSuchError'");
    while (!in.interrupt()) std::this_thread::sleep_for(1ms);
    CHECK(loop.join() == "KeyboardInterrupt");
}

} // TEST_SUITE
