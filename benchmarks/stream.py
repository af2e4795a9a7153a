"""Stream throughput: XADD and XREADGROUP with redis-benchmark, pyredis next to redis-server.

Both servers pinned to CPU 0 (taskset), redis-benchmark to CPU 1. For each repeat and pipeline
depth: FLUSHALL, `XADD mystream * field value` N times, then `XGROUP CREATE mystream g 0` and
`XREADGROUP GROUP g c COUNT 1 STREAMS mystream >` N times (every read delivers one entry and
adds it to the pending list). Prints requests/s of each server (median over repeats), the
ratio pyredis/redis (higher is better for pyredis) and the server CPU µs per request.

    uv run python benchmarks/stream.py                      # -n 100000, P=1 and P=16, 3 repeats
    uv run python benchmarks/stream.py -n 50000 --pipeline 1 --repeats 1 --markdown
"""

from __future__ import annotations

import argparse
import csv
import io
import shutil
import socket
import statistics
import subprocess
import sys
import os

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _servers import start_pair  # noqa: E402


def call(port: int, *args: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            b = a.encode()
            out.append(b"$%d\r\n%s\r\n" % (len(b), b))
        s.sendall(b"".join(out))
        return s.recv(4096)


def bench(port: int, n: int, clients: int, pipeline: int, cmd: list[str], pin: bool) -> float:
    argv = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-c", str(clients), "-n", str(n), "-q", "--csv"]
    if pipeline > 1:
        argv += ["-P", str(pipeline)]
    argv += cmd
    if pin and shutil.which("taskset"):
        argv = ["taskset", "-c", "1", *argv]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=True).stdout
    rows = [r for r in csv.reader(io.StringIO(out)) if r and r[0] != "test"]
    return float(rows[-1][1])


TESTS = {
    "XADD": ["XADD", "mystream", "*", "field", "value"],
    "XREADGROUP": ["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "mystream", ">"],
}


def run_once(srv, n: int, clients: int, pipeline: int, pin: bool) -> dict[str, tuple[float, float]]:
    """{test: (requests/s, cpu µs per request)}"""
    out = {}
    call(srv.port, "FLUSHALL")
    for name, cmd in TESTS.items():
        if name == "XREADGROUP":
            call(srv.port, "XGROUP", "CREATE", "mystream", "g", "0")
        c0 = srv.cpu_seconds()
        rps = bench(srv.port, n, clients, pipeline, cmd, pin)
        out[name] = (rps, (srv.cpu_seconds() - c0) * 1e6 / n)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", "--requests", type=int, default=100000)
    ap.add_argument("-c", "--clients", type=int, default=50)
    ap.add_argument("--pipeline", default="1,16")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--redis-server", default="redis-server")
    ap.add_argument("--no-pin", action="store_true")
    a = ap.parse_args()
    pin = not a.no_pin
    redis, ours = start_pair(a.python, a.redis_server, cpu=0 if pin else None)
    rows = []
    try:
        for p in [int(x) for x in a.pipeline.split(",")]:
            res = {"redis": {t: [] for t in TESTS}, "pyredis": {t: [] for t in TESTS}}
            for i in range(a.repeats):
                order = [(redis, "redis"), (ours, "pyredis")]
                if i % 2:
                    order.reverse()
                for srv, name in order:
                    for t, v in run_once(srv, a.requests, a.clients, p, pin).items():
                        res[name][t].append(v)
            for t in TESTS:
                rr = statistics.median(x[0] for x in res["redis"][t])
                pr = statistics.median(x[0] for x in res["pyredis"][t])
                rc = statistics.median(x[1] for x in res["redis"][t])
                pc = statistics.median(x[1] for x in res["pyredis"][t])
                rows.append((t, p, rr, pr, pr / rr, rc, pc))
    finally:
        redis.stop()
        ours.stop()
    head = ("test", "P", "redis rps", "pyredis rps", "ratio", "redis µs/req", "pyredis µs/req")
    if a.markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for t, p, rr, pr, ratio, rc, pc in rows:
            print(f"| {t} | {p} | {rr:.0f} | {pr:.0f} | {ratio:.2f} | {rc:.1f} | {pc:.1f} |")
    else:
        print("%-11s %3s %12s %12s %6s %13s %15s" % head)
        for t, p, rr, pr, ratio, rc, pc in rows:
            print(f"{t:<11} {p:>3} {rr:>12.0f} {pr:>12.0f} {ratio:>6.2f} {rc:>13.1f} {pc:>15.1f}")


if __name__ == "__main__":
    main()
