// openssl_bench: what one OpenSSL library context per interpreter buys and costs
// (Interpreter::Options::own_openssl_context, on by default).
//
//   sha256 speedup 2w  wall time of 4 tasks of H hashlib.sha256 digests of a short message on a
//                      1-worker pool / on a 2-worker pool: with a context per interpreter ("own"),
//                      sharing OpenSSL's default one ("shared", the option off), and
//                      ProcessPoolExecutor of the same Python (bench/executor/sha256_processpool.py)
//   memory             resident memory of N interpreters that imported hashlib and hashed, with and
//                      without their own context, each measured in a fresh process (this program
//                      run again with --memory-probe), per interpreter, and the difference
//
// The memory probes first; then each round runs the sha256 measurements one after the other
// (own and shared taking turns at going first), so they see the same noise. Figures are medians
// over the rounds. Table on stdout, progress on stderr.
//
// usage: openssl_bench --json FILE --python PYTHON_EXE [--quick|--smoke]

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_figures.h"
#include <isolates.h>

#ifndef ISOLATES_BENCH_DIR
#error "ISOLATES_BENCH_DIR must name bench/executor"
#endif

namespace {

using Clock = std::chrono::steady_clock;

void progress(const std::string& what) { std::fprintf(stderr, "  %s\n", what.c_str()); }

isolates::InterpreterPoolExecutor::Options pool_options(std::size_t workers, bool own) {
    isolates::InterpreterPoolExecutor::Options options;
    options.workers = workers;
    options.own_openssl_context = own;
    options.sys_path = {ISOLATES_BENCH_DIR};
    options.init_source = "from reference import hash_many";
    return options;
}

double sha256_seconds(isolates::InterpreterPoolExecutor& pool, long hashes) {
    std::vector<isolates::Future<isolates::Value>> futures;
    const auto start = Clock::now();
    for (int k = 0; k < 4; ++k) futures.push_back(pool.submit("__main__:hash_many", hashes));
    for (auto& f : futures) f.get();
    return std::chrono::duration<double>(Clock::now() - start).count();
}

double resident_kib() {
    std::ifstream statm("/proc/self/statm");
    long pages = 0, resident = 0;
    statm >> pages >> resident;
    return resident * (sysconf(_SC_PAGESIZE) / 1024.0);
}

/// --memory-probe own|shared N: prints the resident KiB that N more interpreters (all alive at
/// once, each having imported hashlib and hashed) add to a process that already runs one such
/// interpreter. All on this thread: one thread's allocator, so the figure does not move with
/// how many threads' heaps happen to have pages at hand.
int memory_probe(bool own, int interpreters) {
    isolates::Runtime runtime;
    isolates::Interpreter::Options options;
    options.own_openssl_context = own;
    constexpr const char* use_hashlib = "import hashlib\nhashlib.sha256(b'warm').digest()\n";
    std::vector<std::unique_ptr<isolates::Interpreter>> alive;
    const auto make = [&] {
        alive.push_back(std::make_unique<isolates::Interpreter>(options));
        alive.back()->exec(use_hashlib);
    };
    make(); // the imports' shared caches, the default context
    const double before = resident_kib();
    for (int k = 0; k < interpreters; ++k) make();
    std::printf("%.1f\n", resident_kib() - before);
    while (!alive.empty()) alive.pop_back(); // newest first
    return 0;
}

} // namespace

using namespace isolates::bench;

