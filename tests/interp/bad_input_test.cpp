// Bad input, hostile code and faults at the interp level: each gives a clear error and leaves
// the interpreter (and every other interpreter) working. The README's Reliability section lists
// these cases.

#include <mimalloc.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <isolates/interp/convert.h>
#include <isolates/interp/errors.h>
#include <isolates/interp/interpreter.h>
#include "interp/detail/node.h"
#include "tests/support/doctest.h"
#include "tests/support/extension/test_extension.h"

using namespace isolates;

namespace {
/// The PythonError that running `f` throws; fails the test if it throws nothing.
template <class F>
PythonError python_error_of(F&& f) {
    try {
        f();
    } catch (const PythonError& e) {
        return e;
    }
    FAIL("expected a PythonError");
    return PythonError("", "", "");
}

/// The interpreter still runs code and imports modules.
void check_still_works(Interpreter& in) {
    CHECK(in.eval("sum(range(10))").as_int64() == 45);
    CHECK(in.call("json:dumps", Value::list({1, "a"})).as_str() == "[1, \"a\"]");
}
} // namespace

TEST_SUITE("Reliability") {

TEST_CASE("Reliability.bad_source_targets_and_arguments_give_clear_errors") {
    Interpreter in;
    PythonError syntax = python_error_of([&] { in.exec("x = 1\ndef broken(:\n    pass\n"); });
    CHECK(syntax.type_name() == "SyntaxError");
    CHECK(syntax.traceback().find("line 2") != std::string::npos);
    CHECK(python_error_of([&] { in.eval("1 +"); }).type_name() == "SyntaxError");
    PythonError no_module = python_error_of([&] { in.call("no_such_module_q:f"); });
    CHECK(no_module.type_name() == "ModuleNotFoundError");
    CHECK(no_module.message() == "No module named 'no_such_module_q'");
    PythonError no_function = python_error_of([&] { in.call("json:no_such_function"); });
    CHECK(no_function.type_name() == "AttributeError");
    CHECK(no_function.message().find("no_such_function") != std::string::npos);
    in.exec("def two(a, b):\n    return a + b\n");
    PythonError arity = python_error_of([&] { in.call("__main__:two", 1); });
    CHECK(arity.type_name() == "TypeError");
    CHECK(arity.message().find("missing 1 required positional argument: 'b'") != std::string::npos);
    CHECK(python_error_of([&] { in.call("__main__:two", 1, 2, 3); }).type_name() == "TypeError");
    CHECK_THROWS_AS(in.call(":two"), UsageError);
    CHECK_THROWS_AS(in.call("__main__:"), UsageError);
    check_still_works(in);
}

TEST_CASE("Reliability.non_shareable_arguments_and_results_name_type_and_path") {
    Interpreter in;
    try {
        in.eval("{'k': [1, 2, object()]}");
        FAIL("expected NotShareableError");
    } catch (const NotShareableError& e) {
        CHECK(e.type_name() == "object");
        CHECK(e.path() == "result['k'][2]");
    }
    in.exec("import threading\nclass MyList(list): pass\n");
    CHECK_THROWS_WITH_AS(in.eval("(1, threading.Lock())"), doctest::Contains("result[1]"),
                         NotShareableError);
    CHECK_THROWS_WITH_AS(in.eval("MyList()"), doctest::Contains("subclass of list"),
                         NotShareableError);
    CHECK_THROWS_AS(in.eval("lambda: 1"), NotShareableError);
    CHECK_THROWS_AS(in.eval("__import__('sys')"), NotShareableError);
    // An argument that is not shareable cannot even be built on the C++ side: a Value holds
    // only shareable kinds, so the check happens where the object lives (the result above).
    check_still_works(in);
}

TEST_CASE("Reliability.every_kind_of_exception_is_a_python_error") {
    Interpreter in;
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
        {"[None] * (1 << 62)", "MemoryError"},       // refused before any allocation
        {"bytearray(1 << 62)", "MemoryError"},       // a real failed allocation
        {"raise ExceptionGroup('many', [ValueError(1), TypeError(2)])", "ExceptionGroup"},
        {"1 / 0", "ZeroDivisionError"},
        {"raise ValueError('x') from KeyError('cause')", "ValueError"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.source);
        PythonError e = python_error_of([&] { in.exec(c.source); });
        CHECK(e.type_name().ends_with(c.type));
        CHECK(std::string(e.what()).find(c.type) != std::string::npos);
        check_still_works(in);
    }
    // Deep recursion through a call from C++ as well, and the limit is restored afterwards.
    in.exec("import sys\ndef down(n): return down(n + 1)\n");
    CHECK(python_error_of([&] { in.call("__main__:down", 0); }).type_name() == "RecursionError");
    in.exec("def depth(n): return n if n == 0 else depth(n - 1)\n");
    CHECK(in.call("__main__:depth", 500).as_int64() == 0);
}

