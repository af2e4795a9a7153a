"""pyredis as a cache, next to redis-server: maxmemory with allkeys-lru / allkeys-lfu under a
Zipf-distributed read/write workload over a key space ten times what the limit holds.

    uv run python benchmarks/cache.py [--maxmemory 64mb] [--policies allkeys-lru,allkeys-lfu]
                                      [--requests 3000000] [--zipf 0.99] [--markdown]

For each policy both servers start empty with `--maxmemory M --maxmemory-policy P` (plus
`--save "" --appendonly no`), pinned to CPU 0; the load generator (this process) runs on
CPU 1. The workload is cache-aside: GET a key drawn from a Zipf distribution (exponent
--zipf) over K keys; on a miss, SET it (a --value-size byte value) in the next pipeline.
K is --keyspace-factor (10) times the number of such keys the limit holds. Both servers get
the same sequence of GETs (same seed); batches of --pipeline GETs.

Reported per server: the hit ratio (over the whole run, and over its second half, once the
cache is warm), evicted_keys, the largest used_memory seen (INFO polled every 100 ms from a
second connection) against maxmemory, throughput (requests/s as the client saw it) and the
server's CPU time per command (utime+stime from /proc), and pyredis's throughput relative to
redis-server's. The Python load generator is slower than redis-server, so the throughput
ratio understates Redis's lead; the CPU column does not.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import random
import shutil
import socket
import sys
import threading
import time

import hiredis

from _servers import ServerProc, add_server_args, print_table

sys.path.insert(0, __file__.rsplit("/benchmarks/", 1)[0] + "/src")
from pyredis.config import parse_memory  # noqa: E402
from pyredis.keyspace.memsize import BUCKET, ENTRY, key_size, string_size  # noqa: E402


def encode(args) -> bytes:
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


class Conn:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.reader = hiredis.Reader()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def replies(self, n: int) -> list:
        out = []
        while len(out) < n:
            r = self.reader.gets()
            if r is False:
                d = self.sock.recv(1 << 20)
                if not d:
                    raise ConnectionError("closed")
                self.reader.feed(d)
                continue
            out.append(r)
        return out

    def call(self, *args: bytes):
        self.send(encode(args))
        return self.replies(1)[0]

    def info(self) -> dict[str, str]:
        text = self.call(b"INFO", b"everything").decode()
        return {line.split(":", 1)[0]: line.split(":", 1)[1] for line in text.split("\r\n") if ":" in line}

    def close(self) -> None:
        self.sock.close()


def zipf_sequence(n_keys: int, n: int, s: float, seed: int) -> list[int]:
    """n draws of key ids 0..n_keys-1, rank r with probability proportional to 1/r^s; ranks are
    mapped to ids by a random permutation."""
    rnd = random.Random(seed)
    cum = list(itertools.accumulate(1.0 / (r + 1) ** s for r in range(n_keys)))
    total = cum[-1]
    perm = list(range(n_keys))
    rnd.shuffle(perm)
    rand = rnd.random
    bis = bisect.bisect
    hi = n_keys - 1
    return [perm[bis(cum, rand() * total, 0, hi)] for _ in range(n)]


class Monitor(threading.Thread):
    """Polls used_memory every 100 ms; keeps the largest value."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.conn = Conn(port)
        self.peak = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            used = int(self.conn.info()["used_memory"])
            self.peak = max(self.peak, used)
            self.stop.wait(0.1)
        self.conn.close()


