#pragma once
/// Value: an immutable, shareable value that crosses between interpreters and C++ threads.
///
/// A Value is converted out of one interpreter and materialised fresh in another; it never holds a
/// PyObject*. Copies are cheap (scalars are stored inline, everything else is an atomically
/// reference-counted immutable node) and safe to share between threads.

#include <complex>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

struct _object; // PyObject, without including Python.h

namespace isolates {

/// What a Value holds. `integer` covers every size; `native` is a Shareable (buffers, channels).
enum class Kind : std::uint8_t {
    none, boolean, integer, floating, complex, str, bytes,
    tuple, list, dict, set, frozenset, native,
};

/// How deeply containers may nest inside one Value. Deeper values (often reference cycles)
/// are refused with a clear error, so that no recursive walk can exhaust a thread's stack.
inline constexpr std::size_t max_nesting = 1000;

/// Python's name for a kind: "NoneType", "int", "tuple", ...
std::string_view kind_name(Kind kind) noexcept;

/// A native object that can travel inside a Value (SharedBuffer, Channel handles, ...).
/// Implementations are immutable or internally synchronised: any thread may hold one. Its Python
/// form, if any, comes from the hooks registered in isolates/interp/native.h.
class Shareable {
public:
    virtual ~Shareable() = default;
    /// The Python type name, for repr and error messages.
    virtual std::string_view type_name() const noexcept = 0;
};

namespace detail {
struct Node;
/// A Value's bits without ownership semantics, for lock-free queues that need trivially
/// copyable items. Produced by Value::into_raw, consumed exactly once by Value::from_raw.
struct RawValue {
    std::uint64_t tag;
    std::uint64_t bits;
};
} // namespace detail

template <class T> struct Convert; // C++ <-> Value conversions, see isolates/interp/convert.h

class Value;
/// A C++ type that Convert<T> turns into a Value.
template <class T>
concept ToValue = !std::is_same_v<std::remove_cvref_t<T>, Value> &&
                  requires(const std::remove_cvref_t<T>& x) {
                      { Convert<std::remove_cvref_t<T>>::to_value(x) } -> std::same_as<Value>;
                  };
/// What a Value can be made from: a Value, or a type Convert<T> turns into one.
template <class T>
concept IntoValue = ToValue<T> || std::is_same_v<std::remove_cvref_t<T>, Value>;
/// What Value::as<T>() can give: a type with Convert<T>::from_value.
template <class T>
concept FromValue = requires(const Value& v) {
                        { Convert<T>::from_value(v) } -> std::same_as<T>;
                    };

namespace detail {
/// For calls that convert every argument to a Value (Interpreter::call, the pool's submit): true
/// when all convert; otherwise compilation stops here with one message naming the fix.
template <class... Args> consteval bool arguments_convert() {
    static_assert((IntoValue<Args> && ...),
                  "an argument does not convert to isolates::Value: pass a Value, or specialise "
                  "isolates::Convert<T> for its type (see the table in isolates/interp/convert.h)");
    return (IntoValue<Args> && ...);
}
} // namespace detail

class Value {
public:
    /// None.
    Value() noexcept : tag_(Tag::none) { u_.bits = 0; }
    /// Any C++ type with a Convert<T>: integers, double, bool, strings, vectors, maps, tuples,
    /// optionals, nullptr (include isolates/interp/convert.h).
    template <ToValue T>
    Value(T&& x) : Value(Convert<std::remove_cvref_t<T>>::to_value(x)) {}

    Value(const Value& other) noexcept;
    Value(Value&& other) noexcept : tag_(other.tag_), u_(other.u_) { other.tag_ = Tag::none; }
    Value& operator=(const Value& other) noexcept;
    Value& operator=(Value&& other) noexcept;
    ~Value() { if (tag_ == Tag::boxed) release(); }

    // --- Factories ------------------------------------------------------------------------------
    static Value none() noexcept { return Value(); }
    static Value boolean(bool b) noexcept;
    static Value integer(std::int64_t i) noexcept;
    /// An int of any size from little-endian two's complement bytes (as Python's
    /// int.to_bytes(n, 'little', signed=True)).
    static Value integer_from_bytes(std::span<const std::byte> twos_complement_le);
    static Value floating(double d) noexcept;
    static Value complex(double real, double imag);
    /// Throws ConversionError when `utf8` is not valid UTF-8.
    static Value str(std::string_view utf8);
    static Value bytes(std::span<const std::byte> data);
    static Value bytes(std::string_view data);
    static Value tuple(std::vector<Value> items);
    static Value tuple(std::initializer_list<Value> items) { return tuple(std::vector<Value>(items)); }
    static Value list(std::vector<Value> items);
    static Value set(std::vector<Value> items);
    static Value frozenset(std::vector<Value> items);
    static Value dict(std::vector<std::pair<Value, Value>> items);
    static Value native(std::shared_ptr<const Shareable> object);

