// InterpreterPoolExecutor::map(f, items) with a C++ callable: the Python map's chunks, order,
// ItemError, cancellation and timeout, for items that need not convert to Values.

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <isolates/executor/interpreter_pool_executor.h>
#include <isolates/interp/interpreter.h>
#include "tests/support/doctest.h"
#include "tests/support/pool_test_helpers.h"

using namespace isolates;
using namespace std::chrono_literals;

namespace {
constexpr const char* map_callable_helpers = R"(
ran = []
def square(x):
    return x * x
def fail_at(x, bad=(37,)):
    if x in bad:
        raise ValueError(f"bad item {x}")
    return x
def record_then_spin(x):
    ran.append(x)
    if x == 0:
        while True:
            pass
    return x
def ran_count():
    return len(ran)
)";

/// An item type with no conversion to Value: only the callable looks inside it.
struct Point {
    int x;
    int y;
};

std::vector<int> numbers(int n) {
    std::vector<int> items;
    for (int k = 0; k < n; ++k) items.push_back(k);
    return items;
}

MapOptions chunks_of(std::size_t chunksize) {
    MapOptions options;
    options.chunksize = chunksize;
    return options;
}

/// Waits until the pool's queue holds `depth` tasks (a single worker has taken the first one).
void wait_queue_depth(InterpreterPoolExecutor& pool, std::size_t depth) {
    while (pool.stats().queue_depth != depth) std::this_thread::sleep_for(1ms);
}
} // namespace

TEST_SUITE("Map") {

TEST_CASE("Map.callable_results_keep_input_order" * doctest::timeout(60)) {
    InterpreterPoolExecutor pool(testing::pool_options(2, map_callable_helpers));
    const std::vector<int> items = numbers(100);
    const auto square_plus_one = [](Interpreter& in, const int& x) {
        return in.call("__main__:square", x).as_int64() + 1;
    };
    for (std::size_t chunksize : {1, 7, 100, 1000}) {
        CAPTURE(chunksize);
        const auto before = pool.stats().submitted;
        std::vector<Value> results = pool.map(square_plus_one, items, chunks_of(chunksize)).get();
        REQUIRE(results.size() == items.size());
        for (int k = 0; k < 100; ++k) CHECK(results[k].as_int64() == k * k + 1);
        CHECK(pool.stats().submitted - before == (items.size() + chunksize - 1) / chunksize);
    }
    // Items that do not convert, an rvalue input; results of other types, and void (None).
    std::vector<Value> pairs = pool.map([](Interpreter&, const Point& p) { return std::pair(p.y, p.x); },
                                        std::vector<Point>{{1, 2}, {3, 4}, {5, 6}}, chunks_of(2))
                                   .get();
    CHECK(pairs == std::vector<Value>{Value::tuple({2, 1}), Value::tuple({4, 3}), Value::tuple({6, 5})});
    std::vector<Value> workers =
        pool.map([](Interpreter&, int) { return InterpreterPoolExecutor::current_worker().value_or(99); },
                 numbers(6))
            .get();
    for (const Value& w : workers) CHECK(w.as_int64() < 2); // called on the pool's workers
    std::atomic<int> calls{0};
    std::vector<Value> nothing = pool.map([&](Interpreter&, int) { ++calls; }, numbers(5), chunks_of(2)).get();
    CHECK(nothing == std::vector<Value>(5));
    CHECK(calls.load() == 5);
    CHECK(pool.map(square_plus_one, std::vector<int>{}).get().empty());
}

TEST_CASE("Map.callable_failures_name_the_first_failing_item" * doctest::timeout(60)) {
    InterpreterPoolExecutor pool(testing::pool_options(2, map_callable_helpers));
    for (std::size_t chunksize : {1, 10, 64}) {
        CAPTURE(chunksize);
        try {
            pool.map([](Interpreter& in, int x) { return in.call("__main__:fail_at", x); }, numbers(100),
                     chunks_of(chunksize))
                .get();
            FAIL("expected ItemError");
        } catch (const ItemError& e) {
            CHECK(e.index() == 37);
            CHECK(e.type_name() == "ValueError");
            CHECK(e.message() == "bad item 37");
        }
        // A C++ exception fails the future as it is; the first in input order wins.
        CHECK_THROWS_WITH_AS(pool.map(
                                     [](Interpreter&, int x) {
                                         if (x == 40 || x == 90) throw std::range_error("c++ item " + std::to_string(x));
                                         return x;
                                     },
                                     numbers(100), chunks_of(chunksize))
                                 .get(),
                             "c++ item 40", std::range_error);
    }
    // A result that cannot leave the interpreter, met inside f.
    CHECK_THROWS_WITH_AS(pool.map([](Interpreter& in, int x) { return in.eval(x == 5 ? "object()" : "1"); },
                                  numbers(8), chunks_of(3))
                             .get(),
                         doctest::Contains("item 5 result"), NotShareableError);
}

TEST_CASE("Map.callable_failure_cancels_the_chunks_after_it" * doctest::timeout(30)) {
    InterpreterPoolExecutor pool(testing::pool_options(1, map_callable_helpers));
    std::atomic<int> calls{0};
    CHECK_THROWS_AS(pool.map(
                            [&](Interpreter&, int x) {
                                ++calls;
                                if (x == 0) throw std::runtime_error("first item fails");
                                return x;
                            },
                            numbers(50), chunks_of(2))
                        .get(),
                    std::runtime_error);
    pool.submit_source("pass").get(); // every chunk the worker took is behind it
    CHECK(calls.load() == 1);
}

TEST_CASE("Map.callable_cancel_and_timeout_stop_the_chunks" * doctest::timeout(30)) {
    InterpreterPoolExecutor pool(testing::pool_options(1, map_callable_helpers));
    // A Python call inside f is interrupted; the chunks not yet run never run.
    Future<std::vector<Value>> all =
        pool.map([](Interpreter& in, int x) { return in.call("__main__:record_then_spin", x); }, numbers(10));
    wait_queue_depth(pool, 9);
    CHECK(all.cancel());
    CHECK_THROWS_AS(all.get(), CancelledError);
    CHECK(pool.submit("__main__:ran_count").get().as_int64() <= 1);
    // C++ polling stop_requested(): the timeout stops item 0, and the chunk stops before item 1.
    std::atomic<int> started{0};
    MapOptions options = chunks_of(10);
    options.timeout = 100ms;
    Future<std::vector<Value>> slow = pool.map(
        [&](Interpreter&, int x) {
            ++started;
            while (x == 0 && !InterpreterPoolExecutor::stop_requested()) std::this_thread::sleep_for(1ms);
            return x;
        },
        numbers(30), options);
    CHECK_THROWS_AS(slow.get(), TimeoutError);
    pool.submit_source("pass").get();
    CHECK(started.load() == 1);
}

TEST_CASE("Map.callable_options_are_checked_like_maps" * doctest::timeout(30)) {
    InterpreterPoolExecutor pool(testing::pool_options(1, map_callable_helpers));
    const auto ident = [](Interpreter&, int x) { return x; };
    CHECK_THROWS_WITH_AS(pool.map(ident, numbers(3), chunks_of(0)), doctest::Contains("chunksize"), UsageError);
    pool.shutdown();
    CHECK_THROWS_AS(pool.map(ident, numbers(3)), UsageError);
}

} // TEST_SUITE
