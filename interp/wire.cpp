// The wire format (see wire.h): a strict, canonical byte encoding of Values.

#include <isolates/interp/wire.h>

#include <bit>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include <isolates/interp/errors.h>
#include <isolates/interp/wire_codec.h>
#include "interp/detail/node.h"
#include "interp/detail/node_builder.h"
#include "interp/detail/structural_hash.h"
#include "interp/detail/utf8.h"
#include "interp/detail/wire_natives.h"

namespace isolates::wire {

namespace {

constexpr std::byte magic[3] = {std::byte{'I'}, std::byte{'S'}, std::byte{'V'}};

enum Tag : std::uint8_t {
    tag_none = 0x00, tag_false = 0x01, tag_true = 0x02, tag_int = 0x03, tag_float = 0x04,
    tag_complex = 0x05, tag_str = 0x06, tag_str_surrogates = 0x07, tag_bytes = 0x08,
    tag_tuple = 0x09, tag_list = 0x0a, tag_dict = 0x0b, tag_set = 0x0c, tag_frozenset = 0x0d,
};

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

// --- Hashability ------------------------------------------------------------------------------

/// What put/get learn about a value on the way: whether Python could use it as a set item or dict
/// key, and its structural hash (detail::structural_hash, the one Value::hash() returns). Both
/// are made bottom-up from the items' facts, so the whole value is hashed once.
struct Facts {
    bool hashable = true;
    std::uint64_t hash = 0;
};

/// Facts of a scalar (none of them is a container). A native is hashable in-process by
/// identity, which does not cross processes, so the wire takes none as a set item or dict key.
Facts scalar_facts(const Value& v) noexcept {
    return {v.kind() != Kind::native, detail::scalar_hash(v)};
}

/// Facts of a container from its items' facts: only tuple and frozenset can be hashable, and
/// only when every item is.
class ContainerFacts {
public:
    explicit ContainerFacts(Kind kind) noexcept
        : hashable_(kind == Kind::tuple || kind == Kind::frozenset), hash_(kind) {}
    void add(const Facts& item) noexcept {
        hashable_ = hashable_ && item.hashable;
        hash_.add(item.hash);
    }
    void add_pair(const Facts& key, const Facts& value) noexcept { hash_.add(key.hash, value.hash); }
    Facts finish(std::size_t count) const noexcept { return {hashable_, hash_.finish(count)}; }

private:
    bool hashable_;
    detail::ContainerHash hash_;
};

// --- Encoding --------------------------------------------------------------------------------

class Encoder {
public:
    std::vector<std::byte> out;
    Writer writer{out};

