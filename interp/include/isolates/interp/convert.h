#pragma once
/// Convert<T>: how C++ types become Values and back. Included by value.h; specialise it for your
/// own types with `static Value to_value(const T&)` and `static T from_value(const Value&)`.
/// A container converts when its items do: its to_value and from_value are constrained on them.
///
/// | C++                                   | Value            |
/// |---------------------------------------|------------------|
/// | nullptr_t, std::nullopt               | None             |
/// | bool                                  | bool             |
/// | any integer type (range-checked back) | int              |
/// | float, double                         | float            |
/// | std::complex<double>                  | complex          |
/// | std::string, string_view, const char* | str (UTF-8)      |
/// | std::vector<std::byte>                | bytes            |
/// | std::vector<T>                        | list (from tuple or list) |
/// | std::map / std::unordered_map         | dict             |
/// | std::pair, std::tuple                 | tuple            |
/// | std::optional<T>                      | None or T        |
/// | deque, list, forward_list, array, span, set, unordered_set: isolates/interp/convert_containers.h |
///
/// A type without a Convert<T> fails to compile where it is used (Value(x), Interpreter::call,
/// InterpreterPoolExecutor::submit, Value::as<T>()), with one short message: see IntoValue and
/// FromValue in isolates/interp/value.h.

#include <complex>
#include <concepts>
#include <cstddef>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include <isolates/interp/errors.h>
#include <isolates/interp/value.h>

namespace isolates {

class Value;

namespace detail {
/// Runs `f`, prefixing any ConversionError with where in a container it happened.
template <class F>
decltype(auto) at_position(const std::string& where, F&& f) {
    try {
        return f();
    } catch (const ConversionError& e) {
        throw ConversionError(where + ": " + e.what());
    }
}

/// Unsigned 64-bit values past INT64_MAX travel as Python ints of 9 bytes.
Value unsigned64_to_value(unsigned long long x);
unsigned long long unsigned64_from_value(const Value& v, const std::string& type_name);

template <class T> std::string integer_type_name() {
    return std::string(std::is_signed_v<T> ? "int" : "uint") + std::to_string(8 * sizeof(T)) + "_t";
}
} // namespace detail

template <> struct Convert<Value> {
    static Value to_value(const Value& v);
    static Value from_value(const Value& v);
};

template <> struct Convert<std::nullptr_t> {
    static Value to_value(std::nullptr_t);
    static std::nullptr_t from_value(const Value& v);
};

template <> struct Convert<std::nullopt_t> {
    static Value to_value(std::nullopt_t);
};

template <> struct Convert<bool> {
    static Value to_value(bool b);
    static bool from_value(const Value& v);
};

template <class T>
    requires std::integral<T> && (!std::same_as<T, bool>) && (!std::same_as<T, char>)
struct Convert<T> {
    static Value to_value(T x) {
        if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(std::int64_t)) {
            if (x > static_cast<T>(std::numeric_limits<std::int64_t>::max()))
                return detail::unsigned64_to_value(x);
        }
        return Value::integer(static_cast<std::int64_t>(x));
    }
    static T from_value(const Value& v) {
        if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(std::int64_t)) {
            if (v.kind() == Kind::integer && !v.fits_int64())
                return static_cast<T>(
                    detail::unsigned64_from_value(v, detail::integer_type_name<T>()));
        }
        const std::int64_t i = v.as_int64();
        if (!std::in_range<T>(i))
            throw ConversionError("int " + std::to_string(i) + " does not fit in " +
                                  detail::integer_type_name<T>());
        return static_cast<T>(i);
    }
};

template <std::floating_point T> struct Convert<T> {
    static Value to_value(T x) { return Value::floating(static_cast<double>(x)); }
    static T from_value(const Value& v) { return static_cast<T>(v.as_double()); }
};

template <> struct Convert<std::complex<double>> {
    static Value to_value(const std::complex<double>& c);
    static std::complex<double> from_value(const Value& v);
};

template <> struct Convert<std::string> {
    static Value to_value(const std::string& s);
    static std::string from_value(const Value& v);
};

/// The view from from_value points into the Value: keep the Value alive while using it.
template <> struct Convert<std::string_view> {
    static Value to_value(std::string_view s);
    static std::string_view from_value(const Value& v);
};

template <> struct Convert<const char*> {
    static Value to_value(const char* s);
};
template <> struct Convert<char*> {
    static Value to_value(const char* s);
};
template <std::size_t N> struct Convert<char[N]> {
    static Value to_value(const char (&s)[N]) { return Convert<std::string_view>::to_value(s); }
};

