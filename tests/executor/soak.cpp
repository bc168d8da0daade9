// soak: the load part of issue 5, as a program (not a test case: it runs for minutes).
//
//   soak [--quick]
//
// 1. baseline: RSS growth per create/destroy of a bare Interpreter (CPython's own
//    per-interpreter leak, measured in this run);
// 2. tasks: >= 1,000,000 pool tasks, every result verified;
// 3. messages: >= 10,000,000 channel messages from 4 producer to 4 consumer interpreters, each on
//    its own thread; count, sum and sum of squares verified (nothing lost or duplicated);
// 4. 1,000 pool create/destroy cycles (each runs a task);
// 5. 10,000 channel create/destroy cycles (each carries values through);
// 6. 1,000 process worker replacements (half crashes, half kills of a task that ignores its
//    timeout), after which this process holds the same file descriptors, mappings and
//    shared-memory segments as before.
// RSS (/proc/self/statm) is sampled after a warm-up and at the end of each phase; a phase fails
// when RSS grew by more than (interpreters made in it) x (the baseline leak) x 1.5 + a fixed
// slack. Prints a table and a final `N passed, N failed` line; exits non-zero on any failure.
// --quick divides every count by 100 (for trying it out; the bounds stay the same).

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <isolates.h>
#include "tests/support/process_resources.h"
#include "tests/support/worker_faults.h"

using namespace isolates;
using Clock = std::chrono::steady_clock;

namespace {
int passed = 0;
int failed = 0;

void check(bool ok, const std::string& what) {
    if (ok) {
        ++passed;
    } else {
        ++failed;
        std::printf("FAILED: %s\n", what.c_str());
    }
    std::fflush(stdout);
}

double rss_mib() {
    std::ifstream statm("/proc/self/statm");
    long size = 0, resident = 0;
    statm >> size >> resident;
    return static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE)) /
           (1024.0 * 1024.0);
}

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Row {
    std::string phase;
    std::uint64_t count;
    std::string unit;
    double seconds;
    double rss_before;
    double rss_after;
    double bound;
};
std::vector<Row> rows;

/// Checks RSS growth against the bound and records the table row.
void finish_phase(const std::string& phase, std::uint64_t count, const std::string& unit,
                  Clock::time_point start, double before, double bound_mib) {
    const double after = rss_mib();
    rows.push_back({phase, count, unit, seconds_since(start), before, after, bound_mib});
    char text[200];
    std::snprintf(text, sizeof text, "%s: RSS grew %.1f MiB after warm-up (bound %.1f MiB)",
                  phase.c_str(), after - before, bound_mib);
    check(after - before <= bound_mib, text);
    std::printf("-- %s done: %llu %s in %.1f s, RSS %.1f -> %.1f MiB\n", phase.c_str(),
                static_cast<unsigned long long>(count), unit.c_str(), rows.back().seconds, before,
                after);
    std::fflush(stdout);
}

constexpr const char* task_source = R"(
def f(k):
    return k * 3 + 1
)";

constexpr const char* producer_source = R"(
def produce(ch, first, n):
    send = ch.send
    for k in range(first, first + n):
        send(k)
)";

constexpr const char* consumer_source = R"(
def consume(ch):
    count = 0
    total = 0
    squares = 0
    for v in ch:
        count += 1
        total += v
        squares += v * v
    return (count, total, squares)
)";

/// 4 producer and 4 consumer interpreters move `total` ints through one channel.
/// Returns whether count, sum and sum of squares all match.
bool run_messages(std::uint64_t total, std::string& detail) {
    constexpr int producers = 4, consumers = 4;
    const std::uint64_t per_producer = total / producers;
    Channel ch(4096);
    std::vector<std::thread> threads;
    std::vector<Value> results(consumers);
    std::atomic<int> errors{0};
    for (int c = 0; c < consumers; ++c)
        threads.emplace_back([&, c] {
            try {
                Interpreter in;
                in.exec(consumer_source);
                results[c] = in.call("__main__:consume", ch.receiver());
            } catch (const std::exception& e) {
                std::printf("consumer %d: %s\n", c, e.what());
                ++errors;
            }
        });
    std::vector<std::thread> senders;
    for (int p = 0; p < producers; ++p)
        senders.emplace_back([&, p] {
            try {
                Interpreter in;
                in.exec(producer_source);
                in.call("__main__:produce", ch.sender(), static_cast<std::int64_t>(p * per_producer),
                        static_cast<std::int64_t>(per_producer));
            } catch (const std::exception& e) {
                std::printf("producer %d: %s\n", p, e.what());
                ++errors;
            }
        });
    for (auto& t : senders) t.join();
    ch.close();
    for (auto& t : threads) t.join();
    // Expected: every k in [0, n) exactly once.
    const unsigned __int128 n = per_producer * producers;
    const unsigned __int128 want_sum = n * (n - 1) / 2;
    const unsigned __int128 want_squares = (n - 1) * n * (2 * n - 1) / 6;
    unsigned __int128 count = 0, sum = 0, squares = 0;
    for (const Value& r : results) {
        if (r.kind() != Kind::tuple) return false;
        count += static_cast<unsigned __int128>(r[0].as_int64());
        sum += static_cast<unsigned __int128>(r[1].as_int64());
        // The sum of squares of 10^7 numbers exceeds 64 bits: take it from its bytes.
        const auto bytes = r[2].int_bytes();
        unsigned __int128 v = 0;
        for (std::size_t k = bytes.size(); k-- > 0;)
            v = (v << 8) | std::to_integer<unsigned>(bytes[k]);
        squares += v;
    }
    char text[200];
    std::snprintf(text, sizeof text, "received %llu of %llu messages", static_cast<unsigned long long>(count),
                  static_cast<unsigned long long>(n));
    detail = text;
    return errors == 0 && count == n && sum == want_sum && squares == want_squares;
}

