#pragma once
// The side of the native codec registry (isolates/interp/wire_codec.h) that wire::encode/decode call.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <isolates/interp/wire_codec.h>

namespace isolates::detail {

/// Appends the tag and payload of native `object` by the first codec of its dynamic type that takes
/// it; false (nothing appended) when none does. Any thread.
bool wire_encode_native(const Shareable& object, std::vector<std::byte>& out);

/// The decoder registered for native tag `tag`, or nullptr. Any thread; never blocks.
wire::NativeDecoder wire_native_decoder(std::uint8_t tag) noexcept;

/// "0x0e": a tag as error messages name it.
std::string wire_tag_name(std::uint8_t tag);

/// Whether `tag` is in the range format version 2 reserves for native tags (0x0e..0x1f).
constexpr bool is_wire_native_tag(std::uint8_t tag) noexcept { return tag >= 0x0e && tag <= 0x1f; }

} // namespace isolates::detail
