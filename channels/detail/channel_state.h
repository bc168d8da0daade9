#pragma once
// The shared state behind every Channel handle, and the endpoint a handle (or a Value) holds.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>

#include <isolates/base/impl/event_count.h>
#include <isolates/base/impl/mpmc_ring.h>
#include <isolates/channels/channel.h>
#include <isolates/interp/value.h>
#include "base/segment_queue.h"

namespace isolates::detail {

/// Woken by every send and close anywhere in the process, when (and only when) some select() is
/// waiting: one waiter counter for all selects keeps the no-select path at one load.
base::EventCount& select_signal() noexcept;

class ChannelState {
public:
    explicit ChannelState(std::size_t capacity);
    /// Releases the values still queued.
    ~ChannelState();
    ChannelState(const ChannelState&) = delete;
    ChannelState& operator=(const ChannelState&) = delete;

    /// Non-blocking; on anything but `sent` the value is left in `value`.
    SendStatus try_send(Value& value);
    RecvStatus try_recv(Value& out) noexcept;
    /// Blocking with an optional deadline; on timeout `full` / `empty`. When `stop` is given and
    /// turns true (then call wake_waiters()), they also give up with `full` / `empty`.
    SendStatus send_until(Value& value, const Deadline& deadline,
                          const std::atomic<bool>* stop = nullptr);
    RecvStatus recv_until(Value& out, const Deadline& deadline,
                          const std::atomic<bool>* stop = nullptr) noexcept;
    /// Wakes every blocked sender and receiver to re-check (and see their `stop`).
    void wake_waiters() noexcept;

    bool close() noexcept;
    bool closed() const noexcept { return closed_.load(std::memory_order_acquire); }
    std::size_t size() const noexcept;
    std::size_t capacity() const noexcept { return capacity_; }

    /// Endpoint counts; see ChannelEndpoint.
    std::atomic<std::size_t> senders{0};
    std::atomic<std::size_t> receivers{0};

private:
    bool push(RawValue raw);
    bool pop(RawValue& raw) noexcept;
    /// After a push: wakes one receiver and every select, when any waits.
    void notify_sent() noexcept;

    const std::size_t capacity_;
    std::optional<base::MpmcRing<RawValue>> ring_; // bounded, capacity >= 2
    // Unbounded and capacity 1: blocks of 31 slots (Vyukov's turn test behind the ring needs
    // two slots); capacity 1 adds a counting bound on top.
    std::optional<base::SegmentQueue<RawValue>> list_;
    alignas(64) std::atomic<std::size_t> count_{0}; // capacity 1 only: reserved slots
    alignas(64) std::atomic<bool> closed_{false};
    base::EventCount not_empty_;
    base::EventCount not_full_;
};

/// One endpoint of a channel: what a Channel handle and a Value hold. Counts itself among the
/// channel's senders and/or receivers while alive; the last of either closes the channel.
class ChannelEndpoint final : public Shareable {
public:
    ChannelEndpoint(std::shared_ptr<ChannelState> state, Channel::Role role) noexcept;
    ~ChannelEndpoint() override;

    std::string_view type_name() const noexcept override { return "Channel"; }

    ChannelState& state() const noexcept { return *state_; }
    const std::shared_ptr<ChannelState>& shared_state() const noexcept { return state_; }
    Channel::Role role() const noexcept { return role_; }
    bool may_send() const noexcept { return static_cast<int>(role_) & 1; }
    bool may_recv() const noexcept { return static_cast<int>(role_) & 2; }

private:
    std::shared_ptr<ChannelState> state_;
    Channel::Role role_;
};

} // namespace isolates::detail
