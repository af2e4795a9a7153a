"""List commands, differentially against redis-server 7.0 (RESP2 and RESP3): LPUSH RPUSH
LPUSHX RPUSHX LPOP RPOP LLEN LRANGE LINDEX LSET LINSERT LREM LTRIM LPOS LMOVE RPOPLPUSH LMPOP,
the non-blocking paths of the blocking variants, declarations and propagation."""

from __future__ import annotations

import pytest

import pyredis.commands  # noqa: F401  (registers every command)
from effects import Effects
from resp import RawClient
from oracles import ALL_MODES

# Every mode, each against its release's server (the data-type suites cover each mode's replies).
pytestmark = pytest.mark.modes(*ALL_MODES)


def test_getkeys_movable(diff):
    diff.check("COMMAND", "GETKEYS", "LMPOP", "2", "a", "b", "LEFT")
    diff.check("COMMAND", "GETKEYS", "BLMPOP", "0", "3", "a", "b", "c", "RIGHT", "COUNT", "2")
    diff.check("COMMAND", "GETKEYS", "BLPOP", "a", "b", "0")
    diff.check("COMMAND", "GETKEYS", "LMOVE", "a", "b", "LEFT", "RIGHT")


def test_push_and_len(diff):
    diff.check("LPUSH", "l", "a", "b", "c")
    diff.check("RPUSH", "l", "d", "e")
    diff.check("LRANGE", "l", "0", "-1")
    diff.check("LLEN", "l")
    diff.check("LLEN", "nokey")
    diff.check("LPUSHX", "nokey", "a")
    diff.check("RPUSHX", "nokey", "a", "b")
    diff.check("EXISTS", "nokey")
    diff.check("LPUSHX", "l", "x", "y")
    diff.check("RPUSHX", "l", "z")
    diff.check("LRANGE", "l", "0", "-1")
    diff.check("SET", "s", "v")
    for cmd in ("LPUSH", "RPUSH", "LPUSHX", "RPUSHX"):
        diff.check(cmd, "s", "a")
        diff.check(cmd, "l")
    diff.check("LLEN", "s")
    diff.check("TYPE", "l")
    diff.check("OBJECT", "ENCODING", "l")
    diff.check("RPUSH", "big", *[str(i) * 20 for i in range(300)])
    diff.check("OBJECT", "ENCODING", "big")
    diff.check("LPUSH", "e", "")
    diff.check("LRANGE", "e", "0", "-1")


def test_pop_count_shapes(diff):
    diff.check("LPOP", "nokey")
    diff.check("RPOP", "nokey")
    diff.check("LPOP", "nokey", "0")
    diff.check("LPOP", "nokey", "3")
    diff.check("RPOP", "nokey", "1")
    diff.check("LPOP", "nokey", "-1")
    diff.check("LPOP", "nokey", "x")
    diff.check("RPUSH", "l", "a", "b", "c", "d", "e")
    diff.check("LPOP", "l", "0")
    diff.check("LPOP", "l", "-1")
    diff.check("LPOP", "l", "x")
    diff.check("LPOP", "l", "1", "2")
    diff.check("RPOP", "l", "1", "2")
    diff.check("LPOP", "l")
    diff.check("RPOP", "l")
    diff.check("LPOP", "l", "1")
    diff.check("RPOP", "l", "10")
    diff.check("EXISTS", "l")
    diff.check("RPUSH", "l", "a")
    diff.check("RPOP", "l")
    diff.check("EXISTS", "l")
    diff.check("SET", "s", "v")
    diff.check("LPOP", "s")
    diff.check("LPOP", "s", "0")
    diff.check("RPOP", "s", "2")
    diff.check("LPOP", "l", "9223372036854775807")
    diff.check("LPOP", "l", "9223372036854775808")


