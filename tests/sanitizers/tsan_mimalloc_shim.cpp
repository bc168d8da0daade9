// Linked into the test binary of ThreadSanitizer builds only (see tests/meson.build).
//
// Debian's libmimalloc is not instrumented: when one thread frees a block and another gets the
// same memory back, mimalloc hands it over through atomics TSan cannot see, so TSan reports the
// new owner's first writes (a fresh Value node) as racing with the old owner's last ones. The
// executable's definitions below take precedence over libmimalloc's for libisolates, so isolates'
// own mimalloc calls become malloc/free, which TSan intercepts and understands - the same move as
// running CPython on PYMEM_ALLOCATOR_MALLOC. Only the calls isolates makes are covered; heaps are
// still created and deleted by mimalloc (they just stay empty).

#include <cstddef>
#include <cstdlib>

struct mi_heap_s;

extern "C" {
void* mi_malloc(std::size_t size) { return std::malloc(size); }
void* mi_heap_malloc(mi_heap_s*, std::size_t size) { return std::malloc(size); }
void* mi_malloc_aligned(std::size_t size, std::size_t alignment) {
    void* p = nullptr;
    if (alignment < sizeof(void*)) alignment = sizeof(void*);
    return posix_memalign(&p, alignment, size) == 0 ? p : nullptr;
}
void mi_free(void* p) { std::free(p); }
}