template <> struct Convert<std::vector<std::byte>> {
    static Value to_value(const std::vector<std::byte>& b);
    static std::vector<std::byte> from_value(const Value& v);
};

template <class T> struct Convert<std::vector<T>> {
    static Value to_value(const std::vector<T>& items)
        requires IntoValue<T>
    {
        std::vector<Value> values;
        values.reserve(items.size());
        for (const T& item : items) values.push_back(Convert<T>::to_value(item));
        return Value::list(std::move(values));
    }
    static std::vector<T> from_value(const Value& v)
        requires FromValue<T>
    {
        if (v.kind() != Kind::list && v.kind() != Kind::tuple)
            throw ConversionError("expected a list or tuple, got " +
                                  std::string(kind_name(v.kind())));
        std::vector<T> out;
        out.reserve(v.items().size());
        std::size_t k = 0;
        for (const Value& item : v.items()) {
            out.push_back(detail::at_position("[" + std::to_string(k) + "]",
                                              [&] { return Convert<T>::from_value(item); }));
            ++k;
        }
        return out;
    }
};

template <class Map> struct ConvertMap {
    using K = typename Map::key_type;
    using V = typename Map::mapped_type;
    static Value to_value(const Map& map)
        requires IntoValue<K> && IntoValue<V>
    {
        std::vector<std::pair<Value, Value>> pairs;
        pairs.reserve(map.size());
        for (const auto& [key, value] : map)
            pairs.emplace_back(Convert<K>::to_value(key), Convert<V>::to_value(value));
        return Value::dict(std::move(pairs));
    }
    static Map from_value(const Value& v)
        requires FromValue<K> && FromValue<V>
    {
        Map out;
        for (const auto& item : v.dict_items()) {
            // Named references, not structured bindings: clang 14 cannot capture those.
            const Value& key = item.first;
            const Value& value = item.second;
            K k = detail::at_position("key " + key.repr(), [&] { return Convert<K>::from_value(key); });
            V x = detail::at_position("[" + key.repr() + "]",
                                      [&] { return Convert<V>::from_value(value); });
            out.emplace(std::move(k), std::move(x));
        }
        return out;
    }
};
template <class K, class V, class C, class A>
struct Convert<std::map<K, V, C, A>> : ConvertMap<std::map<K, V, C, A>> {};
template <class K, class V, class H, class E, class A>
struct Convert<std::unordered_map<K, V, H, E, A>> : ConvertMap<std::unordered_map<K, V, H, E, A>> {};

template <class... Ts> struct Convert<std::tuple<Ts...>> {
    static Value to_value(const std::tuple<Ts...>& t)
        requires(IntoValue<Ts> && ...)
    {
        return std::apply(
            [](const auto&... xs) {
                return Value::tuple(std::vector<Value>{
                    Convert<std::remove_cvref_t<decltype(xs)>>::to_value(xs)...});
            },
            t);
    }
    static std::tuple<Ts...> from_value(const Value& v)
        requires(FromValue<Ts> && ...)
    {
        if (v.kind() != Kind::tuple || v.items().size() != sizeof...(Ts))
            throw ConversionError("expected a tuple of " + std::to_string(sizeof...(Ts)) +
                                  " items, got " + std::string(kind_name(v.kind())) +
                                  (v.kind() == Kind::tuple
                                       ? " of " + std::to_string(v.items().size()) + " items"
                                       : std::string()));
        return [&]<std::size_t... I>(std::index_sequence<I...>) {
            return std::tuple<Ts...>{detail::at_position("[" + std::to_string(I) + "]", [&] {
                return Convert<Ts>::from_value(v.items()[I]);
            })...};
        }(std::index_sequence_for<Ts...>{});
    }
};

template <class A, class B> struct Convert<std::pair<A, B>> {
    static Value to_value(const std::pair<A, B>& p)
        requires IntoValue<A> && IntoValue<B>
    {
        return Convert<std::tuple<A, B>>::to_value(std::tuple<A, B>(p.first, p.second));
    }
    static std::pair<A, B> from_value(const Value& v)
        requires FromValue<A> && FromValue<B>
    {
        auto [a, b] = Convert<std::tuple<A, B>>::from_value(v);
        return {std::move(a), std::move(b)};
    }
};

template <class T> struct Convert<std::optional<T>> {
    static Value to_value(const std::optional<T>& o)
        requires IntoValue<T>
    {
        return o ? Convert<T>::to_value(*o) : Value();
    }
    static std::optional<T> from_value(const Value& v)
        requires FromValue<T>
    {
        if (v.is_none()) return std::nullopt;
        return Convert<T>::from_value(v);
    }
};

} // namespace isolates

#include <isolates/interp/convert_containers.h>
