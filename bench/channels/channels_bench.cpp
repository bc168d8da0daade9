// channels_bench: messages per second and round-trip latency through isolates channels, C++ to
// C++ and Python interpreter to Python interpreter, beside CPython's own cross-interpreter
// queue doing the same Python work (PythonComparison: the same functions of
// bench/channels/channel_workloads.py, the same counts, no warm-up on either side, the same timed
// region; bench/channels/cpython_queue.py runs CPython's side, one round per run, alternating
// with ours); and the time to pass SharedBuffers of growing size. Medians of the rounds with their
// spread; a table on stdout, progress on stderr, JSON with --json.
//
// usage: channels_bench --json FILE --python PYTHON_EXE [--quick|--smoke]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <isolates.h>

#include "bench/bench_figures.h"

using namespace isolates;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

/// A spin barrier for two threads, so both sides start timing together.
class Start {
public:
    void arrive_and_wait() {
        arrived_.fetch_add(1);
        while (arrived_.load() < 2) std::this_thread::yield();
    }

private:
    std::atomic<int> arrived_{0};
};

// --- C++ to C++ ------------------------------------------------------------------------------

template <class Make> double cpp_throughput(std::size_t capacity, long n, Make make) {
    Channel ch(capacity);
    Start start;
    std::thread producer([&] {
        start.arrive_and_wait();
        for (long k = 0; k < n; ++k) ch.send(make(k));
    });
    start.arrive_and_wait();
    const auto t0 = Clock::now();
    for (long k = 0; k < n; ++k) ch.recv();
    const double s = seconds_since(t0);
    producer.join();
    return n / s;
}

double cpp_pingpong_us(long n) {
    Channel ping(1), pong(1);
    std::thread echo([&] {
        for (long k = 0; k < n; ++k) pong.send(ping.recv());
    });
    const auto t0 = Clock::now();
    for (long k = 0; k < n; ++k) {
        ping.send(Value(k));
        pong.recv();
    }
    const double s = seconds_since(t0);
    echo.join();
    return s / n * 1e6;
}

// --- Python interpreter to Python interpreter --------------------------------------------------

/// The Python comparison, the same on both sides (cpython_queue.py runs CPython's round with these
/// numbers): per workload two fresh interpreters, each on a thread of its own, import
/// channel_workloads.py (untimed) and meet at a barrier; the timed region runs from the barrier
/// until both functions have returned: `messages` sends of a payload through one channel of
/// `capacity`, or `round_trips` ping-pongs through two channels of capacity 1. No warm-up.
struct PythonComparison {
    long messages;
    long round_trips;
    std::size_t capacity;
};

/// The payloads of channel_workloads.PRODUCERS.
const char* const payloads[] = {"int", "bytes1k", "tuple10"};

/// What each interpreter runs before the barrier: channel_workloads.py's functions, called with
/// a channel's bound send and recv as CPython's side calls them with a queue's put and get.
std::string workload_setup() {
    return "import sys\nsys.path.insert(0, '" ISOLATES_BENCH_CHANNELS_DIR "')\n"
           "from channel_workloads import *\n"
           "def run_producer(name, ch, n):\n    PRODUCERS[name](ch.send, n)\n"
           "def run_consumer(ch, n):\n    consume(ch.recv, n)\n"
           "def run_ping(ping_ch, pong_ch, n):\n    ping(ping_ch.send, pong_ch.recv, n)\n"
           "def run_pong(ping_ch, pong_ch, n):\n    pong(pong_ch.send, ping_ch.recv, n)\n";
}

/// Runs `a_function(args_a)` in one interpreter and `b_function(args_b)` in another, each on its
/// own thread, after both have run `setup`; returns the seconds from the barrier until both
/// calls have returned.
double run_pair(const std::string& setup, const std::string& function_a, std::vector<Value> args_a,
                const std::string& function_b, std::vector<Value> args_b) {
    Start start;
    std::atomic<long long> b_end_ns{0};
    std::thread other([&] {
        Interpreter in;
        in.exec(setup);
        start.arrive_and_wait();
        in.call_with(function_b, args_b);
        b_end_ns = Clock::now().time_since_epoch().count();
    });
    Interpreter in;
    in.exec(setup);
    start.arrive_and_wait();
    const auto t0 = Clock::now();
    in.call_with(function_a, args_a);
    const auto a_end = Clock::now();
    other.join();
    const long long end = std::max<long long>(a_end.time_since_epoch().count(), b_end_ns.load());
    return std::chrono::duration<double>(Clock::duration(end) - t0.time_since_epoch()).count();
}

/// Seconds of one round of a payload's throughput workload.
double py_throughput_seconds(const PythonComparison& spec, const std::string& payload) {
    Channel ch(spec.capacity);
    return run_pair(workload_setup(), "__main__:run_producer", {Value::str(payload), Value(ch), Value(spec.messages)},
                    "__main__:run_consumer", {Value(ch), Value(spec.messages)});
}

