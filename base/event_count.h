#pragma once
// EventCount: a futex-backed "wait until something changed" primitive, after Dmitry Vyukov's
// eventcount (https://www.1024cores.net/home/lock-free-algorithms/eventcounts) and folly's
// EventCount. Waiters announce themselves in a counter; a notifier that sees no waiter does
// nothing but one fence and one load, so waking costs nothing when nobody waits. Used by
// channels (senders, receivers, select) and by the pool's sleeping workers.
//
// Protocol (waiter):                       Protocol (notifier):
//   key = ec.prepare_wait();                 make the condition true (push, close, ...)
//   if (condition) { ec.cancel_wait(); }     ec.notify_all() or ec.notify_one()
//   else ec.wait(key, deadline);
// Either the waiter sees the condition in its re-check, or the notifier sees the waiter in the
// counter and bumps the epoch the waiter sleeps on, so no wake-up is ever lost.

#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <optional>

#include "base/futex.h"

namespace isolates::base {

/// When a blocking wait gives up; std::nullopt waits for ever.
using Deadline = std::optional<std::chrono::steady_clock::time_point>;

class EventCount {
public:
    using Key = std::uint32_t;

    /// Announces a waiter; returns the epoch to pass to wait(). Re-check the condition after it.
    Key prepare_wait() noexcept {
        waiters_.fetch_add(1, std::memory_order_seq_cst);
        // Dekker-style pairing with the fence in notify: the waiter's counter increment and the
        // notifier's condition write cannot both be missed by the other side.
        std::atomic_thread_fence(std::memory_order_seq_cst);
        return epoch_.load(std::memory_order_seq_cst);
    }

    /// Withdraws a prepared wait whose re-check found the condition true.
    void cancel_wait() noexcept {
        // Relaxed: the counter is only a hint for notifiers; a stale non-zero value costs one
        // needless wake-up, never a lost one.
        waiters_.fetch_sub(1, std::memory_order_relaxed);
    }

    /// Sleeps until the epoch moves past `key` or `deadline` passes (a spurious return is
    /// possible, callers re-check). Ends the prepared wait. False when the deadline passed.
    bool wait(Key key, const Deadline& deadline = std::nullopt) noexcept {
        bool in_time = true;
        std::optional<std::chrono::nanoseconds> timeout;
        if (deadline) {
            const auto left = *deadline - std::chrono::steady_clock::now();
            if (left <= std::chrono::steady_clock::duration::zero()) in_time = false;
            else timeout = std::chrono::duration_cast<std::chrono::nanoseconds>(left);
        }
        if (in_time) {
            // Seq_cst store, then the kernel's read of the epoch: a notify_all whose exchange of
            // `sleeping_` came before this store bumped the epoch before it, so FUTEX_WAIT sees
            // the new epoch and returns at once (EAGAIN); one that comes after sees the flag.
            sleeping_.store(true, std::memory_order_seq_cst);
            // FUTEX_WAIT compares the word with `key` atomically with going to sleep.
            in_time = futex_wait(epoch_, key, timeout, /*shared=*/false);
        }
        cancel_wait();
        return in_time;
    }

    /// Wakes every waiter (when there are any). Call after making the condition true. Only the
    /// first notify_all after they fell asleep pays the system call: later ones, while the
    /// sleepers are still getting up, cost an increment.
    void notify_all() noexcept {
        std::atomic_thread_fence(std::memory_order_seq_cst); // pairs with prepare_wait's fence
        notify_all_after_fence();
    }
    /// notify_all() for a caller that issued the seq_cst fence itself after making the condition
    /// true: one fence then serves several EventCounts.
    void notify_all_after_fence() noexcept {
        // Relaxed is enough after the fence: the fence orders this load after the condition write.
        if (waiters_.load(std::memory_order_relaxed) == 0) return;
        epoch_.fetch_add(1, std::memory_order_seq_cst);
        // Seq_cst load: ordered after the epoch increment, so it sees the flag of any sleeper
        // whose FUTEX_WAIT could still read the old epoch. The plain load keeps the common case
        // (nobody asleep) free of a locked instruction.
        if (sleeping_.load(std::memory_order_seq_cst) &&
            sleeping_.exchange(false, std::memory_order_seq_cst))
            futex_wake(epoch_, INT_MAX, /*shared=*/false);
    }

    /// Wakes one sleeping waiter (when there are any): for a condition one waiter can consume,
    /// such as one queued task. Waiters not yet asleep see the new epoch and re-check.
    void notify_one() noexcept {
        std::atomic_thread_fence(std::memory_order_seq_cst); // pairs with prepare_wait's fence
        if (waiters_.load(std::memory_order_relaxed) == 0) return;
        epoch_.fetch_add(1, std::memory_order_seq_cst);
        // Leaves `sleeping_` alone: other sleepers stay asleep, and notify_all must still wake
        // them. A waiter that went to sleep before the increment is woken here.
        futex_wake(epoch_, 1, /*shared=*/false);
    }

private:
    // The epoch is the futex word; waiters sit on another cache line so that announcing a wait
    // does not disturb sleepers' word.
    alignas(64) std::atomic<std::uint32_t> epoch_{0};
    alignas(64) std::atomic<std::uint32_t> waiters_{0};
    std::atomic<bool> sleeping_{false}; // someone may be inside FUTEX_WAIT since the last notify_all
};

} // namespace isolates::base