int main(int argc, char** argv) {
    // The memory probe is this program started again; it never sees the common command line.
    if (argc == 4 && std::string(argv[1]) == "--memory-probe")
        return memory_probe(std::string(argv[2]) == "own", std::atoi(argv[3]));
    const auto line = parse_command_line(argc, argv);
    if (!line) return 2;
    const std::string json_path = line->json_path, python = line->python;
    if (json_path.empty() || python.empty()) {
        std::fprintf(stderr, "usage: %s --json FILE --python PYTHON_EXE [--quick|--smoke]\n", argv[0]);
        return 2;
    }
    const int rounds = line->sized(7, 5, 1);
    const long hashes = line->sized(200'000L, 50'000L, 200L);
    const int probe_interpreters = line->smoke() ? 2 : 8;

    isolates::Runtime runtime;
    Figures figures;
    std::map<std::string, std::vector<double>> runs;

    isolates::InterpreterPoolExecutor own1(pool_options(1, true)), own2(pool_options(2, true));
    isolates::InterpreterPoolExecutor shared1(pool_options(1, false)),
        shared2(pool_options(2, false));
    for (auto* pool : {&own1, &own2, &shared1, &shared2}) {
        pool->wait_until_started();
        sha256_seconds(*pool, hashes / 10); // warm-up: _hashlib imported, digests fetched
    }
    const std::string reference = "cd '" ISOLATES_BENCH_DIR "' && '" + python +
                                  "' sha256_processpool.py --repeat 1 --hashes " +
                                  std::to_string(hashes);
    const std::string self = "'" + std::string(argv[0]) + "' --memory-probe ";
    progress("memory: " + std::to_string(rounds) + " probes of " +
             std::to_string(probe_interpreters) + " interpreters each, own and shared");
    for (int r = 0; r < rounds; ++r)
        for (const char* kind : {"own", "shared"})
            runs[std::string("rss_") + kind].push_back(
                std::stod(run_command(self + kind + " " + std::to_string(probe_interpreters))));
    for (int r = 0; r < rounds; ++r) {
        progress("round " + std::to_string(r + 1) + " of " + std::to_string(rounds) +
                 ": sha256 on 1 and 2 worker processes, then on 1 and 2 workers with own and "
                 "shared contexts");
        const auto process = parse_flat_json(run_command(reference));
        runs["processpool_1w"].push_back(process.at("sha256_s_1w.processpool"));
        runs["processpool_2w"].push_back(process.at("sha256_s_2w.processpool"));
        // Let the worker processes' exit settle, and take turns at going first.
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        const bool own_first = r % 2 == 0;
        for (const bool own : {own_first, !own_first}) {
            const std::string k = own ? "own" : "shared";
            runs[k + "_1w"].push_back(sha256_seconds(own ? own1 : shared1, hashes));
            runs[k + "_2w"].push_back(sha256_seconds(own ? own2 : shared2, hashes));
        }
    }

    for (const char* kind : {"own", "shared", "processpool"}) {
        const std::string k = kind;
        figures.add("openssl.sha256_s_1w." + k, runs[k + "_1w"]);
        figures.add("openssl.sha256_s_2w." + k, runs[k + "_2w"]);
        figures.add_ratio("openssl.sha256_speedup_2w." + k, "openssl.sha256_s_1w." + k,
                          "openssl.sha256_s_2w." + k);
    }
    figures.add_ratio("openssl.own_speedup_vs_processpool", "openssl.sha256_speedup_2w.own",
                      "openssl.sha256_speedup_2w.processpool");
    figures.note("openssl.own_speedup_vs_processpool",
                 "pools unlike: ProcessPoolExecutor's are fresh each round, warmed with 4 count(1000) "
                 "calls per worker; isolates' are kept across rounds, warmed once with hash_many(H/10)");
    for (const char* kind : {"own", "shared"}) {
        std::vector<double> per_interpreter;
        for (const double kib : runs[std::string("rss_") + kind])
            per_interpreter.push_back(kib / probe_interpreters);
        figures.add(std::string("openssl.rss_kib_per_interpreter.") + kind, per_interpreter);
    }
    figures.set("openssl.context_kib_per_interpreter",
                figures.at("openssl.rss_kib_per_interpreter.own") -
                    figures.at("openssl.rss_kib_per_interpreter.shared"));

    const std::string version = isolates::Runtime::python_version();
    std::printf("OpenSSL context per interpreter, Python %s, %u cores, median of %d rounds%s\n\n",
                version.c_str(), std::thread::hardware_concurrency(), rounds, line->title_note());
    std::printf("4 tasks of %ld hashlib.sha256 digests  sha256 1w  sha256 2w  speedup\n", hashes);
    for (const auto& [kind, label] :
         {std::pair{"own", "isolates, a context per interpreter"},
          std::pair{"shared", "isolates, OpenSSL's default shared"},
          std::pair{"processpool", "ProcessPoolExecutor"}}) {
        const std::string k = kind;
        std::printf("%-38s %9.3fs %9.3fs %7.2fx\n", label, figures["openssl.sha256_s_1w." + k],
                    figures["openssl.sha256_s_2w." + k], figures["openssl.sha256_speedup_2w." + k]);
    }
    std::printf("\nown context: %.2fx ProcessPoolExecutor's speedup, %.2fx the shared one's\n",
                figures["openssl.own_speedup_vs_processpool"],
                figures["openssl.sha256_speedup_2w.own"] /
                    figures["openssl.sha256_speedup_2w.shared"]);
    std::printf("  (%s)\n", figures.note_of("openssl.own_speedup_vs_processpool").c_str());
    std::printf("resident memory per interpreter that used hashlib (%d at once): %.0f KiB with "
                "its own context, %.0f KiB sharing; the context: %.0f KiB\n",
                probe_interpreters, figures["openssl.rss_kib_per_interpreter.own"],
                figures["openssl.rss_kib_per_interpreter.shared"],
                figures["openssl.context_kib_per_interpreter"]);

    if (!write_figures(json_path, figures, version)) {
        std::fprintf(stderr, "cannot write %s\n", json_path.c_str());
        return 1;
    }
    return 0;
}
