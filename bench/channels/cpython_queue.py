"""The CPython side of channels_bench's comparison: one round of it through CPython's own
cross-interpreter queue (test.support.interpreters on 3.13, concurrent.interpreters on 3.14+).

usage: python cpython_queue.py MESSAGES ROUND_TRIPS CAPACITY
Prints one JSON object {"int": s, "bytes1k": s, "tuple10": s, "pingpong": s}: the seconds of each
workload's timed region. A round, as channels_bench's own (PythonComparison there): per workload
two fresh sub-interpreters, each driven by its own thread, import bench/channels/
channel_workloads.py and get their queues (untimed); the threads meet at a barrier, and the timed
region runs from the barrier until both functions have returned: MESSAGES sends of the payload
through one queue of CAPACITY, or ROUND_TRIPS ping-pongs through two queues of capacity 1. No
warm-up. Blocking put/get; syncobj=True wherever CPython can share the payload natively (its
fastest mode), pickling otherwise (its default).
"""
import json
import os
import sys
import threading
import time

try:
    from concurrent import interpreters  # 3.14

    def make_queue(maxsize, syncobj):
        return interpreters.create_queue(maxsize)  # 3.14 shares what it can, pickles the rest

    SETUP = "import concurrent.interpreters\n"
except ImportError:
    from test.support import interpreters  # 3.13
    from test.support.interpreters import queues

    def make_queue(maxsize, syncobj):
        return queues.create(maxsize, syncobj=syncobj)

    # A queue can only be handed to an interpreter that has imported the queue module.
    SETUP = "import test.support.interpreters.queues\n"

try:
    import _interpreters
    is_shareable = _interpreters.is_shareable
except (ImportError, AttributeError):
    def is_shareable(obj):
        return False

HERE = os.path.dirname(os.path.abspath(__file__))
SETUP += f"import sys\nsys.path.insert(0, {HERE!r})\nfrom channel_workloads import *\n"
SAMPLES = {"int": 1, "bytes1k": b"x" * 1024, "tuple10": (1, 1, 2, 3, 4, 5, 6, 7, 8, 9)}


def run_pair(call_a, call_b, **shared):
    """Seconds from the barrier until both interpreters have run their call."""
    a, b = interpreters.create(), interpreters.create()
    start = threading.Barrier(3)
    ends = [0.0, 0.0]

    def drive(interp, call, k):
        interp.exec(SETUP)
        interp.prepare_main(**shared)
        start.wait()
        interp.exec(call)
        ends[k] = time.perf_counter()

    try:
        threads = [threading.Thread(target=drive, args=(a, call_a, 0)),
                   threading.Thread(target=drive, args=(b, call_b, 1))]
        for t in threads:
            t.start()
        start.wait()
        begin = time.perf_counter()
        for t in threads:
            t.join()
        return max(ends) - begin
    finally:
        a.close()
        b.close()


def main():
    messages, round_trips, capacity = (int(x) for x in sys.argv[1:4])
    out = {}
    for name, sample in SAMPLES.items():
        q = make_queue(capacity, is_shareable(sample))
        out[name] = run_pair(f"PRODUCERS[{name!r}](q.put, n)", "consume(q.get, n)", q=q, n=messages)
        print(f"  cpython {name}: {messages / out[name]:.0f} msgs/s", file=sys.stderr)
    ping_q, pong_q = make_queue(1, True), make_queue(1, True)
    out["pingpong"] = run_pair("ping(ping_q.put, pong_q.get, n)", "pong(pong_q.put, ping_q.get, n)",
                               ping_q=ping_q, pong_q=pong_q, n=round_trips)
    print(f"  cpython pingpong: {out['pingpong'] / round_trips * 1e6:.1f} us", file=sys.stderr)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
