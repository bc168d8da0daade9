// Bad input through the InterpreterPoolExecutor: every case of the interp-level
// bad_input_test.cpp (and a few only a pool has) submitted as pool tasks. Each asserts the error
// type and text the future resolves with, and that every worker still serves a task afterwards.
// The README's Reliability section lists these cases.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <isolates/executor/interpreter_pool_executor.h>
#include <isolates/interp/convert.h>
#include <isolates/interp/errors.h>
#include "interp/detail/node.h"
#include "tests/support/doctest.h"
#include "tests/support/extension/test_extension.h"
#include "tests/support/pool_test_helpers.h"

using namespace isolates;
using namespace std::chrono_literals;

namespace {
constexpr const char* bad_input_helpers = R"(
import sys
def add(a, b):
    return a + b
# builtins.eval called straight from C++ has no frame to take globals from (SystemError).
def evaluate(source):
    return eval(source)
def execute(source):
    exec(source)
def two(a, b):
    return a + b
def remember(key, value):
    globals()[key] = value
def recall(key):
    return globals().get(key)
def interpreter_id():
    import _interpreters
    return _interpreters.get_current()[0]
def bad_result():
    import threading
    return {'k': [1, threading.Lock()]}
def send_unshareable():
    import isolates
    ch = isolates.Channel(4)
    ch.send((1, [2, print]))
def deep(n):
    v = []
    for _ in range(n - 1):
        v = [v]
    return v
def depth(v):
    n = 0
    while isinstance(v, list):
        n += 1
        v = v[0] if v else None
    return n
def is_power(v):
    return v == 10 ** 100000
def text_ok(v, n):
    return len(v) == n and v[-1] == '\u00e9' and v.count('x') == n - 1
def recurse(n):
    return recurse(n + 1)
def countdown(n):
    return n if n == 0 else countdown(n - 1)
)";

InterpreterPoolExecutor::Options bad_input_pool_options(std::size_t workers) {
    return testing::pool_options(workers, bad_input_helpers);
}

/// The PythonError the future resolves with; fails the test if it resolves otherwise.
template <class T> PythonError python_error_of(const Future<T>& future) {
    try {
        future.get();
    } catch (const PythonError& e) {
        return e;
    } catch (const std::exception& e) {
        FAIL("expected a PythonError, got: " << e.what());
    }
    FAIL("expected a PythonError, got a value");
    return PythonError("", "", "");
}

/// Every worker of the pool still runs a Python task and a C++ task, and imports a module.
void check_every_worker_serves(InterpreterPoolExecutor& pool) {
    for (std::size_t k = 0; k < pool.size(); ++k) {
        CAPTURE(k);
        CHECK(pool.submit_to(k, "__main__:add", 40, 2).get().as_int64() == 42);
        CHECK(pool.submit_to(k, "json:dumps", Value::list({1, "a"})).get().as_str() == "[1, \"a\"]");
        CHECK(pool.submit_to(k, [](Interpreter& in) { return in.eval("len('abc')").as_int64(); })
                  .get() == 3);
    }
    CHECK_FALSE(pool.broken());
}
} // namespace

