// channels_bench: messages per second and round-trip latency through isolates channels, C++ to
// C++ and Python interpreter to Python interpreter, beside CPython's own cross-interpreter
// queue doing the same Python workload (run in the same run through PYTHON_EXE); and the time
// to pass SharedBuffers of growing size. Medians of repeated runs; a table on stdout, progress
// on stderr, flat JSON with --json.
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
using bench::median;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

/// Runs every measurement `repeats` times, round-robin (so that a noisy moment on this small
/// machine hits all of them alike rather than one), and returns each one's median.
std::vector<double> interleaved_medians(int repeats, const std::vector<std::function<double()>>& runs) {
    std::vector<std::vector<double>> xs(runs.size());
    for (int r = 0; r < repeats; ++r)
        for (std::size_t k = 0; k < runs.size(); ++k) xs[k].push_back(runs[k]());
    std::vector<double> out;
    for (auto& x : xs) out.push_back(median(x));
    return out;
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

const char* const payload_expressions[][2] = {
    {"int", "i"},
    {"bytes1k", "blob"},
    {"tuple10", "(i, 1, 2, 3, 4, 5, 6, 7, 8, 9)"},
};

/// Runs `a_function(args_a)` in one interpreter and `b_function(args_b)` in another, each on its
/// own thread, after both have run their setup; returns the wall time of the two calls.
double run_pair(const std::string& setup_a, const std::string& function_a, std::vector<Value> args_a,
                const std::string& setup_b, const std::string& function_b, std::vector<Value> args_b) {
    Start start;
    std::atomic<long long> b_end_ns{0};
    std::thread other([&] {
        Interpreter in;
        in.exec(setup_b);
        start.arrive_and_wait();
        in.call_with(function_b, args_b);
        b_end_ns = Clock::now().time_since_epoch().count();
    });
    Interpreter in;
    in.exec(setup_a);
    start.arrive_and_wait();
    const auto t0 = Clock::now();
    in.call_with(function_a, args_a);
    const auto a_end = Clock::now();
    other.join();
    const long long end = std::max<long long>(a_end.time_since_epoch().count(), b_end_ns.load());
    return std::chrono::duration<double>(Clock::duration(end) - t0.time_since_epoch()).count();
}

double py_throughput(const std::string& payload, std::size_t capacity, long n) {
    Channel ch(capacity);
    const std::string producer = "def produce(ch, n):\n    blob = b'x' * 1024\n    send = ch.send\n"
                                 "    for i in range(n):\n        send(" + payload + ")\n";
    const std::string consumer = "def consume(ch, n):\n    recv = ch.recv\n"
                                 "    for _ in range(n):\n        recv()\n";
    const double s = run_pair(producer, "__main__:produce", {Value(ch), Value(n)},
                              consumer, "__main__:consume", {Value(ch), Value(n)});
    return n / s;
}

double py_pingpong_us(long n) {
    Channel ping(1), pong(1);
    const double s = run_pair(
        "def run(ping, pong, n):\n    for _ in range(n):\n        ping.send(1)\n        pong.recv()\n",
        "__main__:run", {Value(ping), Value(pong), Value(n)},
        "def run(ping, pong, n):\n    for _ in range(n):\n        pong.send(ping.recv())\n",
        "__main__:run", {Value(ping), Value(pong), Value(n)});
    return s / n * 1e6;
}

/// Interpreter A sends the same SharedBuffer n times; B receives each as a memoryview, touches
/// its last byte and answers with its length. Microseconds per pass (one round trip).
double buffer_pass_us(std::size_t size, long n) {
    const SharedBuffer buffer = SharedBuffer::build(size, [](std::span<std::byte> out) {
        std::fill(out.begin(), out.end(), std::byte{7});
    });
    Channel there(1), back(1);
    const double s = run_pair(
        "def run(buf, there, back, n):\n    for _ in range(n):\n        there.send(buf)\n"
        "        assert back.recv() == len(buf)\n",
        "__main__:run", {Value(buffer), Value(there), Value(back), Value(n)},
        "def run(there, back, n):\n    for _ in range(n):\n        view = there.recv()\n"
        "        view[-1]\n        back.send(len(view))\n",
        "__main__:run", {Value(there), Value(back), Value(n)});
    return s / n * 1e6;
}

// --- CPython's queue ----------------------------------------------------------------------------

std::string source_dir() { return ISOLATES_BENCH_CHANNELS_DIR; }

/// Runs bench/channels/cpython_queue.py with PYTHON_EXE and parses its one-line JSON.
std::map<std::string, double> cpython_reference(const std::string& python, long n, long roundtrips,
                                                int repeats, std::size_t capacity) {
    const std::string text = bench::run_command(
        "'" + python + "' '" + source_dir() + "/cpython_queue.py' " + std::to_string(n) + " " +
        std::to_string(roundtrips) + " " + std::to_string(repeats) + " " + std::to_string(capacity));
    // Each figure comes as a list of repeats: parsed with the embedded interpreter.
    Interpreter in;
    const Value parsed = in.call("json:loads", text);
    std::map<std::string, double> out;
    for (const auto& [key, value] : parsed.dict_items()) {
        if (value.kind() != Kind::list) continue;
        std::vector<double> xs;
        for (const Value& x : value.items()) xs.push_back(x.as_double());
        out[std::string(key.as_str())] = median(xs);
    }
    return out;
}

} // namespace

