// EventCount: the sleep and wake-up under channels and the pool's idle workers.

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <isolates/base/impl/event_count.h>
#include "tests/support/doctest.h"

using isolates::base::EventCount;
using namespace std::chrono_literals;

namespace {
/// Waits on `event` until `tokens` has one for it, then takes it.
void take_token(EventCount& event, std::atomic<int>& tokens) {
    for (;;) {
        int available = tokens.load();
        if (available > 0 && tokens.compare_exchange_strong(available, available - 1)) return;
        const auto key = event.prepare_wait();
        available = tokens.load();
        if (available > 0) {
            event.cancel_wait();
            continue;
        }
        event.wait(key);
    }
}
} // namespace

TEST_SUITE("EventCount") {

TEST_CASE("EventCount.wait_times_out_when_nobody_notifies" * doctest::timeout(30)) {
    EventCount event;
    const auto key = event.prepare_wait();
    const auto start = std::chrono::steady_clock::now();
    CHECK_FALSE(event.wait(key, start + 20ms));
    CHECK(std::chrono::steady_clock::now() - start >= 20ms);
}

TEST_CASE("EventCount.a_wait_prepared_before_a_notify_returns_at_once" * doctest::timeout(30)) {
    EventCount event;
    SUBCASE("notify_all") {
        const auto key = event.prepare_wait();
        event.notify_all();
        CHECK(event.wait(key, std::chrono::steady_clock::now() + 10s));
    }
    SUBCASE("notify_one") {
        const auto key = event.prepare_wait();
        event.notify_one();
        CHECK(event.wait(key, std::chrono::steady_clock::now() + 10s));
    }
}

TEST_CASE("EventCount.no_wake_up_is_lost" * doctest::timeout(120)) {
    // Each token is handed to exactly one sleeper by notify_one (SUBCASE one) or to all of them
    // by notify_all; a lost wake-up leaves a consumer asleep with a token available (a hang).
    constexpr int consumers = 3;
    constexpr int per_consumer = 5000;
    for (bool one : {true, false}) {
        CAPTURE(one);
        EventCount event;
        std::atomic<int> tokens{0};
        std::vector<std::thread> threads;
        for (int c = 0; c < consumers; ++c)
            threads.emplace_back([&] {
                for (int k = 0; k < per_consumer; ++k) take_token(event, tokens);
            });
        for (int k = 0; k < consumers * per_consumer; ++k) {
            tokens.fetch_add(1);
            if (one) event.notify_one();
            else event.notify_all();
            if (k % 64 == 0) std::this_thread::yield();
        }
        for (auto& t : threads) t.join();
        CHECK(tokens.load() == 0);
    }
}

} // TEST_SUITE
