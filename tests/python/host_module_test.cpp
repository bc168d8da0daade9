// HostModule: C++ functions and constants as a built-in module, in every interpreter.
// The module `host_test` is registered at static initialisation, before main() makes the Runtime;
// tests/host_module_probe.cpp covers the main interpreter and registration rules in a process
// of its own.

#include <atomic>
#include <complex>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <sys/wait.h>

#include <isolates.h>
#include "tests/support/child_process.h"
#include "tests/support/doctest.h"

using namespace isolates;

namespace {

std::atomic<std::int64_t> shared_total{0};

double score(const std::string& key, double weight) { return static_cast<double>(key.size()) * weight; }

[[noreturn]] void raise(const std::string& kind) {
    if (kind == "invalid_argument") throw std::invalid_argument("bad argument");
    if (kind == "domain_error") throw std::domain_error("outside the domain");
    if (kind == "out_of_range") throw std::out_of_range("past the end");
    if (kind == "overflow_error") throw std::overflow_error("too big");
    if (kind == "runtime_error") throw std::runtime_error("plain failure");
    if (kind == "bad_alloc") throw std::bad_alloc();
    if (kind == "usage") throw UsageError("used wrongly");
    if (kind == "conversion") throw ConversionError("did not fit");
    if (kind == "not_shareable") throw NotShareableError("socket", "value");
    if (kind == "timeout") throw isolates::TimeoutError("took too long");
    if (kind == "channel_closed") {
        Channel closed(1);
        closed.close();
        closed.send(1);
    }
    if (kind == "endpoint_role") Channel(1).receiver().send(1);
    if (kind == "python_builtin")
        throw PythonError("ZeroDivisionError", "division by zero", "ZeroDivisionError: division by zero\n");
    if (kind == "python_custom") throw PythonError("mod.Custom", "custom", "mod.Custom: custom\n");
    throw 42; // not an exception class at all
}

const bool registered = [] {
    HostModule("host_test", "Functions of the test program.")
        .def("echo_int", [](std::int64_t x) { return x; }, "Returns its int.")
        .def("echo_uint8", [](std::uint8_t x) { return x; })
        .def("echo_uint64", [](std::uint64_t x) { return x; })
        .def("echo_float", [](double x) { return x; })
        .def("echo_bool", [](bool x) { return x; })
        .def("echo_complex", [](std::complex<double> x) { return x; })
        .def("echo_str", [](std::string x) { return x; })
        .def("echo_view", [](std::string_view x) { return std::string(x); })
        .def("echo_bytes", [](const std::vector<std::byte>& x) { return x; })
        .def("echo_list", [](const std::vector<std::int64_t>& x) { return x; })
        .def("echo_dict", [](const std::map<std::string, double>& x) { return x; })
        .def("echo_tuple", [](const std::tuple<int, std::string, bool>& x) { return x; })
        .def("echo_pair", [](std::pair<std::string, int> x) { return x; })
        .def("echo_optional", [](std::optional<std::string> x) { return x; })
        .def("echo_value", [](const Value& x) { return x; })
        .def("echo_channel", [](const Channel& x) { return x; })
        .def("echo_buffer", [](const SharedBuffer& x) { return x; })
        .def("nothing", [] {})
        .def("score", &score, "Length of key times weight.", arg("key"), arg("weight") = 2.0)
        .def("describe", [](int n, std::optional<std::string> label, std::optional<int> limit) {
                 return std::to_string(n) + "/" + label.value_or("-") + "/" +
                        (limit ? std::to_string(*limit) : "-");
             },
             arg("n"), arg("label"), arg("limit"))
        .def("raise_", &raise, arg("kind"))
        .def("interpreter_id", [](Interpreter& in) { return in.id(); })
        .def("has_interpreter", [](Interpreter* in) { return in != nullptr; })
        .def("call_back", [](Interpreter& in, const std::string& expression) { return in.eval(expression); },
             arg("expression"))
        .def("wait_for", [](Channel ch) { return ch.recv(); },
             "Blocks until the channel has a value.", arg("channel"), release_gil)
        .def("add", [](std::int64_t n) { return shared_total.fetch_add(n) + n; }, arg("n"))
        .def("add_released", [](std::int64_t n) { return shared_total.fetch_add(n) + n; }, arg("n"),
             release_gil)
        .constant("VERSION", 3)
        .constant("TABLE", Value(std::map<std::string, int>{{"a", 1}, {"b", 2}}))
        .register_module();
    return true;
}();

} // namespace