    // --- Inspection ------------------------------------------------------------------------------
    Kind kind() const noexcept;
    bool is_none() const noexcept { return tag_ == Tag::none; }
    /// For containers: the number of items (pairs for dict); for str and bytes: the byte length.
    std::size_t size() const;

    // --- Access: each throws ConversionError naming the expected and actual kind -----------------
    bool as_bool() const;
    /// int that fits in 64 bits.
    std::int64_t as_int64() const;
    bool fits_int64() const noexcept { return tag_ == Tag::small_int; }
    /// Any int as little-endian two's complement bytes, minimal length.
    std::vector<std::byte> int_bytes() const;
    /// float, or an int (rounded to the nearest double).
    double as_double() const;
    std::complex<double> as_complex() const;
    /// UTF-8 text. Lone surrogates that came from Python are encoded as three bytes each
    /// (like Python's 'surrogatepass'), so the text round-trips exactly.
    std::string_view as_str() const;
    std::span<const std::byte> as_bytes() const;
    /// Items of a tuple, list, set or frozenset, in order.
    std::span<const Value> items() const;
    /// Appends the items of a tuple, list, set or frozenset to `out`, moved when this Value is
    /// the only owner of its container (else copied), and leaves this Value None.
    void move_items_into(std::vector<Value>& out) &&;
    /// Items of a dict, in insertion order.
    std::span<const std::pair<Value, Value>> dict_items() const;
    /// Item i of a tuple or list; throws std::out_of_range past the end.
    const Value& operator[](std::size_t i) const;
    const std::shared_ptr<const Shareable>& as_native() const;
    /// Converts to a C++ type through Convert<T> (include isolates/interp/convert.h).
    /// A T with no conversion fails to compile here, with one short message.
    template <class T> T as() const {
        static_assert(FromValue<T>, "Value::as<T>(): T has no conversion from isolates::Value; "
                                    "see the table in isolates/interp/convert.h, or specialise "
                                    "isolates::Convert<T> with a from_value");
        if constexpr (FromValue<T>) return Convert<T>::from_value(*this);
        else std::terminate(); // unreachable: the static_assert failed
    }

    /// Python-like repr: `(1, 'a', b'\x00', [2.5])`.
    std::string repr() const;
    /// Structural identity: same kinds, same contents; floats compare by bits (NaN equals NaN,
    /// -0.0 differs from 0.0); dict, set and frozenset ignore order.
    friend bool operator==(const Value& a, const Value& b) noexcept;
    /// A hash consistent with ==: equal Values hash equally (order-free for dict and sets).
    std::size_t hash() const noexcept;

    // --- Python objects (GIL of the current interpreter held) -------------------------------------
    /// Snapshot of a Python object. Throws NotShareableError naming the type and `path`.
    static Value from_python(_object* object, std::string_view path = "value");
    /// A new reference to a fresh Python object; throws PythonError if Python fails.
    _object* to_python() const;

    // --- Ownership transfer for lock-free containers ----------------------------------------------
    /// Gives up ownership: the Value becomes None and the bits must reach from_raw exactly once.
    detail::RawValue into_raw() && noexcept;
    static Value from_raw(detail::RawValue raw) noexcept;

private:
    enum class Tag : std::uint8_t { none, boolean, small_int, floating, boxed };
    explicit Value(detail::Node* node) noexcept : tag_(Tag::boxed) { u_.node = node; }
    void release() noexcept;
    [[noreturn]] void wrong_kind(std::string_view expected) const;

    Tag tag_;
    union {
        std::uint64_t bits;
        bool b;
        std::int64_t i;
        double d;
        detail::Node* node;
    } u_;

    friend struct detail::Node;
};

} // namespace isolates

template <> struct std::hash<isolates::Value> {
    std::size_t operator()(const isolates::Value& v) const noexcept { return v.hash(); }
};

#include <isolates/interp/convert.h>
