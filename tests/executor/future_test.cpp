// Future: resolution, waiting, continuations, when_all/when_any/as_completed, cancellation,
// std::future and co_await, without a pool (states resolved by hand or by a ThreadExecutor).

#include <atomic>
#include <chrono>
#include <coroutine>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <isolates/executor/as_completed.h>
#include <isolates/executor/future.h>
#include <isolates/executor/thread_executor.h>
#include "tests/support/doctest.h"
#include "tests/support/eager_coroutine.h"

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
    CHECK(future.wait_for(10ms) == std::future_status::timeout);
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

TEST_CASE("Future.wait_for_and_wait_until_return_a_std_future_status" * doctest::timeout(10)) {
    auto [state, future] = make_pending<int>();
    CHECK(future.wait_for(1ms) == std::future_status::timeout);
    CHECK(future.wait_until(std::chrono::system_clock::now() + 1ms) == std::future_status::timeout);
    CHECK(future.wait_until(std::chrono::steady_clock::now() - 1s) == std::future_status::timeout);
    std::thread resolver([state = state] { state->set_value(3); });
    CHECK(future.wait_for(std::chrono::hours(1)) == std::future_status::ready);
    resolver.join();
    CHECK(future.wait_for(0s) == std::future_status::ready);
    CHECK(future.wait_until(std::chrono::system_clock::now()) == std::future_status::ready);
}

TEST_CASE("Future.get_for_throws_timeout_error_and_leaves_the_task_alone" * doctest::timeout(10)) {
    auto [state, future] = make_pending<int>();
    CHECK_THROWS_WITH_AS(future.get_for(20ms), doctest::Contains("not resolved within 20 ms"),
                         TimeoutError);
    CHECK_FALSE(future.ready());
    CHECK_FALSE(future.cancelled());
    std::thread resolver([state = state] { state->set_value(9); });
    CHECK(future.get_for(std::chrono::hours(1)) == 9);
    resolver.join();
    auto [failing, failed] = make_pending<void>();
    failing->fail(std::make_exception_ptr(std::runtime_error("task failed")));
    CHECK_THROWS_WITH_AS(failed.get_for(1s), "task failed", std::runtime_error);
}

TEST_CASE("Future.exception_waits_and_returns_the_error_or_null" * doctest::timeout(10)) {
    auto [state, future] = make_pending<std::string>();
    std::thread resolver([state = state] { state->fail(std::make_exception_ptr(std::runtime_error("bad"))); });
    const std::exception_ptr error = future.exception(); // blocks until the thread resolved it
    resolver.join();
    REQUIRE(error != nullptr);
    CHECK_THROWS_WITH_AS(std::rethrow_exception(error), "bad", std::runtime_error);
    CHECK(make_ready_future(1).exception() == nullptr);
    auto [cancelled_state, cancelled] = make_pending<int>();
    cancelled.cancel();
    CHECK_THROWS_AS(std::rethrow_exception(cancelled.exception()), CancelledError);
}

TEST_CASE("Future.when_any_called_again_on_the_rest_leaves_no_callbacks_behind" *
          doctest::timeout(10)) {
    // A long-lived future that never resolves, raced 1000 times against fresh ones.
    auto [slow_state, slow] = make_pending<int>();
    for (int round = 0; round < 1000; ++round) {
        auto [fresh_state, fresh] = make_pending<int>();
        Future<std::size_t> any = when_any(std::vector<Future<int>>{slow, fresh});
        CHECK(slow_state->callback_count() == 1);
        fresh_state->set_value(round);
        REQUIRE(any.get() == 1);
        REQUIRE(slow_state->callback_count() == 0);
    }
    // Cancelling the when_any future takes its callbacks back too.
    Future<std::size_t> abandoned = when_any(std::vector<Future<int>>{slow});
    abandoned.cancel();
    CHECK(slow_state->callback_count() == 0);

    // The winner erased and when_any called again on the rest, one resolved already.
    std::vector<std::shared_ptr<detail::SharedState<int>>> states;
    std::vector<Future<int>> rest;
    for (int k = 0; k < 4; ++k) {
        auto [s, f] = make_pending<int>();
        states.push_back(s);
        rest.push_back(f);
    }
    states[2]->set_value(2);
    std::vector<int> order;
    for (int step = 0; step < 4; ++step) {
        Future<std::size_t> any = when_any(rest);
        if (step == 1) states[0]->fail(std::make_exception_ptr(std::runtime_error("zero")));
        if (step == 2) states[3]->set_value(3);
        if (step == 3) states[1]->set_value(1);
        const std::size_t index = any.get();
        try {
            order.push_back(rest[index].get());
        } catch (const std::runtime_error&) {
            order.push_back(0);
        }
        rest.erase(rest.begin() + static_cast<std::ptrdiff_t>(index));
        for (auto& s : states) CHECK(s->callback_count() == 0);
    }
    CHECK(order == std::vector<int>{2, 0, 3, 1});
}

TEST_CASE("Future.as_completed_yields_futures_in_the_order_they_resolve" * doctest::timeout(10)) {
    std::vector<std::shared_ptr<detail::SharedState<int>>> states;
    std::vector<Future<int>> futures;
    for (int k = 0; k < 5; ++k) {
        auto [s, f] = make_pending<int>();
        states.push_back(s);
        futures.push_back(f);
    }
    states[3]->set_value(30); // resolved before: comes first
    auto completed = as_completed(futures);
    CHECK(completed.size() == 5);
    states[1]->fail(std::make_exception_ptr(std::runtime_error("one failed")));
    states[0]->set_value(0);
    // The last two resolve on another thread while the loop waits for them.
    std::atomic<int> yielded{0};
    std::thread resolver([&] {
        while (yielded < 3) std::this_thread::yield();
        states[4]->set_value(40);
        while (yielded < 4) std::this_thread::yield();
        states[2]->set_value(20);
    });
    std::vector<std::size_t> order;
    for (auto it = completed.begin(); it != completed.end(); ++it) {
        CHECK(it->ready());
        order.push_back(it.index());
        if (it.index() == 1) CHECK_THROWS_WITH(it->get(), "one failed");
        else CHECK(it->get() == static_cast<int>(it.index()) * 10);
        ++yielded;
    }
    resolver.join();
    CHECK(order == std::vector<std::size_t>{3, 1, 0, 4, 2});

    int count = 0;
    for (const Future<int>& f : as_completed(std::vector<Future<int>>{})) count += f.get();
    CHECK(count == 0);
    CHECK_THROWS_AS(as_completed(std::vector<Future<int>>{Future<int>()}), UsageError);
}

TEST_CASE("Future.as_completed_dropped_early_takes_its_callbacks_back" * doctest::timeout(10)) {
    auto [done, first] = make_pending<int>();
    auto [pending, second] = make_pending<int>();
    done->set_value(1);
    {
        auto completed = as_completed(std::vector<Future<int>>{first, second});
        CHECK(pending->callback_count() == 1);
        CHECK(completed.begin().index() == 0);
    }
    CHECK(pending->callback_count() == 0);
    CHECK(pending->set_value(2)); // and resolving it later reaches nothing gone
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