TEST_SUITE("HostModule") {

TEST_CASE("HostModule.imports_in_every_sub_interpreter_with_signatures") {
    REQUIRE(registered);
    Interpreter a;
    Interpreter b;
    for (Interpreter* in : {&a, &b}) {
        in->exec("import host_test, inspect, pydoc\n");
        CHECK(in->eval("host_test.__doc__").as<std::string>() == "Functions of the test program.");
        CHECK(in->eval("host_test.VERSION").as_int64() == 3);
        CHECK(in->eval("host_test.TABLE == {'a': 1, 'b': 2}").as_bool());
        CHECK(in->eval("str(inspect.signature(host_test.score))").as<std::string>() ==
              "(key, weight=2.0)");
        CHECK(in->eval("host_test.score.__doc__").as<std::string>() ==
              "score(key: str, weight: float = 2.0) -> float\n\nLength of key times weight.");
        CHECK(in->eval("host_test.echo_list.__doc__").as<std::string>() ==
              "echo_list(arg0: list[int]) -> list[int]");
        CHECK(in->eval("host_test.describe.__doc__").as<std::string>() ==
              "describe(n: int, label: str | None = None, limit: int | None = None) -> str");
        CHECK(in->eval("host_test.nothing.__doc__").as<std::string>() == "nothing() -> None");
        const std::string help =
            in->eval("pydoc.render_doc(host_test.score, renderer=pydoc.plaintext)").as<std::string>();
        CHECK(help.find("score(key, weight=2.0)") != std::string::npos);
        CHECK(help.find("score(key: str, weight: float = 2.0) -> float") != std::string::npos);
        CHECK(in->eval("host_test.score.__module__").as<std::string>() == "host_test");
    }
    // Each interpreter makes its own function objects.
    CHECK(a.eval("id(__import__('host_test').score)") != b.eval("id(__import__('host_test').score)"));
}

TEST_CASE("HostModule.converts_every_type_both_ways") {
    Interpreter in;
    in.exec(R"(
import host_test as h, isolates
assert h.echo_int(-7) == -7 and h.echo_int(2**62) == 2**62
assert h.echo_uint8(255) == 255
assert h.echo_uint64(2**64 - 1) == 2**64 - 1
assert h.echo_float(2.5) == 2.5 and h.echo_float(3) == 3.0
assert h.echo_bool(True) is True and h.echo_bool(False) is False
assert h.echo_complex(1+2j) == 1+2j
assert h.echo_str('h\u00e9llo \U0001f600') == 'h\u00e9llo \U0001f600'
assert h.echo_view('view') == 'view'
assert h.echo_bytes(b'\x00\xff') == b'\x00\xff'
assert h.echo_list([1, 2, 3]) == [1, 2, 3] and h.echo_list((4,)) == [4]
assert h.echo_dict({'x': 1.5}) == {'x': 1.5}
assert h.echo_tuple((1, 'a', True)) == (1, 'a', True)
assert h.echo_pair(('k', 9)) == ('k', 9)
assert h.echo_optional(None) is None and h.echo_optional('s') == 's'
v = (1, [2.0, 'three'], {'four': b'5'}, frozenset({6}))
assert h.echo_value(v) == v
ch = isolates.Channel(4)
back = h.echo_channel(ch)
assert isinstance(back, isolates.Channel) and back == ch
back.send('through'); assert ch.recv() == 'through'
buf = isolates.SharedBuffer(b'shared bytes')
mv = h.echo_buffer(memoryview(buf))
assert isinstance(mv, memoryview) and bytes(mv) == b'shared bytes' and mv.readonly
assert h.nothing() is None
)");
}

TEST_CASE("HostModule.keyword_and_default_arguments") {
    Interpreter in;
    in.exec(R"(
import host_test as h
assert h.score('abc') == 6.0
assert h.score('abc', 1.0) == 3.0
assert h.score(key='ab', weight=0.5) == 1.0
assert h.score(weight=3, key='a') == 3.0
assert h.describe(1) == '1/-/-'
assert h.describe(1, 'x') == '1/x/-'
assert h.describe(1, limit=5) == '1/-/5'
assert h.describe(n=2, label=None, limit=None) == '2/-/-'
def message(call):
    try:
        call()
    except TypeError as e:
        return str(e)
    raise AssertionError('no TypeError')
assert message(lambda: h.score()) == "host_test.score() missing required argument 'key'", message(lambda: h.score())
assert 'unexpected keyword argument' in message(lambda: h.score('a', wait=1))
assert "multiple values for argument 'key'" in message(lambda: h.score('a', key='b'))
assert 'at most 2 positional arguments (3 given)' in message(lambda: h.score('a', 1.0, 2))
assert h.echo_int(arg0=5) == 5
)");
}

TEST_CASE("HostModule.arguments_that_do_not_convert_raise_type_error_naming_the_parameter") {
    Interpreter in;
    in.exec(R"(
import host_test as h
def message(call):
    try:
        call()
    except TypeError as e:
        return str(e)
    raise AssertionError('no TypeError')
)");
    CHECK(in.eval("message(lambda: h.score(3))").as<std::string>() ==
          "host_test.score() argument 'key' must be str: expected str, got int 3");
    CHECK(in.eval("message(lambda: h.score('a', weight='heavy'))").as<std::string>() ==
          "host_test.score() argument 'weight' must be float: expected float, got str 'heavy'");
    CHECK(in.eval("message(lambda: h.echo_uint8(300))").as<std::string>() ==
          "host_test.echo_uint8() argument 'arg0' must be int: int 300 does not fit in uint8_t");
    CHECK(in.eval("message(lambda: h.echo_list([1, 'two']))").as<std::string>() ==
          "host_test.echo_list() argument 'arg0' must be list[int]: [1]: expected int, got str 'two'");
    const std::string unshareable = in.eval("message(lambda: h.echo_value(print))").as<std::string>();
    CHECK(unshareable.find("host_test.echo_value() argument 'arg0' must be object:") == 0);
    CHECK(unshareable.find("not shareable") != std::string::npos);
    CHECK(in.eval("message(lambda: h.echo_channel(1))").as<std::string>().find(
              "argument 'arg0' must be isolates.Channel") != std::string::npos);
}

TEST_CASE("HostModule.cpp_exceptions_become_matching_python_exceptions") {
    Interpreter in;
    in.exec(R"(
import host_test as h, isolates
def raised(kind):
    try:
        h.raise_(kind)
    except BaseException as e:
        return type(e), str(e)
    raise AssertionError('nothing raised')
)");
    const std::vector<std::pair<std::string, std::string>> expected = {
        {"invalid_argument", "(ValueError, 'bad argument')"},
        {"domain_error", "(ValueError, 'outside the domain')"},
        {"out_of_range", "(IndexError, 'past the end')"},
        {"overflow_error", "(OverflowError, 'too big')"},
        {"runtime_error", "(RuntimeError, 'plain failure')"},
        {"bad_alloc", "(MemoryError, '')"},
        {"usage", "(ValueError, 'used wrongly')"},
        {"conversion", "(ValueError, 'did not fit')"},
        {"not_shareable", "(isolates.NotShareableError, 'value: socket is not shareable')"},
        {"timeout", "(TimeoutError, 'took too long')"},
        {"channel_closed", "(isolates.ChannelClosed, 'send on a closed channel')"},
        {"endpoint_role", "(PermissionError, 'send on a receive-only channel endpoint')"},
        {"python_builtin", "(ZeroDivisionError, 'division by zero')"},
        {"python_custom", "(RuntimeError, 'mod.Custom: custom')"},
        {"other", "(RuntimeError, 'unknown C++ exception')"},
    };
    for (const auto& [kind, result] : expected) {
        CAPTURE(kind);
        CHECK(in.eval("(lambda t, m: f'({t.__module__ + \".\" if t.__module__ != \"builtins\" else \"\"}"
                      "{t.__name__}, {m!r})')(*raised('" + kind + "'))")
                  .as<std::string>() == result);
    }
    // The interpreter goes on working.
    CHECK(in.eval("h.score('ok')").as_double() == 4.0);
}

TEST_CASE("HostModule.takes_the_calling_interpreter_and_may_call_back_into_it" * doctest::timeout(30)) {
    Interpreter in;
    in.exec("import host_test as h\nsecret = 41\n");
    CHECK(in.eval("h.interpreter_id()").as_int64() == in.id());
    CHECK(in.eval("h.has_interpreter()").as_bool());
    // Called with the GIL held, the function may run Python of the same interpreter.
    CHECK(in.eval("h.call_back('secret + 1')").as_int64() == 42);
    CHECK(in.eval("h.call_back('[h.interpreter_id(), h.call_back(\"secret\")]')") ==
          Value::list({Value(in.id()), Value(41)}));
    in.exec(R"(
try:
    h.call_back('1 / 0')
    raise AssertionError('no error')
except ZeroDivisionError as e:
    assert 'division by zero' in str(e)
)");
    // A Python thread of the interpreter is not the thread that owns it: no Interpreter there.
    in.exec(R"(
import threading
seen = []
def probe():
    seen.append(h.has_interpreter())
    try:
        h.interpreter_id()
    except RuntimeError as e:
        seen.append(str(e))
t = threading.Thread(target=probe); t.start(); t.join()
)");
    CHECK_FALSE(in.eval("seen[0]").as_bool());
    CHECK(in.eval("seen[1]").as<std::string>().find(
              "host_test.interpreter_id() takes the calling isolates::Interpreter, and there is none "
              "here") == 0);
}

TEST_CASE("HostModule.released_gil_lets_other_threads_of_the_interpreter_run" * doctest::timeout(30)) {
    Interpreter in;
    // A Python thread blocks in a host function defined with release_gil; the interpreter's own
    // thread runs Python meanwhile and only then sends what ends the wait. Were the GIL held,
    // the main loop would stall until the safety net below sent 'late' after 10 s.
    in.exec(R"(
import host_test as h, threading, time
got = []
started = threading.Event()
def blocked(ch):
    started.set()
    got.append(h.wait_for(ch))
def run(ch):
    t = threading.Thread(target=blocked, args=(ch,))
    t.start()
    started.wait()
    ran = 0
    end = time.monotonic() + 0.1
    while time.monotonic() < end:
        ran += 1
    ch.send('go')
    t.join()
    return ran, got[0]
)");
    Channel wake(2);
    Channel done(1);
    std::thread safety_net([&] {
        if (!done.recv_for(std::chrono::seconds(10))) wake.send("late");
    });
    const Value result = in.call("__main__:run", wake);
    done.send(true);
    safety_net.join();
    CHECK(result[0].as_int64() > 0);
    CHECK(result[1].as<std::string>() == "go");
}

TEST_CASE("HostModule.many_interpreters_call_the_same_function_at_once" * doctest::timeout(120)) {
    constexpr int threads = 6;
    constexpr int calls = 5000;
    const std::int64_t before = shared_total.load();
    std::vector<std::thread> workers;
    std::atomic<int> failures{0};
    for (int k = 0; k < threads; ++k) {
        workers.emplace_back([&, k] {
            try {
                Interpreter in;
                in.exec("import host_test as h\n"
                        "def run(n, released):\n"
                        "    f = h.add_released if released else h.add\n"
                        "    for _ in range(n):\n"
                        "        f(1)\n"
                        "        assert h.score('abcd', weight=0.5) == 2.0\n"
                        "        assert h.echo_list([1, 2]) == [1, 2]\n");
                in.call("__main__:run", calls, k % 2 == 1);
            } catch (const std::exception& e) {
                std::fprintf(stderr, "worker %d: %s\n", k, e.what());
                ++failures;
            }
        });
    }
    for (std::thread& t : workers) t.join();
    REQUIRE(failures == 0);
    CHECK(shared_total.load() - before == static_cast<std::int64_t>(threads) * calls);
}

TEST_CASE("HostModule.works_in_pool_workers_and_their_initializers" * doctest::timeout(60)) {
    InterpreterPoolExecutor::Options options;
    options.workers = 2;
    options.init_modules = {"host_test"};
    options.init_source = "import host_test\nWEIGHT = host_test.VERSION * 1.0\n"
                          "def task(key):\n    return host_test.score(key, weight=WEIGHT)\n";
    InterpreterPoolExecutor pool(options);
    std::vector<Future<Value>> results;
    for (int k = 0; k < 20; ++k) results.push_back(pool.submit("__main__:task", std::string(k % 5 + 1, 'x')));
    for (int k = 0; k < 20; ++k) CHECK(results[k].get().as_double() == 3.0 * (k % 5 + 1));
}

TEST_CASE("HostModule.misuse_gives_clear_errors") {
    auto refused = [](auto&& define) -> std::string {
        try {
            define();
        } catch (const UsageError& e) {
            return e.what();
        }
        return "no error";
    };
    auto one = [](int x) { return x; };
    CHECK(refused([&] { HostModule("m").def("f", one).def("f", one); }) ==
          "HostModule: m.f is defined twice");
    CHECK(refused([&] { HostModule("m").def("f", one).constant("f", 1); }) ==
          "HostModule: m.f is defined twice");
    CHECK(refused([&] { HostModule("m").def("f", one, arg("a"), arg("b")); }) ==
          "HostModule: m.f has 1 parameters but 2 names were given");
    CHECK(refused([&] { HostModule("m").def("f", one, arg("a") = "text"); }).find(
              "HostModule: m.f: the default of 'a' does not convert to int: expected int") == 0);
    CHECK(refused([&] {
              HostModule("m").def("f", [](int, int) { return 0; }, arg("a") = 1, arg("b"));
          }) == "HostModule: m.f: parameter 'b' has no default but follows one that has");
    CHECK(refused([&] {
              HostModule("m").def("f", [](Interpreter&) { return 0; }, release_gil);
          }).find("takes the calling Interpreter but releases the GIL") != std::string::npos);
    CHECK(refused([&] { HostModule("not a name"); }).find("is not a valid module name") !=
          std::string::npos);
    CHECK(refused([&] { HostModule("m").def("f", [](int, int) { return 0; }, arg("a"), arg("a")); })
              .find("parameter name 'a' is invalid or given twice") != std::string::npos);
    // Registration: a name taken, or any registration once the Runtime runs.
    CHECK(refused([&] { HostModule("host_test").register_module(); }) ==
          "register_builtin_module('host_test'): a built-in module of that name is already registered");
    CHECK(refused([&] { HostModule("isolates").register_module(); }).find("already registered") !=
          std::string::npos);
    CHECK(refused([&] { HostModule("late_module").def("f", one).register_module(); }) ==
          "register_builtin_module('late_module') after the Runtime started; CPython reads "
          "built-in modules once");
    // Nothing of a refused module is importable.
    Interpreter in;
    CHECK_THROWS_WITH_AS(in.exec("import late_module"), doctest::Contains("ModuleNotFoundError"),
                         PythonError);
}

TEST_CASE("HostModule.main_interpreter_and_registration_in_a_fresh_process" * doctest::timeout(60)) {
    // tests/host_module_probe.cpp registers before its Runtime, imports the module in the main
    // interpreter and a sub-interpreter, and tries the registration rules CPython's once-only
    // initialisation makes testable only in a process of its own.
    const auto probe_run = testing::run_command(ISOLATES_HOST_MODULE_PROBE);
    const std::string& output = probe_run.output;
    CAPTURE(output);
    CHECK(probe_run.status == 0);
    for (const char* line :
         {"ok name of a CPython module: register_builtin_module('sys'): CPython already has",
          "ok second module of one name: register_builtin_module('probe_host'): a built-in module",
          "ok main interpreter: 7 False RuntimeError",
          "ok sub-interpreter: 7 True",
          "ok after the Runtime started: register_builtin_module('too_late') after the Runtime "
          "started"})
        CHECK(output.find(line) != std::string::npos);
}

} // TEST_SUITE
