#include "executor/detail/pool_lifecycle.h"

#include <isolates/executor/errors.h>

namespace isolates::detail {

void PoolLifecycle::check_accepting() const {
    if (broken()) throw BrokenPoolError(broken_reason());
    if (stopping()) throw UsageError("InterpreterPoolExecutor: submit after shutdown");
}

void PoolLifecycle::stop(bool cancel_pending) noexcept {
    stopping_.store(true, std::memory_order_seq_cst);
    if (cancel_pending) cancelling_.store(true, std::memory_order_seq_cst);
}

void PoolLifecycle::break_with(std::string reason) {
    {
        std::lock_guard lock(mutex_);
        if (broken_reason_.empty()) broken_reason_ = std::move(reason);
        // Under the mutex: wait_until_started checks it there, so this wake-up is never lost.
        broken_.store(true, std::memory_order_seq_cst);
    }
    started_changed_.notify_all();
}

std::string PoolLifecycle::broken_reason() const {
    std::lock_guard lock(mutex_);
    return broken_reason_;
}

void PoolLifecycle::worker_started() {
    {
        std::lock_guard lock(mutex_);
        ++started_;
    }
    started_changed_.notify_all();
}

void PoolLifecycle::wait_until_started() const {
    std::unique_lock lock(mutex_);
    started_changed_.wait(lock, [&] { return started_ == workers_ || broken(); });
    if (broken()) throw BrokenPoolError(broken_reason_);
}

} // namespace isolates::detail
