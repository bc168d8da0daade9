// The wire format: every kind round-trips exactly, and malformed bytes fail with an offset.

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include <isolates/interp/errors.h>
#include <isolates/interp/interpreter.h>
#include <isolates/interp/wire.h>
#include <isolates/interp/wire_codec.h>
#include "interp/detail/node.h"
#include "tests/interp/fuzz/placeholder_segment.h"
#include "tests/support/doctest.h"
#include "tests/support/wire_bytes.h"

using namespace isolates;

namespace {
using testing::bytes_of;
using testing::decode_error;

std::vector<std::byte> framed(std::initializer_list<int> body, int version = 2) {
    std::vector<std::byte> out = bytes_of({'I', 'S', 'V', version});
    for (int v : body) out.push_back(std::byte(v));
    return out;
}

void check_round_trip(const Value& v) {
    const auto encoded = wire::encode(v);
    const Value back = wire::decode(encoded);
    CHECK_MESSAGE(back == v, v.repr());
    CHECK(back.repr() == v.repr());
    CHECK(wire::encode(back) == encoded);
}

struct Opaque final : Shareable {
    std::string_view type_name() const noexcept override { return "opaque_handle"; }
};

/// A native with a wire form of its own (tag 0x1e in these tests): a number.
struct Counter final : Shareable {
    explicit Counter(std::uint64_t n) : count(n) {}
    std::string_view type_name() const noexcept override { return "Counter"; }
    std::uint64_t count;
};
bool encode_counter(const Shareable& object, wire::Writer& out) {
    out.uvar(static_cast<const Counter&>(object).count);
    return true;
}
std::shared_ptr<const Shareable> decode_counter(wire::Reader& in, std::size_t tag_at) {
    const std::uint64_t n = in.uvar();
    if (n == 0) wire::Reader::fail("a Counter of 0", tag_at);
    return std::make_shared<Counter>(n);
}
std::shared_ptr<const Shareable> decode_nothing(wire::Reader&, std::size_t) { return nullptr; }
} // namespace

