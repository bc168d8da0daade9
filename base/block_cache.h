#pragma once
// Recycles small blocks between threads in batches. A Value made on one thread and dropped on
// another is the channels' common case; freed one at a time, each block goes back to the
// allocating thread's mimalloc page through a cross-thread free list that the allocating thread
// must then walk block by block, a cache miss per block. Here a freed block goes into the freeing
// thread's magazine (an array of blocks of one size class); a full magazine goes to a shared
// depot, from which any thread that allocates blocks of that class takes it whole, so blocks
// cross threads in batches of magazine_blocks with one lock each way. Memory cached this way is
// bounded: per thread two magazines per class, per class a few magazines in the depot (the rest
// is freed to mimalloc). Under AddressSanitizer nothing is cached, so a use after free is still
// caught.

#include <cstddef>

namespace isolates::base {

/// Requests up to this many bytes are cached; larger ones go straight to heap_allocate.
inline constexpr std::size_t block_cache_max_bytes = 2048;
/// Blocks in one magazine: what crosses between threads in one go.
inline constexpr std::size_t magazine_blocks = 31;

/// A block of at least `bytes` (a cached one of its size class, else heap_allocate's). Throws
/// std::bad_alloc on failure.
void* cached_allocate(std::size_t bytes);
/// Returns a block from cached_allocate on any thread; `bytes` may be less than was asked for
/// (never more): the block then serves that smaller class.
void cached_free(void* block, std::size_t bytes) noexcept;

/// The bytes of the blocks the shared depot holds now for the size class of `bytes` (for tests).
std::size_t block_cache_depot_bytes(std::size_t bytes) noexcept;
/// False under AddressSanitizer, where every block goes straight to and from the heap.
bool block_cache_enabled() noexcept;

} // namespace isolates::base
