#pragma once
// The trivial-task comparison of executor_bench and process_bench, defined once for both sides:
// isolates' round is here, CPython's executors run the same round in
// bench/executor/trivial_tasks.py, with the same functions, counts and warm-up (TrivialTasks).

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <isolates.h>

#include "bench/bench_figures.h"

#ifndef ISOLATES_BENCH_DIR
#error "ISOLATES_BENCH_DIR must name bench/executor"
#endif

namespace isolates::bench {

/// One round of the comparison, the same on both sides: a fresh pool of `workers`;
/// `first_tasks` calls of trivial_tasks.first_task (a 50 ms sleep, so that every worker has
/// started) and `warmup_tasks` calls of trivial_tasks.noop, untimed; then the timed region, from
/// the first of `tasks` submits of noop until the last result is back; the pool's shutdown is
/// outside it too.
struct TrivialTasks {
    long tasks;
    long warmup_tasks;
    int workers;
    int first_tasks;
};

/// Pool options whose workers have trivial_tasks.py's functions (noop, first_task) and `extra`
/// (more Python source run after that import) in __main__.
inline InterpreterPoolExecutor::Options trivial_pool_options(InterpreterPoolExecutor::WorkerKind kind,
                                                             std::size_t workers,
                                                             const std::string& extra = "") {
    InterpreterPoolExecutor::Options options;
    options.workers = workers;
    options.worker_kind = kind;
    options.sys_path = {ISOLATES_BENCH_DIR};
    options.init_source = "from trivial_tasks import noop, first_task\n" + extra;
    return options;
}

/// One round of `spec` on a fresh pool of `kind` workers, its client this C++ thread: tasks/s.
inline double isolates_trivial_round(const TrivialTasks& spec, InterpreterPoolExecutor::WorkerKind kind) {
    using Clock = std::chrono::steady_clock;
    InterpreterPoolExecutor pool(trivial_pool_options(kind, static_cast<std::size_t>(spec.workers)));
    const auto run_all = [&](const char* function, long n) {
        std::vector<Future<Value>> futures;
        futures.reserve(static_cast<std::size_t>(n));
        for (long k = 0; k < n; ++k) futures.push_back(pool.submit(function));
        for (auto& f : futures) f.get();
    };
    run_all("__main__:first_task", spec.first_tasks);
    run_all("__main__:noop", spec.warmup_tasks);
    const auto start = Clock::now();
    run_all("__main__:noop", spec.tasks);
    return static_cast<double>(spec.tasks) / std::chrono::duration<double>(Clock::now() - start).count();
}

/// One round of `spec` on each of CPython's executors `kinds` (comma-separated, as
/// trivial_tasks.py takes them), run by `python`, its client a Python loop: tasks/s by kind
/// (a kind this CPython lacks is left out).
inline std::map<std::string, double> reference_trivial_round(const std::string& python,
                                                             const TrivialTasks& spec,
                                                             const std::string& kinds) {
    return parse_flat_json(run_command(
        "'" + python + "' '" ISOLATES_BENCH_DIR "/trivial_tasks.py' --kinds " + kinds +
        " --tasks " + std::to_string(spec.tasks) + " --warmup " + std::to_string(spec.warmup_tasks) +
        " --workers " + std::to_string(spec.workers) + " --first-tasks " +
        std::to_string(spec.first_tasks)));
}

} // namespace isolates::bench
