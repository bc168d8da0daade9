#pragma once
// The one structural hash of a Value: what Value::hash() returns, what == uses to match the items
// of sets and dicts, and what the wire format uses to refuse duplicate set items and dict keys.
// A container's hash is made from its items' hashes (ContainerHash), so code that builds a Value
// bottom-up (the wire codec) hashes it in the same pass instead of walking each subtree again.

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

#include <isolates/interp/value.h>

namespace isolates::detail {

/// The hash of a Value that is no container (None, bool, int, float, complex, str, bytes,
/// native): equal Values hash equally.
std::uint64_t scalar_hash(const Value& v) noexcept;

/// Folds a container's item hashes into its hash: in order for tuple and list, order-free for
/// set, frozenset and dict (as == compares them).
class ContainerHash {
public:
    explicit ContainerHash(Kind kind) noexcept;
    /// The next item of a tuple, list, set or frozenset.
    void add(std::uint64_t item) noexcept;
    /// The next key and value of a dict.
    void add(std::uint64_t key, std::uint64_t value) noexcept;
    /// The container's hash after `count` items (pairs for a dict).
    std::uint64_t finish(std::size_t count) const noexcept;

private:
    bool ordered_;
    std::uint64_t hash_;
    std::uint64_t sum_ = 0;
};

/// The hash of any Value, recursing through containers (what Value::hash() returns).
std::uint64_t structural_hash(const Value& v) noexcept;

/// Whether `a` and `b` hold the same items in any order, counting repeats (set and frozenset ==).
bool same_items(std::span<const Value> a, std::span<const Value> b);
/// Whether two dicts hold the same key-value pairs in any order (dict ==).
bool same_pairs(std::span<const std::pair<Value, Value>> a,
                std::span<const std::pair<Value, Value>> b);

/// Index of the first item equal to an earlier one, or npos; `hashes[k]` is the structural hash
/// of `items[k]`. Near-linear: only items with equal hashes are compared.
std::size_t first_duplicate(std::span<const Value> items, std::span<const std::uint64_t> hashes);
/// Index of the first pair whose key equals an earlier key, or npos; `key_hashes[k]` is the
/// structural hash of `pairs[k].first`.
std::size_t first_duplicate_key(std::span<const std::pair<Value, Value>> pairs,
                                std::span<const std::uint64_t> key_hashes);

} // namespace isolates::detail
