#pragma once
/// Channel: a lock-free multi-producer multi-consumer channel of Values between C++ threads and
/// interpreters. Bounded (capacity fixed at creation) or unbounded; blocking, non-blocking and
/// timed send and receive; close(); select() over several channels.
///
/// A Channel object is a handle: copies share one channel, and a handle is itself a Value
/// (Value(channel), value.as<Channel>()), so it can be sent through another channel, passed to
/// or returned from an interpreter, where it arrives as an isolates.Channel.
///
/// Every method may be called from any thread. Waiting spins for up to 20 us (yielding after the
/// first 2 us), then sleeps on a futex; a send or receive that finds nobody waiting pays one
/// fence and one load for the wake-up machinery, never a system call. Sends and receives are
/// lock-free; a channel of capacity >= 2 never allocates after construction, capacity 1 and
/// unbounded channels allocate a queue node when their free list is empty.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <iterator>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <typeinfo>

#include <isolates/interp/errors.h>
#include <isolates/interp/value.h>

namespace isolates {

/// Thrown by send on a closed channel and by recv on a closed channel that is drained.
class ChannelClosed : public Error {
public:
    using Error::Error;
};

/// Thrown by a send on a receive-only endpoint and by a receive (recv, try_recv, select) on a
/// send-only one. A UsageError; Python sees it as PermissionError.
class EndpointRoleError : public UsageError {
public:
    using UsageError::UsageError;
};

/// When a waiting call gives up: nullopt waits forever.
using Deadline = std::optional<std::chrono::steady_clock::time_point>;

/// What try_send did.
enum class SendStatus { sent, full, closed };
/// What try_recv did.
enum class RecvStatus { received, empty, closed };

namespace detail {
class ChannelState;
class ChannelEndpoint;
struct ChannelAccess;
} // namespace detail

class Channel {
public:
    /// The capacity of a channel without bound.
    static constexpr std::size_t unbounded = std::numeric_limits<std::size_t>::max();
    /// What an endpoint may do.
    enum class Role : unsigned char { both = 3, send = 1, recv = 2 };

    /// A new channel holding at most `capacity` values (>= 1; `unbounded` for no bound). Bounded
    /// channels with capacity >= 2 preallocate a ring of that many slots; capacity 1 and
    /// unbounded channels use Boost.Lockfree's node queue, which allocates as it grows.
    /// Throws UsageError for capacity 0.
    explicit Channel(std::size_t capacity = 1024);

    /// A send-only endpoint of this channel (may_recv() is false), for producers.
    Channel sender() const;
    /// A receive-only endpoint of this channel, for consumers.
    Channel receiver() const;

    // --- Sending: any thread; the value moves in, never copied ----------------------------------
    /// Waits while the channel is full. Throws ChannelClosed once the channel is closed, and
    /// UsageError on a receive-only endpoint.
    void send(Value value);
    /// send() giving up after `timeout` (any precision): false when it timed out.
    bool send_for(Value value, std::chrono::nanoseconds timeout);
    /// Never blocks. On `full` or `closed` the value is dropped.
    SendStatus try_send(Value value);

    // --- Receiving: any thread; FIFO per producer ------------------------------------------------
    /// Waits while the channel is empty. Throws ChannelClosed when the channel is closed and
    /// everything sent before has been received.
    Value recv();
    /// recv() giving up after `timeout`: nullopt when it timed out.
    std::optional<Value> recv_for(std::chrono::nanoseconds timeout);
    /// Never blocks: nullopt when empty or closed (closed() tells which).
    std::optional<Value> try_recv();
    /// Never blocks; fills `out` on `received`.
    RecvStatus try_recv(Value& out);

    // --- Waiting with a status, for callers that must not throw on expected outcomes -------------
    /// Waits until sent, closed, `deadline` passed or `*stop` true; on anything but `sent` the
    /// value stays in `value` (`full` for a deadline or a stop). Whoever sets `*stop` then calls
    /// wake_waiters(). Throws EndpointRoleError on a receive-only endpoint.
    SendStatus send_until(Value& value, const Deadline& deadline,
                          const std::atomic<bool>* stop = nullptr);
    /// Waits until received (into `out`), closed and drained, `deadline` passed or `*stop` true
    /// (`empty` for the last two). Throws EndpointRoleError on a send-only endpoint.
    RecvStatus recv_until(Value& out, const Deadline& deadline,
                          const std::atomic<bool>* stop = nullptr);
    /// Wakes every sender and receiver blocked on this channel, to re-check their `stop`. Any
    /// thread; never blocks.
    void wake_waiters() const noexcept;

