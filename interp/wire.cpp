// The wire format (see wire.h): a strict, canonical byte encoding of Values.

#include "interp/wire.h"

#include <bit>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "interp/detail/node.h"
#include "interp/detail/utf8.h"
#include "interp/errors.h"

namespace isolates::wire {

namespace {

constexpr std::byte magic[3] = {std::byte{'I'}, std::byte{'S'}, std::byte{'V'}};

enum Tag : std::uint8_t {
    tag_none = 0x00, tag_false = 0x01, tag_true = 0x02, tag_int = 0x03, tag_float = 0x04,
    tag_complex = 0x05, tag_str = 0x06, tag_str_surrogates = 0x07, tag_bytes = 0x08,
    tag_tuple = 0x09, tag_list = 0x0a, tag_dict = 0x0b, tag_set = 0x0c, tag_frozenset = 0x0d,
};

/// Whether a value of this kind (given its items' hashability) could be a set item or dict key.
bool hashable_kind(Kind kind) noexcept {
    return kind != Kind::list && kind != Kind::dict && kind != Kind::set && kind != Kind::native;
}

/// Validates UTF-8 that may hold lone surrogates encoded as three bytes (ED A0..BF 80..BF), the
/// 'surrogatepass' form. Returns the offset of the first bad byte or npos; sets `surrogates`.
std::size_t check_utf8_surrogatepass(std::string_view text, bool& surrogates) noexcept {
    surrogates = false;
    std::size_t done = 0;
    while (done < text.size()) {
        const std::size_t bad = detail::check_utf8(text.substr(done)).error_offset;
        if (bad == std::string_view::npos) return std::string_view::npos;
        const std::size_t at = done + bad;
        const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[at + k]); };
        if (at + 3 > text.size() || byte(0) != 0xed || byte(1) < 0xa0 || byte(1) > 0xbf ||
            (byte(2) & 0xc0) != 0x80)
            return at;
        surrogates = true;
        done = at + 3;
    }
    return std::string_view::npos;
}

// --- Encoding --------------------------------------------------------------------------------

class Encoder {
public:
    std::vector<std::byte> out;

    /// Appends `v`; returns whether it is hashable (may be a set item or dict key).
    bool put(const Value& v) {
        switch (v.kind()) {
        case Kind::none: tag(tag_none); return true;
        case Kind::boolean: tag(v.as_bool() ? tag_true : tag_false); return true;
        case Kind::integer: {
            const std::vector<std::byte> le = v.int_bytes();
            tag(tag_int);
            uvar(le.size());
            raw(le);
            return true;
        }
        case Kind::floating: tag(tag_float); f64(v.as_double()); return true;
        case Kind::complex: {
            const auto c = v.as_complex();
            tag(tag_complex);
            f64(c.real());
            f64(c.imag());
            return true;
        }
        case Kind::str: {
            const auto text = v.as_str();
            tag(v.node()->flags & detail::str_surrogates ? tag_str_surrogates : tag_str);
            uvar(text.size());
            raw(std::as_bytes(std::span<const char>(text.data(), text.size())));
            return true;
        }
        case Kind::bytes:
            tag(tag_bytes);
            uvar(v.as_bytes().size());
            raw(v.as_bytes());
            return true;
        case Kind::tuple: case Kind::list: case Kind::set: case Kind::frozenset: {
            const Kind kind = v.kind();
            const bool set_like = kind == Kind::set || kind == Kind::frozenset;
            tag(kind == Kind::tuple ? tag_tuple : kind == Kind::list ? tag_list
                : kind == Kind::set ? tag_set : tag_frozenset);
            uvar(v.items().size());
            bool all_hashable = true;
            for (const Value& item : v.items()) {
                const bool hashable = put(item);
                if (set_like && !hashable) unhashable(kind, item);
                all_hashable = all_hashable && hashable;
            }
            return hashable_kind(kind) && all_hashable;
        }
        case Kind::dict:
            tag(tag_dict);
            uvar(v.dict_items().size());
            for (const auto& [key, value] : v.dict_items()) {
                if (!put(key)) unhashable(Kind::dict, key);
                put(value);
            }
            return false;
        case Kind::native:
            throw ConversionError("wire: cannot encode a native Value (" +
                                  std::string(v.as_native()->type_name()) +
                                  "): it is only meaningful inside this process");
        }
        throw ConversionError("wire: unknown Value kind");
    }

private:
    void tag(std::uint8_t t) { out.push_back(std::byte{t}); }
    void raw(std::span<const std::byte> bytes) { out.insert(out.end(), bytes.begin(), bytes.end()); }
    void uvar(std::uint64_t n) {
        do {
            std::uint8_t b = n & 0x7f;
            n >>= 7;
            if (n) b |= 0x80;
            out.push_back(std::byte{b});
        } while (n);
    }
    void f64(double d) {
        auto bits = std::bit_cast<std::uint64_t>(d);
        for (int k = 0; k < 8; ++k) out.push_back(std::byte(bits >> (8 * k)));
    }
    [[noreturn]] static void unhashable(Kind container, const Value& item) {
        throw ConversionError("wire: cannot encode a " + std::string(kind_name(container)) +
                              " holding an unhashable " + std::string(kind_name(item.kind())) +
                              (container == Kind::dict ? " key" : " item") +
                              "; Python could not build it");
    }
};

