// FrameRing: the lock-free SPSC ring of byte frames that process workers share with the host.
// Here both ends are threads of this process over ordinary memory; shm_link_test.cpp puts them
// in two processes.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <random>
#include <thread>
#include <vector>

#include "process/detail/frame_ring.h"
#include "tests/support/doctest.h"
#include "tests/support/frame_bytes.h"

using namespace isolates::detail;
using namespace std::chrono_literals;

namespace {

using isolates::testing::frame_bytes;

/// A ring in 64-byte aligned memory, with the producer's handle and the consumer's.
struct LocalRing {
    explicit LocalRing(std::size_t capacity)
        : size(FrameRing::footprint(capacity)),
          memory(zeroed(size)),
          producer(FrameRing::create({memory.get(), size}, capacity)),
          consumer(FrameRing::attach({memory.get(), size}, capacity)) {}

    /// Zeroed: no stale bytes of an earlier test in it (the corruption test looks for a frame).
    static std::byte* zeroed(std::size_t size) {
        auto* bytes = static_cast<std::byte*>(::operator new(size, std::align_val_t{64}));
        std::memset(bytes, 0, size);
        return bytes;
    }
    struct Free {
        void operator()(std::byte* p) const noexcept { ::operator delete(p, std::align_val_t{64}); }
    };
    std::size_t size;
    std::unique_ptr<std::byte, Free> memory;
    FrameRing producer;
    FrameRing consumer;
};


RingWait for_at_most(std::chrono::milliseconds limit) {
    RingWait wait;
    wait.deadline = std::chrono::steady_clock::now() + limit;
    return wait;
}

} // namespace

TEST_SUITE("FrameRing") {

TEST_CASE("FrameRing.frames_of_any_size_arrive_whole_and_in_order_across_wrap_around" * doctest::timeout(120)) {
    LocalRing ring(1024);
    const std::size_t capacity = ring.producer.capacity();
    REQUIRE(capacity == 1024);
    std::vector<std::size_t> sizes = {0, 1, 7, 8, 9, 63, capacity - 8, capacity - 7, capacity, capacity + 1, 10 * capacity, 0, 3};
    std::mt19937 random(42);
    for (int i = 0; i < 3000; ++i) sizes.push_back(random() % 3 ? random() % 200 : random() % (3 * capacity));
    std::atomic<int> send_failures{0};
    std::thread producer([&] {
        for (std::size_t i = 0; i < sizes.size(); ++i)
            if (ring.producer.send(frame_bytes(i, sizes[i]), for_at_most(30s)) != RingStatus::ok) ++send_failures;
    });
    std::vector<std::byte> frame;
    int bad = 0;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        if (ring.consumer.receive(frame, for_at_most(30s)) != RingStatus::ok || frame != frame_bytes(i, sizes[i])) {
            ++bad;
            break;
        }
    }
    producer.join();
    CHECK(bad == 0);
    CHECK(send_failures == 0);
    CHECK_FALSE(ring.consumer.closed());
    CHECK(ring.consumer.receive(frame, for_at_most(1ms)) == RingStatus::timed_out);
}

TEST_CASE("FrameRing.frames_sent_before_close_are_received_then_closed" * doctest::timeout(30)) {
    LocalRing ring(256);
    const std::vector<std::byte> one = frame_bytes(1, 10), two = frame_bytes(2, 0);
    CHECK(ring.producer.send(one) == RingStatus::ok);
    CHECK(ring.producer.send(two) == RingStatus::ok);
    ring.consumer.close();
    CHECK(ring.producer.closed());
    CHECK(ring.producer.send(one) == RingStatus::closed);
    std::vector<std::byte> frame(100);
    CHECK(ring.consumer.receive(frame) == RingStatus::ok);
    CHECK(frame == one);
    CHECK(ring.consumer.receive(frame) == RingStatus::ok);
    CHECK(frame.empty());
    CHECK(ring.consumer.receive(frame) == RingStatus::closed);
    ring.producer.close(); // idempotent
    CHECK(ring.consumer.receive(frame) == RingStatus::closed);
    CHECK(FrameRing().send(one) == RingStatus::closed); // an empty handle
}

TEST_CASE("FrameRing.close_wakes_a_sender_asleep_on_a_full_ring" * doctest::timeout(30)) {
    LocalRing ring(256);
    REQUIRE(ring.producer.send(frame_bytes(0, 248)) == RingStatus::ok); // one record fills it
    std::atomic<int> status{-1};
    std::thread sender([&] { status = static_cast<int>(ring.producer.send(frame_bytes(1, 248))); });
    std::this_thread::sleep_for(50ms);
    CHECK(status == -1); // asleep: no deadline, no keep_waiting
    ring.consumer.close();
    sender.join();
    CHECK(status == static_cast<int>(RingStatus::closed));
}

TEST_CASE("FrameRing.close_wakes_a_receiver_asleep_on_an_empty_ring" * doctest::timeout(30)) {
    LocalRing ring(256);
    std::atomic<int> status{-1};
    std::thread receiver([&] {
        std::vector<std::byte> frame;
        status = static_cast<int>(ring.consumer.receive(frame));
    });
    std::this_thread::sleep_for(50ms);
    CHECK(status == -1);
    ring.producer.close();
    receiver.join();
    CHECK(status == static_cast<int>(RingStatus::closed));
}

