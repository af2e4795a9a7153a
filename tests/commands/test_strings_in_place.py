"""Strings changed in place (APPEND on an existing key, SETRANGE, SETBIT, BITFIELD) are raw
strings in Redis, grown with room to spare; pyredis keeps them as bytearrays and changes them
in place, so APPEND and SETBIT cost what the change costs, not a copy of the whole value.
Every command that reads a string must see them exactly as Redis's strings, replies must not
change when the value changes later (MULTI/EXEC), and files and payloads must be the same."""

from __future__ import annotations

import time

import pytest

import pyredis
from resp import RawClient

MAKERS = [
    [("SET", "s", "12"), ("APPEND", "s", "34")],
    [("SET", "s", "hello world, a string of more than forty-four bytes"), ("APPEND", "s", "!")],
    [("SETRANGE", "s", "3", "abc")],
    [("SET", "s", "0123456789"), ("SETRANGE", "s", "2", "xy")],
    [("SETBIT", "s", "100", "1")],
    [("SET", "s", "abc"), ("SETBIT", "s", "1", "1")],
    [("SET", "s", "abc"), ("SETBIT", "s", "1", "1"), ("SETBIT", "s", "1", "1")],
    [("BITFIELD", "s", "SET", "u8", "24", "65")],
    [("SET", "s", "12"), ("BITFIELD", "s", "INCRBY", "u8", "8", "1")],
    [("APPEND", "s", "new"), ("APPEND", "s", "er")],
]

READERS = [
    ("GET", "s"), ("MGET", "s", "nokey", "s"), ("STRLEN", "s"), ("GETRANGE", "s", "1", "3"),
    ("SUBSTR", "s", "0", "-1"), ("GETBIT", "s", "3"), ("BITCOUNT", "s"), ("BITCOUNT", "s", "0", "1"),
    ("BITPOS", "s", "1"), ("BITFIELD_RO", "s", "GET", "u4", "0"), ("TYPE", "s"), ("OBJECT", "ENCODING", "s"),
    ("EXISTS", "s"), ("LCS", "s", "s"), ("LCS", "s", "s", "IDX"), ("DEBUG", "DIGEST-VALUE", "s"),
    ("SORT", "lst", "BY", "s", "GET", "s"), ("PFCOUNT", "s"), ("DUMP", "s"),
    ("EVAL", "return redis.call('GET', KEYS[1])", "1", "s"),
    ("EVAL", "return redis.call('GETRANGE', KEYS[1], 0, 2)", "1", "s"),
    ("OBJECT", "REFCOUNT", "s"), ("DEBUG", "SDSLEN", "s"),
]

WRITERS = [
    ("APPEND", "s", "tail"), ("SETRANGE", "s", "1", "ZZ"), ("SETBIT", "s", "7", "0"), ("INCR", "s"),
    ("INCRBYFLOAT", "s", "1.5"), ("SET", "s", "plain"), ("GETSET", "s", "x"), ("GETDEL", "s"),
    ("COPY", "s", "t"), ("RENAME", "s", "t"), ("BITOP", "NOT", "t", "s"), ("PFADD", "s", "a"),
]


@pytest.mark.parametrize("maker", MAKERS, ids=lambda m: " ".join(" ".join(c) for c in m))
def test_readers_see_strings_changed_in_place_as_redis(diff, maker):
    diff.check("RPUSH", "lst", "1")
    for cmd in maker:
        diff.check(*cmd)
    for cmd in READERS:
        if cmd[:2] == ("DEBUG", "SDSLEN"):
            diff.both(*cmd)  # (the allocations differ; it must answer, not fail)
            continue
        diff.check(*cmd)
    payload, theirs = diff.both("DUMP", "s")
    assert payload == theirs
    diff.check("RESTORE", "r", "0", payload)
    diff.check("GET", "r")


@pytest.mark.parametrize("writer", WRITERS, ids=lambda c: " ".join(c))
def test_writers_after_a_change_in_place(diff, writer):
    diff.check("SET", "s", "12")
    diff.check("APPEND", "s", "3")
    diff.check(*writer)
    for cmd in (("GET", "s"), ("GET", "t"), ("OBJECT", "ENCODING", "s"), ("OBJECT", "ENCODING", "t"),
                ("STRLEN", "s"), ("TYPE", "s")):
        diff.check(*cmd)
    diff.check("APPEND", "t", "more")
    diff.check("GET", "s")
    diff.check("GET", "t")


