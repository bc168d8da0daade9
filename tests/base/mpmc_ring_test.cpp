// MpmcRing: the bounded queue under channels and the pool's shared task queue.

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include <isolates/base/impl/mpmc_ring.h>
#include "tests/support/doctest.h"

using isolates::base::MpmcRing;

namespace {
/// Pushes 1..n from two producers while two consumers pop; every item must come out once.
void check_every_item_once(MpmcRing<std::uintptr_t>& ring) {
    constexpr std::uintptr_t per_thread = 20000;
    std::atomic<std::uintptr_t> sum{0}, count{0};
    std::vector<std::thread> threads;
    for (std::uintptr_t p = 0; p < 2; ++p)
        threads.emplace_back([&, p] {
            for (std::uintptr_t k = 1; k <= per_thread; ++k)
                while (!ring.try_push(p * per_thread + k)) std::this_thread::yield();
        });
    for (int c = 0; c < 2; ++c)
        threads.emplace_back([&] {
            std::uintptr_t item = 0;
            while (count.load() < 2 * per_thread) {
                if (ring.try_pop(item)) {
                    sum += item;
                    ++count;
                } else {
                    std::this_thread::yield();
                }
            }
        });
    for (auto& t : threads) t.join();
    const std::uintptr_t n = 2 * per_thread;
    CHECK(count.load() == n);
    CHECK(sum.load() == n * (n + 1) / 2);
    CHECK(ring.size_approx() == 0);
}
} // namespace

TEST_SUITE("MpmcRing") {

TEST_CASE("MpmcRing.holds_exactly_its_slots_in_fifo_order" * doctest::timeout(30)) {
    for (std::size_t slots : {2, 3, 4, 5, 8}) {
        CAPTURE(slots);
        MpmcRing<int> ring(slots);
        int item = -1;
        CHECK_FALSE(ring.try_pop(item));
        // Several laps, so that wrapping at a slot count that is not a power of two is covered.
        for (int lap = 0; lap < 3; ++lap) {
            for (std::size_t k = 0; k < slots; ++k) CHECK(ring.try_push(static_cast<int>(k)));
            CHECK(ring.size_approx() == slots);
            CHECK_FALSE(ring.try_push(99));
            CHECK(ring.try_pop(item));
            CHECK(item == 0);
            CHECK(ring.try_push(99));
            for (std::size_t k = 1; k < slots; ++k) {
                CHECK(ring.try_pop(item));
                CHECK(item == static_cast<int>(k));
            }
            CHECK(ring.try_pop(item));
            CHECK(item == 99);
            CHECK_FALSE(ring.try_pop(item));
        }
    }
}

TEST_CASE("MpmcRing.many_producers_and_consumers_pass_every_item_once" * doctest::timeout(60)) {
    SUBCASE("power of two") {
        MpmcRing<std::uintptr_t> ring(64);
        check_every_item_once(ring);
    }
    SUBCASE("any other size") {
        MpmcRing<std::uintptr_t> ring(47);
        check_every_item_once(ring);
    }
}

} // TEST_SUITE
