// Runtime: one per process, isolated configuration.

#include <cstdio>
#include <memory>
#include <string>
#include <sys/wait.h>

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

TEST_CASE("Runtime.lifecycle_rules_hold_in_a_fresh_process" * doctest::timeout(60)) {
    // tests/lifecycle_probe.cpp: no Runtime yet, a second Runtime, waiting for the last
    // interpreter, and use after finalisation, each in a process of its own making.
    std::unique_ptr<FILE, int (*)(FILE*)> probe(popen(ISOLATES_LIFECYCLE_PROBE " 2>&1", "r"),
                                                 pclose);
    REQUIRE(probe);
    std::string output;
    char buffer[512];
    while (std::fgets(buffer, sizeof buffer, probe.get())) output += buffer;
    const int status = pclose(probe.release());
    CAPTURE(output);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(output.find("ok interpreter before any runtime: no isolates::Runtime is alive") !=
          std::string::npos);
    CHECK(output.find("ok second runtime: an isolates::Runtime already exists") != std::string::npos);
    CHECK(output.find("ok runtime waited for the last interpreter") != std::string::npos);
    CHECK(output.find("ok interpreter after finalisation: the isolates::Runtime has been finalised") !=
          std::string::npos);
    CHECK(output.find("ok runtime after finalisation: CPython was already finalised") !=
          std::string::npos);
}

TEST_CASE("Runtime.finalises_after_sub_interpreters_passed_keywords_to_extensions" *
          doctest::timeout(60)) {
    // tests/finalize_probe.cpp: two sub-interpreters call _pickle and _hashlib with keywords,
    // then the Runtime ends CPython. CPython 3.12.0-3.12.3 crashed there without
    // interp/detail/keyword_tuples_312.h (3.12.1: SIGSEGV in _PyTuple_Fini).
    std::unique_ptr<FILE, int (*)(FILE*)> probe(popen(ISOLATES_FINALIZE_PROBE " 2>&1", "r"),
                                                 pclose);
    REQUIRE(probe);
    std::string output;
    char buffer[512];
    while (std::fgets(buffer, sizeof buffer, probe.get())) output += buffer;
    const int status = pclose(probe.release());
    CAPTURE(output);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(output.find("ok keywords passed in two sub-interpreters") != std::string::npos);
    CHECK(output.find("ok finalised") != std::string::npos);
}

} // TEST_SUITE
