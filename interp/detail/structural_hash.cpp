// The structural hash (see structural_hash.h) and the multiset comparisons built on it.

#include "interp/detail/structural_hash.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <string_view>
#include <vector>

#include "interp/detail/node.h"

namespace isolates::detail {

namespace {
std::uint64_t mix(std::uint64_t x) noexcept { // splitmix64's finaliser
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

std::uint64_t seed(Kind kind) noexcept { return mix(static_cast<std::uint64_t>(kind) + 0x51ed27); }

std::uint64_t hash_bytes(std::span<const std::byte> data, std::uint64_t seed) noexcept {
    std::uint64_t h = mix(seed ^ data.size());
    std::size_t k = 0;
    for (; k + 8 <= data.size(); k += 8) {
        std::uint64_t word;
        std::memcpy(&word, data.data() + k, 8);
        h = mix(h ^ word);
    }
    std::uint64_t tail = 0;
    for (std::size_t j = 0; k + j < data.size(); ++j)
        tail |= std::uint64_t{std::to_integer<std::uint8_t>(data[k + j])} << (8 * j);
    return mix(h ^ tail ^ 0x8000000000000000ull);
}

/// The hash of one key-value pair of a dict, as ContainerHash sums it.
std::uint64_t pair_hash(std::uint64_t key, std::uint64_t value) noexcept {
    return mix(key ^ mix(value + 1));
}

std::uint64_t hash_of(const Value& v) noexcept { return structural_hash(v); }
std::uint64_t hash_of(const std::pair<Value, Value>& p) noexcept {
    return pair_hash(structural_hash(p.first), structural_hash(p.second));
}

/// Indices 0..n-1 ordered by `hashes`, equal hashes in ascending index order.
std::vector<std::size_t> by_hash(std::span<const std::uint64_t> hashes) {
    std::vector<std::size_t> order(hashes.size());
    for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return hashes[a] != hashes[b] ? hashes[a] < hashes[b] : a < b;
    });
    return order;
}

template <class Item> std::vector<std::uint64_t> hashes_of(std::span<const Item> items) {
    std::vector<std::uint64_t> out;
    out.reserve(items.size());
    for (const Item& item : items) out.push_back(hash_of(item));
    return out;
}

/// Sorted by hash, then matched within each run of equal hashes: near-linear for distinct
/// items, and right for repeated ones too.
template <class Item> bool same_multiset(std::span<const Item> a, std::span<const Item> b) {
    if (a.size() != b.size()) return false;
    const auto ha = hashes_of(a);
    const auto hb = hashes_of(b);
    const auto oa = by_hash(ha);
    const auto ob = by_hash(hb);
    for (std::size_t k = 0; k < oa.size(); ++k)
        if (ha[oa[k]] != hb[ob[k]]) return false;
    // Same sorted hashes, so each run of equal hashes covers the same positions in both.
    for (std::size_t start = 0; start < oa.size();) {
        std::size_t end = start;
        while (end < oa.size() && ha[oa[end]] == ha[oa[start]]) ++end;
        std::vector<bool> used(end - start);
        for (std::size_t i = start; i < end; ++i) {
            bool found = false;
            for (std::size_t j = start; j < end && !found; ++j)
                if (!used[j - start] && a[oa[i]] == b[ob[j]]) used[j - start] = found = true;
            if (!found) return false;
        }
        start = end;
    }
    return true;
}

template <class Item, class Same>
std::size_t first_repeat(std::span<const Item> items, std::span<const std::uint64_t> hashes,
                         Same same) {
    const auto order = by_hash(hashes);
    // Within a run of equal hashes indices ascend, so the first match after i is a later copy;
    // stopping there keeps many equal items linear (only true hash collisions cost more).
    std::size_t found = std::string_view::npos;
    for (std::size_t i = 0; i < order.size(); ++i)
        for (std::size_t j = i + 1; j < order.size() && hashes[order[j]] == hashes[order[i]]; ++j)
            if (same(items[order[i]], items[order[j]])) {
                found = std::min(found, order[j]);
                break;
            }
    return found;
}
} // namespace

std::uint64_t scalar_hash(const Value& v) noexcept {
    const Kind kind = v.kind();
    const std::uint64_t s = seed(kind);
    switch (kind) {
    case Kind::boolean: return mix(s ^ std::uint64_t{v.as_bool()});
    case Kind::integer: {
        if (v.fits_int64()) return mix(s ^ static_cast<std::uint64_t>(v.as_int64()));
        const Node* node = Node::of(v); // beyond 64 bits: its two's complement bytes
        return hash_bytes({node->payload<std::byte>(), node->size}, s);
    }
    case Kind::floating: return mix(s ^ std::bit_cast<std::uint64_t>(v.as_double()));
    case Kind::complex: {
        const auto c = v.as_complex();
        return mix(mix(s ^ std::bit_cast<std::uint64_t>(c.real())) ^
                   std::bit_cast<std::uint64_t>(c.imag()));
    }
    case Kind::str:
        return hash_bytes(std::as_bytes(std::span<const char>(v.as_str().data(), v.as_str().size())), s);
    case Kind::bytes: return hash_bytes(v.as_bytes(), s);
    case Kind::native: return mix(s ^ reinterpret_cast<std::uintptr_t>(v.as_native().get()));
    default: return s; // None; containers hash through ContainerHash
    }
}

ContainerHash::ContainerHash(Kind kind) noexcept
    : ordered_(kind == Kind::tuple || kind == Kind::list), hash_(seed(kind)) {}

void ContainerHash::add(std::uint64_t item) noexcept {
    if (ordered_) hash_ = mix(hash_ ^ item);
    else sum_ += mix(item);
}

void ContainerHash::add(std::uint64_t key, std::uint64_t value) noexcept {
    sum_ += pair_hash(key, value);
}

std::uint64_t ContainerHash::finish(std::size_t count) const noexcept {
    return mix(hash_ ^ sum_ ^ count);
}

std::uint64_t structural_hash(const Value& v) noexcept {
    switch (v.kind()) {
    case Kind::tuple: case Kind::list: case Kind::set: case Kind::frozenset: {
        ContainerHash hash(v.kind());
        for (const Value& item : v.items()) hash.add(structural_hash(item));
        return hash.finish(v.items().size());
    }
    case Kind::dict: {
        ContainerHash hash(Kind::dict);
        for (const auto& [key, value] : v.dict_items())
            hash.add(structural_hash(key), structural_hash(value));
        return hash.finish(v.dict_items().size());
    }
    default:
        return scalar_hash(v);
    }
}

bool same_items(std::span<const Value> a, std::span<const Value> b) { return same_multiset(a, b); }

bool same_pairs(std::span<const std::pair<Value, Value>> a,
                std::span<const std::pair<Value, Value>> b) {
    return same_multiset(a, b);
}

std::size_t first_duplicate(std::span<const Value> items, std::span<const std::uint64_t> hashes) {
    return first_repeat(items, hashes, [](const Value& x, const Value& y) { return x == y; });
}

std::size_t first_duplicate_key(std::span<const std::pair<Value, Value>> pairs,
                                std::span<const std::uint64_t> key_hashes) {
    return first_repeat(pairs, key_hashes,
                        [](const auto& x, const auto& y) { return x.first == y.first; });
}

} // namespace isolates::detail