/// Seconds of one round of the ping-pong workload.
double py_pingpong_seconds(const PythonComparison& spec) {
    Channel ping(1), pong(1);
    return run_pair(workload_setup(), "__main__:run_ping", {Value(ping), Value(pong), Value(spec.round_trips)},
                    "__main__:run_pong", {Value(ping), Value(pong), Value(spec.round_trips)});
}

/// Interpreter A sends the same SharedBuffer n times; B receives each as a memoryview, touches
/// its last byte and answers with its length. Microseconds per pass (one round trip).
double buffer_pass_us(std::size_t size, long n) {
    const SharedBuffer buffer = SharedBuffer::build(size, [](std::span<std::byte> out) {
        std::fill(out.begin(), out.end(), std::byte{7});
    });
    Channel there(1), back(1);
    const double s = run_pair(
        "def send_side(buf, there, back, n):\n    for _ in range(n):\n        there.send(buf)\n"
        "        assert back.recv() == len(buf)\n"
        "def receive_side(there, back, n):\n    for _ in range(n):\n        view = there.recv()\n"
        "        view[-1]\n        back.send(len(view))\n",
        "__main__:send_side", {Value(buffer), Value(there), Value(back), Value(n)},
        "__main__:receive_side", {Value(there), Value(back), Value(n)});
    return s / n * 1e6;
}

// --- CPython's queue ----------------------------------------------------------------------------

/// One round of `spec` through CPython's queues, run by `python` (bench/channels/cpython_queue.py):
/// the seconds of each workload ("int", "bytes1k", "tuple10", "pingpong").
std::map<std::string, double> cpython_round(const std::string& python, const PythonComparison& spec) {
    return bench::parse_flat_json(bench::run_command(
        "'" + python + "' '" ISOLATES_BENCH_CHANNELS_DIR "/cpython_queue.py' " +
        std::to_string(spec.messages) + " " + std::to_string(spec.round_trips) + " " +
        std::to_string(spec.capacity)));
}

} // namespace

