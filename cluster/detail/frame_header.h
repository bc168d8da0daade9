#pragma once
// The fixed little-endian header fields in front of a message's wire-format frame (slot ids,
// worker indices, seqs), written and read once here.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <isolates/interp/errors.h>
#include "cluster/detail/comm.h"

namespace isolates::cluster::detail {

/// Appends `value` in `bytes` little-endian bytes.
inline void put_uint(Bytes& out, std::uint64_t value, int bytes) {
    for (int k = 0; k < bytes; ++k) out.push_back(static_cast<char>((value >> (8 * k)) & 0xFF));
}
/// Reads the little-endian number of `bytes` bytes at `at` (advanced past it). Throws
/// ConversionError when the message is too short.
inline std::uint64_t get_uint(const Bytes& in, std::size_t& at, int bytes) {
    if (in.size() < at + static_cast<std::size_t>(bytes))
        throw ConversionError("MpiPoolExecutor: a truncated message header");
    std::uint64_t value = 0;
    for (int k = 0; k < bytes; ++k)
        value |= std::uint64_t(static_cast<unsigned char>(in[at + k])) << (8 * k);
    at += static_cast<std::size_t>(bytes);
    return value;
}
/// Appends a wire-format frame.
inline void put_frame(Bytes& out, const std::vector<std::byte>& frame) {
    const auto* bytes = reinterpret_cast<const char*>(frame.data());
    out.insert(out.end(), bytes, bytes + frame.size());
}
/// The frame after the header (from `at` on).
inline std::span<const std::byte> frame_after(const Bytes& in, std::size_t at) {
    return std::as_bytes(std::span(in)).subspan(at);
}

} // namespace isolates::cluster::detail
