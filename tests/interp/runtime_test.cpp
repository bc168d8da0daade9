// Runtime: one per process, isolated configuration.

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <isolates/executor/interpreter_pool_executor.h>
#include <isolates/interp/errors.h>
#include <isolates/interp/interpreter.h>
#include <isolates/interp/runtime.h>
#include "tests/support/child_process.h"
#include "tests/support/doctest.h"

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
    const auto probe_run = testing::run_command(ISOLATES_LIFECYCLE_PROBE);
    const std::string& output = probe_run.output;
    CAPTURE(output);
    CHECK(probe_run.status == 0);
    CHECK(output.find("ok interpreter before any runtime: no isolates::Runtime is alive") !=
          std::string::npos);
    CHECK(output.find("ok second runtime: an isolates::Runtime already exists") != std::string::npos);
    CHECK(output.find("ok runtime waited for the last interpreter") != std::string::npos);
    CHECK(output.find("ok interpreter after finalisation: the isolates::Runtime has been finalised") !=
          std::string::npos);
    // A pool says so at once, like a bare Interpreter, instead of breaking at its first submit.
    CHECK(output.find("ok pool before any runtime: InterpreterPoolExecutor: no isolates::Runtime "
                      "is alive: make one (usually in main) first") != std::string::npos);
    CHECK(output.find("ok pool after finalisation: InterpreterPoolExecutor: the isolates::Runtime "
                      "has been finalised") != std::string::npos);
    // The Runtime names what it waits for.
    CHECK(output.find("isolates: the Runtime is being destroyed while 1 interpreter (on thread ") !=
          std::string::npos);
    CHECK(output.find("ok runtime after finalisation: CPython was already finalised") !=
          std::string::npos);
}


// --- Options, sys.executable, and a Runtime destroyed before a pool: tests/runtime_probe.cpp ---

namespace {
namespace fs = std::filesystem;

using testing::run_command;

/// A fresh folder under the temporary directory, removed with everything in it at scope exit.
struct TempDir {
    fs::path path;
    explicit TempDir(const std::string& name)
        : path(fs::temp_directory_path() /
               ("isolates-" + name + "-" + std::to_string(::getpid()))) {
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ignored;
        fs::remove_all(path, ignored);
    }
};

void write_file(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
}

// check(output, expect) returns what is wrong with runtime_probe's reports, or "". `expect`
// holds: prefix (sys.prefix), base_prefix, executable_in (a folder sys.executable is in),
// path_head (sys.path's first entries), modules ({name: importable}).
constexpr const char* check_source = R"PY(
import json, os

def check(output, expect):
    real = os.path.realpath
    reports = {}
    for line in output.splitlines():
        kind, _, rest = line.partition(' ')
        if kind in ('main', 'interpreter', 'worker'):
            reports[kind] = json.loads(rest)
    if sorted(reports) != ['interpreter', 'main', 'worker']:
        return 'expected reports from main, interpreter and worker, got %s' % sorted(reports)
    problems = []
    for kind, r in reports.items():
        def wrong(what, got, want):
            problems.append('%s: %s is %r, expected %r' % (kind, what, got, want))
        if r['child_status'] != 0 or r['child'][:1] != [r['version']]:
            wrong('the version sys.executable (%s) prints' % r['executable'], r['child'], r['version'])
        if r['child'][1:2] != [r['prefix']]:
            wrong('the prefix sys.executable prints', r['child'][1:2], r['prefix'])
        if real(r['prefix']) != real(expect['prefix']):
            wrong('sys.prefix', r['prefix'], expect['prefix'])
        if real(r['base_prefix']) != real(expect['base_prefix']):
            wrong('sys.base_prefix', r['base_prefix'], expect['base_prefix'])
        if os.path.dirname(r['executable']) != expect['executable_in']:
            wrong("sys.executable's folder", os.path.dirname(r['executable']), expect['executable_in'])
        head = r['path'][:len(expect['path_head'])]
        if head != expect['path_head']:
            wrong('the head of sys.path', head, expect['path_head'])
        for name, importable in expect['modules'].items():
            if r['modules'][name] != importable:
                wrong('import %s succeeding' % name, r['modules'][name], importable)
        if r['path'] != reports['main']['path']:
            wrong('sys.path', r['path'], reports['main']['path'])
    return '; '.join(problems)
)PY";

