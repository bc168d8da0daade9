"""The CPython reference for bench/channels: the same workloads as channels_bench's Python
part, through CPython's own cross-interpreter queue (test.support.interpreters on 3.13,
concurrent.interpreters on 3.14), each side in its own sub-interpreter and thread, blocking
put/get, same capacity. Prints one JSON object: {"<workload>": [seconds per run, ...], ...}.

usage: python cpython_queue.py N_MESSAGES N_ROUNDTRIPS REPEATS CAPACITY
"""
import json
import sys
import threading
import time

try:
    from concurrent import interpreters  # 3.14

    def make_queue(maxsize, syncobj):
        return interpreters.create_queue(maxsize)  # 3.14 shares what it can, pickles the rest

    SETUP = "import concurrent.interpreters"
except ImportError:
    from test.support import interpreters  # 3.13
    from test.support.interpreters import queues

    def make_queue(maxsize, syncobj):
        return queues.create(maxsize, syncobj=syncobj)

    # A queue can only be handed to an interpreter that has imported the queue module.
    SETUP = "import test.support.interpreters.queues"

try:
    import _interpreters
    is_shareable = _interpreters.is_shareable
except (ImportError, AttributeError):
    def is_shareable(obj):
        return False

PAYLOADS = {
    "int": "i",
    "bytes1k": "blob",
    "tuple10": "(i, 1, 2, 3, 4, 5, 6, 7, 8, 9)",
}
SAMPLES = {"int": 1, "bytes1k": b"x" * 1024, "tuple10": (1, 1, 2, 3, 4, 5, 6, 7, 8, 9)}

PRODUCER = """
blob = b'x' * 1024
put = q.put
for i in range(n):
    put({payload})
"""
CONSUMER = """
get = q.get
for _ in range(n):
    get()
"""
PING = """
for _ in range(n):
    ping.put(1)
    pong.get()
"""
PONG = """
for _ in range(n):
    pong.put(ping.get())
"""


def run_pair(code_a, code_b, **shared):
    a, b = interpreters.create(), interpreters.create()
    try:
        a.exec(SETUP)
        b.exec(SETUP)
        a.prepare_main(**shared)
        b.prepare_main(**shared)
        ta = threading.Thread(target=a.exec, args=(code_a,))
        tb = threading.Thread(target=b.exec, args=(code_b,))
        start = time.perf_counter()
        ta.start()
        tb.start()
        ta.join()
        tb.join()
        return time.perf_counter() - start
    finally:
        a.close()
        b.close()


def main():
    n, roundtrips, repeats, capacity = (int(x) for x in sys.argv[1:5])
    out = {}
    for name, expression in PAYLOADS.items():
        # The fastest mode the queue offers for this payload: shared objects when CPython can
        # share them natively, else pickle (its default).
        syncobj = is_shareable(SAMPLES[name])
        runs = []
        for _ in range(repeats):
            q = make_queue(capacity, syncobj)
            runs.append(run_pair(PRODUCER.format(payload=expression), CONSUMER, q=q, n=n))
            print(f"cpython {name}: {n / runs[-1]:.0f} msgs/s", file=sys.stderr)
        out["throughput_" + name] = runs
        out["syncobj_" + name] = syncobj
    runs = []
    for _ in range(repeats):
        ping, pong = make_queue(1, True), make_queue(1, True)
        runs.append(run_pair(PING, PONG, ping=ping, pong=pong, n=roundtrips))
        print(f"cpython pingpong: {runs[-1] / roundtrips * 1e6:.1f} us", file=sys.stderr)
    out["pingpong"] = runs
    print(json.dumps(out))


if __name__ == "__main__":
    main()
