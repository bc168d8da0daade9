#pragma once
// Not API: an implementation detail, installed only because a public template (event_count.h) uses
// it; it may change in any release.
// The futex(2) system call, written once: EventCount sleeps on a private futex word, the
// shared-memory rings of process workers on words in a segment that two processes map.
// A shared futex (no FUTEX_PRIVATE_FLAG) is keyed by the physical page, so a wake in one process
// reaches a waiter in another; std::atomic::wait uses private futexes and cannot.

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <optional>

namespace isolates::base {

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t) &&
                  std::atomic<std::uint32_t>::is_always_lock_free,
              "a futex word must be a plain lock-free 32-bit integer");

/// The raw system call on `word` (the helpers below are its only callers).
inline long futex_syscall(const std::atomic<std::uint32_t>& word, int op, std::uint32_t value,
                       const timespec* timeout) noexcept {
    // The kernel only reads the word (FUTEX_WAIT) or uses its address as a key (FUTEX_WAKE).
    return ::syscall(SYS_futex, const_cast<std::atomic<std::uint32_t>*>(&word), op, value, timeout,
                     nullptr, 0);
}

/// Sleeps while `word` holds `expected`, at most `timeout` (nullopt: no limit). shared=true works
/// across processes (no FUTEX_PRIVATE_FLAG). Returns false only on timeout (spurious wake-ups,
/// signals and a word that no longer holds `expected` return true). Any thread; blocks; noexcept.
inline bool futex_wait(const std::atomic<std::uint32_t>& word, std::uint32_t expected,
                       std::optional<std::chrono::nanoseconds> timeout, bool shared) noexcept {
    timespec relative{};
    const timespec* limit = nullptr;
    if (timeout) {
        if (timeout->count() <= 0) return word.load(std::memory_order_seq_cst) != expected;
        relative.tv_sec = static_cast<time_t>(timeout->count() / 1'000'000'000);
        relative.tv_nsec = static_cast<long>(timeout->count() % 1'000'000'000);
        limit = &relative;
    }
    // FUTEX_WAIT compares the word with `expected` atomically with going to sleep: a wake-up
    // that changed the word first is never lost. The timeout is relative (CLOCK_MONOTONIC).
    const int op = shared ? FUTEX_WAIT : FUTEX_WAIT_PRIVATE;
    return !(futex_syscall(word, op, expected, limit) != 0 && errno == ETIMEDOUT);
}

/// Wakes up to `count` waiters on `word` (INT_MAX: all). Any thread; never blocks; noexcept.
inline void futex_wake(const std::atomic<std::uint32_t>& word, int count, bool shared) noexcept {
    futex_syscall(word, shared ? FUTEX_WAKE : FUTEX_WAKE_PRIVATE, static_cast<std::uint32_t>(count),
                       nullptr);
}

} // namespace isolates::base
