// base::cached_allocate / cached_free: blocks freed on one thread come back whole magazines at a
// time to a thread that allocates, the depot stays bounded, large blocks bypass the cache.

#include <algorithm>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include "base/block_cache.h"
#include "tests/support/doctest.h"
#include "tests/support/skip.h"

using namespace isolates;

namespace {
// A size no other test makes Values of (its class: 961 to 1024 bytes, node header included).
constexpr std::size_t test_bytes = 1000;

std::vector<void*> allocate_blocks(std::size_t n, std::size_t bytes) {
    std::vector<void*> blocks;
    for (std::size_t k = 0; k < n; ++k) {
        blocks.push_back(base::cached_allocate(bytes));
        std::memset(blocks.back(), 0x5a, bytes); // the whole size is usable
    }
    return blocks;
}

void free_blocks(const std::vector<void*>& blocks, std::size_t bytes) {
    for (void* block : blocks) base::cached_free(block, bytes);
}

/// Empties the depot of test_bytes' class (another test may have filled it), on a thread of its
/// own; returns the blocks taken, for the caller to free.
std::vector<void*> drain_depot() {
    std::vector<void*> taken;
    std::thread([&] {
        while (base::block_cache_depot_bytes(test_bytes) > 0)
            taken.push_back(base::cached_allocate(test_bytes));
    }).join();
    return taken;
}
} // namespace

TEST_SUITE("BlockCache") {

TEST_CASE("BlockCache.blocks_freed_on_one_thread_are_reused_by_another_a_magazine_at_a_time") {
    if (!base::block_cache_enabled()) ISOLATES_SKIP("no block cache under AddressSanitizer");
    const std::vector<void*> drained = drain_depot();
    const std::size_t n = 4 * base::magazine_blocks;
    std::vector<void*> made = allocate_blocks(n, test_bytes);
    // The freeing thread keeps two magazines and passes the others on; at exit it hands over
    // the two it kept (both full).
    std::thread([&] { free_blocks(made, test_bytes); }).join();
    const std::size_t magazine_bytes = base::magazine_blocks * 1024;
    CHECK(base::block_cache_depot_bytes(test_bytes) == 4 * magazine_bytes);
    // A new thread's first allocations of that class take those magazines.
    std::vector<void*> reused;
    std::thread([&] { reused = allocate_blocks(n, test_bytes); }).join();
    CHECK(std::set<void*>(reused.begin(), reused.end()) == std::set<void*>(made.begin(), made.end()));
    CHECK(base::block_cache_depot_bytes(test_bytes) == 0);
    free_blocks(reused, test_bytes);
    free_blocks(drained, test_bytes);
}

TEST_CASE("BlockCache.the_depot_keeps_a_bounded_number_of_magazines") {
    if (!base::block_cache_enabled()) ISOLATES_SKIP("no block cache under AddressSanitizer");
    std::vector<void*> made = allocate_blocks(100 * base::magazine_blocks, test_bytes);
    std::thread([&] { free_blocks(made, test_bytes); }).join();
    // 256 KiB per class: the other 92 or so magazines' blocks went back to mimalloc.
    CHECK(base::block_cache_depot_bytes(test_bytes) <= 256 * 1024);
    CHECK(base::block_cache_depot_bytes(test_bytes) > 0);
}

TEST_CASE("BlockCache.a_partial_magazine_is_freed_at_thread_exit_and_large_blocks_bypass_the_cache") {
    std::vector<void*> made = allocate_blocks(base::magazine_blocks / 2, test_bytes);
    void* large = base::cached_allocate(base::block_cache_max_bytes + 1);
    const std::size_t depot_before = base::block_cache_depot_bytes(test_bytes);
    std::memset(large, 0x5a, base::block_cache_max_bytes + 1);
    std::thread([&] {
        free_blocks(made, test_bytes);
        base::cached_free(large, base::block_cache_max_bytes + 1);
    }).join();
    CHECK(base::block_cache_depot_bytes(test_bytes) == depot_before);
    CHECK(base::block_cache_depot_bytes(base::block_cache_max_bytes + 1) == 0);
}

TEST_CASE("BlockCache.a_block_may_be_returned_as_a_smaller_size_than_it_was_made_for") {
    // A container abandoned half-filled is freed with the size of what it holds.
    void* block = base::cached_allocate(2000);
    std::memset(block, 0x5a, 2000);
    base::cached_free(block, 100);
    void* small = base::cached_allocate(100);
    if (base::block_cache_enabled()) CHECK(small == block); // this thread's newest of that class
    std::memset(small, 0x5a, 100);
    base::cached_free(small, 100);
}

}
