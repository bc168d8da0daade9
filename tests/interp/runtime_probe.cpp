// runtime_probe: Runtime behaviour that needs a process of its own, since CPython initialises
// only once per process. Run by the Runtime.* cases of tests/runtime_test.cpp.
//
//   runtime_probe report [--sys-path DIR] [--venv DIR] [--use-pythonpath]
//       makes a Runtime with those options and prints one line per kind of interpreter
//       ("main", "interpreter", "worker"), each followed by a JSON object: sys.path,
//       sys.executable, sys.prefix, sys.version, what `sys.executable` prints as its own version
//       and prefix, and which of the test's modules import. "error <message>" when the Runtime
//       refuses the options, and then "retry ok" when a default Runtime can still be made.
//   runtime_probe pool-outlives-runtime
//       destroys a Runtime while a pool declared before it still runs a task and holds another
//       queued; prints "ok ..." per rule that held, "FAIL ..." otherwise.

#include <isolates/interp/cpython.h> // first: Python.h must come before any standard header

#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include <isolates.h>
#include "tests/support/probe_checks.h"

using namespace isolates;
using namespace isolates::testing;

namespace {

// Defines report() in __main__; prints nothing itself.
constexpr const char* report_source = R"PY(
import json, subprocess, sys

def report():
    child = subprocess.run(
        [sys.executable, '-I', '-c', 'import sys; print(sys.version); print(sys.prefix)'],
        capture_output=True, text=True, timeout=120)
    modules = {}
    for name in ('probe_sys_path', 'probe_pythonpath', 'probe_venv', 'probe_pth'):
        try:
            __import__(name)
            modules[name] = True
        except ImportError:
            modules[name] = False
    return json.dumps({
        'path': sys.path, 'executable': sys.executable, 'prefix': sys.prefix,
        'base_prefix': sys.base_prefix, 'version': sys.version,
        'child': child.stdout.splitlines(), 'child_status': child.returncode,
        'modules': modules})
)PY";

/// report() run in the main interpreter, through a thread state of the probe's own.
std::string report_from_main() {
    PyThreadState* state = PyThreadState_New(PyInterpreterState_Main());
    PyEval_RestoreThread(state);
    std::string result = "main interpreter: report failed";
    {
        py::Object globals = py::Object::steal(PyDict_New());
        py::Object ran = py::Object::steal(
            globals ? PyRun_String(report_source, Py_file_input, globals.get(), globals.get())
                    : nullptr);
        py::Object text = py::Object::steal(
            ran ? PyRun_String("report()", Py_eval_input, globals.get(), globals.get()) : nullptr);
        if (const char* utf8 = text ? PyUnicode_AsUTF8(text.get()) : nullptr) result = utf8;
        else PyErr_Print();
    }
    PyThreadState_Clear(state);
    PyThreadState_DeleteCurrent();
    return result;
}

int report(int argc, char** argv) {
    Runtime::Options options;
    for (int k = 2; k < argc; ++k) {
        if (std::strcmp(argv[k], "--sys-path") == 0 && k + 1 < argc) options.sys_path.push_back(argv[++k]);
        else if (std::strcmp(argv[k], "--venv") == 0 && k + 1 < argc) options.venv = argv[++k];
        else if (std::strcmp(argv[k], "--use-pythonpath") == 0) options.use_pythonpath = true;
        else {
            std::printf("FAIL unknown argument %s\n", argv[k]);
            return 2;
        }
    }
    std::optional<Runtime> runtime;
    try {
        runtime.emplace(options);
    } catch (const UsageError& e) {
        std::printf("error %s\n", e.what());
        Runtime retry;
        std::printf("retry ok\n");
        return 0;
    }
    std::printf("main %s\n", report_from_main().c_str());
    {
        Interpreter in;
        in.exec(report_source);
        std::printf("interpreter %s\n", std::string(in.call("__main__:report").as_str()).c_str());
    }
    InterpreterPoolExecutor::Options pool_options;
    pool_options.workers = 1;
    pool_options.init_source = report_source;
    InterpreterPoolExecutor pool(pool_options);
    std::printf("worker %s\n", std::string(pool.submit("__main__:report").get().as_str()).c_str());
    return 0;
}

template <class F> bool cancelled(const F& future) {
    try {
        future.get();
        return false;
    } catch (const CancelledError&) {
        return true;
    }
}

int pool_outlives_runtime() {
    // The mistake: the pool (here a std::optional of one) declared before the Runtime, so the
    // Runtime is destroyed first. It must say so and shut the pool down, not hang.
    std::optional<InterpreterPoolExecutor> pool;
    std::optional<Future<void>> running;
    std::optional<Future<void>> queued;
    {
        Runtime runtime;
        InterpreterPoolExecutor::Options options;
        options.workers = 1;
        pool.emplace(options);
        running = pool->submit_source("import time\nwhile True: time.sleep(0.001)");
        queued = pool->submit_source("never = 1");
        // The first task is running once the only worker took it.
        while (pool->stats().queue_depth != 1) std::this_thread::yield();
        std::fflush(stdout);
    }
    expect(cancelled(*running), "the running task was cancelled");
    expect(cancelled(*queued), "the queued task was cancelled");
    try {
        pool->submit_source("x = 1");
        expect(false, "a submit after the Runtime ended is refused");
    } catch (const UsageError& e) {
        expect(true, "a submit after the Runtime ended is refused");
    }
    pool.reset();
    expect(true, "the pool was destroyed after the Runtime");
    return probe_status();
}

} // namespace

int main(int argc, char** argv) {
    if (argc >= 2 && std::strcmp(argv[1], "report") == 0) return report(argc, argv);
    if (argc == 2 && std::strcmp(argv[1], "pool-outlives-runtime") == 0) return pool_outlives_runtime();
    std::fprintf(stderr, "usage: runtime_probe report [--sys-path DIR] [--venv DIR] "
                         "[--use-pythonpath] | runtime_probe pool-outlives-runtime\n");
    return 2;
}
