#pragma once
// Not API: an implementation detail, installed only because a public template
// (<isolates/executor/impl/completion_queue.h>) uses it; it may change in any release.
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
// counter and bumps the epoch the waiter sleeps on (and wakes it, when wait() marked the epoch
// as slept on), so no wake-up is ever lost.

#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <optional>

#include <isolates/base/impl/futex.h>

namespace isolates::base {

/// When a blocking wait gives up; std::nullopt waits for ever.
using Deadline = std::optional<std::chrono::steady_clock::time_point>;

/// EventCount's injection points, empty: a test passes its own to pause a thread between the
/// two steps of a wait (mark, then sleep) or of a notify (advance, then wake) and so replay a
/// lost-wake-up interleaving deterministically (tests/base/event_count_test.cpp).
struct NoEventCountHooks {
    /// The waiter marked `word` and is about to sleep on it.
    static void before_sleep(const std::atomic<std::uint32_t>& /*word*/) noexcept {}
    /// The notifier advanced the epoch and is about to decide whether to wake.
    static void after_advance() noexcept {}
};

template <class Hooks = NoEventCountHooks>
class BasicEventCount {
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
        // Mark the word "a waiter sleeps on it" before sleeping. Every change of the word is a
        // read-modify-write, so they are totally ordered: a notify after our mark sees the bit
        // and wakes us; one before it changed the word, so the mark fails (or FUTEX_WAIT, which
        // compares the word atomically with going to sleep, returns at once) and we re-check.
        const Key marked = key | asleep_bit;
        if (in_time && (key == marked || epoch_.compare_exchange_strong(key, marked,
                                                                        std::memory_order_seq_cst))) {
            Hooks::before_sleep(epoch_);
            in_time = futex_wait(epoch_, marked, timeout, /*shared=*/false);
        }
        cancel_wait();
        return in_time;
    }

    /// Wakes every waiter (when there are any). Call after making the condition true. Only the
    /// first notify_all after they fell asleep pays the system call: later ones, while the
    /// sleepers are still getting up, cost a compare-and-swap.
    void notify_all() noexcept {
        std::atomic_thread_fence(std::memory_order_seq_cst); // pairs with prepare_wait's fence
        notify_all_after_fence();
    }
    /// notify_all() for a caller that issued the seq_cst fence itself after making the condition
    /// true: one fence then serves several EventCounts.
    void notify_all_after_fence() noexcept {
        // Relaxed is enough after the fence: the fence orders this load after the condition write.
        if (waiters_.load(std::memory_order_relaxed) == 0) return;
        // Advance the epoch and clear the bit in one step: (e | 1) + 1 is past e either way.
        Key old = epoch_.load(std::memory_order_relaxed);
        while (!epoch_.compare_exchange_weak(old, (old | asleep_bit) + 1, std::memory_order_seq_cst,
                                             std::memory_order_relaxed)) {
        }
        Hooks::after_advance();
        // Only a word marked since the last notify_all has sleepers: the common case (waiters
        // still spinning or re-checking) pays no system call.
        if (old & asleep_bit) futex_wake(epoch_, INT_MAX, /*shared=*/false);
    }

    /// Wakes one sleeping waiter (when there are any): for a condition one waiter can consume,
    /// such as one queued task. Waiters not yet asleep see the new epoch and re-check.
    void notify_one() noexcept {
        std::atomic_thread_fence(std::memory_order_seq_cst); // pairs with prepare_wait's fence
        if (waiters_.load(std::memory_order_relaxed) == 0) return;
        // Keeps the bit: the sleepers not woken here stay marked, so a later notify wakes them.
        const Key old = epoch_.fetch_add(2, std::memory_order_seq_cst);
        Hooks::after_advance();
        if (old & asleep_bit) futex_wake(epoch_, 1, /*shared=*/false);
    }

private:
    // Bit 0 of the epoch: a waiter may sleep on the word's current value (set by wait, cleared
    // by notify_all). Notifies advance the rest.
    static constexpr Key asleep_bit = 1;
    // The epoch is the futex word; waiters sit on another cache line so that announcing a wait
    // does not disturb sleepers' word.
    alignas(64) std::atomic<Key> epoch_{0};
    alignas(64) std::atomic<std::uint32_t> waiters_{0};
};

/// The event count everything uses: no injection points.
using EventCount = BasicEventCount<>;

} // namespace isolates::base
