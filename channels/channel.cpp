#include <isolates/channels/channel.h>

#include <climits>

#include <cstdint>
#include <string>
#include <vector>

#include "base/backoff.h"
#include "channels/detail/channel_state.h"

namespace isolates {

namespace detail {

namespace {
bool passed(const Deadline& deadline) {
    return deadline && std::chrono::steady_clock::now() >= *deadline;
}

/// Acquire pairs with the release store of whoever set the flag before calling wake_waiters().
bool stopped(const std::atomic<bool>* stop) noexcept {
    return stop && stop->load(std::memory_order_acquire);
}

/// The blocking loop of send, recv and select: retries `attempt` (true: done) while spinning,
/// then sleeps on `event` between retries until it succeeds, the deadline passes or `stop` is
/// set. Returns whether the last attempt succeeded. An attempt that throws leaves no waiter
/// registered.
template <class F>
bool wait_until(base::EventCount& event, F&& attempt, const Deadline& deadline,
                const std::atomic<bool>* stop) {
    if (base::spin_then_yield(attempt)) return true;
    for (;;) {
        const base::EventCount::Key key = event.prepare_wait();
        bool done;
        try {
            done = attempt();
        } catch (...) {
            event.cancel_wait();
            throw;
        }
        if (done || passed(deadline) || stopped(stop)) {
            event.cancel_wait();
            return done;
        }
        event.wait(key, deadline);
    }
}
} // namespace

base::EventCount& select_signal() noexcept {
    static base::EventCount signal;
    return signal;
}

ChannelState::ChannelState(std::size_t capacity) : capacity_(capacity) {
    if (capacity == 0)
        throw UsageError("Channel capacity must be at least 1 (or Channel::unbounded)");
    if (capacity >= 2 && capacity != Channel::unbounded) {
        if (capacity > (std::size_t{1} << 40))
            throw UsageError("Channel capacity " + std::to_string(capacity) +
                             " is too large to preallocate; use Channel::unbounded");
        ring_.emplace(capacity);
    } else {
        list_.emplace();
    }
}

ChannelState::~ChannelState() {
    RawValue raw;
    while (pop(raw)) Value::from_raw(raw); // the temporary releases it
}

bool ChannelState::push(RawValue raw) {
    if (ring_) return ring_->try_push(raw);
    if (capacity_ == Channel::unbounded) {
        list_->push(raw);
        return true;
    }
    // Capacity 1: reserve the slot first, so that the bound holds however many senders race.
    std::size_t n = count_.load(std::memory_order_relaxed);
    do {
        if (n >= capacity_) return false;
        // Relaxed: the counter only enforces the bound; the queue publishes the value.
    } while (!count_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed));
    try {
        list_->push(raw);
    } catch (...) {
        count_.fetch_sub(1, std::memory_order_relaxed);
        throw;
    }
    return true;
}

bool ChannelState::pop(RawValue& raw) noexcept {
    if (ring_) return ring_->try_pop(raw);
    if (!list_->try_pop(raw)) return false;
    // Relaxed: the bound only, as in push.
    if (capacity_ != Channel::unbounded) count_.fetch_sub(1, std::memory_order_relaxed);
    return true;
}

std::size_t ChannelState::size() const noexcept {
    // A snapshot for len(), exact only when nobody sends or receives.
    return ring_ ? ring_->size_approx() : list_->size_approx();
}

void ChannelState::notify_sent() noexcept {
    // One fence for both: it orders the push before the two waiter-count loads.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    not_empty_.notify_all_after_fence();
    select_signal().notify_all_after_fence();
}

SendStatus ChannelState::try_send(Value& value) {
    if (closed()) return SendStatus::closed;
    RawValue raw = std::move(value).into_raw();
    bool pushed;
    try {
        pushed = push(raw);
    } catch (...) {
        value = Value::from_raw(raw);
        throw;
    }
    if (!pushed) {
        value = Value::from_raw(raw);
        return SendStatus::full;
    }
    notify_sent();
    return SendStatus::sent;
}

RecvStatus ChannelState::try_recv(Value& out) noexcept {
    RawValue raw;
    if (pop(raw)) {
        out = Value::from_raw(raw);
        // No sender ever waits for room in an unbounded channel: spare it the fence.
        if (capacity_ != Channel::unbounded) not_full_.notify_all();
        return RecvStatus::received;
    }
    if (!closed()) return RecvStatus::empty;
    // A value sent just before close() may have landed after our first look.
    if (pop(raw)) {
        out = Value::from_raw(raw);
        return RecvStatus::received;
    }
    return RecvStatus::closed;
}

void ChannelState::wake_waiters() noexcept {
    not_empty_.notify_all();
    not_full_.notify_all();
}

SendStatus ChannelState::send_until(Value& value, const Deadline& deadline,
                                    const std::atomic<bool>* stop) {
    SendStatus status = SendStatus::full;
    wait_until(not_full_, [&] { return (status = try_send(value)) != SendStatus::full; },
               deadline, stop);
    return status;
}

RecvStatus ChannelState::recv_until(Value& out, const Deadline& deadline,
                                    const std::atomic<bool>* stop) noexcept {
    RecvStatus status = RecvStatus::empty;
    wait_until(not_empty_, [&] { return (status = try_recv(out)) != RecvStatus::empty; },
               deadline, stop);
    return status;
}

bool ChannelState::close() noexcept {
    // Release: a receiver that sees the flag (acquire in closed()) also sees every value pushed
    // before close(), so its last look at the queue after seeing "closed" finds them.
    if (closed_.exchange(true, std::memory_order_acq_rel)) return false;
    not_empty_.notify_all();
    not_full_.notify_all();
    select_signal().notify_all();
    return true;
}

ChannelEndpoint::ChannelEndpoint(std::shared_ptr<ChannelState> state, Channel::Role role) noexcept
    : state_(std::move(state)), role_(role) {
    // Relaxed: the counts are statistics plus the "last one closes" rule, which fetch_sub's
    // atomicity alone decides.
    if (may_send()) state_->senders.fetch_add(1, std::memory_order_relaxed);
    if (may_recv()) state_->receivers.fetch_add(1, std::memory_order_relaxed);
}

ChannelEndpoint::~ChannelEndpoint() {
    bool last = false;
    if (may_send()) last |= state_->senders.fetch_sub(1, std::memory_order_relaxed) == 1;
    if (may_recv()) last |= state_->receivers.fetch_sub(1, std::memory_order_relaxed) == 1;
    if (last) state_->close();
}

/// What select() needs of the handles it is given, beyond the public API: their state.
struct ChannelAccess {
    static ChannelState& state(const Channel& channel) noexcept { return *channel.state(); }
};

} // namespace detail

