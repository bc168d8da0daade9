#!/usr/bin/env python3
"""Writes the committed seed corpus of worker_protocol_fuzzer: requests and replies of the process
worker protocol (process/worker_protocol.cpp: a wire-format tuple each), encoded by the
independent encoder of tests/interp/fuzz/make_corpus.py, plus frames that are tuples of the
wrong shape. The first byte picks the decoder (0: request, 1: reply).
Run from anywhere: python3 tests/process/fuzz/make_corpus.py"""

import hashlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "interp", "fuzz"))
from make_corpus import encode  # noqa: E402

INIT, CALL, CALL_VOID, CALL_EACH, EXEC, IMPORT, EXIT = range(1, 8)
PYTHON, NOT_SHAREABLE, CONVERSION, USAGE, OTHER = range(5)


def request(op, seq, text="", args=(), kwargs=(), flag=False, ack=0):
    return b"\x00" + encode((op, seq, text, tuple(args), tuple(kwargs), flag, ack))


def reply(seq, value=None, error=None, healthy=True, ran=True):
    return b"\x01" + encode((seq, value, error, healthy, ran))


SEEDS = [
    request(INIT, 1, "x = 1", [("/usr/lib/python3",), "", ("/opt/app",), ("json",)]),
    request(CALL, 2, "operator:add", [40, 2], ack=1),
    request(CALL, 3, "builtins:int", ["ff"], [("base", 16)], ack=2),
    request(CALL_VOID, 4, "importlib:import_module", ["json"]),
    request(CALL_EACH, 5, "builtins:pow", [(2, 10), (3, 2)], flag=True),
    request(EXEC, 6, "import sys\nsys.flag = 7"),
    request(IMPORT, 7, "colorsys"),
    request(EXIT, 8),
    reply(1),
    reply(2, 42),
    reply(3, (b"\x00" * 64, "text", 2.5, [1, 2], {"k": None}), ran=True),
    reply(4, None, (PYTHON, ("ValueError", "bad 3", "Traceback ...")), healthy=False),
    reply(5, None, (NOT_SHAREABLE, ("socket", "args[0]", "cannot cross"))),
    reply(6, None, (CONVERSION, ("invalid utf-8 at offset 3",))),
    reply(7, None, (USAGE, ("no worker 9",))),
    reply(8, None, (OTHER, ("std::bad_alloc",)), ran=False),
    # The wrong shapes: refused with ConversionError.
    request(99, 1),
    b"\x00" + encode((CALL, 1, "f")),
    b"\x00" + encode((CALL, 1, "f", (), (("k",),), False, 0)),
    request(INIT, 1, "", ["not four arguments"]),
    reply(1, None, (77, ("unknown kind",))),
    reply(1, None, (PYTHON, ("too", "few"))),
    b"\x01" + encode([1, None, None, True, True]),
    b"\x01ISV\x02",
]


def main():
    folder = os.path.join(HERE, "corpus", "worker_protocol_fuzzer")
    os.makedirs(folder, exist_ok=True)
    for name in os.listdir(folder):
        os.remove(os.path.join(folder, name))
    for seed in SEEDS:
        with open(os.path.join(folder, hashlib.sha1(seed).hexdigest()), "wb") as f:
            f.write(seed)
    print(f"wrote {len(SEEDS)} seeds for worker_protocol_fuzzer")


if __name__ == "__main__":
    main()