def run_workload(srv: ServerProc, seq: list[int], value: bytes, pipeline: int) -> dict:
    conn = Conn(srv.port)
    mon = Monitor(srv.port)
    mon.start()
    keys = [b"key:%d" % i for i in range(max(seq) + 1)]
    hits = half_hits = commands = 0
    half = len(seq) // 2
    pending_sets: list[bytes] = []
    cpu0 = srv.cpu_seconds()
    t0 = time.perf_counter()
    for start in range(0, len(seq), pipeline):
        batch = seq[start:start + pipeline]
        out = [encode((b"SET", k, value)) for k in pending_sets]
        out += [encode((b"GET", keys[i])) for i in batch]
        conn.send(b"".join(out))
        replies = conn.replies(len(pending_sets) + len(batch))
        commands += len(replies)
        gets = replies[len(pending_sets):]
        pending_sets = []
        for j, (i, r) in enumerate(zip(batch, gets)):
            if r is None:
                pending_sets.append(keys[i])
            else:
                hits += 1
                if start + j >= half:
                    half_hits += 1
    if pending_sets:
        conn.send(b"".join(encode((b"SET", k, value)) for k in pending_sets))
        commands += len(conn.replies(len(pending_sets)))
    elapsed = time.perf_counter() - t0
    cpu = srv.cpu_seconds() - cpu0
    mon.stop.set()
    mon.join()
    info = conn.info()
    conn.close()
    return {"hit": hits / len(seq), "hit2": half_hits / (len(seq) - half), "evicted": int(info["evicted_keys"]),
            "peak": max(mon.peak, int(info["used_memory"])), "final": int(info["used_memory"]),
            "keys": int(info.get("db0", "keys=0,").split(",")[0].split("=")[1]) if "db0" in info else 0,
            "rps": len(seq) / elapsed, "cpu_us": cpu * 1e6 / commands, "secs": elapsed}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--maxmemory", default="64mb")
    ap.add_argument("--policies", default="allkeys-lru,allkeys-lfu")
    ap.add_argument("--requests", "-n", type=int, default=3_000_000)
    ap.add_argument("--keyspace-factor", type=float, default=10.0)
    ap.add_argument("--value-size", type=int, default=100)
    ap.add_argument("--zipf", type=float, default=0.99)
    ap.add_argument("--pipeline", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    add_server_args(ap)
    args = ap.parse_args(argv)
    limit = parse_memory(args.maxmemory)
    value = b"v" * args.value_size
    per_key = key_size(b"key:1000000") + string_size(value) + ENTRY + 2 * BUCKET
    n_keys = int(args.keyspace_factor * limit / per_key)
    if not args.no_pin and shutil.which("taskset"):
        import os

        os.sched_setaffinity(0, {1})
    print(f"key space {n_keys:,} keys (~{per_key} bytes each in Redis: {args.keyspace_factor:g}x what "
          f"{args.maxmemory} holds), {args.requests:,} GETs, zipf s={args.zipf}", file=sys.stderr)
    seq = zipf_sequence(n_keys, args.requests, args.zipf, args.seed)
    rows = []
    for policy in args.policies.split(","):
        res = {}
        for name, argv0 in (("redis", [args.redis_server]), ("pyredis", [args.python, "-m", "pyredis"])):
            srv = ServerProc(name, [*argv0, "--maxmemory", args.maxmemory, "--maxmemory-policy", policy],
                             None if args.no_pin else 0)
            try:
                res[name] = run_workload(srv, seq, value, args.pipeline)
            finally:
                srv.stop()
            r = res[name]
            print(f"{policy} {name}: hit {r['hit']:.4f} (2nd half {r['hit2']:.4f}), peak used {r['peak']:,} "
                  f"({(r['peak'] / limit - 1) * 100:+.2f}% of maxmemory), {r['rps']:,.0f} req/s, "
                  f"{r['cpu_us']:.2f} us CPU/cmd, {r['secs']:.0f} s", file=sys.stderr, flush=True)
        for name in ("redis", "pyredis"):
            r = res[name]
            rows.append([policy, name, f"{r['hit'] * 100:.2f}%", f"{r['hit2'] * 100:.2f}%", f"{r['evicted']:,}",
                         f"{r['keys']:,}", f"{r['peak']:,}", f"{(r['peak'] / limit - 1) * 100:+.2f}%",
                         f"{r['rps']:,.0f}", f"{r['cpu_us']:.2f}"])
        rows.append([policy, "pyredis - redis", f"{(res['pyredis']['hit'] - res['redis']['hit']) * 100:+.2f} pts",
                     f"{(res['pyredis']['hit2'] - res['redis']['hit2']) * 100:+.2f} pts", "", "", "", "",
                     f"x{res['pyredis']['rps'] / res['redis']['rps']:.2f}",
                     f"x{res['pyredis']['cpu_us'] / res['redis']['cpu_us']:.2f}"])
    header = ["policy", "server", "hit ratio", "hit ratio (2nd half)", "evicted keys", "keys at end",
              "peak used_memory", "peak vs maxmemory", "requests/s", "CPU us/command"]
    print_table(header, rows, args.markdown, 2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
