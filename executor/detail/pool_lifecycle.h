#pragma once
// PoolLifecycle: where a pool is in its life (starting, running, stopping, broken), as flags any
// thread reads lock-free, plus the workers' start-up count and the reason the pool broke.

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>

namespace isolates::detail {

class PoolLifecycle {
public:
    explicit PoolLifecycle(std::size_t workers) : workers_(workers) {}

    /// Throws BrokenPoolError when broken, UsageError after shutdown.
    void check_accepting() const;

    /// No more submissions; with `cancel_pending`, queued tasks are to be cancelled too.
    void stop(bool cancel_pending) noexcept;
    bool stopping() const noexcept { return stopping_.load(std::memory_order_acquire); }
    bool cancelling() const noexcept { return cancelling_.load(std::memory_order_acquire); }

    /// Records that the pool broke (the first reason is kept) and wakes wait_until_started().
    void break_with(std::string reason);
    bool broken() const noexcept { return broken_.load(std::memory_order_acquire); }
    /// Why it broke; empty when it did not.
    std::string broken_reason() const;

    /// A worker has its interpreter ready.
    void worker_started();
    /// Blocks until every worker started; throws BrokenPoolError when the pool broke instead.
    void wait_until_started() const;

private:
    const std::size_t workers_;
    // Seq_cst stores: a submitter checks them after its push, and the drain that follows a
    // store must see that push (or the submitter sees the flag and drains itself).
    std::atomic<bool> stopping_{false};
    std::atomic<bool> cancelling_{false};
    std::atomic<bool> broken_{false};

    mutable std::mutex mutex_;
    mutable std::condition_variable started_changed_;
    std::string broken_reason_; // guarded by mutex_
    std::size_t started_ = 0;   // guarded by mutex_
};

} // namespace isolates::detail
