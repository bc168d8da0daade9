// cluster_bench: MpiPoolExecutor on 3 ranks of this machine (the client and 2 serving ranks of 1
// worker each) against mpi4py.futures' MPIPoolExecutor on Debian's python3 (python3-mpi4py),
// same layout, and against isolates' local pool of 2 workers: trivial-task throughput (submit N
// calls of a Python noop, then wait for all) and 4 CPU-bound count(C) tasks. Rounds alternate
// the two mpirun jobs; medians are reported.
//
// Run as the other benchmarks are (bench/run_all.sh): `cluster_bench --json F --python P
// [--quick|--smoke]`; it starts `mpirun -n 3` of itself (--ranks) and of the mpi4py reference.
// Without mpi4py the reference is skipped, and said so; with --smoke a reference run that fails
// is skipped too (the smoke proves our side runs), otherwise it fails the benchmark.

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <string>
#include <vector>

#include "bench/bench_figures.h"
#include <isolates/cluster/mpi_pool_executor.h>
#include <isolates/executor/interpreter_pool_executor.h>
#include <isolates/interp/runtime.h>

using namespace isolates;
using Clock = std::chrono::steady_clock;

namespace {

/// Where cluster_workload.py (noop, count: the same functions mpi4py's ranks run) is.
const std::string workload_dir = std::string(ISOLATES_SOURCE_DIR) + "/bench/cluster";

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

/// This process's CPU time (user + system), in seconds.
double process_cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const auto seconds = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

struct Measured {
    double rate;        // trivial tasks per second
    double cpu_seconds; // wall time of 4 count(C) tasks
    double own_cpu;     // this process's CPU time over that wall time
};

/// Trivial tasks per second and the time of 4 count(C) tasks, on `pool`.
Measured measure(InterpreterPoolExecutor& pool, long tasks, long count) {
    for (int k = 0; k < 100; ++k) pool.submit("cluster_workload:noop").get(); // every worker up
    auto start = Clock::now();
    std::vector<Future<Value>> futures;
    futures.reserve(static_cast<std::size_t>(tasks));
    for (long k = 0; k < tasks; ++k) futures.push_back(pool.submit("cluster_workload:noop"));
    for (auto& future : futures) future.get();
    const double rate = static_cast<double>(tasks) / seconds_since(start);
    start = Clock::now();
    const double cpu_before = process_cpu_seconds();
    pool.map("cluster_workload:count", std::vector<long>(4, count)).get();
    const double wall = seconds_since(start);
    return {rate, wall, (process_cpu_seconds() - cpu_before) / wall};
}

/// One rank of the mpirun job: rank 0 measures the cluster, then the local pool, and prints
/// its figures as JSON; the others serve.
int run_rank(int argc, char** argv, long tasks, long count) {
    MpiEnvironment mpi(argc, argv);
    Runtime runtime;
    MpiPoolExecutor::Options options;
    options.pool.workers = 1;
    options.pool.sys_path = {workload_dir};
    Measured cluster_figures{};
    {
        MpiPoolExecutor cluster(options);
        if (!cluster.is_client()) return 0;
        cluster_figures = measure(cluster.pool(), tasks, count);
    }
    InterpreterPoolExecutor::Options local;
    local.workers = 2;
    local.sys_path = {workload_dir};
    InterpreterPoolExecutor pool(local);
    const Measured local_figures = measure(pool, tasks, count);
    std::printf("{\"cluster_rate\": %f, \"cluster_cpu\": %f, \"client_cpu_share\": %f, "
                "\"local_rate\": %f, \"local_cpu\": %f}\n",
                cluster_figures.rate, cluster_figures.cpu_seconds, cluster_figures.own_cpu,
                local_figures.rate, local_figures.cpu_seconds);
    return 0;
}

std::string mpirun() {
    std::string command = "mpirun --oversubscribe -n 3";
    if (geteuid() == 0) command += " --allow-run-as-root";
    return command;
}

} // namespace