@pytest.mark.parametrize("start,stop", [
    ("0", "-1"), ("0", "0"), ("1", "3"), ("-3", "-1"), ("-100", "100"), ("5", "2"), ("9", "20"),
    ("-1", "-2"), ("3", "-1"), ("0", "-100"), ("-9223372036854775808", "9223372036854775807"),
    ("a", "1"), ("1", "b"), ("1.5", "2"),
])
def test_lrange_ltrim(diff, start, stop):
    diff.check("RPUSH", "l", *"abcdefghij")
    diff.check("LRANGE", "l", start, stop)
    diff.check("LRANGE", "nokey", start, stop)
    diff.check("LTRIM", "l", start, stop)
    diff.check("LRANGE", "l", "0", "-1")
    diff.check("EXISTS", "l")
    diff.check("LTRIM", "nokey", start, stop)


def test_lrange_ltrim_errors(diff):
    diff.check("SET", "s", "v")
    diff.check("LRANGE", "s", "0", "-1")
    diff.check("LRANGE", "s", "x", "-1")
    diff.check("LTRIM", "s", "0", "1")
    diff.check("LTRIM", "s", "0", "y")
    diff.check("LRANGE", "l", "0")
    diff.check("LTRIM", "l", "0")


def test_lindex_lset(diff):
    diff.check("RPUSH", "l", "a", "b", "c")
    for i in ["0", "1", "2", "3", "-1", "-3", "-4", "x", "9223372036854775807", "-9223372036854775808"]:
        diff.check("LINDEX", "l", i)
        diff.check("LINDEX", "nokey", i)
        diff.check("LSET", "l", i, "Z" + i)
        diff.check("LSET", "nokey", i, "v")
    diff.check("LRANGE", "l", "0", "-1")
    diff.check("SET", "s", "v")
    diff.check("LINDEX", "s", "0")
    diff.check("LINDEX", "s", "x")
    diff.check("LSET", "s", "0", "v")
    diff.check("LSET", "s", "x", "v")


def test_linsert(diff):
    diff.check("RPUSH", "l", "a", "b", "c", "b")
    diff.check("LINSERT", "l", "BEFORE", "b", "X")
    diff.check("LINSERT", "l", "after", "b", "Y")
    diff.check("LINSERT", "l", "AFTER", "c", "Z")
    diff.check("LINSERT", "l", "before", "a", "0")
    diff.check("LINSERT", "l", "BEFORE", "nope", "x")
    diff.check("LINSERT", "l", "MIDDLE", "a", "x")
    diff.check("LINSERT", "nokey", "BEFORE", "a", "x")
    diff.check("LINSERT", "nokey", "MIDDLE", "a", "x")
    diff.check("EXISTS", "nokey")
    diff.check("LRANGE", "l", "0", "-1")
    diff.check("SET", "s", "v")
    diff.check("LINSERT", "s", "BEFORE", "a", "x")
    diff.check("LINSERT", "s", "FOO", "a", "x")


@pytest.mark.parametrize("count", ["0", "1", "2", "-1", "-2", "100", "-100", "x"])
def test_lrem(diff, count):
    diff.check("RPUSH", "l", "a", "b", "a", "c", "a", "b", "a")
    diff.check("LREM", "l", count, "a")
    diff.check("LRANGE", "l", "0", "-1")
    diff.check("LREM", "l", count, "zz")
    diff.check("LREM", "nokey", count, "a")
    diff.check("RPUSH", "one", "a", "a")
    diff.check("LREM", "one", count, "a")
    diff.check("EXISTS", "one")
    diff.check("SET", "s", "v")
    diff.check("LREM", "s", count, "a")


@pytest.mark.parametrize("opts", [
    (), ("RANK", "1"), ("RANK", "2"), ("RANK", "-1"), ("RANK", "-2"), ("RANK", "0"), ("RANK", "9"),
    ("COUNT", "0"), ("COUNT", "2"), ("COUNT", "-1"), ("COUNT", "x"), ("MAXLEN", "2"), ("MAXLEN", "0"),
    ("MAXLEN", "-1"), ("RANK", "2", "COUNT", "2"), ("RANK", "-1", "COUNT", "0", "MAXLEN", "4"),
    ("RANK", "-9223372036854775808"), ("RANK", "-9223372036854775808", "COUNT", "2"),
    ("RANK", "x"), ("RANK",), ("FOO", "1"), ("COUNT", "1", "COUNT", "2"), ("rank", "2", "count", "1"),
    ("RANK", "9223372036854775807"), ("MAXLEN", "3", "RANK", "-1"),
])
def test_lpos(diff, opts):
    diff.check("RPUSH", "l", "a", "b", "c", "b", "a", "b", "d")
    diff.check("LPOS", "l", "b", *opts)
    diff.check("LPOS", "l", "zz", *opts)
    diff.check("LPOS", "nokey", "b", *opts)
    diff.check("SET", "s", "v")
    diff.check("LPOS", "s", "b", *opts)