TEST_CASE("Reliability.huge_ints_and_strings_cross_intact") {
    Interpreter a;
    Interpreter b;
    b.exec("def is_power(v): return v == 10 ** 100000\n"
           "def is_shift(v): return v == 1 << 1000000\n"
           "def is_neg_shift(v): return v == -(1 << 1000000) - 1\n"
           "def is_text(v): return len(v) == 100_000_001 and v[-1] == '\\u00e9' and "
           "v.count('x') == 100_000_000\n");
    const Value power = a.eval("10 ** 100000");
    CHECK_FALSE(power.fits_int64());
    CHECK(b.call("__main__:is_power", power).as_bool());
    const Value shift = a.eval("1 << 1000000");
    CHECK(shift.int_bytes().size() == 1000000 / 8 + 1);
    CHECK(b.call("__main__:is_shift", shift).as_bool());
    CHECK(b.call("__main__:is_neg_shift", a.eval("-(1 << 1000000) - 1")).as_bool());
    CHECK(a.eval("10 ** 100000 - 1 + 1") == power);
    const Value text = a.eval("'x' * 100_000_000 + '\\u00e9'");
    CHECK(text.as_str().size() == 100'000'002); // UTF-8 bytes
    CHECK(b.call("__main__:is_text", text).as_bool());
    const std::string from_cpp(50'000'000, 'y');
    CHECK(b.call("builtins:len", from_cpp).as_int64() == 50'000'000);
}

TEST_CASE("Reliability.invalid_utf8_from_cpp_is_a_conversion_error_with_offset") {
    CHECK_THROWS_WITH_AS(Value::str("ab\xff"), doctest::Contains("at byte 2"), ConversionError);
    CHECK_THROWS_WITH_AS(Value::str("\xc0\x80"), doctest::Contains("at byte 0"), ConversionError);
    CHECK_THROWS_WITH_AS(Value::str("ok \xed\xa0\x80"), doctest::Contains("at byte 3"),
                         ConversionError); // an encoded surrogate
    CHECK_THROWS_WITH_AS(Value::str("\xf4\x90\x80\x80"), doctest::Contains("at byte 0"),
                         ConversionError); // past U+10FFFF
    CHECK_THROWS_WITH_AS(Value::str("trunc \xe2\x82"), doctest::Contains("at byte 6"),
                         ConversionError);
    Interpreter in;
    CHECK_THROWS_WITH_AS(in.call("builtins:len", std::string("xy\xfe")),
                         doctest::Contains("at byte 2"), ConversionError);
    CHECK_THROWS_AS(in.call("builtins:len", std::vector<std::string>{"fine", "bad\x80"}),
                    ConversionError);
    CHECK(in.call("builtins:len", std::string("\xf0\x9f\x98\x80")).as_int64() == 1);
    check_still_works(in);
}

TEST_CASE("Reliability.extension_without_subinterpreter_support_is_named") {
    // Two single-phase-init modules: the tests' own (CPython's _testsinglephase is a test module,
    // which the CPythons built here leave out) and one of the standard library's.
    Interpreter::Options options;
    options.sys_path = {test::test_extension_dir};
    Interpreter in(options);
    for (const char* module : {test::refusing_module, "_curses"}) {
        CAPTURE(module);
        PythonError e = python_error_of([&] { in.import_module(module); });
        CHECK(e.type_name() == "ImportError");
        CHECK(e.message() ==
              std::string("module ") + module + " does not support loading in subinterpreters");
    }
    PythonError via_call = python_error_of([&] { in.call(std::string(test::refusing_module) + ":bump"); });
    CHECK(via_call.message().find(test::refusing_module) != std::string::npos);
    check_still_works(in);
}

TEST_CASE("Reliability.nesting_too_deep_is_refused") {
    Interpreter in;
    in.exec("deep = []\nfor _ in range(999):\n    deep = [deep]\n");
    CHECK(detail::Node::of(in.eval("deep"))->depth == 1000);
    CHECK_THROWS_WITH_AS(in.eval("[deep]"),
                         doctest::Contains("nested more than 1000 levels deep"),
                         NotShareableError);
    CHECK_THROWS_WITH_AS(in.eval("[(lambda x: (x.append(x), x)[1])([])]"),
                         doctest::Contains("reference cycle"), NotShareableError);
    in.exec("d = {}\nd['self'] = d\n");
    CHECK_THROWS_AS(in.eval("d"), NotShareableError);
    Value deep = Value::list({});
    for (std::size_t k = 1; k < max_nesting; ++k) deep = Value::list({deep});
    CHECK_THROWS_WITH_AS(Value::list({deep}), doctest::Contains("nested more than 1000"),
                         ConversionError);
    CHECK(in.call("builtins:len", deep).as_int64() == 1); // 1000 deep still crosses
    check_still_works(in);
}