def test_replies_do_not_change_with_the_value(diff):
    """A reply queued by EXEC (or a script) is the value when the command ran."""
    diff.check("SET", "s", "abc")
    diff.check("APPEND", "s", "d")
    diff.check("MULTI")
    for cmd in (("GET", "s"), ("APPEND", "s", "e"), ("MGET", "s"), ("SETRANGE", "s", "0", "X"),
                ("GETRANGE", "s", "0", "-1"), ("SETBIT", "s", "7", "1"), ("GETEX", "s"), ("GET", "s")):
        diff.check(*cmd)
    diff.check("EXEC")
    diff.check("EVAL", "local a = redis.call('GET', KEYS[1]); redis.call('APPEND', KEYS[1], 'z'); "
               "return {a, redis.call('GET', KEYS[1])}", "1", "s")


def test_persistence_of_strings_changed_in_place(tmp_path):
    """RDB and AOF (rewrite with and without preamble) hold them as strings; reloaded, they
    read the same (DEBUG RELOAD, then a restart from the AOF)."""
    with pyredis.Server(port=0, dir=str(tmp_path), appendonly="yes", enable_debug_command="yes") as s:
        c = RawClient("127.0.0.1", s.port)
        c.call("SET", "a", "x" * 100)
        c.call("APPEND", "a", "y" * 100)
        c.call("SETBIT", "b", "1000", "1")
        c.call("SETRANGE", "c", "5", "hello")
        c.call("SET", "d", "12")
        c.call("APPEND", "d", "3")
        want = [c.call("GET", k) for k in ("a", "b", "c", "d")]
        digest = c.call("DEBUG", "DIGEST")
        assert c.call("SAVE") == b"OK"
        c.close()
    with pyredis.Server(port=0, dir=str(tmp_path), enable_debug_command="yes") as s:  # from the RDB
        c = RawClient("127.0.0.1", s.port)
        assert [c.call("GET", k) for k in ("a", "b", "c", "d")] == want
        assert c.call("DEBUG", "DIGEST") == digest
        c.close()
    with pyredis.Server(port=0, dir=str(tmp_path), appendonly="yes", enable_debug_command="yes") as s:
        c = RawClient("127.0.0.1", s.port)
        assert [c.call("GET", k) for k in ("a", "b", "c", "d")] == want
        c.call("APPEND", "a", "z")
        want[0] += b"z"
        c.call("BGREWRITEAOF")
        deadline = time.time() + 30
        while b"aof_rewrite_in_progress:0" not in c.call("INFO", "persistence") and time.time() < deadline:
            time.sleep(0.05)
        c.call("APPEND", "c", "!")
        want[2] += b"!"
        c.close()
    with pyredis.Server(port=0, dir=str(tmp_path), appendonly="yes") as s:
        c = RawClient("127.0.0.1", s.port)
        assert [c.call("GET", k) for k in ("a", "b", "c", "d")] == want
        c.close()


def test_append_and_setbit_change_the_value_in_place():
    """10,000 APPENDs of 1 KB to one key (32 s before: each copied the whole string) and
    SETBITs on a large bitmap change the one stored object: no copy of the value per command."""
    with pyredis.Server(port=0) as s:
        c = RawClient("127.0.0.1", s.port, timeout=120)
        db = s.state.dbs[0]
        chunk = b"x" * 1024
        cmd = b"*3\r\n$6\r\nAPPEND\r\n$3\r\nlog\r\n$1024\r\n" + chunk + b"\r\n"
        c.call("APPEND", "log", "start")
        c.call("APPEND", "log", "-")  # from here on a bytearray
        stored = db.data[b"log"]
        for _ in range(10):
            c.send(cmd * 1000)
            got = b""
            while got.count(b"\r\n") < 1000:
                got += c.sock.recv(1 << 16)
        assert db.data[b"log"] is stored
        assert c.call("STRLEN", "log") == 6 + 10 * 1000 * 1024
        assert c.call("GETRANGE", "log", "0", "7") == b"start-xx"
        c.call("SETBIT", "bits", str(8 * 1024 * 1024), "1")
        bits = db.data[b"bits"]
        for i in range(0, 8 * 1024 * 1024, 8191):
            c.call("SETBIT", "bits", str(i), "1")
        assert db.data[b"bits"] is bits
        assert c.call("BITCOUNT", "bits") == len(range(0, 8 * 1024 * 1024, 8191)) + 1
        c.close()
