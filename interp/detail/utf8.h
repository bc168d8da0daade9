#pragma once
// Strict UTF-8 validation for text that C++ hands to Python.

#include <cstddef>
#include <string_view>

namespace isolates::detail {

struct Utf8Check {
    std::size_t error_offset = std::string_view::npos; // first bad byte, npos when valid
};

/// Validates per RFC 3629: no overlong forms, no surrogates (U+D800..DFFF), nothing past U+10FFFF.
Utf8Check check_utf8(std::string_view text) noexcept;

} // namespace isolates::detail
