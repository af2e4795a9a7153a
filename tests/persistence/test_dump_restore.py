"""DUMP/RESTORE: payloads are Redis's RDB object format. Small values dump byte-identically to
redis-server 7.0.15, and payloads cross both ways with the same value read back."""

from __future__ import annotations

import pytest

from resp import RawClient
from oracles import ALL_MODES

# Every mode, each against its release's server (the data-type suites cover each mode's replies).
pytestmark = pytest.mark.modes(*ALL_MODES)

SETUPS = [
    [("SET", "k", "hello")],
    [("SET", "k", "12345")],
    [("SET", "k", "-70000")],
    [("SET", "k", "99999999999")],
    [("SET", "k", "x" * 200)],  # LZF-compressed
    [("SET", "k", "abc" * 5 + "defghijkl")],
    [("RPUSH", "k", "a", "1", "-5", "70000", "4096", "-4097", "x" * 70)],
    [("HSET", "k", "a", "1", "b", "xyz")],
    [("ZADD", "k", "1.5", "a", "2", "b", "-0", "c", "3.25e10", "d", "-inf", "e")],
    [("SADD", "k", "1", "2", "3", "-40000", "5000000000")],
]


@pytest.mark.parametrize("setup", SETUPS, ids=lambda s: s[0][0] + ":" + s[0][2][:8])
def test_dump_is_byte_identical(diff, setup):
    for cmd in setup:
        diff.check(*cmd)
    diff.check("DUMP", "k")


def _value(c: RawClient, key: str):
    t = c.call("TYPE", key)
    if t == b"string":
        return c.call("GET", key)
    if t == b"list":
        return c.call("LRANGE", key, "0", "-1")
    if t == b"hash":
        return sorted(c.call("HGETALL", key))
    if t == b"set":
        return sorted(c.call("SMEMBERS", key))
    if t == b"zset":
        return c.call("ZRANGE", key, "0", "-1", "WITHSCORES")
    return t


BIG = [
    [("RPUSH", "k") + tuple(f"element-{i}" for i in range(3000))],
    [("HSET", "k") + tuple(x for i in range(300) for x in (f"f{i}", f"v{i}"))],
    [("SADD", "k") + tuple(f"m{i}" for i in range(700))],
    [("ZADD", "k") + tuple(x for i in range(300) for x in (str(i * 1.5), f"m{i}"))],
    [("SADD", "k") + tuple(str(i) for i in range(600))],
]


@pytest.mark.parametrize("setup", SETUPS + BIG, ids=lambda s: s[0][0] + ":" + str(len(s[0])))
def test_payloads_cross_both_ways(pyredis_srv, real_redis, setup):
    ours = RawClient("127.0.0.1", pyredis_srv.port)
    theirs = RawClient("127.0.0.1", real_redis.port)
    try:
        for c in (ours, theirs):
            c.call("FLUSHALL")
            for cmd in setup:
                c.call(*cmd)
        expected = _value(theirs, "k")
        assert _value(ours, "k") == expected
        from_redis = theirs.call("DUMP", "k")
        from_us = ours.call("DUMP", "k")
        assert ours.call("RESTORE", "r", "0", from_redis) == b"OK"
        assert theirs.call("RESTORE", "r", "0", from_us) == b"OK"
        assert _value(ours, "r") == expected
        assert _value(theirs, "r") == expected
        assert ours.call("OBJECT", "ENCODING", "r") == theirs.call("OBJECT", "ENCODING", "r")
    finally:
        ours.close()
        theirs.close()


def test_restore_errors_and_options(diff):
    diff.check("SET", "s", "hello")
    payload = diff.check("DUMP", "s")
    diff.check("RESTORE", "s", "0", payload)
    diff.check("RESTORE", "n", "-5", payload)
    diff.check("RESTORE", "n", "0", payload, "IDLETIME", "-1")
    diff.check("RESTORE", "n", "0", payload, "FREQ", "300")
    diff.check("RESTORE", "n", "0", payload, "FREQ", "3", "IDLETIME", "4")
    diff.check("RESTORE", "n", "0", payload, "BOGUS")
    diff.check("RESTORE", "n", "0", payload[:-1] + b"x")
    diff.check("RESTORE", "n", "0", b"\x00\x05hellx\x0a\x00" + payload[-8:])
    diff.check("RESTORE", "n", "1000", payload, "ABSTTL")
    diff.check("EXISTS", "n")
    diff.check("RESTORE", "n", "0", payload, "IDLETIME", "abc")
    diff.check("RESTORE", "s", "0", payload, "REPLACE", "IDLETIME", "10")
    diff.check("RESTORE", "e", "100000", payload)
    diff.check("RESTORE", "a", "99999999999999", payload, "ABSTTL")
    diff.check("EXPIRETIME", "a")
    diff.check("DUMP", "missing")
    diff.check("RPUSH", "l", "x")
    diff.check("RESTORE", "l", "0", payload, "REPLACE")
    diff.check("TYPE", "l")


@pytest.mark.parametrize("score", ["123456789012345678", "1e17", "-0", "4611686018427387904", "4611686018427387905", "2.5"])
def test_zset_listpack_integral_scores_dump_identically(diff, score):
    diff.check("ZADD", "z", score, "a", "1", "b")
    diff.check("DUMP", "z")


def test_function_dump_is_byte_identical(diff):
    # a library long enough for the LZF compression Redis applies to its code
    lib = "#!lua name=dumplib\nredis.register_function('f1', function(keys, args) return 'a value' end)\n"
    diff.check("FUNCTION", "FLUSH")
    diff.check("FUNCTION", "LOAD", lib)
    diff.check("FUNCTION", "DUMP")
    diff.check("FUNCTION", "FLUSH")


def test_stream_digest_memory_and_dump_match(diff):
    for i in range(1, 40):
        diff.check("XADD", "s", f"{i}-1", "field", f"value{i}", "n", str(i))
    diff.check("XGROUP", "CREATE", "s", "g", "0")
    diff.check("XREADGROUP", "GROUP", "g", "alice", "COUNT", "3", "STREAMS", "s", ">", ignore=True)
    diff.check("XDEL", "s", "5-1")
    diff.check("DEBUG", "DIGEST-VALUE", "s")
    diff.check("MEMORY", "USAGE", "s")
    diff.check("MEMORY", "USAGE", "s", "SAMPLES", "0")