TEST_CASE("Reliability.hostile_code_stays_inside_its_interpreter" * doctest::timeout(120)) {
    // A vandalises its own interpreter while B keeps working at the same time.
    std::atomic<int> phase{0}; // 0: B starting, 1: B running, 2: A done vandalising
    std::atomic<int> b_iterations_after{0};
    std::atomic<bool> b_failed{false};
    std::string b_error;
    std::thread b_thread([&] {
        try {
            Interpreter b;
            b.exec("import json, sys\n");
            phase.store(1);
            while (phase.load() < 2 || b_iterations_after.load() < 200) {
                const bool after = phase.load() == 2;
                if (b.eval("len([1, 2, 3]) + len(sys.modules) * 0").as_int64() != 3 ||
                    b.call("json:dumps", 7).as_str() != "7" ||
                    b.eval("__import__('collections').OrderedDict is not None").as_bool() != true)
                    throw std::runtime_error("B saw a wrong result");
                if (after) b_iterations_after.fetch_add(1);
            }
        } catch (const std::exception& e) {
            b_error = e.what();
            b_failed = true;
            phase.store(2);
        }
    });
    {
        Interpreter a;
        while (phase.load() == 0) std::this_thread::yield();
        a.exec("import builtins, sys\n"
               "builtins.len = None\n"
               "builtins.print = None\n"
               "sys.modules.clear()\n"
               "del builtins.__import__\n");
        phase.store(2);
        // A is damaged, and says so with Python errors rather than crashing.
        CHECK(python_error_of([&] { a.eval("len([1])"); }).type_name() == "TypeError");
        PythonError no_import = python_error_of([&] { a.call("json:dumps", 1); });
        MESSAGE("after del builtins.__import__: " << no_import.type_name() << ": "
                                                  << no_import.message());
        CHECK(!no_import.message().empty());
        CHECK(a.eval("1 + 1").as_int64() == 2);
    } // and ends cleanly
    b_thread.join();
    REQUIRE_MESSAGE(!b_failed, b_error);
    CHECK(b_iterations_after.load() >= 200);
    Interpreter fresh; // a new interpreter starts clean
    CHECK(fresh.eval("len('abc')").as_int64() == 3);
    check_still_works(fresh);
}

TEST_CASE("Reliability.nothing_crossing_carries_a_reference") {
    Interpreter a;
    Interpreter b;
    a.exec("shared = [1, 2, {'k': [3]}]\n");
    const Value snapshot = a.eval("shared");
    a.exec("shared.append(4)\nshared[2]['k'].append(5)\n");
    CHECK(snapshot == Value::list({1, 2, Value::dict({{"k", Value::list({3})}})}));
    b.exec("def vandalise(v):\n    v.append('b was here')\n    v[2]['k'].clear()\n    return v\n");
    const Value changed = b.call("__main__:vandalise", snapshot);
    CHECK(changed.size() == 4);
    CHECK(a.eval("shared") == Value::list({1, 2, Value::dict({{"k", Value::list({3, 5})}}), 4}));
    // An exception's arguments and attributes stay behind: the error holds strings only.
    a.exec("class Carrier(Exception):\n    pass\n"
           "def throw():\n    e = Carrier('payload')\n    e.obj = shared\n    raise e\n");
    PythonError e = python_error_of([&] { a.call("__main__:throw"); });
    CHECK(e.type_name() == "Carrier");
    CHECK(e.message() == "payload");
    // Two materialisations of one Value are distinct objects, even in one interpreter.
    b.exec("def same_object(x, y): return x is y\n");
    CHECK(b.call("__main__:same_object", snapshot, snapshot).as_bool() == false);
}

TEST_CASE("Reliability.mimalloc_replaces_malloc_only_in_plain_builds") {
    // Measured answer to "does linking Debian's libmimalloc.so.2 replace malloc for the whole
    // process?" (README, Reliability): yes in the plain build (libmimalloc comes before libc in
    // the symbol search order, so libpython's and libstdc++'s malloc are mimalloc's), no under a
    // sanitizer, whose runtime interposes malloc first.
    void* p = std::malloc(64);
    REQUIRE(p != nullptr);
    std::memset(p, 0, 64);
    const bool overridden = mi_is_in_heap_region(p);
    std::free(p);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    const bool sanitized = true;
#elif defined(__has_feature)
    const bool sanitized = __has_feature(address_sanitizer) || __has_feature(thread_sanitizer);
#else
    const bool sanitized = false;
#endif
    MESSAGE("malloc is mimalloc's: " << overridden);
    CHECK(overridden == !sanitized);
}

} // TEST_SUITE
