#pragma once
/// The wire format: a compact, versioned byte encoding of a Value, for values that cross
/// processes as bytes (shared memory, files, sockets). Pure C++: no interpreter or GIL needed,
/// any thread.
///
/// Layout (all integers little-endian; `uvar` is unsigned LEB128 in its shortest form):
///
///     header   'I' 'S' 'V' version(=1)
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
///
/// Exactly one encoding exists per Value, so decode(encode(v)) == v and encode(decode(b)) == b.
/// Decoding is strict and never trusts a length: every malformed input throws ConversionError
/// naming the byte offset. Set items and dict keys must be hashable kinds and distinct Values
/// (what Python could build); items that are distinct Values but equal in Python (1, 1.0, True)
/// collapse as in Python when materialised.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "interp/value.h"

namespace isolates::wire {

/// The format version written by encode and the only one decode accepts.
inline constexpr std::uint8_t version = 1;

/// Encodes `value`. Throws ConversionError for a native Value (buffers and channel handles are
/// process-local), an unhashable set item or dict key, or a duplicate one. Allocates; never touches Python.
std::vector<std::byte> encode(const Value& value);

/// Decodes exactly one Value filling all of `data`. Throws ConversionError with the byte offset
/// on any malformed input: bad header or version, unknown tag, truncation, a non-minimal length
/// or int, invalid UTF-8, nesting deeper than max_nesting, an unhashable or duplicate set item or
/// dict key, trailing bytes. Memory use is bounded by a small multiple of data.size().
Value decode(std::span<const std::byte> data);

} // namespace isolates::wire
