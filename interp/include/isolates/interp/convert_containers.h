#pragma once
/// Convert<T> for the standard containers beyond std::vector and std::map (isolates/interp/convert.h):
/// sequences, fixed-size arrays, views and sets. Included by isolates/interp/convert.h.
///
/// | C++                                          | Value     | back from                     |
/// |----------------------------------------------|-----------|-------------------------------|
/// | std::deque, std::list, std::forward_list     | list      | list or tuple                 |
/// | std::array<T, N>                             | tuple     | tuple or list of exactly N    |
/// | std::array<std::byte, N>, std::span<std::byte> | bytes   | bytes of exactly N (array)    |
/// | std::span<T>                                 | list      | (a view: nothing to own it)   |
/// | std::set, std::unordered_set                 | set       | set, frozenset, list or tuple |

#include <algorithm>
#include <array>
#include <cstddef>
#include <deque>
#include <forward_list>
#include <initializer_list>
#include <list>
#include <set>
#include <span>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include <isolates/interp/errors.h>
#include <isolates/interp/value.h>

namespace isolates {

namespace detail {
/// Every item of `items` through Convert, in iteration order.
template <class Range> std::vector<Value> values_of(const Range& items) {
    std::vector<Value> values;
    if constexpr (requires { items.size(); }) values.reserve(items.size());
    for (const auto& item : items)
        values.push_back(Convert<std::remove_cvref_t<decltype(item)>>::to_value(item));
    return values;
}

/// The items of `v` (one of the kinds in `accepted`, named by `expected` otherwise), each converted
/// to T and handed to `add` in order; an item's ConversionError names its position.
template <class T, class Add>
void each_item_as(const Value& v, std::initializer_list<Kind> accepted, const char* expected, Add&& add) {
    bool ok = false;
    for (Kind kind : accepted) ok |= v.kind() == kind;
    if (!ok)
        throw ConversionError(std::string("expected ") + expected + ", got " +
                              std::string(kind_name(v.kind())));
    std::size_t k = 0;
    for (const Value& item : v.items()) {
        add(at_position("[" + std::to_string(k) + "]", [&] { return Convert<T>::from_value(item); }));
        ++k;
    }
}

/// A sequence container (push_back) as a list, back from a list or tuple.
template <class Seq> struct ConvertSequence {
    using T = typename Seq::value_type;
    static Value to_value(const Seq& items)
        requires IntoValue<T>
    {
        return Value::list(values_of(items));
    }
    static Seq from_value(const Value& v)
        requires FromValue<T>
    {
        Seq out;
        each_item_as<T>(v, {Kind::list, Kind::tuple}, "a list or tuple",
                        [&](T&& item) { out.push_back(std::move(item)); });
        return out;
    }
};

/// A set container as a set, back from any container of items (duplicates merged).
template <class Set> struct ConvertSet {
    using T = typename Set::value_type;
    static Value to_value(const Set& items)
        requires IntoValue<T>
    {
        return Value::set(values_of(items));
    }
    static Set from_value(const Value& v)
        requires FromValue<T>
    {
        Set out;
        each_item_as<T>(v, {Kind::set, Kind::frozenset, Kind::list, Kind::tuple},
                        "a set, frozenset, list or tuple",
                        [&](T&& item) { out.insert(std::move(item)); });
        return out;
    }
};
} // namespace detail

template <class T, class A> struct Convert<std::deque<T, A>> : detail::ConvertSequence<std::deque<T, A>> {};
template <class T, class A> struct Convert<std::list<T, A>> : detail::ConvertSequence<std::list<T, A>> {};

template <class T, class A> struct Convert<std::forward_list<T, A>> {
    static Value to_value(const std::forward_list<T, A>& items)
        requires IntoValue<T>
    {
        return Value::list(detail::values_of(items));
    }
    static std::forward_list<T, A> from_value(const Value& v)
        requires FromValue<T>
    {
        std::forward_list<T, A> out;
        auto tail = out.before_begin();
        detail::each_item_as<T>(v, {Kind::list, Kind::tuple}, "a list or tuple",
                                [&](T&& item) { tail = out.insert_after(tail, std::move(item)); });
        return out;
    }
};

template <class T, class C, class A> struct Convert<std::set<T, C, A>> : detail::ConvertSet<std::set<T, C, A>> {};
template <class T, class H, class E, class A>
struct Convert<std::unordered_set<T, H, E, A>> : detail::ConvertSet<std::unordered_set<T, H, E, A>> {};

template <class T, std::size_t N> struct Convert<std::array<T, N>> {
    static Value to_value(const std::array<T, N>& items)
        requires IntoValue<T>
    {
        return Value::tuple(detail::values_of(items));
    }
    static std::array<T, N> from_value(const Value& v)
        requires FromValue<T>
    {
        if ((v.kind() != Kind::tuple && v.kind() != Kind::list) || v.items().size() != N)
            throw ConversionError("expected a tuple or list of " + std::to_string(N) + " items, got " +
                                  std::string(kind_name(v.kind())) +
                                  (v.kind() == Kind::tuple || v.kind() == Kind::list
                                       ? " of " + std::to_string(v.items().size()) + " items"
                                       : std::string()));
        return [&]<std::size_t... I>(std::index_sequence<I...>) {
            return std::array<T, N>{detail::at_position("[" + std::to_string(I) + "]", [&] {
                return Convert<T>::from_value(v.items()[I]);
            })...};
        }(std::make_index_sequence<N>{});
    }
};

template <std::size_t N> struct Convert<std::array<std::byte, N>> {
    static Value to_value(const std::array<std::byte, N>& b) { return Value::bytes(std::span<const std::byte>(b)); }
    static std::array<std::byte, N> from_value(const Value& v) {
        const auto b = v.as_bytes();
        if (b.size() != N)
            throw ConversionError("expected bytes of length " + std::to_string(N) + ", got " +
                                  std::to_string(b.size()));
        std::array<std::byte, N> out;
        std::copy(b.begin(), b.end(), out.begin());
        return out;
    }
};

/// A view converts one way: its items are copied into the Value, and nothing could own the items
/// a span made from a Value would point to.
template <class T, std::size_t E> struct Convert<std::span<T, E>> {
    static Value to_value(const std::span<T, E>& items)
        requires IntoValue<std::remove_cv_t<T>>
    {
        return Value::list(detail::values_of(items));
    }
};
template <std::size_t E> struct Convert<std::span<const std::byte, E>> {
    static Value to_value(const std::span<const std::byte, E>& b) { return Value::bytes(b); }
};
template <std::size_t E> struct Convert<std::span<std::byte, E>> {
    static Value to_value(const std::span<std::byte, E>& b) { return Value::bytes(b); }
};

} // namespace isolates
