// cluster_bench: MpiPoolExecutor on 3 ranks of this machine (the client and 2 serving ranks of 1
// worker each) against mpi4py.futures' MPIPoolExecutor in the same layout, and against isolates'
// local pool of 2 workers: trivial-task throughput and CPU-bound count(C) tasks. Both sides run
// ClusterComparison (the same functions of bench/cluster/cluster_workload.py, the same counts,
// the same warm-up and timed regions), in rounds that alternate the two mpirun jobs; medians and
// their spread.
//
// mpi4py.futures runs on the CPython this bench embeds when it can: ISOLATES_MPI4PY_PATH names a
// directory holding an mpi4py built for it (run.sh bench unpacks Debian sid's there with
// bench/cluster/fetch_mpi4py.sh). When that mpi4py cannot be imported, the bench says why and runs
// Debian's python3-mpi4py on /usr/bin/python3. Every cluster figure carries its side's Python
// version, and each side's time is also given relative to the same work run locally, serially,
// on its own Python (cluster_workload.local_seconds), which cancels the interpreters' versions.
//
// Run as the other benchmarks are (bench/run_all.sh): `cluster_bench --json F --python P
// [--quick|--smoke]`; it starts `mpirun -n 3` of itself (--ranks) and of the mpi4py reference.
// Without a usable mpi4py the reference is skipped, and said so; with --smoke a reference run that
// fails is skipped too (the smoke proves our side runs), otherwise it fails the benchmark.

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bench/bench_figures.h"
#include <isolates/cluster/mpi_pool_executor.h>
#include <isolates/executor/interpreter_pool_executor.h>
#include <isolates/interp/interpreter.h>
#include <isolates/interp/runtime.h>

using namespace isolates;
using Clock = std::chrono::steady_clock;

namespace {

/// Where cluster_workload.py (noop, count, local_seconds: what mpi4py's ranks run too) is.
const std::string workload_dir = std::string(ISOLATES_SOURCE_DIR) + "/bench/cluster";

/// One round of the comparison, the same on both sides (mpi4py_reference.py runs mpi4py's with
/// these numbers): `warmup_tasks` noop tasks one after the other, untimed; `tasks` noop submits,
/// timed from the first until the last result is back; `count_tasks` count(count) tasks through
/// map, timed from the call until its results. Then the same work run locally, serially, on the
/// side's own Python (cluster_workload.local_seconds), untimed by the cluster.
struct ClusterComparison {
    long tasks;
    long count;
    long warmup_tasks;
    int count_tasks;
    /// The numbers as the rank job and mpi4py_reference.py take them.
    std::string args() const {
        return std::to_string(tasks) + " " + std::to_string(warmup_tasks) + " " + std::to_string(count) +
               " " + std::to_string(count_tasks);
    }
};

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
    double cpu_seconds; // wall time of the count tasks
    double own_cpu;     // this process's CPU time over that wall time
};

/// One round of `spec` on `pool`.
Measured measure(InterpreterPoolExecutor& pool, const ClusterComparison& spec) {
    for (long k = 0; k < spec.warmup_tasks; ++k) pool.submit("cluster_workload:noop").get();
    auto start = Clock::now();
    std::vector<Future<Value>> futures;
    futures.reserve(static_cast<std::size_t>(spec.tasks));
    for (long k = 0; k < spec.tasks; ++k) futures.push_back(pool.submit("cluster_workload:noop"));
    for (auto& future : futures) future.get();
    const double rate = static_cast<double>(spec.tasks) / seconds_since(start);
    start = Clock::now();
    const double cpu_before = process_cpu_seconds();
    pool.map("cluster_workload:count", std::vector<long>(static_cast<std::size_t>(spec.count_tasks), spec.count)).get();
    const double wall = seconds_since(start);
    return {rate, wall, (process_cpu_seconds() - cpu_before) / wall};
}

