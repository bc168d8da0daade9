#pragma once
// LockedTaskList: a FIFO of tasks behind a mutex, with an atomic size so that looking at an
// empty list takes no lock. The pool uses it where traffic is light: each worker's own queue
// (submit_to) and the overflow of the shared ring when that is full.

#include <atomic>
#include <cstddef>
#include <deque>
#include <mutex>

namespace isolates::detail {

class Task;

class LockedTaskList {
public:
    void push(Task* task) {
        std::lock_guard lock(mutex_);
        tasks_.push_back(task);
        size_.fetch_add(1, std::memory_order_release);
    }
    /// The oldest task, or nullptr when there is none.
    Task* pop() {
        // Acquire pairs with push's release; the lock below orders the deque itself.
        if (empty()) return nullptr;
        std::lock_guard lock(mutex_);
        if (tasks_.empty()) return nullptr;
        Task* task = tasks_.front();
        tasks_.pop_front();
        size_.fetch_sub(1, std::memory_order_release);
        return task;
    }
    /// Lock-free; exact only when nobody pushes or pops meanwhile.
    bool empty() const noexcept { return size_.load(std::memory_order_acquire) == 0; }

private:
    std::mutex mutex_;
    std::deque<Task*> tasks_;            // guarded by mutex_
    std::atomic<std::size_t> size_{0};
};

} // namespace isolates::detail
