// executor_bench: isolates' InterpreterPoolExecutor beside CPython's ThreadPoolExecutor and
// ProcessPoolExecutor (and InterpreterPoolExecutor on 3.14+) of the same Python, in one run.
//
//   trivial tasks/s   submit N trivial Python calls, then wait for every result (2 workers)
//   CPU speedup 2w    wall time of 4 count(C) tasks on 1 worker / on 2 workers
//   sha256 speedup 2w the same for 4 tasks of H hashlib.sha256 digests of a short message
//   interp.create_ms  constructing one Interpreter on a fresh thread
//   pool.startup_ms   constructing a 2-worker pool until a task has run on every worker
//   map speedup 2w    map of a ~2 us function over 10^5 ints on 2 workers in chunks, against one
//                     interpreter's own list(map(f, items)) (alternating runs)
//   map items/s       map of a trivial function over 10^6 ints in chunks, against
//                     ProcessPoolExecutor.map with the same chunksize (alternating runs)
//
// Every figure is the median of repeated runs. The CPython references run as a subprocess
// (bench/executor/reference.py through --python). When ISOLATES_FREETHREADED_PYTHON names a
// free-threaded CPython (run.sh bench sets it when it finds one), plain threads of one
// free-threaded interpreter are measured the same way ("freethreaded_threads"). Table on stdout,
// progress on stderr.
//
// usage: executor_bench --json FILE --python PYTHON_EXE [--quick|--smoke]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "bench/bench_figures.h"
#include <isolates.h>

#ifndef ISOLATES_BENCH_DIR
#error "ISOLATES_BENCH_DIR must name bench/executor"
#endif

