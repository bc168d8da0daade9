// workloads: the three workloads of the articles on Python 3.14's free-threading and
// concurrent.interpreters (a CPU loop, hashlib.sha256 in a loop, CSV rows hashed in chunks through
// executor.map; samples/workloads.py), each run by every model of parallelism this machine has,
// on 1, 2, ... workers, in one table:
//
//   threads                threads of one interpreter sharing its GIL (ThreadPoolExecutor)
//   isolates               isolates' InterpreterPoolExecutor (in this process)
//   interpreterpool        CPython's own InterpreterPoolExecutor (3.14+)
//   freethreaded_threads   threads of one free-threaded interpreter (ThreadPoolExecutor)
//   processpool            ProcessPoolExecutor
//
// Everything but isolates runs as a child process of the given CPython (samples/workloads.py), so
// every model executes the same Python code. Rounds alternate between the models, so all see
// the same noise; the figures are medians over rounds. Speedup = throughput on W workers against
// the same model on 1. Table on stdout, progress on stderr.
//
// usage: workloads [--python PYTHON_EXE] [--freethreaded-python PYTHON_EXE] [--workers 1,2,4]
//                  [--repeat R] [--quick|--smoke] [--json FILE]
// (--python defaults to this program's CPython when it can be found; ISOLATES_FREETHREADED_PYTHON
// stands in for --freethreaded-python.) `./run.sh demo` runs it; `./run.sh bench` runs it as
// bench/workloads/workloads_bench and plots its JSON.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_figures.h" // parse_command_line, median, run_command, write_figures
#include <isolates.h>

#ifndef ISOLATES_SAMPLES_DIR
#error "ISOLATES_SAMPLES_DIR must name samples/"
#endif
#ifndef ISOLATES_DEFAULT_WORKERS
#define ISOLATES_DEFAULT_WORKERS "1,2"
#endif

namespace {

using isolates::bench::median;
using isolates::bench::run_command;
using Clock = std::chrono::steady_clock;

struct Sizes {
    long long count;
    long hashes;
    long rows;
    long chunk;
};

struct Model {
    std::string key;
    std::string label;
    std::string python; ///< empty: isolates' pool in this process
    std::string kind;   ///< workloads.py --model
};

struct Workload {
    std::string key;
    std::string label;
    double units; ///< work per run, for throughput: iterations, hashes, rows
    const char* unit;
};

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

std::vector<int> parse_workers(const std::string& list) {
    std::vector<int> out;
    std::size_t start = 0;
    while (start <= list.size()) {
        const std::size_t end = std::min(list.find(',', start), list.size());
        const int w = std::atoi(list.substr(start, end - start).c_str());
        if (w <= 0) throw std::invalid_argument("--workers expects positive counts like 1,2,4");
        out.push_back(w);
        start = end + 1;
    }
    return out;
}

/// One round of every workload on isolates' pools: seconds[workload][workers].
class IsolatesModel {
public:
    IsolatesModel(const std::vector<int>& workers, const Sizes& sizes, isolates::Interpreter& main)
        : sizes_(sizes) {
        isolates::InterpreterPoolExecutor::Options options;
        options.sys_path = {ISOLATES_SAMPLES_DIR};
        options.init_modules = {"workloads"};
        for (int w : workers) {
            options.workers = w;
            pools_.emplace(w, std::make_unique<isolates::InterpreterPoolExecutor>(options));
        }
        for (auto& [w, pool] : pools_) pool->wait_until_started();
        main.import_module("workloads");
        chunks_ = main.call("workloads:csv_chunks", sizes.rows, sizes.chunk);
        expected_digest_ = main.call("workloads:hash_many", 1);
        expected_first_row_ = main.call("workloads:hash_rows", chunks_[0])[0];
    }

