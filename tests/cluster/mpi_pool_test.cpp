// MpiPoolExecutor on 3 ranks (mpirun -n 3): rank 0 is the client, ranks 1 and 2 serve with one
// worker each. Results and exceptions, order, chunked map and imap, cancel and timeouts, work
// spread over the ranks, shutdown, and (last, since the rank stays dead) a rank killed mid-task.

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <isolates/cluster/mpi_pool_executor.h>
#include <isolates/executor/errors.h>
#include <isolates/interp/errors.h>
#include "cluster/detail/message_size.h"
#include "tests/cluster/mpi_test_options.h"
#include "tests/support/skip.h"

using namespace std::chrono_literals;
using isolates::InterpreterPoolExecutor;
using isolates::MpiPoolExecutor;
using isolates::Value;
using Clock = std::chrono::steady_clock;

TEST_SUITE("Mpi") {

TEST_CASE("the client sees every serving rank, and results come back in order") {
    MpiPoolExecutor cluster(isolates::test::cluster_options());
    REQUIRE(cluster.is_client());
    const auto ranks = cluster.ranks();
    REQUIRE(ranks.size() == 2);
    CHECK(ranks[0].rank == 1);
    CHECK(ranks[1].rank == 2);
    for (const auto& rank : ranks) {
        CHECK(rank.workers == 1);
        CHECK(rank.alive);
        CHECK_FALSE(rank.host.empty());
    }
    auto& pool = cluster.pool();
    CHECK(pool.size() == 2);
    std::vector<isolates::Future<Value>> futures;
    for (int k = 0; k < 50; ++k) futures.push_back(pool.submit("__main__:square", k));
    for (int k = 0; k < 50; ++k) CHECK(futures[k].get().as<long>() == k * k);
    pool.submit_source("shared_value = 41").get();
}

TEST_CASE("a Python exception reaches the client with its type, traceback and rank") {
    MpiPoolExecutor cluster(isolates::test::cluster_options());
    auto future = cluster.pool().submit("__main__:fail", 7);
    try {
        future.get();
        FAIL("no exception");
    } catch (const isolates::PythonError& e) {
        CHECK(e.type_name() == "ValueError");
        CHECK(e.message() == "bad item 7");
        CHECK(e.traceback().find("On MPI rank ") != std::string::npos);
        CHECK(e.traceback().find("in fail") != std::string::npos);
    }
    // An unknown target fails the same way, and the pool goes on.
    CHECK_THROWS_AS(cluster.pool().submit("__main__:no_such_function").get(), isolates::PythonError);
    CHECK(cluster.pool().submit("__main__:square", 3).get().as<long>() == 9);
    // A C++ callable cannot travel to another rank.
    CHECK_THROWS_AS(cluster.pool().submit([](isolates::Interpreter&) { return 1; }), isolates::UsageError);
}

TEST_CASE("map with chunks keeps input order and names a failing item's index; imap unordered") {
    MpiPoolExecutor cluster(isolates::test::cluster_options());
    auto& pool = cluster.pool();
    std::vector<int> items(1000);
    for (int k = 0; k < 1000; ++k) items[k] = k;
    isolates::MapOptions chunks;
    chunks.chunksize = 64;
    const auto squares = pool.map("__main__:square", items, chunks).get();
    REQUIRE(squares.size() == 1000);
    for (int k = 0; k < 1000; ++k) CHECK(squares[k].as<long>() == long(k) * k);

    try {
        pool.map("__main__:fail", items, chunks).get();
        FAIL("no exception");
    } catch (const isolates::ItemError& e) {
        CHECK(e.index() == 0);
        CHECK(e.type_name() == "ValueError");
    }

    isolates::MapOptions unordered = chunks;
    unordered.ordered = false;
    unordered.buffersize = 4;
    std::vector<long> seen;
    for (const Value& value : pool.imap("__main__:square", items, unordered)) seen.push_back(value.as<long>());
    std::sort(seen.begin(), seen.end());
    REQUIRE(seen.size() == 1000);
    for (int k = 0; k < 1000; ++k) CHECK(seen[k] == long(k) * k);
}

TEST_CASE("the root's sys_path, init_modules and import_module apply on every rank") {
    auto options = isolates::test::cluster_options();
    options.pool.sys_path = {"/isolates-mpi-test-entry"};
    options.pool.init_modules = {"json"};
    MpiPoolExecutor cluster(options);
    auto& pool = cluster.pool();
    pool.import_module("fractions").get();
    for (std::size_t worker = 0; worker < pool.size(); ++worker) {
        CHECK(pool.submit_to(worker, "__main__:in_sys_path", "/isolates-mpi-test-entry").get().as<bool>());
        CHECK(pool.submit_to(worker, "__main__:has_module", "json").get().as<bool>());
        CHECK(pool.submit_to(worker, "__main__:has_module", "fractions").get().as<bool>());
    }
    CHECK_THROWS_AS(pool.import_module("no_such_module_for_mpi").get(), isolates::WorkerError);
}

TEST_CASE("a rank whose pool cannot start: the client's constructor says which and why") {
    auto options = isolates::test::cluster_options();
    options.pool.init_modules = {"no_such_module_for_mpi"};
    try {
        MpiPoolExecutor cluster(options);
        FAIL("no exception");
    } catch (const isolates::Error& e) {
        const std::string what = e.what();
        CHECK(what.find("rank 1") != std::string::npos);
        CHECK(what.find("rank 2") != std::string::npos);
        CHECK(what.find("no_such_module_for_mpi") != std::string::npos);
    }
    // The serving ranks serve the next executor.
    MpiPoolExecutor cluster(isolates::test::cluster_options());
    CHECK(cluster.pool().submit("__main__:square", 4).get().as<long>() == 16);
}

TEST_CASE("continuations and when_all on the cluster's futures") {
    MpiPoolExecutor cluster(isolates::test::cluster_options());
    auto& pool = cluster.pool();
    auto plus_one = pool.submit("__main__:square", 3).then([](Value v) { return v.as<long>() + 1; });
    CHECK(plus_one.get() == 10);
    std::vector<isolates::Future<Value>> futures;
    for (int k = 0; k < 8; ++k) futures.push_back(pool.submit("__main__:square", k));
    const auto all = isolates::when_all(futures).get();
    REQUIRE(all.size() == 8);
    for (int k = 0; k < 8; ++k) CHECK(all[k].as<long>() == k * k);
}

TEST_CASE("work goes to both ranks") {
    MpiPoolExecutor cluster(isolates::test::cluster_options());
    std::vector<isolates::Future<Value>> futures;
    for (int k = 0; k < 4; ++k) futures.push_back(cluster.pool().submit("__main__:pid_after", 0.2));
    std::set<long> pids;
    for (auto& future : futures) pids.insert(future.get().as<long>());
    CHECK(pids.size() == 2);
}

TEST_CASE("work goes to the rank with a free worker, not round-robin") {
    MpiPoolExecutor cluster(isolates::test::cluster_options());
    auto& pool = cluster.pool();
    const long pid_1 = pool.submit_to(0, "__main__:pid_after", 0.0).get().as<long>();
    const long pid_2 = pool.submit_to(1, "__main__:pid_after", 0.0).get().as<long>();
    REQUIRE(pid_1 != pid_2);
    auto busy = pool.submit_to(1, "__main__:spin", 1.5); // rank 2's only worker
    std::this_thread::sleep_for(100ms);
    std::vector<isolates::Future<Value>> shorts;
    for (int k = 0; k < 6; ++k) shorts.push_back(pool.submit("__main__:pid_after", 0.01));
    for (auto& future : shorts) CHECK(future.get().as<long>() == pid_1);
    CHECK_FALSE(busy.ready()); // they did not wait for it
    CHECK(busy.get().as<double>() == 1.5);
}

TEST_CASE("a timeout and a cancel stop remote Python, and the worker serves on") {
    MpiPoolExecutor cluster(isolates::test::cluster_options());
    auto& pool = cluster.pool();
    InterpreterPoolExecutor::TaskOptions options;
    options.timeout = 300ms;
    const auto start = Clock::now();
    CHECK_THROWS_AS(pool.submit_with(options, "__main__:spin", 30).get(), isolates::TimeoutError);
    CHECK(Clock::now() - start < 5s);

    auto sleeping = pool.submit("__main__:spin", 30);
    std::this_thread::sleep_for(200ms);
    CHECK(sleeping.cancel());
    CHECK_THROWS_AS(sleeping.get(), isolates::CancelledError);
    // Both workers are free again: two naps of 0.3 s end together, well before 30 s.
    const auto again = Clock::now();
    auto a = pool.submit("__main__:nap", 0.3);
    auto b = pool.submit("__main__:nap", 0.3);
    CHECK(a.get().as<double>() == 0.3);
    CHECK(b.get().as<double>() == 0.3);
    CHECK(Clock::now() - again < 10s);
    CHECK(pool.stats().timed_out == 1);
}

TEST_CASE("tasks cancelled while queued on a rank behind a running one: each future keeps its own reply") {
    MpiPoolExecutor cluster(isolates::test::cluster_options());
    auto& pool = cluster.pool();
    // Short tasks first, so that each worker sends requests ahead of the one it runs.
    std::vector<isolates::Future<Value>> warm;
    for (int k = 0; k < 200; ++k) warm.push_back(pool.submit("__main__:square", k));
    for (auto& future : warm) future.get();
    auto running = pool.submit("__main__:spin", 0.5);
    std::vector<isolates::Future<Value>> queued;
    for (int k = 0; k < 40; ++k) queued.push_back(pool.submit("__main__:square", k));
    std::this_thread::sleep_for(100ms);
    for (auto& future : queued) future.cancel();
    // A rank answers a request cancelled while queued at once: were that reply taken for the
    // running task's, the running task would never end.
    REQUIRE(running.wait_for(10s) == std::future_status::ready);
    CHECK(running.get().as<double>() == 0.5);
    for (int k = 0; k < 40; ++k) {
        REQUIRE(queued[k].wait_for(10s) == std::future_status::ready);
        if (!queued[k].cancelled()) CHECK(queued[k].get().as<long>() == long(k) * k);
    }
    CHECK(pool.submit("__main__:square", 12).get().as<long>() == 144);
}

TEST_CASE("shutdown runs what was queued, then ends the serving ranks' pools") {
    std::vector<isolates::Future<Value>> futures;
    {
        MpiPoolExecutor cluster(isolates::test::cluster_options());
        for (int k = 0; k < 20; ++k) futures.push_back(cluster.pool().submit("__main__:nap", 0.01));
        cluster.shutdown();
        CHECK_THROWS_AS(cluster.pool().submit("__main__:square", 1), isolates::UsageError);
    }
    for (auto& future : futures) CHECK(future.get().as<double>() == 0.01);
}

TEST_CASE("a message of 2 GiB or more is refused by its size, before anything is sent") {
    // The check every request and reply passes before it is posted (MPI counts bytes in int),
    // tried on sizes alone: nothing of that size is allocated.
    using isolates::cluster::detail::check_message_size;
    using isolates::cluster::detail::max_message_bytes;
    CHECK(max_message_bytes == (std::size_t(2) << 30) - 1);
    CHECK_NOTHROW(check_message_size(max_message_bytes, "the task's request"));
    for (const std::size_t too_large : {std::size_t(2) << 30, (std::size_t(4) << 30) + 16}) {
        CAPTURE(too_large);
        const std::string says = "the task's request is " + std::to_string(too_large) +
                                 " bytes; a message between MPI ranks must stay under 2 GiB";
        CHECK_THROWS_WITH_AS(check_message_size(too_large, "the task's request"),
                             doctest::Contains(says.c_str()), isolates::UsageError);
    }
}

TEST_CASE("a remote task that ignores its timeout resolves at its timeout; the other rank serves on") {
    // A rank whose worker no longer serves while its heartbeats go on: time.sleep in a
    // sub-interpreter sees the timeout's interrupt only when the sleep ends. The future resolves
    // at its timeout and the other rank answers meanwhile. (The serving rank answers the
    // cancelled task at once, so kill_after never fires across ranks: a task sent to that
    // worker next waits for the sleep; see docs/reliability.md.)
    auto options = isolates::test::cluster_options();
    options.pool.kill_after = 300ms;
    MpiPoolExecutor cluster(options);
    auto& pool = cluster.pool();
    InterpreterPoolExecutor::TaskOptions limited;
    limited.timeout = 200ms;
    limited.worker = 0;
    const auto start = Clock::now();
    auto stuck = pool.submit_with(limited, "__main__:nap", 4.0);
    CHECK_THROWS_AS(stuck.get(), isolates::TimeoutError);
    CHECK(Clock::now() - start < 3s);
    CHECK(pool.submit_to(1, "__main__:square", 7).get().as<long>() == 49);
    CHECK(Clock::now() - start < 3s); // long before the sleep ends
    for (const auto& rank : cluster.ranks()) CHECK(rank.alive);
}

// In an mpirun of its own, whose rank 2 is a rogue (tests/cluster/rogue_rank.h).
TEST_CASE("a rank that sends malformed messages: clear errors, and the pool serves on") {
    MpiPoolExecutor cluster(isolates::test::cluster_options());
    auto& pool = cluster.pool();
    if (cluster.ranks()[1].host != "rogue") ISOLATES_SKIP("rank 2 is no rogue (run with --isolates-rogue-rank-2)");
    const std::size_t on_rank_2 = cluster.ranks()[0].workers;
    CHECK(pool.submit_to(on_rank_2, "__main__:anything").get().as_str() == "__main__:anything");
    // A reply naming its slot whose frame is garbage: that task fails saying where; the rank
    // stays (its next reply is good).
    CHECK_THROWS_WITH_AS(pool.submit_to(on_rank_2, "__main__:garbage_reply").get(),
                         doctest::Contains("MPI rank 2 (host rogue) worker 0 sent a malformed reply"),
                         isolates::ConversionError);
    CHECK(pool.submit_to(on_rank_2, "__main__:again").get().as_str() == "__main__:again");
    CHECK(cluster.ranks()[1].alive);
    // A message too short to name a slot: nothing it says can be routed, so the rank is given
    // up and the task waiting on it fails at once, naming it.
    const auto start = Clock::now();
    try {
        pool.submit_to(on_rank_2, "__main__:truncated_reply").get();
        FAIL("no exception");
    } catch (const isolates::WorkerProcessError& e) {
        CHECK(std::string(e.what()).find("rank 2 (host rogue) sent a malformed message") != std::string::npos);
    }
    CHECK(Clock::now() - start < 1s); // not after a heartbeat timeout
    CHECK_FALSE(cluster.ranks()[1].alive);
    // Rank 1 serves everything now, the pool worker that was on rank 2 included.
    for (int k = 0; k < 6; ++k) CHECK(pool.submit("__main__:square", k).get().as<long>() == k * k);
    CHECK(pool.submit_to(on_rank_2, "__main__:square", 9).get().as<long>() == 81);
}

// Last: the killed rank stays dead for the rest of the run.
TEST_CASE("a rank killed mid-task fails that task naming the rank; the other rank serves on") {
    MpiPoolExecutor cluster(isolates::test::cluster_options());
    auto& pool = cluster.pool();
    const auto ranks = cluster.ranks();
    const std::size_t on_rank_2 = ranks[0].workers; // pool workers go rank by rank
    auto behind = pool.submit_to(on_rank_2, "__main__:square", 5); // may run before the death
    const auto start = Clock::now();
    auto dying = pool.submit_to(on_rank_2, "__main__:die");
    auto queued = pool.submit("__main__:square", 6); // any worker
    try {
        dying.get();
        FAIL("no exception");
    } catch (const isolates::WorkerProcessError& e) {
        CHECK(std::string(e.what()).find("rank 2") != std::string::npos);
    }
    CHECK(Clock::now() - start < 5s);
    CHECK(behind.get().as<long>() == 25);
    CHECK(queued.get().as<long>() == 36);
    for (int k = 0; k < 10; ++k) CHECK(pool.submit("__main__:square", k).get().as<long>() == k * k);
    const auto after = cluster.ranks();
    CHECK(after[0].alive);
    CHECK_FALSE(after[1].alive);
}

} // TEST_SUITE