TEST_SUITE("Wire") {

TEST_CASE("Wire.every_kind_round_trips_exactly") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    std::vector<Value> values = {
        Value(), Value::boolean(false), Value::boolean(true),
        Value::integer(0), Value::integer(1), Value::integer(-1), Value::integer(127),
        Value::integer(128), Value::integer(-128), Value::integer(-129),
        Value::integer(std::numeric_limits<std::int64_t>::max()),
        Value::integer(std::numeric_limits<std::int64_t>::min()),
        Value::floating(0.0), Value::floating(-0.0), Value::floating(nan), Value::floating(inf),
        Value::floating(-inf), Value::floating(1e-308), Value::complex(1.5, -0.0),
        Value::str(""), Value::str("ascii"), Value::str("h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
        Value::str(std::string("nul\0inside", 10)),
        Value::bytes(std::string_view("\x00\xff\x80", 3)), Value::bytes(std::string_view()),
        Value::tuple({}), Value::list({}), Value::dict({}), Value::set({}), Value::frozenset({}),
    };
    std::vector<std::byte> big(40, std::byte{0xab}); // negative, 40 bytes
    values.push_back(Value::integer_from_bytes(big));
    big.back() = std::byte{0x7f};
    values.push_back(Value::integer_from_bytes(big));
    values.push_back(Value::integer_from_bytes(bytes_of({0, 0, 0, 0, 0, 0, 0, 0x80, 0}))); // 2**63
    values.push_back(Value::tuple({1, "a", Value::list({2.5, Value::bytes("x")}),
                                   Value::dict({{"k", Value::set({1, 2})},
                                                {Value::tuple({1, 2}), Value()}}),
                                   Value::frozenset({Value::frozenset({3})})}));
    for (const Value& v : values) check_round_trip(v);
    check_round_trip(Value::list(values));
}

TEST_CASE("Wire.layout_is_the_documented_one") {
    CHECK(wire::encode(Value()) == framed({0x00}));
    CHECK(wire::encode(Value::integer(1)) == framed({0x03, 0x01, 0x01}));
    CHECK(wire::encode(Value::integer(-1)) == framed({0x03, 0x01, 0xff}));
    CHECK(wire::encode(Value::integer(128)) == framed({0x03, 0x02, 0x80, 0x00}));
    CHECK(wire::encode(Value::str("hi")) == framed({0x06, 0x02, 'h', 'i'}));
    CHECK(wire::encode(Value::tuple({true, Value()})) == framed({0x09, 0x02, 0x02, 0x00}));
    CHECK(wire::encode(Value::floating(1.0)) ==
          framed({0x04, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f}));
    std::string long_text(200, 'x');
    const auto encoded = wire::encode(Value::str(long_text));
    CHECK(encoded[5] == std::byte{0xc8}); // 200 as LEB128: c8 01
    CHECK(encoded[6] == std::byte{0x01});
    CHECK(encoded.size() == 4 + 1 + 2 + 200);
}

TEST_CASE("Wire.version_1_streams_still_decode_and_re_encode_as_version_2") {
    const Value v = Value::tuple({1, "a", Value::list({2.5, Value::bytes("x")}),
                                  Value::dict({{"k", Value::set({1, 2})}})});
    auto v2 = wire::encode(v);
    CHECK(v2[3] == std::byte{2}); // encode always writes the newest version
    auto v1 = v2;
    v1[3] = std::byte{1}; // nothing but natives differs between the versions
    CHECK(wire::decode(v1) == v);
    CHECK(wire::encode(wire::decode(v1)) == v2);
    CHECK(wire::decode(framed({0x03, 0x01, 0x07}, 1)) == Value(7));
    // The native tags are new in version 2: in a version 1 stream they are malformed.
    CHECK(decode_error(framed({0x0f, 0x00}, 1)) ==
          "wire: tag 0x0f needs wire format version 2, the data is version 1 at byte 4");
    CHECK(decode_error(framed({0x0a, 0x01, 0x0e, 0x00}, 1)) ==
          "wire: tag 0x0e needs wire format version 2, the data is version 1 at byte 6");
    CHECK(decode_error(framed({0x20})) == "wire: unknown tag 0x20 at byte 4");
    CHECK(decode_error(framed({0x1f})).starts_with("wire: unknown tag 0x1f (a native tag no codec"));
}

TEST_CASE("Wire.python_values_round_trip_between_interpreters") {
    Interpreter a;
    const Value original = a.eval(
        "(2**200, -(2**70), 'lone \\ud800 surrogate', '\\U0001F600', b'\\x00', 1+2j, "
        "{'d': [1, 2.5, None]}, {1, 2}, frozenset({'x'}), float('-0.0'), True)");
    CHECK(detail::holds_surrogates(original[2])); // kept in surrogatepass form
    const auto encoded = wire::encode(original);
    const Value decoded = wire::decode(encoded);
    CHECK(decoded == original);
    Interpreter b;
    b.exec("def same(v):\n"
           "    return v == (2**200, -(2**70), 'lone \\ud800 surrogate', '\\U0001F600', b'\\x00',"
           " 1+2j, {'d': [1, 2.5, None]}, {1, 2}, frozenset({'x'}), -0.0, True)\n");
    CHECK(b.call("__main__:same", decoded).as_bool());
}

TEST_CASE("Wire.native_values_are_refused") {
    const Value handle = Value::native(std::make_shared<Opaque>());
    CHECK_THROWS_WITH_AS(wire::encode(handle), doctest::Contains("native Value (opaque_handle)"),
                         ConversionError);
    CHECK_THROWS_AS(wire::encode(Value::list({1, handle})), ConversionError);
}

TEST_CASE("Wire.natives_cross_by_the_codec_registered_for_their_tag") {
    wire::register_native_codec(0x1e, typeid(Counter), &encode_counter, &decode_counter);
    wire::register_native_codec(0x1e, typeid(Counter), &encode_counter, &decode_counter); // no-op
    CHECK_THROWS_WITH_AS(
        wire::register_native_codec(0x1e, typeid(Counter), &encode_counter, &decode_nothing),
        doctest::Contains("wire tag 0x1e already has a codec"), UsageError);
    CHECK_THROWS_WITH_AS(
        wire::register_native_codec(0x0b, typeid(Counter), &encode_counter, &decode_counter),
        doctest::Contains("wire tag 0x0b is not a native tag"), UsageError);
    const Value v = Value::list({Value::native(std::make_shared<Counter>(300)), 1});
    const auto encoded = wire::encode(v);
    CHECK(encoded == framed({0x0a, 0x02, 0x1e, 0xac, 0x02, 0x03, 0x01, 0x01}));
    const Value back = wire::decode(encoded);
    CHECK(static_cast<const Counter&>(*back[0].as_native()).count == 300);
    CHECK(decode_error(framed({0x1e, 0x00})) == "wire: a Counter of 0 at byte 4");
    CHECK(decode_error(framed({0x1e, 0x80, 0x00})) == "wire: length not in its shortest form at byte 5");
    CHECK(decode_error(framed({0x1e, 0x01, 0x00})) == "wire: 1 trailing bytes after the value at byte 6");
    // Other natives stay refused, naming their type.
    CHECK_THROWS_WITH_AS(wire::encode(Value::native(std::make_shared<Opaque>())),
                         doctest::Contains("native Value (opaque_handle)"), ConversionError);
}

TEST_CASE("Wire.unhashable_set_items_and_dict_keys_are_refused_both_ways") {
    CHECK_THROWS_WITH_AS(wire::encode(Value::set({Value::list({})})),
                         doctest::Contains("unhashable list item"), ConversionError);
    CHECK_THROWS_WITH_AS(wire::encode(Value::dict({{Value::tuple({Value::dict({})}), 1}})),
                         doctest::Contains("unhashable tuple key"), ConversionError);
    CHECK(decode_error(framed({0x0c, 0x01, 0x0a, 0x00})) ==
          "wire: unhashable list inside a set at byte 6");
    CHECK(decode_error(framed({0x0b, 0x01, 0x09, 0x01, 0x0c, 0x00, 0x00})) ==
          "wire: unhashable tuple as a dict key at byte 6");
    check_round_trip(Value::dict({{Value::tuple({1, Value::frozenset({2})}), Value::list({})}}));
}

TEST_CASE("Wire.duplicate_set_items_and_dict_keys_are_refused_both_ways") {
    CHECK_THROWS_WITH_AS(wire::encode(Value::set({1, 2, 1})), doctest::Contains("1 twice"),
                         ConversionError);
    CHECK_THROWS_WITH_AS(wire::encode(Value::dict({{"k", 1}, {"j", 2}, {"k", 3}})),
                         doctest::Contains("'k' twice as a key"), ConversionError);
    // Sets compare without order, so these two frozensets are the same item.
    CHECK_THROWS_AS(wire::encode(Value::set({Value::frozenset({1, 2}), Value::frozenset({2, 1})})),
                    ConversionError);
    CHECK(decode_error(framed({0x0c, 0x03, 0x00, 0x02, 0x00})) ==
          "wire: duplicate item in a set at byte 8");
    CHECK(decode_error(framed({0x0b, 0x02, 0x02, 0x00, 0x02, 0x01})) ==
          "wire: duplicate dict key at byte 8");
    // Distinct Values that Python deems equal are kept apart here, merged by Python.
    check_round_trip(Value::set({1, 1.0, true}));
    check_round_trip(Value::set({Value::floating(0.0), Value::floating(-0.0)}));
    std::vector<Value> many(100000, Value());
    CHECK_THROWS_AS(wire::encode(Value::set(many)), ConversionError); // fast, not quadratic
    std::vector<Value> distinct;
    for (int k = 0; k < 100000; ++k) distinct.push_back(k);
    const auto encoded = wire::encode(Value::frozenset(distinct));
    CHECK(wire::encode(wire::decode(encoded)) == encoded); // (Value's == on sets is quadratic)
}

TEST_CASE("Wire.malformed_input_fails_with_the_offset") {
    CHECK(decode_error({}) == "wire: not isolates wire data: no 'ISV' header at byte 0");
    CHECK(decode_error(bytes_of({'I', 'S', 'X', 1, 0})) ==
          "wire: not isolates wire data: no 'ISV' header at byte 0");
    CHECK(decode_error(bytes_of({'I', 'S', 'V', 3, 0})) ==
          "wire: unsupported wire format version 3 (this build reads 1 to 2) at byte 3");
    CHECK(decode_error(bytes_of({'I', 'S', 'V', 0, 0})) ==
          "wire: unsupported wire format version 0 (this build reads 1 to 2) at byte 3");
    CHECK(decode_error(framed({})) == "wire: unexpected end of data at byte 4");
    CHECK(decode_error(framed({0xff})) == "wire: unknown tag 0xff at byte 4");
    CHECK(decode_error(framed({0x00, 0x00})) == "wire: 1 trailing bytes after the value at byte 5");
    CHECK(decode_error(framed({0x03, 0x00})) ==
          "wire: int with no bytes (0 is one zero byte) at byte 4");
    CHECK(decode_error(framed({0x03, 0x02, 0x01, 0x00})) ==
          "wire: int not in its shortest two's complement form at byte 4");
    CHECK(decode_error(framed({0x03, 0x02, 0xff, 0xff})) ==
          "wire: int not in its shortest two's complement form at byte 4");
    CHECK(decode_error(framed({0x08, 0x81, 0x00})) ==
          "wire: length not in its shortest form at byte 5");
    CHECK(decode_error(framed({0x08, 0x05, 'a'})) ==
          "wire: length 5 runs past the end of the data at byte 5");
    CHECK(decode_error(framed({0x06, 0x03, 'a', 0xc0, 0x80})) ==
          "wire: invalid UTF-8 in a str at byte 7");
    CHECK(decode_error(framed({0x06, 0x03, 0xed, 0xa0, 0x80})) ==
          "wire: invalid UTF-8 in a str at byte 6"); // a surrogate needs tag 0x07
    CHECK(decode_error(framed({0x07, 0x01, 'a'})) ==
          "wire: str marked as holding surrogates holds none at byte 4");
    CHECK(decode_error(framed({0x07, 0x04, 0xed, 0xa0, 0x80, 0xff})) ==
          "wire: invalid UTF-8 in a str at byte 9");
    CHECK(decode_error(framed({0x04, 0, 0, 0})) == "wire: unexpected end of data at byte 5");
    // A count far beyond the data is refused before anything is allocated.
    CHECK(decode_error(framed({0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})) ==
          "wire: length 9223372036854775807 runs past the end of the data at byte 5");
    CHECK(decode_error(framed({0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02})) ==
          "wire: length does not fit in 64 bits at byte 5");
    CHECK(decode_error(framed({0x0b, 0x02, 0x00, 0x00, 0x00})) ==
          "wire: length 2 runs past the end of the data at byte 5");
    // Every strict prefix of a valid encoding is refused.
    const auto full = wire::encode(Value::tuple({1, "two", Value::list({3.0, Value::bytes("4")}),
                                                 Value::dict({{"k", Value::complex(1, 2)}})}));
    for (std::size_t n = 0; n < full.size(); ++n)
        CHECK_THROWS_AS(wire::decode(std::span(full).first(n)), ConversionError);
}

TEST_CASE("Wire.nesting_is_limited_like_values") {
    auto nested = [](std::size_t levels) {
        std::vector<std::byte> out = bytes_of({'I', 'S', 'V', 2});
        for (std::size_t k = 0; k < levels; ++k) {
            out.push_back(std::byte{0x0a}); // list of one
            out.push_back(std::byte{0x01});
        }
        out.back() = std::byte{0x00}; // the innermost list is empty
        return out;
    };
    const Value deepest = wire::decode(nested(max_nesting));
    CHECK(wire::encode(deepest) == nested(max_nesting));
    CHECK(decode_error(nested(max_nesting + 1)) ==
          "wire: containers nested more than 1000 levels deep at byte " +
              std::to_string(4 + 2 * max_nesting));
}

TEST_CASE("Wire.committed_corpus_round_trips") {
    // tests/interp/fuzz/make_corpus.py encodes Python values with its own, independent encoder; its
    // shared-memory buffers name a placeholder segment, swapped here for a real one.
    const std::filesystem::path folder =
        std::filesystem::path(ISOLATES_SOURCE_DIR) / "tests/interp/fuzz/corpus/value_wire_fuzzer";
    REQUIRE(std::filesystem::is_directory(folder));
    const testing::PlaceholderSegment segment;
    int valid = 0, malformed = 0, version_1 = 0, native = 0;
    for (const auto& entry : std::filesystem::directory_iterator(folder)) {
        std::ifstream in(entry.path(), std::ios::binary);
        const std::vector<char> chars{std::istreambuf_iterator<char>(in), {}};
        const auto data = segment.to_real(std::as_bytes(std::span(chars)));
        CAPTURE(entry.path().filename().string());
        if (!decode_error(data).empty()) {
            ++malformed;
            continue;
        }
        const Value value = wire::decode(data);
        std::vector<std::byte> again = segment.to_placeholder(wire::encode(value));
        if (data[3] == std::byte{1}) {
            ++version_1;
            again[3] = std::byte{1}; // encode writes version 2; nothing else differs
        }
        native += value.repr().find("<SharedBuffer>") != std::string::npos;
        CHECK(std::equal(again.begin(), again.end(), chars.begin(), chars.end(),
                         [](std::byte a, char b) { return a == std::byte(b); }));
        ++valid;
    }
    // The counts make_corpus.py prints.
    CHECK(valid == 53);
    CHECK(malformed == 25);
    CHECK(version_1 == 4);
    CHECK(native == 7);
}

} // TEST_SUITE
