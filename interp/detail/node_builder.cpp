// Node allocation and freeing, and every way of filling a node (see node_builder.h).

#include "interp/detail/node_builder.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <utility>

#include <isolates/interp/errors.h>
#include "base/block_cache.h"

namespace isolates::detail {

namespace {
// Nodes come from the block cache: a Value is often made on one thread and dropped on another.
Node* allocate(Kind kind, std::size_t size, std::size_t payload_bytes, std::uint8_t flags = 0) {
    void* memory = base::cached_allocate(sizeof(Node) + payload_bytes);
    return new (memory) Node(kind, size, flags);
}

std::uint16_t depth_of(const Value& v) noexcept {
    const Node* node = Node::of(v);
    return node ? node->depth : 0;
}

/// A node of `size` bytes copied from `data`, with room for `payload_bytes` >= size.
Node* copy_of(Kind kind, const void* data, std::size_t size, std::size_t payload_bytes,
              std::uint8_t flags = 0) {
    Node* node = allocate(kind, size, payload_bytes, flags);
    if (size) std::memcpy(node->payload<std::byte>(), data, size);
    return node;
}

[[noreturn]] void broken(const char* what) noexcept {
    std::fprintf(stderr, "isolates: internal error: %s\n", what);
    std::abort();
}

std::size_t item_bytes(Kind kind) noexcept {
    switch (kind) {
    case Kind::tuple: case Kind::list: case Kind::set: case Kind::frozenset:
        return sizeof(Value);
    case Kind::dict:
        return sizeof(std::pair<Value, Value>);
    default:
        broken("ContainerBuilder made for a kind that is not a container");
    }
}

/// The bytes `node` was allocated with, or fewer for a container that was abandoned before it
/// filled (its size counts only the items made): never more, as cached_free requires.
std::size_t allocated_bytes(const Node* node) noexcept {
    switch (node->kind) {
    case Kind::integer: case Kind::bytes: return sizeof(Node) + node->size;
    case Kind::str: return sizeof(Node) + node->size + 1;
    case Kind::complex: return sizeof(Node) + 2 * sizeof(double);
    case Kind::native: return sizeof(Node) + sizeof(std::shared_ptr<const Shareable>);
    default: return sizeof(Node) + node->size * item_bytes(node->kind);
    }
}
} // namespace

void Node::destroy(Node* node) noexcept {
    switch (node->kind) {
    case Kind::tuple: case Kind::list: case Kind::set: case Kind::frozenset:
        std::destroy_n(node->payload<Value>(), node->size);
        break;
    case Kind::dict:
        std::destroy_n(node->payload<std::pair<Value, Value>>(), node->size);
        break;
    case Kind::native:
        std::destroy_at(node->payload<std::shared_ptr<const Shareable>>());
        break;
    default:
        break;
    }
    const std::size_t bytes = allocated_bytes(node);
    node->~Node();
    base::cached_free(node, bytes);
}

Value make_big_int(std::span<const std::byte> le) {
    return Node::wrap(copy_of(Kind::integer, le.data(), le.size(), le.size()));
}

Value make_str(std::string_view utf8, bool surrogates) {
    Node* node = copy_of(Kind::str, utf8.data(), utf8.size(), utf8.size() + 1,
                         surrogates ? str_surrogates : 0);
    node->payload<char>()[utf8.size()] = '\0';
    return Node::wrap(node);
}

Value make_bytes(std::span<const std::byte> data) {
    return Node::wrap(copy_of(Kind::bytes, data.data(), data.size(), data.size()));
}

Value make_complex(double real, double imag) {
    Node* node = allocate(Kind::complex, 2, 2 * sizeof(double));
    node->payload<double>()[0] = real;
    node->payload<double>()[1] = imag;
    return Node::wrap(node);
}

Value make_native(std::shared_ptr<const Shareable> object) {
    using Shared = std::shared_ptr<const Shareable>;
    Node* node = allocate(Kind::native, 1, sizeof(Shared));
    new (node->payload<Shared>()) Shared(std::move(object));
    return Node::wrap(node);
}

// --- Containers ------------------------------------------------------------------------------

// The node's size counts the items made so far, so Node::destroy frees exactly those.
ContainerBuilder::ContainerBuilder(Kind kind, std::size_t capacity)
    : node_(allocate(kind, 0, capacity * item_bytes(kind))), capacity_(capacity) {}

ContainerBuilder::~ContainerBuilder() {
    if (node_) Node::destroy(node_);
}

void ContainerBuilder::add(Value item) noexcept {
    if (!node_ || node_->kind == Kind::dict || node_->size == capacity_)
        broken("ContainerBuilder::add past its capacity or of the wrong kind");
    deepest_ = std::max(deepest_, depth_of(item));
    new (node_->payload<Value>() + node_->size) Value(std::move(item));
    ++node_->size;
}

void ContainerBuilder::add(Value key, Value value) noexcept {
    if (!node_ || node_->kind != Kind::dict || node_->size == capacity_)
        broken("ContainerBuilder::add past its capacity or of the wrong kind");
    deepest_ = std::max({deepest_, depth_of(key), depth_of(value)});
    new (node_->payload<std::pair<Value, Value>>() + node_->size)
        std::pair<Value, Value>(std::move(key), std::move(value));
    ++node_->size;
}

std::span<const Value> ContainerBuilder::items() const noexcept {
    if (!node_ || node_->kind == Kind::dict) return {};
    return {node_->payload<Value>(), node_->size};
}

std::span<const std::pair<Value, Value>> ContainerBuilder::pairs() const noexcept {
    if (!node_ || node_->kind != Kind::dict) return {};
    return {node_->payload<std::pair<Value, Value>>(), node_->size};
}

Value ContainerBuilder::finish() {
    if (!node_) broken("ContainerBuilder::finish called twice");
    if (deepest_ + 1u > max_nesting)
        throw ConversionError("containers nested more than " + std::to_string(max_nesting) +
                              " levels deep");
    node_->depth = static_cast<std::uint16_t>(deepest_ + 1);
    return Node::wrap(std::exchange(node_, nullptr));
}

} // namespace isolates::detail
