#!/usr/bin/env python3
"""Writes the committed seed corpus for the fuzz targets: Python values encoded in the wire
format (interp/wire.h) by this independent encoder, plus a few malformed inputs. The test
Wire.committed_corpus_round_trips checks that C++ decodes and re-encodes every valid seed to the
same bytes. Run from anywhere: python3 tests/fuzz/make_corpus.py"""

import hashlib
import math
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
TARGETS = ["value_wire_fuzzer", "value_python_fuzzer"]


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
    raise TypeError(type(v).__name__)


def encode(v):
    return b"ISV\x01" + encode_value(v)


def nested(levels):
    """The encoding of `levels` lists, each holding the next; the innermost is empty."""
    return b"ISV\x01" + b"\x0a\x01" * (levels - 1) + b"\x0a\x00"


VALID = [
    None, True, False, 0, 1, -1, 127, 128, -128, -129, 2**63 - 1, -(2**63), 2**63, 2**200,
    -(3**150), 0.0, -0.0, 1.5, math.inf, -math.inf, math.nan, 1e-310, complex(1, -2),
    "", "ascii", "h\u00e9 \u20ac \U0001F600", "nul\x00in", "lone \ud800 surrogate", "\udfff",
    b"", b"\x00\xff", tuple(), [], {}, set(), frozenset(),
    (1, "a", [2.5, b"x"], {"k": {1, 2}, (1, 2): None}, frozenset({frozenset({3})})),
    {"nested": {"deeper": [1, [2, [3, [4]]]]}, 7: (8, 9.0), b"k": frozenset({"x", 2**70})},
    [None] * 50, list(range(300)),
]
MALFORMED = [
    b"", b"ISV", b"ISV\x02\x00", b"XYZ\x01\x00", b"ISV\x01\x0e", b"ISV\x01\x00\x00",
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
        seeds = [encode(v) for v in VALID] + [nested(64), nested(1000)] + MALFORMED
        for seed in seeds:
            with open(os.path.join(folder, hashlib.sha1(seed).hexdigest()), "wb") as f:
                f.write(seed)
    print(f"wrote {len(VALID)} valid and {len(MALFORMED)} malformed seeds for each of", *TARGETS)


if __name__ == "__main__":
    main()