    // --- State --------------------------------------------------------------------------------------
    /// Closes the channel: senders fail from now on, receivers drain what is left and then see
    /// it closed; every blocked sender and receiver wakes. True for the call that closed it.
    bool close() noexcept;
    bool closed() const noexcept;
    /// Values queued right now (approximate while others send or receive).
    std::size_t size() const noexcept;
    /// The capacity given at creation (`unbounded` for none).
    std::size_t capacity() const noexcept;
    /// Endpoints alive that may send / receive (a `both` handle counts for each). When either
    /// count drops to zero the channel closes itself: nobody could use it any more.
    std::size_t sender_count() const noexcept;
    std::size_t receiver_count() const noexcept;
    bool may_send() const noexcept;
    bool may_recv() const noexcept;
    /// The same channel (not just equal contents), whichever endpoints.
    friend bool operator==(const Channel& a, const Channel& b) noexcept { return a.state() == b.state(); }
    /// A hash of the channel's identity, consistent with ==.
    std::size_t hash() const noexcept;

    // --- As a native Value (isolates/interp/native.h) ---------------------------------------------------
    /// The Shareable a Value made from this handle holds.
    std::shared_ptr<const Shareable> shareable() const noexcept;
    /// The handle that `object` is, when it came from shareable(); nullopt for any other type.
    static std::optional<Channel> from_shareable(const std::shared_ptr<const Shareable>& object);
    /// The dynamic type of every shareable(), the key for register_to_python_hook.
    static const std::type_info& shareable_type() noexcept;

    /// Input iteration: receives until the channel is closed and drained.
    class Iterator {
    public:
        using iterator_category = std::input_iterator_tag;
        using value_type = Value;
        using difference_type = std::ptrdiff_t;
        Iterator() = default;
        explicit Iterator(Channel* channel) : channel_(channel) { ++*this; }
        const Value& operator*() const noexcept { return current_; }
        Iterator& operator++();
        void operator++(int) { ++*this; }
        friend bool operator==(const Iterator& a, const Iterator& b) noexcept {
            return a.channel_ == b.channel_;
        }

    private:
        Channel* channel_ = nullptr;
        Value current_;
    };
    Iterator begin() { return Iterator(this); }
    Iterator end() { return Iterator(); }

private:
    friend struct detail::ChannelAccess;
    explicit Channel(std::shared_ptr<const detail::ChannelEndpoint> endpoint) noexcept
        : endpoint_(std::move(endpoint)) {}
    detail::ChannelState* state() const noexcept;
    std::shared_ptr<const detail::ChannelEndpoint> endpoint_;
};

/// What select() received: from which channel (index into the list) and what.
struct Selected {
    std::size_t index;
    Value value;
};

/// Receives from whichever channel has a value first, waiting at most `timeout` (nullopt:
/// forever). Channels are scanned from a rotating start so none starves. Closed and drained
/// channels are skipped; throws ChannelClosed when all of them are, EndpointRoleError when one
/// is send-only. nullopt on timeout, and also when `stop` turns true (whoever sets it then calls
/// wake_selects()).
std::optional<Selected> select(std::span<const Channel> channels,
                               std::optional<std::chrono::nanoseconds> timeout = std::nullopt,
                               const std::atomic<bool>* stop = nullptr);
/// Wakes every select() in the process to re-check (and see its `stop`).
void wake_selects() noexcept;

template <> struct Convert<Channel> {
    static Value to_value(const Channel& channel);
    /// Throws ConversionError when the Value is not a channel.
    static Channel from_value(const Value& value);
};

} // namespace isolates

template <> struct std::hash<isolates::Channel> {
    std::size_t operator()(const isolates::Channel& channel) const noexcept { return channel.hash(); }
};