    /// Appends `v`; returns its facts (hashable, hash).
    Facts put(const Value& v) {
        switch (v.kind()) {
        case Kind::none: tag(tag_none); return scalar_facts(v);
        case Kind::boolean: tag(v.as_bool() ? tag_true : tag_false); return scalar_facts(v);
        case Kind::integer: {
            const std::vector<std::byte> le = v.int_bytes();
            tag(tag_int);
            uvar(le.size());
            raw(le);
            return scalar_facts(v);
        }
        case Kind::floating:
            tag(tag_float);
            f64(v.as_double());
            return scalar_facts(v);
        case Kind::complex: {
            const auto c = v.as_complex();
            tag(tag_complex);
            f64(c.real());
            f64(c.imag());
            return scalar_facts(v);
        }
        case Kind::str: {
            const auto text = std::as_bytes(std::span<const char>(v.as_str().data(), v.as_str().size()));
            tag(detail::holds_surrogates(v) ? tag_str_surrogates : tag_str);
            uvar(text.size());
            raw(text);
            return scalar_facts(v);
        }
        case Kind::bytes:
            tag(tag_bytes);
            uvar(v.as_bytes().size());
            raw(v.as_bytes());
            return scalar_facts(v);
        case Kind::tuple: case Kind::list: case Kind::set: case Kind::frozenset: {
            const Kind kind = v.kind();
            const bool set_like = kind == Kind::set || kind == Kind::frozenset;
            tag(kind == Kind::tuple ? tag_tuple : kind == Kind::list ? tag_list
                : kind == Kind::set ? tag_set : tag_frozenset);
            uvar(v.items().size());
            ContainerFacts facts(kind);
            std::vector<std::uint64_t> hashes;
            for (const Value& item : v.items()) {
                const Facts item_facts = put(item);
                if (set_like && !item_facts.hashable) unhashable(kind, item);
                facts.add(item_facts);
                if (set_like) hashes.push_back(item_facts.hash);
            }
            if (set_like) {
                const std::size_t dup = detail::first_duplicate(v.items(), hashes);
                if (dup != std::string_view::npos) duplicate(kind, v.items()[dup]);
            }
            return facts.finish(v.items().size());
        }
        case Kind::dict: {
            tag(tag_dict);
            uvar(v.dict_items().size());
            ContainerFacts facts(Kind::dict);
            std::vector<std::uint64_t> hashes;
            for (const auto& [key, value] : v.dict_items()) {
                const Facts key_facts = put(key);
                if (!key_facts.hashable) unhashable(Kind::dict, key);
                facts.add_pair(key_facts, put(value));
                hashes.push_back(key_facts.hash);
            }
            const std::size_t dup = detail::first_duplicate_key(v.dict_items(), hashes);
            if (dup != std::string_view::npos) duplicate(Kind::dict, v.dict_items()[dup].first);
            return facts.finish(v.dict_items().size());
        }
        case Kind::native:
            if (!detail::wire_encode_native(*v.as_native(), out))
                throw ConversionError("wire: cannot encode a native Value (" +
                                      std::string(v.as_native()->type_name()) +
                                      "): it is only meaningful inside this process");
            return scalar_facts(v);
        }
        throw ConversionError("wire: unknown Value kind");
    }

private:
    void tag(std::uint8_t t) { out.push_back(std::byte{t}); }
    void raw(std::span<const std::byte> bytes) { writer.raw(bytes); }
    void uvar(std::uint64_t n) { writer.uvar(n); }
    void f64(double d) {
        auto bits = std::bit_cast<std::uint64_t>(d);
        for (int k = 0; k < 8; ++k) out.push_back(std::byte(bits >> (8 * k)));
    }
    [[noreturn]] static void unhashable(Kind container, const Value& item) {
        if (item.kind() == Kind::native)
            throw ConversionError("wire: cannot encode a " + std::string(kind_name(container)) +
                                  " holding a " + std::string(item.as_native()->type_name()) +
                                  (container == Kind::dict ? " key" : " item") +
                                  ": a native's identity does not cross processes");
        throw ConversionError("wire: cannot encode a " + std::string(kind_name(container)) +
                              " holding an unhashable " + std::string(kind_name(item.kind())) +
                              (container == Kind::dict ? " key" : " item") +
                              "; Python could not build it");
    }
    [[noreturn]] static void duplicate(Kind container, const Value& item) {
        throw ConversionError("wire: cannot encode a " + std::string(kind_name(container)) +
                              " holding " + item.repr().substr(0, 80) + " twice" +
                              (container == Kind::dict ? " as a key" : ""));
    }
};

// --- Decoding --------------------------------------------------------------------------------

class Decoder {
public:
    explicit Decoder(std::span<const std::byte> data) : data_(data), in_(data) {}

    Value root() {
        if (data_.size() < 4 || std::memcmp(data_.data(), magic, 3) != 0)
            fail("not isolates wire data: no 'ISV' header", 0);
        version_ = std::to_integer<std::uint8_t>(data_[3]);
        if (version_ < oldest_version || version_ > version)
            fail("unsupported wire format version " + std::to_string(version_) +
                     " (this build reads " + std::to_string(oldest_version) + " to " +
                     std::to_string(version) + ")",
                 3);
        in_ = Reader(data_, 4);
        Facts facts;
        Value value = get(0, facts);
        if (in_.offset() != data_.size())
            fail(std::to_string(data_.size() - in_.offset()) + " trailing bytes after the value",
                 in_.offset());
        return value;
    }

private:
    [[noreturn]] static void fail(const std::string& what, std::size_t offset) {
        Reader::fail(what, offset);
    }
    std::uint8_t byte() { return in_.byte(); }
    std::size_t length(std::size_t min_unit_bytes) { return in_.length(min_unit_bytes); }
    std::span<const std::byte> take(std::size_t n) { return in_.take(n); }

    double f64() {
        const auto part = take(8);
        std::uint64_t bits = 0;
        for (int k = 0; k < 8; ++k) bits |= std::uint64_t{std::to_integer<std::uint8_t>(part[k])} << (8 * k);
        return std::bit_cast<double>(bits);
    }

    /// Reads one value nested inside `depth` containers; sets its facts.
    Value get(std::size_t depth, Facts& facts) {
        const std::size_t at = in_.offset();
        const std::uint8_t t = byte();
        switch (t) {
        case tag_tuple: return sequence(Kind::tuple, depth, at, facts);
        case tag_list: return sequence(Kind::list, depth, at, facts);
        case tag_set: return sequence(Kind::set, depth, at, facts);
        case tag_frozenset: return sequence(Kind::frozenset, depth, at, facts);
        case tag_dict: return dict(depth, at, facts);
        default: {
            Value value = scalar(t, at);
            facts = scalar_facts(value);
            return value;
        }
        }
    }

