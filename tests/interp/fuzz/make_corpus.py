#!/usr/bin/env python3
"""Writes the committed seed corpus for the fuzz targets: Python values encoded in the wire
format (interp/wire.h, version 2, and a few in version 1) by this independent encoder, plus
malformed inputs. SharedBuffers in shared memory name the placeholder segment PLACEHOLDER, which
the fuzz targets and the test swap for a real 256-byte segment whose byte k is k % 251
(tests/fuzz/placeholder_segment.h). The test Wire.committed_corpus_round_trips checks that C++
decodes and re-encodes every valid seed to the same bytes (a version 1 seed with a version 2
header) and counts the valid and malformed seeds against the counts printed here.
Run from anywhere: python3 tests/fuzz/make_corpus.py"""

import hashlib
import math
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
TARGETS = ["value_wire_fuzzer", "value_python_fuzzer"]
PLACEHOLDER = b"isolates-0-" + b"0" * 32
SEGMENT_SIZE = 256


class ProcessBuffer:
    """A SharedBuffer in process memory: tag 0x0f, its bytes."""

    def __init__(self, data):
        self.data = data


class SegmentBuffer:
    """A SharedBuffer viewing `length` bytes from `offset` of a shared-memory segment: tag 0x0e."""

    def __init__(self, offset, length, name=PLACEHOLDER):
        self.offset, self.length, self.name = offset, length, name


def uvar(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def encode_value(v):
    if v is None:
        return b"\x00"
    if v is False:
        return b"\x01"
    if v is True:
        return b"\x02"
    if type(v) is int:
        n = max(1, (v.bit_length() + 8) // 8)  # minimal two's complement length
        while n > 1 and -(1 << (8 * (n - 1) - 1)) <= v < (1 << (8 * (n - 1) - 1)):
            n -= 1
        return b"\x03" + uvar(n) + v.to_bytes(n, "little", signed=True)
    if type(v) is float:
        return b"\x04" + struct.pack("<d", v)
    if type(v) is complex:
        return b"\x05" + struct.pack("<dd", v.real, v.imag)
    if type(v) is str:
        try:
            data, tag = v.encode("utf-8"), b"\x06"
        except UnicodeEncodeError:
            data, tag = v.encode("utf-8", "surrogatepass"), b"\x07"
        return tag + uvar(len(data)) + data
    if type(v) is bytes:
        return b"\x08" + uvar(len(v)) + v
    if type(v) in (tuple, list, set, frozenset):
        tag = {tuple: b"\x09", list: b"\x0a", set: b"\x0c", frozenset: b"\x0d"}[type(v)]
        return tag + uvar(len(v)) + b"".join(encode_value(x) for x in v)
    if type(v) is dict:
        return b"\x0b" + uvar(len(v)) + b"".join(encode_value(k) + encode_value(x)
                                                 for k, x in v.items())
    if type(v) is ProcessBuffer:
        return b"\x0f" + uvar(len(v.data)) + v.data
    if type(v) is SegmentBuffer:
        return b"\x0e" + uvar(len(v.name)) + v.name + uvar(v.offset) + uvar(v.length)
    raise TypeError(type(v).__name__)


def encode(v, version=2):
    return b"ISV" + bytes([version]) + encode_value(v)


def nested(levels):
    """The encoding of `levels` lists, each holding the next; the innermost is empty."""
    return b"ISV\x02" + b"\x0a\x01" * (levels - 1) + b"\x0a\x00"


VALID = [
    None, True, False, 0, 1, -1, 127, 128, -128, -129, 2**63 - 1, -(2**63), 2**63, 2**200,
    -(3**150), 0.0, -0.0, 1.5, math.inf, -math.inf, math.nan, 1e-310, complex(1, -2),
    "", "ascii", "h\u00e9 \u20ac \U0001F600", "nul\x00in", "lone \ud800 surrogate", "\udfff",
    b"", b"\x00\xff", tuple(), [], {}, set(), frozenset(),
    (1, "a", [2.5, b"x"], {"k": {1, 2}, (1, 2): None}, frozenset({frozenset({3})})),
    {"nested": {"deeper": [1, [2, [3, [4]]]]}, 7: (8, 9.0), b"k": frozenset({"x", 2**70})},
    [None] * 50, list(range(300)),
]
VALID_V1 = [None, 2**200, "lone \ud800 surrogate", (1, [2.5, b"x"], {"k": frozenset({1, 2})})]
NATIVE = [
    ProcessBuffer(b""), ProcessBuffer(b"abc"), (ProcessBuffer(b"\x00" * 100),),
    SegmentBuffer(0, SEGMENT_SIZE), SegmentBuffer(10, 20), SegmentBuffer(SEGMENT_SIZE, 0),
    [SegmentBuffer(0, 1), ProcessBuffer(b"x"), {"k": SegmentBuffer(5, 5)}, SegmentBuffer(0, 1)],
]
MALFORMED_NATIVE = [
    encode(ProcessBuffer(b"abc"), version=1),        # native tags need version 2
    encode(SegmentBuffer(SEGMENT_SIZE + 1, 0)),      # offset past the end
    encode(SegmentBuffer(250, 7)),                   # length past the end
    encode(SegmentBuffer(0, 0, b"isolates-0-" + b"1" * 32)),  # no such segment
    encode(SegmentBuffer(0, 0, b"../isolates-0")),   # not an isolates segment name
    encode(SegmentBuffer(0, 0, b"isolates-0-\x00")),  # a NUL in the name
    b"ISV\x02\x0e\x05isol",                          # truncated
    b"ISV\x02\x0f\x05ab",                            # truncated
    b"ISV\x02\x0c\x01\x0f\x00",                      # a buffer as a set item
    b"ISV\x02\x1d\x00",                              # a native tag nobody registered
]
MALFORMED = [
    b"", b"ISV", b"ISV\x03\x00", b"XYZ\x01\x00", b"ISV\x01\x0e", b"ISV\x01\x00\x00",
    b"ISV\x01\x03\x00", b"ISV\x01\x03\x02\x01\x00", b"ISV\x01\x08\x81\x00",
    b"ISV\x01\x06\x02\xc0\x80", b"ISV\x01\x07\x01a", b"ISV\x01\x0c\x01\x0a\x00",
    b"ISV\x01\x0b\x01\x0a\x00\x00", b"ISV\x01\x0a" + b"\xff" * 9 + b"\x7f",
    nested(1001),
]


def main():
    for target in TARGETS:
        folder = os.path.join(HERE, "corpus", target)
        os.makedirs(folder, exist_ok=True)
        for name in os.listdir(folder):
            os.remove(os.path.join(folder, name))
        seeds = ([encode(v) for v in VALID + NATIVE] + [nested(64), nested(1000)] +
                 [encode(v, version=1) for v in VALID_V1] + MALFORMED + MALFORMED_NATIVE)
        for seed in seeds:
            with open(os.path.join(folder, hashlib.sha1(seed).hexdigest()), "wb") as f:
                f.write(seed)
    valid = len(VALID) + len(NATIVE) + 2 + len(VALID_V1)
    print(f"wrote {valid} valid and {len(MALFORMED) + len(MALFORMED_NATIVE)} malformed seeds "
          "for each of", *TARGETS)


if __name__ == "__main__":
    main()
