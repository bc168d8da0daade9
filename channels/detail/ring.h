#pragma once
// Ring: a bounded multi-producer multi-consumer queue of RawValues, Dmitry Vyukov's bounded MPMC
// queue (https://www.1024cores.net/home/lock-free-algorithms/queues/bounded-mpmc-queue).
// Every cell carries a sequence number that says whose turn it is: a producer may fill the cell
// for position p when its sequence is p, a consumer may empty it when it is p + 1, and emptying
// hands it to the producer of position p + slots. One CAS per operation on its own cursor;
// producers and consumers meet only on the cells. Lock-free; no allocation after construction.
// The turn test needs at least two slots, so capacity 1 goes to the node-based queue instead.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "interp/value.h"

namespace isolates::detail {

class Ring {
public:
    /// Allocates `slots` (>= 2) cells up front.
    explicit Ring(std::size_t slots) : slots_(slots), cells_(new Cell[slots]) {
        // Relaxed: the ring is published to other threads by whatever hands them the channel.
        for (std::size_t k = 0; k < slots; ++k) cells_[k].sequence.store(k, std::memory_order_relaxed);
    }

    /// False when full. Lock-free, never allocates.
    bool try_push(RawValue value) noexcept {
        Cell* cell;
        // Relaxed cursor loads: the cursor is only a hint for which cell to try; the acquire on
        // the cell's sequence and the CAS decide.
        std::size_t pos = enqueue_.load(std::memory_order_relaxed);
        for (;;) {
            cell = &cells_[pos % slots_];
            // Acquire pairs with the consumer's release store that handed the cell back, so our
            // write of the value cannot overtake its read of the previous one.
            const std::size_t seq = cell->sequence.load(std::memory_order_acquire);
            const auto dif = static_cast<std::intptr_t>(seq) - static_cast<std::intptr_t>(pos);
            if (dif == 0) {
                // Relaxed CAS: winning it only reserves the position; publication is the release
                // store on the cell's sequence below.
                if (enqueue_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
            } else if (dif < 0) {
                return false; // the cell still holds the value of position pos - slots: full
            } else {
                pos = enqueue_.load(std::memory_order_relaxed);
            }
        }
        cell->value = value;
        cell->sequence.store(pos + 1, std::memory_order_release); // publishes the value
        return true;
    }

    /// False when empty. Lock-free, never allocates.
    bool try_pop(RawValue& value) noexcept {
        Cell* cell;
        std::size_t pos = dequeue_.load(std::memory_order_relaxed);
        for (;;) {
            cell = &cells_[pos % slots_];
            // Acquire pairs with the producer's release store: the value is visible.
            const std::size_t seq = cell->sequence.load(std::memory_order_acquire);
            const auto dif = static_cast<std::intptr_t>(seq) - static_cast<std::intptr_t>(pos + 1);
            if (dif == 0) {
                if (dequeue_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
            } else if (dif < 0) {
                return false; // not yet filled: empty
            } else {
                pos = dequeue_.load(std::memory_order_relaxed);
            }
        }
        value = cell->value;
        cell->sequence.store(pos + slots_, std::memory_order_release); // hands the cell back
        return true;
    }

    /// Items queued right now; exact only when nobody is pushing or popping.
    std::size_t size_approx() const noexcept {
        // Relaxed: a snapshot; dequeue first so that the difference is rarely negative.
        const std::size_t out = dequeue_.load(std::memory_order_relaxed);
        const std::size_t in = enqueue_.load(std::memory_order_relaxed);
        return in > out ? in - out : 0;
    }

private:
    struct alignas(32) Cell {
        std::atomic<std::size_t> sequence;
        RawValue value;
    };

    const std::size_t slots_;
    const std::unique_ptr<Cell[]> cells_;
    // Each cursor on its own cache line: producers and consumers do not false-share.
    alignas(64) std::atomic<std::size_t> enqueue_{0};
    alignas(64) std::atomic<std::size_t> dequeue_{0};
};

} // namespace isolates::detail
