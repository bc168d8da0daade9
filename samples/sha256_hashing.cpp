// sha256_hashing: the classic "hash a short message N times per task" benchmark, on 1, 2, 4 and
// 8 tasks: Python threads sharing one interpreter (one GIL: no speedup) against
// InterpreterPoolExecutor (one interpreter and GIL per worker: parallel).
//
// It runs twice: with hashlib.sha256, which CPython backs with OpenSSL 3, and with _sha2.sha256,
// CPython's built-in HACL* implementation. Both scale across the pool's interpreters: each
// interpreter gets its own OpenSSL library context (Interpreter::Options::own_openssl_context,
// on by default), so the EVP_MD object whose reference count every hashlib.sha256() call takes
// and drops is no longer one process-wide object that all workers fight over (see the README's
// Executor section). Turn that option off and the OpenSSL rows stop scaling.
//
// usage: sha256_hashing [--n HASHES_PER_TASK] [--repeat R] [--workers W] [--impl openssl|builtin]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <isolates.h>

namespace {

constexpr const char* hash_source = R"(
import hashlib, threading, time
import _sha2

MESSAGE = b"isolates: the quick brown fox jumps over the lazy dog"
IMPLEMENTATIONS = {"openssl": hashlib.sha256, "builtin": _sha2.sha256}

def hash_many(impl, n):
    sha256 = IMPLEMENTATIONS[impl]
    digest = b""
    for _ in range(n):
        digest = sha256(MESSAGE).digest()
    return digest.hex()

def threads_in_one_interpreter(impl, tasks, n):
    workers = [threading.Thread(target=hash_many, args=(impl, n)) for _ in range(tasks)]
    start = time.perf_counter()
    for w in workers: w.start()
    for w in workers: w.join()
    return time.perf_counter() - start

def describe(impl):
    return repr(IMPLEMENTATIONS[impl])
)";

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

double time_pool(isolates::InterpreterPoolExecutor& pool, const std::string& impl, int tasks, long n) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<isolates::Future<isolates::Value>> futures;
    for (int t = 0; t < tasks; ++t) futures.push_back(pool.submit("__main__:hash_many", impl, n));
    std::string first;
    for (auto& f : futures) {
        const std::string digest(f.get().as_str());
        if (first.empty()) first = digest;
        if (digest != first) throw std::runtime_error("workers disagree on the digest");
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

} // namespace

int main(int argc, char** argv) {
    long n = 1'000'000;
    int repeat = 1;
    std::size_t workers = std::thread::hardware_concurrency();
    std::vector<std::string> impls = {"openssl", "builtin"};
    for (int k = 1; k < argc; ++k) {
        const std::string arg = argv[k];
        if (arg == "--n" && k + 1 < argc) n = std::atol(argv[++k]);
        else if (arg == "--repeat" && k + 1 < argc) repeat = std::atoi(argv[++k]);
        else if (arg == "--workers" && k + 1 < argc) workers = std::atoi(argv[++k]);
        else if (arg == "--impl" && k + 1 < argc) impls = {argv[++k]};
        else {
            std::fprintf(stderr, "usage: %s [--n HASHES_PER_TASK] [--repeat R] [--workers W] "
                                 "[--impl openssl|builtin]\n", argv[0]);
            return 2;
        }
    }
    if (n <= 0 || repeat <= 0 || workers == 0) {
        std::fprintf(stderr, "--n, --repeat and --workers must be positive\n");
        return 2;
    }

    isolates::Runtime runtime;
    isolates::InterpreterPoolExecutor::Options options;
    options.workers = workers;
    options.init_source = hash_source;
    isolates::InterpreterPoolExecutor pool(options);
    isolates::Interpreter shared;
    shared.exec(hash_source);
    pool.wait_until_started();

    std::printf("sha256 of a %zu-byte message, %ld times per task, Python %s, %u cores, "
                "pool of %zu workers, median of %d\n",
                std::string("isolates: the quick brown fox jumps over the lazy dog").size(), n,
                isolates::Runtime::python_version().c_str(), std::thread::hardware_concurrency(),
                workers, repeat);
    for (const auto& impl : impls) {
        std::printf("\n%s: %s\n", impl.c_str(),
                    std::string(shared.call("__main__:describe", impl).as_str()).c_str());
        std::printf("%-30s %6s %10s %14s %9s\n", "mode", "tasks", "wall (s)", "hashes/s",
                    "speedup");
        for (int mode = 0; mode < 2; ++mode) {
            double one = 0;
            for (int tasks : {1, 2, 4, 8}) {
                std::vector<double> runs;
                for (int r = 0; r < repeat; ++r)
                    runs.push_back(mode == 0 ? shared.call("__main__:threads_in_one_interpreter",
                                                           impl, tasks, n).as_double()
                                             : time_pool(pool, impl, tasks, n));
                const double t = median(runs);
                if (tasks == 1) one = t;
                std::printf("%-30s %6d %10.3f %14.0f %8.2fx\n",
                            mode == 0 ? "threads in one interpreter" : "InterpreterPoolExecutor",
                            tasks, t, tasks * n / t, one * tasks / t);
                std::fflush(stdout);
            }
        }
    }
    std::printf("\nspeedup = throughput against 1 task; the ceiling is min(tasks, workers, cores)\n");
    return 0;
}
