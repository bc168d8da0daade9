#pragma once
// The heap side of a Value: one immutable, reference-counted node per boxed value, with its
// payload stored right after the header in the same allocation. Nodes are made only by
// node_builder.h.

#include <atomic>
#include <cstddef>
#include <cstdint>

#include <isolates/interp/value.h>

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

    /// The node of a boxed Value, or nullptr for the inline scalars (None, bool, small int, float).
    static const Node* of(const Value& v) noexcept {
        return v.tag_ == Value::Tag::boxed ? v.u_.node : nullptr;
    }
    /// A Value owning `node` (the reference the node was made with).
    static Value wrap(Node* node) noexcept { return Value(node); }
    /// Destroys the payload (dropping references to children) and frees the memory; for the
    /// last reference only. Defined beside the allocation, in node_builder.cpp.
    static void destroy(Node* node) noexcept;
};
static_assert(sizeof(Node) % alignof(Value) == 0, "payloads must start aligned");
static_assert(alignof(std::max_align_t) >= alignof(Node));

/// Whether a str Value holds lone surrogates, kept as 'surrogatepass' UTF-8.
inline bool holds_surrogates(const Value& str) noexcept {
    const Node* node = Node::of(str);
    return node && node->kind == Kind::str && (node->flags & str_surrogates) != 0;
}

} // namespace isolates::detail
