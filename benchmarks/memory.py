"""Memory per key: RSS growth of pyredis and redis-server after loading N small string keys.

    uv run python benchmarks/memory.py [--keys 1000000] [--value-size 10] [--markdown]

Each server starts empty (`--save "" --appendonly no`, loopback, pinned to CPU 0). The keys
`key:0 .. key:N-1` are written with pipelined SETs (batches of 1000 over one connection),
then RSS is read from /proc/PID/status. Reported: RSS before and after, the growth per key,
and INFO's used_memory growth per key where the server reports it.
"""

from __future__ import annotations

import argparse
import socket
import sys
import time

from _servers import ServerProc, start_pair


def read_replies(sock: socket.socket, n: int, buf: bytearray) -> None:
    """Consume n one-line replies (+OK / :n); raise on an error reply."""
    while True:
        count = buf.count(b"\r\n")
        if count >= n:
            lines = bytes(buf).split(b"\r\n", n)
            if any(line.startswith(b"-") for line in lines[:n]):
                raise RuntimeError(f"error reply: {lines[:n]!r:.200}")
            del buf[: len(buf) - len(lines[n])]
            return
        d = sock.recv(1 << 20)
        if not d:
            raise ConnectionError("server closed the connection")
        buf += d


def load(port: int, keys: int, value: bytes, batch: int = 1000) -> None:
    s = socket.create_connection(("127.0.0.1", port))
    buf = bytearray()
    vhdr = b"$%d\r\n" % len(value)
    for start in range(0, keys, batch):
        parts = []
        end = min(keys, start + batch)
        for i in range(start, end):
            k = b"key:%d" % i
            parts.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n%s%s\r\n" % (len(k), k, vhdr, value))
        s.sendall(b"".join(parts))
        read_replies(s, end - start, buf)
    s.close()


def command(port: int, *args: bytes) -> bytes:
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
    out = b""
    s.settimeout(2)
    while True:
        d = s.recv(1 << 16)
        out += d
        if not d or (out.startswith((b"+", b"-", b":")) and out.endswith(b"\r\n")):
            break
        if out.startswith(b"$"):
            n = int(out[1 : out.index(b"\r\n")])
            if len(out) >= out.index(b"\r\n") + 2 + n + 2:
                break
    s.close()
    return out


def used_memory(port: int) -> int | None:
    info = command(port, b"INFO", b"memory")
    for line in info.split(b"\r\n"):
        if line.startswith(b"used_memory:"):
            return int(line.split(b":")[1])
    return None


def measure(srv: ServerProc, keys: int, value: bytes) -> dict:
    time.sleep(0.2)
    rss0, used0 = srv.rss_bytes(), used_memory(srv.port)
    t = time.perf_counter()
    load(srv.port, keys, value)
    secs = time.perf_counter() - t
    time.sleep(0.5)
    rss1, used1 = srv.rss_bytes(), used_memory(srv.port)
    dbsize = int(command(srv.port, b"DBSIZE")[1:].strip())
    assert dbsize == keys, (srv.name, dbsize)
    return {"rss0": rss0, "rss1": rss1, "per_key": (rss1 - rss0) / keys, "load_s": secs,
            "used_per_key": (used1 - used0) / keys if used0 is not None and used1 is not None else None}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keys", "-n", type=int, default=1_000_000)
    ap.add_argument("--value-size", type=int, default=10)
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--redis-server", default="redis-server")
    ap.add_argument("--no-pin", action="store_true")
    args = ap.parse_args(argv)
    value = b"v" * args.value_size
    redis, ours = start_pair(args.python, args.redis_server, None if args.no_pin else 0)
    try:
        res = {"redis": measure(redis, args.keys, value), "pyredis": measure(ours, args.keys, value)}
    finally:
        redis.stop()
        ours.stop()
    header = ["server", "keys", "RSS before (MB)", "RSS after (MB)", "RSS bytes/key", "used_memory bytes/key", "load time (s)"]
    rows = []
    for name in ("redis", "pyredis"):
        r = res[name]
        rows.append([name, f"{args.keys:,}", f"{r['rss0'] / 2**20:.1f}", f"{r['rss1'] / 2**20:.1f}", f"{r['per_key']:.0f}",
                     "n/a" if r["used_per_key"] is None else f"{r['used_per_key']:.0f}", f"{r['load_s']:.1f}"])
    rows.append(["pyredis/redis", "", "", "", f"{res['pyredis']['per_key'] / res['redis']['per_key']:.2f}", "", ""])
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|---|" + "---:|" * (len(header) - 1))
        for row in rows:
            print("| " + " | ".join(row) + " |")
    else:
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
        print("  ".join(h.rjust(w) for h, w in zip(header, widths)))
        for row in rows:
            print("  ".join(c.rjust(w) for c, w in zip(row, widths)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
