#pragma once
// A SharedBuffer whose byte k is k % 251: content a test can check anywhere in it.

#include <cstddef>
#include <span>

#include <isolates/channels/shared_buffer.h>

namespace isolates::testing {

inline SharedBuffer counting(std::size_t size,
                             SharedBuffer::Storage storage = SharedBuffer::Storage::process) {
    return SharedBuffer::build(size, [](std::span<std::byte> out) {
        for (std::size_t k = 0; k < out.size(); ++k) out[k] = std::byte(k % 251);
    }, storage);
}

} // namespace isolates::testing
