// process_bench: isolates' process workers beside CPython's ProcessPoolExecutor, in one run.
//   - start-up and memory per worker: a pool of 2 until each worker answered a first task, for
//     sub-interpreter workers, process workers and ProcessPoolExecutor; memory as the PSS of a
//     worker process (the host's PSS growth per worker for sub-interpreters);
//   - trivial tasks/s on 2 workers: the same rounds on both sides (bench/executor/trivial_tasks.h:
//     the count, the warm-up, a fresh pool each round, the timed region), ours alternating with
//     ProcessPoolExecutor's (bench/executor/trivial_tasks.py);
//   - a shared-memory SharedBuffer round trip host -> worker -> host, 1 KiB and 64 MiB,
//     alternating.
// Medians of the rounds and their spread; a table on stdout, progress on stderr, JSON with --json.
//
// usage: process_bench --json FILE --python PYTHON_EXE [--quick|--smoke]

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <isolates.h>

#include "bench/bench_figures.h"
#include "bench/executor/trivial_tasks.h"

using namespace isolates;
using Clock = std::chrono::steady_clock;

namespace {

/// What the pools run besides trivial_tasks.py's functions.
constexpr const char* ident_source = "def ident(x):\n    return x\n";

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

/// Proportional set size of a process in KiB (its private pages and its share of shared ones).
double pss_kib(long pid) {
    std::ifstream rollup("/proc/" + std::to_string(pid) + "/smaps_rollup");
    for (std::string line; std::getline(rollup, line);)
        if (line.rfind("Pss:", 0) == 0) return std::stod(line.substr(4));
    return 0;
}

struct Startup {
    double seconds;
    double kib_per_worker;
};

/// A pool of 2 from construction until each worker answered first_task.
Startup start_pool(InterpreterPoolExecutor::WorkerKind kind) {
    const bool processes = kind == InterpreterPoolExecutor::WorkerKind::processes;
    const double host_before = pss_kib(::getpid());
    const auto start = Clock::now();
    InterpreterPoolExecutor pool(bench::trivial_pool_options(kind, 2, ident_source));
    std::vector<Future<Value>> first;
    for (std::size_t k = 0; k < 2; ++k) first.push_back(pool.submit_to(k, "__main__:first_task"));
    std::vector<long> pids;
    for (auto& f : first) pids.push_back(static_cast<long>(f.get().as_int64()));
    const double seconds = seconds_since(start);
    double kib = 0;
    if (processes) {
        for (long pid : pids) kib += pss_kib(pid) / 2;
    } else {
        kib = (pss_kib(::getpid()) - host_before) / 2;
    }
    return {seconds, kib};
}

std::string reference(const std::string& python, const std::string& args) {
    return bench::run_command("'" + python + "' '" ISOLATES_BENCH_DIR "/processpool_reference.py' " + args);
}

/// Seconds per round trip of `buffer` through `ident` on the pool's worker (median of `trips`).
double round_trip_seconds(InterpreterPoolExecutor& pool, const SharedBuffer& buffer, int trips) {
    std::vector<double> each;
    for (int k = 0; k < trips; ++k) {
        const auto start = Clock::now();
        const SharedBuffer back = pool.submit("__main__:ident", buffer).get().as<SharedBuffer>();
        each.push_back(seconds_since(start));
        if (back.size() != buffer.size()) throw std::runtime_error("the buffer came back changed");
    }
    return bench::median(each);
}

} // namespace