TEST_CASE("FrameRing.a_deadline_gives_timed_out" * doctest::timeout(30)) {
    LocalRing ring(256);
    std::vector<std::byte> frame;
    auto start = std::chrono::steady_clock::now();
    CHECK(ring.consumer.receive(frame, for_at_most(30ms)) == RingStatus::timed_out);
    CHECK(std::chrono::steady_clock::now() - start >= 30ms);
    REQUIRE(ring.producer.send(frame_bytes(0, 200)) == RingStatus::ok);
    start = std::chrono::steady_clock::now();
    CHECK(ring.producer.send(frame_bytes(1, 200), for_at_most(30ms)) == RingStatus::timed_out);
    CHECK(std::chrono::steady_clock::now() - start >= 30ms);
    CHECK_FALSE(ring.producer.closed()); // a whole frame that did not go leaves the ring as it was
    CHECK(ring.consumer.receive(frame) == RingStatus::ok);
    CHECK(frame == frame_bytes(0, 200));
}

TEST_CASE("FrameRing.keep_waiting_false_gives_up" * doctest::timeout(30)) {
    LocalRing ring(256);
    std::atomic<int> asked{0};
    RingWait wait;
    wait.poll = 10ms;
    wait.keep_waiting = [&] { return ++asked < 3; };
    std::vector<std::byte> frame;
    CHECK(ring.consumer.receive(frame, wait) == RingStatus::gave_up);
    CHECK(asked == 3);
    asked = 0;
    REQUIRE(ring.producer.send(frame_bytes(0, 200)) == RingStatus::ok);
    CHECK(ring.producer.send(frame_bytes(1, 200), wait) == RingStatus::gave_up);
}

TEST_CASE("FrameRing.a_receive_that_ran_out_part_way_through_a_frame_in_pieces_goes_on_with_it" * doctest::timeout(30)) {
    LocalRing ring(256);
    const auto big = frame_bytes(7, 1000);
    std::thread producer([&] {
        std::this_thread::sleep_for(100ms); // while the consumer's first receive has run out
        CHECK(ring.producer.send(big, for_at_most(10s)) == RingStatus::ok);
    });
    // Receives with 1 ms deadlines while the frame arrives in pieces: wherever the deadlines fall,
    // before the frame or part-way through it, the frame comes out whole.
    std::vector<std::byte> frame;
    RingStatus status = RingStatus::timed_out;
    for (int i = 0; i < 1000 && status == RingStatus::timed_out; ++i) status = ring.consumer.receive(frame, for_at_most(1ms));
    producer.join();
    CHECK(status == RingStatus::ok);
    CHECK(frame == big);
}

TEST_CASE("FrameRing.a_sender_that_runs_out_part_way_through_a_frame_in_pieces_closes_the_ring" * doctest::timeout(30)) {
    LocalRing ring(256);
    CHECK(ring.producer.send(frame_bytes(0, 2000), for_at_most(20ms)) == RingStatus::timed_out);
    CHECK(ring.producer.closed());
    std::vector<std::byte> frame;
    CHECK(ring.consumer.receive(frame, for_at_most(20ms)) == RingStatus::closed); // only pieces: no whole frame
}

TEST_CASE("FrameRing.a_corrupted_record_closes_the_ring_without_reading_past_it" * doctest::timeout(30)) {
    // The peer may be buggy or dead half-way through a write: what the ring holds is checked, not
    // trusted. Each case corrupts a different field; none may crash or read outside the ring
    // (ASan would see it: the memory is exactly footprint() bytes).
    const auto payload = frame_bytes(3, 40);
    for (const int what : {0, 1, 2, 3}) {
        CAPTURE(what);
        LocalRing ring(256);
        REQUIRE(ring.producer.send(payload) == RingStatus::ok);
        std::byte* memory = ring.memory.get();
        std::byte* found = nullptr;
        for (std::size_t i = 0; i + payload.size() <= ring.size; ++i)
            if (std::memcmp(memory + i, payload.data(), payload.size()) == 0) {
                found = memory + i;
                break;
            }
        REQUIRE(found != nullptr);
        std::uint32_t header[2];
        std::memcpy(header, found - 8, 8);
        if (what == 0) header[0] = 0xfffffff0;      // absurd length
        if (what == 1) header[0] = 48;              // longer than what was published
        if (what == 2) header[1] = 0x12345678;      // not a record header at all
        std::memcpy(found - 8, header, 8);
        if (what == 3) {
            // The producer's count (the ring's first 8 bytes) far beyond the consumer's.
            const std::uint64_t absurd = 1ull << 40;
            std::memcpy(memory, &absurd, sizeof absurd);
        }
        std::vector<std::byte> frame;
        CHECK(ring.consumer.receive(frame, for_at_most(1s)) == RingStatus::closed);
        CHECK(frame.empty());
        CHECK(ring.consumer.closed());
        CHECK(ring.producer.send(payload) == RingStatus::closed);
    }
}

} // TEST_SUITE
