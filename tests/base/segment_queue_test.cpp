// SegmentQueue: the unbounded queue under channels (a list of 31-slot blocks, freed by their
// last reader). The concurrent cases are what ASan and TSan check block reclamation with.

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "base/segment_queue.h"
#include "tests/support/doctest.h"

using isolates::base::SegmentQueue;

namespace {
constexpr std::uint64_t per_producer = 30000;

/// Item k of producer p: the producer in the high bits, so a consumer can check each producer's
/// order.
std::uint64_t item_of(std::uint64_t producer, std::uint64_t k) { return producer << 32 | k; }

/// `producers` threads push 1..per_producer each while `consumers` threads pop; every item must
/// come out exactly once, and each consumer must see each producer's items in increasing order.
void check_every_item_once_in_order(int producers, int consumers) {
    SegmentQueue<std::uint64_t> queue;
    const std::uint64_t total = per_producer * static_cast<std::uint64_t>(producers);
    std::atomic<std::uint64_t> popped{0}, sum{0};
    std::atomic<int> out_of_order{0};
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p)
        threads.emplace_back([&, p] {
            for (std::uint64_t k = 1; k <= per_producer; ++k) {
                queue.push(item_of(static_cast<std::uint64_t>(p), k));
                if (k % 1000 == 0) std::this_thread::yield(); // vary the interleaving
            }
        });
    for (int c = 0; c < consumers; ++c)
        threads.emplace_back([&] {
            std::vector<std::uint64_t> last(static_cast<std::size_t>(producers), 0);
            std::uint64_t item = 0;
            while (popped.load() < total) {
                if (!queue.try_pop(item)) {
                    std::this_thread::yield();
                    continue;
                }
                const std::uint64_t producer = item >> 32, k = item & 0xffffffffu;
                if (k <= last[producer]) ++out_of_order;
                last[producer] = k;
                sum += k;
                ++popped;
            }
        });
    for (auto& t : threads) t.join();
    CHECK(popped.load() == total);
    CHECK(sum.load() == static_cast<std::uint64_t>(producers) * per_producer * (per_producer + 1) / 2);
    CHECK(out_of_order.load() == 0);
    std::uint64_t item = 0;
    CHECK_FALSE(queue.try_pop(item));
    CHECK(queue.size_approx() == 0);
}
} // namespace

TEST_SUITE("SegmentQueue") {

TEST_CASE("SegmentQueue.fifo_and_exact_size_across_many_blocks" * doctest::timeout(30)) {
    SegmentQueue<int> queue;
    int item = -1;
    CHECK_FALSE(queue.try_pop(item));
    CHECK(queue.size_approx() == 0);
    // Fill-and-drain rounds of sizes around the block boundaries (31 slots a block), starting at
    // different offsets in a block each time.
    int next_in = 0, next_out = 0;
    for (int round : {1, 30, 31, 32, 61, 62, 63, 500, 7, 93}) {
        CAPTURE(round);
        for (int k = 0; k < round; ++k) {
            queue.push(next_in++);
            CHECK(queue.size_approx() == static_cast<std::size_t>(k + 1));
        }
        for (int k = 0; k < round; ++k) {
            REQUIRE(queue.try_pop(item));
            CHECK(item == next_out++);
            CHECK(queue.size_approx() == static_cast<std::size_t>(round - k - 1));
        }
        CHECK_FALSE(queue.try_pop(item));
    }
}

TEST_CASE("SegmentQueue.interleaved_pushes_and_pops_keep_fifo" * doctest::timeout(30)) {
    SegmentQueue<int> queue;
    int next_in = 0, next_out = 0, item = -1;
    // Two in, one out: the queue grows slowly while the head chases the tail through blocks.
    for (int k = 0; k < 3000; ++k) {
        queue.push(next_in++);
        queue.push(next_in++);
        REQUIRE(queue.try_pop(item));
        CHECK(item == next_out++);
    }
    CHECK(queue.size_approx() == static_cast<std::size_t>(next_in - next_out));
    while (queue.try_pop(item)) CHECK(item == next_out++);
    CHECK(next_out == next_in);
}

TEST_CASE("SegmentQueue.destroyed_with_items_queued_frees_its_blocks") {
    // Under ASan (LeakSanitizer) a block left behind is reported as a leak.
    for (int queued : {0, 1, 31, 100, 1000}) {
        CAPTURE(queued);
        SegmentQueue<std::uint64_t> queue;
        for (int k = 0; k < queued + 40; ++k) queue.push(static_cast<std::uint64_t>(k));
        std::uint64_t item = 0;
        for (int k = 0; k < 40; ++k) REQUIRE(queue.try_pop(item)); // some blocks already freed
        CHECK(queue.size_approx() == static_cast<std::size_t>(queued));
    }
}

TEST_CASE("SegmentQueue.many_producers_and_consumers_pass_every_item_once" * doctest::timeout(120)) {
    SUBCASE("one producer, one consumer") { check_every_item_once_in_order(1, 1); }
    SUBCASE("two producers, three consumers") { check_every_item_once_in_order(2, 3); }
    SUBCASE("four producers, two consumers") { check_every_item_once_in_order(4, 2); }
}

TEST_CASE("SegmentQueue.consumers_racing_to_free_blocks" * doctest::timeout(120)) {
    // Everything is queued first, then four consumers drain it at once: most blocks are freed
    // by whichever of several concurrent readers finishes last (the `destroy` hand-over).
    SegmentQueue<std::uint64_t> queue;
    constexpr std::uint64_t n = 200000;
    for (std::uint64_t k = 1; k <= n; ++k) queue.push(k);
    std::atomic<std::uint64_t> sum{0}, popped{0};
    std::vector<std::thread> consumers;
    for (int c = 0; c < 4; ++c)
        consumers.emplace_back([&] {
            std::uint64_t item = 0, local = 0, count = 0;
            while (queue.try_pop(item)) {
                local += item;
                ++count;
            }
            sum += local;
            popped += count;
        });
    for (auto& t : consumers) t.join();
    CHECK(popped.load() == n);
    CHECK(sum.load() == n * (n + 1) / 2);
}

} // TEST_SUITE
