"""ProcessPoolExecutor's hashlib.sha256 speedup, the reference of openssl_bench.

usage: sha256_processpool.py --hashes H --repeat R
Times 4 tasks of reference.hash_many(H) on 1 and on 2 worker processes, alternating, R times,
and prints {"sha256_s_1w.processpool": .., "sha256_s_2w.processpool": .., "sha256_speedup_2w.processpool": ..}
(medians) as JSON on stdout.
"""
import argparse
import concurrent.futures as cf
import json
import statistics
import sys

from reference import cpu_seconds, hash_many, warm


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--hashes", type=int, required=True)
    parser.add_argument("--repeat", type=int, required=True)
    args = parser.parse_args()
    runs = {1: [], 2: []}
    with cf.ProcessPoolExecutor(max_workers=1) as one, cf.ProcessPoolExecutor(max_workers=2) as two:
        warm(one, 1)
        warm(two, 2)
        for _ in range(args.repeat):
            runs[1].append(cpu_seconds(one, hash_many, args.hashes))
            runs[2].append(cpu_seconds(two, hash_many, args.hashes))
    out = {f"sha256_s_{w}w.processpool": statistics.median(runs[w]) for w in (1, 2)}
    out["sha256_speedup_2w.processpool"] = out["sha256_s_1w.processpool"] / out["sha256_s_2w.processpool"]
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