int main(int argc, char** argv) {
    auto line = bench::parse_command_line(argc, argv);
    if (!line) return 2;
    if (line->python.empty()) line->python = "python3";
    const bench::CommandLine& options = *line;
    Runtime runtime;
    const int repeats = options.sized(7, 3, 1);
    const long cpp_n = options.sized(3'000'000L, 300'000L, 2'000L);
    const long py_n = options.sized(1'000'000L, 100'000L, 1'000L);
    const long pingpong_n = options.sized(50'000L, 5'000L, 50L);
    const long cpython_n = options.sized(20'000L, 3'000L, 100L);
    const long cpython_roundtrips = options.sized(100L, 20L, 5L);
    const int cpython_repeats = options.sized(3, 3, 1);
    const std::size_t capacity = 1024;
    std::map<std::string, double> figures;
    std::vector<std::vector<std::string>> rows;
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
    const auto cpp = interleaved_medians(repeats, {
        [&] { return cpp_throughput(capacity, cpp_n, [](long k) { return Value(k); }); },
        [&] { return cpp_throughput(Channel::unbounded, cpp_n, [](long k) { return Value(k); }); },
        [&] { return cpp_throughput(capacity, cpp_n / 4, [&](long) { return Value::bytes(kib); }); },
        [&] { return cpp_throughput(capacity, cpp_n / 4, [](long k) {
            return Value::tuple({Value(k), 1, 2, 3, 4, 5, 6, 7, 8, 9}); }); },
        [&] { return cpp_pingpong_us(pingpong_n * 4); },
    });
    const double cpp_int = cpp[0], cpp_unbounded = cpp[1], cpp_bytes = cpp[2], cpp_tuple = cpp[3],
                 cpp_pp = cpp[4];
    figures["channel.cpp_msgs_per_s.isolates"] = cpp_int;
    figures["channel.cpp_msgs_per_s.isolates_unbounded"] = cpp_unbounded;
    // The goal for the unbounded queue is a ratio to the ring measured in the same run.
    figures["channel.cpp_unbounded_over_bounded"] = cpp_unbounded / cpp_int;
    figures["channel.cpp_msgs_per_s.isolates_bytes1k"] = cpp_bytes;
    figures["channel.cpp_msgs_per_s.isolates_tuple10"] = cpp_tuple;
    figures["channel.cpp_pingpong_us.isolates"] = cpp_pp;

    std::fprintf(stderr, "Python interpreter -> interpreter (isolates) ...\n");
    std::map<std::string, double> py;
    std::vector<std::function<double()>> py_runs;
    for (const auto& [name, expression] : payload_expressions) {
        const long n = std::string(name) == "int" ? py_n : py_n / 2;
        py_runs.push_back([&, n, expression = std::string(expression)] {
            return py_throughput(expression, capacity, n);
        });
    }
    py_runs.push_back([&] { return py_pingpong_us(pingpong_n); });
    const auto py_medians = interleaved_medians(repeats, py_runs);
    for (std::size_t k = 0; k < std::size(payload_expressions); ++k) {
        py[payload_expressions[k][0]] = py_medians[k];
        std::fprintf(stderr, "  %s: %.0f msgs/s\n", payload_expressions[k][0], py_medians[k]);
    }
    const double py_pp = py_medians.back();

    std::fprintf(stderr, "Python interpreter -> interpreter (CPython's queue, %s) ...\n",
                 options.python.c_str());
    const auto cpython = cpython_reference(options.python, cpython_n, cpython_roundtrips, cpython_repeats, capacity);
    std::map<std::string, double> ref;
    for (const auto& [name, expression] : payload_expressions)
        ref[name] = cpython_n / cpython.at(std::string("throughput_") + name);
    const double ref_pp = cpython.at("pingpong") / cpython_roundtrips * 1e6;

    figures["channel.py_msgs_per_s.isolates"] = py["int"];
    figures["channel.py_msgs_per_s.cpython"] = ref["int"];
    figures["channel.py_msgs_per_s.isolates_bytes1k"] = py["bytes1k"];
    figures["channel.py_msgs_per_s.cpython_bytes1k"] = ref["bytes1k"];
    figures["channel.py_msgs_per_s.isolates_tuple10"] = py["tuple10"];
    figures["channel.py_msgs_per_s.cpython_tuple10"] = ref["tuple10"];
    figures["channel.pingpong_us.isolates"] = py_pp;
    figures["channel.pingpong_us.cpython"] = ref_pp;

    std::fprintf(stderr, "SharedBuffer passing ...\n");
    const std::pair<const char*, std::size_t> sizes[] = {
        {"1KiB", 1024}, {"1MiB", 1 << 20}, {"64MiB", 64u << 20}, {"256MiB", 256u << 20}};
    std::map<std::string, double> pass;
    std::vector<std::function<double()>> pass_runs;
    for (const auto& [name, size] : sizes)
        pass_runs.push_back([&, size = size] { return buffer_pass_us(size, pingpong_n / 5); });
    const auto pass_medians = interleaved_medians(repeats, pass_runs);
    for (std::size_t k = 0; k < std::size(sizes); ++k) {
        pass[sizes[k].first] = pass_medians[k];
        figures[std::string("buffer.pass_us.") + sizes[k].first] = pass_medians[k];
        std::fprintf(stderr, "  %s: %.1f us\n", sizes[k].first, pass_medians[k]);
    }

    std::printf("Channels with Python %s on %u cores, capacity %zu, blocking calls, median of %d runs "
                "(CPython's queue: %d runs)%s\n\n",
                Runtime::python_version().c_str(), std::thread::hardware_concurrency(), capacity,
                repeats, cpython_repeats, options.title_note());
    std::printf("%-44s %16s %16s %9s\n", "workload", "isolates", "CPython queue", "ratio");
    const auto row = [&](const std::string& what, double ours, double theirs, const char* spec) {
        std::printf("%-44s %16s %16s %9s\n", what.c_str(), fmt(ours, spec).c_str(),
                    theirs > 0 ? fmt(theirs, spec).c_str() : "-",
                    theirs > 0 ? fmt(ours / theirs, "%.1fx").c_str() : "-");
    };
    for (const auto& [name, expression] : payload_expressions)
        row(std::string("py -> py msgs/s, ") + name, py[name], ref[name], "%.0f");
    std::printf("%-44s %16s %16s %9s\n", "py <-> py ping-pong round trip (us)", fmt(py_pp, "%.1f").c_str(),
                fmt(ref_pp, "%.1f").c_str(), fmt(ref_pp / py_pp, "%.0fx faster").c_str());
    row("C++ -> C++ msgs/s, int", cpp_int, 0, "%.0f");
    row("C++ -> C++ msgs/s, int, unbounded", cpp_unbounded, 0, "%.0f");
    row("C++ -> C++ unbounded / capacity 1024, int", cpp_unbounded / cpp_int, 0, "%.2fx");
    row("C++ -> C++ msgs/s, 1 KiB bytes (made each)", cpp_bytes, 0, "%.0f");
    row("C++ -> C++ msgs/s, 10-tuple (made each)", cpp_tuple, 0, "%.0f");
    row("C++ <-> C++ ping-pong round trip (us)", cpp_pp, 0, "%.2f");
    for (const auto& [name, size] : sizes)
        row(std::string("py <-> py SharedBuffer pass, ") + name + " (us)", pass[name], 0, "%.1f");

    if (!options.json_path.empty() &&
        !bench::write_figures(options.json_path, figures, Runtime::python_version())) {
        std::fprintf(stderr, "cannot write %s\n", options.json_path.c_str());
        return 1;
    }
    return 0;
}
