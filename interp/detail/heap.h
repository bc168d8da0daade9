#pragma once
// Which mimalloc heap our side allocates Value nodes from. Each Interpreter owns a heap made on
// its thread; while it runs, that heap is this thread's current one. mimalloc lets any thread
// free memory from any heap, so Values may be released anywhere and outlive their interpreter.

#include <cstddef>

struct mi_heap_s;

namespace isolates::detail {

/// Allocates from the current thread's interpreter heap, or mimalloc's default heap.
/// Throws std::bad_alloc on failure.
void* heap_allocate(std::size_t bytes);
/// Frees memory from heap_allocate, on any thread.
void heap_free(void* p) noexcept;

/// Sets this thread's current heap (nullptr: mimalloc's default) and returns the previous one.
mi_heap_s* exchange_current_heap(mi_heap_s* heap) noexcept;

/// Makes `heap` the current heap of this thread for its lifetime; restores the previous one.
class HeapScope {
public:
    explicit HeapScope(mi_heap_s* heap) noexcept;
    ~HeapScope();
    HeapScope(const HeapScope&) = delete;
    HeapScope& operator=(const HeapScope&) = delete;

private:
    mi_heap_s* previous_;
};

} // namespace isolates::detail
