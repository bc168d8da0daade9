#pragma once
// ShmLink: what a host and one worker process share, one shared-memory segment (ShmSegment)
// laid out as a header (magic, layout version, sizes), a control word and a FrameRing each way:
//
//   offset 0    Header: magic, version, ring bytes, total bytes; control word; skip slots
//   H           FrameRing host -> worker (FrameRing::footprint(ring bytes))
//   H + F       FrameRing worker -> host
//
// Every wait is on a shared futex word in the segment; nothing in it is a lock, so a process that
// dies at any point leaves its peer able to notice (RingWait::keep_waiting) and go on.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/shm_segment.h"
#include "process/detail/frame_ring.h"

namespace isolates::detail {

/// One host<->worker-process link: a shared-memory segment with a header (magic, layout version, sizes),
/// a FrameRing each way and a control word, mapped by both processes.
class ShmLink {
public:
    /// The layout this build writes and accepts.
    static constexpr std::uint32_t layout_version = 2;
    /// Skip slots: requests in flight at once on a link are fewer than this (see skip_slot).
    static constexpr std::size_t skip_slots = 64;

    /// Host: a new owner-only segment with an unguessable name, rings of `ring_bytes` each.
    /// Throws UsageError when the segment cannot be made (or ring_bytes is over 1 GiB).
    static ShmLink create(std::size_t ring_bytes);
    /// Worker: maps the segment `name` that create() made; UsageError naming it when it is missing or is
    /// not a link of this layout version.
    static ShmLink open(const std::string& name);

    ShmLink(ShmLink&& other) noexcept;
    ShmLink& operator=(ShmLink&& other) noexcept;
    ShmLink(const ShmLink&) = delete;
    ShmLink& operator=(const ShmLink&) = delete;
    /// Closes both rings (a peer still waiting sees `closed`), unmaps; the creator also removes
    /// the name.
    ~ShmLink();

    /// The segment's name, for ShmLink::open in the worker (stays readable after remove_name).
    const std::string& name() const noexcept { return segment_.name(); }
    /// Removes the name now (mappings stay valid); idempotent. The worker calls it once it has mapped the
    /// link, so a crash of both leaves nothing behind.
    void remove_name() noexcept { segment_.remove_name(); }
    /// The host's sending ring: the host is its producer, the worker its consumer.
    FrameRing& to_worker() noexcept { return to_worker_; }
    /// The worker's sending ring: the worker is its producer, the host its consumer.
    FrameRing& to_host() noexcept { return to_host_; }
    /// A word the host bumps to signal the worker outside the rings (interrupt requests), futex-waitable
    /// (shared) by a watcher thread in the worker.
    std::atomic<std::uint32_t>& control() noexcept;
    /// Where the host marks request `seq` as not to be started (it was cancelled while queued in
    /// the ring): it stores `seq`, the worker compares before it starts `seq`. Slots are reused
    /// every skip_slots requests; the exact seq makes a stale mark harmless.
    std::atomic<std::uint64_t>& skip_slot(std::uint64_t seq) noexcept;

private:
    struct Header;
    explicit ShmLink(ShmSegment segment) noexcept : segment_(std::move(segment)) {}
    Header& header() const noexcept;
    void close_rings() noexcept;

    ShmSegment segment_; // declared first: the rings point into its mapping
    FrameRing to_worker_;
    FrameRing to_host_;
};

} // namespace isolates::detail
