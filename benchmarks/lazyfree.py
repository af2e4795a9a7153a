"""Freeing a large value while another client is served: DEL (synchronous) and UNLINK (lazy
free) of a million-member set, pyredis next to redis-server.

    uv run python benchmarks/lazyfree.py [--members 1000000] [--markdown]

For each server (pinned to CPU 0, this process on CPU 1) and each command, a set of
--members members is built, the set is deleted, and right away a second connection sends
PINGs one after the other (timing each) until INFO's lazyfree_pending_objects is back to 0
and at least 0.5 s have passed. Reported: how long until the DEL/UNLINK reply arrived, and
the slowest and 99th-percentile PING meanwhile. pyredis frees a lazily
deleted value in slices of at most 2048 members between the requests of other clients
(core/lazyfree.py); Redis frees it in a background thread.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sys
import time

import hiredis

from _servers import ServerProc, add_server_args, print_table


def encode(args) -> bytes:
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


def call(sock: socket.socket, reader, *args: bytes):
    sock.sendall(encode(args))
    while True:
        r = reader.gets()
        if r is not False:
            return r
        reader.feed(sock.recv(1 << 20))


def pending(port: int) -> int:
    s = socket.create_connection(("127.0.0.1", port))
    info = call(s, hiredis.Reader(), b"INFO", b"memory")
    s.close()
    return int(info.split(b"lazyfree_pending_objects:")[1].split(b"\r\n")[0])


def run(srv: ServerProc, cmd: bytes, members: int) -> dict:
    s = socket.create_connection(("127.0.0.1", srv.port))
    rd = hiredis.Reader()
    for start in range(0, members, 10000):
        call(s, rd, b"SADD", b"big", *[b"m%d" % i for i in range(start, min(members, start + 10000))])
    p = socket.create_connection(("127.0.0.1", srv.port))
    prd = hiredis.Reader()
    time.sleep(0.2)
    # The deleting command is sent without waiting; then PINGs go one after the other on the
    # second connection (one thread: no interpreter-lock hand-offs in the measurement) until
    # the lazy free is done (INFO every 20 PINGs) and at least 0.5 s have passed.
    t0 = time.perf_counter()
    s.sendall(encode((cmd, b"big")))
    lat: list[float] = []
    took = None
    n = 0
    while True:
        t = time.perf_counter()
        call(p, prd, b"PING")
        lat.append(time.perf_counter() - t)
        n += 1
        if took is None:
            s.setblocking(False)
            try:
                rd.feed(s.recv(1 << 16))
            except BlockingIOError:
                pass
            s.setblocking(True)
            if rd.gets() is not False:
                took = time.perf_counter() - t0
        if n % 20 == 0 and took is not None and time.perf_counter() - t0 > 0.5:
            info = call(p, prd, b"INFO", b"memory")
            if b"lazyfree_pending_objects:0\r\n" in info:
                break
    s.close()
    p.close()
    during = sorted(lat)
    return {"cmd_ms": took * 1000, "max_ms": during[-1] * 1000, "p99_ms": during[int(len(during) * 0.99)] * 1000,
            "pings": len(during)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--members", type=int, default=1_000_000)
    add_server_args(ap)
    args = ap.parse_args(argv)
    if not args.no_pin and shutil.which("taskset"):
        os.sched_setaffinity(0, {1})
    rows = []
    for name, argv0 in (("redis", [args.redis_server]), ("pyredis", [args.python, "-m", "pyredis"])):
        for cmd in (b"DEL", b"UNLINK"):
            srv = ServerProc(name, argv0, None if args.no_pin else 0)
            try:
                r = run(srv, cmd, args.members)
            finally:
                srv.stop()
            rows.append([name, cmd.decode(), f"{args.members:,}", f"{r['cmd_ms']:.1f}", f"{r['max_ms']:.1f}",
                         f"{r['p99_ms']:.2f}", f"{r['pings']:,}"])
            print(" ".join(rows[-1]), file=sys.stderr, flush=True)
    header = ["server", "command", "set members", "command ms", "slowest PING ms", "p99 PING ms", "PINGs timed"]
    print_table(header, rows, args.markdown, 2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