int main(int argc, char** argv) {
    if (argc >= 4 && std::string(argv[1]) == "--ranks")
        return run_rank(argc, argv, std::atol(argv[2]), std::atol(argv[3]));
    const auto line = bench::parse_command_line(argc, argv);
    if (!line) return 2;
    const std::string json_path = line->json_path;
    Runtime runtime; // parses the jobs' JSON
    const int rounds = line->sized(5, 3, 1);
    const long tasks = line->sized(50'000L, 20'000L, 200L);
    const long count = line->sized(3'000'000L, 1'000'000L, 10'000L);
    const long mpi4py_tasks = tasks / 10; // it is a rate; mpi4py is far slower per task
    const std::string reference = workload_dir + "/mpi4py_reference.py";
    bool have_mpi4py = std::system("/usr/bin/python3 -c 'import mpi4py.futures' >/dev/null 2>&1") == 0;
    std::string mpi4py_skipped = "mpi4py.futures not found for /usr/bin/python3 (Debian's python3-mpi4py)";
    std::map<std::string, std::vector<double>> runs;
    for (int r = 0; r < rounds; ++r) {
        std::fprintf(stderr, "round %d of %d\n", r + 1, rounds);
        const auto ours = bench::parse_flat_json(bench::run_command(
            mpirun() + " " + argv[0] + " --ranks " + std::to_string(tasks) + " " + std::to_string(count)));
        for (const auto& [key, value] : ours) runs[key].push_back(value);
        if (!have_mpi4py) continue;
        std::map<std::string, double> theirs;
        try {
            theirs = bench::parse_flat_json(bench::run_command(
                mpirun() + " /usr/bin/python3 -m mpi4py.futures " + reference + " " +
                std::to_string(mpi4py_tasks) + " " + std::to_string(count)));
        } catch (const std::exception& e) {
            if (!line->smoke()) throw;
            have_mpi4py = false;
            mpi4py_skipped = std::string("the mpi4py.futures reference failed (") + e.what() + ")";
            continue;
        }
        runs["mpi4py_rate"].push_back(theirs.at("trivial_tasks_per_s"));
        runs["mpi4py_cpu"].push_back(theirs.at("count_4_tasks_s"));
    }
    std::map<std::string, double> figures;
    figures["cluster.trivial_tasks_per_s.isolates"] = bench::median(runs["cluster_rate"]);
    figures["cluster.trivial_tasks_per_s.local_pool"] = bench::median(runs["local_rate"]);
    figures["cluster.count_4_tasks_s.isolates"] = bench::median(runs["cluster_cpu"]);
    figures["cluster.count_4_tasks_s.local_pool"] = bench::median(runs["local_cpu"]);
    figures["cluster.client_cpu_share"] = bench::median(runs["client_cpu_share"]);
    figures["cluster.cpu_cluster_over_local"] =
        figures["cluster.count_4_tasks_s.local_pool"] / figures["cluster.count_4_tasks_s.isolates"];
    std::printf("Cluster on this machine: mpirun -n 3 (client + 2 serving ranks x 1 worker), median of %d rounds%s\n\n",
                rounds, line->title_note());
    std::printf("%-44s %14s %14s %14s\n", "workload", "isolates MPI", "mpi4py", "local pool");
    if (have_mpi4py) {
        figures["cluster.trivial_tasks_per_s.mpi4py"] = bench::median(runs["mpi4py_rate"]);
        figures["cluster.count_4_tasks_s.mpi4py"] = bench::median(runs["mpi4py_cpu"]);
        figures["cluster.trivial_over_mpi4py"] =
            figures["cluster.trivial_tasks_per_s.isolates"] / figures["cluster.trivial_tasks_per_s.mpi4py"];
    }
    const auto mpi4py = [&](const char* key) {
        return figures.count(key) ? figures[key] : 0.0;
    };
    std::printf("%-44s %14.0f %14.0f %14.0f\n", "trivial tasks/s", figures["cluster.trivial_tasks_per_s.isolates"],
                mpi4py("cluster.trivial_tasks_per_s.mpi4py"), figures["cluster.trivial_tasks_per_s.local_pool"]);
    std::printf("%-44s %14.3f %14.3f %14.3f\n", ("4 x count(" + std::to_string(count) + ") seconds").c_str(),
                figures["cluster.count_4_tasks_s.isolates"], mpi4py("cluster.count_4_tasks_s.mpi4py"),
                figures["cluster.count_4_tasks_s.local_pool"]);
    if (have_mpi4py)
        std::printf("\ntrivial tasks: isolates MPI / mpi4py.futures = %.1fx\n", figures["cluster.trivial_over_mpi4py"]);
    else
        std::printf("\nreference skipped: %s\n", mpi4py_skipped.c_str());
    std::printf("CPU-bound: cluster (2 ranks x 1 worker) at %.2fx the local 2-worker pool; the "
                "client process used %.1f%% of a core meanwhile\n",
                figures["cluster.cpu_cluster_over_local"], 100 * figures["cluster.client_cpu_share"]);
    if (!json_path.empty() && !bench::write_figures(json_path, figures, Runtime::python_version())) return 1;
    return 0;
}
