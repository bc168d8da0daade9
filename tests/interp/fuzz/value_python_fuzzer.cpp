// libFuzzer target: Values decoded from arbitrary bytes are materialised in a Python
// sub-interpreter and converted back. Nothing may crash; values without sets or dicts (whose
// order and duplicates Python normalises) must come back identical (a SharedBuffer comes back
// as the same buffer from its memoryview). The corpus's placeholder segment name is swapped for
// a real segment (tests/interp/fuzz/placeholder_segment.h).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include <isolates/interp/errors.h>
#include <isolates/interp/interpreter.h>
#include <isolates/interp/runtime.h>
#include <isolates/interp/value.h>
#include <isolates/interp/wire.h>
#include "tests/interp/fuzz/placeholder_segment.h"

using namespace isolates;

namespace {
// Made once on libFuzzer's thread, which runs every input; never destroyed (libFuzzer exits).
Runtime* runtime = nullptr;
Interpreter* interpreter = nullptr;
const testing::PlaceholderSegment* segment = nullptr;

bool has_unordered(const Value& v) {
    switch (v.kind()) {
    case Kind::set: case Kind::frozenset: case Kind::dict: return true;
    case Kind::tuple: case Kind::list:
        for (const Value& item : v.items())
            if (has_unordered(item)) return true;
        return false;
    default: return false;
    }
}
} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    runtime = new Runtime();
    interpreter = new Interpreter();
    segment = new testing::PlaceholderSegment();
    interpreter->exec("def identity(v):\n    return v\n");
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Value v;
    try {
        v = wire::decode(segment->to_real(std::as_bytes(std::span(data, size))));
    } catch (const ConversionError&) {
        return 0;
    }
    Value back;
    try {
        back = interpreter->call("__main__:identity", v);
    } catch (const PythonError& e) {
        // wire::decode already refuses what Python could not build (unhashable set items or
        // dict keys), so materialising a decoded Value must never fail.
        std::fprintf(stderr, "value_python_fuzzer: unexpected PythonError %s\n", e.what());
        std::abort();
    }
    if (!has_unordered(v) && !(back == v)) {
        std::fprintf(stderr, "value_python_fuzzer: %s came back as %s\n", v.repr().c_str(),
                     back.repr().c_str());
        std::abort();
    }
    (void)wire::decode(wire::encode(back));
    return 0;
}