using detail::ChannelEndpoint;
using detail::ChannelState;

namespace {
std::optional<std::chrono::steady_clock::time_point> deadline_after(std::chrono::nanoseconds t) {
    const auto now = std::chrono::steady_clock::now();
    if (t > std::chrono::steady_clock::time_point::max() - now) return std::nullopt;
    return now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(t);
}

[[noreturn]] void throw_closed_send() {
    throw ChannelClosed("send on a closed channel");
}
[[noreturn]] void throw_closed_recv() {
    throw ChannelClosed("recv on a closed channel: it is closed and every value has been received");
}
} // namespace

Channel::Channel(std::size_t capacity)
    : endpoint_(std::make_shared<ChannelEndpoint>(std::make_shared<ChannelState>(capacity),
                                                  Role::both)) {}

ChannelState* Channel::state() const noexcept { return &endpoint_->state(); }

Channel Channel::sender() const {
    return Channel(std::make_shared<ChannelEndpoint>(endpoint_->shared_state(), Role::send));
}
Channel Channel::receiver() const {
    return Channel(std::make_shared<ChannelEndpoint>(endpoint_->shared_state(), Role::recv));
}

bool Channel::may_send() const noexcept { return endpoint_->may_send(); }
bool Channel::may_recv() const noexcept { return endpoint_->may_recv(); }

namespace {
void check_send(const Channel& c) {
    if (!c.may_send()) throw EndpointRoleError("send on a receive-only channel endpoint");
}
void check_recv(const Channel& c) {
    if (!c.may_recv()) throw EndpointRoleError("recv on a send-only channel endpoint");
}
} // namespace

void Channel::send(Value value) {
    check_send(*this);
    if (state()->send_until(value, std::nullopt) == SendStatus::closed) throw_closed_send();
}

bool Channel::send_for(Value value, std::chrono::nanoseconds timeout) {
    check_send(*this);
    const SendStatus status = state()->send_until(value, deadline_after(timeout));
    if (status == SendStatus::closed) throw_closed_send();
    return status == SendStatus::sent;
}

SendStatus Channel::try_send(Value value) {
    check_send(*this);
    return state()->try_send(value);
}