// --- Decoding --------------------------------------------------------------------------------

class Decoder {
public:
    explicit Decoder(std::span<const std::byte> data) : data_(data) {}

    Value root() {
        if (data_.size() < 4 || std::memcmp(data_.data(), magic, 3) != 0)
            fail("not isolates wire data: no 'ISV' header", 0);
        const auto v = std::to_integer<unsigned>(data_[3]);
        if (v != version)
            fail("unsupported wire format version " + std::to_string(v) + " (this build reads " +
                     std::to_string(version) + ")",
                 3);
        pos_ = 4;
        bool hashable = false;
        Value value = get(0, hashable);
        if (pos_ != data_.size())
            fail(std::to_string(data_.size() - pos_) + " trailing bytes after the value", pos_);
        return value;
    }

private:
    [[noreturn]] static void fail(const std::string& what, std::size_t offset) {
        throw ConversionError("wire: " + what + " at byte " + std::to_string(offset));
    }

    std::size_t remaining() const noexcept { return data_.size() - pos_; }

    std::uint8_t byte() {
        if (pos_ >= data_.size()) fail("unexpected end of data", pos_);
        return std::to_integer<std::uint8_t>(data_[pos_++]);
    }

    /// A length or count; refuses non-minimal forms and anything that cannot fit in what is left
    /// (each unit needs at least `min_unit_bytes`), so no allocation exceeds the input's size.
    std::size_t length(std::size_t min_unit_bytes) {
        const std::size_t start = pos_;
        std::uint64_t n = 0;
        for (int shift = 0;; shift += 7) {
            const std::uint8_t b = byte();
            if (shift == 63 && b > 1) fail("length does not fit in 64 bits", start);
            n |= std::uint64_t{b & 0x7fu} << shift;
            if (!(b & 0x80)) {
                if (b == 0 && shift > 0) fail("length not in its shortest form", start);
                break;
            }
        }
        if (n > remaining() / min_unit_bytes)
            fail("length " + std::to_string(n) + " runs past the end of the data", start);
        return static_cast<std::size_t>(n);
    }

    std::span<const std::byte> take(std::size_t n) {
        if (n > remaining()) fail("unexpected end of data", pos_);
        auto part = data_.subspan(pos_, n);
        pos_ += n;
        return part;
    }

    double f64() {
        const auto part = take(8);
        std::uint64_t bits = 0;
        for (int k = 0; k < 8; ++k) bits |= std::uint64_t{std::to_integer<std::uint8_t>(part[k])} << (8 * k);
        return std::bit_cast<double>(bits);
    }

