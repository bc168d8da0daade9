#include "process/detail/frame_ring.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include <isolates/base/impl/futex.h>
#include "base/backoff.h"

namespace isolates::detail {

namespace {

constexpr std::size_t line = 64;
/// Past this a piece's length would not fit the header's 32 bits; no link needs more.
constexpr std::size_t max_capacity = std::size_t{1} << 30;
constexpr std::uint32_t ring_magic = 0x52524649; // "IFRR"
/// Every record header carries this tag: garbage where a header should be is seen at once.
constexpr std::uint32_t record_tag = 0x46520000;
constexpr std::uint32_t more_pieces = 1; // another piece of the same frame follows
constexpr std::size_t header_bytes = 8;

constexpr std::size_t round8(std::size_t n) noexcept { return (n + 7) & ~std::size_t{7}; }
constexpr std::size_t record_bytes(std::size_t payload) noexcept { return header_bytes + round8(payload); }

/// What a look at the counts found.
enum class Check { wait, ready, broken };

} // namespace

// The part that lives in shared memory. The producer's count and the consumer's sit on lines of
// their own so that each side's writes do not keep stealing the other's cache line.
struct FrameRing::Shared {
    alignas(line) std::atomic<std::uint64_t> tail{0}; // bytes ever written; the producer's
    alignas(line) std::atomic<std::uint64_t> head{0}; // bytes ever consumed; the consumer's
    // The consumer sleeps on `data_word` (the producer bumps it to wake it), the producer on
    // `space_word`; each raises its `*_sleeping` flag first so the other knows to make the call.
    alignas(line) std::atomic<std::uint32_t> data_word{0};
    std::atomic<std::uint32_t> consumer_sleeping{0};
    alignas(line) std::atomic<std::uint32_t> space_word{0};
    std::atomic<std::uint32_t> producer_sleeping{0};
    alignas(line) std::atomic<std::uint32_t> closed{0};
    std::atomic<std::uint32_t> magic{0}; // written last by create(): attach() sees a whole header
    std::uint64_t capacity = 0;
};

static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
              "the counts are shared between processes: they must be lock-free (address-free)");

std::size_t FrameRing::usable_capacity(std::size_t capacity) noexcept {
    capacity = std::min(capacity, max_capacity);
    return std::max(line, (capacity + line - 1) / line * line);
}

std::size_t FrameRing::footprint(std::size_t capacity) noexcept {
    static_assert(sizeof(Shared) % line == 0, "the data starts on a line of its own");
    return sizeof(Shared) + usable_capacity(capacity);
}

FrameRing FrameRing::create(std::span<std::byte> memory, std::size_t capacity) {
    if (capacity > max_capacity)
        throw std::invalid_argument("FrameRing capacity " + std::to_string(capacity) +
                                    " is larger than " + std::to_string(max_capacity));
    const std::size_t usable = usable_capacity(capacity);
    if (memory.size() < footprint(capacity) || reinterpret_cast<std::uintptr_t>(memory.data()) % line)
        throw std::invalid_argument("FrameRing::create needs " + std::to_string(footprint(capacity)) +
                                    " bytes aligned to 64, got " + std::to_string(memory.size()));
    auto* shared = new (memory.data()) Shared;
    shared->capacity = usable;
    shared->magic.store(ring_magic, std::memory_order_release);
    return FrameRing(shared, memory.data() + sizeof(Shared), usable);
}

FrameRing FrameRing::attach(std::span<std::byte> memory, std::size_t capacity) {
    const std::size_t usable = usable_capacity(capacity);
    if (memory.size() < footprint(capacity) || reinterpret_cast<std::uintptr_t>(memory.data()) % line)
        throw std::invalid_argument("FrameRing::attach needs " + std::to_string(footprint(capacity)) +
                                    " bytes aligned to 64, got " + std::to_string(memory.size()));
    // create() constructed the Shared object in these bytes (through another mapping).
    auto* shared = std::launder(reinterpret_cast<Shared*>(memory.data()));
    if (shared->magic.load(std::memory_order_acquire) != ring_magic || shared->capacity != usable)
        throw std::invalid_argument("no FrameRing of " + std::to_string(usable) + " bytes here");
    return FrameRing(shared, memory.data() + sizeof(Shared), usable);
}

FrameRing::FrameRing(FrameRing&& other) noexcept
    : shared_(std::exchange(other.shared_, nullptr)), data_(std::exchange(other.data_, nullptr)),
      capacity_(std::exchange(other.capacity_, 0)), partial_(std::move(other.partial_)),
      in_partial_(std::exchange(other.in_partial_, false)) {}

FrameRing& FrameRing::operator=(FrameRing&& other) noexcept {
    if (this != &other) {
        shared_ = std::exchange(other.shared_, nullptr);
        data_ = std::exchange(other.data_, nullptr);
        capacity_ = std::exchange(other.capacity_, 0);
        partial_ = std::move(other.partial_);
        in_partial_ = std::exchange(other.in_partial_, false);
    }
    return *this;
}

