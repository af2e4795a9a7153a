"""How sorted-set operations scale with the size of the set: ZADD, ZRANK and
ZRANGE BYSCORE LIMIT at 10k, 100k and 1M members (a benchmark, not a test).

The commands run in-process through the dispatcher (pyredis.core.dispatch.execute), so the
numbers are the cost of the command itself (parsing, the SortedList index, the reply
values) without sockets or RESP encoding. With O(log n) operations the time per call grows
by a small constant when the set grows tenfold (plus cache misses: a 1M-member set does not
fit the CPU caches); an O(n) operation would grow tenfold. Each figure is the best of 5
rounds, as the machine may be shared.

    uv run python benchmarks/zset_scaling.py                    # 10k, 100k, 1M
    uv run python benchmarks/zset_scaling.py --sizes 10000,100000 --ops 20000
    uv run python benchmarks/zset_scaling.py --redis            # also redis-server over a socket

With --redis the same commands are also sent, pipelined in batches of 1000, to pyredis and
to redis-server started on free loopback ports (both stopped at the end): µs per command
including the network and protocol, for reference.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

import pyredis.commands  # noqa: E402,F401  (registers every command)
from pyredis.core.client import Client  # noqa: E402
from pyredis.core.dispatch import execute  # noqa: E402
from pyredis.core.state import ServerState  # noqa: E402

FILL_BATCH = 1000
ROUNDS = 5


def _fill_argvs(n: int, rng: random.Random) -> list[list[bytes]]:
    out = []
    for start in range(0, n, FILL_BATCH):
        argv = [b"ZADD", b"z"]
        for i in range(start, min(n, start + FILL_BATCH)):
            argv.append(repr(rng.random() * n).encode())
            argv.append(b"m%d" % i)
        out.append(argv)
    return out


def _workloads(n: int, ops: int, rng: random.Random) -> dict[str, list[list[bytes]]]:
    adds = [[b"ZADD", b"z", repr(rng.random() * n).encode(), b"new%d" % i] for i in range(ops)]
    ranks = [[b"ZRANK", b"z", b"m%d" % rng.randrange(n)] for _ in range(ops)]
    ranges = []
    for _ in range(ops):
        lo = rng.random() * n
        ranges.append([b"ZRANGE", b"z", repr(lo).encode(), b"+inf", b"BYSCORE", b"LIMIT", b"0", b"10"])
    return {"ZADD": adds, "ZRANK": ranks, "ZRANGE BYSCORE LIMIT 0 10": ranges}


def run_inprocess(sizes: list[int], ops: int) -> dict[tuple[str, int], float]:
    results = {}
    for n in sizes:
        rng = random.Random(n)
        state = ServerState()
        c = Client(state)
        t0 = time.perf_counter()
        for argv in _fill_argvs(n, rng):
            execute(c, argv)
        fill = time.perf_counter() - t0
        print(f"  n={n:>9,}: filled in {fill:.1f}s", file=sys.stderr)
        for name, argvs in _workloads(n, ops, rng).items():
            # The best of ROUNDS rounds: the machine is shared, the minimum is the least noisy.
            per = max(1, len(argvs) // ROUNDS)
            best = float("inf")
            for r in range(ROUNDS):
                chunk = argvs[r * per:(r + 1) * per]
                t0 = time.perf_counter()
                for argv in chunk:
                    execute(c, argv)
                best = min(best, (time.perf_counter() - t0) / len(chunk))
            results[(name, n)] = best * 1e6
            if name == "ZADD":  # back to n members for the following workloads
                for argv in argvs:
                    execute(c, [b"ZREM", b"z", argv[3]])
    return results


def run_socket(sizes: list[int], ops: int) -> dict[tuple[str, str, int], float]:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import redis
    from _servers import ServerProc

    servers = [("redis", ServerProc("redis", ["redis-server"], None)),
               ("pyredis", ServerProc("pyredis", [sys.executable, "-m", "pyredis"], None))]
    results = {}
    try:
        for label, srv in servers:
            r = redis.Redis(host="127.0.0.1", port=srv.port)
            for n in sizes:
                rng = random.Random(n)
                r.flushall()
                for argv in _fill_argvs(n, rng):
                    r.execute_command(*argv)
                for name, argvs in _workloads(n, ops, rng).items():
                    t0 = time.perf_counter()
                    for i in range(0, len(argvs), 1000):
                        p = r.pipeline(transaction=False)
                        for argv in argvs[i:i + 1000]:
                            p.execute_command(*argv)
                        p.execute()
                    results[(label, name, n)] = (time.perf_counter() - t0) / len(argvs) * 1e6
            r.close()
    finally:
        for _, srv in servers:
            srv.stop()
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--ops", type=int, default=20000, help="calls timed per command and size")
    ap.add_argument("--redis", action="store_true", help="also time pyredis and redis-server over sockets")
    args = ap.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]

    res = run_inprocess(sizes, args.ops)
    names = sorted({k[0] for k in res}, key=["ZADD", "ZRANK", "ZRANGE BYSCORE LIMIT 0 10"].index)
    print("\nIn-process, µs per call (and growth versus the previous size):")
    print(f"{'command':<28}" + "".join(f"{n:>18,}" for n in sizes))
    for name in names:
        row = f"{name:<28}"
        prev = None
        for n in sizes:
            v = res[(name, n)]
            row += f"{v:>10.2f}" + (f" (x{v / prev:4.2f})" if prev else " " * 8)
            prev = v
        print(row)

    if args.redis:
        sres = run_socket(sizes, args.ops)
        print("\nOver a socket, pipelined by 1000, µs per command:")
        print(f"{'command':<28}{'server':<9}" + "".join(f"{n:>12,}" for n in sizes))
        for name in names:
            for label in ("redis", "pyredis"):
                print(f"{name:<28}{label:<9}" + "".join(f"{sres[(label, name, n)]:>12.2f}" for n in sizes))


if __name__ == "__main__":
    main()