/// One rank of the mpirun job: rank 0 measures the cluster, then the local pool, then the same
/// work run serially in one interpreter, and prints its figures as JSON; the others serve.
int run_rank(int argc, char** argv, const ClusterComparison& spec) {
    MpiEnvironment mpi(argc, argv);
    Runtime runtime;
    MpiPoolExecutor::Options options;
    options.pool.workers = 1;
    options.pool.sys_path = {workload_dir};
    Measured cluster_figures{};
    {
        MpiPoolExecutor cluster(options);
        if (!cluster.is_client()) return 0;
        cluster_figures = measure(cluster.pool(), spec);
    }
    InterpreterPoolExecutor::Options local;
    local.workers = 2;
    local.sys_path = {workload_dir};
    Measured local_figures{};
    {
        InterpreterPoolExecutor pool(local);
        local_figures = measure(pool, spec);
    }
    Interpreter in;
    in.exec("import sys\nsys.path.insert(0, '" + workload_dir + "')\n");
    const Value serial = in.call("cluster_workload:local_seconds", spec.tasks, spec.count, spec.count_tasks);
    std::printf("{\"cluster_rate\": %f, \"cluster_cpu\": %f, \"client_cpu_share\": %f, "
                "\"local_rate\": %f, \"local_cpu\": %f, \"serial_trivial_s\": %.9f, \"serial_count_s\": %f}\n",
                cluster_figures.rate, cluster_figures.cpu_seconds, cluster_figures.own_cpu,
                local_figures.rate, local_figures.cpu_seconds, serial.items()[0].as_double(),
                serial.items()[1].as_double());
    return 0;
}

std::string mpirun() {
    std::string command = "mpirun --oversubscribe -n 3";
    if (geteuid() == 0) command += " --allow-run-as-root";
    return command;
}

/// The mpi4py.futures the reference runs: a Python, what to put on its PYTHONPATH, and what they
/// are ("CPython 3.15.0rc2, mpi4py 4.1.2").
struct Mpi4py {
    std::string python;
    std::string path;
    std::string label;
};

/// `python` with `path` on PYTHONPATH when it imports mpi4py.futures; else std::nullopt and, in
/// `why`, the last line it printed.
std::optional<Mpi4py> probe_mpi4py(const std::string& python, const std::string& path, std::string& why) {
    const std::string env = path.empty() ? "" : "PYTHONPATH='" + path + "' ";
    const auto result = bench::try_command(
        env + "'" + python + "' -c 'import platform, mpi4py, mpi4py.MPI, mpi4py.futures; "
        "print(\"CPython\", platform.python_version() + \", mpi4py\", mpi4py.__version__)' 2>&1");
    std::string out = result.out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    if (result.status == 0) return Mpi4py{python, path, out};
    why = out.substr(out.rfind('\n') == std::string::npos ? 0 : out.rfind('\n') + 1);
    return std::nullopt;
}

} // namespace

