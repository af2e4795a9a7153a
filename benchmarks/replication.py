"""Replication benchmarks: pyredis and redis-server 7.0.15 in each role, on the same machine.

    uv run python benchmarks/replication.py [--keys 1000000] [--requests 200000] [--markdown]

Reports:
  1. Full sync of N keys (DEBUG POPULATE on the master): seconds from REPLICAOF on the replica
     until its link is up with all N keys, for each pairing master -> replica (redis -> redis
     is the reference), diskless and disk-based transfer.
  2. Replication lag under load: `redis-benchmark -t set -P 16 -c 50 -n R` against the master
     with one replica attached; the master's requests/s, the largest lag seen (the master's
     offset minus the offset the replica has applied, read just after it; bytes, sampled every
     50 ms) and the seconds the replica needs after the load to apply everything.
Masters are pinned to CPU 0, replicas and clients to CPU 1 (taskset, when available).
Loopback only; every server is started on a free port and stopped at the end.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _servers import ServerProc  # noqa: E402

import redis  # noqa: E402

ARGV = {"redis": ["redis-server"], "pyredis": [sys.executable, "-m", "pyredis"]}
PAIRS = [("redis", "redis"), ("pyredis", "redis"), ("redis", "pyredis"), ("pyredis", "pyredis")]


def server(kind: str, cpu: int, *extra: str) -> ServerProc:
    return ServerProc(kind, [*ARGV[kind], "--enable-debug-command", "yes", "--repl-diskless-sync-delay", "0",
                             *extra], cpu)


def wait(fn, timeout: float, interval: float = 0.02):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            v = fn()
            if v:
                return v
        except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError):
            pass
        time.sleep(interval)
    raise RuntimeError("timed out")


def full_sync(mk: str, sk: str, keys: int, diskless: bool) -> float:
    m = server(mk, 0, "--repl-diskless-sync", "yes" if diskless else "no")
    s = server(sk, 1)
    try:
        rm = redis.Redis(port=m.port, socket_timeout=600)
        rs = redis.Redis(port=s.port, socket_timeout=600)
        rm.execute_command("DEBUG", "POPULATE", keys, "key", 16)
        t0 = time.perf_counter()
        rs.replicaof("127.0.0.1", m.port)
        wait(lambda: rs.info("replication")["master_link_status"] == "up" and rs.dbsize() == keys, 3600)
        return time.perf_counter() - t0
    finally:
        s.stop()
        m.stop()


def lag(mk: str, sk: str, requests: int) -> tuple[float, int, float]:
    m = server(mk, 0)
    s = server(sk, 1)
    try:
        rm = redis.Redis(port=m.port, socket_timeout=60)
        rs = redis.Redis(port=s.port, socket_timeout=60)
        rs.replicaof("127.0.0.1", m.port)
        wait(lambda: rs.info("replication")["master_link_status"] == "up", 60)
        worst = [0]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                try:
                    mo = rm.info("replication")["master_repl_offset"]
                    ro = rs.info("replication")["slave_repl_offset"]
                    worst[0] = max(worst[0], mo - ro)
                except redis.RedisError:
                    pass
                time.sleep(0.05)

        t = threading.Thread(target=sample, daemon=True)
        t.start()
        cmd = ["redis-benchmark", "-p", str(m.port), "-t", "set", "-P", "16", "-c", "50", "-n", str(requests),
               "-q", "--csv"]
        if subprocess.run(["which", "taskset"], capture_output=True).returncode == 0:
            cmd = ["taskset", "-c", "1", *cmd]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        end = time.perf_counter()
        rps = float([ln for ln in out.splitlines() if ln.startswith('"SET"')][0].split(",")[1].strip('"'))

        final = rm.info("replication")["master_repl_offset"]
        wait(lambda: rs.info("replication")["slave_repl_offset"] >= final, 600, 0.01)
        catch_up = time.perf_counter() - end
        done.set()
        t.join()
        return rps, worst[0], catch_up
    finally:
        s.stop()
        m.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--requests", type=int, default=200_000)
    ap.add_argument("--markdown", action="store_true")
    a = ap.parse_args()
    print(f"Full sync of {a.keys:,} keys (seconds from REPLICAOF to link up with every key)\n")
    print("| master -> replica | diskless | disk |")
    print("|---|---:|---:|")
    for mk, sk in PAIRS:
        row = [full_sync(mk, sk, a.keys, d) for d in (True, False)]
        print(f"| {mk} -> {sk} | {row[0]:.1f} | {row[1]:.1f} |", flush=True)
    print(f"\nReplication under redis-benchmark -t set -P 16 -c 50 -n {a.requests:,}\n")
    print("| master -> replica | master SET/s | worst lag (bytes) | caught up after the load (s) |")
    print("|---|---:|---:|---:|")
    for mk, sk in PAIRS:
        rps, worst, catch = lag(mk, sk, a.requests)
        print(f"| {mk} -> {sk} | {rps:,.0f} | {worst:,} | {catch:.2f} |", flush=True)


if __name__ == "__main__":
    main()