int main(int argc, char** argv) {
    const auto line = isolates::bench::parse_command_line(argc, argv);
    if (!line) return 2;
    const std::string json_path = line->json_path;
    const std::string python = line->python;
    if (python.empty()) {
        std::fprintf(stderr, "process_bench: --python PYTHON_EXE is required (the reference)\n");
        return 2;
    }
    Runtime runtime;
    const int repeats = line->sized(5, 3, 1);
    // The trivial-task comparison: both sides run exactly this (bench/executor/trivial_tasks.h).
    const bench::TrivialTasks trivial{.tasks = line->sized(10'000L, 2'000L, 50L),
                                      .warmup_tasks = line->sized(1'000L, 200L, 10L),
                                      .workers = 2,
                                      .first_tasks = 4};
    using Kind = InterpreterPoolExecutor::WorkerKind;
    std::map<std::string, std::vector<double>> runs;

    for (int r = 0; r < repeats; ++r) {
        std::fprintf(stderr, "start-up, round %d of %d\n", r + 1, repeats);
        const Startup sub = start_pool(Kind::sub_interpreters);
        const Startup proc = start_pool(Kind::processes);
        const auto ppe = bench::parse_flat_json(reference(python, "--startup"));
        runs["startup_s.sub_interpreters"].push_back(sub.seconds);
        runs["startup_s.processes"].push_back(proc.seconds);
        runs["startup_s.processpool"].push_back(ppe.at("startup_s"));
        runs["worker_kib.sub_interpreters"].push_back(sub.kib_per_worker);
        runs["worker_kib.processes"].push_back(proc.kib_per_worker);
        runs["worker_kib.processpool"].push_back(ppe.at("pss_kib"));
    }
    for (int r = 0; r < repeats; ++r) {
        std::fprintf(stderr, "trivial tasks, round %d of %d\n", r + 1, repeats);
        runs["trivial_tasks_per_s.processes"].push_back(bench::isolates_trivial_round(trivial, Kind::processes));
        runs["trivial_tasks_per_s.processpool"].push_back(
            bench::reference_trivial_round(python, trivial, "processpool").at("processpool"));
    }
    {
        InterpreterPoolExecutor pool(bench::trivial_pool_options(Kind::processes, 1, ident_source));
        const auto small = SharedBuffer::build(1024, [](std::span<std::byte> b) { std::fill(b.begin(), b.end(), std::byte{1}); },
                                               SharedBuffer::Storage::shared_memory);
        const auto large = SharedBuffer::build(64 << 20, [](std::span<std::byte> b) { std::fill(b.begin(), b.end(), std::byte{2}); },
                                               SharedBuffer::Storage::shared_memory);
        const int trips = line->sized(100, 20, 2);
        round_trip_seconds(pool, large, 3); // warm-up: the worker maps it once
        for (int r = 0; r < repeats; ++r) {
            std::fprintf(stderr, "SharedBuffer round trips, round %d of %d\n", r + 1, repeats);
            runs["buffer_round_trip_s.1KiB"].push_back(round_trip_seconds(pool, small, trips));
            runs["buffer_round_trip_s.64MiB"].push_back(round_trip_seconds(pool, large, trips));
        }
    }

    bench::Figures figures;
    for (const auto& [name, values] : runs) figures.add("process." + name, values);
    figures.add_ratio("process.trivial_ratio_to_processpool", "process.trivial_tasks_per_s.processes",
                      "process.trivial_tasks_per_s.processpool");
    figures.add_ratio("process.buffer_64MiB_to_1KiB", "process.buffer_round_trip_s.64MiB",
                      "process.buffer_round_trip_s.1KiB");

    std::printf("Process workers beside ProcessPoolExecutor, Python %s on %u cores, median (min-max) "
                "of %d alternating rounds%s\n\n",
                Runtime::python_version().c_str(), std::thread::hardware_concurrency(), repeats,
                line->title_note());
    std::printf("%-40s %14s %14s\n", "pool of 2 workers", "start-up ms", "KiB/worker");
    for (const auto& [key, label] : {std::pair{"sub_interpreters", "isolates, sub-interpreter workers"},
                                     std::pair{"processes", "isolates, process workers"},
                                     std::pair{"processpool", "ProcessPoolExecutor"}})
        std::printf("%-40s %14.1f %14.0f\n", label, 1000 * figures["process.startup_s." + std::string(key)],
                    figures["process.worker_kib." + std::string(key)]);
    std::printf("\ntrivial tasks on %d workers, each round on a fresh pool: %d first_task calls and %ld "
                "noops of warm-up, then %ld noops timed; the client is C++ for isolates, Python for "
                "ProcessPoolExecutor\n",
                trivial.workers, trivial.first_tasks, trivial.warmup_tasks, trivial.tasks);
    const auto rate_row = [&](const char* label, const std::string& key) {
        std::printf("%-40s %14.0f tasks/s  (%s)\n", label, figures[key], figures.spread_text(key, "%.0f").c_str());
    };
    rate_row("isolates, process workers (C++ client)", "process.trivial_tasks_per_s.processes");
    rate_row("ProcessPoolExecutor (Python client)", "process.trivial_tasks_per_s.processpool");
    std::printf("%-40s %13.1fx   (%s; goal >= 20x)\n", "ratio", figures["process.trivial_ratio_to_processpool"],
                figures.spread_text("process.trivial_ratio_to_processpool", "%.1f").c_str());
    std::printf("\n%-40s %14s\n", "SharedBuffer host -> worker -> host", "us/round trip");
    std::printf("%-40s %14.1f\n", "1 KiB (shared memory)", 1e6 * figures["process.buffer_round_trip_s.1KiB"]);
    std::printf("%-40s %14.1f\n", "64 MiB (shared memory)", 1e6 * figures["process.buffer_round_trip_s.64MiB"]);
    std::printf("%-40s %13.2fx   (goal <= 2x)\n", "64 MiB / 1 KiB", figures["process.buffer_64MiB_to_1KiB"]);
    if (!json_path.empty() && !bench::write_figures(json_path, figures, Runtime::python_version())) {
        std::fprintf(stderr, "cannot write %s\n", json_path.c_str());
        return 1;
    }
    return 0;
}

