"""Replies of millions of elements do not multiply the server's memory (issue #13, item 6).

SRANDMEMBER s -N builds a reply of N elements: redis-server's resident memory grows by about
the reply's size; pyredis encodes large aggregates in joined chunks and hands the transport
the chunks (no copy of the whole), so its growth stays within a small factor of Redis's
(before: 20x, 800 MB for a 22 MB reply). Both servers run as processes, measured by their
peak resident set (VmHWM) around the one command."""

from __future__ import annotations

import sys

import procs
from conftest import REDIS_SERVER, free_port, require_binary
from resp import RawClient

N = 2_000_000


def _status(pid: int) -> dict[str, int]:
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, v = line.split(":", 1)
            if v.strip().endswith("kB"):
                out[k] = int(v.split()[0]) * 1024
    return out


def _growth(cmd: list[str], port: int) -> tuple[int, int]:
    """(peak RSS growth during SRANDMEMBER s -N, reply bytes)."""
    proc = procs.start(cmd, port)
    c = RawClient("127.0.0.1", port, timeout=120)
    try:
        c.call("SADD", "s", *[b"m%04d" % i for i in range(1000)])
        before = _status(proc.pid)["VmRSS"]
        c.send(b"*3\r\n$11\r\nSRANDMEMBER\r\n$1\r\ns\r\n$8\r\n-%d\r\n" % N)
        want = len(b"*%d\r\n" % N) + len(b"$5\r\nm0000\r\n") * N
        got = bytearray()
        while len(got) < want:
            d = c.sock.recv(1 << 20)
            assert d
            got.extend(d)
        assert got.startswith(b"*%d\r\n$5\r\nm" % N) and len(got) == want
        assert got.count(b"\r\n") == 1 + 2 * N
        return _status(proc.pid)["VmHWM"] - before, want
    finally:
        c.close()
        procs.stop(proc)


def test_a_reply_of_millions_of_elements_stays_within_redis_memory_bounds(tmp_path):
    require_binary(REDIS_SERVER, "redis-server")
    p1, p2 = free_port(), free_port()
    theirs, size = _growth([REDIS_SERVER, "--port", str(p1), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                            "--dir", str(tmp_path)], p1)
    ours, _ = _growth([sys.executable, "-m", "pyredis", "--port", str(p2), "--bind", "127.0.0.1", "--save", "",
                       "--appendonly", "no", "--dir", str(tmp_path)], p2)
    # Redis grows by about the reply (its output buffer); pyredis holds the command's result
    # list (8 bytes per element) and the encoded chunks: within 2.5x of Redis's growth
    assert theirs > size // 2, (theirs, size)
    assert ours < 2.5 * theirs, (ours, theirs, size)


def _peak_growth(cmd: list[str], port: int, *commands) -> list[int]:
    """Peak RSS growth of the server around each command (a fresh key each)."""
    proc = procs.start(cmd, port)
    c = RawClient("127.0.0.1", port, timeout=120)
    try:
        out = []
        for command in commands:
            before = _status(proc.pid)["VmRSS"]
            with open(f"/proc/{proc.pid}/clear_refs", "w") as f:
                f.write("5")  # reset VmHWM to the current RSS
            c.call(*command)
            out.append(_status(proc.pid)["VmHWM"] - before)
        assert c.call("STRLEN", "a") == c.call("STRLEN", "b") == c.call("STRLEN", "c") == 64 << 20
        return out
    finally:
        c.close()
        procs.stop(proc)


def test_big_strings_made_by_bit_and_range_commands_cost_their_size(tmp_path):
    """SETBIT, SETRANGE and BITFIELD making a 64 MB string: Redis grows by 64 MB; pyredis
    builds the value once (calloc'd zeros, untouched), not in a bytearray copied to bytes."""
    require_binary(REDIS_SERVER, "redis-server")
    last = (64 << 20) - 1
    commands = [("SETBIT", "a", str(last * 8 + 7), "1"), ("SETRANGE", "b", str(last), "x"),
                ("BITFIELD", "c", "SET", "u8", str(last * 8), "255")]
    p1, p2 = free_port(), free_port()
    theirs = _peak_growth([REDIS_SERVER, "--port", str(p1), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                           "--dir", str(tmp_path)], p1, *commands)
    ours = _peak_growth([sys.executable, "-m", "pyredis", "--port", str(p2), "--bind", "127.0.0.1", "--save", "",
                         "--appendonly", "no", "--dir", str(tmp_path)], p2, *commands)
    for mine, redis_growth, command in zip(ours, theirs, commands):
        assert redis_growth > 48 << 20, (command, redis_growth)
        assert mine < 1.3 * redis_growth, (command, mine, redis_growth)
