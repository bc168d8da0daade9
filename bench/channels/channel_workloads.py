"""The Python functions of channels_bench's comparison, run by both sides alike: isolates' channels
pass their bound send/recv, CPython's queues (bench/channels/cpython_queue.py) their put/get.

PRODUCERS[name](send, n) sends n messages of one payload; consume(recv, n) receives n;
ping(send, recv, n) and pong(send, recv, n) make n round trips between them.
"""

BLOB = b"x" * 1024


def produce_int(send, n):
    for i in range(n):
        send(i)


def produce_bytes1k(send, n):
    blob = BLOB
    for i in range(n):
        send(blob)


def produce_tuple10(send, n):
    for i in range(n):
        send((i, 1, 2, 3, 4, 5, 6, 7, 8, 9))


PRODUCERS = {"int": produce_int, "bytes1k": produce_bytes1k, "tuple10": produce_tuple10}


def consume(recv, n):
    for _ in range(n):
        recv()


def ping(send, recv, n):
    for _ in range(n):
        send(1)
        recv()


def pong(send, recv, n):
    for _ in range(n):
        send(recv())
