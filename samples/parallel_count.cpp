// parallel_count: the classic CPU-bound loop (count up to N), split over 1, 2 and 4 threads.
//
// First as Python threads inside ONE interpreter, where they share a GIL and take turns; then as
// C++ threads that each own an isolated Interpreter with its own GIL, which run truly in parallel.
// With --freethreaded-python, also as Python threads of one free-threaded interpreter (no GIL at
// all), run by that CPython in a child process. Prints wall times (median of repeated runs) and
// speedups against one thread.
//
// usage: parallel_count [--n COUNT] [--repeat R] [--freethreaded-python PATH]

#include <algorithm>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <isolates.h>

namespace {

constexpr const char* count_source = R"(
def count(n):
    i = 0
    while i < n:
        i += 1
    return i
)";

// Timed inside Python; also run as a program by a free-threaded CPython (no single quotes, so
// it can be passed through the shell).
constexpr const char* threads_source = R"(
import sys, threading, time
def run_threads(threads, n):
    workers = [threading.Thread(target=count, args=(n // threads,)) for _ in range(threads)]
    start = time.perf_counter()
    for w in workers: w.start()
    for w in workers: w.join()
    return time.perf_counter() - start
def main(n, repeat, thread_counts):
    print(int(sys._is_gil_enabled()), sys.version.split()[0])
    for threads in thread_counts:
        runs = sorted(run_threads(threads, n) for _ in range(repeat))
        print(threads, runs[len(runs) // 2], flush=True)
)";

const int thread_counts[] = {1, 2, 4};

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

void print_row(const char* mode, int threads, double seconds, double one) {
    std::printf("%-42s %8d %10.3f %8.2fx\n", mode, threads, seconds, one / seconds);
}

/// Python threads sharing one interpreter's GIL; timed inside Python.
double time_threads_in_one_interpreter(isolates::Interpreter& in, int threads, long long n) {
    return in.call("__main__:run_threads", threads, n).as_double();
}

/// The same threads in a free-threaded CPython (a child process); prints its rows.
bool print_freethreaded_rows(const std::string& python, long long n, int repeat) {
    std::string program = std::string(count_source) + threads_source + "main(" +
                          std::to_string(n) + ", " + std::to_string(repeat) + ", (1, 2, 4))\n";
    FILE* pipe = popen(("'" + python + "' -c '" + program + "'").c_str(), "r");
    if (!pipe) return false;
    int gil_enabled = -1, threads = 0;
    double seconds = 0, one = 0;
    char version[32] = "";
    bool ok = std::fscanf(pipe, "%d %31s", &gil_enabled, version) == 2;
    const char* mode = gil_enabled == 0 ? "threads in one free-threaded interpreter"
                                        : "threads, free-threaded CPython (GIL on!)";
    while (ok && std::fscanf(pipe, "%d %lf", &threads, &seconds) == 2) {
        if (threads == 1) one = seconds;
        print_row(mode, threads, seconds, one);
    }
    if (ok) std::printf("(free-threaded rows: CPython %st, %s)\n", version, python.c_str());
    return pclose(pipe) == 0 && ok && one > 0;
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
    std::string freethreaded_python;
    for (int k = 1; k < argc; ++k) {
        const std::string arg = argv[k];
        if (arg == "--n" && k + 1 < argc) n = std::atoll(argv[++k]);
        else if (arg == "--repeat" && k + 1 < argc) repeat = std::atoi(argv[++k]);
        else if (arg == "--freethreaded-python" && k + 1 < argc) freethreaded_python = argv[++k];
        else {
            std::fprintf(stderr, "usage: %s [--n COUNT] [--repeat R] [--freethreaded-python PATH]\n",
                         argv[0]);
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
    std::printf("%-42s %8s %10s %9s\n", "mode", "threads", "wall (s)", "speedup");

    {
        isolates::Interpreter shared;
        shared.exec(count_source);
        shared.exec(threads_source);
        double one = 0;
        for (int threads : thread_counts) {
            std::vector<double> runs;
            for (int r = 0; r < repeat; ++r)
                runs.push_back(time_threads_in_one_interpreter(shared, threads, n));
            const double t = median(runs);
            if (threads == 1) one = t;
            print_row("threads in one interpreter", threads, t, one);
        }
    }
    double one = 0;
    for (int threads : thread_counts) {
        std::vector<double> runs;
        for (int r = 0; r < repeat; ++r) runs.push_back(time_interpreter_per_thread(threads, n));
        const double t = median(runs);
        if (threads == 1) one = t;
        print_row("one isolates::Interpreter per thread", threads, t, one);
    }
    if (!freethreaded_python.empty() && !print_freethreaded_rows(freethreaded_python, n, repeat)) {
        std::fprintf(stderr, "the free-threaded run through %s failed\n", freethreaded_python.c_str());
        return 1;
    }
    return 0;
}
