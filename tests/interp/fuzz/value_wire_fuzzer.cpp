// libFuzzer target: wire::decode on arbitrary bytes. Malformed input must throw ConversionError
// (nothing else, never UB); whatever decodes must re-encode to exactly the same bytes (version 1
// input with a version 2 header), and every accessor, repr and == must behave on it. The corpus's
// placeholder segment name is swapped for a real segment (tests/interp/fuzz/placeholder_segment.h).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include <isolates/channels/shared_buffer.h>
#include <isolates/interp/errors.h>
#include <isolates/interp/value.h>
#include <isolates/interp/wire.h>
#include "tests/interp/fuzz/placeholder_segment.h"

using namespace isolates;

namespace {
// Made once on libFuzzer's thread; never destroyed (libFuzzer exits).
const testing::PlaceholderSegment* segment = nullptr;

[[noreturn]] void broken(const char* what) {
    std::fprintf(stderr, "value_wire_fuzzer: %s\n", what);
    std::abort();
}

/// Touches every accessor that fits the kind and checks the ones that must agree.
void exercise(const Value& v, std::size_t depth = 0) {
    const Value copy = v;
    if (!(copy == v)) broken("a copy differs from its original");
    (void)v.repr();
    switch (v.kind()) {
    case Kind::none: if (!v.is_none()) broken("none is not none"); break;
    case Kind::boolean: (void)v.as_bool(); break;
    case Kind::integer: {
        const auto le = v.int_bytes();
        if (le.empty()) broken("int with no bytes");
        if (!(Value::integer_from_bytes(le) == v)) broken("int_bytes does not round-trip");
        if (v.fits_int64() != (le.size() <= 8)) broken("fits_int64 disagrees with int_bytes");
        if (v.fits_int64()) (void)v.as_int64();
        break;
    }
    case Kind::floating: (void)v.as_double(); break;
    case Kind::complex: (void)v.as_complex(); break;
    case Kind::str:
        if (v.size() != v.as_str().size()) broken("str size");
        break;
    case Kind::bytes:
        if (v.size() != v.as_bytes().size()) broken("bytes size");
        if (!(Value::bytes(v.as_bytes()) == v)) broken("bytes copy differs");
        break;
    case Kind::tuple: case Kind::list: case Kind::set: case Kind::frozenset:
        if (v.size() != v.items().size()) broken("container size");
        for (const Value& item : v.items()) exercise(item, depth + 1);
        if ((v.kind() == Kind::tuple || v.kind() == Kind::list) && !v.items().empty())
            (void)v[v.items().size() - 1];
        break;
    case Kind::dict:
        for (const auto& [key, value] : v.dict_items()) {
            exercise(key, depth + 1);
            exercise(value, depth + 1);
        }
        break;
    case Kind::native: {
        const auto buffer = SharedBuffer::from_shareable(v.as_native());
        if (!buffer) broken("decode produced a native other than a SharedBuffer");
        unsigned sum = 0;
        for (std::byte b : buffer->bytes()) sum += std::to_integer<unsigned>(b); // mapped, readable
        if (buffer->storage() == SharedBuffer::Storage::shared_memory && buffer->name().empty())
            broken("a shared-memory buffer without a name");
        (void)sum;
        break;
    }
    }
    if (depth > max_nesting) broken("nesting past max_nesting");
}
} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    segment = new testing::PlaceholderSegment();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto input = segment->to_real(std::as_bytes(std::span(data, size)));
    Value v;
    try {
        v = wire::decode(input);
    } catch (const ConversionError&) {
        return 0; // refused cleanly
    }
    const auto encoded = wire::encode(v);
    auto again = encoded;
    if (input[3] == std::byte{1}) again[3] = std::byte{1}; // encode writes version 2
    if (again != input) broken("decode then encode did not reproduce the input");
    // (Natives compare by identity, so a second decode is compared by its encoding.)
    if (wire::encode(wire::decode(encoded)) != encoded) broken("a second decode differs");
    exercise(v);
    return 0;
}