    std::map<std::string, std::map<int, double>> round() {
        std::map<std::string, std::map<int, double>> seconds;
        for (auto& [w, pool] : pools_) {
            seconds["count"][w] = tasks(*pool, "workloads:count", sizes_.count, Value(sizes_.count));
            seconds["sha256"][w] = tasks(*pool, "workloads:hash_many", sizes_.hashes, expected_digest_);
            const auto start = Clock::now();
            std::vector<Value> digests = pool->map("workloads:hash_rows", chunks_.items()).get();
            seconds["csv"][w] = seconds_since(start);
            std::size_t hashed = 0;
            for (const Value& chunk : digests) hashed += chunk.size();
            if (hashed != static_cast<std::size_t>(sizes_.rows) || digests[0][0] != expected_first_row_)
                throw std::runtime_error("csv: wrong digests from the pool");
        }
        return seconds;
    }

private:
    using Value = isolates::Value;

    static double tasks(isolates::InterpreterPoolExecutor& pool, const char* target, long long n,
                        const Value& expected) {
        std::vector<isolates::Future<Value>> futures;
        const auto start = Clock::now();
        for (int k = 0; k < 4; ++k) futures.push_back(pool.submit(target, n));
        for (auto& f : futures)
            if (f.get() != expected) throw std::runtime_error(std::string(target) + ": wrong result");
        return seconds_since(start);
    }

    Sizes sizes_;
    std::map<int, std::unique_ptr<isolates::InterpreterPoolExecutor>> pools_;
    Value chunks_, expected_digest_, expected_first_row_;
};

/// One round of every workload on a model run by samples/workloads.py in a child process.
std::map<std::string, std::map<int, double>> reference_round(const Model& model,
                                                             const std::string& workers,
                                                             const Sizes& sizes,
                                                             isolates::Interpreter& main) {
    const std::string command =
        "'" + model.python + "' '" ISOLATES_SAMPLES_DIR "/workloads.py' --model " + model.kind +
        " --workers " + workers + " --count " + std::to_string(sizes.count) + " --hashes " +
        std::to_string(sizes.hashes) + " --rows " + std::to_string(sizes.rows) + " --chunk " +
        std::to_string(sizes.chunk);
    const isolates::Value parsed = main.call("json:loads", run_command(command));
    std::map<std::string, std::map<int, double>> seconds;
    for (const auto& [workload, by_workers] : parsed.dict_items())
        for (const auto& [w, s] : by_workers.dict_items())
            seconds[std::string(workload.as_str())][std::atoi(std::string(w.as_str()).c_str())] =
                s.as_double();
    return seconds;
}

/// The CPython of this process as a program, when it is where its prefix says.
std::string own_python(isolates::Interpreter& main) {
    const std::string version(main.eval("'%d.%d' % __import__('sys').version_info[:2]").as_str());
    const std::string prefix(main.eval("__import__('sys').base_prefix").as_str());
    for (const std::string& name : {"python" + version, std::string("python3")}) {
        const std::string path = prefix + "/bin/" + name;
        if (std::ifstream(path).good()) return path;
    }
    return {};
}

std::string python_version_of(const std::string& python) {
    std::string v = run_command("'" + python + "' -c 'import sys; print(sys.version.split()[0], "
                                "\"t\" if not getattr(sys, \"_is_gil_enabled\", lambda: 1)() "
                                "else \"\", sep=\"\")'");
    while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
    return v;
}

} // namespace

