#pragma once
// The one place that makes Value nodes: it allocates them (through base/block_cache.h, whose
// blocks come from the heap of the interpreter running on this thread), fills them, records
// their size and nesting depth, and owns a container's items while it fills. value.cpp,
// value_python.cpp and wire.cpp build every boxed Value through here.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <utility>

#include <isolates/interp/value.h>
#include "interp/detail/node.h"

namespace isolates::detail {

/// An int node from minimal little-endian two's complement bytes (more than 8 of them).
/// Allocates; throws std::bad_alloc.
Value make_big_int(std::span<const std::byte> twos_complement_le);
/// A str node copying `utf8`, which the caller has validated (strict UTF-8, or 'surrogatepass'
/// UTF-8 when `surrogates`); a NUL follows the text for CPython's C-string APIs. Allocates.
Value make_str(std::string_view utf8, bool surrogates);
/// A bytes node copying `data`. Allocates.
Value make_bytes(std::span<const std::byte> data);
/// A complex node. Allocates.
Value make_complex(double real, double imag);
/// A native node sharing `object` (not null). Allocates.
Value make_native(std::shared_ptr<const Shareable> object);

/// Builds a tuple, list, set, frozenset or dict node in place, one item at a time, so that a
/// producer of items (a Python container, wire bytes, a vector) needs no second copy. Until
/// finish() the builder owns the node and the items added so far; if it is destroyed first (an
/// exception while making an item) it frees exactly those.
class ContainerBuilder {
public:
    /// Room for `capacity` items (pairs for a dict). Allocates; throws std::bad_alloc.
    ContainerBuilder(Kind kind, std::size_t capacity);
    ~ContainerBuilder();
    ContainerBuilder(const ContainerBuilder&) = delete;
    ContainerBuilder& operator=(const ContainerBuilder&) = delete;

    /// Appends an item of a tuple, list, set or frozenset; never more than the capacity.
    void add(Value item) noexcept;
    /// Appends a dict's key and value; never more than the capacity.
    void add(Value key, Value value) noexcept;
    /// The items added so far (tuple, list, set, frozenset).
    std::span<const Value> items() const noexcept;
    /// The pairs added so far (dict).
    std::span<const std::pair<Value, Value>> pairs() const noexcept;
    /// The finished Value; the builder is empty afterwards. Throws ConversionError when the
    /// container would nest deeper than max_nesting (the node is then freed).
    Value finish();

private:
    Node* node_;
    std::size_t capacity_;
    std::uint16_t deepest_ = 0; // the deepest item's depth
};

} // namespace isolates::detail
