#pragma once
/// How native Values (isolates/interp/native.h) cross the wire format (isolates/interp/wire.h): the layer that owns
/// a native type registers a codec per native tag, the way it registers its Python hooks, and
/// wire::encode/decode call it for Values of that type and for that tag. interp/ knows the tags
/// (they are part of the format) but not the types behind them. Without a codec, encode refuses
/// the native with ConversionError naming its type.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <typeinfo>
#include <vector>

#include <isolates/interp/value.h>

namespace isolates::wire {

/// The native tags of format version 2 (a version 1 stream never holds them).
/// A SharedBuffer in a shared-memory segment: uvar n, n bytes of segment name, uvar offset,
/// uvar length (channels/ registers it; no bytes of the buffer are copied).
inline constexpr std::uint8_t tag_shared_memory_buffer = 0x0e;
/// A SharedBuffer in process memory: uvar n, n bytes (channels/ registers it; a copy).
inline constexpr std::uint8_t tag_process_buffer = 0x0f;

/// Appends the primitives of the format to an encoding. Allocates; any thread.
class Writer {
public:
    explicit Writer(std::vector<std::byte>& out) noexcept : out_(out) {}
    /// Appends `n` as unsigned LEB128 in its shortest form.
    void uvar(std::uint64_t n);
    /// Appends `bytes` as they are.
    void raw(std::span<const std::byte> bytes);
    /// Appends uvar bytes.size(), then the bytes.
    void sized(std::span<const std::byte> bytes);

private:
    std::vector<std::byte>& out_;
};

/// Reads the primitives of the format from an encoding, never trusting a length: every read is
/// bounds-checked and a malformed one throws ConversionError naming the byte offset. Any thread.
class Reader {
public:
    explicit Reader(std::span<const std::byte> data, std::size_t pos = 0) noexcept
        : data_(data), pos_(pos) {}
    /// The offset of the next byte to read.
    std::size_t offset() const noexcept { return pos_; }
    std::size_t remaining() const noexcept { return data_.size() - pos_; }
    /// One byte.
    std::uint8_t byte();
    /// An unsigned LEB128 number in its shortest form, up to 2**64 - 1.
    std::uint64_t uvar();
    /// A length or count of units of at least `min_unit_bytes` each that must fit in what is
    /// left, so nothing allocated from it exceeds the input's size.
    std::size_t length(std::size_t min_unit_bytes = 1);
    /// The next `n` bytes (a view into the data).
    std::span<const std::byte> take(std::size_t n);
    /// A length, then that many bytes.
    std::span<const std::byte> sized() { return take(length()); }
    /// Throws ConversionError "wire: <what> at byte <offset>".
    [[noreturn]] static void fail(const std::string& what, std::size_t offset);

private:
    std::span<const std::byte> data_;
    std::size_t pos_;
};

/// Writes the payload of `object` for this codec's tag and returns true, or returns false having
/// written nothing when `object` is not in this tag's form (another codec of its type may take
/// it). Must write the one encoding that decoding it reproduces. Any thread; may throw
/// ConversionError.
using NativeEncoder = bool (*)(const Shareable& object, Writer& out);
/// Reads the payload after this codec's tag (at offset `tag_at`) and returns the object.
/// Throws ConversionError with a byte offset (Reader::fail) on any malformed payload. Any thread.
using NativeDecoder = std::shared_ptr<const Shareable> (*)(Reader& in, std::size_t tag_at);

/// Registers the codec of native tag `tag` for Shareables whose dynamic type is `type`, for the
/// life of the process (typically from a static initialiser); thread-safe. Registering the same
/// codec twice is a no-op; a tag that is not a native tag, or one taken by another codec,
/// throws UsageError. encode tries the codecs of a type in registration order.
void register_native_codec(std::uint8_t tag, const std::type_info& type, NativeEncoder encode,
                           NativeDecoder decode);

} // namespace isolates::wire
