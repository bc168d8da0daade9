#include <isolates/base/impl/heap.h>

#include <mimalloc.h>

#include <cstdlib>
#include <new>

#include "base/sanitized.h"

namespace isolates::base {

namespace {
thread_local mi_heap_t* current_heap = nullptr;

void* allocated_or_throw(void* p) {
    if (!p) throw std::bad_alloc();
    return p;
}
} // namespace

#if ISOLATES_SANITIZED

void* heap_allocate(std::size_t bytes) { return allocated_or_throw(std::malloc(bytes ? bytes : 1)); }
void* heap_allocate_aligned(std::size_t bytes, std::size_t alignment) {
    void* p = nullptr;
    if (alignment < sizeof(void*)) alignment = sizeof(void*);
    return allocated_or_throw(posix_memalign(&p, alignment, bytes ? bytes : 1) == 0 ? p : nullptr);
}
void heap_free(void* p) noexcept { std::free(p); }
mi_heap_s* new_heap() noexcept { return nullptr; }
void delete_heap(mi_heap_s*) noexcept {}

#else

void* heap_allocate(std::size_t bytes) {
    return allocated_or_throw(current_heap ? mi_heap_malloc(current_heap, bytes) : mi_malloc(bytes));
}
void* heap_allocate_aligned(std::size_t bytes, std::size_t alignment) {
    return allocated_or_throw(mi_malloc_aligned(bytes, alignment));
}
void heap_free(void* p) noexcept { mi_free(p); }
mi_heap_s* new_heap() noexcept { return mi_heap_new(); }
void delete_heap(mi_heap_s* heap) noexcept {
    if (heap) mi_heap_delete(heap);
}

#endif

mi_heap_s* exchange_current_heap(mi_heap_s* heap) noexcept {
    mi_heap_t* previous = current_heap;
    current_heap = heap;
    return previous;
}


} // namespace isolates::base
