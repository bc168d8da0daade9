#pragma once
// FrameRing: a lock-free single-producer, single-consumer ring of variable-length byte frames in
// memory that two processes map (a shared-memory segment), after Lamport's concurrent SPSC queue
// ("Specifying concurrent program modules", TOPLAS 1983): the producer alone advances `tail`, the
// consumer alone advances `head`, both are free-running byte counts, so neither needs a lock (a
// dead peer holding a lock would hang the other side; here it can only stop moving its count).
//
// Frames go as records: an 8-byte header (length, tag and "more pieces follow" flag), then the
// bytes, padded to 8. A record may wrap around the end of the data area; a header never does. A
// frame larger than the ring goes as several records that the consumer joins. Everything read
// from shared memory is checked before it is used: a torn or absurd count or length (a buggy or
// dead peer) closes the ring instead of being trusted, and every copy stays inside the data area.
//
// Sleeping: each side spins briefly (base/backoff.h), then sleeps on a futex word in the ring
// (shared, so the peer process can wake it) after raising a "sleeping" flag; the other side makes
// the FUTEX_WAKE system call only when it sees that flag, so two busy sides make none.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace isolates::detail {

enum class RingStatus { ok, closed, timed_out, gave_up };

/// How long a blocking ring call may wait.
struct RingWait {
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
    /// Asked about every `poll` while asleep; false gives up (e.g. the peer process died). May be empty.
    std::function<bool()> keep_waiting;
    std::chrono::milliseconds poll{100};
};

class FrameRing {
public:
    /// Bytes of shared memory a ring with `capacity` data bytes needs (header + data, aligned).
    static std::size_t footprint(std::size_t capacity) noexcept;
    /// The data bytes a ring asked for `capacity` really gets (rounded up to 64, at least 64).
    static std::size_t usable_capacity(std::size_t capacity) noexcept;

    /// Lays out a new, empty ring at the start of `memory` (at least footprint(capacity) bytes,
    /// 64-byte aligned) and returns this process's handle on it. Throws std::invalid_argument
    /// when `memory` is too small or misaligned.
    static FrameRing create(std::span<std::byte> memory, std::size_t capacity);
    /// A handle on a ring that create() laid out in `memory` (another mapping of the same bytes,
    /// perhaps in another process). Throws std::invalid_argument when `memory` does not hold a
    /// ring of that capacity.
    static FrameRing attach(std::span<std::byte> memory, std::size_t capacity);

    /// An empty handle (no ring): every call returns closed.
    FrameRing() noexcept = default;
    FrameRing(FrameRing&& other) noexcept;
    FrameRing& operator=(FrameRing&& other) noexcept;
    FrameRing(const FrameRing&) = delete;
    FrameRing& operator=(const FrameRing&) = delete;

    /// Producer side only: appends one frame of any size (0 bytes too). A frame larger than what is
    /// free waits for room; a frame larger than the whole ring goes in pieces that the consumer
    /// reassembles. `closed` once either side closed the ring. A wait that runs out part-way
    /// through a frame in pieces closes the ring (its rest could not be told from the next frame).
    /// Never allocates; blocks as `wait` allows.
    RingStatus send(std::span<const std::byte> frame, const RingWait& wait = {});
    /// Consumer side only: the next whole frame into `frame` (resized to fit; its capacity is
    /// reused). `closed` when the ring is closed and no whole frame is left. A wait that runs out
    /// part-way through a frame in pieces keeps the part; the next receive goes on with it.
    RingStatus receive(std::vector<std::byte>& frame, const RingWait& wait = {});
    /// Any thread of either process: no more frames; wakes both sides. Idempotent, noexcept.
    void close() noexcept;
    /// Whether either side closed the ring (or this handle has none). Any thread; noexcept.
    bool closed() const noexcept;

    /// The data bytes of the ring (the largest frame that goes in one piece is capacity() - 8).
    std::size_t capacity() const noexcept { return capacity_; }

private:
    struct Shared;
    FrameRing(Shared* shared, std::byte* data, std::size_t capacity) noexcept
        : shared_(shared), data_(data), capacity_(capacity) {}

    enum class Side { producer, consumer };
    /// Spins, then sleeps until `ready()` (or the ring closes); ok when ready() held.
    template <class Ready> RingStatus wait_until(Side side, Ready&& ready, const RingWait& wait);
    /// Wakes the peer of `side` when it sleeps (or may be about to).
    void wake_peer(Side side) noexcept;
    /// Closes the ring because shared memory holds something no correct peer writes.
    RingStatus broken() noexcept;
    void copy_in(std::uint64_t position, const std::byte* bytes, std::size_t size) noexcept;
    void copy_out(std::uint64_t position, std::byte* bytes, std::size_t size) const noexcept;

    // Only the mapping is shared; the capacity and the data's address are this process's own,
    // checked once, so a peer scribbling on the ring's header cannot make us read past the data.
    Shared* shared_ = nullptr;
    std::byte* data_ = nullptr;
    std::size_t capacity_ = 0;
    // Consumer: a frame in pieces whose receive ran out of time part-way.
    std::vector<std::byte> partial_;
    bool in_partial_ = false;
};

} // namespace isolates::detail