/// What check() in check_source says about `output` given `expect` (a Python dict literal).
std::string problems(const std::string& output, const std::string& expect) {
    Interpreter in;
    in.exec(check_source);
    in.exec("EXPECT = " + expect);
    return std::string(in.call("__main__:check", output, in.eval("EXPECT")).as_str());
}

/// `path` as a Python string literal.
std::string quoted(const fs::path& path) { return "'" + path.string() + "'"; }

const std::string probe = ISOLATES_RUNTIME_PROBE;
const std::string prefix = ISOLATES_PYTHON_PREFIX;
} // namespace

TEST_CASE("Runtime.sys_executable_is_the_embedded_cpython") {
    Interpreter in;
    in.exec("import os, subprocess, sys");
    CHECK(in.eval("os.path.realpath(sys.prefix)").as_str() ==
          in.eval("os.path.realpath('" + prefix + "')").as_str());
    CHECK(in.eval("os.path.dirname(sys.executable)").as_str() == prefix + "/bin");
    CHECK(in.eval("subprocess.run([sys.executable, '-c', 'import sys; print(sys.version)'], "
                  "capture_output=True, text=True, timeout=120).stdout.strip() == sys.version")
              .as_bool());
}

TEST_CASE("Runtime.sys_path_option_comes_first_in_every_interpreter_without_path" *
          doctest::timeout(240)) {
    // Any non-empty sys_path used to drop the standard library: "Failed to import encodings".
    TempDir dir("runtime-sys-path");
    write_file(dir.path / "first/probe_sys_path.py", "");
    write_file(dir.path / "env/probe_pythonpath.py", "");
    const auto result = run_command("env PATH= PYTHONPATH=" + (dir.path / "env").string() + " " + probe +
                           " report --sys-path " + (dir.path / "first").string());
    CAPTURE(result.output);
    CHECK(result.status == 0);
    CHECK(problems(result.output,
                   "{'prefix': '" + prefix + "', 'base_prefix': '" + prefix +
                       "', 'executable_in': '" + prefix + "/bin', 'path_head': [" +
                       quoted(dir.path / "first") +
                       "], 'modules': {'probe_sys_path': True, 'probe_pythonpath': False}}") == "");
}

TEST_CASE("Runtime.use_pythonpath_puts_its_entries_after_sys_path" * doctest::timeout(240)) {
    TempDir dir("runtime-pythonpath");
    write_file(dir.path / "first/probe_sys_path.py", "");
    write_file(dir.path / "env/probe_pythonpath.py", "");
    const auto result = run_command("env PYTHONPATH=" + (dir.path / "env").string() + " " + probe +
                           " report --use-pythonpath --sys-path " + (dir.path / "first").string());
    CAPTURE(result.output);
    CHECK(result.status == 0);
    CHECK(problems(result.output,
                   "{'prefix': '" + prefix + "', 'base_prefix': '" + prefix +
                       "', 'executable_in': '" + prefix + "/bin', 'path_head': [" +
                       quoted(dir.path / "first") + ", " + quoted(dir.path / "env") +
                       "], 'modules': {'probe_sys_path': True, 'probe_pythonpath': True}}") == "");
}

TEST_CASE("Runtime.another_python3_first_on_path_is_not_sys_executable" * doctest::timeout(240)) {
    TempDir dir("runtime-impostor");
    const std::string impostor = "#!/bin/sh\necho impostor python\nexit 3\n";
    for (const char* name : {"python3", "python", "python3.12", "python3.13", "python3.14",
                             "python3.14t", "python3.15"}) {
        write_file(dir.path / name, impostor);
        fs::permissions(dir.path / name, fs::perms::owner_all);
    }
    const auto result = run_command("env PATH=" + dir.path.string() + ":/usr/bin:/bin " + probe + " report");
    CAPTURE(result.output);
    CHECK(result.status == 0);
    CHECK(result.output.find("impostor") == std::string::npos);
    CHECK(problems(result.output, "{'prefix': '" + prefix + "', 'base_prefix': '" + prefix +
                                      "', 'executable_in': '" + prefix +
                                      "/bin', 'path_head': [], 'modules': {}}") == "");
}

