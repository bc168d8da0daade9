#pragma once
// Not API: an implementation detail, installed only because a public template
// (<isolates/executor/impl/completion_queue.h>) uses it; it may change in any release.
// MpmcRing: a bounded multi-producer multi-consumer queue of trivially copyable items, Dmitry
// Vyukov's bounded MPMC queue (https://www.1024cores.net/home/lock-free-algorithms/queues/bounded-mpmc-queue).
// Every cell carries a sequence number that says whose turn it is: a producer may fill the cell
// for position p when its sequence is p, a consumer may empty it when it is p + 1, and emptying
// hands it to the producer of position p + slots. One CAS per operation on its own cursor;
// producers and consumers meet only on the cells, and every access to a cell's item is ordered by
// that cell's sequence (release store / acquire load), which keeps it clean under ThreadSanitizer
// (unlike node-recycling queues). Lock-free (unless a thread is preempted mid-operation, when
// others wait for its cell); no allocation after construction. The turn test needs at least two
// slots. Any slot count works (a channel's capacity is exact); a power of two takes a mask
// instead of a division.

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>

namespace isolates::base {

template <class T> class MpmcRing {
    static_assert(std::is_trivially_copyable_v<T>, "cells are overwritten without destruction");

public:
    /// Allocates `slots` (>= 2) cells up front.
    explicit MpmcRing(std::size_t slots)
        : slots_(slots), mask_((slots & (slots - 1)) == 0 ? slots - 1 : 0),
          cells_(std::make_unique<Cell[]>(slots)) {
        // Relaxed: the ring is published to other threads by whatever hands them its owner.
        for (std::size_t k = 0; k < slots; ++k) cells_[k].sequence.store(k, std::memory_order_relaxed);
    }

    /// Any thread; false when full. Never allocates.
    bool try_push(const T& item) noexcept {
        Cell* cell;
        // Relaxed cursor loads: the cursor is only a hint for which cell to try; the acquire on
        // the cell's sequence and the CAS decide.
        std::size_t pos = enqueue_.load(std::memory_order_relaxed);
        for (;;) {
            cell = &cell_at(pos);
            // Acquire pairs with the consumer's release store that handed the cell back, so our
            // write of the item cannot overtake its read of the previous one.
            const std::size_t seq = cell->sequence.load(std::memory_order_acquire);
            const auto dif = static_cast<std::intptr_t>(seq) - static_cast<std::intptr_t>(pos);
            if (dif == 0) {
                // Relaxed CAS: winning it only reserves the position; publication is the release
                // store on the cell's sequence below.
                if (enqueue_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
            } else if (dif < 0) {
                return false; // the cell still holds the item of position pos - slots: full
            } else {
                pos = enqueue_.load(std::memory_order_relaxed);
            }
        }
        cell->item = item;
        cell->sequence.store(pos + 1, std::memory_order_release); // publishes the item
        return true;
    }

    /// Any thread; false when empty. Never allocates.
    bool try_pop(T& item) noexcept {
        Cell* cell;
        std::size_t pos = dequeue_.load(std::memory_order_relaxed);
        for (;;) {
            cell = &cell_at(pos);
            // Acquire pairs with the producer's release store: the item is visible.
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
        item = cell->item;
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

    std::size_t slots() const noexcept { return slots_; }

private:
    // A cell never straddles two cache lines: 16 bytes for a pointer, 32 for a 16-byte item.
    static constexpr std::size_t cell_alignment =
        std::min<std::size_t>(64, std::bit_ceil(sizeof(std::atomic<std::size_t>) + sizeof(T)));
    struct alignas(cell_alignment) Cell {
        std::atomic<std::size_t> sequence;
        T item;
    };

    Cell& cell_at(std::size_t pos) const noexcept {
        return cells_[mask_ ? pos & mask_ : pos % slots_];
    }

    const std::size_t slots_;
    const std::size_t mask_; // slots - 1 when slots is a power of two, else 0
    const std::unique_ptr<Cell[]> cells_;
    // Each cursor on its own cache line: producers and consumers do not false-share.
    alignas(64) std::atomic<std::size_t> enqueue_{0};
    alignas(64) std::atomic<std::size_t> dequeue_{0};
};

} // namespace isolates::base
