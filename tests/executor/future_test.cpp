// Future: resolution, waiting, continuations, when_all/when_any, cancellation, std::future and
// co_await, without a pool (states resolved by hand or by a ThreadExecutor).

#include <atomic>
#include <chrono>
#include <coroutine>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "executor/future.h"
#include "executor/thread_executor.h"
#include "tests/doctest.h"
#include "tests/eager_coroutine.h"

using namespace isolates;
using namespace std::chrono_literals;

namespace {
template <class T> std::pair<std::shared_ptr<detail::SharedState<T>>, Future<T>> make_pending() {
    auto state = std::make_shared<detail::SharedState<T>>();
    return {state, Future<T>(state)};
}

using testing::Eager;

Eager add_awaited(Future<int> a, Future<int> b, std::atomic<int>& out) {
    const int x = co_await a;
    const int y = co_await b;
    out = x + y;
}

Eager await_failure(Future<int> a, std::string& out) {
    try {
        co_await a;
        out = "no exception";
    } catch (const std::exception& e) {
        out = e.what();
    }
}
} // namespace

TEST_SUITE("Future") {

TEST_CASE("Future.get_returns_value_or_rethrows" * doctest::timeout(10)) {
    auto [state, future] = make_pending<int>();
    CHECK(future.valid());
    CHECK_FALSE(future.ready());
    CHECK_FALSE(future.wait_for(10ms));
    std::thread resolver([state = state] { state->set_value(42); });
    CHECK(future.get() == 42);
    resolver.join();
    CHECK(future.ready());
    CHECK_FALSE(state->set_value(7)); // the first resolution wins
    CHECK(future.get() == 42);

    auto [failing, failed] = make_pending<std::string>();
    failing->fail(std::make_exception_ptr(std::runtime_error("boom")));
    CHECK_THROWS_WITH_AS(failed.get(), "boom", std::runtime_error);
    CHECK_FALSE(Future<int>().valid());
}

TEST_CASE("Future.rvalue_get_moves_the_value_of_a_sole_future_and_consumes_it" * doctest::timeout(10)) {
    auto [state, future] = make_pending<std::vector<int>>();
    std::thread resolver([state = state] { state->set_value(std::vector<int>(1000, 7)); });
    resolver.join();
    const int* stored = state->get().data();
    const std::vector<int> moved = std::move(future).get();
    CHECK(moved.size() == 1000);
    CHECK(moved.data() == stored); // moved out of the state, not copied
    CHECK_FALSE(future.valid());
    CHECK_THROWS_AS(std::move(future).get(), UsageError);
    CHECK_THROWS_WITH_AS(future.get(), doctest::Contains("invalid Future"), UsageError);
}

TEST_CASE("Future.rvalue_get_copies_while_another_copy_can_read_the_value" * doctest::timeout(10)) {
    auto [state, future] = make_pending<std::vector<int>>();
    state->set_value(std::vector<int>(1000, 7));
    const Future<std::vector<int>> kept = future;
    const std::vector<int> copied = std::move(future).get();
    CHECK(copied.data() != state->get().data());
    CHECK_FALSE(future.valid());
    CHECK(kept.get() == copied); // the other copy still reads the whole value
    Future<std::vector<int>> last = kept; // `kept` and `last`: two handles, so still a copy
    CHECK(std::move(last).get().size() == 1000);
    CHECK(kept.get().size() == 1000);

    auto [failing, failed] = make_pending<std::vector<int>>();
    failing->fail(std::make_exception_ptr(std::runtime_error("boom")));
    CHECK_THROWS_WITH_AS(std::move(failed).get(), "boom", std::runtime_error);
    CHECK_FALSE(failed.valid()); // consumed on a throw too
    CHECK_THROWS_AS(Future<void>().get(), UsageError);
}

TEST_CASE("Future.cancel_resolves_once_with_cancelled_error" * doctest::timeout(10)) {
    auto [state, future] = make_pending<void>();
    CHECK(future.cancel());
    CHECK(future.cancelled());
    CHECK_FALSE(future.cancel());
    CHECK_FALSE(state->set_value());
    CHECK_THROWS_AS(future.get(), CancelledError);
    auto [done, resolved] = make_pending<int>();
    done->set_value(1);
    CHECK_FALSE(resolved.cancel());
    CHECK(resolved.get() == 1);
}

TEST_CASE("Future.on_done_runs_once_on_the_resolving_thread_or_at_once" * doctest::timeout(10)) {
    auto [state, future] = make_pending<int>();
    std::thread::id ran_on;
    int calls = 0;
    future.on_done([&] {
        ++calls;
        ran_on = std::this_thread::get_id();
    });
    CHECK(calls == 0);
    std::thread resolver([state = state] { state->set_value(7); });
    const auto resolver_id = resolver.get_id();
    resolver.join();
    CHECK(calls == 1);
    CHECK(ran_on == resolver_id);
    future.on_done([&] { ++calls; }); // resolved already: now, on this thread
    CHECK(calls == 2);
    CHECK_FALSE(future.running());
}

TEST_CASE("Future.then_chains_values_and_passes_errors_on" * doctest::timeout(10)) {
    auto [state, future] = make_pending<int>();
    bool skipped_ran = false;
    Future<std::string> text = future.then([](int x) { return x * 2; }).then([](int x) {
        return std::to_string(x);
    });
    Future<int> seen = future.then([](Future<int> f) { return f.get() + 1; });
    state->set_value(20);
    CHECK(text.get() == "40");
    CHECK(seen.get() == 21);

    auto [bad_state, bad] = make_pending<int>();
    Future<int> skipped = bad.then([&](int x) { skipped_ran = true; return x; });
    Future<std::string> handled = bad.then([](Future<int> f) {
        try {
            f.get();
            return std::string("value");
        } catch (const std::exception& e) {
            return std::string("caught ") + e.what();
        }
    });
    Future<void> throwing = make_ready_future(1).then([](int) { throw std::logic_error("in then"); });
    bad_state->fail(std::make_exception_ptr(std::runtime_error("upstream")));
    CHECK_THROWS_WITH(skipped.get(), "upstream");
    CHECK_FALSE(skipped_ran);
    CHECK(handled.get() == "caught upstream");
    CHECK_THROWS_WITH_AS(throwing.get(), "in then", std::logic_error);
}

TEST_CASE("Future.then_runs_on_the_given_executor" * doctest::timeout(10)) {
    ThreadExecutor executor;
    auto [state, future] = make_pending<int>();
    Future<std::thread::id> where = future.then([](int) { return std::this_thread::get_id(); },
                                                executor);
    state->set_value(1);
    CHECK(where.get() != std::this_thread::get_id());
    Future<std::thread::id> inline_where =
        make_ready_future(1).then([](int) { return std::this_thread::get_id(); });
    CHECK(inline_where.get() == std::this_thread::get_id());
}

TEST_CASE("Future.when_all_keeps_order_and_reports_the_first_failure" * doctest::timeout(10)) {
    std::vector<std::shared_ptr<detail::SharedState<int>>> states;
    std::vector<Future<int>> futures;
    for (int k = 0; k < 5; ++k) {
        auto [s, f] = make_pending<int>();
        states.push_back(s);
        futures.push_back(f);
    }
    Future<std::vector<int>> all = when_all(futures);
    for (int k = 4; k >= 0; --k) {
        CHECK_FALSE(all.ready());
        states[k]->set_value(k * 10);
    }
    CHECK(all.get() == std::vector<int>{0, 10, 20, 30, 40});

    auto [a, fa] = make_pending<void>();
    auto [b, fb] = make_pending<void>();
    auto [c, fc] = make_pending<void>();
    Future<void> some_fail = when_all(std::vector<Future<void>>{fa, fb, fc});
    c->fail(std::make_exception_ptr(std::runtime_error("third")));
    b->fail(std::make_exception_ptr(std::runtime_error("second")));
    CHECK_FALSE(some_fail.ready()); // waits for every future
    a->set_value();
    CHECK_THROWS_WITH(some_fail.get(), "second");
    CHECK(when_all(std::vector<Future<int>>{}).get().empty());
}

TEST_CASE("Future.when_any_reports_the_first_to_resolve" * doctest::timeout(10)) {
    auto [a, fa] = make_pending<int>();
    auto [b, fb] = make_pending<int>();
    Future<std::size_t> any = when_any(std::vector<Future<int>>{fa, fb});
    CHECK_FALSE(any.ready());
    b->fail(std::make_exception_ptr(std::runtime_error("b failed")));
    a->set_value(1);
    CHECK(any.get() == 1);
    CHECK_THROWS_AS(when_any(std::vector<Future<int>>{}), UsageError);
}

TEST_CASE("Future.converts_to_std_future" * doctest::timeout(10)) {
    auto [state, future] = make_pending<int>();
    std::future<int> standard = future.to_std_future();
    CHECK(standard.wait_for(0s) == std::future_status::timeout);
    state->set_value(5);
    CHECK(standard.get() == 5);
    auto [bad_state, bad] = make_pending<void>();
    std::future<void> failing = bad.to_std_future();
    bad.cancel();
    CHECK_THROWS_AS(failing.get(), CancelledError);
}

TEST_CASE("Future.co_await_resumes_with_the_value_or_exception" * doctest::timeout(10)) {
    auto [a, fa] = make_pending<int>();
    std::atomic<int> sum{0};
    add_awaited(fa, make_ready_future(2), sum);
    CHECK(sum == 0); // suspended on a
    std::thread resolver([a = a] { a->set_value(40); });
    resolver.join();
    CHECK(sum == 42);

    auto [b, fb] = make_pending<int>();
    std::string message;
    await_failure(fb, message);
    b->fail(std::make_exception_ptr(std::runtime_error("awaited failure")));
    CHECK(message == "awaited failure");
}

} // TEST_SUITE
