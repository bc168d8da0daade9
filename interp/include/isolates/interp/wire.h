#pragma once
/// The wire format: a compact, versioned byte encoding of a Value, for values that cross
/// processes as bytes (shared memory, files, sockets). Pure C++: no interpreter or GIL needed,
/// any thread.
///
/// Layout (all integers little-endian; `uvar` is unsigned LEB128 in its shortest form):
///
///     header   'I' 'S' 'V' version(=2; decode also reads 1)
///     value    tag(1 byte) payload
///       0x00 None          0x01 False          0x02 True
///       0x03 int           uvar n, then n bytes of minimal two's complement (0 is one 0x00)
///       0x04 float         8 bytes, IEEE-754 bits (NaN payloads and -0.0 kept)
///       0x05 complex       16 bytes: real, imag
///       0x06 str           uvar n, n bytes of strict UTF-8
///       0x07 str           uvar n, n bytes of UTF-8 holding at least one lone surrogate
///                          (Python's 'surrogatepass' form, as Value keeps them)
///       0x08 bytes         uvar n, n bytes
///       0x09 tuple  0x0a list  0x0c set  0x0d frozenset    uvar count, then count values
///       0x0b dict          uvar count, then count key, value pairs
///     version 2 adds native tags (0x0e..0x1f), each decoded by the codec registered for it
///     (isolates/interp/wire_codec.h); channels/ registers:
///       0x0e SharedBuffer in shared memory: uvar n, n bytes of segment name, uvar offset,
///                          uvar length. No byte of the buffer is copied: decoding maps the
///                          segment read-only by name (or reuses this process's mapping of it,
///                          its own segments included) and views that range.
///       0x0f SharedBuffer in process memory: uvar n, n bytes. Its bytes are copied (the only
///                          way across); decoding makes a new in-process SharedBuffer.
///     Other natives (channel handles, ...) have no wire form: encode refuses them.
///
/// Lifetime of 0x0e: a segment's name exists while the process that made it holds a buffer in
/// it, so the receiver must decode the value before the sender lets go of it (senders keep a
/// frame's Values alive until the peer has acknowledged it). Once decoded, the receiver's view
/// stays valid however long it holds it, even after the creator removed the name.
///
/// Exactly one encoding exists per Value: encode always writes version 2, and encode(decode(b))
/// == b for every version 2 stream b (a version 1 stream re-encodes with a version 2 header).
/// decode(encode(v)) == v for every Value without natives; a native comes back as a new object
/// holding the same bytes (for 0x0e, the same segment range). Decoding is strict and never
/// trusts a length: every malformed input throws ConversionError naming the byte offset. Set
/// items and dict keys must be hashable kinds and distinct Values (what Python could build),
/// and never natives (their identity is process-local); items that are distinct Values but
/// equal in Python (1, 1.0, True) collapse as in Python when materialised.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <isolates/interp/value.h>

namespace isolates::wire {

/// The format version written by encode.
inline constexpr std::uint8_t version = 2;
/// The oldest version decode reads (version 1: no native tags).
inline constexpr std::uint8_t oldest_version = 1;

/// Encodes `value`. Throws ConversionError for a native Value no codec takes (channel handles,
/// or any native when channels/ is not linked), a native, unhashable or duplicate set item or
/// dict key. Allocates; never touches Python.
std::vector<std::byte> encode(const Value& value);

/// Decodes exactly one Value filling all of `data`. Throws ConversionError with the byte offset
/// on any malformed input: bad header or version, unknown tag (or a native tag in version 1),
/// truncation, a non-minimal length or int, invalid UTF-8, nesting deeper than max_nesting, an
/// unhashable or duplicate set item or dict key, a bad native payload (for 0x0e: not an isolates
/// segment name, no such segment, a range outside it), trailing bytes. Memory use is bounded by a
/// small multiple of data.size(), plus the mappings of the segments named.
Value decode(std::span<const std::byte> data);

} // namespace isolates::wire