void FrameRing::close() noexcept {
    if (!shared_) return;
    shared_->closed.store(1, std::memory_order_seq_cst);
    // Bumped after the flag: a side that read its word before seeing the flag finds the word
    // changed when it calls FUTEX_WAIT, and returns at once. Closing is rare: always wake.
    shared_->data_word.fetch_add(1, std::memory_order_seq_cst);
    shared_->space_word.fetch_add(1, std::memory_order_seq_cst);
    base::futex_wake(shared_->data_word, INT_MAX, /*shared=*/true);
    base::futex_wake(shared_->space_word, INT_MAX, /*shared=*/true);
}

bool FrameRing::closed() const noexcept {
    return !shared_ || shared_->closed.load(std::memory_order_seq_cst) != 0;
}

RingStatus FrameRing::broken() noexcept {
    close();
    return RingStatus::closed;
}

void FrameRing::wake_peer(Side side) noexcept {
    auto& sleeping = side == Side::producer ? shared_->consumer_sleeping : shared_->producer_sleeping;
    auto& word = side == Side::producer ? shared_->data_word : shared_->space_word;
    // Dekker-style pairing with wait_until: our seq_cst store of the count comes before this
    // seq_cst load, the sleeper's seq_cst store of its flag before its seq_cst re-read of the
    // count, so either it sees our count or we see its flag. The plain load keeps the busy case
    // (nobody asleep) free of a locked instruction and of a system call.
    if (sleeping.load(std::memory_order_seq_cst) && sleeping.exchange(0, std::memory_order_seq_cst)) {
        word.fetch_add(1, std::memory_order_seq_cst);
        base::futex_wake(word, 1, /*shared=*/true);
    }
}

template <class Ready>
RingStatus FrameRing::wait_until(Side side, Ready&& ready, const RingWait& wait) {
    // What a look found, counting a closed ring: ready wins over closed (frames sent before the
    // close are still received), and the count is looked at again after seeing the flag, since
    // the peer's last count came before its close.
    auto look = [&]() -> std::optional<RingStatus> {
        Check check = ready();
        if (check == Check::wait && closed()) check = ready();
        if (check == Check::ready) return RingStatus::ok;
        if (check == Check::broken) return broken();
        if (closed()) return RingStatus::closed;
        return std::nullopt;
    };
    std::optional<RingStatus> status = look();
    if (status) return *status;
    base::spin_then_yield([&] { return (status = look()).has_value(); });
    if (status) return *status;

    auto& word = side == Side::consumer ? shared_->data_word : shared_->space_word;
    auto& sleeping = side == Side::consumer ? shared_->consumer_sleeping : shared_->producer_sleeping;
    auto asked = std::chrono::steady_clock::now();
    for (;;) {
        // The word first, then the flag, then a last look: a wake_peer after that look bumps the
        // word, so FUTEX_WAIT, which compares it with `seen`, returns at once instead of sleeping.
        const std::uint32_t seen = word.load(std::memory_order_seq_cst);
        sleeping.store(1, std::memory_order_seq_cst);
        status = look();
        const auto now = std::chrono::steady_clock::now();
        if (!status && now >= wait.deadline) status = RingStatus::timed_out;
        if (!status && wait.keep_waiting && now - asked >= wait.poll) {
            asked = now;
            if (!wait.keep_waiting()) status = RingStatus::gave_up;
        }
        if (status) {
            // Relaxed: the flag is a hint; a stale 1 costs the peer one needless wake-up.
            sleeping.store(0, std::memory_order_relaxed);
            return *status;
        }
        std::optional<std::chrono::nanoseconds> slice;
        if (wait.deadline != std::chrono::steady_clock::time_point::max())
            slice = std::chrono::duration_cast<std::chrono::nanoseconds>(wait.deadline - now);
        if (wait.keep_waiting) {
            const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(asked + wait.poll - now);
            slice = slice ? std::min(*slice, left) : left;
        }
        base::futex_wait(word, seen, slice, /*shared=*/true);
    }
}

void FrameRing::copy_in(std::uint64_t position, const std::byte* bytes, std::size_t size) noexcept {
    const std::size_t offset = static_cast<std::size_t>(position % capacity_);
    const std::size_t first = std::min(size, capacity_ - offset);
    if (first) std::memcpy(data_ + offset, bytes, first);
    if (size > first) std::memcpy(data_, bytes + first, size - first);
}

void FrameRing::copy_out(std::uint64_t position, std::byte* bytes, std::size_t size) const noexcept {
    const std::size_t offset = static_cast<std::size_t>(position % capacity_);
    const std::size_t first = std::min(size, capacity_ - offset);
    if (first) std::memcpy(bytes, data_ + offset, first);
    if (size > first) std::memcpy(bytes + first, data_, size - first);
}

