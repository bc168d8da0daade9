#pragma once
// SegmentQueue: an unbounded multi-producer multi-consumer queue of trivially copyable items,
// after the list flavour of crossbeam-channel (crossbeam-rs/crossbeam,
// crossbeam-channel/src/flavors/list.rs). Items live in a linked list of blocks of 31 slots, so
// a push allocates once per 31 items instead of once per item, and a producer or a consumer
// claims its position with one CAS on its own cursor, as in MpmcRing: one locked instruction per
// operation, like the ring.
//
// A cursor is a position shifted left by one: position p is slot p % 32 of its block, and the
// slot number 31, which does not exist, marks "the block is full, its successor is being
// installed" (whoever took slot 30 installs it and moves the cursor on). Bit 0 of the head cursor
// says the tail is known to be in a later block, so a consumer need not look at the tail.
//
// Reclamation without hazard pointers or epochs. Each slot has two flags, each set once by a
// plain release store: `written` by its producer after filling it, `read` by its consumer after
// reading it (the consumer waits for `written` first). Only the consumer of a slot and the
// producer that fills it ever touch a block once the head cursor has moved past it (a thread
// holding an older cursor fails its CAS before dereferencing the block). The consumer of the last
// slot, 30, frees the block once every other slot is read; when a consumer is still inside one
// (preempted between its claim and its read), the block goes to a retired list instead, which
// every later block's last consumer looks through again, freeing what is done. (crossbeam hands
// the freeing over to the late reader instead, which costs every consumer an atomic
// read-modify-write on its slot; a retired block costs nothing until a consumer is that late.)

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>

#include "base/backoff.h"

