#pragma once
// Spin, then spin and yield, before a blocking call goes to sleep: a peer answering or a wake-up
// in flight often arrives within microseconds, and a futex sleep and wake-up costs more than that.
// And spin_until, for a lock-free structure waiting on a peer that is part-way through a step.

#include <sched.h>

#include <chrono>

namespace isolates::base {

/// How long spin_then_yield keeps retrying: long enough to cover a peer answering (a few
/// microseconds), short enough not to burn a core. The first microseconds are pure spinning
/// (the peer runs on another core); after that each retry also yields, so that a peer waiting to
/// run on this same core gets it at once instead of after the whole budget (on a busy two-core
/// machine both often share one).
inline constexpr auto pure_spin = std::chrono::microseconds(2);
inline constexpr auto spin_budget = std::chrono::microseconds(20);

/// Tells the CPU this is a spin-wait loop (saves power, frees the sibling hyperthread).
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#endif
}

/// Retries `attempt` (true: done) while spinning, then spinning and yielding, until it succeeds
/// or spin_budget is spent; returns whether it succeeded. Never sleeps.
template <class F> bool spin_then_yield(F&& attempt) {
    if (attempt()) return true;
    const auto start = std::chrono::steady_clock::now();
    for (int k = 1;; ++k) {
        for (int p = 0; p < 8; ++p) cpu_relax();
        if (attempt()) return true;
        if (k % 8 == 0) { // the clock costs ~20 ns: look at it now and then
            const auto spent = std::chrono::steady_clock::now() - start;
            if (spent >= spin_budget) return false;
            if (spent >= pure_spin) sched_yield();
        }
    }
}

/// Retries `done` until it returns true, spinning at first, then yielding between retries: for
/// waiting on a peer that is a few instructions from finishing a step it has started (such as
/// filling a slot it claimed), which only preemption can delay. Never sleeps, never gives up.
template <class F> void spin_until(F&& done) {
    for (int k = 0; !done(); ++k) {
        if (k < 64) {
            for (int p = 0; p < 8; ++p) cpu_relax();
        } else {
            sched_yield(); // the peer was preempted, perhaps on this very core
        }
    }
}

} // namespace isolates::base
