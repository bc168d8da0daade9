#pragma once
// TaskQueues: where a pool's tasks wait and where its idle workers sleep. A shared lock-free ring
// any worker takes from (with a locked overflow list for when the ring is full), one locked list
// per worker for tasks submitted to that worker, a locked list for a mixed pool's process
// workers (routed tasks), the optional bound on queued tasks, and the EventCounts the idle workers
// sleep on. Queued tasks are owning raw pointers: whoever takes one deletes it.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <semaphore>
#include <vector>

#include <isolates/base/impl/event_count.h>
#include <isolates/base/impl/mpmc_ring.h>
#include "base/backoff.h"

namespace isolates::detail {

class Task;

/// A FIFO of tasks behind a mutex, with an atomic size so that looking at an empty list takes
/// no lock: for light traffic (a worker's own tasks, the ring's overflow).
class LockedTaskList {
public:
    void push(Task* task);
    /// The oldest task, or nullptr when there is none.
    Task* pop();
    /// Lock-free; exact only when nobody pushes or pops meanwhile.
    bool empty() const noexcept { return size_.load(std::memory_order_acquire) == 0; }

private:
    std::mutex mutex_;
    std::deque<Task*> tasks_; // guarded by mutex_
    std::atomic<std::size_t> size_{0};
};

class TaskQueues {
public:
    /// `bound` > 0 limits the tasks queued at once (reserve() blocks at the limit). The last
    /// `routed_workers` workers take routed tasks (push_routed) instead of shared ones: a mixed
    /// pool's process workers.
    TaskQueues(std::size_t workers, std::size_t bound, std::size_t routed_workers = 0);

    /// Any thread, before a push: counts one more queued task, blocking while `bound` are queued.
    void reserve();
    /// Any thread: queues a reserved task for any worker and wakes one sleeping worker.
    void push_shared(Task* task);
    /// Any thread: queues a reserved task for the routed workers and wakes one of them.
    void push_routed(Task* task);
    /// Any thread: queues a reserved task for worker `index` only and wakes every sleeping worker
    /// (only that one can take it).
    void push_own(std::size_t index, Task* task);

    /// Worker `index`: its own oldest task, else the oldest shared (routed, for a routed worker)
    /// one; nullptr when none.
    Task* take(std::size_t index);
    /// Worker `index`: take(), retried while spinning briefly (a next task often comes within
    /// microseconds, sooner than a futex sleep and wake-up), or when there is still nothing,
    /// sleeps until something is queued or wake_all() is called, and returns nullptr (a spurious
    /// return is possible). `stop()` is checked after announcing the sleep: true returns at once;
    /// make it true before wake_all().
    template <class Stop> Task* take_or_sleep(std::size_t index, Stop&& stop) {
        Task* found = nullptr;
        if (base::spin_then_yield([&] { return (found = take(index)) != nullptr || stop(); }))
            return found;
        base::EventCount& idle = idle_for(index);
        const auto key = idle.prepare_wait();
        Task* task = take(index);
        if (task || stop()) {
            idle.cancel_wait();
            return task;
        }
        idle.wait(key);
        return nullptr;
    }
    /// Any thread: takes any queued task (own lists included), for draining; nullptr when none.
    Task* take_any();
    /// Wakes every sleeping worker to re-check.
    void wake_all() noexcept {
        idle_.notify_all();
        routed_idle_.notify_all();
    }

    /// Tasks queued now (reserved and not yet taken).
    std::size_t depth() const noexcept;

private:
    /// A task left the queues: uncount it and free its slot.
    Task* taken(Task* task);

    // Tasks for any worker: the ring, then (only when the ring was full) the overflow list.
    base::MpmcRing<Task*> ring_{8192};
    LockedTaskList overflow_;
    std::vector<LockedTaskList> own_; // one per worker: submit_to
    LockedTaskList routed_;           // for the last routed_workers_ workers only
    std::size_t first_routed_;        // index of the first routed worker
    std::unique_ptr<std::counting_semaphore<>> slots_; // the bound, when set
    std::atomic<std::int64_t> queued_{0};
    // Where idle workers sleep: the routed ones apart, so that a wake-up for a shared task never
    // lands on a worker that cannot take it (and the other way round).
    base::EventCount idle_;
    base::EventCount routed_idle_;
    base::EventCount& idle_for(std::size_t index) noexcept {
        return index >= first_routed_ ? routed_idle_ : idle_;
    }
};

} // namespace isolates::detail
