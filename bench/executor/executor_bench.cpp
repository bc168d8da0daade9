// executor_bench: isolates' InterpreterPoolExecutor beside CPython's ThreadPoolExecutor and
// ProcessPoolExecutor (and InterpreterPoolExecutor on 3.14+) of the same Python, in one run.
// Each comparison is one struct that both sides run (the function, the count, the warm-up, the
// timed region), in rounds that alternate between the sides:
//
//   trivial tasks/s   TrivialTasks (bench/executor/trivial_tasks.h): noop tasks on 2 workers; the
//                     client is C++ for isolates and Python for CPython's executors, so every
//                     figure names its client
//   CPU speedup 2w    CpuTasks: wall time of 4 count(C) tasks on 1 worker / on 2 workers
//   sha256 speedup 2w the same for 4 tasks of H hashlib.sha256 digests of a short message
//   map items/s       MapSizes: map of a trivial function over 10^6 ints in chunks, against
//                     ProcessPoolExecutor.map with the same chunksize
// and isolates alone:
//   interp.create_ms  constructing one Interpreter on a fresh thread
//   pool.startup_ms   constructing a 2-worker pool until a task has run on every worker
//   map speedup 2w    map of a ~2 us function over 10^5 ints on 2 workers in chunks, against one
//                     interpreter's own list(map(f, items))
//
// Figures are medians of the rounds, with their spread (min-max). The CPython references run as
// subprocesses (bench/executor/reference.py and trivial_tasks.py, through --python), one round
// per run. When ISOLATES_FREETHREADED_PYTHON names a free-threaded CPython (run.sh bench sets it
// when it finds one), plain threads of one free-threaded interpreter are measured the same way
// ("freethreaded_threads"). Table on stdout, progress on stderr.
//
// usage: executor_bench --json FILE --python PYTHON_EXE [--quick|--smoke]

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "bench/bench_figures.h"
#include "bench/executor/trivial_tasks.h"
#include <isolates.h>

namespace {

using namespace isolates::bench;
using Clock = std::chrono::steady_clock;
using Kind = isolates::InterpreterPoolExecutor::WorkerKind;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

void progress(const std::string& what) { std::fprintf(stderr, "  %s\n", what.c_str()); }

// --- the CPU-bound comparison ----------------------------------------------------------------

/// One round of the CPU-bound comparison, the same on both sides (reference.py runs the
/// references' round): fresh pools of 1 and 2 workers, each warmed with `warmup_calls_per_worker`
/// count(1000) calls per worker, untimed; then for each workload `tasks` tasks on the 1-worker
/// pool, then on the 2-worker pool, each timed from the first submit until the last result.
struct CpuTasks {
    long long count;             ///< reference.count(count)
    long hashes;                 ///< reference.hash_many(hashes)
    int tasks;                   ///< 4: reference.py's cpu_seconds default
    int warmup_calls_per_worker; ///< 4: reference.py's WARMUP_CALLS_PER_WORKER
};

// The very functions the CPython references run (bench/executor/reference.py).
isolates::InterpreterPoolExecutor::Options reference_pool_options(std::size_t workers,
                                                                  const char* names) {
    isolates::InterpreterPoolExecutor::Options options;
    options.workers = workers;
    options.sys_path = {ISOLATES_BENCH_DIR};
    options.init_source = std::string("from reference import ") + names;
    return options;
}

/// The untimed warm-up of CpuTasks and MapSizes: count(1000) calls, `per_worker` per worker.
void warm(isolates::InterpreterPoolExecutor& pool, int workers, int per_worker) {
    std::vector<isolates::Future<isolates::Value>> futures;
    for (int k = 0; k < workers * per_worker; ++k) futures.push_back(pool.submit("__main__:count", 1000));
    for (auto& f : futures) f.get();
}

double cpu_seconds(isolates::InterpreterPoolExecutor& pool, const char* target, long long n, int tasks) {
    std::vector<isolates::Future<isolates::Value>> futures;
    const auto start = Clock::now();
    for (int k = 0; k < tasks; ++k) futures.push_back(pool.submit(target, n));
    for (auto& f : futures) f.get();
    return seconds_since(start);
}

/// One isolates round of `spec`: {"cpu_s_1w": s, "cpu_s_2w": s, "sha256_s_1w": s, "sha256_s_2w": s}.
std::map<std::string, double> isolates_cpu_round(const CpuTasks& spec) {
    isolates::InterpreterPoolExecutor one(reference_pool_options(1, "count, hash_many"));
    isolates::InterpreterPoolExecutor two(reference_pool_options(2, "count, hash_many"));
    warm(one, 1, spec.warmup_calls_per_worker);
    warm(two, 2, spec.warmup_calls_per_worker);
    std::map<std::string, double> out;
    for (auto [label, target, n] : {std::tuple{"cpu", "__main__:count", spec.count},
                                    std::tuple{"sha256", "__main__:hash_many", (long long)spec.hashes}}) {
        out[std::string(label) + "_s_1w"] = cpu_seconds(one, target, n, spec.tasks);
        out[std::string(label) + "_s_2w"] = cpu_seconds(two, target, n, spec.tasks);
    }
    return out;
}

/// One round of `spec` on CPython's executors run by `python`: "cpu_s_1w.KIND", ... by kind.
std::map<std::string, double> reference_cpu_round(const std::string& python, const CpuTasks& spec,
                                                  bool freethreaded) {
    return parse_flat_json(run_command("'" + python + "' '" ISOLATES_BENCH_DIR "/reference.py' --count " +
                                       std::to_string(spec.count) + " --hashes " +
                                       std::to_string(spec.hashes) + (freethreaded ? " --freethreaded" : "")));
}

// --- isolates alone: start-up -------------------------------------------------------------------

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
    return seconds_since(start) * 1e3; // the pool's destruction is not part of start-up
}

