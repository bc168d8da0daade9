#pragma once
// Helpers for tests that build wire-format streams by hand and read the errors decoding gives.

#include <cstddef>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

#include <isolates/interp/errors.h>
#include <isolates/interp/wire.h>

namespace isolates::testing {

/// The bytes `values` (each 0..255), in order.
inline std::vector<std::byte> bytes_of(std::initializer_list<int> values) {
    std::vector<std::byte> out;
    for (int v : values) out.push_back(std::byte(v));
    return out;
}

/// The message of the ConversionError that decoding `data` throws ("" if it does not throw).
inline std::string decode_error(std::span<const std::byte> data) {
    try {
        wire::decode(data);
    } catch (const ConversionError& e) {
        return e.what();
    }
    return "";
}

} // namespace isolates::testing