TEST_CASE("Runtime.venv_option_runs_every_interpreter_in_the_venv" * doctest::timeout(240)) {
    TempDir dir("runtime-venv");
    const fs::path venv = dir.path / "venv";
    std::string site_packages;
    {
        Interpreter in;
        in.exec("import sysconfig, venv\n"
                "venv.EnvBuilder(symlinks=True, with_pip=False).create(" + quoted(venv) + ")\n"
                "site_packages = sysconfig.get_path('purelib', scheme='venv', vars={'base': " +
                quoted(venv) + "})");
        site_packages = in.eval("site_packages").as_str();
    }
    // A module in its site-packages, and one in a folder that a .pth file there adds.
    write_file(fs::path(site_packages) / "probe_venv.py", "");
    write_file(fs::path(site_packages) / "probe_extra.pth", (dir.path / "extra").string() + "\n");
    write_file(dir.path / "extra/probe_pth.py", "");
    const auto result = run_command("env PATH= " + probe + " report --venv " + venv.string());
    CAPTURE(result.output);
    CHECK(result.status == 0);
    CHECK(problems(result.output, "{'prefix': " + quoted(venv) + ", 'base_prefix': '" + prefix +
                                      "', 'executable_in': " + quoted(venv / "bin") +
                                      ", 'path_head': [], 'modules': {'probe_venv': True, "
                                      "'probe_pth': True}}") == "");
}

TEST_CASE("Runtime.a_bad_venv_is_refused_before_cpython_starts" * doctest::timeout(120)) {
    TempDir dir("runtime-bad-venv");
    const auto missing = run_command(probe + " report --venv " + (dir.path / "none").string());
    CAPTURE(missing.output);
    CHECK(missing.status == 0);
    CHECK(missing.output.find("error Runtime: Options::venv '" + (dir.path / "none").string() +
                              "' is not a virtual environment: expected the folder holding "
                              "pyvenv.cfg") != std::string::npos);
    CHECK(missing.output.find("retry ok") != std::string::npos);

    write_file(dir.path / "old/pyvenv.cfg", "home = /usr/bin\nversion = 3.11.2\n");
    const auto old = run_command(probe + " report --venv " + (dir.path / "old").string());
    CAPTURE(old.output);
    CHECK(old.status == 0);
    CHECK(old.output.find("' was made by Python 3.11.2; this process embeds CPython " +
                          Runtime::python_version()) != std::string::npos);
    CHECK(old.output.find("retry ok") != std::string::npos);
}

TEST_CASE("Runtime.destroyed_before_a_pool_says_so_and_shuts_it_down" * doctest::timeout(150)) {
    const auto result = run_command(probe + " pool-outlives-runtime");
    CAPTURE(result.output);
    CHECK(result.status == 0);
    CHECK(result.output.find("isolates: the Runtime is being destroyed while 1 interpreter (on "
                             "thread ") != std::string::npos);
    CHECK(result.output.find("and 1 pool still runs:\n  InterpreterPoolExecutor of 1 worker "
                             "(thread ") != std::string::npos);
    CHECK(result.output.find("), 1 task queued\nIt shuts those pools down") != std::string::npos);
    CHECK(result.output.find("ok the running task was cancelled") != std::string::npos);
    CHECK(result.output.find("ok the queued task was cancelled") != std::string::npos);
    CHECK(result.output.find("ok a submit after the Runtime ended is refused") != std::string::npos);
    CHECK(result.output.find("ok the pool was destroyed after the Runtime") != std::string::npos);
    CHECK(result.output.find("FAIL") == std::string::npos);
}

TEST_CASE("Runtime.finalises_after_sub_interpreters_passed_keywords_to_extensions" *
          doctest::timeout(150)) {
    // tests/finalize_probe.cpp: two sub-interpreters call _pickle and _hashlib with keywords,
    // then the Runtime ends CPython. CPython 3.12.0-3.12.3 crashed there without
    // interp/detail/keyword_tuples_312.h (3.12.1: SIGSEGV in _PyTuple_Fini).
    const auto result = run_command(ISOLATES_FINALIZE_PROBE);
    CAPTURE(result.output);
    CHECK(result.status == 0);
    CHECK(result.output.find("ok keywords passed in two sub-interpreters") != std::string::npos);
    CHECK(result.output.find("ok finalised") != std::string::npos);
}

} // TEST_SUITE
