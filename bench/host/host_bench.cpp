// host_bench: calls per second of a trivial host function (HostModule) from a Python loop,
// beside the same loop calling a Python function and a C builtin (abs) in the same interpreter,
// and the same host function defined with release_gil. Runs alternate between the four loops
// so a noisy moment hits all alike; medians of the runs. A table on stdout, progress on stderr,
// flat JSON with --json (bench/bench_figures.h).
//
// usage: host_bench --json FILE --python PYTHON_EXE [--quick|--smoke]
// (--python is accepted for bench/run_all.sh; the reference runs in the embedded interpreter.)

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <isolates.h>

#include "bench/bench_figures.h"

using namespace isolates;

namespace {

const bool registered = [] {
    HostModule("bench_host", "Trivial host functions to time the cost of a call.")
        .def("inc", [](std::int64_t x) { return x + 1; }, "x + 1 with the GIL held.", arg("x"))
        .def("inc_released", [](std::int64_t x) { return x + 1; }, "x + 1 with the GIL released.",
             arg("x"), release_gil)
        .register_module();
    return true;
}();

constexpr const char* loops = R"(
import bench_host
from time import perf_counter

def py_inc(x):
    return x + 1

def calls_per_s(name, n):
    f = {'host': bench_host.inc, 'host_release_gil': bench_host.inc_released,
         'python_function': py_inc, 'builtin_abs': abs}[name]
    t = perf_counter()
    for i in range(n):
        f(i)
    return n / (perf_counter() - t)
)";

} // namespace

int main(int argc, char** argv) {
    const auto line = bench::parse_command_line(argc, argv);
    if (!line) return 2;
    const std::string json_path = line->json_path;
    Runtime runtime;
    const int repeats = line->sized(9, 3, 1);
    const long n = line->sized(2'000'000L, 200'000L, 2'000L);
    const std::vector<std::string> names = {"python_function", "host", "host_release_gil", "builtin_abs"};
    std::map<std::string, std::vector<double>> runs;
    {
        Interpreter in;
        in.exec(loops);
        for (const std::string& name : names) in.call("__main__:calls_per_s", name, n / 10); // warm up
        for (int r = 0; r < repeats; ++r) {
            std::fprintf(stderr, "round %d of %d\n", r + 1, repeats);
            for (const std::string& name : names)
                runs[name].push_back(in.call("__main__:calls_per_s", name, n).as_double());
        }
    }
    bench::Figures figures;
    for (const std::string& name : names) figures.add("host.calls_per_s." + name, runs[name]);
    const double python = figures.at("host.calls_per_s.python_function");
    figures.add_ratio("host.ratio_to_python_function", "host.calls_per_s.host",
                      "host.calls_per_s.python_function");
    figures.add_ratio("host.ratio_to_python_function_release_gil", "host.calls_per_s.host_release_gil",
                      "host.calls_per_s.python_function");

    std::printf("Host function calls from a Python loop, Python %s on %u cores, %ld calls per run, "
                "median of %d alternating runs (measured under load)%s\n\n",
                Runtime::python_version().c_str(), std::thread::hardware_concurrency(), n, repeats,
                line->title_note());
    std::printf("%-44s %14s %14s\n", "callee of f(i)", "calls/s", "vs Python fn");
    const std::pair<const char*, const char*> rows[] = {
        {"python_function", "Python function def f(x): return x + 1"},
        {"host", "host function, GIL held (default)"},
        {"host_release_gil", "host function, release_gil"},
        {"builtin_abs", "C builtin abs"},
    };
    for (const auto& [name, label] : rows) {
        const double rate = figures.at("host.calls_per_s." + std::string(name));
        std::printf("%-44s %14.0f %13.2fx\n", label, rate, rate / python);
    }
    if (!json_path.empty() && !bench::write_figures(json_path, figures, Runtime::python_version())) {
        std::fprintf(stderr, "cannot write %s\n", json_path.c_str());
        return 1;
    }
    return 0;
}
