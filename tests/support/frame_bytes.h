#pragma once
// Test frames for rings and links: frame `index` of `size` bytes, each byte depending on both,
// so a misplaced, lost or repeated byte shows.

#include <cstddef>
#include <vector>

namespace isolates::testing {

inline std::vector<std::byte> frame_bytes(std::size_t index, std::size_t size) {
    std::vector<std::byte> bytes(size);
    for (std::size_t i = 0; i < size; ++i)
        bytes[i] = static_cast<std::byte>((index * 131 + i * 7 + (i >> 8)) & 0xff);
    return bytes;
}

} // namespace isolates::testing
