#include "interp/detail/utf8.h"

namespace isolates::detail {

Utf8Check check_utf8(std::string_view text) noexcept {
    Utf8Check result;
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t n = text.size();
    std::size_t i = 0;
    while (i < n) {
        const unsigned c = s[i];
        if (c < 0x80) { ++i; continue; }
        std::size_t length;
        unsigned low = 0x80, high = 0xbf; // allowed range of the second byte
        if (c >= 0xc2 && c <= 0xdf) length = 2;
        else if (c >= 0xe0 && c <= 0xef) {
            length = 3;
            if (c == 0xe0) low = 0xa0;      // overlong
            else if (c == 0xed) high = 0x9f; // surrogates
        } else if (c >= 0xf0 && c <= 0xf4) {
            length = 4;
            if (c == 0xf0) low = 0x90;      // overlong
            else if (c == 0xf4) high = 0x8f; // past U+10FFFF
        } else {
            result.error_offset = i;
            return result;
        }
        if (i + length > n) { result.error_offset = i; return result; }
        if (s[i + 1] < low || s[i + 1] > high) { result.error_offset = i; return result; }
        for (std::size_t k = 2; k < length; ++k)
            if ((s[i + k] & 0xc0) != 0x80) { result.error_offset = i; return result; }
        i += length;
    }
    return result;
}

} // namespace isolates::detail