std::uint64_t run_tasks(InterpreterPoolExecutor& pool, std::uint64_t first, std::uint64_t n,
                        std::uint64_t& wrong) {
    constexpr std::uint64_t batch = 20000;
    std::vector<Future<Value>> futures;
    futures.reserve(batch);
    std::uint64_t done = 0;
    for (std::uint64_t k = first; k < first + n;) {
        futures.clear();
        const std::uint64_t end = std::min(first + n, k + batch);
        for (std::uint64_t j = k; j < end; ++j)
            futures.push_back(pool.submit("__main__:f", static_cast<std::int64_t>(j)));
        for (std::uint64_t j = k; j < end; ++j) {
            try {
                if (futures[j - k].get().as_int64() != static_cast<std::int64_t>(j * 3 + 1)) ++wrong;
            } catch (...) {
                ++wrong;
            }
            ++done;
        }
        k = end;
    }
    return done;
}
} // namespace

int main(int argc, char** argv) {
    const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
    const std::uint64_t scale = quick ? 100 : 1;
    const std::uint64_t tasks = 1'000'000 / scale;
    const std::uint64_t messages = 10'000'000 / scale;
    const std::uint64_t pool_cycles = 1'000 / scale < 10 ? 10 : 1'000 / scale;
    const std::uint64_t channel_cycles = 10'000 / scale;
    const std::uint64_t replacements = 1'000 / scale;
    const double slack_mib = 32.0;
    Runtime runtime;
    const std::size_t workers = std::max(2u, std::thread::hardware_concurrency());
    std::printf("soak%s: %llu tasks on %zu workers, %llu messages (4 producer and 4 consumer "
                "interpreters), %llu pool and %llu channel create/destroy cycles, %llu process "
                "worker replacements\n",
                quick ? " --quick" : "", static_cast<unsigned long long>(tasks), workers,
                static_cast<unsigned long long>(messages),
                static_cast<unsigned long long>(pool_cycles),
                static_cast<unsigned long long>(channel_cycles),
                static_cast<unsigned long long>(replacements));
    std::fflush(stdout);
    const auto all_start = Clock::now();

    // 1. Baseline: CPython's own per-interpreter leak.
    constexpr int baseline_warmup = 20, baseline_cycles = 200;
    double leak_kib = 0;
    {
        for (int k = 0; k < baseline_warmup; ++k) {
            Interpreter in;
            in.exec("x = 1");
        }
        const double before = rss_mib();
        const auto start = Clock::now();
        for (int k = 0; k < baseline_cycles; ++k) {
            Interpreter in;
            in.exec("x = 1");
        }
        const double after = rss_mib();
        leak_kib = std::max(0.0, (after - before) * 1024.0 / baseline_cycles);
        rows.push_back({"baseline: bare Interpreter create/destroy", baseline_cycles, "interpreters",
                        seconds_since(start), before, after, 0});
        std::printf("-- baseline: %.1f KiB RSS per interpreter created and destroyed (%.1f -> %.1f MiB)\n",
                    leak_kib, before, after);
        std::fflush(stdout);
    }
    const double leak_mib = leak_kib / 1024.0;
    auto bound = [&](double interpreters) { return slack_mib + 1.5 * leak_mib * interpreters; };

    // 2. Tasks.
    {
        InterpreterPoolExecutor::Options options;
        options.workers = workers;
        options.init_source = task_source;
        InterpreterPoolExecutor pool(options);
        std::uint64_t wrong = 0;
        const std::uint64_t warmup = tasks / 20;
        run_tasks(pool, 0, warmup, wrong);
        const double before = rss_mib();
        const auto start = Clock::now();
        const std::uint64_t done = run_tasks(pool, warmup, tasks - warmup, wrong) + warmup;
        check(wrong == 0, std::to_string(wrong) + " of " + std::to_string(done) + " task results wrong");
        pool.shutdown();
        const auto stats = pool.stats();
        check(stats.completed == tasks && stats.failed == 0,
              "pool stats: " + std::to_string(stats.completed) + " completed, " +
                  std::to_string(stats.failed) + " failed");
        finish_phase("tasks", done, "tasks", start, before, bound(0));
    }

    // 3. Messages.
    {
        std::string detail;
        const std::uint64_t warmup = messages / 50;
        check(run_messages(warmup, detail), "warm-up messages: " + detail);
        const double before = rss_mib();
        const auto start = Clock::now();
        check(run_messages(messages, detail), "messages: " + detail);
        finish_phase("messages", messages, "messages", start, before, bound(8));
    }

    // 4. Pool create/destroy cycles.
    {
        InterpreterPoolExecutor::Options options;
        options.workers = 2;
        options.init_source = task_source;
        std::uint64_t wrong = 0;
        auto cycle = [&](std::uint64_t k) {
            InterpreterPoolExecutor pool(options);
            if (pool.submit("__main__:f", static_cast<std::int64_t>(k)).get().as_int64() !=
                static_cast<std::int64_t>(k * 3 + 1))
                ++wrong;
        };
        for (std::uint64_t k = 0; k < 10; ++k) cycle(k);
        const double before = rss_mib();
        const auto start = Clock::now();
        for (std::uint64_t k = 0; k < pool_cycles; ++k) cycle(k);
        check(wrong == 0, std::to_string(wrong) + " pool cycles gave a wrong result");
        finish_phase("pool create/destroy", pool_cycles, "pools (2 workers)", start, before,
                     bound(2.0 * static_cast<double>(pool_cycles)));
    }

    // 5. Channel create/destroy cycles (C++ and a Python consumer).
    {
        std::uint64_t wrong = 0;
        Interpreter in;
        in.exec("def drain(ch):\n    return sum(ch)\n");
        auto cycle = [&] {
            Channel ch(64);
            for (int v = 1; v <= 10; ++v) ch.send(Value(v));
            ch.close();
            if (in.call("__main__:drain", ch).as_int64() != 55) ++wrong;
            Channel unbounded(Channel::unbounded);
            unbounded.send(Value("x"));
            if (unbounded.recv().as_str() != "x") ++wrong;
        };
        for (int k = 0; k < 100; ++k) cycle();
        const double before = rss_mib();
        const auto start = Clock::now();
        for (std::uint64_t k = 0; k < channel_cycles; ++k) cycle();
        check(wrong == 0, std::to_string(wrong) + " channel cycles lost values");
        finish_phase("channel create/destroy", channel_cycles, "channels (x2)", start, before,
                     bound(0));
    }

    // 6. Process worker replacements.
    {
        InterpreterPoolExecutor::Options options;
        options.workers = 1;
        options.worker_kind = InterpreterPoolExecutor::WorkerKind::processes;
        options.kill_after = std::chrono::milliseconds(50);
        InterpreterPoolExecutor pool(options);
        const auto timeout = std::chrono::milliseconds(20);
        auto ready = [&] { return pool.submit("operator:add", 1, 2).get().as_int64() == 3; };
        // One of each first: what the first replacement sets up once is in both counts.
        bool as_they_must = testing::crash_process_worker(pool) &&
                            testing::hang_process_worker_past_its_timeout(pool, timeout) && ready();
        const auto before = testing::process_resources();
        const double rss_before = rss_mib();
        const auto replaced_before = pool.stats().replaced_interpreters;
        const auto start = Clock::now();
        std::uint64_t wrong = 0;
        for (std::uint64_t k = 0; k < replacements / 2; ++k) {
            wrong += testing::crash_process_worker(pool) ? 0 : 1;
            wrong += testing::hang_process_worker_past_its_timeout(pool, timeout) ? 0 : 1;
        }
        as_they_must = as_they_must && ready();
        const auto replaced = pool.stats().replaced_interpreters - replaced_before;
        check(as_they_must && wrong == 0 && replaced == replacements,
              std::to_string(replaced) + " process workers replaced, " + std::to_string(wrong) +
                  " faults that did not fail their task as they must");
        const auto after = testing::process_resources();
        check(after == before, "after " + std::to_string(replaced) + " replacements: " +
                                   testing::describe(after) + " (before: " +
                                   testing::describe(before) + ")");
        finish_phase("process worker replacements", replaced, "processes", start, rss_before,
                     bound(0));
    }

    std::printf("\n%-42s %12s %-18s %8s %12s %11s %10s\n", "phase", "count", "unit", "seconds",
                "RSS before", "RSS after", "bound");
    for (const Row& r : rows) {
        char bound_text[32] = "-";
        if (r.bound > 0) std::snprintf(bound_text, sizeof bound_text, "+%.1f MiB", r.bound);
        std::printf("%-42s %12llu %-18s %8.1f %8.1f MiB %7.1f MiB %10s\n", r.phase.c_str(),
                    static_cast<unsigned long long>(r.count), r.unit.c_str(), r.seconds,
                    r.rss_before, r.rss_after, bound_text);
    }
    std::printf("CPython per-interpreter leak (baseline): %.1f KiB per create/destroy\n", leak_kib);
    std::printf("total %.1f s\n", seconds_since(all_start));
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