// --- map ------------------------------------------------------------------------------------------

/// The map workloads' sizes; --smoke shrinks them, the other modes measure them whole. The
/// trivial map is a comparison: each round, on both sides, a fresh 2-worker pool warmed as
/// CpuTasks warms (4 count(1000) calls per worker), then one timed map of reference.ident over
/// `trivial_items` ints in chunks of `trivial_chunksize` (reference.py --map-items runs theirs).
struct MapSizes {
    int work_items = 100'000; ///< of reference.work, about 2 us each
    std::size_t work_chunksize = 1'000;
    int trivial_items = 1'000'000; ///< of reference.ident
    std::size_t trivial_chunksize = 10'000;
    int warmup_calls_per_worker = 4; ///< reference.py's WARMUP_CALLS_PER_WORKER
};
constexpr MapSizes smoke_map_sizes{.work_items = 1'000,
                                   .work_chunksize = 100,
                                   .trivial_items = 10'000,
                                   .trivial_chunksize = 1'000,
                                   .warmup_calls_per_worker = 4};

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

/// One round of the trivial map on a fresh pool (MapSizes): items/s.
double isolates_map_rate(const MapSizes& sizes, const std::vector<int>& items) {
    isolates::InterpreterPoolExecutor pool(reference_pool_options(2, "ident, count"));
    warm(pool, 2, sizes.warmup_calls_per_worker);
    return sizes.trivial_items / map_seconds(pool, "__main__:ident", items, sizes.trivial_chunksize);
}

/// One round of ProcessPoolExecutor.map by reference.py (its own process, the same protocol).
double processpool_map_rate(const std::string& python, const MapSizes& sizes) {
    const std::string out =
        run_command("'" + python + "' '" ISOLATES_BENCH_DIR "/reference.py' --map-items " +
                    std::to_string(sizes.trivial_items) + " --map-chunksize " +
                    std::to_string(sizes.trivial_chunksize));
    return parse_flat_json(out).at("map_items_per_s.processpool");
}

/// The map figures, every round alternating: one interpreter's list(map(work)) and the pool's
/// map of work on 2 workers (isolates alone, pools kept across rounds), then the trivial map's
/// comparison, ours and ProcessPoolExecutor's.
void measure_map(Figures& figures, const std::string& python, int rounds, const MapSizes& sizes) {
    isolates::InterpreterPoolExecutor one(reference_pool_options(1, "work, list_map_seconds"));
    isolates::InterpreterPoolExecutor two(reference_pool_options(2, "work"));
    std::vector<int> work_items(sizes.work_items), trivial_items(sizes.trivial_items);
    for (int k = 0; k < sizes.work_items; ++k) work_items[k] = k;
    for (int k = 0; k < sizes.trivial_items; ++k) trivial_items[k] = k;
    // Warm-up of the kept pools: both started, the function run once.
    one.submit("__main__:list_map_seconds", 1000).get();
    map_seconds(two, "__main__:work", work_items, sizes.work_chunksize);
    add_interleaved(figures, rounds, {
        {"executor.map_s_list_map.isolates",
         [&] { return one.submit("__main__:list_map_seconds", sizes.work_items).get().as_double(); }},
        {"executor.map_s_2w.isolates",
         [&] { return map_seconds(two, "__main__:work", work_items, sizes.work_chunksize); }},
        {"executor.map_items_per_s.isolates", [&] { return isolates_map_rate(sizes, trivial_items); }},
        {"executor.map_items_per_s.processpool", [&] { return processpool_map_rate(python, sizes); }},
    });
    figures.add_ratio("executor.map_speedup_2w.isolates", "executor.map_s_list_map.isolates",
                      "executor.map_s_2w.isolates");
    figures.add_ratio("executor.map_over_processpool", "executor.map_items_per_s.isolates",
                      "executor.map_items_per_s.processpool");
}

