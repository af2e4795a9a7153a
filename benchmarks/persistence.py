"""Persistence benchmarks, pyredis next to redis-server on the same machine and files.

    uv run python benchmarks/persistence.py [--keys 1000000] [--requests 100000] [--repeats 1]
                                            [--parts load,fsync,stall] [--markdown]

Reports:
  1. AOF load time for N keys: redis-server writes an AOF (appendonly yes, N SETs), then both
     servers start on copies of that same data folder; time until PING answers.
  2. SET requests/s with appendfsync everysec and always (redis-benchmark -t set -c 50).
  3. The longest stall a client sees during BGREWRITEAOF of N keys: one client PINGs in a loop
     while the rewrite runs; the worst round-trip is reported.
Servers are pinned to CPU 0 and clients to CPU 1 with taskset when available. Loopback only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PYREDIS = [sys.executable, "-m", "pyredis"]
REDIS = ["redis-server"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pin(cmd: list[str], cpu: int) -> list[str]:
    return ["taskset", "-c", str(cpu), *cmd] if shutil.which("taskset") else cmd


def start(kind: str, data_dir: str, *extra: str) -> tuple[subprocess.Popen, int, float]:
    port = free_port()
    base = PYREDIS if kind == "pyredis" else REDIS
    cmd = pin([*base, "--port", str(port), "--bind", "127.0.0.1", "--dir", data_dir, "--save", "", *extra], 0)
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(64).startswith(b"+PONG"):
                    return p, port, time.perf_counter() - t0
        except OSError:
            pass
        if p.poll() is not None:
            raise RuntimeError(f"{kind} exited with {p.returncode}")
        time.sleep(0.01)


def stop(p: subprocess.Popen) -> None:
    p.terminate()
    try:
        p.wait(60)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def fill(port: int, keys: int) -> None:
    subprocess.run(pin(["redis-benchmark", "-p", str(port), "-t", "set", "-n", str(keys), "-r", str(keys * 10),
                        "-P", "64", "-q", "-d", "16"], 1), stdout=subprocess.DEVNULL, check=True)
    # -r draws random keys: top up with deterministic ones so exactly `keys` keys exist
    import redis

    r = redis.Redis(port=port)
    have = r.dbsize()
    pipe = r.pipeline(transaction=False)
    i = 0
    while have < keys:
        pipe.set(f"fill:{i}", "x" * 16)
        i += 1
        have += 1
        if i % 10000 == 0:
            pipe.execute()
    pipe.execute()
    r.close()


def aof_load(keys: int, repeats: int = 1) -> dict[str, float]:
    src = tempfile.mkdtemp(prefix="bench-aof-src-")
    p, port, _ = start("redis", src, "--appendonly", "yes", "--aof-use-rdb-preamble", "no")
    fill(port, keys)
    stop(p)
    times: dict[str, list[float]] = {"redis": [], "pyredis": []}
    for _ in range(repeats):  # alternating, the median of each
        for kind in ("redis", "pyredis"):
            d = tempfile.mkdtemp(prefix=f"bench-aof-{kind}-")
            shutil.copytree(src, d, dirs_exist_ok=True)
            p, port, elapsed = start(kind, d, "--appendonly", "yes")
            import redis

            n = redis.Redis(port=port).dbsize()
            stop(p)
            shutil.rmtree(d, ignore_errors=True)
            if n != keys:
                raise RuntimeError(f"{kind} loaded {n} keys, expected {keys}")
            times[kind].append(elapsed)
    shutil.rmtree(src, ignore_errors=True)
    import statistics

    return {k: statistics.median(v) for k, v in times.items()}


def set_rps(requests: int, fsync: str, pipeline: int) -> dict[str, float]:
    out = {}
    for kind in ("redis", "pyredis"):
        d = tempfile.mkdtemp(prefix=f"bench-fsync-{kind}-")
        p, port, _ = start(kind, d, "--appendonly", "yes", "--appendfsync", fsync)
        res = subprocess.run(pin(["redis-benchmark", "-p", str(port), "-t", "set", "-n", str(requests), "-c", "50",
                                  "-P", str(pipeline), "-q", "--csv"], 1), capture_output=True, text=True, check=True)
        line = [x for x in res.stdout.splitlines() if x.startswith('"SET"')][0]
        out[kind] = float(line.split(",")[1].strip('"'))
        stop(p)
        shutil.rmtree(d, ignore_errors=True)
    return out


def rewrite_stall(keys: int) -> dict[str, float]:
    import redis

    out = {}
    for kind in ("redis", "pyredis"):
        d = tempfile.mkdtemp(prefix=f"bench-stall-{kind}-")
        p, port, _ = start(kind, d, "--appendonly", "yes")
        fill(port, keys)
        r = redis.Redis(port=port)
        pinger = redis.Redis(port=port)
        r.bgrewriteaof()
        worst = 0.0
        t_end = time.time() + 300
        while time.time() < t_end:
            t0 = time.perf_counter()
            pinger.ping()
            worst = max(worst, time.perf_counter() - t0)
            info = r.info("persistence")
            if not info["aof_rewrite_in_progress"] and not info["aof_rewrite_scheduled"] and info["aof_rewrites"]:
                break
        out[kind] = worst * 1000
        r.close()
        pinger.close()
        stop(p)
        shutil.rmtree(d, ignore_errors=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--requests", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=1, help="AOF loads per server (median)")
    ap.add_argument("--parts", default="load,fsync,stall", help="which measurements (comma-separated)")
    ap.add_argument("--markdown", action="store_true")
    a = ap.parse_args()
    parts = set(a.parts.split(","))
    rows = []
    if "load" in parts:
        t = aof_load(a.keys, a.repeats)
        rows.append((f"AOF load, {a.keys} keys (s)", t["redis"], t["pyredis"]))
    if "fsync" in parts:
        for fsync in ("everysec", "always"):
            for pl in (1, 16):
                t = set_rps(a.requests, fsync, pl)
                rows.append((f"SET rps, appendfsync {fsync}, -P {pl}", t["redis"], t["pyredis"]))
    if "stall" in parts:
        t = rewrite_stall(a.keys)
        rows.append((f"longest PING stall during BGREWRITEAOF, {a.keys} keys (ms)", t["redis"], t["pyredis"]))
    if a.markdown:
        print("| measurement | redis-server | pyredis | pyredis/redis |\n|---|---:|---:|---:|")
        for name, rv, pv in rows:
            print(f"| {name} | {rv:,.2f} | {pv:,.2f} | {pv / rv:.2f} |")
    else:
        for name, rv, pv in rows:
            print(f"{name:60s} redis={rv:12,.2f} pyredis={pv:12,.2f} ratio={pv / rv:.2f}")


if __name__ == "__main__":
    main()