int main(int argc, char** argv) {
    auto line = bench::parse_command_line(argc, argv);
    if (!line) return 2;
    if (line->python.empty()) line->python = "python3";
    const bench::CommandLine& options = *line;
    Runtime runtime;
    const int rounds = options.sized(5, 3, 1);
    // The comparison with CPython's queues: both sides run exactly this. Sized for CPython's side
    // to take about a second per workload (its blocking get sleeps 10 ms when the queue is empty,
    // so a round trip takes about that long).
    const PythonComparison python{.messages = options.sized(100'000L, 20'000L, 200L),
                                  .round_trips = options.sized(100L, 20L, 3L),
                                  .capacity = 1024};
    // isolates alone: C++ threads, and SharedBuffers passed between interpreters.
    const long cpp_n = options.sized(3'000'000L, 300'000L, 2'000L);
    const long cpp_pingpong_n = options.sized(200'000L, 20'000L, 200L);
    const long pass_n = options.sized(10'000L, 1'000L, 10L);
    const std::size_t capacity = python.capacity;
    bench::Figures figures;
    const auto fmt = [](double x, const char* spec) {
        char text[64];
        std::snprintf(text, sizeof text, spec, x);
        return std::string(text);
    };

    std::fprintf(stderr, "C++ -> C++ ...\n");
    // The 1 KiB row makes a new bytes Value (its own allocation and copy) from this buffer for
    // every message, as a producer holding its data would: a temporary std::string per message
    // would add a malloc, a memset and a free of the bench's own to the channel's figure.
    const std::string kib(1024, 'x');
    bench::add_interleaved(figures, rounds, {
        {"channel.cpp_msgs_per_s.isolates",
         [&] { return cpp_throughput(capacity, cpp_n, [](long k) { return Value(k); }); }},
        {"channel.cpp_msgs_per_s.isolates_unbounded",
         [&] { return cpp_throughput(Channel::unbounded, cpp_n, [](long k) { return Value(k); }); }},
        {"channel.cpp_msgs_per_s.isolates_bytes1k",
         [&] { return cpp_throughput(capacity, cpp_n / 4, [&](long) { return Value::bytes(kib); }); }},
        {"channel.cpp_msgs_per_s.isolates_tuple10", [&] { return cpp_throughput(capacity, cpp_n / 4, [](long k) {
             return Value::tuple({Value(k), 1, 2, 3, 4, 5, 6, 7, 8, 9}); }); }},
        {"channel.cpp_pingpong_us.isolates", [&] { return cpp_pingpong_us(cpp_pingpong_n); }},
    });
    // The goal for the unbounded queue is a ratio to the ring measured in the same rounds.
    figures.add_ratio("channel.cpp_unbounded_over_bounded", "channel.cpp_msgs_per_s.isolates_unbounded",
                      "channel.cpp_msgs_per_s.isolates");

    std::fprintf(stderr, "Python interpreter -> interpreter: isolates' channels, then CPython's queues (%s), "
                         "each round ...\n", options.python.c_str());
    const auto suffix = [](const std::string& payload) { return payload == "int" ? "" : "_" + payload; };
    std::map<std::string, std::vector<double>> runs;
    for (int r = 0; r < rounds; ++r) {
        for (const std::string payload : payloads)
            runs["channel.py_msgs_per_s.isolates" + suffix(payload)].push_back(
                python.messages / py_throughput_seconds(python, payload));
        runs["channel.pingpong_us.isolates"].push_back(py_pingpong_seconds(python) / python.round_trips * 1e6);
        const auto cpython = cpython_round(options.python, python);
        for (const std::string payload : payloads)
            runs["channel.py_msgs_per_s.cpython" + suffix(payload)].push_back(python.messages / cpython.at(payload));
        runs["channel.pingpong_us.cpython"].push_back(cpython.at("pingpong") / python.round_trips * 1e6);
        std::fprintf(stderr, "  round %d of %d done\n", r + 1, rounds);
    }
    for (const auto& [key, samples] : runs) figures.add(key, samples);
    for (const std::string payload : payloads)
        figures.add_ratio("channel.py_ratio_to_cpython." + payload, "channel.py_msgs_per_s.isolates" + suffix(payload),
                          "channel.py_msgs_per_s.cpython" + suffix(payload));
    figures.add_ratio("channel.py_ratio_to_cpython.pingpong", "channel.pingpong_us.cpython",
                      "channel.pingpong_us.isolates");
    figures.note("channel.pingpong_us.cpython", "CPython's queue get() sleeps 10 ms between polls of an "
                                                "empty queue: a round trip waits for that");

    std::fprintf(stderr, "SharedBuffer passing ...\n");
    const std::pair<const char*, std::size_t> sizes[] = {
        {"1KiB", 1024}, {"1MiB", 1 << 20}, {"64MiB", 64u << 20}, {"256MiB", 256u << 20}};
    std::vector<bench::Run> pass_runs;
    for (const auto& [name, size] : sizes)
        pass_runs.push_back({std::string("buffer.pass_us.") + name,
                             [&, size = size] { return buffer_pass_us(size, pass_n); }});
    bench::add_interleaved(figures, rounds, pass_runs);

    std::printf("Channels with Python %s on %u cores, blocking calls, median (min-max) of %d alternating "
                "rounds%s\n\n",
                Runtime::python_version().c_str(), std::thread::hardware_concurrency(), rounds,
                options.title_note());
    std::printf("Python to Python, the same on both sides: channel_workloads.py's functions, %ld messages "
                "through capacity %zu, %ld round trips through capacity 1, no warm-up, timed from a "
                "barrier after set-up\n",
                python.messages, python.capacity, python.round_trips);
    std::printf("%-36s %24s %24s %17s\n", "workload", "isolates", "CPython queue", "ratio");
    const auto cell = [&](const std::string& key, const char* spec) {
        return fmt(figures[key], spec) + " (" + figures.spread_text(key, spec) + ")";
    };
    for (const std::string payload : payloads)
        std::printf("%-36s %24s %24s %17s\n", ("msgs/s, " + payload).c_str(),
                    cell("channel.py_msgs_per_s.isolates" + suffix(payload), "%.0f").c_str(),
                    cell("channel.py_msgs_per_s.cpython" + suffix(payload), "%.0f").c_str(),
                    cell("channel.py_ratio_to_cpython." + payload, "%.1f").c_str());
    std::printf("%-36s %24s %24s %17s\n", "ping-pong round trip (us)", cell("channel.pingpong_us.isolates", "%.1f").c_str(),
                cell("channel.pingpong_us.cpython", "%.0f").c_str(),
                cell("channel.py_ratio_to_cpython.pingpong", "%.0f").c_str());
    std::printf("  (%s)\n", figures.note_of("channel.pingpong_us.cpython").c_str());

    std::printf("\nisolates alone\n");
    const auto row = [&](const std::string& what, const std::string& key, const char* spec) {
        std::printf("%-46s %28s\n", what.c_str(), cell(key, spec).c_str());
    };
    row("C++ -> C++ msgs/s, int", "channel.cpp_msgs_per_s.isolates", "%.0f");
    row("C++ -> C++ msgs/s, int, unbounded", "channel.cpp_msgs_per_s.isolates_unbounded", "%.0f");
    row("C++ -> C++ unbounded / capacity 1024, int", "channel.cpp_unbounded_over_bounded", "%.2f");
    row("C++ -> C++ msgs/s, 1 KiB bytes (made each)", "channel.cpp_msgs_per_s.isolates_bytes1k", "%.0f");
    row("C++ -> C++ msgs/s, 10-tuple (made each)", "channel.cpp_msgs_per_s.isolates_tuple10", "%.0f");
    row("C++ <-> C++ ping-pong round trip (us)", "channel.cpp_pingpong_us.isolates", "%.2f");
    for (const auto& [name, size] : sizes)
        row(std::string("py <-> py SharedBuffer pass, ") + name + " (us)", std::string("buffer.pass_us.") + name, "%.1f");

    if (!options.json_path.empty() &&
        !bench::write_figures(options.json_path, figures, Runtime::python_version())) {
        std::fprintf(stderr, "cannot write %s\n", options.json_path.c_str());
        return 1;
    }
    return 0;
}
