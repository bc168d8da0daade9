// Value's C++ side: construction, access, repr and identity. The Python side is value_python.cpp.

#include <isolates/interp/value.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <complex>
#include <cstring>
#include <stdexcept>

#include <isolates/interp/errors.h>
#include "interp/detail/node.h"
#include "interp/detail/node_builder.h"
#include "interp/detail/structural_hash.h"
#include "interp/detail/utf8.h"

namespace isolates {

using detail::Node;

std::string_view kind_name(Kind kind) noexcept {
    switch (kind) {
    case Kind::none: return "NoneType";
    case Kind::boolean: return "bool";
    case Kind::integer: return "int";
    case Kind::floating: return "float";
    case Kind::complex: return "complex";
    case Kind::str: return "str";
    case Kind::bytes: return "bytes";
    case Kind::tuple: return "tuple";
    case Kind::list: return "list";
    case Kind::dict: return "dict";
    case Kind::set: return "set";
    case Kind::frozenset: return "frozenset";
    case Kind::native: return "native";
    }
    return "unknown";
}

// --- Ownership -------------------------------------------------------------------------------

// A new reference may use relaxed order: whoever copies already holds a reference, so the node
// cannot be freed concurrently. The release that may free it is acq_rel so that every other
// thread's last use of the node happens-before its destruction (the shared_ptr scheme).
Value::Value(const Value& other) noexcept : tag_(other.tag_), u_(other.u_) {
    if (tag_ == Tag::boxed) u_.node->refs.fetch_add(1, std::memory_order_relaxed);
}

Value& Value::operator=(const Value& other) noexcept {
    if (this != &other) {
        Value copy(other);
        *this = std::move(copy);
    }
    return *this;
}

Value& Value::operator=(Value&& other) noexcept {
    if (this != &other) {
        if (tag_ == Tag::boxed) release();
        tag_ = other.tag_;
        u_ = other.u_;
        other.tag_ = Tag::none;
    }
    return *this;
}

void Value::release() noexcept {
    // The sole owner (a count of 1, read with acquire: as in move_items_into) destroys without
    // writing the count, so the node's cache line is only read on this thread and the thread
    // that made it, most often the next to reuse the block (base/block_cache.h), finds it clean.
    std::atomic<std::uint32_t>& refs = u_.node->refs;
    if (refs.load(std::memory_order_acquire) == 1 || refs.fetch_sub(1, std::memory_order_acq_rel) == 1)
        Node::destroy(u_.node);
    tag_ = Tag::none;
}

detail::RawValue Value::into_raw() && noexcept {
    detail::RawValue raw{static_cast<std::uint64_t>(tag_), u_.bits};
    tag_ = Tag::none;
    return raw;
}

Value Value::from_raw(detail::RawValue raw) noexcept {
    Value v;
    v.tag_ = static_cast<Tag>(raw.tag);
    v.u_.bits = raw.bits;
    return v;
}

// --- Factories -------------------------------------------------------------------------------

Value Value::boolean(bool b) noexcept {
    Value v;
    v.tag_ = Tag::boolean;
    v.u_.bits = 0;
    v.u_.b = b;
    return v;
}

Value Value::integer(std::int64_t i) noexcept {
    Value v;
    v.tag_ = Tag::small_int;
    v.u_.i = i;
    return v;
}

Value Value::integer_from_bytes(std::span<const std::byte> le) {
    if (le.empty()) return integer(0);
    const bool negative = (std::to_integer<unsigned>(le.back()) & 0x80) != 0;
    const std::byte fill = negative ? std::byte{0xff} : std::byte{0};
    // Drop sign-extension bytes that do not change the value.
    std::size_t n = le.size();
    while (n > 1 && le[n - 1] == fill &&
           ((std::to_integer<unsigned>(le[n - 2]) & 0x80) != 0) == negative)
        --n;
    if (n <= 8) {
        std::uint64_t bits = negative ? ~std::uint64_t{0} : 0;
        for (std::size_t k = 0; k < n; ++k) {
            bits &= ~(std::uint64_t{0xff} << (8 * k));
            bits |= std::uint64_t{std::to_integer<std::uint8_t>(le[k])} << (8 * k);
        }
        return integer(static_cast<std::int64_t>(bits));
    }
    return detail::make_big_int(le.first(n));
}

Value Value::floating(double d) noexcept {
    Value v;
    v.tag_ = Tag::floating;
    v.u_.d = d;
    return v;
}

Value Value::complex(double real, double imag) { return detail::make_complex(real, imag); }

namespace {
Value container(Kind kind, std::vector<Value>& items) {
    detail::ContainerBuilder builder(kind, items.size());
    for (Value& item : items) builder.add(std::move(item));
    return builder.finish();
}
} // namespace

Value Value::str(std::string_view utf8) {
    const auto check = detail::check_utf8(utf8);
    if (check.error_offset != std::string_view::npos)
        throw ConversionError("invalid UTF-8 in a string handed to Python, at byte " +
                              std::to_string(check.error_offset));
    return detail::make_str(utf8, false);
}

Value Value::bytes(std::span<const std::byte> data) { return detail::make_bytes(data); }

Value Value::bytes(std::string_view data) {
    return bytes(std::as_bytes(std::span<const char>(data.data(), data.size())));
}

Value Value::tuple(std::vector<Value> items) { return container(Kind::tuple, items); }
Value Value::list(std::vector<Value> items) { return container(Kind::list, items); }
Value Value::set(std::vector<Value> items) { return container(Kind::set, items); }
Value Value::frozenset(std::vector<Value> items) { return container(Kind::frozenset, items); }

Value Value::dict(std::vector<std::pair<Value, Value>> items) {
    detail::ContainerBuilder builder(Kind::dict, items.size());
    for (auto& [key, value] : items) builder.add(std::move(key), std::move(value));
    return builder.finish();
}

Value Value::native(std::shared_ptr<const Shareable> object) {
    if (!object) throw ConversionError("Value::native needs an object, got nullptr");
    return detail::make_native(std::move(object));
}

// --- Access ----------------------------------------------------------------------------------

Kind Value::kind() const noexcept {
    switch (tag_) {
    case Tag::none: return Kind::none;
    case Tag::boolean: return Kind::boolean;
    case Tag::small_int: return Kind::integer;
    case Tag::floating: return Kind::floating;
    case Tag::boxed: return u_.node->kind;
    }
    return Kind::none;
}

void Value::wrong_kind(std::string_view expected) const {
    throw ConversionError("expected " + std::string(expected) + ", got " +
                          std::string(kind_name(kind())) + " " + repr().substr(0, 80));
}

std::size_t Value::size() const {
    switch (kind()) {
    case Kind::str: case Kind::bytes: case Kind::tuple: case Kind::list: case Kind::dict:
    case Kind::set: case Kind::frozenset:
        return u_.node->size;
    default:
        wrong_kind("a str, bytes or container");
    }
}

bool Value::as_bool() const {
    if (tag_ != Tag::boolean) wrong_kind("bool");
    return u_.b;
}

std::int64_t Value::as_int64() const {
    if (tag_ == Tag::small_int) return u_.i;
    if (kind() == Kind::integer)
        throw ConversionError("int " + repr() + " does not fit in 64 bits");
    wrong_kind("int");
}

std::vector<std::byte> Value::int_bytes() const {
    if (tag_ == Tag::small_int) {
        std::vector<std::byte> out(8);
        auto bits = static_cast<std::uint64_t>(u_.i);
        for (int k = 0; k < 8; ++k) out[k] = std::byte(bits >> (8 * k));
        // Trim to the minimal two's complement length.
        while (out.size() > 1) {
            const bool top_negative = (std::to_integer<unsigned>(out[out.size() - 2]) & 0x80) != 0;
            const std::byte fill = top_negative ? std::byte{0xff} : std::byte{0};
            if (out.back() != fill) break;
            out.pop_back();
        }
        return out;
    }
    if (kind() != Kind::integer) wrong_kind("int");
    const std::byte* p = u_.node->payload<std::byte>();
    return {p, p + u_.node->size};
}

double Value::as_double() const {
    if (tag_ == Tag::floating) return u_.d;
    if (tag_ == Tag::small_int) return static_cast<double>(u_.i);
    wrong_kind("float");
}

std::complex<double> Value::as_complex() const {
    if (kind() != Kind::complex) wrong_kind("complex");
    return {u_.node->payload<double>()[0], u_.node->payload<double>()[1]};
}

std::string_view Value::as_str() const {
    if (kind() != Kind::str) wrong_kind("str");
    return {u_.node->payload<char>(), u_.node->size};
}

std::span<const std::byte> Value::as_bytes() const {
    if (kind() != Kind::bytes) wrong_kind("bytes");
    return {u_.node->payload<std::byte>(), u_.node->size};
}

std::span<const Value> Value::items() const {
    switch (kind()) {
    case Kind::tuple: case Kind::list: case Kind::set: case Kind::frozenset:
        return {u_.node->payload<Value>(), u_.node->size};
    default:
        wrong_kind("a tuple, list, set or frozenset");
    }
}

void Value::move_items_into(std::vector<Value>& out) && {
    const std::span<const Value> shared = items();
    // Acquire pairs with release(): every other owner's last use of the node happens-before the
    // items move. No new owner can appear while this Value is the only one.
    if (u_.node->refs.load(std::memory_order_acquire) == 1) {
        Value* own = u_.node->payload<Value>();
        for (std::size_t k = 0; k < shared.size(); ++k) out.push_back(std::move(own[k]));
    } else {
        out.insert(out.end(), shared.begin(), shared.end());
    }
    *this = Value();
}

std::span<const std::pair<Value, Value>> Value::dict_items() const {
    if (kind() != Kind::dict) wrong_kind("dict");
    return {u_.node->payload<std::pair<Value, Value>>(), u_.node->size};
}

const Value& Value::operator[](std::size_t i) const {
    const Kind k = kind();
    if (k != Kind::tuple && k != Kind::list) wrong_kind("a tuple or list");
    auto all = items();
    if (i >= all.size())
        throw std::out_of_range("index " + std::to_string(i) + " out of range for " +
                                std::string(kind_name(k)) + " of " + std::to_string(all.size()));
    return all[i];
}

const std::shared_ptr<const Shareable>& Value::as_native() const {
    if (kind() != Kind::native) wrong_kind("a native shareable object");
    return *u_.node->payload<std::shared_ptr<const Shareable>>();
}

// --- Identity --------------------------------------------------------------------------------

bool operator==(const Value& a, const Value& b) noexcept {
    if (a.kind() != b.kind()) return false;
    if (a.tag_ != Value::Tag::boxed || b.tag_ != Value::Tag::boxed) {
        if (a.tag_ != b.tag_) return false; // a small int never equals a boxed (big) int
        return a.tag_ == Value::Tag::none || a.u_.bits == b.u_.bits ||
               (a.tag_ == Value::Tag::boolean && a.u_.b == b.u_.b);
    }
    if (a.u_.node == b.u_.node) return true;
    const Node* x = a.u_.node;
    const Node* y = b.u_.node;
    switch (x->kind) {
    case Kind::integer: case Kind::str: case Kind::bytes:
        return x->size == y->size &&
               std::memcmp(x->payload<std::byte>(), y->payload<std::byte>(), x->size) == 0;
    case Kind::complex:
        return std::memcmp(x->payload<double>(), y->payload<double>(), 2 * sizeof(double)) == 0;
    case Kind::tuple: case Kind::list:
        return std::ranges::equal(a.items(), b.items());
    case Kind::set: case Kind::frozenset:
        return detail::same_items(a.items(), b.items());
    case Kind::dict:
        return detail::same_pairs(a.dict_items(), b.dict_items());
    case Kind::native:
        return a.as_native() == b.as_native();
    default:
        return false;
    }
}

std::size_t Value::hash() const noexcept { return detail::structural_hash(*this); }

// --- repr ------------------------------------------------------------------------------------

namespace {
std::string big_int_decimal(std::vector<std::byte> le) {
    const bool negative = (std::to_integer<unsigned>(le.back()) & 0x80) != 0;
    if (negative) { // two's complement negate: invert and add one
        unsigned carry = 1;
        for (auto& b : le) {
            unsigned v = (~std::to_integer<unsigned>(b) & 0xff) + carry;
            b = std::byte(v & 0xff);
            carry = v >> 8;
        }
    }
    std::vector<std::uint32_t> limbs((le.size() + 3) / 4);
    for (std::size_t k = 0; k < le.size(); ++k)
        limbs[k / 4] |= std::uint32_t{std::to_integer<std::uint8_t>(le[k])} << (8 * (k % 4));
    std::string digits;
    while (!limbs.empty()) {
        std::uint64_t remainder = 0;
        for (std::size_t k = limbs.size(); k-- > 0;) {
            std::uint64_t cur = (remainder << 32) | limbs[k];
            limbs[k] = static_cast<std::uint32_t>(cur / 1000000000u);
            remainder = cur % 1000000000u;
        }
        while (!limbs.empty() && limbs.back() == 0) limbs.pop_back();
        std::string chunk = std::to_string(remainder);
        if (!limbs.empty()) chunk.insert(0, 9 - chunk.size(), '0');
        digits.insert(0, chunk);
    }
    return (negative ? "-" : "") + digits;
}

/// Python's repr of a float (`add_dot_0`: "3.0", as float's repr) or of a complex's part
/// (no ".0": "(1+2j)"): the shortest digits that round-trip, in fixed notation unless the
/// decimal exponent is below -4 or 16 and above, as CPython's 'r' format.
std::string float_repr(double d, bool add_dot_0 = true) {
    if (std::isnan(d)) return "nan";
    if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
    char buf[40];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
    const std::string_view sci(buf, static_cast<std::size_t>(end - buf)); // "-1.25e+16"
    const std::size_t e = sci.find('e');
    const bool negative = sci.front() == '-';
    std::string digits;
    for (char c : sci.substr(negative, e - negative))
        if (c != '.') digits += c;
    const int exponent = std::stoi(std::string(sci.substr(e + 1)));
    const int point = exponent + 1; // digits[0:point] are the integer part
    std::string out = negative ? "-" : "";
    const int n = static_cast<int>(digits.size());
    if (point > -4 && point <= 16) {
        if (point <= 0) out += "0." + std::string(static_cast<std::size_t>(-point), '0') + digits;
        else if (point >= n)
            out += digits + std::string(static_cast<std::size_t>(point - n), '0') + (add_dot_0 ? ".0" : "");
        else out += digits.substr(0, point) + "." + digits.substr(point);
        return out;
    }
    out += digits.substr(0, 1);
    if (n > 1) out += "." + digits.substr(1);
    const int shown = point - 1;
    out += shown < 0 ? "e-" : "e+";
    if (std::abs(shown) < 10) out += '0';
    return out + std::to_string(std::abs(shown));
}

/// Python's repr of a complex: "(1+2j)", "2j" when the real part is +0.
std::string complex_repr(std::complex<double> c) {
    std::string imag = float_repr(c.imag(), false) + "j";
    if (c.real() == 0 && !std::signbit(c.real())) return imag;
    const bool sign_shown = imag.front() == '-' || imag.front() == '+';
    return "(" + float_repr(c.real(), false) + (sign_shown ? "" : "+") + imag + ")";
}

void quote(std::string& out, std::string_view text, char q) {
    static const char hex[] = "0123456789abcdef";
    out += q;
    for (unsigned char c : text) {
        if (c == '\\' || c == static_cast<unsigned char>(q)) { out += '\\'; out += static_cast<char>(c); }
        else if (c == '\n') out += "\\n";
        else if (c == '\t') out += "\\t";
        else if (c == '\r') out += "\\r";
        else if (c < 0x20 || c == 0x7f) {
            out += "\\x"; out += hex[c >> 4]; out += hex[c & 15];
        } else out += static_cast<char>(c);
    }
    out += q;
}

void bytes_repr(std::string& out, std::span<const std::byte> data) {
    static const char hex[] = "0123456789abcdef";
    out += "b'";
    for (std::byte b : data) {
        auto c = std::to_integer<unsigned char>(b);
        if (c == '\\' || c == '\'') { out += '\\'; out += static_cast<char>(c); }
        else if (c == '\n') out += "\\n";
        else if (c == '\t') out += "\\t";
        else if (c == '\r') out += "\\r";
        else if (c < 0x20 || c >= 0x7f) { out += "\\x"; out += hex[c >> 4]; out += hex[c & 15]; }
        else out += static_cast<char>(c);
    }
    out += '\'';
}

void repr_into(std::string& out, const Value& v);

void items_repr(std::string& out, std::span<const Value> items, const char* open,
                const char* close, bool trailing_comma_for_one) {
    out += open;
    for (std::size_t k = 0; k < items.size(); ++k) {
        if (k) out += ", ";
        repr_into(out, items[k]);
    }
    if (trailing_comma_for_one && items.size() == 1) out += ',';
    out += close;
}

void repr_into(std::string& out, const Value& v) {
    switch (v.kind()) {
    case Kind::none: out += "None"; break;
    case Kind::boolean: out += v.as_bool() ? "True" : "False"; break;
    case Kind::integer:
        out += v.fits_int64() ? std::to_string(v.as_int64()) : big_int_decimal(v.int_bytes());
        break;
    case Kind::floating: out += float_repr(v.as_double()); break;
    case Kind::complex: out += complex_repr(v.as_complex()); break;
    case Kind::str: quote(out, v.as_str(), '\''); break;
    case Kind::bytes: bytes_repr(out, v.as_bytes()); break;
    case Kind::tuple: items_repr(out, v.items(), "(", ")", true); break;
    case Kind::list: items_repr(out, v.items(), "[", "]", false); break;
    case Kind::set:
        if (v.items().empty()) out += "set()";
        else items_repr(out, v.items(), "{", "}", false);
        break;
    case Kind::frozenset: items_repr(out, v.items(), "frozenset({", "})", false); break;
    case Kind::dict: {
        out += '{';
        bool first = true;
        for (const auto& [key, value] : v.dict_items()) {
            if (!first) out += ", ";
            first = false;
            repr_into(out, key);
            out += ": ";
            repr_into(out, value);
        }
        out += '}';
        break;
    }
    case Kind::native:
        out += "<" + std::string(v.as_native()->type_name()) + ">";
        break;
    }
}
} // namespace

std::string Value::repr() const {
    std::string out;
    repr_into(out, *this);
    return out;
}

} // namespace isolates
