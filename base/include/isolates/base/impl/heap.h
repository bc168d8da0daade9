#pragma once
// Not API: an implementation detail, installed only because a public template
// (<isolates/executor/impl/shared_state.h> and task.h) uses it; it may change in any release.
// Which mimalloc heap our side allocates Value nodes from. Each Interpreter owns a heap made on
// its thread; while it runs, that heap is this thread's current one. mimalloc lets any thread
// free memory from any heap, so Values may be released anywhere and outlive their interpreter.
// Sanitizer builds (base/sanitized.h) use plain malloc instead and make no heaps: Debian's
// libmimalloc is not instrumented, so ASan would not see overruns in its blocks and TSan would not
// see it hand a freed block to another thread.

#include <cstddef>
#include <utility>

struct mi_heap_s;

namespace isolates::base {

/// Allocates from the current thread's interpreter heap, or mimalloc's default heap.
/// Throws std::bad_alloc on failure.
void* heap_allocate(std::size_t bytes);
/// Allocates `bytes` aligned to `alignment` (a power of two) from mimalloc's default heap.
/// Throws std::bad_alloc on failure.
void* heap_allocate_aligned(std::size_t bytes, std::size_t alignment);
/// Frees memory from heap_allocate or heap_allocate_aligned, on any thread.
void heap_free(void* p) noexcept;

/// An allocator for standard containers and std::allocate_shared over heap_allocate: mimalloc
/// frees a block on any thread cheaply, where glibc takes the allocating arena's lock.
template <class T> struct HeapAllocator {
    using value_type = T;
    HeapAllocator() noexcept = default;
    template <class U> HeapAllocator(const HeapAllocator<U>&) noexcept {}
    T* allocate(std::size_t n) { return static_cast<T*>(heap_allocate(n * sizeof(T))); }
    void deallocate(T* p, std::size_t) noexcept { heap_free(p); }
    template <class U> bool operator==(const HeapAllocator<U>&) const noexcept { return true; }
};

/// A new heap for an Interpreter (nullptr in sanitizer builds: the default is used).
mi_heap_s* new_heap() noexcept;
/// Deletes a heap from new_heap(); blocks still alive move to the default heap and stay valid.
void delete_heap(mi_heap_s* heap) noexcept;

/// Sets this thread's current heap (nullptr: mimalloc's default) and returns the previous one.
mi_heap_s* exchange_current_heap(mi_heap_s* heap) noexcept;

/// Owns a heap from new_heap() (none in sanitizer builds). mimalloc 2.0 allocates from a heap
/// only on the thread that made it, so make, use and destroy it on one thread; Values still alive
/// when it is destroyed move to the default heap and stay valid.
class UniqueHeap {
public:
    UniqueHeap() noexcept : heap_(new_heap()) {}
    ~UniqueHeap() { delete_heap(heap_); }
    UniqueHeap(UniqueHeap&& other) noexcept : heap_(std::exchange(other.heap_, nullptr)) {}
    UniqueHeap& operator=(UniqueHeap&& other) noexcept {
        std::swap(heap_, other.heap_); // `other` deletes what this held
        return *this;
    }
    UniqueHeap(const UniqueHeap&) = delete;
    UniqueHeap& operator=(const UniqueHeap&) = delete;

    mi_heap_s* get() const noexcept { return heap_; }

private:
    mi_heap_s* heap_;
};

} // namespace isolates::base