// Memory orders, as in Lamport's queue made lock-free for weak memory (the scheme of
// Boost.Lockfree's spsc_queue and Vyukov's SPSC queue): a side reads the peer's count with (at
// least) acquire, so the bytes the peer wrote, or finished reading, before moving it are settled,
// and moves its own with a store after its copies (at least release). Both are seq_cst only for
// the sleep handshake (see wake_peer). Its own count is read relaxed: only it writes it.
RingStatus FrameRing::send(std::span<const std::byte> frame, const RingWait& wait) {
    if (!shared_) return RingStatus::closed;
    const std::size_t capacity = capacity_;
    const std::size_t max_piece = capacity - header_bytes;
    // A frame that fits the ring goes whole once there is room for it; a bigger one goes in
    // pieces, each as large as the room there is once half the ring is free.
    const bool whole = frame.size() <= max_piece;
    std::size_t done = 0;
    for (;;) {
        if (closed()) return RingStatus::closed;
        const std::size_t left = frame.size() - done;
        const std::size_t need =
            whole ? record_bytes(left) : std::min(left <= max_piece ? record_bytes(left) : capacity, capacity / 2);
        const std::uint64_t tail = shared_->tail.load(std::memory_order_relaxed);
        std::size_t room = 0;
        const RingStatus status = wait_until(Side::producer, [&] {
            // Seq_cst rather than acquire: this is also the re-check after raising the sleeping
            // flag (see wake_peer); on x86 and ARMv8 it costs what an acquire load costs.
            const std::uint64_t head = shared_->head.load(std::memory_order_seq_cst);
            const std::uint64_t used = tail - head;
            if (used > capacity || ((tail | head) & 7)) return Check::broken;
            room = capacity - static_cast<std::size_t>(used);
            return room >= need ? Check::ready : Check::wait;
        }, wait);
        if (status != RingStatus::ok) {
            // Pieces already sent cannot be taken back, and the rest can no longer follow them.
            if (done > 0 && status != RingStatus::closed) close();
            return status;
        }
        const std::size_t piece = record_bytes(left) <= room ? left : (room - header_bytes) & ~std::size_t{7};
        const bool more = piece < left;
        const std::uint32_t header[2] = {static_cast<std::uint32_t>(piece), record_tag | (more ? more_pieces : 0)};
        copy_in(tail, reinterpret_cast<const std::byte*>(header), header_bytes);
        if (piece) copy_in(tail + header_bytes, frame.data() + done, piece);
        shared_->tail.store(tail + record_bytes(piece), std::memory_order_seq_cst);
        wake_peer(Side::producer);
        done += piece;
        if (!more) return RingStatus::ok;
    }
}

RingStatus FrameRing::receive(std::vector<std::byte>& frame, const RingWait& wait) {
    if (!shared_) return RingStatus::closed;
    frame.clear();
    bool in_pieces = std::exchange(in_partial_, false);
    if (in_pieces) frame.swap(partial_);
    const std::size_t capacity = capacity_;
    for (;;) {
        const std::uint64_t head = shared_->head.load(std::memory_order_relaxed);
        std::size_t available = 0;
        const RingStatus status = wait_until(Side::consumer, [&] {
            const std::uint64_t tail = shared_->tail.load(std::memory_order_seq_cst); // as in send
            const std::uint64_t used = tail - head;
            if (used > capacity || ((tail | head) & 7)) return Check::broken;
            available = static_cast<std::size_t>(used);
            return available ? Check::ready : Check::wait;
        }, wait);
        if (status != RingStatus::ok) {
            if (in_pieces && (status == RingStatus::timed_out || status == RingStatus::gave_up)) {
                partial_.swap(frame);
                in_partial_ = true;
            }
            frame.clear();
            return status;
        }
        // The producer publishes whole records, so `available` holds at least one: a header
        // that says otherwise is not one a correct producer wrote. Copied out once, then checked:
        // the peer cannot change it between the check and the use.
        std::uint32_t header[2];
        copy_out(head, reinterpret_cast<std::byte*>(header), header_bytes);
        const std::size_t length = header[0];
        if ((header[1] & ~more_pieces) != record_tag || available < header_bytes ||
            length > available - header_bytes || record_bytes(length) > available) {
            frame.clear();
            return broken();
        }
        const std::size_t old = frame.size();
        frame.resize(old + length);
        if (length) copy_out(head + header_bytes, frame.data() + old, length);
        shared_->head.store(head + record_bytes(length), std::memory_order_seq_cst);
        wake_peer(Side::consumer);
        if (!(header[1] & more_pieces)) return RingStatus::ok;
        in_pieces = true;
    }
}

} // namespace isolates::detail
