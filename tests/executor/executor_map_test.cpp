// InterpreterPoolExecutor::map, starmap and imap: chunks that do and do not divide the input,
// failures carrying the item's index, cancellation and timeouts stopping the chunks not yet run,
// imap in order and as completed, its memory bound on an endless input, and early destruction.
// Also Interpreter::call_each, the loop a chunk runs on its worker.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <ranges>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <isolates/executor/interpreter_pool_executor.h>
#include <isolates/interp/interpreter.h>
#include "tests/support/doctest.h"
#include "tests/support/skip.h"
#include "tests/support/huge_page_advice.h"
#include "tests/support/pool_test_helpers.h"

using namespace isolates;
using namespace std::chrono_literals;

namespace {
constexpr const char* map_helpers = R"(
ran = []
def square(x):
    return x * x
def record(x):
    # Every item that starts leaves a trace, so a test can tell which chunks ran.
    ran.append(x)
    return x
def fail_at(x, bad=(37,)):
    if x in bad:
        raise ValueError(f"bad item {x}")
    return x
def fail_37_and_80(x):
    return fail_at(x, (37, 80))
def record_then_spin(x):
    ran.append(x)
    if x == 0:
        while True:
            pass
    return x
def record_then_fail(x):
    ran.append(x)
    if x == 0:
        raise RuntimeError("first item fails")
    return x
def unshareable_at_5(x):
    return (lambda: x) if x == 5 else x
def ran_count():
    return len(ran)
def add(*terms):
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total
def add_two(a, b):
    return a + b
)";

InterpreterPoolExecutor::Options map_pool_options(std::size_t workers) {
    return testing::pool_options(workers, map_helpers);
}

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

static_assert(std::ranges::input_range<MapStream>);
} // namespace