@pytest.mark.parametrize("f", ["LEFT", "RIGHT"])
@pytest.mark.parametrize("t", ["LEFT", "right"])
def test_lmove(diff, f, t):
    diff.check("RPUSH", "src", "a", "b", "c")
    diff.check("RPUSH", "dst", "x")
    diff.check("LMOVE", "src", "dst", f, t)
    diff.check("LRANGE", "src", "0", "-1")
    diff.check("LRANGE", "dst", "0", "-1")
    diff.check("LMOVE", "src", "new", f, t)
    diff.check("LMOVE", "src", "src", f, t)
    diff.check("LRANGE", "src", "0", "-1")
    diff.check("LMOVE", "src", "dst", f, t)
    diff.check("EXISTS", "src")
    diff.check("LMOVE", "nokey", "dst", f, t)
    diff.check("RPUSH", "one", "z")
    diff.check("LMOVE", "one", "one", f, t)
    diff.check("LRANGE", "one", "0", "-1")
    diff.check("SET", "s", "v")
    diff.check("LMOVE", "s", "dst", f, t)
    diff.check("LMOVE", "dst", "s", f, t)
    diff.check("LMOVE", "nokey", "s", f, t)
    diff.check("LRANGE", "dst", "0", "-1")
    diff.check("LMOVE", "dst", "x", "UP", t)
    diff.check("LMOVE", "dst", "x", f, "DOWN")


def test_rpoplpush(diff):
    diff.check("RPUSH", "src", "a", "b")
    diff.check("RPOPLPUSH", "src", "dst")
    diff.check("RPOPLPUSH", "src", "src")
    diff.check("RPOPLPUSH", "src", "dst")
    diff.check("RPOPLPUSH", "src", "dst")
    diff.check("LRANGE", "dst", "0", "-1")
    diff.check("SET", "s", "v")
    diff.check("RPOPLPUSH", "s", "dst")
    diff.check("RPOPLPUSH", "dst", "s")
    diff.check("RPOPLPUSH", "nokey", "s")


@pytest.mark.parametrize("args", [
    ("1", "l1", "LEFT"), ("2", "nokey", "l1", "RIGHT"), ("2", "l1", "l2", "LEFT", "COUNT", "2"),
    ("3", "nokey", "l2", "l1", "right", "count", "10"), ("1", "nokey", "LEFT"),
    ("0", "l1", "LEFT"), ("-1", "l1", "LEFT"), ("x", "l1", "LEFT"), ("1", "l1", "MIDDLE"),
    ("2", "l1", "LEFT"), ("1", "l1", "LEFT", "COUNT"), ("1", "l1", "LEFT", "COUNT", "0"),
    ("1", "l1", "LEFT", "COUNT", "-1"), ("1", "l1", "LEFT", "COUNT", "x"), ("1", "l1", "LEFT", "FOO"),
    ("1", "l1", "LEFT", "COUNT", "1", "COUNT", "1"), ("99999999999", "l1", "LEFT"),
    ("1", "s", "LEFT"), ("2", "l1", "s", "LEFT"), ("2", "s", "l1", "LEFT"),
    ("9223372036854775807", "l1", "LEFT"),
])
def test_lmpop(diff, args):
    diff.check("RPUSH", "l1", "a", "b", "c")
    diff.check("RPUSH", "l2", "d", "e")
    diff.check("SET", "s", "v")
    diff.check("LMPOP", *args)
    diff.check("LRANGE", "l1", "0", "-1")
    diff.check("LRANGE", "l2", "0", "-1")
    diff.check("BLMPOP", "0.01", *args)
    diff.check("LRANGE", "l1", "0", "-1")
    diff.check("LRANGE", "l2", "0", "-1")