TEST_SUITE("Reliability") {

TEST_CASE("PoolBadInput.syntax_errors_unknown_targets_and_wrong_arity" * doctest::timeout(60)) {
    InterpreterPoolExecutor pool(bad_input_pool_options(2));
    PythonError syntax = python_error_of(pool.submit_source("x = 1\ndef broken(:\n    pass\n"));
    CHECK(syntax.type_name() == "SyntaxError");
    CHECK(syntax.traceback().find("line 2") != std::string::npos);
    CHECK(python_error_of(pool.submit("__main__:evaluate", "1 +")).type_name() == "SyntaxError");
    CHECK(python_error_of(pool.submit("__main__:execute", "if True\n  x = 1")).type_name() ==
          "SyntaxError");
    PythonError no_module = python_error_of(pool.submit("no_such_module_pool_q:f", 1));
    CHECK(no_module.type_name() == "ModuleNotFoundError");
    CHECK(no_module.message() == "No module named 'no_such_module_pool_q'");
    PythonError no_function = python_error_of(pool.submit("json:no_such_function_q"));
    CHECK(no_function.type_name() == "AttributeError");
    CHECK(no_function.message().find("no_such_function_q") != std::string::npos);
    PythonError too_few = python_error_of(pool.submit("__main__:two", 1));
    CHECK(too_few.type_name() == "TypeError");
    CHECK(too_few.message().find("missing 1 required positional argument: 'b'") != std::string::npos);
    PythonError too_many = python_error_of(pool.submit("__main__:two", 1, 2, 3));
    CHECK(too_many.type_name() == "TypeError");
    CHECK(too_many.message().find("takes 2 positional arguments but 3 were given") !=
          std::string::npos);
    PythonError bad_keyword =
        python_error_of(pool.submit_call({}, "__main__:two", {Value(1)}, {{"c", Value(2)}}));
    CHECK(bad_keyword.message().find("unexpected keyword argument 'c'") != std::string::npos);
    // Malformed targets are refused as misuse, not as Python errors.
    CHECK_THROWS_AS(pool.submit("no_colon_here").get(), UsageError);
    CHECK_THROWS_AS(pool.submit(":two").get(), UsageError);
    CHECK_THROWS_AS(pool.submit("__main__:").get(), UsageError);
    check_every_worker_serves(pool);
    const auto stats = pool.stats();
    CHECK(stats.failed == 11);
    CHECK(stats.replaced_interpreters == 0);
}

TEST_CASE("PoolBadInput.non_shareable_arguments_and_results_name_type_and_path" *
          doctest::timeout(60)) {
    InterpreterPoolExecutor pool(bad_input_pool_options(2));
    try {
        pool.submit("__main__:bad_result").get();
        FAIL("expected NotShareableError");
    } catch (const NotShareableError& e) {
        CHECK(e.type_name().find("lock") != std::string::npos);
        CHECK(e.path() == "result['k'][1]");
    }
    CHECK_THROWS_WITH_AS(pool.submit("builtins:iter", Value::list({1})).get(),
                         doctest::Contains("list_iterator is not shareable"), NotShareableError);
    CHECK_THROWS_WITH_AS(pool.submit("__main__:evaluate", "lambda: 1").get(),
                         doctest::Contains("function is not shareable"), NotShareableError);
    CHECK_THROWS_WITH_AS(pool.submit("builtins:bytearray", 3).get(),
                         doctest::Contains("bytearray"), NotShareableError);
    // An argument handed on by a task (here into a channel) is checked where it leaves its
    // interpreter, and the error names type and path.
    PythonError sent = python_error_of(pool.submit("__main__:send_unshareable"));
    CHECK(sent.type_name().ends_with("NotShareableError"));
    CHECK(sent.message() == "value[1][1]: builtin_function_or_method is not shareable");
    // From C++ a non-shareable argument cannot be built at all: what a Value holds is shareable.
    check_every_worker_serves(pool);
}

TEST_CASE("PoolBadInput.every_kind_of_exception_resolves_the_future" * doctest::timeout(120)) {
    InterpreterPoolExecutor pool(bad_input_pool_options(2));
    struct Case {
        const char* source;
        const char* type;
    };
    const Case cases[] = {
        {"raise SystemExit(3)", "SystemExit"},
        {"import sys\nsys.exit('bye')", "SystemExit"},
        {"raise KeyboardInterrupt", "KeyboardInterrupt"},
        {"raise GeneratorExit", "GeneratorExit"},
        {"class Weird(BaseException): pass\nraise Weird('odd')", "Weird"},
        {"def f(n): return f(n + 1)\nf(0)", "RecursionError"},
        {"[None] * (1 << 62)", "MemoryError"},
        {"bytearray(1 << 62)", "MemoryError"},
        {"raise MemoryError('simulated')", "MemoryError"},
        {"raise ExceptionGroup('many', [ValueError(1), TypeError(2)])", "ExceptionGroup"},
        {"raise BaseExceptionGroup('base', [KeyboardInterrupt()])", "BaseExceptionGroup"},
        {"raise TimeoutError('not the pool timeout')", "TimeoutError"},
        {"import os\nos.abort", "nothing"}, // not raised: a control
        {"raise ValueError('x') from KeyError('cause')", "ValueError"},
    };
    std::size_t raised = 0;
    for (const Case& c : cases) {
        CAPTURE(c.source);
        Future<void> future = pool.submit_source(c.source);
        if (std::string(c.type) == "nothing") {
            CHECK_NOTHROW(future.get());
            continue;
        }
        ++raised;
        PythonError e = python_error_of(future);
        CHECK(e.type_name().ends_with(c.type));
        CHECK(std::string(e.what()).find(c.type) != std::string::npos);
        // A task's own KeyboardInterrupt or TimeoutError is not mistaken for cancel or timeout.
        CHECK_FALSE(future.cancelled());
    }
    // Through a call from C++ as well, and the recursion limit works normally right after.
    CHECK(python_error_of(pool.submit("__main__:recurse", 0)).type_name() == "RecursionError");
    CHECK(pool.submit("__main__:countdown", 500).get().as_int64() == 0);
    check_every_worker_serves(pool);
    const auto stats = pool.stats();
    CHECK(stats.failed == raised + 1);
    CHECK(stats.cancelled == 0);
    CHECK(stats.timed_out == 0);
    CHECK(stats.replaced_interpreters == 0); // none of these damages an interpreter
}

TEST_CASE("PoolBadInput.extension_without_subinterpreter_support_is_named" * doctest::timeout(60)) {
    auto pool_options = bad_input_pool_options(2);
    pool_options.sys_path = {test::test_extension_dir};
    InterpreterPoolExecutor pool(pool_options);
    // CPython 3.12 runs a single-phase module's init before refusing it and keeps what it made;
    // importing CPython's _testsinglephase again in many interpreters of one process crashed
    // this test binary (SIGSEGV, order-dependent) on 3.12, so there only _curses is tried here
    // (bad_input_test.cpp imports the tests' own single-phase module once).
    const bool py312 = pool.submit("__main__:evaluate", "__import__('sys').version_info[:2] == (3, 12)")
                           .get()
                           .as_bool();
    std::vector<std::string> modules{"_curses"};
    if (!py312) modules.push_back(test::refusing_module);
    for (const std::string& module : modules) {
        CAPTURE(module);
        PythonError e = python_error_of(pool.submit_source("import " + module));
        CHECK(e.type_name() == "ImportError");
        CHECK(e.message() == "module " + module + " does not support loading in subinterpreters");
    }
    PythonError via_call = python_error_of(pool.submit("_curses:initscr"));
    CHECK(via_call.type_name() == "ImportError");
    CHECK(via_call.message().find("_curses") != std::string::npos);
    CHECK(via_call.message().find("subinterpreters") != std::string::npos);
    // A pool whose initializer imports one is broken, and says which module.
    InterpreterPoolExecutor::Options options;
    options.workers = 1;
    options.init_modules = {"_curses"};
    InterpreterPoolExecutor refusing(options);
    CHECK_THROWS_WITH_AS(refusing.wait_until_started(),
                         doctest::Contains("module _curses does not support loading in subinterpreters"),
                         BrokenPoolError);
    check_every_worker_serves(pool);
}

TEST_CASE("PoolBadInput.hostile_code_gets_its_worker_replaced_and_spares_the_others" *
          doctest::timeout(120)) {
    // Each breaker damages the interpreter of the worker it runs on; the pool notices after the
    // task, replaces that worker's interpreter (fresh, initializer run again), and the other
    // worker keeps its interpreter and its state.
    const char* breakers[] = {
        "import sys\nsys.modules.clear()",
        "import sys\nsys.modules = {}",
        "import builtins\ndel builtins.__import__",
        "import builtins\nbuiltins.__import__ = lambda *a, **k: None",
        "import builtins\ndel builtins.len",
        "import builtins\nbuiltins.__dict__.clear()",
    };
    InterpreterPoolExecutor pool(bad_input_pool_options(2));
    std::uint64_t expected_replacements = 0;
    for (const char* breaker : breakers) {
        CAPTURE(breaker);
        std::int64_t ids[2];
        for (std::size_t k = 0; k < 2; ++k) {
            pool.submit_to(k, "__main__:remember", "marker", "worker " + std::to_string(k)).get();
            ids[k] = pool.submit_to(k, [](Interpreter& in) { return in.id(); }).get();
        }
        // Legal: the task itself succeeds or fails with a Python error; either way not a crash.
        try {
            pool.submit_source_to(0, breaker).get();
        } catch (const PythonError&) {
        }
        ++expected_replacements;
        // Worker 0: a new interpreter, the marker gone, the initializer's bad_input_helpers back.
        CHECK(pool.submit_to(0, [](Interpreter& in) { return in.id(); }).get() != ids[0]);
        CHECK(pool.stats().replaced_interpreters == expected_replacements);
        CHECK(pool.submit_to(0, "__main__:recall", "marker").get().is_none());
        // Worker 1: untouched.
        CHECK(pool.submit_to(1, [](Interpreter& in) { return in.id(); }).get() == ids[1]);
        CHECK(pool.submit_to(1, "__main__:recall", "marker").get().as_str() == "worker 1");
        check_every_worker_serves(pool);
    }
    // Adding a builtin of one's own is legal and keeps the interpreter; replacing one (even
    // print) would leak into later tasks, so it gets the interpreter replaced.
    pool.submit_source_to(0, "import builtins\nbuiltins.project_helper = len").get();
    CHECK(pool.submit_to(0, "__main__:add", 1, 1).get().as_int64() == 2);
    CHECK(pool.stats().replaced_interpreters == expected_replacements);
    pool.submit_source_to(0, "import builtins\nbuiltins.print = None").get();
    CHECK(pool.submit_to(0, "__main__:add", 1, 1).get().as_int64() == 2);
    CHECK(pool.stats().replaced_interpreters == expected_replacements + 1);
}

// `builtins.len = None` would break every later task on that worker: Interpreter::healthy()
// notices the replaced builtin (a dict watcher) and the pool replaces the interpreter.
TEST_CASE("PoolBadInput.replacing_an_essential_builtin_gets_the_worker_replaced" *
          doctest::timeout(60)) {
    InterpreterPoolExecutor pool(bad_input_pool_options(1));
    const auto before = pool.submit([](Interpreter& in) { return in.id(); }).get();
    pool.submit_source("import builtins\nbuiltins.len = None").get();
    CHECK(pool.submit([](Interpreter& in) { return in.id(); }).get() != before);
    CHECK(pool.stats().replaced_interpreters == 1);
    CHECK(pool.submit("__main__:evaluate", "len('abc')").get().as_int64() == 3);
}

TEST_CASE("PoolBadInput.values_nested_too_deep_are_refused_both_ways" * doctest::timeout(60)) {
    InterpreterPoolExecutor pool(bad_input_pool_options(2));
    CHECK(detail::Node::of(pool.submit("__main__:deep", 1000).get())->depth == 1000);
    CHECK_THROWS_WITH_AS(pool.submit("__main__:deep", 1001).get(),
                         doctest::Contains("nested more than 1000 levels deep"), NotShareableError);
    CHECK_THROWS_WITH_AS(pool.submit("__main__:evaluate", "(lambda x: (x.append(x), x)[1])([])").get(),
                         doctest::Contains("reference cycle"), NotShareableError);
    Value deep = Value::list({});
    for (std::size_t k = 1; k < max_nesting; ++k) deep = Value::list({deep});
    CHECK(pool.submit("__main__:depth", deep).get().as_int64() == 1000);
    // One level more cannot even be built, so it never reaches the pool.
    CHECK_THROWS_WITH_AS(pool.submit("__main__:depth", Value::list({deep})),
                         doctest::Contains("nested more than 1000"), ConversionError);
    check_every_worker_serves(pool);
    CHECK(pool.stats().submitted == 4 + 3 * pool.size());
}

TEST_CASE("PoolBadInput.huge_ints_and_strings_cross_through_the_pool" * doctest::timeout(120)) {
    InterpreterPoolExecutor pool(bad_input_pool_options(2));
    const Value power = pool.submit("builtins:pow", 10, 100000).get();
    CHECK_FALSE(power.fits_int64());
    CHECK(pool.submit_to(1, "__main__:is_power", power).get().as_bool());
    const Value shift = pool.submit("__main__:evaluate", "-(1 << 1000000) - 1").get();
    CHECK(shift.int_bytes().size() == 1000000 / 8 + 1);
    CHECK(pool.submit_call({}, "operator:eq", {shift, pool.submit("__main__:evaluate",
                                                                  "-(1 << 1000000) - 1").get()})
              .get()
              .as_bool());
    constexpr std::size_t n = 20'000'001;
    const Value text = pool.submit("__main__:evaluate", "'x' * 20_000_000 + '\\u00e9'").get();
    CHECK(text.as_str().size() == n + 1); // UTF-8 bytes
    CHECK(pool.submit("__main__:text_ok", text, n).get().as_bool());
    const std::string from_cpp(30'000'000, 'y');
    CHECK(pool.submit("builtins:len", from_cpp).get().as_int64() == 30'000'000);
    // A result too large to make is a MemoryError, not a crash.
    CHECK(python_error_of(pool.submit("__main__:evaluate", "'x' * (1 << 62)")).type_name() ==
          "MemoryError");
    check_every_worker_serves(pool);
}

TEST_CASE("PoolBadInput.invalid_utf8_from_cpp_never_reaches_python" * doctest::timeout(60)) {
    InterpreterPoolExecutor pool(bad_input_pool_options(2));
    // As an argument: refused while the submission is made, before anything is queued.
    CHECK_THROWS_WITH_AS(pool.submit("builtins:len", std::string("xy\xfe")),
                         doctest::Contains("at byte 2"), ConversionError);
    CHECK_THROWS_AS(pool.submit("builtins:len", std::vector<std::string>{"fine", "bad\x80"}),
                    ConversionError);
    CHECK_THROWS_AS(pool.submit("builtins:len", std::map<std::string, int>{{"\xc0\x80", 1}}),
                    ConversionError);
    CHECK(pool.stats().submitted == 0);
    // In a target, a keyword name or source: the future resolves with an error naming UTF-8.
    auto fails_on_utf8 = [](auto future) {
        try {
            future.get();
            FAIL("expected an error");
        } catch (const std::exception& e) {
            const std::string what = e.what();
            CAPTURE(what);
            CHECK((what.find("utf-8") != std::string::npos ||
                   what.find("UTF-8") != std::string::npos));
        }
    };
    fails_on_utf8(pool.submit("json:dump\xffs", 1));
    fails_on_utf8(pool.submit("js\xffon:dumps", 1));
    fails_on_utf8(pool.submit_call({}, "__main__:two", {Value(1)}, {{"b\xff", Value(2)}}));
    fails_on_utf8(pool.submit_source("x = 'caf\xe9'"));
    // Valid multi-byte UTF-8 is fine everywhere.
    CHECK(pool.submit("builtins:len", std::string("\xf0\x9f\x98\x80")).get().as_int64() == 1);
    check_every_worker_serves(pool);
}

} // TEST_SUITE
