#pragma once
/// How host functions name C++ parameter and result types in their Python signatures and in
/// their TypeErrors: `int`, `list[str]`, `dict[str, float]`, `int | None`. Any thread; pure C++.

#include <complex>
#include <concepts>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include <isolates/channels/channel.h>
#include <isolates/channels/shared_buffer.h>
#include <isolates/interp/value.h>

namespace isolates {

/// The Python name of what Convert<T> makes of T, for signatures and error messages.
/// Specialise it beside your own Convert<T>: `static std::string name() { return "Point"; }`.
/// Types it does not know show as `object`.
template <class T> struct PythonTypeName {
    static std::string name() { return "object"; }
};

/// The name for T after stripping references and const.
template <class T> std::string python_type_name() {
    return PythonTypeName<std::remove_cvref_t<T>>::name();
}

template <> struct PythonTypeName<void> { static std::string name() { return "None"; } };
template <> struct PythonTypeName<std::nullptr_t> { static std::string name() { return "None"; } };
template <> struct PythonTypeName<bool> { static std::string name() { return "bool"; } };
template <class T>
    requires std::integral<T> && (!std::same_as<T, bool>) && (!std::same_as<T, char>)
struct PythonTypeName<T> {
    static std::string name() { return "int"; }
};
template <std::floating_point T> struct PythonTypeName<T> {
    static std::string name() { return "float"; }
};
template <> struct PythonTypeName<std::complex<double>> {
    static std::string name() { return "complex"; }
};
template <> struct PythonTypeName<std::string> { static std::string name() { return "str"; } };
template <> struct PythonTypeName<std::string_view> { static std::string name() { return "str"; } };
template <> struct PythonTypeName<const char*> { static std::string name() { return "str"; } };
template <> struct PythonTypeName<std::vector<std::byte>> {
    static std::string name() { return "bytes"; }
};
template <> struct PythonTypeName<Channel> { static std::string name() { return "isolates.Channel"; } };
/// A SharedBuffer reaches Python as a read-only memoryview over it.
template <> struct PythonTypeName<SharedBuffer> { static std::string name() { return "memoryview"; } };
template <class T> struct PythonTypeName<std::vector<T>> {
    static std::string name() { return "list[" + python_type_name<T>() + "]"; }
};
template <class K, class V, class C, class A> struct PythonTypeName<std::map<K, V, C, A>> {
    static std::string name() { return "dict[" + python_type_name<K>() + ", " + python_type_name<V>() + "]"; }
};
template <class K, class V, class H, class E, class A>
struct PythonTypeName<std::unordered_map<K, V, H, E, A>> {
    static std::string name() { return "dict[" + python_type_name<K>() + ", " + python_type_name<V>() + "]"; }
};
template <class... Ts> struct PythonTypeName<std::tuple<Ts...>> {
    static std::string name() {
        std::string items;
        ((items += (items.empty() ? "" : ", ") + python_type_name<Ts>()), ...);
        return "tuple[" + (items.empty() ? std::string("()") : items) + "]";
    }
};
template <class A, class B> struct PythonTypeName<std::pair<A, B>> {
    static std::string name() { return PythonTypeName<std::tuple<A, B>>::name(); }
};
template <class T> struct PythonTypeName<std::optional<T>> {
    static std::string name() { return python_type_name<T>() + " | None"; }
};

} // namespace isolates
