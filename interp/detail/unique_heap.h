#pragma once
// The owner of one Interpreter's mimalloc heap.

#include <utility>

#include "interp/detail/heap.h"

namespace isolates::detail {

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

} // namespace isolates::detail
