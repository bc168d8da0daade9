// The primitives of the wire format (isolates/interp/wire_codec.h) and the registry of native codecs.
// Registration is rare and takes a mutex; encode and decode read the table on every native
// without one, so it is a fixed array of atomics published by its count (as interp/native.cpp).

#include <isolates/interp/wire_codec.h>

#include <atomic>
#include <mutex>
#include <string>

#include <isolates/interp/errors.h>
#include "interp/detail/wire_natives.h"

namespace isolates::wire {

void Writer::uvar(std::uint64_t n) {
    do {
        std::uint8_t b = n & 0x7f;
        n >>= 7;
        if (n) b |= 0x80;
        out_.push_back(std::byte{b});
    } while (n);
}

void Writer::raw(std::span<const std::byte> bytes) { out_.insert(out_.end(), bytes.begin(), bytes.end()); }

void Writer::sized(std::span<const std::byte> bytes) {
    uvar(bytes.size());
    raw(bytes);
}

void Reader::fail(const std::string& what, std::size_t offset) {
    throw ConversionError("wire: " + what + " at byte " + std::to_string(offset));
}

std::uint8_t Reader::byte() {
    if (pos_ >= data_.size()) fail("unexpected end of data", pos_);
    return std::to_integer<std::uint8_t>(data_[pos_++]);
}

std::uint64_t Reader::uvar() {
    const std::size_t start = pos_;
    std::uint64_t n = 0;
    for (int shift = 0;; shift += 7) {
        const std::uint8_t b = byte();
        if (shift == 63 && b > 1) fail("length does not fit in 64 bits", start);
        n |= std::uint64_t{b & 0x7fu} << shift;
        if (!(b & 0x80)) {
            if (b == 0 && shift > 0) fail("length not in its shortest form", start);
            return n;
        }
    }
}

std::size_t Reader::length(std::size_t min_unit_bytes) {
    const std::size_t start = pos_;
    const std::uint64_t n = uvar();
    if (n > remaining() / min_unit_bytes)
        fail("length " + std::to_string(n) + " runs past the end of the data", start);
    return static_cast<std::size_t>(n);
}

std::span<const std::byte> Reader::take(std::size_t n) {
    if (n > remaining()) fail("unexpected end of data", pos_);
    auto part = data_.subspan(pos_, n);
    pos_ += n;
    return part;
}

namespace {

constexpr std::size_t max_codecs = 18; // the native tags 0x0e..0x1f

// Constant-initialised, so codecs may be registered from static initialisers in any order.
std::mutex registry_mutex;

struct Codec {
    std::atomic<std::uint8_t> tag;
    std::atomic<const std::type_info*> type;
    std::atomic<NativeEncoder> encode;
    std::atomic<NativeDecoder> decode;
};
Codec codecs[max_codecs];
std::atomic<std::size_t> codec_count{0};

// Entries are written (relaxed) before the count is stored with release; readers load the
// count with acquire, so every entry below the count they see is complete. Entries never change
// once published.

} // namespace

void register_native_codec(std::uint8_t tag, const std::type_info& type, NativeEncoder encode,
                           NativeDecoder decode) {
    if (!detail::is_wire_native_tag(tag))
        throw UsageError("wire tag " + detail::wire_tag_name(tag) + " is not a native tag (0x0e..0x1f)");
    if (!encode || !decode) throw UsageError("a native wire codec needs an encoder and a decoder");
    std::lock_guard lock(registry_mutex);
    const std::size_t n = wire::codec_count.load(std::memory_order_relaxed);
    for (std::size_t k = 0; k < n; ++k) {
        if (wire::codecs[k].tag.load(std::memory_order_relaxed) != tag) continue;
        if (*wire::codecs[k].type.load(std::memory_order_relaxed) == type &&
            wire::codecs[k].encode.load(std::memory_order_relaxed) == encode &&
            wire::codecs[k].decode.load(std::memory_order_relaxed) == decode)
            return;
        throw UsageError("wire tag " + detail::wire_tag_name(tag) + " already has a codec");
    }
    // n < max_codecs: each codec takes one of the max_codecs native tags.
    codecs[n].tag.store(tag, std::memory_order_relaxed);
    codecs[n].type.store(&type, std::memory_order_relaxed);
    codecs[n].encode.store(encode, std::memory_order_relaxed);
    codecs[n].decode.store(decode, std::memory_order_relaxed);
    codec_count.store(n + 1, std::memory_order_release);
}

} // namespace isolates::wire

namespace isolates::detail {

std::string wire_tag_name(std::uint8_t tag) {
    const char* digits = "0123456789abcdef";
    return std::string("0x") + digits[tag >> 4] + digits[tag & 15];
}

bool wire_encode_native(const Shareable& object, std::vector<std::byte>& out) {
    const std::type_info& type = typeid(object);
    const std::size_t n = wire::codec_count.load(std::memory_order_acquire);
    for (std::size_t k = 0; k < n; ++k) {
        if (*wire::codecs[k].type.load(std::memory_order_relaxed) != type) continue;
        const std::size_t start = out.size();
        out.push_back(std::byte{wire::codecs[k].tag.load(std::memory_order_relaxed)});
        wire::Writer writer(out);
        if (wire::codecs[k].encode.load(std::memory_order_relaxed)(object, writer)) return true;
        out.resize(start);
    }
    return false;
}

wire::NativeDecoder wire_native_decoder(std::uint8_t tag) noexcept {
    const std::size_t n = wire::codec_count.load(std::memory_order_acquire);
    for (std::size_t k = 0; k < n; ++k)
        if (wire::codecs[k].tag.load(std::memory_order_relaxed) == tag)
            return wire::codecs[k].decode.load(std::memory_order_relaxed);
    return nullptr;
}

} // namespace isolates::detail