void print_map(const Figures& figures, int rounds, const MapSizes& sizes) {
    std::printf("\nmap on 2 workers, median (min-max) of %d alternating rounds\n", rounds);
    std::printf("  %d items of a ~2 us function, chunksize %zu: one interpreter's list(map) %.3fs, "
                "isolates map %.3fs, %.2fx (%s)\n",
                sizes.work_items, sizes.work_chunksize, figures["executor.map_s_list_map.isolates"],
                figures["executor.map_s_2w.isolates"], figures["executor.map_speedup_2w.isolates"],
                figures.spread_text("executor.map_speedup_2w.isolates", "%.2f").c_str());
    std::printf("  %d trivial items, chunksize %zu, a fresh pool each round: isolates %.2f M items/s, "
                "ProcessPoolExecutor %.2f M items/s, %.1fx (%s)\n",
                sizes.trivial_items, sizes.trivial_chunksize,
                figures["executor.map_items_per_s.isolates"] / 1e6,
                figures["executor.map_items_per_s.processpool"] / 1e6,
                figures["executor.map_over_processpool"],
                figures.spread_text("executor.map_over_processpool", "%.1f").c_str());
}

/// Which side drives the submit loop of a trivial-task figure: its client language.
const char* client_of(const std::string& kind) {
    return kind == "isolates" ? "C++" : "Python";
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
    const int rounds = line->sized(5, 3, 1);
    // The comparisons: each side runs exactly these.
    const TrivialTasks trivial{.tasks = line->sized(10'000L, 2'000L, 100L),
                               .warmup_tasks = line->sized(1'000L, 200L, 10L),
                               .workers = 2,
                               .first_tasks = 4};
    const CpuTasks cpu{.count = line->sized(5'000'000LL, 1'500'000LL, 10'000LL),
                       .hashes = line->sized(200'000L, 50'000L, 200L),
                       .tasks = 4,
                       .warmup_calls_per_worker = 4};
    const MapSizes map_sizes = line->smoke() ? smoke_map_sizes : MapSizes{};
    const char* freethreaded_env = std::getenv("ISOLATES_FREETHREADED_PYTHON");
    const std::string freethreaded = freethreaded_env ? freethreaded_env : "";

    isolates::Runtime runtime;
    Figures figures;

    progress("interpreter creation and 2-worker pool start-up (alternating)");
    add_interleaved(figures, rounds, {{"interp.create_ms", [] { return interpreter_create_ms(); }},
                                      {"pool.startup_ms.2w", [] { return pool_startup_ms(2); }}});

    progress("trivial tasks: isolates, then CPython's executors, each round");
    std::map<std::string, std::vector<double>> runs;
    for (int r = 0; r < rounds; ++r) {
        runs["isolates"].push_back(isolates_trivial_round(trivial, Kind::sub_interpreters));
        for (const auto& [kind, rate] :
             reference_trivial_round(python, trivial, "threadpool,processpool,interpreterpool"))
            runs[kind].push_back(rate);
        if (!freethreaded.empty())
            for (const auto& [kind, rate] : reference_trivial_round(freethreaded, trivial, "freethreaded_threads"))
                runs[kind].push_back(rate);
    }
    figures.add("executor.trivial_tasks_per_s.isolates", runs.at("isolates"));
    figures.note("executor.trivial_tasks_per_s.isolates",
                 "client: C++ (a loop of InterpreterPoolExecutor::submit)");
    for (const auto& [kind, samples] : runs) {
        if (kind == "isolates") continue;
        if (kind == "gil_enabled") {
            figures.set("executor.gil_enabled.freethreaded_threads", median(samples));
            continue;
        }
        const std::string key = "executor.trivial_tasks_per_s." + kind;
        figures.add(key, samples);
        figures.note(key, "client: Python (a loop of Executor.submit making concurrent.futures Futures)");
        const std::string ratio = "executor.trivial_over_" + kind;
        figures.add_ratio(ratio, "executor.trivial_tasks_per_s.isolates", key);
        figures.note(ratio, "clients differ: C++ for isolates, Python for " + kind +
                                "; the ratio measures the client language too");
    }

    progress("count and sha256 on 1 and 2 workers: isolates, then CPython's executors, each round");
    std::map<std::string, std::vector<double>> cpu_runs;
    for (int r = 0; r < rounds; ++r) {
        for (const auto& [key, seconds] : isolates_cpu_round(cpu)) cpu_runs[key + ".isolates"].push_back(seconds);
        for (const auto& [key, seconds] : reference_cpu_round(python, cpu, false)) cpu_runs[key].push_back(seconds);
        if (!freethreaded.empty())
            for (const auto& [key, value] : reference_cpu_round(freethreaded, cpu, true))
                if (key.rfind("gil_enabled", 0) != 0) cpu_runs[key].push_back(value);
    }
    for (const auto& [key, samples] : cpu_runs) figures.add("executor." + key, samples);
    for (const std::string& kind : {std::string("isolates"), std::string("threadpool"),
                                    std::string("processpool"), std::string("interpreterpool"),
                                    std::string("freethreaded_threads")})
        for (const char* label : {"cpu", "sha256"})
            if (figures.has(std::string("executor.") + label + "_s_1w." + kind))
                figures.add_ratio(std::string("executor.") + label + "_speedup_2w." + kind,
                                  std::string("executor.") + label + "_s_1w." + kind,
                                  std::string("executor.") + label + "_s_2w." + kind);

    const int map_rounds = line->smoke() ? 1 : std::max(rounds, 5);
    progress("map: one interpreter's list(map), isolates' chunked map and ProcessPoolExecutor.map "
             "(alternating)");
    measure_map(figures, python, map_rounds, map_sizes);

    const std::string version = isolates::Runtime::python_version();
    std::printf("Executors on Python %s, %u cores, median (min-max) of %d alternating rounds%s\n\n",
                version.c_str(), std::thread::hardware_concurrency(), rounds, line->title_note());
    std::printf("trivial tasks on %d workers, each round on a fresh pool: %d first_task calls and %ld "
                "noops of warm-up, then %ld noops timed\n",
                trivial.workers, trivial.first_tasks, trivial.warmup_tasks, trivial.tasks);
    std::printf("%-22s %-7s %14s %22s %14s\n", "executor", "client", "tasks/s", "(min-max)", "isolates/it");
    for (const std::string kind :
         {"isolates", "threadpool", "processpool", "interpreterpool", "freethreaded_threads"}) {
        const std::string key = "executor.trivial_tasks_per_s." + kind;
        if (!figures.has(key)) continue;
        const std::string ratio = "executor.trivial_over_" + kind;
        char ratio_text[32] = "-";
        if (figures.has(ratio)) std::snprintf(ratio_text, sizeof ratio_text, "%.1fx", figures[ratio]);
        std::printf("%-22s %-7s %14.0f %22s %14s\n", kind.c_str(), client_of(kind), figures[key],
                    ("(" + figures.spread_text(key, "%.0f") + ")").c_str(), ratio_text);
    }
    std::printf("(the clients differ: a C++ submit loop for isolates, a Python one for the others; "
                "the ratios measure the client language too)\n");

    std::printf("\n%d tasks of count(%lld) and of hash_many(%ld) on fresh pools of 1 and 2 workers, "
                "each warmed with %d count(1000) calls per worker\n",
                cpu.tasks, cpu.count, cpu.hashes, cpu.warmup_calls_per_worker);
    std::printf("%-22s %11s %11s %16s %11s %11s %16s\n", "executor", "count 1w", "count 2w",
                "speedup (spread)", "sha256 1w", "sha256 2w", "speedup (spread)");
    for (const std::string kind :
         {"isolates", "threadpool", "processpool", "interpreterpool", "freethreaded_threads"}) {
        if (!figures.has("executor.cpu_s_1w." + kind)) continue;
        std::printf("%-22s", kind.c_str());
        for (const char* label : {"cpu", "sha256"}) {
            const std::string k = std::string("executor.") + label;
            std::printf(" %10.3fs %10.3fs %6.2fx %9s", figures[k + "_s_1w." + kind], figures[k + "_s_2w." + kind],
                        figures[k + "_speedup_2w." + kind],
                        ("(" + figures.spread_text(k + "_speedup_2w." + kind, "%.2f") + ")").c_str());
        }
        std::printf("\n");
    }
    if (figures.get("executor.gil_enabled.freethreaded_threads", 0) != 0)
        std::printf("note: the free-threaded interpreter ran with its GIL enabled\n");
    std::printf("\nstart-up: interpreter %.1f ms, 2-worker pool (until a task ran on each) %.1f ms\n",
                figures["interp.create_ms"], figures["pool.startup_ms.2w"]);

    print_map(figures, map_rounds, map_sizes);

    if (!write_figures(json_path, figures, version)) {
        std::fprintf(stderr, "cannot write %s\n", json_path.c_str());
        return 1;
    }
    return 0;
}
