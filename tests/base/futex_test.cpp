// futex_wait / futex_wake: the one futex(2) wrapper under EventCount and the shared-memory rings.

#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <thread>

#include <isolates/base/impl/futex.h>
#include "tests/support/doctest.h"

using namespace isolates::base;
using namespace std::chrono_literals;

TEST_SUITE("Futex") {

TEST_CASE("Futex.wait_times_out_while_the_word_holds_the_value" * doctest::timeout(30)) {
    for (const bool shared : {false, true}) {
        std::atomic<std::uint32_t> word{7};
        const auto start = std::chrono::steady_clock::now();
        CHECK_FALSE(futex_wait(word, 7, 20ms, shared));
        CHECK(std::chrono::steady_clock::now() - start >= 20ms);
        CHECK_FALSE(futex_wait(word, 7, 0ns, shared)); // no time at all: a timeout at once
    }
}

TEST_CASE("Futex.wait_returns_at_once_when_the_word_changed" * doctest::timeout(30)) {
    std::atomic<std::uint32_t> word{1};
    CHECK(futex_wait(word, 0, std::nullopt, true)); // EAGAIN: not a timeout
    CHECK(futex_wait(word, 0, 10s, false));
    CHECK(futex_wait(word, 0, 0ns, true));
}

TEST_CASE("Futex.wake_wakes_a_sleeper_without_a_timeout" * doctest::timeout(30)) {
    for (const bool shared : {false, true}) {
        std::atomic<std::uint32_t> word{0};
        std::atomic<bool> woke{false};
        std::thread sleeper([&] {
            while (word.load() == 0) futex_wait(word, 0, std::nullopt, shared);
            woke = true;
        });
        std::this_thread::sleep_for(10ms);
        CHECK_FALSE(woke.load());
        word.store(1);
        futex_wake(word, INT_MAX, shared);
        sleeper.join();
        CHECK(woke.load());
    }
}

} // TEST_SUITE
