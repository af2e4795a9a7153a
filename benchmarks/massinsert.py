"""Mass insertion (what `redis-cli --pipe` does): one connection streams N SETs without waiting.

    uv run python benchmarks/massinsert.py [--keys 500000] [--repeats 3]

Measures, for pyredis and redis-server (both pinned to CPU 0 like compare.py), the wall time
until the last +OK arrived and the server's CPU time (utime+stime) for the whole stream.
This is the case where requests straddle socket reads all the time.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import threading
import time

from _servers import start_pair


def stream(port: int, data: bytes, n: int) -> float:
    s = socket.create_connection(("127.0.0.1", port))
    t = time.perf_counter()
    sender = threading.Thread(target=s.sendall, args=(data,))
    sender.start()
    want, got = 5 * n, 0  # "+OK\r\n" per SET
    while got < want:
        d = s.recv(1 << 20)
        if not d:
            raise ConnectionError("closed")
        got += len(d)
    sender.join()
    s.close()
    return time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keys", "-n", type=int, default=500_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--redis-server", default="redis-server")
    args = ap.parse_args(argv)
    data = b"".join(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$10\r\nvvvvvvvvvv\r\n" % (len(k), k)
                    for k in (b"key:%d" % i for i in range(args.keys)))
    redis, ours = start_pair(args.python, args.redis_server, 0)
    res: dict[str, list[tuple[float, float]]] = {"redis": [], "pyredis": []}
    try:
        for _ in range(args.repeats):
            for srv in (redis, ours):
                c0 = srv.cpu_seconds()
                wall = stream(srv.port, data, args.keys)
                res[srv.name].append((wall, srv.cpu_seconds() - c0))
    finally:
        redis.stop()
        ours.stop()
    print("| server | SETs | wall s (median) | server CPU s (median) | CPU µs/SET |")
    print("|---|---:|---:|---:|---:|")
    for name in ("redis", "pyredis"):
        wall = statistics.median(x[0] for x in res[name])
        cpu = statistics.median(x[1] for x in res[name])
        print(f"| {name} | {args.keys:,} | {wall:.2f} | {cpu:.2f} | {cpu * 1e6 / args.keys:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
