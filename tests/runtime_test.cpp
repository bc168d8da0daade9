// Runtime: one per process, isolated configuration.

#include "interp/errors.h"
#include "interp/interpreter.h"
#include "interp/runtime.h"
#include "tests/doctest.h"

using namespace isolates;

TEST_SUITE("Runtime") {

TEST_CASE("Runtime.a_second_runtime_is_a_clear_error") {
    CHECK(Runtime::alive());
    CHECK_THROWS_WITH_AS(Runtime(), "an isolates::Runtime already exists; make only one per process",
                         UsageError);
    CHECK(Runtime::alive());
}

TEST_CASE("Runtime.counts_live_interpreters") {
    const auto before = Runtime::live_interpreters();
    {
        Interpreter in;
        CHECK(Runtime::live_interpreters() == before + 1);
    }
    CHECK(Runtime::live_interpreters() == before);
}

TEST_CASE("Runtime.configuration_is_isolated") {
    Interpreter in;
    CHECK(in.eval("__import__('sys').flags.isolated").as_int64() == 1);
    CHECK(in.eval("__import__('sys').flags.ignore_environment").as_int64() == 1);
    CHECK(in.eval("__import__('sys').flags.no_user_site").as_int64() == 1);
    CHECK(in.eval("__import__('sys').version.split()[0]").as_str() == Runtime::python_version());
}

TEST_CASE("Runtime.sub_interpreters_refuse_fork_and_single_phase_extensions") {
    Interpreter in;
    CHECK_THROWS_WITH_AS(in.exec("import os\nos.fork()"), doctest::Contains("RuntimeError"),
                         PythonError);
}

} // TEST_SUITE
