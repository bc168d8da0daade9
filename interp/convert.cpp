// The non-template Convert<T> specialisations.

#include <isolates/interp/convert.h>

#include <cstring>

namespace isolates {

Value Convert<Value>::to_value(const Value& v) { return v; }
Value Convert<Value>::from_value(const Value& v) { return v; }

Value Convert<std::nullptr_t>::to_value(std::nullptr_t) { return Value(); }
std::nullptr_t Convert<std::nullptr_t>::from_value(const Value& v) {
    if (!v.is_none())
        throw ConversionError("expected None, got " + std::string(kind_name(v.kind())));
    return nullptr;
}

Value Convert<std::nullopt_t>::to_value(std::nullopt_t) { return Value(); }

Value Convert<bool>::to_value(bool b) { return Value::boolean(b); }
bool Convert<bool>::from_value(const Value& v) { return v.as_bool(); }

namespace detail {
Value unsigned64_to_value(unsigned long long x) {
    std::byte le[9] = {};
    for (int k = 0; k < 8; ++k) le[k] = std::byte(x >> (8 * k));
    return Value::integer_from_bytes(le);
}

unsigned long long unsigned64_from_value(const Value& v, const std::string& type_name) {
    const auto le = v.int_bytes();
    const bool negative = (std::to_integer<unsigned>(le.back()) & 0x80) != 0;
    if (negative || le.size() > 9 || (le.size() == 9 && le[8] != std::byte{0}))
        throw ConversionError("int " + v.repr() + " does not fit in " + type_name);
    unsigned long long x = 0;
    for (std::size_t k = 0; k < le.size() && k < 8; ++k)
        x |= static_cast<unsigned long long>(std::to_integer<unsigned>(le[k])) << (8 * k);
    return x;
}
} // namespace detail

Value Convert<std::complex<double>>::to_value(const std::complex<double>& c) {
    return Value::complex(c.real(), c.imag());
}
std::complex<double> Convert<std::complex<double>>::from_value(const Value& v) {
    return v.as_complex();
}

Value Convert<std::string>::to_value(const std::string& s) { return Value::str(s); }
std::string Convert<std::string>::from_value(const Value& v) { return std::string(v.as_str()); }

Value Convert<std::string_view>::to_value(std::string_view s) { return Value::str(s); }
std::string_view Convert<std::string_view>::from_value(const Value& v) { return v.as_str(); }

Value Convert<const char*>::to_value(const char* s) {
    if (!s) throw ConversionError("expected a C string, got nullptr");
    return Value::str(s);
}
Value Convert<char*>::to_value(const char* s) { return Convert<const char*>::to_value(s); }

Value Convert<std::vector<std::byte>>::to_value(const std::vector<std::byte>& b) {
    return Value::bytes(std::span<const std::byte>(b));
}
std::vector<std::byte> Convert<std::vector<std::byte>>::from_value(const Value& v) {
    auto b = v.as_bytes();
    return {b.begin(), b.end()};
}

} // namespace isolates
