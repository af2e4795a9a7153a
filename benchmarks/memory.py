"""Memory per key, per type: INFO used_memory (and RSS) growth of pyredis and redis-server
after loading N keys of one type, side by side.

    uv run python benchmarks/memory.py [--keys 1000000] [--types string,hash,...] [--markdown]

For each type both servers start empty (`--save "" --appendonly no`, loopback, pinned to CPU
0), get the same N pipelined commands (batches of 1000 over one connection) and are stopped
again. Reported per type and server: used_memory growth per key, RSS growth per key, load
time; and pyredis's used_memory against redis-server's (the estimate should stay within
±15%: pyredis's used_memory is its estimate of Redis's allocation, see README "Using pyredis
as a cache"). The workloads (one key per command):

    string    SET key:i vvvvvvvvvv                  integer   SET key:i <100000 + i>
    hash      HSET h:i f1 v1 f2 v2 f3 v3            list      RPUSH l:i a b c d e
    set       SADD s:i a b c                        intset    SADD s:i 1 2 3
    zset      ZADD z:i 1 a 2 b 3 c                  stream    XADD x:i * f v
    expiring  SET key:i vvvvvvvvvv EX 100000
"""

from __future__ import annotations

import argparse
import socket
import sys
import time

import hiredis

from _servers import ServerProc, add_server_args, print_table, start_pair

WORKLOADS = {
    "string": lambda i: (b"SET", b"key:%d" % i, b"v" * 10),
    "integer": lambda i: (b"SET", b"key:%d" % i, b"%d" % (100000 + i)),
    "expiring": lambda i: (b"SET", b"key:%d" % i, b"v" * 10, b"EX", b"100000"),
    "hash": lambda i: (b"HSET", b"h:%d" % i, b"f1", b"v1", b"f2", b"v2", b"f3", b"v3"),
    "list": lambda i: (b"RPUSH", b"l:%d" % i, b"a", b"b", b"c", b"d", b"e"),
    "set": lambda i: (b"SADD", b"s:%d" % i, b"a", b"b", b"c"),
    "intset": lambda i: (b"SADD", b"s:%d" % i, b"1", b"2", b"3"),
    "zset": lambda i: (b"ZADD", b"z:%d" % i, b"1", b"a", b"2", b"b", b"3", b"c"),
    "stream": lambda i: (b"XADD", b"x:%d" % i, b"*", b"f", b"v"),
}


def encode(args) -> bytes:
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


def load(port: int, keys: int, make, batch: int = 1000) -> None:
    """Pipelined commands, batch by batch; raise on an error reply."""
    s = socket.create_connection(("127.0.0.1", port))
    reader = hiredis.Reader()
    for start in range(0, keys, batch):
        end = min(keys, start + batch)
        s.sendall(b"".join(encode(make(i)) for i in range(start, end)))
        got = 0
        while got < end - start:
            r = reader.gets()
            if r is False:
                d = s.recv(1 << 20)
                if not d:
                    raise ConnectionError("server closed the connection")
                reader.feed(d)
                continue
            if isinstance(r, hiredis.ReplyError):
                raise RuntimeError(f"error reply: {r}")
            got += 1
    s.close()


def command(port: int, *args: bytes):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(encode(args))
    reader = hiredis.Reader()
    while True:
        r = reader.gets()
        if r is not False:
            s.close()
            return r
        reader.feed(s.recv(1 << 20))


def used_memory(port: int) -> int:
    info = command(port, b"INFO", b"memory")
    for line in info.split(b"\r\n"):
        if line.startswith(b"used_memory:"):
            return int(line.split(b":")[1])
    raise RuntimeError("no used_memory")


def measure(srv: ServerProc, keys: int, make) -> dict:
    time.sleep(0.2)
    rss0, used0 = srv.rss_bytes(), used_memory(srv.port)
    t = time.perf_counter()
    load(srv.port, keys, make)
    secs = time.perf_counter() - t
    time.sleep(0.3)
    rss1, used1 = srv.rss_bytes(), used_memory(srv.port)
    dbsize = command(srv.port, b"DBSIZE")
    assert dbsize == keys, (srv.name, dbsize)
    return {"rss": (rss1 - rss0) / keys, "used": (used1 - used0) / keys, "load_s": secs}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keys", "-n", type=int, default=1_000_000)
    ap.add_argument("--types", default=",".join(WORKLOADS), help="comma-separated: " + ", ".join(WORKLOADS))
    add_server_args(ap)
    args = ap.parse_args(argv)
    header = ["type", "keys", "redis used_memory B/key", "pyredis used_memory B/key", "pyredis/redis",
              "redis RSS B/key", "pyredis RSS B/key", "redis load s", "pyredis load s"]
    rows = []
    for name in args.types.split(","):
        make = WORKLOADS[name]
        redis, ours = start_pair(args.python, args.redis_server, None if args.no_pin else 0)
        try:
            r, p = measure(redis, args.keys, make), measure(ours, args.keys, make)
        finally:
            redis.stop()
            ours.stop()
        rows.append([name, f"{args.keys:,}", f"{r['used']:.1f}", f"{p['used']:.1f}", f"{p['used'] / r['used']:.3f}",
                     f"{r['rss']:.0f}", f"{p['rss']:.0f}", f"{r['load_s']:.1f}", f"{p['load_s']:.1f}"])
        print(" ".join(rows[-1]), file=sys.stderr, flush=True)
    print_table(header, rows, args.markdown, 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
