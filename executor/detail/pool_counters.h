#pragma once
// PoolCounters: what InterpreterPoolExecutor::stats() reports about tasks, counted lock-free as
// each task's state resolves, before anyone sees it resolved: a stats() read after get() returned
// counts that task.

#include <atomic>
#include <cstdint>

#include <isolates/executor/impl/shared_state.h>

namespace isolates::detail {

struct PoolCounters final : OutcomeCounter {
    /// Counts a task by how it was resolved, once (StateBase::count_into).
    void count(Outcome outcome) noexcept override {
        // Relaxed throughout: each counter is a statistic read on its own, ordering nothing.
        switch (outcome) {
        case Outcome::value: completed.fetch_add(1, std::memory_order_relaxed); break;
        case Outcome::timed_out:
            timed_out.fetch_add(1, std::memory_order_relaxed);
            failed.fetch_add(1, std::memory_order_relaxed);
            break;
        case Outcome::error: failed.fetch_add(1, std::memory_order_relaxed); break;
        case Outcome::cancelled: cancelled.fetch_add(1, std::memory_order_relaxed); break;
        case Outcome::pending: break;
        }
    }

    std::atomic<std::uint64_t> submitted{0}, completed{0}, failed{0}, timed_out{0}, cancelled{0},
        replaced_interpreters{0};
};

} // namespace isolates::detail