    /// The payload of a value that is no container, after its tag `t` at offset `at`.
    Value scalar(std::uint8_t t, std::size_t at) {
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
            const double imag = f64();
            return Value::complex(real, imag);
        }
        case tag_str: case tag_str_surrogates: {
            const std::size_t n = length(1);
            const std::size_t text_at = in_.offset();
            const auto part = take(n);
            const std::string_view text(reinterpret_cast<const char*>(part.data()), n);
            if (t == tag_str) {
                const std::size_t bad = detail::check_utf8(text).error_offset;
                if (bad != std::string_view::npos) fail("invalid UTF-8 in a str", text_at + bad);
                return detail::make_str(text, false);
            }
            bool surrogates = false;
            const std::size_t bad = check_utf8_surrogatepass(text, surrogates);
            if (bad != std::string_view::npos) fail("invalid UTF-8 in a str", text_at + bad);
            if (!surrogates) fail("str marked as holding surrogates holds none", at);
            return detail::make_str(text, true);
        }
        case tag_bytes: return detail::make_bytes(take(length(1)));
        default:
            if (detail::is_wire_native_tag(t)) return native(t, at);
            fail("unknown tag " + detail::wire_tag_name(t), at);
        }
    }

    /// A native value whose tag `t` was at `at`, by the codec registered for the tag.
    Value native(std::uint8_t t, std::size_t at) {
        const std::string name = detail::wire_tag_name(t);
        if (version_ < 2)
            fail("tag " + name + " needs wire format version 2, the data is version " +
                     std::to_string(version_),
                 at);
        const NativeDecoder decode = detail::wire_native_decoder(t);
        if (!decode)
            fail("unknown tag " + name + " (a native tag no codec is registered for in this " +
                     "program: link the layer that defines it, such as channels/)",
                 at);
        return Value::native(decode(in_, at));
    }

    void check_nesting(std::size_t depth, std::size_t at) {
        if (depth + 1 > max_nesting)
            fail("containers nested more than " + std::to_string(max_nesting) + " levels deep", at);
    }

    /// A tuple, list, set or frozenset whose tag was at `at`; items go straight into the node.
    Value sequence(Kind kind, std::size_t depth, std::size_t at, Facts& facts) {
        check_nesting(depth, at);
        const bool set_like = kind == Kind::set || kind == Kind::frozenset;
        const std::size_t n = length(1);
        detail::ContainerBuilder items(kind, n);
        std::vector<std::uint64_t> hashes;
        std::vector<std::size_t> offsets;
        ContainerFacts container(kind);
        for (std::size_t k = 0; k < n; ++k) {
            const std::size_t item_at = in_.offset();
            Facts item;
            items.add(get(depth + 1, item));
            if (set_like && !item.hashable)
                fail(std::string("unhashable ") + std::string(kind_name(items.items().back().kind())) +
                         " inside a " + std::string(kind_name(kind)),
                     item_at);
            container.add(item);
            if (set_like) {
                hashes.push_back(item.hash);
                offsets.push_back(item_at);
            }
        }
        if (set_like) {
            const std::size_t dup = detail::first_duplicate(items.items(), hashes);
            if (dup != std::string_view::npos)
                fail("duplicate item in a " + std::string(kind_name(kind)), offsets[dup]);
        }
        facts = container.finish(n);
        return items.finish();
    }

    /// A dict whose tag was at `at`; pairs go straight into the node.
    Value dict(std::size_t depth, std::size_t at, Facts& facts) {
        check_nesting(depth, at);
        const std::size_t n = length(2);
        detail::ContainerBuilder pairs(Kind::dict, n);
        std::vector<std::uint64_t> hashes;
        std::vector<std::size_t> offsets;
        ContainerFacts container(Kind::dict);
        for (std::size_t k = 0; k < n; ++k) {
            const std::size_t key_at = in_.offset();
            Facts key_facts, value_facts;
            Value key = get(depth + 1, key_facts);
            if (!key_facts.hashable)
                fail(std::string("unhashable ") + std::string(kind_name(key.kind())) +
                         " as a dict key",
                     key_at);
            Value value = get(depth + 1, value_facts);
            pairs.add(std::move(key), std::move(value));
            container.add_pair(key_facts, value_facts);
            hashes.push_back(key_facts.hash);
            offsets.push_back(key_at);
        }
        const std::size_t dup = detail::first_duplicate_key(pairs.pairs(), hashes);
        if (dup != std::string_view::npos) fail("duplicate dict key", offsets[dup]);
        facts = container.finish(n);
        return pairs.finish();
    }

    std::span<const std::byte> data_;
    Reader in_;
    std::uint8_t version_ = 0;
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
