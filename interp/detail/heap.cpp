#include "interp/detail/heap.h"

#include <mimalloc.h>

#include <new>

namespace isolates::detail {

namespace {
thread_local mi_heap_t* current_heap = nullptr;
}

void* heap_allocate(std::size_t bytes) {
    void* p = current_heap ? mi_heap_malloc(current_heap, bytes) : mi_malloc(bytes);
    if (!p) throw std::bad_alloc();
    return p;
}

void heap_free(void* p) noexcept { mi_free(p); }

mi_heap_s* exchange_current_heap(mi_heap_s* heap) noexcept {
    mi_heap_t* previous = current_heap;
    current_heap = heap;
    return previous;
}

HeapScope::HeapScope(mi_heap_s* heap) noexcept : previous_(current_heap) { current_heap = heap; }
HeapScope::~HeapScope() { current_heap = previous_; }

} // namespace isolates::detail