namespace isolates::base {

template <class T> class SegmentQueue {
    static_assert(std::is_trivially_copyable_v<T>, "slots are overwritten without destruction");

public:
    /// Allocates the first block (31 slots).
    SegmentQueue() {
        Block* first = new Block();
        // Relaxed: the queue is published to other threads by whatever hands them its owner.
        head_.block.store(first, std::memory_order_relaxed);
        tail_.block.store(first, std::memory_order_relaxed);
    }
    /// Frees every block. Items still queued are dropped as they are: drain them first with
    /// try_pop when they own something. No other thread may be using the queue.
    ~SegmentQueue() {
        // Every block from the head's on is alive (a block is freed or retired only by the
        // consumer of its last slot, after the head has moved past it); so is every retired one.
        // Relaxed: we are the only thread left.
        for (Block* block = head_.block.load(std::memory_order_relaxed); block;) {
            Block* next = block->next.load(std::memory_order_relaxed);
            delete block;
            block = next;
        }
        for (Block* block = retired_.load(std::memory_order_relaxed); block;) {
            Block* next = block->next_retired;
            delete block;
            block = next;
        }
        delete spare_.load(std::memory_order_relaxed);
    }
    SegmentQueue(const SegmentQueue&) = delete;
    SegmentQueue& operator=(const SegmentQueue&) = delete;

    /// Any thread; never full. Allocates a block once every 31 pushes and throws std::bad_alloc
    /// (the queue unchanged) when that fails. Lock-free, except that the push after a block's
    /// last slot waits (spinning, then yielding) for the producer installing the next block.
    void push(const T& item) {
        std::unique_ptr<Block> next_block;
        // Acquire on the cursor, then on the block: a producer installing a block stores the
        // block before it moves the cursor past the marker, so the block we read is at least as
        // new as the cursor; an older cursor fails the CAS below before we touch the block.
        std::size_t tail = tail_.index.load(std::memory_order_acquire);
        Block* block = tail_.block.load(std::memory_order_acquire);
        for (;;) {
            const std::size_t offset = (tail >> shift) % lap;
            if (offset == block_cap) { // the next block is being installed
                spin_until([&] { return !on_marker(tail_.index.load(std::memory_order_acquire)); });
                tail = tail_.index.load(std::memory_order_acquire);
                block = tail_.block.load(std::memory_order_acquire);
                continue;
            }
            // Taking the last slot obliges us to install the next block: allocate it before
            // claiming anything, so that a failure leaves the queue as it was.
            if (offset + 1 == block_cap && !next_block) next_block.reset(fresh_block());
            // Acquire on failure: the new cursor, as above. Winning only reserves the position
            // (the slot's `written` flag publishes the item, the release stores below the new
            // block), so success needs nothing stronger; it is acquire only because GCC 12
            // rejects a failure order stronger than the success order (same code on x86).
            if (tail_.index.compare_exchange_weak(tail, tail + step, std::memory_order_acquire)) {
                if (offset + 1 == block_cap) {
                    Block* next = next_block.release();
                    // Release: a thread that reads the new cursor (acquire) sees the block and
                    // its cleared slots; the cursor skips the marker position.
                    tail_.block.store(next, std::memory_order_release);
                    tail_.index.store(tail + 2 * step, std::memory_order_release);
                    block->next.store(next, std::memory_order_release);
                }
                Slot& slot = block->slots[offset];
                slot.item = item;
                // Release: publishes the item to the consumer that waits for this flag.
                slot.written.store(1, std::memory_order_release);
                return;
            }
            block = tail_.block.load(std::memory_order_acquire);
        }
    }

    /// Any thread; false when empty. Never allocates; frees blocks once they are read. When a
    /// producer has claimed the next slot but not yet filled it, waits for it (spinning, then
    /// yielding: it is a few instructions from done unless it was preempted).
    bool try_pop(T& item) noexcept {
        std::size_t head = head_.index.load(std::memory_order_acquire);
        Block* block = head_.block.load(std::memory_order_acquire);
        for (;;) {
            const std::size_t offset = (head >> shift) % lap;
            if (offset == block_cap) { // the consumer of the last slot is moving the head on
                spin_until([&] { return !on_marker(head_.index.load(std::memory_order_acquire)); });
                head = head_.index.load(std::memory_order_acquire);
                block = head_.block.load(std::memory_order_acquire);
                continue;
            }
            std::size_t new_head = head + step;
            if ((head & tail_ahead) == 0) {
                // Relaxed: the tail is only compared (nothing is read through it); the slot's
                // `written` flag publishes the item. No fence of our own: like MpmcRing::try_pop,
                // "empty" may miss a push not yet visible, and a caller that must not miss one
                // (the channel's wake-up) issues a seq_cst fence between its announcement and
                // this call, which orders this load after it.
                const std::size_t tail = tail_.index.load(std::memory_order_relaxed);
                if (head >> shift == tail >> shift) return false;
                if ((head >> shift) / lap != (tail >> shift) / lap) new_head |= tail_ahead;
            }
            // Acquire on failure: the new cursor, as above (and on success, as in push).
            if (head_.index.compare_exchange_weak(head, new_head, std::memory_order_acquire)) {
                if (offset + 1 == block_cap) {
                    // The producer of this slot installs the next block right after its claim.
                    Block* next = nullptr;
                    spin_until([&] {
                        return (next = block->next.load(std::memory_order_acquire)) != nullptr;
                    });
                    std::size_t next_index = (new_head & ~tail_ahead) + step;
                    // Relaxed: a hint only; a wrong "no" just means looking at the tail.
                    if (next->next.load(std::memory_order_relaxed)) next_index |= tail_ahead;
                    // Release: the block before the cursor, as for the tail.
                    head_.block.store(next, std::memory_order_release);
                    head_.index.store(next_index, std::memory_order_release);
                }
                Slot& slot = block->slots[offset];
                // Acquire pairs with the producer's release: the item is visible.
                spin_until([&] { return slot.written.load(std::memory_order_acquire) != 0; });
                item = slot.item;
                if (offset + 1 == block_cap) {
                    retire(block);
                } else {
                    // Release: whoever frees the block after seeing this flag (acquire) comes
                    // after our read. We touch the block no more.
                    slot.read.store(1, std::memory_order_release);
                }
                return true;
            }
            block = head_.block.load(std::memory_order_acquire);
        }
    }

    /// Items queued right now; exact only when nobody is pushing or popping.
    std::size_t size_approx() const noexcept {
        for (;;) {
            // A consistent pair: the tail did not move while the head was read, so head <= tail.
            std::size_t tail = tail_.index.load(std::memory_order_seq_cst);
            std::size_t head = head_.index.load(std::memory_order_seq_cst);
            if (tail_.index.load(std::memory_order_seq_cst) != tail) continue;
            tail >>= shift;
            head >>= shift;
            // A cursor on a marker stands for the first slot of the next block.
            if (tail % lap == block_cap) ++tail;
            if (head % lap == block_cap) ++head;
            const std::size_t base = head / lap * lap;
            tail -= base;
            head -= base;
            return tail - head - tail / lap; // one marker position per block boundary crossed
        }
    }

    /// Bytes of one block: what the queue allocates per 31 items.
    static constexpr std::size_t block_bytes() noexcept { return sizeof(Block); }

private:
    static constexpr std::size_t lap = 32;            // positions per block, the marker included
    static constexpr std::size_t block_cap = lap - 1; // slots per block
    static constexpr std::size_t shift = 1;           // cursor bit 0: head's tail_ahead flag
    static constexpr std::size_t step = std::size_t{1} << shift;
    static constexpr std::size_t tail_ahead = 1;

    struct alignas(std::min<std::size_t>(64, std::bit_ceil(sizeof(T) + 2))) Slot {
        T item;
        std::atomic<std::uint8_t> written{0};
        std::atomic<std::uint8_t> read{0};
    };
    struct Block {
        std::atomic<Block*> next{nullptr};
        Block* next_retired = nullptr; // while on the retired list
        Slot slots[block_cap];
    };
    struct alignas(64) Cursor { // its own cache line: producers and consumers do not false-share
        std::atomic<std::size_t> index{0};
        std::atomic<Block*> block{nullptr};
    };

    static bool on_marker(std::size_t index) noexcept { return (index >> shift) % lap == block_cap; }

    /// Whether every consumer of `block` has finished (the last slot's consumer is the caller).
    static bool all_read(const Block* block) noexcept {
        for (std::size_t k = 0; k + 1 < block_cap; ++k)
            // Acquire pairs with the consumer's release: its read comes before our free.
            if (!block->slots[k].read.load(std::memory_order_acquire)) return false;
        return true;
    }

    /// Called by the consumer of `block`'s last slot, once the head has moved past it: frees the
    /// block when every slot is read, else puts it on the retired list; then looks through the
    /// retired list, when there is one.
    void retire(Block* block) noexcept {
        if (all_read(block)) {
            recycle(block);
        } else {
            push_retired(block);
        }
        // Relaxed: a hint; a block retired just now by another thread is seen next time.
        if (!retired_.load(std::memory_order_relaxed)) return;
        // Take the whole list (acquire: the pushes' links), free what is done, put back the rest.
        // Taking everything at once makes this ABA-free: nobody ever pops one block.
        Block* list = retired_.exchange(nullptr, std::memory_order_acquire);
        while (list) {
            Block* next = list->next_retired;
            if (all_read(list)) {
                recycle(list);
            } else {
                push_retired(list);
            }
            list = next;
        }
    }

    /// Keeps a block nobody uses any more as the spare (freeing the previous spare, if any): a
    /// queue whose producers and consumers keep pace reuses one warm block instead of
    /// allocating and freeing one every 31 items.
    void recycle(Block* block) noexcept {
        // Release: our reads (and those of the consumers we saw finish) come before the next
        // user's writes; acquire: likewise for the spare we free.
        delete spare_.exchange(block, std::memory_order_acq_rel);
    }

    /// A cleared block: the spare, or a new one (which may throw std::bad_alloc).
    Block* fresh_block() {
        // Acquire pairs with recycle(): the block's last readers are done with it.
        Block* block = spare_.exchange(nullptr, std::memory_order_acquire);
        if (!block) return new Block();
        // Relaxed: the block reaches other threads through the release stores that install it.
        block->next.store(nullptr, std::memory_order_relaxed);
        block->next_retired = nullptr;
        for (Slot& slot : block->slots) {
            slot.written.store(0, std::memory_order_relaxed);
            slot.read.store(0, std::memory_order_relaxed);
        }
        return block;
    }

    void push_retired(Block* block) noexcept {
        Block* top = retired_.load(std::memory_order_relaxed);
        do {
            block->next_retired = top;
            // Release: the link is visible to whoever takes the list.
        } while (!retired_.compare_exchange_weak(top, block, std::memory_order_release,
                                                 std::memory_order_relaxed));
    }

    Cursor head_;
    Cursor tail_;
    alignas(64) std::atomic<Block*> retired_{nullptr}; // blocks a late consumer still reads
    std::atomic<Block*> spare_{nullptr};                // a read block, kept for reuse
};

} // namespace isolates::base
