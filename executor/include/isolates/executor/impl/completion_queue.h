#pragma once
// Not API: an implementation detail, installed only because a public template (as_completed()) uses
// it; it may change in any release.
// CompletionQueue: positions of things that finished, pushed by the threads that finish them and
// popped, waiting without polling, by one consumer: as_completed() and imap with ordered=false.
// Base's MpmcRing and EventCount, the primitives channels are made of (channels/ itself is a
// layer beside executor/, not below it).

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include <isolates/base/impl/event_count.h>
#include <isolates/base/impl/mpmc_ring.h>

namespace isolates::detail {

class CompletionQueue {
public:
    /// Room for `capacity` positions: never more may be pushed and not yet popped.
    explicit CompletionQueue(std::size_t capacity) : ring_(capacity < 2 ? 2 : capacity) {}

    /// Any thread, never blocks: queues `position` and wakes the consumer. More than the
    /// capacity queued is a broken invariant of the caller: it aborts.
    void push(std::size_t position) noexcept {
        if (!ring_.try_push(position)) {
            std::fputs("isolates: CompletionQueue overflowed\n", stderr);
            std::abort();
        }
        ready_.notify_all();
    }

    /// The consumer: the next position, waiting for one until `deadline`; nullopt past it.
    std::optional<std::size_t> pop(const base::Deadline& deadline = std::nullopt) noexcept {
        std::size_t position;
        for (;;) {
            if (ring_.try_pop(position)) return position;
            const auto key = ready_.prepare_wait();
            if (ring_.try_pop(position)) {
                ready_.cancel_wait();
                return position;
            }
            if (ready_.wait(key, deadline)) continue;              // woken: look again
            if (ring_.try_pop(position)) return position;          // just in time
            return std::nullopt;
        }
    }

private:
    base::MpmcRing<std::size_t> ring_;
    base::EventCount ready_;
};

} // namespace isolates::detail
