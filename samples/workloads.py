"""The three workloads of the articles on Python 3.14's free-threading and concurrent.interpreters,
as they wrote them, and the models other than isolates' own pool that run them.

  count    a CPU loop: count(n), 4 tasks
  sha256   hashlib.sha256(data).hexdigest() n times per task, 4 tasks
  csv      hashing CSV rows in chunks: executor.map(hash_rows, chunks)

isolates' pool imports this module in every worker (samples/workloads.cpp). Run as a program, it
times one round of every workload on one model of this CPython and prints JSON on stdout:

  python workloads.py --model threads|interpreterpool|processpool --workers 1,2 \
      --count N --hashes N --rows N --chunk N

  {"count": {"1": seconds, "2": seconds}, "sha256": {...}, "csv": {...}}

`threads` is a ThreadPoolExecutor: threads sharing one GIL on a GIL build, threads running in
parallel on a free-threaded build. Pools are created and warmed before the clock starts.
"""
import hashlib

TASKS = 4
DATA = b"isolates: the quick brown fox jumps over the lazy dog"


def count(n):
    i = 0
    while i < n:
        i += 1
    return i


def hash_many(n):
    digest = ""
    for _ in range(n):
        digest = hashlib.sha256(DATA).hexdigest()
    return digest


def csv_chunks(rows, chunk):
    """A deterministic CSV file of `rows` lines, split into tuples of `chunk` lines."""
    lines = [f"{i},user{i},{i * 7919 % 10007},{i % 97}.{i % 13:02d},2026-12-{i % 28 + 1:02d}"
             for i in range(rows)]
    return [tuple(lines[k:k + chunk]) for k in range(0, rows, chunk)]


def hash_rows(rows):
    return [hashlib.sha256(row.encode()).hexdigest() for row in rows]


def _time_workloads(pool, args, chunks):
    import time
    seconds = {}
    start = time.perf_counter()
    for f in [pool.submit(count, args.count) for _ in range(TASKS)]:
        f.result()
    seconds["count"] = time.perf_counter() - start
    start = time.perf_counter()
    for f in [pool.submit(hash_many, args.hashes) for _ in range(TASKS)]:
        f.result()
    seconds["sha256"] = time.perf_counter() - start
    start = time.perf_counter()
    hashed = sum(len(digests) for digests in pool.map(hash_rows, chunks))
    seconds["csv"] = time.perf_counter() - start
    if hashed != args.rows:
        raise SystemExit(f"csv: {hashed} digests for {args.rows} rows")
    return seconds


def _main():
    import argparse
    import concurrent.futures as cf
    import json
    import sys
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True,
                        choices=["threads", "interpreterpool", "processpool"])
    parser.add_argument("--workers", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--hashes", type=int, required=True)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--chunk", type=int, required=True)
    args = parser.parse_args()
    kind = {"threads": cf.ThreadPoolExecutor, "processpool": cf.ProcessPoolExecutor,
            "interpreterpool": getattr(cf, "InterpreterPoolExecutor", None)}[args.model]
    if kind is None:
        sys.exit(f"Python {sys.version.split()[0]} has no InterpreterPoolExecutor")
    chunks = csv_chunks(args.rows, args.chunk)
    out = {}
    for workers in [int(w) for w in args.workers.split(",")]:
        with kind(max_workers=workers) as pool:
            # Start every worker first (process pools start lazily).
            list(pool.map(count, [1000] * (4 * workers)))
            for workload, seconds in _time_workloads(pool, args, chunks).items():
                out.setdefault(workload, {})[str(workers)] = seconds
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    _main()
