// SharedBuffer's wire form (isolates/interp/wire.h, tags 0x0e and 0x0f): a buffer in shared memory crosses
// as its segment's name and range, no byte copied; one in process memory as its bytes, a copy.
// Registered when the library loads, as python/ registers the buffer's Python hooks.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include <isolates/channels/shared_buffer.h>
#include <isolates/interp/errors.h>
#include <isolates/interp/wire_codec.h>
#include "channels/detail/buffer_storage.h"

namespace isolates {

namespace {

/// Longer names cannot be POSIX shared-memory names (NAME_MAX); refused before any lookup.
constexpr std::size_t max_segment_name = 255;

// The registry calls a codec only for its type (typeid), so the casts below are checked.
const detail::BufferView& view_of(const Shareable& object) {
    return static_cast<const detail::BufferView&>(object);
}

bool encode_shared_memory(const Shareable& object, wire::Writer& out) {
    const detail::BufferView& view = view_of(object);
    const detail::BufferStorage& storage = view.storage();
    if (storage.kind() != SharedBuffer::Storage::shared_memory) return false;
    out.sized(std::as_bytes(std::span(storage.name().data(), storage.name().size())));
    out.uvar(static_cast<std::uint64_t>(view.bytes().data() - storage.bytes().data()));
    out.uvar(view.bytes().size());
    return true;
}

std::shared_ptr<const Shareable> decode_shared_memory(wire::Reader& in, std::size_t) {
    const std::size_t name_at = in.offset();
    const auto name_bytes = in.sized();
    if (name_bytes.size() > max_segment_name)
        wire::Reader::fail("shared memory segment name of " + std::to_string(name_bytes.size()) +
                               " bytes (at most " + std::to_string(max_segment_name) + ")",
                           name_at);
    const std::string name(reinterpret_cast<const char*>(name_bytes.data()), name_bytes.size());
    // Only printable ASCII, so the name can stand in error messages (and holds no NUL or space).
    for (std::size_t k = 0; k < name.size(); ++k)
        if (name[k] < '!' || name[k] > '~')
            wire::Reader::fail("byte " + std::to_string(static_cast<unsigned char>(name[k])) +
                                   " in a shared memory segment name",
                               in.offset() - name.size() + k);
    const std::size_t offset_at = in.offset();
    const std::uint64_t offset = in.uvar();
    const std::size_t length_at = in.offset();
    const std::uint64_t length = in.uvar();
    SharedBuffer segment;
    try {
        segment = SharedBuffer::open_shared(name); // checks the name; reuses a mapping we hold
    } catch (const UsageError& e) {
        wire::Reader::fail(e.what(), name_at);
    }
    const std::string where = " of shared memory segment '" + name + "' (" +
                              std::to_string(segment.size()) + " bytes)";
    if (offset > segment.size())
        wire::Reader::fail("offset " + std::to_string(offset) + " past the end" + where, offset_at);
    if (length > segment.size() - offset)
        wire::Reader::fail("length " + std::to_string(length) + " from offset " +
                               std::to_string(offset) + " runs past the end" + where,
                           length_at);
    return segment.slice(static_cast<std::size_t>(offset), static_cast<std::size_t>(length)).shareable();
}

bool encode_process(const Shareable& object, wire::Writer& out) {
    const detail::BufferView& view = view_of(object);
    if (view.storage().kind() != SharedBuffer::Storage::process) return false;
    out.sized(view.bytes());
    return true;
}

std::shared_ptr<const Shareable> decode_process(wire::Reader& in, std::size_t) {
    return SharedBuffer::copy_of(in.sized()).shareable();
}

// Static registration: runs when the library loads (libisolates takes channels/ whole).
const bool registered = [] {
    wire::register_native_codec(wire::tag_shared_memory_buffer, SharedBuffer::shareable_type(),
                                &encode_shared_memory, &decode_shared_memory);
    wire::register_native_codec(wire::tag_process_buffer, SharedBuffer::shareable_type(),
                                &encode_process, &decode_process);
    return true;
}();

} // namespace

} // namespace isolates