int main(int argc, char** argv) {
    // The benchmarks' command line (bench/command_line.h), so bench/run_all.sh runs this one as it
    // runs the others, plus this program's own options.
    std::string freethreaded, workers_arg = ISOLATES_DEFAULT_WORKERS, repeat_arg;
    if (const char* env = std::getenv("ISOLATES_FREETHREADED_PYTHON")) freethreaded = env;
    const auto line = isolates::bench::parse_command_line(
        argc, argv,
        {{"--freethreaded-python", &freethreaded}, {"--workers", &workers_arg}, {"--repeat", &repeat_arg}});
    if (!line) return 2;
    std::string python = line->python;
    const std::string json_path = line->json_path;
    std::vector<int> workers;
    try {
        workers = parse_workers(workers_arg);
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 2;
    }
    const int repeat = repeat_arg.empty() ? line->sized(5, 5, 1) : std::atoi(repeat_arg.c_str());
    if (repeat <= 0) {
        std::fprintf(stderr, "--repeat expects a positive count\n");
        return 2;
    }
    const Sizes sizes = line->sized(Sizes{3'000'000, 200'000, 100'000, 1'000},
                                    Sizes{500'000, 50'000, 20'000, 500}, Sizes{10'000, 200, 200, 50});

    isolates::Runtime runtime;
    isolates::Interpreter main_interpreter({.sys_path = {ISOLATES_SAMPLES_DIR}});
    if (python.empty()) python = own_python(main_interpreter);
    const std::string version = isolates::Runtime::python_version();

    std::vector<Model> models;
    if (!python.empty()) models.push_back({"threads", "threads in one interpreter (GIL)", python, "threads"});
    models.push_back({"isolates", "isolates InterpreterPoolExecutor", "", ""});
    if (!python.empty() && main_interpreter.eval("__import__('sys').version_info >= (3, 14)").as_bool())
        models.push_back({"interpreterpool", "CPython InterpreterPoolExecutor", python, "interpreterpool"});
    if (!freethreaded.empty())
        models.push_back({"freethreaded_threads",
                          "threads, free-threaded " + python_version_of(freethreaded), freethreaded,
                          "threads"});
    if (!python.empty()) models.push_back({"processpool", "ProcessPoolExecutor", python, "processpool"});

    const std::vector<Workload> workloads = {
        {"count", "count(" + std::to_string(sizes.count) + ") x 4 tasks", 4.0 * sizes.count, "iterations"},
        {"sha256", "hashlib.sha256(data).hexdigest() x " + std::to_string(sizes.hashes) + " x 4 tasks",
         4.0 * sizes.hashes, "hashes"},
        {"csv", std::to_string(sizes.rows) + " CSV rows hashed, map over chunks of " +
                    std::to_string(sizes.chunk), double(sizes.rows), "rows"},
    };

    std::fprintf(stderr, "starting isolates' pools (%s workers)\n", workers_arg.c_str());
    IsolatesModel isolates_model(workers, sizes, main_interpreter);
    // seconds[model][workload][workers] over rounds
    std::map<std::string, std::map<std::string, std::map<int, std::vector<double>>>> runs;
    for (int r = 0; r < repeat; ++r) {
        for (const Model& model : models) {
            std::fprintf(stderr, "round %d/%d: %s\n", r + 1, repeat, model.label.c_str());
            const auto seconds = model.python.empty()
                                     ? isolates_model.round()
                                     : reference_round(model, workers_arg, sizes, main_interpreter);
            for (const auto& [workload, by_workers] : seconds)
                for (const auto& [w, s] : by_workers) runs[model.key][workload][w].push_back(s);
        }
    }

    std::map<std::string, double> figures;
    std::printf("The articles' three workloads on Python %s, %u cores: median of %d alternating "
                "rounds%s\nspeedup = throughput on N workers / on 1 worker of the same model\n",
                version.c_str(), std::thread::hardware_concurrency(), repeat, line->title_note());
    for (const Workload& workload : workloads) {
        std::printf("\n%s\n%-42s", workload.label.c_str(), "model");
        for (int w : workers) std::printf(" %10s", (std::to_string(w) + (w == 1 ? " worker" : " workers")).c_str());
        for (int w : workers)
            if (w != 1) std::printf(" %10s", ("speedup " + std::to_string(w) + "w").c_str());
        std::printf("\n");
        for (const Model& model : models) {
            auto& by_workers = runs[model.key][workload.key];
            std::printf("%-42s", model.label.c_str());
            for (int w : workers) {
                const double s = median(by_workers[w]);
                figures["workloads." + workload.key + ".s_" + std::to_string(w) + "w." + model.key] = s;
                figures["workloads." + workload.key + ".per_s_" + std::to_string(w) + "w." + model.key] =
                    workload.units / s;
                std::printf(" %9.3fs", s);
            }
            for (int w : workers) {
                if (w == 1 || !by_workers.count(1)) continue;
                const double speedup = median(by_workers[1]) / median(by_workers[w]);
                figures["workloads." + workload.key + ".speedup_" + std::to_string(w) + "w." + model.key] =
                    speedup;
                std::printf(" %9.2fx", speedup);
            }
            std::printf("\n");
        }
    }

    if (!json_path.empty() && !isolates::bench::write_figures(json_path, figures, version, repeat)) {
        std::fprintf(stderr, "cannot write %s\n", json_path.c_str());
        return 1;
    }
    return 0;
}
