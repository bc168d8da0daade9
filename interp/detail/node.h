#pragma once
// The heap side of a Value: one immutable, reference-counted node per boxed value, with its
// payload stored right after the header in the same allocation.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>

#include "interp/value.h"

namespace isolates::detail {

/// Flags on str nodes.
inline constexpr std::uint8_t str_surrogates = 2; // holds lone surrogates (surrogatepass UTF-8)

struct Node {
    std::atomic<std::uint32_t> refs{1};
    Kind kind;
    std::uint8_t flags = 0;
    std::uint16_t depth = 0; // container nesting below and including this node, <= max_nesting
    std::size_t size = 0; // bytes for int/str/bytes; items for sequences; pairs for dict

    Node(Kind k, std::size_t n, std::uint8_t f = 0) noexcept : kind(k), flags(f), size(n) {}

    template <class T> T* payload() noexcept { return reinterpret_cast<T*>(this + 1); }
    template <class T> const T* payload() const noexcept {
        return reinterpret_cast<const T*>(this + 1);
    }

    /// Allocates a node with `payload_bytes` after the header, from the mimalloc heap of the
    /// interpreter running on this thread if there is one (see heap.h), else the thread's default.
    static Node* allocate(Kind kind, std::size_t size, std::size_t payload_bytes,
                          std::uint8_t flags = 0);
    /// Destroys the payload (dropping references to children) and frees the memory.
    static void destroy(Node* node) noexcept;

    static Value wrap(Node* node) noexcept { return Value(node); }
    static std::uint16_t depth_of(const Value& v) noexcept {
        return v.node() ? v.node()->depth : 0;
    }
    /// The depth of a container holding `items`; throws ConversionError past max_nesting.
    static std::uint16_t container_depth(std::uint16_t deepest_child);
};
static_assert(sizeof(Node) % alignof(Value) == 0, "payloads must start aligned");
static_assert(alignof(std::max_align_t) >= alignof(Node));

} // namespace isolates::detail
