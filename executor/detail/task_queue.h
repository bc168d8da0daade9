#pragma once
// TaskQueue: the pool's shared queue of tasks. A bounded multi-producer multi-consumer ring
// (Dmitry Vyukov, "Bounded MPMC queue", 1024cores.net, 2010): every cell carries a sequence
// number that says whose turn it is, so producers and consumers claim cells with one CAS on
// their own position counter and never touch the same cell at the same time. Every access to a
// cell's task is ordered by that cell's sequence (release store / acquire load), which makes the
// queue clean under ThreadSanitizer (unlike node-recycling queues). It does not allocate after
// construction. A full ring is a return value; the pool keeps a locked overflow list for that.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace isolates::detail {

class Task;

class TaskQueue {
public:
    /// `capacity` is rounded up to a power of two (at least 2).
    explicit TaskQueue(std::size_t capacity) {
        std::size_t size = 2;
        while (size < capacity) size *= 2;
        mask_ = size - 1;
        cells_ = std::make_unique<Cell[]>(size);
        for (std::size_t k = 0; k < size; ++k) cells_[k].sequence.store(k, std::memory_order_relaxed);
    }

    /// Any thread; lock-free unless a consumer is preempted mid-pop; false when full.
    bool try_push(Task* task) noexcept {
        std::size_t position = enqueue_position_.load(std::memory_order_relaxed);
        for (;;) {
            Cell& cell = cells_[position & mask_];
            // acquire: the consumer that freed this cell is done reading it.
            const std::size_t sequence = cell.sequence.load(std::memory_order_acquire);
            const auto difference =
                static_cast<std::intptr_t>(sequence) - static_cast<std::intptr_t>(position);
            if (difference == 0) {
                // relaxed: the position only hands out cells; the cell's sequence publishes.
                if (enqueue_position_.compare_exchange_weak(position, position + 1,
                                                            std::memory_order_relaxed)) {
                    cell.task = task;
                    // release: a consumer that sees position + 1 sees the task.
                    cell.sequence.store(position + 1, std::memory_order_release);
                    return true;
                }
            } else if (difference < 0) {
                return false; // full
            } else {
                position = enqueue_position_.load(std::memory_order_relaxed);
            }
        }
    }

    /// Any thread; nullptr when empty.
    Task* try_pop() noexcept {
        std::size_t position = dequeue_position_.load(std::memory_order_relaxed);
        for (;;) {
            Cell& cell = cells_[position & mask_];
            // acquire: pairs with the producer's release of this cell.
            const std::size_t sequence = cell.sequence.load(std::memory_order_acquire);
            const auto difference =
                static_cast<std::intptr_t>(sequence) - static_cast<std::intptr_t>(position + 1);
            if (difference == 0) {
                if (dequeue_position_.compare_exchange_weak(position, position + 1,
                                                            std::memory_order_relaxed)) {
                    Task* task = cell.task;
                    // release: the producer one lap later may reuse the cell.
                    cell.sequence.store(position + mask_ + 1, std::memory_order_release);
                    return task;
                }
            } else if (difference < 0) {
                return nullptr; // empty
            } else {
                position = dequeue_position_.load(std::memory_order_relaxed);
            }
        }
    }

private:
    struct Cell {
        std::atomic<std::size_t> sequence{0};
        Task* task = nullptr;
    };

    std::unique_ptr<Cell[]> cells_;
    std::size_t mask_ = 0;
    // Separate cache lines: producers and consumers do not slow each other down.
    alignas(64) std::atomic<std::size_t> enqueue_position_{0};
    alignas(64) std::atomic<std::size_t> dequeue_position_{0};
};

} // namespace isolates::detail
