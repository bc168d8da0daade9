// parallel_count: the classic CPU-bound loop (count up to N), split over 1, 2 and 4 threads.
//
// First as Python threads inside ONE interpreter, where they share a GIL and take turns; then as
// C++ threads that each own an isolated Interpreter with its own GIL, which run truly in parallel.
// Prints wall times (median of repeated runs) and speedups against one thread.
//
// usage: parallel_count [--n COUNT] [--repeat R]

#include <algorithm>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "isolates.h"

namespace {

constexpr const char* count_source = R"(
def count(n):
    i = 0
    while i < n:
        i += 1
    return i
)";

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

/// Python threads sharing one interpreter's GIL; timed inside Python.
double time_threads_in_one_interpreter(isolates::Interpreter& in, int threads, long long n) {
    in.exec("import threading, time\n"
            "def run_threads(threads, n):\n"
            "    workers = [threading.Thread(target=count, args=(n // threads,))\n"
            "               for _ in range(threads)]\n"
            "    start = time.perf_counter()\n"
            "    for w in workers: w.start()\n"
            "    for w in workers: w.join()\n"
            "    return time.perf_counter() - start\n");
    return in.call("__main__:run_threads", threads, n).as_double();
}

/// C++ threads that each own an Interpreter; timed from the moment all are ready.
double time_interpreter_per_thread(int threads, long long n) {
    using clock = std::chrono::steady_clock;
    std::barrier ready(threads + 1);
    std::barrier finished(threads + 1);
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t)
        workers.emplace_back([&] {
            isolates::Interpreter in;
            in.exec(count_source);
            ready.arrive_and_wait();
            in.call("__main__:count", n / threads);
            finished.arrive_and_wait();
        });
    ready.arrive_and_wait();
    const auto start = clock::now();
    finished.arrive_and_wait();
    const double seconds = std::chrono::duration<double>(clock::now() - start).count();
    for (auto& w : workers) w.join();
    return seconds;
}

} // namespace

int main(int argc, char** argv) {
    long long n = 20'000'000;
    int repeat = 3;
    for (int k = 1; k < argc; ++k) {
        const std::string arg = argv[k];
        if (arg == "--n" && k + 1 < argc) n = std::atoll(argv[++k]);
        else if (arg == "--repeat" && k + 1 < argc) repeat = std::atoi(argv[++k]);
        else {
            std::fprintf(stderr, "usage: %s [--n COUNT] [--repeat R]\n", argv[0]);
            return 2;
        }
    }
    if (n <= 0 || repeat <= 0) {
        std::fprintf(stderr, "--n and --repeat must be positive\n");
        return 2;
    }

    isolates::Runtime runtime;
    std::printf("Counting to %lld with Python %s on %u cores, median of %d runs\n\n", n,
                isolates::Runtime::python_version().c_str(), std::thread::hardware_concurrency(),
                repeat);
    std::printf("%-36s %8s %10s %9s\n", "mode", "threads", "wall (s)", "speedup");

    const int thread_counts[] = {1, 2, 4};
    {
        isolates::Interpreter shared;
        shared.exec(count_source);
        double one = 0;
        for (int threads : thread_counts) {
            std::vector<double> runs;
            for (int r = 0; r < repeat; ++r)
                runs.push_back(time_threads_in_one_interpreter(shared, threads, n));
            const double t = median(runs);
            if (threads == 1) one = t;
            std::printf("%-36s %8d %10.3f %8.2fx\n", "threads in one interpreter", threads, t,
                        one / t);
        }
    }
    double one = 0;
    for (int threads : thread_counts) {
        std::vector<double> runs;
        for (int r = 0; r < repeat; ++r) runs.push_back(time_interpreter_per_thread(threads, n));
        const double t = median(runs);
        if (threads == 1) one = t;
        std::printf("%-36s %8d %10.3f %8.2fx\n", "one isolates::Interpreter per thread", threads, t,
                    one / t);
    }
    return 0;
}