int main(int argc, char** argv) {
    if (argc >= 6 && std::string(argv[1]) == "--ranks")
        return run_rank(argc, argv, {.tasks = std::atol(argv[2]), .count = std::atol(argv[4]),
                                     .warmup_tasks = std::atol(argv[3]), .count_tasks = std::atoi(argv[5])});
    const auto line = bench::parse_command_line(argc, argv);
    if (!line) return 2;
    const std::string json_path = line->json_path;
    Runtime runtime; // parses the jobs' JSON
    const int rounds = line->sized(5, 3, 1);
    // The comparison: both sides run exactly this.
    const ClusterComparison spec{.tasks = line->sized(10'000L, 3'000L, 100L),
                                 .count = line->sized(3'000'000L, 1'000'000L, 10'000L),
                                 .warmup_tasks = line->sized(100L, 100L, 10L),
                                 .count_tasks = 4};
    const std::string ours_label = "CPython " + Runtime::python_version() + ", isolates";

    // mpi4py on this bench's CPython when it imports there, else Debian's on its python3.
    std::string why_not_same, why_not_debian;
    const char* sid_path = std::getenv("ISOLATES_MPI4PY_PATH");
    std::optional<Mpi4py> mpi4py;
    if (!line->python.empty() && sid_path && *sid_path)
        mpi4py = probe_mpi4py(line->python, sid_path, why_not_same);
    else
        why_not_same = "no mpi4py built for it given (ISOLATES_MPI4PY_PATH is unset; ./run.sh bench sets it)";
    if (!mpi4py) mpi4py = probe_mpi4py("/usr/bin/python3", "", why_not_debian);
    std::string mpi4py_skipped = mpi4py ? "" : "no mpi4py.futures: on the bench's CPython: " + why_not_same +
                                                   "; on /usr/bin/python3: " + why_not_debian;
    const bool same_python = mpi4py && mpi4py->python == line->python;

    const std::string reference = workload_dir + "/mpi4py_reference.py";
    std::map<std::string, std::vector<double>> runs;
    for (int r = 0; r < rounds; ++r) {
        std::fprintf(stderr, "round %d of %d\n", r + 1, rounds);
        const auto ours = bench::parse_flat_json(
            bench::run_command(mpirun() + " " + argv[0] + " --ranks " + spec.args()));
        for (const auto& [key, value] : ours) runs[key].push_back(value);
        if (!mpi4py) continue;
        std::map<std::string, double> theirs;
        try {
            // mpirun passes PYTHONPATH on to the ranks (-x) only when there is one.
            const std::string env = mpi4py->path.empty() ? "" : "PYTHONPATH='" + mpi4py->path + "' ";
            const std::string pass = mpi4py->path.empty() ? "" : " -x PYTHONPATH";
            theirs = bench::parse_flat_json(bench::run_command(
                env + mpirun() + pass + " '" + mpi4py->python + "' -m mpi4py.futures " + reference + " " +
                spec.args()));
        } catch (const std::exception& e) {
            if (!line->smoke()) throw;
            mpi4py_skipped = std::string("the mpi4py.futures reference failed (") + e.what() + ")";
            mpi4py.reset();
            continue;
        }
        runs["mpi4py_rate"].push_back(theirs.at("trivial_tasks_per_s"));
        runs["mpi4py_cpu"].push_back(theirs.at("count_tasks_s"));
        runs["mpi4py_serial_trivial_s"].push_back(theirs.at("local_trivial_s"));
        runs["mpi4py_serial_count_s"].push_back(theirs.at("local_count_s"));
    }

    // Each side's cluster time over its own serial time: per task, in units of a local call.
    const auto per_round = [&](const std::string& a, const std::string& b, auto f) {
        std::vector<double> out;
        for (std::size_t k = 0; k < runs[a].size(); ++k) out.push_back(f(runs[a][k], runs[b][k]));
        return out;
    };
    const auto cost_in_local_calls = [&](double rate, double serial_s) { return 1.0 / rate / (serial_s / spec.tasks); };
    const auto over_serial = [](double cluster_s, double serial_s) { return cluster_s / serial_s; };

    bench::Figures figures;
    figures.add("cluster.trivial_tasks_per_s.isolates", runs["cluster_rate"]);
    figures.add("cluster.trivial_tasks_per_s.local_pool", runs["local_rate"]);
    figures.add("cluster.count_4_tasks_s.isolates", runs["cluster_cpu"]);
    figures.add("cluster.count_4_tasks_s.local_pool", runs["local_cpu"]);
    figures.add("cluster.client_cpu_share", runs["client_cpu_share"]);
    figures.add_ratio("cluster.cpu_cluster_over_local", "cluster.count_4_tasks_s.local_pool",
                      "cluster.count_4_tasks_s.isolates");
    figures.add("cluster.trivial_cost_in_local_calls.isolates",
                per_round("cluster_rate", "serial_trivial_s", cost_in_local_calls));
    figures.add("cluster.count_over_serial.isolates", per_round("cluster_cpu", "serial_count_s", over_serial));
    for (const char* key : {"cluster.trivial_tasks_per_s.isolates", "cluster.count_4_tasks_s.isolates",
                            "cluster.trivial_cost_in_local_calls.isolates", "cluster.count_over_serial.isolates"})
        figures.note(key, ours_label);
    if (mpi4py) {
        figures.add("cluster.trivial_tasks_per_s.mpi4py", runs["mpi4py_rate"]);
        figures.add("cluster.count_4_tasks_s.mpi4py", runs["mpi4py_cpu"]);
        figures.add("cluster.trivial_cost_in_local_calls.mpi4py",
                    per_round("mpi4py_rate", "mpi4py_serial_trivial_s", cost_in_local_calls));
        figures.add("cluster.count_over_serial.mpi4py", per_round("mpi4py_cpu", "mpi4py_serial_count_s", over_serial));
        figures.add_ratio("cluster.trivial_over_mpi4py", "cluster.trivial_tasks_per_s.isolates",
                          "cluster.trivial_tasks_per_s.mpi4py");
        // The cost of a task in local calls of each side's own Python: the interpreters' speeds cancel.
        figures.add_ratio("cluster.trivial_over_mpi4py_in_local_calls", "cluster.trivial_cost_in_local_calls.mpi4py",
                          "cluster.trivial_cost_in_local_calls.isolates");
        const std::string versions = ours_label + " against " + mpi4py->label +
                                     (same_python ? "" : " (not the same Python: " + why_not_same + ")");
        for (const char* key : {"cluster.trivial_tasks_per_s.mpi4py", "cluster.count_4_tasks_s.mpi4py",
                                "cluster.trivial_cost_in_local_calls.mpi4py", "cluster.count_over_serial.mpi4py"})
            figures.note(key, mpi4py->label);
        figures.note("cluster.trivial_over_mpi4py", versions);
        figures.note("cluster.trivial_over_mpi4py_in_local_calls", versions);
    }

    std::printf("Cluster on this machine: mpirun -n 3 (client + 2 serving ranks x 1 worker), median "
                "(min-max) of %d alternating rounds%s\n",
                rounds, line->title_note());
    std::printf("both sides: %ld noop tasks of warm-up one after the other, then %ld noop tasks timed, then "
                "%d count(%ld) tasks through map timed; and the same work serially on each side's own Python\n\n",
                spec.warmup_tasks, spec.tasks, spec.count_tasks, spec.count);
    std::printf("%-40s %30s %30s %16s\n", "workload", ours_label.c_str(),
                mpi4py ? mpi4py->label.c_str() : "mpi4py: skipped", "local pool");
    const auto cell = [&](const std::string& key, const char* spec_text) {
        if (!figures.has(key)) return std::string("-");
        char text[64];
        std::snprintf(text, sizeof text, spec_text, figures[key]);
        return std::string(text) + " (" + figures.spread_text(key, spec_text) + ")";
    };
    std::printf("%-40s %30s %30s %16s\n", "trivial tasks/s", cell("cluster.trivial_tasks_per_s.isolates", "%.0f").c_str(),
                cell("cluster.trivial_tasks_per_s.mpi4py", "%.0f").c_str(),
                cell("cluster.trivial_tasks_per_s.local_pool", "%.0f").c_str());
    std::printf("%-40s %30s %30s %16s\n", ("count tasks, seconds"), cell("cluster.count_4_tasks_s.isolates", "%.3f").c_str(),
                cell("cluster.count_4_tasks_s.mpi4py", "%.3f").c_str(),
                cell("cluster.count_4_tasks_s.local_pool", "%.3f").c_str());
    std::printf("%-40s %30s %30s\n", "a task's time in local noop() calls", cell("cluster.trivial_cost_in_local_calls.isolates", "%.0f").c_str(),
                cell("cluster.trivial_cost_in_local_calls.mpi4py", "%.0f").c_str());
    std::printf("%-40s %30s %30s\n", "count tasks / the same run serially", cell("cluster.count_over_serial.isolates", "%.2f").c_str(),
                cell("cluster.count_over_serial.mpi4py", "%.2f").c_str());
    if (mpi4py) {
        std::printf("\ntrivial tasks: isolates MPI / mpi4py.futures = %s; in local calls of each side's own "
                    "Python (versions cancelled) %s\n",
                    cell("cluster.trivial_over_mpi4py", "%.1f").c_str(),
                    cell("cluster.trivial_over_mpi4py_in_local_calls", "%.1f").c_str());
        std::printf("Python versions: %s\n", figures.note_of("cluster.trivial_over_mpi4py").c_str());
    } else {
        std::printf("\nreference skipped: %s\n", mpi4py_skipped.c_str());
    }
    std::printf("CPU-bound: cluster (2 ranks x 1 worker) at %.2fx the local 2-worker pool; the "
                "client process used %.1f%% of a core meanwhile\n",
                figures["cluster.cpu_cluster_over_local"], 100 * figures["cluster.client_cpu_share"]);
    if (!json_path.empty() && !bench::write_figures(json_path, figures, Runtime::python_version())) return 1;
    return 0;
}