def test_lmpop_drains_and_deletes(diff):
    diff.check("RPUSH", "l", "a", "b")
    diff.check("LMPOP", "1", "l", "LEFT", "COUNT", "5")
    diff.check("EXISTS", "l")
    diff.check("LMPOP", "1", "l", "LEFT")


def test_blocking_variants_with_data_or_errors(diff):
    diff.check("RPUSH", "l", "a", "b", "c")
    diff.check("BLPOP", "nokey", "l", "0")
    diff.check("BRPOP", "l", "0")
    diff.check("BLMOVE", "l", "d", "LEFT", "RIGHT", "0")
    diff.check("BRPOPLPUSH", "d", "l", "0")
    diff.check("LRANGE", "l", "0", "-1")
    diff.check("SET", "s", "v")
    diff.check("BLPOP", "s", "l", "0")
    diff.check("BLPOP", "l", "s", "0")
    diff.check("RPUSH", "l", "p", "q", "r")
    diff.check("BLPOP", "nokey", "s", "0")
    diff.check("BLMOVE", "s", "l", "LEFT", "LEFT", "0")
    diff.check("BLMOVE", "l", "s", "LEFT", "LEFT", "0")
    diff.check("BLMOVE", "nokey", "s", "LEFT", "LEFT", "0.01")
    diff.check("BRPOPLPUSH", "l", "s", "0")
    diff.check("BLMOVE", "l", "x", "LEFTX", "LEFT", "0")
    diff.check("BLMOVE", "l", "x", "LEFT", "LEFT", "abc")
    diff.check("BLMOVE", "l", "x", "LEFTX", "LEFT", "abc")
    diff.check("BLMPOP", "abc", "1", "l", "LEFT")
    diff.check("BLMPOP", "abc", "1", "l", "MIDDLE")
    diff.check("BLMPOP", "-1", "0", "l", "LEFT")
    diff.check("BLMPOP", "-1", "1", "l", "LEFT")
    diff.check("BLPOP", "l")


@pytest.mark.parametrize("timeout", [
    "abc", "-1", "-0.5", "inf", "-inf", "+inf", "infinity", "nan", "1e300", " 1", "1 ", "", "0x",
    "1e-400000", "9223372036854775807", "9223372036854775.808", "1e16", "-1e-400000", "1.5.5", "--1",
])
def test_timeout_errors(diff, timeout):
    diff.check("BLPOP", "nokey", timeout)
    diff.check("BLMOVE", "nokey", "x", "LEFT", "LEFT", timeout)
    diff.check("BLMPOP", timeout, "1", "nokey", "LEFT")


@pytest.mark.parametrize("timeout", ["0.01", "0.001", ".01", "1e-2", "0x1p-7", "0.0099", "+0.01", "1E-2"])
def test_short_timeouts_expire(diff, timeout):
    diff.check("BLPOP", "nokey", timeout)
    diff.check("BRPOPLPUSH", "nokey", "x", timeout)
    diff.check("BLMPOP", timeout, "2", "nokey", "nokey2", "RIGHT")


def test_wrong_arity(diff):
    for cmd in (["LPUSH", "l"], ["LPOP"], ["LRANGE", "l", "0"], ["LINSERT", "l", "BEFORE", "a"],
                ["LMOVE", "a", "b", "LEFT"], ["LMPOP", "1", "l"], ["BLPOP", "l"], ["BLMPOP", "0", "1", "l"],
                ["LPOS", "l"], ["LSET", "l", "0"], ["RPOPLPUSH", "a"], ["BRPOPLPUSH", "a", "b"]):
        diff.check(*cmd)


def test_binary_and_large_values(diff):
    vals = [b"\x00\xff\r\n", b"", b"x" * 100000, "ünï".encode(), b"-0", b"1.0"]
    diff.check("RPUSH", "l", *vals)
    diff.check("LRANGE", "l", "0", "-1")
    diff.check("LPOS", "l", b"\x00\xff\r\n")
    diff.check("LREM", "l", "0", b"")
    diff.check("LINDEX", "l", "1")