SendStatus Channel::send_until(Value& value, const Deadline& deadline,
                               const std::atomic<bool>* stop) {
    check_send(*this);
    return state()->send_until(value, deadline, stop);
}

Value Channel::recv() {
    check_recv(*this);
    Value out;
    if (state()->recv_until(out, std::nullopt) == RecvStatus::closed) throw_closed_recv();
    return out;
}

std::optional<Value> Channel::recv_for(std::chrono::nanoseconds timeout) {
    check_recv(*this);
    Value out;
    switch (state()->recv_until(out, deadline_after(timeout))) {
    case RecvStatus::received: return out;
    case RecvStatus::empty: return std::nullopt;
    case RecvStatus::closed: throw_closed_recv();
    }
    return std::nullopt;
}

std::optional<Value> Channel::try_recv() {
    Value out;
    if (try_recv(out) == RecvStatus::received) return out;
    return std::nullopt;
}

RecvStatus Channel::try_recv(Value& out) {
    check_recv(*this);
    return state()->try_recv(out);
}

RecvStatus Channel::recv_until(Value& out, const Deadline& deadline,
                               const std::atomic<bool>* stop) {
    check_recv(*this);
    return state()->recv_until(out, deadline, stop);
}

void Channel::wake_waiters() const noexcept { state()->wake_waiters(); }

bool Channel::close() noexcept { return state()->close(); }
bool Channel::closed() const noexcept { return state()->closed(); }
std::size_t Channel::size() const noexcept { return state()->size(); }
std::size_t Channel::capacity() const noexcept { return state()->capacity(); }
// Relaxed: the counts are reports; nothing is published through them.
std::size_t Channel::sender_count() const noexcept {
    return state()->senders.load(std::memory_order_relaxed);
}
std::size_t Channel::receiver_count() const noexcept {
    return state()->receivers.load(std::memory_order_relaxed);
}

std::size_t Channel::hash() const noexcept {
    // The state's address, rotated: the low bits of an aligned pointer carry nothing.
    const auto bits = reinterpret_cast<std::uintptr_t>(state());
    return static_cast<std::size_t>((bits >> 4) | (bits << (8 * sizeof(bits) - 4)));
}

std::shared_ptr<const Shareable> Channel::shareable() const noexcept { return endpoint_; }

std::optional<Channel> Channel::from_shareable(const std::shared_ptr<const Shareable>& object) {
    if (auto endpoint = std::dynamic_pointer_cast<const ChannelEndpoint>(object))
        return Channel(std::move(endpoint));
    return std::nullopt;
}

const std::type_info& Channel::shareable_type() noexcept { return typeid(ChannelEndpoint); }

Channel::Iterator& Channel::Iterator::operator++() {
    if (!channel_) return *this;
    if (channel_->recv_until(current_, std::nullopt) != RecvStatus::received) {
        channel_ = nullptr;
        current_ = Value();
    }
    return *this;
}

void wake_selects() noexcept { detail::select_signal().notify_all(); }

std::optional<Selected> select(std::span<const Channel> channels,
                               std::optional<std::chrono::nanoseconds> timeout,
                               const std::atomic<bool>* stop) {
    if (channels.empty()) throw UsageError("select needs at least one channel");
    for (const Channel& c : channels) check_recv(c);
    const auto deadline = timeout ? deadline_after(*timeout) : std::nullopt;
    // Rotating start: under steady load every channel gets its turn to be looked at first.
    static thread_local std::size_t rotation = 0;
    const std::size_t start = rotation++;
    const std::size_t n = channels.size();
    std::optional<Selected> found;
    const auto scan = [&] {
        std::size_t closed = 0;
        for (std::size_t k = 0; k < n; ++k) {
            const std::size_t i = (start + k) % n;
            Value v;
            const RecvStatus status = detail::ChannelAccess::state(channels[i]).try_recv(v);
            if (status == RecvStatus::received) {
                found = Selected{i, std::move(v)};
                return true;
            }
            closed += status == RecvStatus::closed;
        }
        if (closed == n) throw ChannelClosed("select: every channel is closed and drained");
        return false;
    };
    detail::wait_until(detail::select_signal(), scan, deadline, stop);
    return found;
}

Value Convert<Channel>::to_value(const Channel& channel) { return Value::native(channel.shareable()); }

Channel Convert<Channel>::from_value(const Value& value) {
    if (value.kind() == Kind::native)
        if (auto channel = Channel::from_shareable(value.as_native())) return *std::move(channel);
    throw ConversionError("expected a Channel, got " + value.repr());
}

} // namespace isolates