namespace {

using namespace isolates::bench;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

template <class F> double median_of(int repeat, F&& run) {
    std::vector<double> runs;
    for (int r = 0; r < repeat; ++r) runs.push_back(run());
    return median(runs);
}

void progress(const std::string& what) { std::fprintf(stderr, "  %s\n", what.c_str()); }

// The very functions the CPython references run (bench/executor/reference.py), so both sides
// execute the same Python code.
constexpr const char* task_source = "from reference import noop, count, hash_many";

isolates::InterpreterPoolExecutor::Options pool_options(std::size_t workers) {
    isolates::InterpreterPoolExecutor::Options options;
    options.workers = workers;
    options.sys_path = {ISOLATES_BENCH_DIR};
    options.init_source = task_source;
    return options;
}

double interpreter_create_ms() {
    double ms = 0;
    std::thread([&] {
        const auto start = Clock::now();
        isolates::Interpreter in;
        ms = seconds_since(start) * 1e3;
    }).join();
    return ms;
}

double pool_startup_ms(std::size_t workers) {
    // No initializer: start-up of the pool itself, comparable with one bare interpreter.
    isolates::InterpreterPoolExecutor::Options options;
    options.workers = workers;
    const auto start = Clock::now();
    isolates::InterpreterPoolExecutor pool(options);
    std::vector<isolates::Future<isolates::Value>> first;
    for (std::size_t k = 0; k < workers; ++k) first.push_back(pool.submit_to(k, "builtins:int"));
    for (auto& f : first) f.get();
    const double ms = seconds_since(start) * 1e3;
    return ms; // the pool's destruction is not part of start-up
}

double trivial_rate(isolates::InterpreterPoolExecutor& pool, int tasks) {
    std::vector<isolates::Future<isolates::Value>> futures;
    futures.reserve(tasks);
    const auto start = Clock::now();
    for (int k = 0; k < tasks; ++k) futures.push_back(pool.submit("__main__:noop"));
    for (auto& f : futures) f.get();
    return tasks / seconds_since(start);
}

double cpu_seconds(isolates::InterpreterPoolExecutor& pool, const char* target, long long n) {
    std::vector<isolates::Future<isolates::Value>> futures;
    const auto start = Clock::now();
    for (int k = 0; k < 4; ++k) futures.push_back(pool.submit(target, n));
    for (auto& f : futures) f.get();
    return seconds_since(start);
}

std::string run_reference(const std::string& python, int tasks, long long count, long hashes,
                          int repeat, bool freethreaded) {
    return run_command("'" + python + "' '" ISOLATES_BENCH_DIR "/reference.py' --tasks " +
                          std::to_string(tasks) + " --count " + std::to_string(count) +
                          " --hashes " + std::to_string(hashes) + " --repeat " +
                          std::to_string(repeat) + (freethreaded ? " --freethreaded" : ""));
}

// --- map (issue 12) ----------------------------------------------------------------------------

/// The map workloads' sizes; --smoke shrinks them, the other modes measure them whole.
struct MapSizes {
    int work_items = 100'000; ///< of reference.work, about 2 us each
    std::size_t work_chunksize = 1'000;
    int trivial_items = 1'000'000; ///< of reference.ident
    std::size_t trivial_chunksize = 10'000;
};
constexpr MapSizes smoke_map_sizes{1'000, 100, 10'000, 1'000};

isolates::InterpreterPoolExecutor::Options map_pool_options(std::size_t workers) {
    isolates::InterpreterPoolExecutor::Options options;
    options.workers = workers;
    options.sys_path = {ISOLATES_BENCH_DIR};
    options.init_source = "from reference import work, ident, list_map_seconds";
    return options;
}

/// Wall time of pool.map(target, items) in chunks, from the call until the results are out.
double map_seconds(isolates::InterpreterPoolExecutor& pool, const char* target,
                   const std::vector<int>& items, std::size_t chunksize) {
    isolates::MapOptions options;
    options.chunksize = chunksize;
    const auto start = Clock::now();
    const std::vector<isolates::Value> results = pool.map(target, items, options).get();
    const double seconds = seconds_since(start);
    if (results.size() != items.size()) throw std::runtime_error("map lost results");
    return seconds;
}

/// One timed ProcessPoolExecutor.map run of reference.py (its own process, pool warmed first).
double processpool_map_rate(const std::string& python, const MapSizes& sizes) {
    const std::string out =
        run_command("'" + python + "' '" ISOLATES_BENCH_DIR "/reference.py' --map-items " +
                       std::to_string(sizes.trivial_items) + " --map-chunksize " +
                       std::to_string(sizes.trivial_chunksize));
    return parse_flat_json(out).at("map_items_per_s.processpool");
}

/// The map figures, every run alternating: one interpreter's list(map(work)), the pool's map of
/// work on 2 workers, the pool's map of ident, ProcessPoolExecutor's map of ident.
void measure_map(std::map<std::string, double>& figures, const std::string& python, int repeat,
                 const MapSizes& sizes) {
    isolates::InterpreterPoolExecutor one(map_pool_options(1));
    isolates::InterpreterPoolExecutor two(map_pool_options(2));
    std::vector<int> work_items(sizes.work_items), trivial_items(sizes.trivial_items);
    for (int k = 0; k < sizes.work_items; ++k) work_items[k] = k;
    for (int k = 0; k < sizes.trivial_items; ++k) trivial_items[k] = k;
    // Warm-up: both pools started, the functions run once.
    one.submit("__main__:list_map_seconds", 1000).get();
    map_seconds(two, "__main__:work", work_items, sizes.work_chunksize);
    map_seconds(two, "__main__:ident", trivial_items, sizes.trivial_chunksize);
    std::vector<double> list_map, pool_map, rate, processpool;
    for (int r = 0; r < repeat; ++r) {
        list_map.push_back(one.submit("__main__:list_map_seconds", sizes.work_items).get().as_double());
        pool_map.push_back(map_seconds(two, "__main__:work", work_items, sizes.work_chunksize));
        rate.push_back(sizes.trivial_items /
                       map_seconds(two, "__main__:ident", trivial_items, sizes.trivial_chunksize));
        processpool.push_back(processpool_map_rate(python, sizes));
    }
    figures["executor.map_s_list_map.isolates"] = median(list_map);
    figures["executor.map_s_2w.isolates"] = median(pool_map);
    figures["executor.map_speedup_2w.isolates"] = median(list_map) / median(pool_map);
    figures["executor.map_items_per_s.isolates"] = median(rate);
    figures["executor.map_items_per_s.processpool"] = median(processpool);
}

void print_map(std::map<std::string, double>& figures, int repeat, const MapSizes& sizes) {
    std::printf("\nmap on 2 workers, median of %d alternating runs\n", repeat);
    std::printf("  %d items of a ~2 us function, chunksize %zu: one interpreter's list(map) %.3fs, "
                "isolates map %.3fs, %.2fx\n",
                sizes.work_items, sizes.work_chunksize, figures["executor.map_s_list_map.isolates"],
                figures["executor.map_s_2w.isolates"], figures["executor.map_speedup_2w.isolates"]);
    std::printf("  %d trivial items, chunksize %zu: isolates %.2f M items/s, ProcessPoolExecutor "
                "%.2f M items/s, %.1fx\n",
                sizes.trivial_items, sizes.trivial_chunksize,
                figures["executor.map_items_per_s.isolates"] / 1e6,
                figures["executor.map_items_per_s.processpool"] / 1e6,
                figures["executor.map_items_per_s.isolates"] /
                    figures["executor.map_items_per_s.processpool"]);
}

} // namespace

int main(int argc, char** argv) {
    const auto line = isolates::bench::parse_command_line(argc, argv);
    if (!line) return 2;
    const std::string json_path = line->json_path;
    const std::string python = line->python;
    if (json_path.empty() || python.empty()) {
        std::fprintf(stderr, "usage: %s --json FILE --python PYTHON_EXE [--quick|--smoke]\n", argv[0]);
        return 2;
    }
    const int repeat = line->sized(7, 3, 1);
    const int tasks = line->sized(40'000, 10'000, 200);
    const long long count = line->sized(5'000'000LL, 1'500'000LL, 10'000LL);
    const long hashes = line->sized(200'000L, 50'000L, 200L);
    const MapSizes map_sizes = line->smoke() ? smoke_map_sizes : MapSizes{};
    const char* freethreaded_python = std::getenv("ISOLATES_FREETHREADED_PYTHON");

    isolates::Runtime runtime;
    std::map<std::string, double> figures;

    progress("interpreter creation and 2-worker pool start-up (alternating)");
    std::vector<double> create, startup;
    for (int r = 0; r < repeat + 2; ++r) {
        create.push_back(interpreter_create_ms());
        startup.push_back(pool_startup_ms(2));
    }
    figures["interp.create_ms"] = median(create);
    figures["pool.startup_ms.2w"] = median(startup);

    progress("isolates: trivial tasks on 2 workers");
    {
        isolates::InterpreterPoolExecutor pool(pool_options(2));
        trivial_rate(pool, tasks / 10); // warm-up
        figures["executor.trivial_tasks_per_s.isolates"] =
            median_of(repeat, [&] { return trivial_rate(pool, tasks); });
    }
    progress("isolates: count and sha256, 1 and 2 workers (alternating, so both see the same "
             "noise)");
    {
        isolates::InterpreterPoolExecutor one(pool_options(1));
        isolates::InterpreterPoolExecutor two(pool_options(2));
        one.wait_until_started();
        two.wait_until_started();
        for (auto [label, target, n] : {std::tuple{"cpu", "__main__:count", count},
                                        std::tuple{"sha256", "__main__:hash_many", (long long)hashes}}) {
            std::vector<double> runs1, runs2;
            for (int r = 0; r < repeat; ++r) {
                runs1.push_back(cpu_seconds(one, target, n));
                runs2.push_back(cpu_seconds(two, target, n));
            }
            const std::string key = std::string("executor.") + label;
            figures[key + "_s_1w.isolates"] = median(runs1);
            figures[key + "_s_2w.isolates"] = median(runs2);
            figures[key + "_speedup_2w.isolates"] = median(runs1) / median(runs2);
        }
    }

    const int map_repeat = line->smoke() ? 1 : std::max(repeat, 5);
    progress("map: one interpreter's list(map), isolates' chunked map and ProcessPoolExecutor.map "
             "(alternating)");
    measure_map(figures, python, map_repeat, map_sizes);

    progress("CPython references through " + python);
    for (const auto& [key, value] :
         parse_flat_json(run_reference(python, tasks, count, hashes, repeat, false)))
        figures["executor." + key] = value;
    if (freethreaded_python && *freethreaded_python) {
        progress(std::string("threads of one free-threaded interpreter through ") +
                 freethreaded_python);
        for (const auto& [key, value] : parse_flat_json(
                 run_reference(freethreaded_python, tasks, count, hashes, repeat, true)))
            figures["executor." + key] = value;
    }

    const std::string version = isolates::Runtime::python_version();
    std::printf("Executors on Python %s, %u cores, median of %d runs%s\n\n", version.c_str(),
                std::thread::hardware_concurrency(), repeat, line->title_note());
    std::printf("%-22s %16s %11s %11s %11s %11s %11s %11s\n", "executor", "trivial tasks/s",
                "count 1w", "count 2w", "speedup", "sha256 1w", "sha256 2w", "speedup");
    for (const char* kind :
         {"isolates", "threadpool", "processpool", "interpreterpool", "freethreaded_threads"}) {
        const std::string k = kind;
        if (!figures.count("executor.trivial_tasks_per_s." + k)) continue;
        std::printf("%-22s %16.0f %10.3fs %10.3fs %10.2fx %10.3fs %10.3fs %10.2fx\n", kind,
                    figures["executor.trivial_tasks_per_s." + k], figures["executor.cpu_s_1w." + k],
                    figures["executor.cpu_s_2w." + k], figures["executor.cpu_speedup_2w." + k],
                    figures["executor.sha256_s_1w." + k], figures["executor.sha256_s_2w." + k],
                    figures["executor.sha256_speedup_2w." + k]);
    }
    if (figures.count("executor.gil_enabled.freethreaded_threads") &&
        figures["executor.gil_enabled.freethreaded_threads"] != 0)
        std::printf("note: the free-threaded interpreter ran with its GIL enabled\n");
    const double isolates_rate = figures["executor.trivial_tasks_per_s.isolates"];
    std::printf("\ntrivial throughput: %.1fx ThreadPoolExecutor, %.1fx ProcessPoolExecutor",
                isolates_rate / figures["executor.trivial_tasks_per_s.threadpool"],
                isolates_rate / figures["executor.trivial_tasks_per_s.processpool"]);
    if (figures.count("executor.trivial_tasks_per_s.interpreterpool"))
        std::printf(", %.1fx CPython's InterpreterPoolExecutor",
                    isolates_rate / figures["executor.trivial_tasks_per_s.interpreterpool"]);
    std::printf("\n");
    std::printf("start-up: interpreter %.1f ms, 2-worker pool (until a task ran on each) %.1f ms "
                "(%.2fx)\n",
                figures["interp.create_ms"], figures["pool.startup_ms.2w"],
                figures["pool.startup_ms.2w"] / figures["interp.create_ms"]);

    print_map(figures, map_repeat, map_sizes);

    if (!write_figures(json_path, figures, version)) {
        std::fprintf(stderr, "cannot write %s\n", json_path.c_str());
        return 1;
    }
    return 0;
}
