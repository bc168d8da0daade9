// Magazines and the depot (see block_cache.h): the design of Bonwick and Adams' magazine layer
// ("Magazines and Vmem", USENIX 2001), one depot per size class.

#include "base/block_cache.h"

#include <algorithm>
#include <array>
#include <mutex>
#include <new>
#include <utility>

#include <isolates/base/impl/heap.h>
#include "base/sanitized.h"

namespace isolates::base {

namespace {

#if !ISOLATES_ADDRESS_SANITIZED

constexpr std::size_t class_granularity = 64; // at most 63 bytes of a block lost to rounding
constexpr std::size_t class_count = block_cache_max_bytes / class_granularity;
// Full magazines a class's depot keeps, at most: enough to absorb a consumer that runs ahead of
// its producer for a while, small next to what the blocks themselves hold.
constexpr std::size_t depot_bytes_per_class = 256 * 1024;

constexpr std::size_t class_of(std::size_t bytes) noexcept {
    return bytes ? (bytes - 1) / class_granularity : 0;
}
constexpr std::size_t class_bytes(std::size_t size_class) noexcept {
    return (size_class + 1) * class_granularity;
}

struct Magazine {
    std::size_t count = 0;
    void* blocks[magazine_blocks];

    bool full() const noexcept { return count == magazine_blocks; }
    void free_blocks() noexcept {
        while (count) heap_free(blocks[--count]);
    }
};

/// One class's shared stock: full magazines waiting for an allocating thread, empty ones
/// waiting for a freeing thread.
class Depot {
public:
    explicit Depot(std::size_t size_class) noexcept
        : magazine_bytes_(magazine_blocks * class_bytes(size_class)),
          max_full_(std::clamp<std::size_t>(depot_bytes_per_class / magazine_bytes_, 1,
                                            max_magazines)) {}

    /// A full magazine, or nullptr.
    Magazine* take_full() noexcept {
        std::lock_guard lock(mutex_);
        if (full_count_ == 0) return nullptr;
        return full_[--full_count_];
    }
    /// Keeps a full magazine; if the depot has enough, frees its blocks and keeps it empty.
    void give_full(Magazine* m) noexcept {
        {
            std::lock_guard lock(mutex_);
            if (full_count_ < max_full_) {
                full_[full_count_++] = m;
                return;
            }
        }
        m->free_blocks();
        give_empty(m);
    }
    /// An empty magazine (a new one when the depot has none). Throws std::bad_alloc.
    Magazine* take_empty() {
        {
            std::lock_guard lock(mutex_);
            if (empty_count_) return empty_[--empty_count_];
        }
        return new Magazine;
    }
    /// The bytes of the blocks in its full magazines.
    std::size_t bytes() noexcept {
        std::lock_guard lock(mutex_);
        return full_count_ * magazine_bytes_;
    }
    void give_empty(Magazine* m) noexcept {
        {
            std::lock_guard lock(mutex_);
            if (empty_count_ < max_magazines) {
                empty_[empty_count_++] = m;
                return;
            }
        }
        delete m;
    }

private:
    static constexpr std::size_t max_magazines = 64;

    std::mutex mutex_;
    std::array<Magazine*, max_magazines> full_{};
    std::array<Magazine*, max_magazines> empty_{};
    std::size_t full_count_ = 0;
    std::size_t empty_count_ = 0;
    const std::size_t magazine_bytes_;
    const std::size_t max_full_;
};

// Never destroyed: threads may still return magazines while the process exits.
Depot& depot(std::size_t size_class) noexcept {
    static auto* const depots = [] {
        auto* d = static_cast<Depot*>(::operator new(sizeof(Depot) * class_count));
        for (std::size_t c = 0; c < class_count; ++c) new (d + c) Depot(c);
        return d;
    }();
    return depots[size_class];
}

/// This thread's two magazines per class: `loaded` is used first; `previous` lets a thread that
/// alternates between allocating and freeing around a magazine boundary avoid the depot.
/// Trivially destructible, so it stays usable for destructors that run after Retirer's.
struct ThreadMagazines {
    std::array<Magazine*, class_count> loaded{};
    std::array<Magazine*, class_count> previous{};
    bool retired = false; // the thread is exiting: no more caching
};
thread_local constinit ThreadMagazines magazines;

/// At thread exit, hands the thread's magazines to the depots. Constructed on the thread's first
/// magazine, so thread-locals made before that (destroyed after it) free straight to the heap.
struct Retirer {
    Retirer() = default;
    Retirer(const Retirer&) = delete;
    Retirer& operator=(const Retirer&) = delete;
    ~Retirer() {
        magazines.retired = true;
        for (std::size_t c = 0; c < class_count; ++c)
            for (Magazine* m : {std::exchange(magazines.loaded[c], nullptr),
                                std::exchange(magazines.previous[c], nullptr)}) {
                if (!m) continue;
                if (m->full()) {
                    depot(c).give_full(m);
                } else {
                    m->free_blocks();
                    depot(c).give_empty(m);
                }
            }
    }
};
thread_local Retirer retirer;

void* allocate_from(std::size_t size_class) {
    Magazine*& loaded = magazines.loaded[size_class];
    if (!loaded || loaded->count == 0) {
        Magazine*& previous = magazines.previous[size_class];
        if (previous && previous->count) {
            std::swap(loaded, previous);
        } else if (Magazine* full = magazines.retired ? nullptr : depot(size_class).take_full()) {
            (void)&retirer; // registers the exit hook on this thread's first magazine
            if (loaded) depot(size_class).give_empty(loaded);
            loaded = full;
        } else {
            return heap_allocate(class_bytes(size_class));
        }
    }
    void* block = loaded->blocks[--loaded->count];
    // The next block was most likely freed on another core: start moving it here now.
    if (loaded->count) __builtin_prefetch(loaded->blocks[loaded->count - 1], 1);
    return block;
}

void free_to(std::size_t size_class, void* block) noexcept {
    Magazine*& loaded = magazines.loaded[size_class];
    if (!loaded || loaded->full()) {
        Magazine*& previous = magazines.previous[size_class];
        if (previous && !previous->full()) {
            std::swap(loaded, previous);
        } else {
            if (magazines.retired) return heap_free(block);
            Magazine* empty;
            try {
                (void)&retirer;
                empty = depot(size_class).take_empty();
            } catch (...) {
                return heap_free(block);
            }
            if (previous) depot(size_class).give_full(previous);
            previous = loaded;
            loaded = empty;
        }
    }
    loaded->blocks[loaded->count++] = block;
}

} // namespace

std::size_t block_cache_depot_bytes(std::size_t bytes) noexcept {
    return bytes > block_cache_max_bytes ? 0 : depot(class_of(bytes)).bytes();
}

bool block_cache_enabled() noexcept { return true; }

void* cached_allocate(std::size_t bytes) {
    if (bytes > block_cache_max_bytes) return heap_allocate(bytes);
    return allocate_from(class_of(bytes));
}

void cached_free(void* block, std::size_t bytes) noexcept {
    if (!block) return;
    if (bytes > block_cache_max_bytes) return heap_free(block);
    free_to(class_of(bytes), block);
}

#else // AddressSanitizer: every block straight from and to the heap

} // namespace

void* cached_allocate(std::size_t bytes) { return heap_allocate(bytes); }
void cached_free(void* block, std::size_t) noexcept { heap_free(block); }
std::size_t block_cache_depot_bytes(std::size_t) noexcept { return 0; }
bool block_cache_enabled() noexcept { return false; }

#endif

} // namespace isolates::base