def test_propagation_rewrites(pyredis_srv):
    """Non-blocking paths of blocking commands and LMPOP propagate as LPOP/RPOP/LMOVE."""
    state = pyredis_srv.state
    got = sink = Effects(argv_only=True)
    c = RawClient("127.0.0.1", pyredis_srv.port)
    try:
        c.call("FLUSHALL")
        state.propagation.add_sink(sink)
        c.call("RPUSH", "l", "a", "b", "c", "d")
        c.call("BLPOP", "nokey", "l", "0")
        c.call("BRPOP", "l", "0")
        c.call("BLMOVE", "l", "m", "LEFT", "RIGHT", "0")
        c.call("BRPOPLPUSH", "m", "l", "0")
        c.call("LMPOP", "1", "l", "RIGHT", "COUNT", "10")
        c.call("RPUSH", "m", "x", "y")
        c.call("BLMPOP", "0", "1", "m", "LEFT", "COUNT", "3")
        c.call("LPOP", "nokey")
    finally:
        state.propagation.remove_sink(sink)
        c.close()
    assert got == [
        [b"RPUSH", b"l", b"a", b"b", b"c", b"d"],
        [b"LPOP", b"l"],
        [b"RPOP", b"l"],
        [b"LMOVE", b"l", b"m", b"LEFT", b"RIGHT"],
        [b"RPOPLPUSH", b"m", b"l"],
        [b"RPOP", b"l", b"2"],
        [b"RPUSH", b"m", b"x", b"y"],
        [b"LPOP", b"m", b"2"],
    ]


def test_keyspace_notifications(pyredis_srv, real_redis):
    """The events list commands publish, in order, match redis-server's."""
    seqs = []
    for port in (pyredis_srv.port, real_redis.port):
        admin = RawClient("127.0.0.1", port)
        sub = RawClient("127.0.0.1", port)
        try:
            admin.call("FLUSHALL")
            admin.call("CONFIG", "SET", "notify-keyspace-events", "KEAn")
            sub.call("PSUBSCRIBE", "__key*__:*")
            sub.call("SUBSCRIBE", "__end__")
            for cmd in (["RPUSH", "l", "a", "b", "c", "d"], ["LPUSH", "l", "z"], ["LPUSHX", "nokey", "x"],
                        ["LPOP", "l"], ["RPOP", "l", "2"], ["LSET", "l", "0", "q"], ["LINSERT", "l", "AFTER", "q", "w"],
                        ["LINSERT", "l", "AFTER", "nope", "w"], ["LREM", "l", "1", "w"], ["LREM", "l", "1", "nope"],
                        ["LTRIM", "l", "0", "-1"], ["LMOVE", "l", "m", "LEFT", "RIGHT"], ["RPOPLPUSH", "l", "m"],
                        ["LMPOP", "1", "m", "LEFT", "COUNT", "5"], ["RPUSH", "b", "1", "2"], ["BLPOP", "b", "0"],
                        ["BLMOVE", "b", "c", "LEFT", "LEFT", "0"], ["BLMPOP", "0", "1", "c", "RIGHT"],
                        ["RPUSH", "t", "1", "2"], ["LTRIM", "t", "5", "6"], ["RPUSH", "r", "x"], ["LREM", "r", "0", "x"]):
                admin.call(*cmd)
            admin.call("PUBLISH", "__end__", "x")
            events = []
            while True:
                m = sub.read()
                if m[0] == b"message" and m[1] == b"__end__":
                    break
                if m[0] == b"pmessage":
                    events.append((m[2], m[3]))
                if len(events) > 500:
                    break
            seqs.append(events)
        finally:
            admin.call("CONFIG", "SET", "notify-keyspace-events", "")
            admin.close()
            sub.close()
    assert seqs[0] == seqs[1]
    assert (b"__keyevent@0__:lpush", b"l") in seqs[0]


def test_copy_is_independent(diff):
    diff.check("RPUSH", "a", "x", "y")
    diff.check("COPY", "a", "b")
    diff.check("RPUSH", "b", "z")
    diff.check("LPOP", "a")
    diff.check("LRANGE", "a", "0", "-1")
    diff.check("LRANGE", "b", "0", "-1")
    diff.check("OBJECT", "ENCODING", "b")