    /// Reads one value nested inside `depth` containers; sets `hashable`.
    Value get(std::size_t depth, bool& hashable) {
        const std::size_t at = pos_;
        const std::uint8_t t = byte();
        hashable = true;
        switch (t) {
        case tag_none: return Value();
        case tag_false: return Value::boolean(false);
        case tag_true: return Value::boolean(true);
        case tag_int: {
            const std::size_t n = length(1);
            if (n == 0) fail("int with no bytes (0 is one zero byte)", at);
            const auto le = take(n);
            if (n >= 2) {
                const auto top = std::to_integer<unsigned>(le[n - 1]);
                const bool next_negative = (std::to_integer<unsigned>(le[n - 2]) & 0x80) != 0;
                if ((top == 0x00 && !next_negative) || (top == 0xff && next_negative))
                    fail("int not in its shortest two's complement form", at);
            }
            return Value::integer_from_bytes(le);
        }
        case tag_float: return Value::floating(f64());
        case tag_complex: {
            const double real = f64();
            return Value::complex(real, f64());
        }
        case tag_str: case tag_str_surrogates: {
            const std::size_t n = length(1);
            const std::size_t text_at = pos_;
            const auto part = take(n);
            const std::string_view text(reinterpret_cast<const char*>(part.data()), n);
            if (t == tag_str) {
                const std::size_t bad = detail::check_utf8(text).error_offset;
                if (bad != std::string_view::npos) fail("invalid UTF-8 in a str", text_at + bad);
                return Value::str(text);
            }
            bool surrogates = false;
            const std::size_t bad = check_utf8_surrogatepass(text, surrogates);
            if (bad != std::string_view::npos) fail("invalid UTF-8 in a str", text_at + bad);
            if (!surrogates) fail("str marked as holding surrogates holds none", at);
            detail::Node* node = detail::Node::allocate(Kind::str, n, n + 1, detail::str_surrogates);
            if (n) std::memcpy(node->payload<char>(), text.data(), n);
            node->payload<char>()[n] = '\0';
            return detail::Node::wrap(node);
        }
        case tag_bytes: return Value::bytes(take(length(1)));
        case tag_tuple: case tag_list: case tag_set: case tag_frozenset: {
            if (depth + 1 > max_nesting)
                fail("containers nested more than " + std::to_string(max_nesting) + " levels deep",
                     at);
            const bool set_like = t == tag_set || t == tag_frozenset;
            const std::size_t n = length(1);
            std::vector<Value> items;
            items.reserve(n);
            bool all_hashable = true;
            for (std::size_t k = 0; k < n; ++k) {
                const std::size_t item_at = pos_;
                bool item_hashable = false;
                items.push_back(get(depth + 1, item_hashable));
                if (set_like && !item_hashable)
                    fail(std::string("unhashable ") + std::string(kind_name(items.back().kind())) +
                             " inside a set",
                         item_at);
                all_hashable = all_hashable && item_hashable;
            }
            switch (t) {
            case tag_tuple: hashable = all_hashable; return Value::tuple(std::move(items));
            case tag_list: hashable = false; return Value::list(std::move(items));
            case tag_set: hashable = false; return Value::set(std::move(items));
            default: hashable = all_hashable; return Value::frozenset(std::move(items));
            }
        }
        case tag_dict: {
            if (depth + 1 > max_nesting)
                fail("containers nested more than " + std::to_string(max_nesting) + " levels deep",
                     at);
            const std::size_t n = length(2);
            std::vector<std::pair<Value, Value>> items;
            items.reserve(n);
            for (std::size_t k = 0; k < n; ++k) {
                const std::size_t key_at = pos_;
                bool key_hashable = false, value_hashable = false;
                Value key = get(depth + 1, key_hashable);
                if (!key_hashable)
                    fail(std::string("unhashable ") + std::string(kind_name(key.kind())) +
                             " as a dict key",
                         key_at);
                Value value = get(depth + 1, value_hashable);
                items.emplace_back(std::move(key), std::move(value));
            }
            hashable = false;
            return Value::dict(std::move(items));
        }
        default:
            fail("unknown tag 0x" + std::string(1, "0123456789abcdef"[t >> 4]) +
                     std::string(1, "0123456789abcdef"[t & 15]),
                 at);
        }
    }

    std::span<const std::byte> data_;
    std::size_t pos_ = 0;
};

} // namespace

std::vector<std::byte> encode(const Value& value) {
    Encoder encoder;
    encoder.out.assign(magic, magic + 3);
    encoder.out.push_back(std::byte{version});
    encoder.put(value);
    return std::move(encoder.out);
}

Value decode(std::span<const std::byte> data) {
    return Decoder(data).root();
}

} // namespace isolates::wire