TEST_SUITE("Map") {

TEST_CASE("Map.chunks_keep_input_order_whether_or_not_they_divide_it" * doctest::timeout(60)) {
    InterpreterPoolExecutor pool(map_pool_options(2));
    const std::vector<int> items = numbers(100);
    for (std::size_t chunksize : {1, 3, 7, 10, 100, 1000}) {
        CAPTURE(chunksize);
        const auto before = pool.stats().submitted;
        std::vector<Value> results = pool.map("__main__:square", items, chunks_of(chunksize)).get();
        REQUIRE(results.size() == items.size());
        for (int k = 0; k < 100; ++k) CHECK(results[k].as_int64() == k * k);
        // One task per chunk: the items travelled together.
        CHECK(pool.stats().submitted - before == (items.size() + chunksize - 1) / chunksize);
    }
    // A builtin target, an rvalue input, a lazy view.
    std::vector<Value> strings = pool.map("builtins:str", numbers(10), chunks_of(4)).get();
    REQUIRE(strings.size() == 10);
    CHECK(strings[9].as_str() == "9");
    std::vector<Value> viewed = pool.map("__main__:square", std::views::iota(0, 5), chunks_of(2)).get();
    CHECK(viewed == std::vector<Value>{0, 1, 4, 9, 16});
    CHECK(pool.map("__main__:square", std::vector<int>{}, chunks_of(3)).get().empty());
}

TEST_CASE("Map.results_are_joined_whole_from_sized_and_unsized_inputs" * doctest::timeout(60)) {
    InterpreterPoolExecutor pool(map_pool_options(2));
    const auto check = [](const std::vector<Value>& results, int n) {
        REQUIRE(results.size() == static_cast<std::size_t>(n));
        for (int k = 0; k < n; ++k) CHECK(results[k].as_str() == std::to_string(k));
    };
    // Boxed results (str) moved out of many chunks; a sized input reserves the result once, a
    // filtered view (no size) grows it.
    const int n = 5000;
    check(pool.map("builtins:str", numbers(n), chunks_of(7)).get(), n);
    auto unsized = std::views::iota(0, 2 * n) | std::views::filter([](int k) { return k % 2 == 0; });
    static_assert(!std::ranges::sized_range<decltype(unsized)>);
    std::vector<Value> halves = pool.map("__main__:square", unsized, chunks_of(13)).get();
    REQUIRE(halves.size() == static_cast<std::size_t>(n));
    for (int k = 0; k < n; ++k) CHECK(halves[k].as_int64() == 4LL * k * k);

    // A second copy of the future keeps the whole value when the first is consumed.
    Future<std::vector<Value>> first = pool.map("builtins:str", numbers(n), chunks_of(100));
    const Future<std::vector<Value>> second = first;
    check(std::move(first).get(), n);
    CHECK_FALSE(first.valid());
    check(second.get(), n);
}

TEST_CASE("Map.a_large_result_is_written_on_huge_pages" * doctest::timeout(60)) {
    if (!testing::huge_pages_supported()) ISOLATES_SKIP("no transparent huge pages on this kernel");
    InterpreterPoolExecutor pool(map_pool_options(2));
    // 300000 results of 16 bytes: more than two whole 2 MiB pages, which the sized input's
    // reserved result advises before the chunks are joined into it.
    const int n = 300'000;
    std::vector<Value> results = pool.map("__main__:square", numbers(n), chunks_of(10'000)).get();
    REQUIRE(results.size() == static_cast<std::size_t>(n));
    CHECK(results[n - 1].as_int64() == std::int64_t(n - 1) * (n - 1));
    CHECK(testing::huge_page_advised(results.data() + n / 2));
}

TEST_CASE("Map.bad_options_are_usage_errors" * doctest::timeout(30)) {
    InterpreterPoolExecutor pool(map_pool_options(1));
    CHECK_THROWS_WITH_AS(pool.map("__main__:square", numbers(3), chunks_of(0)),
                         doctest::Contains("chunksize"), UsageError);
    CHECK_THROWS_AS(pool.starmap("__main__:add", std::vector<Value>{}, chunks_of(0)), UsageError);
    CHECK_THROWS_AS(pool.imap("__main__:square", numbers(3), chunks_of(0)), UsageError);
    MapOptions negative;
    negative.timeout = -1ms;
    CHECK_THROWS_AS(pool.map("__main__:square", numbers(3), negative), UsageError);
    // A malformed target fails the chunks, like submit().
    CHECK_THROWS_AS(pool.map("no_colon", numbers(3)).get(), UsageError);
    pool.shutdown();
    CHECK_THROWS_AS(pool.map("__main__:square", numbers(3)), UsageError);
    CHECK_THROWS_AS(pool.imap("__main__:square", numbers(3)), UsageError);
}

TEST_CASE("Map.starmap_unpacks_each_item" * doctest::timeout(30)) {
    InterpreterPoolExecutor pool(map_pool_options(2));
    std::vector<std::tuple<int, int>> pairs;
    for (int k = 0; k < 25; ++k) pairs.emplace_back(k, 100);
    std::vector<Value> sums = pool.starmap("__main__:add", pairs, chunks_of(4)).get();
    REQUIRE(sums.size() == 25);
    for (int k = 0; k < 25; ++k) CHECK(sums[k].as_int64() == k + 100);
    // Value tuples and lists (std::vector<Value>), of different lengths.
    std::vector<Value> mixed{Value::tuple({1, 2}), Value(std::vector<Value>{1, 2, 3}),
                             Value::tuple({std::string("a"), std::string("b")})};
    std::vector<Value> results = pool.starmap("__main__:add", mixed, chunks_of(2)).get();
    CHECK(results == std::vector<Value>{3, 6, std::string("ab")});
    // An item that is not a tuple of arguments.
    std::vector<Value> wrong{Value::tuple({1, 2}), Value::tuple({3, 4}), Value(5)};
    CHECK_THROWS_WITH_AS(pool.starmap("__main__:add", wrong), doctest::Contains("item 2 is int"),
                         UsageError);
    // A wrong number of arguments is the item's Python error.
    try {
        pool.starmap("__main__:add_two", std::vector<Value>{Value::tuple({1, 2}), Value::tuple({1})}).get();
        FAIL("expected ItemError");
    } catch (const ItemError& e) {
        CHECK(e.index() == 1);
        CHECK(e.type_name() == "TypeError");
    }
}

TEST_CASE("Map.a_failing_item_names_its_index" * doctest::timeout(30)) {
    InterpreterPoolExecutor pool(map_pool_options(2));
    for (std::size_t chunksize : {1, 10, 64}) {
        CAPTURE(chunksize);
        try {
            pool.map("__main__:fail_at", numbers(100), chunks_of(chunksize)).get();
            FAIL("expected ItemError");
        } catch (const ItemError& e) {
            CHECK(e.index() == 37);
            CHECK(e.type_name() == "ValueError");
            CHECK(e.message() == "bad item 37");
            CHECK(e.traceback().find("in fail_at") != std::string::npos);
            CHECK(std::string(e.what()).find("item 37 failed") == 0);
        }
        // Two failures: the first in input order wins, whichever ran first.
        try {
            pool.map("__main__:fail_37_and_80", numbers(100), chunks_of(chunksize)).get();
            FAIL("expected ItemError");
        } catch (const ItemError& e) {
            CHECK(e.index() == 37);
        }
    }
    // Still a PythonError for callers that catch that.
    CHECK_THROWS_AS(pool.map("__main__:fail_at", numbers(40), chunks_of(8)).get(), PythonError);
    // A result that cannot leave its interpreter.
    CHECK_THROWS_WITH_AS(pool.map("__main__:unshareable_at_5", numbers(10), chunks_of(3)).get(),
                         doctest::Contains("item 5 result"), NotShareableError);
}

TEST_CASE("Map.a_failure_cancels_the_chunks_after_it" * doctest::timeout(30)) {
    // One worker runs the chunks in order: the first item fails, and no later chunk runs.
    InterpreterPoolExecutor pool(map_pool_options(1));
    CHECK_THROWS_AS(pool.map("__main__:record_then_fail", numbers(50), chunks_of(2)).get(), ItemError);
    CHECK(pool.submit("__main__:ran_count").get().as_int64() == 1);
}

TEST_CASE("Map.cancel_cancels_the_chunks_not_yet_run" * doctest::timeout(30)) {
    InterpreterPoolExecutor pool(map_pool_options(1));
    Future<std::vector<Value>> all = pool.map("__main__:record_then_spin", numbers(10));
    wait_queue_depth(pool, 9); // the worker runs item 0, which spins
    CHECK(all.cancel());
    CHECK_THROWS_AS(all.get(), CancelledError);
    // The spinning item was interrupted (perhaps before its first line ran: the worker had only
    // taken it) and the other nine never ran.
    CHECK(pool.submit("__main__:ran_count").get().as_int64() <= 1);
    CHECK(pool.stats().cancelled >= 10);
}

TEST_CASE("Map.timeout_fails_the_future_and_cancels_the_rest" * doctest::timeout(30)) {
    InterpreterPoolExecutor pool(map_pool_options(1));
    MapOptions options;
    options.timeout = 100ms;
    Future<std::vector<Value>> all = pool.map("__main__:record_then_spin", numbers(10), options);
    CHECK_THROWS_AS(all.get(), TimeoutError);
    // Item 0 (if the worker got to it in time) was interrupted; without the cancellation the
    // other nine would run after it.
    CHECK(pool.submit("__main__:ran_count").get().as_int64() <= 1);
}

TEST_CASE("Map.imap_yields_in_input_order" * doctest::timeout(30)) {
    InterpreterPoolExecutor pool(map_pool_options(2));
    MapOptions options = chunks_of(7);
    options.buffersize = 3;
    std::size_t next = 0;
    MapStream stream = pool.imap("__main__:square", std::views::iota(0, 100), options);
    for (MapStream::iterator it = stream.begin(); it != std::default_sentinel; ++it) {
        CHECK(it.index() == next);
        CHECK(it->as_int64() == static_cast<std::int64_t>(next * next));
        ++next;
    }
    CHECK(next == 100);
    // Range-for over a borrowed container, default options; an empty input.
    const std::vector<int> items = numbers(20);
    std::vector<Value> seen;
    for (const Value& v : pool.imap("__main__:square", items)) seen.push_back(v);
    REQUIRE(seen.size() == 20);
    CHECK(seen[19].as_int64() == 361);
    for (const Value& v : pool.imap("__main__:square", std::vector<int>{})) FAIL("no item " << v.repr());
}

TEST_CASE("Map.imap_unordered_yields_every_result_as_completed" * doctest::timeout(30)) {
    InterpreterPoolExecutor pool(map_pool_options(2));
    MapOptions options = chunks_of(5);
    options.ordered = false;
    options.buffersize = 4;
    std::set<std::size_t> indices;
    MapStream stream = pool.imap("__main__:square", std::views::iota(0, 203), options);
    for (auto it = stream.begin(); it != stream.end(); ++it) {
        CHECK(it->as_int64() == static_cast<std::int64_t>(it.index() * it.index()));
        CHECK(indices.insert(it.index()).second);
    }
    CHECK(indices.size() == 203);
    CHECK(*indices.rbegin() == 202);
}

TEST_CASE("Map.imap_pulls_an_endless_input_only_as_far_as_its_buffer" * doctest::timeout(60)) {
    InterpreterPoolExecutor pool(map_pool_options(2));
    for (bool ordered : {true, false}) {
        CAPTURE(ordered);
        const std::thread::id consumer = std::this_thread::get_id();
        std::size_t pulled = 0;
        bool pulled_elsewhere = false;
        auto endless = std::views::iota(std::int64_t{0}) | std::views::transform([&](std::int64_t x) {
                           ++pulled;
                           pulled_elsewhere |= std::this_thread::get_id() != consumer;
                           return x;
                       });
        MapOptions options = chunks_of(8);
        options.buffersize = 3;
        options.ordered = ordered;
        MapStream stream = pool.imap("__main__:square", std::move(endless), options);
        CHECK(pulled <= 3 * 8); // imap() submits the first chunks only
        std::size_t consumed = 0;
        for (const Value& v : stream) {
            ++consumed;
            CHECK(v.as_int64() >= 0);
            CHECK(pulled - consumed < 3 * 8); // never more than buffersize chunks ahead
            if (consumed == 500) break;
        }
        CHECK(consumed == 500);
        CHECK_FALSE(pulled_elsewhere);
    } // each stream is destroyed with chunks in flight
}

TEST_CASE("Map.imap_throws_an_items_failure_where_the_iteration_reaches_it" * doctest::timeout(30)) {
    InterpreterPoolExecutor pool(map_pool_options(2));
    MapOptions options = chunks_of(10);
    MapStream stream = pool.imap("__main__:fail_at", numbers(50), options);
    std::vector<std::int64_t> seen;
    try {
        for (const Value& v : stream) seen.push_back(v.as_int64());
        FAIL("expected ItemError");
    } catch (const ItemError& e) {
        CHECK(e.index() == 37);
        CHECK(e.type_name() == "ValueError");
    }
    REQUIRE(seen.size() == 37);
    for (std::size_t k = 0; k < seen.size(); ++k) CHECK(seen[k] == static_cast<std::int64_t>(k));
    CHECK(stream.begin() == stream.end()); // over after the failure
    // The input's own exception comes after the items before it.
    auto throwing = std::views::iota(0, 20) | std::views::transform([](int x) {
                        if (x == 12) throw std::runtime_error("input broke at 12");
                        return x;
                    });
    std::size_t count = 0;
    CHECK_THROWS_WITH_AS(
        [&] {
            for (const Value& v : pool.imap("__main__:square", throwing, chunks_of(5))) {
                CHECK(v.as_int64() == static_cast<std::int64_t>(count * count));
                ++count;
            }
        }(),
        "input broke at 12", std::runtime_error);
    CHECK(count == 12);
}

TEST_CASE("Map.destroying_an_imap_early_cancels_what_has_not_run" * doctest::timeout(30)) {
    InterpreterPoolExecutor pool(map_pool_options(1));
    {
        MapOptions options;
        options.buffersize = 4;
        MapStream stream = pool.imap("__main__:record_then_spin", numbers(100), options);
        wait_queue_depth(pool, 3); // item 0 spins on the only worker
    } // returns although a chunk runs for ever: it is interrupted
    CHECK(pool.submit("__main__:ran_count").get().as_int64() <= 1); // items 1..99 never ran
    // A stream never iterated, and one stopped by cancel().
    { MapStream unused = pool.imap("__main__:square", std::views::iota(0)); }
    MapStream stream = pool.imap("__main__:square", std::views::iota(0));
    CHECK((*stream.begin()).as_int64() == 0);
    stream.cancel();
    CHECK(stream.begin() == stream.end());
}

TEST_CASE("Map.imap_timeout_throws_from_the_iteration" * doctest::timeout(30)) {
    InterpreterPoolExecutor pool(map_pool_options(1));
    for (bool ordered : {true, false}) {
        MapOptions options;
        options.timeout = 100ms;
        options.ordered = ordered;
        MapStream stream = pool.imap("__main__:record_then_spin", numbers(5), options);
        CHECK_THROWS_AS(stream.begin(), TimeoutError);
        CHECK(stream.begin() == stream.end());
    }
}

TEST_CASE("Map.call_each_runs_a_chunk_in_one_call" * doctest::timeout(30)) {
    Interpreter in;
    in.exec("def inv(x):\n    return 1 / x\n");
    const std::vector<Value> items{1, 2, 0, 4};
    auto [results, failure] = in.call_each("__main__:inv", std::span(items).first(2));
    CHECK(results == Value::tuple({1.0, 0.5}));
    CHECK_FALSE(failure);
    auto partial = in.call_each("__main__:inv", items);
    CHECK(partial.results == Value::tuple({1.0, 0.5}));
    REQUIRE(partial.failure);
    CHECK_THROWS_WITH_AS(std::rethrow_exception(partial.failure), doctest::Contains("ZeroDivisionError"),
                         PythonError);
    auto unpacked = in.call_each("builtins:pow", std::vector<Value>{Value::tuple({2, 10}), Value::list({3, 2})}, true);
    CHECK(unpacked.results == Value::tuple({1024, 9}));
    CHECK_FALSE(unpacked.failure);
    CHECK(in.call_each("builtins:abs", std::vector<Value>{}).results == Value::tuple(std::vector<Value>{}));
    CHECK_THROWS_AS(in.call_each("no_such_module_xyz:f", items), PythonError);
}

} // TEST_SUITE
