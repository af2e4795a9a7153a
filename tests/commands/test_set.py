"""Set commands, differentially against redis-server 7.0: SADD SREM SMEMBERS SISMEMBER
SMISMEMBER SCARD SPOP SRANDMEMBER SMOVE SINTER SINTERCARD SINTERSTORE SUNION SUNIONSTORE SDIFF
SDIFFSTORE SSCAN, their declarations, encodings (intset/hashtable), keyspace effects and
propagation.

Intsets are sorted, so Redis replies with their members in ascending order: where a set (or a
computed result) is an intset the comparison includes the order. Hashtable order cannot be
reproduced, so those replies are compared unordered."""

from __future__ import annotations

import glob
import os
import time

import pytest
import redis

import pyredis.commands  # noqa: F401  (registers every command)
from events import keyspace_events
from effects import Effects
from resp import RawClient, RSet
from oracles import ALL_MODES

# Every mode, each against its release's server (the data-type suites cover each mode's replies).
pytestmark = pytest.mark.modes(*ALL_MODES)

SET = ["sadd", "srem", "smembers", "sismember", "smismember", "scard", "spop", "srandmember", "smove",
       "sinter", "sintercard", "sinterstore", "sunion", "sunionstore", "sdiff", "sdiffstore", "sscan"]
WRONGTYPE = b"WRONGTYPE Operation against a key holding the wrong kind of value"
ENC = ("OBJECT", "ENCODING")


def test_sintercard_getkeys(diff):
    for args in (("2", "a", "b"), ("1", "a", "LIMIT", "3"), ("3", "a", "b", "c", "LIMIT", "0"), ("0", "a"),
                 ("5", "a"), ("x", "a"), ("-1", "a"), ("3", "a", "b", "c")):
        diff.check("COMMAND", "GETKEYS", "SINTERCARD", *args)


def test_basics(diff):
    diff.check("SADD", "s", "a", "b", "c")
    diff.check("SADD", "s", "a", "d", "d")
    diff.check("SCARD", "s")
    diff.check("SCARD", "nokey")
    diff.check("SISMEMBER", "s", "a")
    diff.check("SISMEMBER", "s", "zz")
    diff.check("SISMEMBER", "nokey", "a")
    diff.check("SMISMEMBER", "s", "a", "zz", "d", "a")
    diff.check("SMISMEMBER", "nokey", "a", "b")
    diff.same("SMEMBERS", "s")
    diff.check("SMEMBERS", "nokey")
    diff.check("SREM", "s", "a", "zz", "a")
    diff.check("SREM", "nokey", "a")
    diff.same("SMEMBERS", "s")
    diff.check("SREM", "s", "b", "c", "d", "e")
    diff.check("EXISTS", "s")
    diff.check("TYPE", "s")
    diff.check("SADD", "s", "")
    diff.check("SISMEMBER", "s", "")
    diff.check("TYPE", "s")


def test_smembers_is_a_set_in_resp3(diff):
    diff.check("SADD", "s", "3", "1", "2")
    reply = diff.check("SMEMBERS", "s")  # an intset: ascending order
    assert reply == [b"1", b"2", b"3"]
    assert (type(reply) is RSet) == (diff.resp == 3)


def test_intset_order(diff):
    diff.check("SADD", "s", "5", "-1", "3", "10", "-9223372036854775808", "9223372036854775807", "0")
    diff.check("SMEMBERS", "s")
    diff.check("SSCAN", "s", "0")
    diff.check("SRANDMEMBER", "s", "100")
    diff.check("SUNION", "s")
    diff.check("SINTER", "s")
    diff.check("SDIFF", "s")
    diff.check("SADD", "t", "3", "10", "7", "-1")
    diff.check("SINTER", "t", "s")
    diff.check("SUNION", "t", "s")
    diff.check("SDIFF", "s", "t")
    diff.check("SPOP", "s", "100")


def test_arity_and_syntax_errors(diff):
    for cmd in (("SADD", "s"), ("SREM", "s"), ("SMEMBERS",), ("SISMEMBER", "s"), ("SMISMEMBER", "s"),
                ("SCARD",), ("SPOP",), ("SRANDMEMBER",), ("SMOVE", "a", "b"), ("SINTER",), ("SINTERCARD", "1"),
                ("SINTERSTORE", "d"), ("SUNION",), ("SUNIONSTORE", "d"), ("SDIFF",), ("SDIFFSTORE", "d"),
                ("SSCAN", "s")):
        diff.check(*cmd)


def test_wrongtype(diff):
    diff.check("SET", "str", "x")
    diff.check("HSET", "h", "a", "1")
    diff.check("SADD", "ok", "1")
    for key in ("str", "h"):
        for cmd in (("SADD", key, "a"), ("SREM", key, "a"), ("SMEMBERS", key), ("SISMEMBER", key, "a"),
                    ("SMISMEMBER", key, "a"), ("SCARD", key), ("SPOP", key), ("SPOP", key, "2"),
                    ("SRANDMEMBER", key), ("SRANDMEMBER", key, "2"), ("SMOVE", key, "ok", "1"),
                    ("SMOVE", "ok", key, "1"), ("SINTER", key), ("SINTER", "nokey", key), ("SINTER", key, "nokey"),
                    ("SINTERCARD", "2", "nokey", key), ("SINTERSTORE", "d", "nokey", key), ("SUNION", "ok", key),
                    ("SUNIONSTORE", "d", key), ("SDIFF", "nokey", key), ("SDIFF", "ok", key),
                    ("SDIFFSTORE", "d", "ok", key), ("SSCAN", key, "0")):
            assert diff.check(*cmd) == WRONGTYPE, cmd
    # A missing source answers 0 before the destination's type is checked.
    diff.check("SMOVE", "nokey", "str", "1")
    # Options are parsed before the key is looked up.
    diff.check("SPOP", "str", "-1")
    diff.check("SPOP", "str", "1", "2")
    diff.check("SRANDMEMBER", "str", "x")
    diff.check("SSCAN", "str", "x")
    diff.check("SINTERCARD", "0", "str")
    # The destination of a *STORE command is overwritten whatever its type.
    diff.check("SINTERSTORE", "str", "ok")
    diff.check("TYPE", "str")
    diff.check("SUNIONSTORE", "h", "nokey")
    diff.check("EXISTS", "h")
    diff.check("SMEMBERS", "ok")


def test_encoding_intset_hashtable(diff):
    diff.check("SADD", "s", "1", "2", "3")
    diff.check(*ENC, "s")
    diff.check("SADD", "s", "a")
    diff.check(*ENC, "s")
    diff.check("SREM", "s", "a")
    diff.check(*ENC, "s")  # one-way
    for i, members in enumerate((("-5", "007"), ("9223372036854775807", "-9223372036854775808"),
                                 ("9223372036854775808",), ("+1",), (" 1",), ("-0",), ("0",), ("1.0",), ("",),
                                 ("a", "1"), ("1", "a"))):
        diff.check("SADD", f"k{i}", *members)
        diff.check(*ENC, f"k{i}")
    diff.check("SADD", "n", *range(512))
    diff.check(*ENC, "n")
    diff.check("SADD", "n", "511")
    diff.check(*ENC, "n")
    diff.check("SADD", "n", "512")
    diff.check(*ENC, "n")
    diff.check("SREM", "n", "512")
    diff.check(*ENC, "n")
    diff.check("SADD", "m", *range(513))
    diff.check(*ENC, "m")
    with diff.config("set-max-intset-entries", "3"):
        diff.check("SADD", "c", "1", "2", "3")
        diff.check(*ENC, "c")
        diff.check("SADD", "c", "4")
        diff.check(*ENC, "c")
    with diff.config("set-max-intset-entries", "0"):
        diff.check("SADD", "z", "1")
        diff.check(*ENC, "z")
    diff.check("SADD", "c", "5")
    diff.check(*ENC, "c")


def test_encoding_of_computed_sets(diff):
    diff.check("SADD", "a", "1", "2", "3", "x")
    diff.check("SADD", "b", "1", "2", "3", "y")
    diff.check("SADD", "c", "1", "2", "3")
    for cmd in (("SINTERSTORE", "d", "a", "b"), ("SUNIONSTORE", "d", "a"), ("SUNIONSTORE", "d", "c"),
                ("SDIFFSTORE", "d", "a", "b"), ("SDIFFSTORE", "d", "c"), ("SDIFFSTORE", "d", "a", "x"),
                ("SINTERSTORE", "d", "c", "a")):
        diff.check(*cmd)
        diff.check(*ENC, "d")
        diff.same("SMEMBERS", "d")
    # SMOVE creates the destination from the moved member.
    diff.check("SMOVE", "a", "new1", "x")
    diff.check(*ENC, "new1")
    diff.check("SMOVE", "a", "new2", "1")
    diff.check(*ENC, "new2")
    diff.check("SMOVE", "b", "new2", "y")
    diff.check(*ENC, "new2")


def test_sdiffstore_algorithm_choice_shows_in_encoding(diff):
    """SDIFF picks one of two algorithms; the second builds the result from the whole first set
    (so it becomes a hashtable when that set is too big for an intset) and then removes."""
    with diff.config("set-max-intset-entries", "20"):
        diff.check("SADD", "big", *range(1, 31))
        diff.check("SADD", "e1", *range(1, 11))
        diff.check("SADD", "e2", *range(11, 16))
        diff.check("SADD", "e3", *range(16, 21))
        diff.check("SADD", "e4", *range(16, 31))
        diff.check("SADD", "mixed", *range(1, 31), "x")
        for cmd in (("SDIFFSTORE", "d", "big", "e1", "e2", "e3"), ("SDIFFSTORE", "d", "big", "e4"),
                    ("SDIFFSTORE", "d", "big", "e1", "e2", "e3", "nokey"), ("SDIFFSTORE", "d", "mixed", "e4"),
                    ("SDIFFSTORE", "d", "e1", "big"), ("SDIFFSTORE", "d", "big", "big"),
                    ("SDIFFSTORE", "d", "big", "e1", "big")):
            diff.check(*cmd)
            diff.check(*ENC, "d")
            diff.same("SMEMBERS", "d")
        diff.same_sorted_as_theirs("SDIFF", "big", "e4")  # big is a listpack in 7.2+
        diff.check("SUNION", "e1", "e2", "e3")
        diff.same("SUNION", "e1", "e2", "e3", "e4")


def test_set_algebra(diff):
    diff.check("SADD", "a", "1", "2", "3", "x", "y")
    diff.check("SADD", "b", "2", "3", "y", "z")
    diff.check("SADD", "c", "3", "y", "w")
    diff.check("SET", "str", "v")
    combos = [("a",), ("a", "b"), ("b", "a"), ("a", "b", "c"), ("a", "nokey"), ("nokey", "a"), ("a", "a"),
              ("a", "b", "a"), ("nokey",), ("c", "b", "a")]
    for keys in combos:
        for cmd in ("SINTER", "SUNION", "SDIFF"):
            diff.same(cmd, *keys)
        diff.check("SINTERCARD", len(keys), *keys)
        for cmd in ("SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"):
            diff.check(cmd, "dst", *keys)
            diff.same("SMEMBERS", "dst")
            diff.check("EXISTS", "dst")
    # The destination may be one of the sources.
    diff.check("SUNIONSTORE", "a", "a", "c")
    diff.same("SMEMBERS", "a")
    diff.check("SINTERSTORE", "b", "b", "a")
    diff.same("SMEMBERS", "b")
    diff.check("SDIFFSTORE", "c", "c", "c")
    diff.check("EXISTS", "c")
    # *STORE replaces the destination's TTL.
    diff.check("SADD", "d", "1")
    diff.check("EXPIRE", "d", "100")
    diff.check("SUNIONSTORE", "d", "a")
    diff.check("TTL", "d")


def test_sintercard(diff):
    diff.check("SADD", "a", "1", "2", "3", "4", "x")
    diff.check("SADD", "b", "2", "3", "4", "x", "y")
    for args in (("1", "a"), ("2", "a", "b"), ("2", "a", "b", "LIMIT", "0"), ("2", "a", "b", "LIMIT", "2"),
                 ("2", "a", "b", "limit", "100"), ("2", "a", "nokey"), ("1", "nokey"),
                 ("2", "a", "b", "LIMIT", "1", "LIMIT", "3"), ("0", "a"), ("-1", "a"), ("x", "a"), ("3", "a", "b"),
                 ("2", "a", "b", "LIMIT"), ("2", "a", "b", "LIMIT", "-1"), ("2", "a", "b", "LIMIT", "x"),
                 ("2", "a", "b", "FOO"), ("9223372036854775808", "a"), ("1", "a", "b")):
        diff.check("SINTERCARD", *args)


def test_spop(diff):
    diff.check("SPOP", "nokey")
    diff.check("SPOP", "nokey", "3")
    diff.check("SPOP", "nokey", "0")
    for bad in (("-1",), ("x",), ("1.5",), ("9223372036854775808",), ("1", "2")):
        diff.check("SPOP", "nokey", *bad)
    members = {b"a", b"b", b"c", b"d", b"e", b"1", b"2"}
    diff.check("SADD", "s", *members)
    a, b = diff.both("SPOP", "s")
    assert a in members and b in members
    diff.check("SCARD", "s")
    diff.check("SPOP", "s", "0")
    a, b = diff.both("SPOP", "s", "2")  # fewer than size/5 ... or not: both strategies give a set
    assert len(a) == len(b) == 2 and set(a) <= members and type(a) is type(b)
    diff.check("SCARD", "s")
    a, b = diff.both("SPOP", "s", "3")
    assert len(set(a)) == len(b) == 3
    diff.check("SCARD", "s")
    a, b = diff.both("SPOP", "s", "10")  # the rest
    assert len(a) == len(b) == 1 and type(a) is type(b)
    diff.check("EXISTS", "s")
    diff.check("SADD", "one", "x")
    diff.check("SPOP", "one")
    diff.check("EXISTS", "one")
    diff.check("SADD", "big", *range(100))
    for n in ("5", "60"):  # popping a few, and popping most (Redis's two strategies)
        a, b = diff.both("SPOP", "big", n)
        assert len(set(a)) == len(set(b)) == int(n)
        diff.check("SCARD", "big")
        diff.check(*ENC, "big")


def test_srandmember(diff):
    diff.check("SRANDMEMBER", "nokey")
    diff.check("SRANDMEMBER", "nokey", "5")
    diff.check("SRANDMEMBER", "nokey", "-5")
    for bad in (("x",), ("1.5",), ("-9223372036854775808",), ("1", "2")):
        diff.check("SRANDMEMBER", "nokey", *bad)
    members = {b"a", b"b", b"c", b"d", b"e", b"1", b"2"}
    diff.check("SADD", "s", *members)
    diff.check("SRANDMEMBER", "s", "0")
    for bad in (("x",), ("-9223372036854775808",), ("1", "2")):
        diff.check("SRANDMEMBER", "s", *bad)
    a, b = diff.both("SRANDMEMBER", "s")
    assert a in members and b in members
    for n in (1, 3, 6, 7, 100, 9223372036854775807):
        a, b = diff.both("SRANDMEMBER", "s", n)
        assert type(a) is type(b) is list
        assert len(a) == len(b) == min(n, 7) and len(set(a)) == len(a) and set(a) <= members
    for n in (-1, -3, -20):
        a, b = diff.both("SRANDMEMBER", "s", n)
        assert len(a) == len(b) == -n and set(a) <= members
    diff.check("SCARD", "s")


def test_smove(diff):
    diff.check("SADD", "a", "1", "2", "3", "x")
    diff.check("SADD", "b", "9")
    diff.check("SET", "str", "v")
    for cmd in (("SMOVE", "a", "b", "1"), ("SMOVE", "a", "b", "1"), ("SMOVE", "a", "b", "zz"),
                ("SMOVE", "nokey", "b", "1"), ("SMOVE", "a", "a", "2"), ("SMOVE", "a", "a", "zz"),
                ("SMOVE", "a", "str", "2"), ("SMOVE", "str", "a", "2"), ("SMOVE", "nokey", "str", "2"),
                ("SMOVE", "a", "new", "x"), ("SADD", "b", "2"), ("SMOVE", "a", "b", "2"),
                ("SMOVE", "a", "b", "3")):
        diff.check(*cmd)
    diff.check("EXISTS", "a")
    diff.check("SMEMBERS", "b")
    diff.check("SMEMBERS", "new")
    diff.check(*ENC, "b")


def test_sscan(diff):
    diff.check("SSCAN", "nokey", "0")
    diff.check("SSCAN", "nokey", "0", "COUNT", "0")
    diff.check("SADD", "i", "5", "1", "30", "12")
    for args in (("0",), ("7",), ("",), ("0", "COUNT", "1"), ("0", "MATCH", "1*"), ("0", "MATCH", "[0-2]")):
        diff.check("SSCAN", "i", *args)
    diff.check("SADD", "h", "a", "b", "ab")
    for args in (("x",), ("0", "COUNT", "0"), ("0", "COUNT", "x"), ("0", "MATCH"), ("0", "TYPE", "set"),
                 ("0", "foo", "bar")):
        diff.check("SSCAN", "h", *args)
    diff.check("SADD", "big", *[f"m{i}" for i in range(1000)])
    for opts in ((), ("COUNT", "50"), ("MATCH", "m1*")):
        seen = {}
        for side, client in (("ours", diff.ours), ("theirs", diff.theirs)):
            cursor, items = b"0", []
            while True:
                cursor, batch = client.call("SSCAN", "big", cursor, *opts)
                items.extend(batch)
                if cursor == b"0":
                    break
            seen[side] = set(items)
        assert seen["ours"] == seen["theirs"]


def test_copy_and_expiry(diff):
    diff.check("SADD", "src", "1", "2")
    diff.check("SADD", "hs", "a")
    diff.check("COPY", "src", "dst")
    diff.check("COPY", "hs", "hdst")
    diff.check("SADD", "dst", "3")
    diff.check("SMEMBERS", "src")
    diff.check("SMEMBERS", "dst")
    diff.check(*ENC, "dst")
    diff.check(*ENC, "hdst")
    diff.check("PEXPIRE", "src", "1")
    time.sleep(0.01)
    diff.check("SCARD", "src")
    diff.check("SISMEMBER", "src", "1")


# --- effects seen from inside: propagation and the dirty counter ----------------------------

@pytest.fixture
def run():
    from pyredis.core.client import Client
    from pyredis.core.dispatch import execute
    from pyredis.core.state import ServerState

    state = ServerState()
    log = Effects(argv_only=True)
    state.propagation.add_sink(log)
    c = Client(state)

    def run(*args):
        return execute(c, [a if isinstance(a, bytes) else str(a).encode() for a in args])

    run.log = log
    run.state = state
    return run


def test_spop_propagates_as_srem(run):
    """As redis-server 7.0.15 writes its AOF: SPOP -> SREM; SPOP count -> one SREM per member in
    MULTI/EXEC (one member: no wrapping); popping the whole set -> DEL, whatever lazyfree says."""
    run("SADD", "s", *range(10))
    r = run("SPOP", "s")
    assert run.log[-1] == [b"SREM", b"s", r]
    n = len(run.log)
    r = run("SPOP", "s", "3")
    assert run.log[n:] == [[b"MULTI"], *([b"SREM", b"s", m] for m in r), [b"EXEC"]]
    n = len(run.log)
    r = run("SPOP", "s", "1")
    assert run.log[n:] == [[b"SREM", b"s", r[0]]]
    n = len(run.log)
    run("SPOP", "s", "0")
    run("SPOP", "nokey")
    run("SPOP", "nokey", "5")
    assert len(run.log) == n
    run("SPOP", "s", "100")
    assert run.log[-1] == [b"DEL", b"s"]
    run("CONFIG", "SET", "lazyfree-lazy-server-del", "yes")
    run("SADD", "s", "a", "b")
    run("SPOP", "s", "2")
    assert run.log[-1] == [b"DEL", b"s"]
    run("CONFIG", "SET", "lazyfree-lazy-server-del", "no")
    # Inside MULTI/EXEC, the transaction is the only wrapping.
    run("SADD", "big", *range(30))
    n = len(run.log)
    run("MULTI")
    run("SPOP", "big", "2")
    run("SPOP", "big", "3")
    r = run("EXEC")
    log = run.log[n:]
    assert log[0] == [b"MULTI"] and log[-1] == [b"EXEC"] and len(log) == 2 + 5
    assert [m for argv in log[1:-1] for m in argv[2:]] == r[0] + r[1]
    assert all(argv[:2] == [b"SREM", b"big"] for argv in log[1:-1])


def test_noops_do_not_propagate(run):
    run("SADD", "s", "a")
    n, d = len(run.log), run.state.dirty
    run("SADD", "s", "a")
    run("SREM", "s", "zz")
    run("SMOVE", "s", "t", "zz")
    run("SMOVE", "nokey", "t", "a")
    run("SINTERSTORE", "nokey2", "nokey")
    assert len(run.log) == n and run.state.dirty == d
    run("SMOVE", "s", "t", "a")
    assert run.log[-1] == [b"SMOVE", b"s", b"t", b"a"]
    assert run("EXISTS", "s") == 0


def _changes(client) -> int:
    info = client.call("INFO", "persistence")
    line = next(x for x in bytes(info).split(b"\r\n") if x.startswith(b"rdb_changes_since_last_save:"))
    return int(line.split(b":")[1])


def test_dirty_counts_like_redis(diff):
    """rdb_changes_since_last_save grows by what Redis counts: one per member/field changed."""
    for cmd in (("SADD", "s", "a", "b", "c", "a"), ("SADD", "s", "a"), ("SREM", "s", "a", "b", "zz"),
                ("SADD", "t", *range(10)), ("SPOP", "t", "3"), ("SPOP", "t", "100"), ("SPOP", "s"),
                ("HSET", "h", "a", "1", "b", "2", "a", "3"), ("HMSET", "h", "c", "1"), ("HDEL", "h", "a", "b", "zz"),
                ("HSETNX", "h", "c", "1"), ("HINCRBY", "h", "n", "1"), ("SADD", "u", "1"),
                ("SMOVE", "u", "v", "1"), ("SUNIONSTORE", "w", "v"), ("SINTERSTORE", "w", "nokey")):
        before = (_changes(diff.ours), _changes(diff.theirs))
        diff.both(*cmd)
        after = (_changes(diff.ours), _changes(diff.theirs))
        assert after[0] - before[0] == after[1] - before[1], cmd


# --- keyspace notifications ----------------------------------------------------------------


def test_keyspace_notifications(pyredis_srv, real_redis):
    script = [("SADD", "s", "a", "b", "c"), ("SADD", "s", "a"), ("SREM", "s", "zz"), ("SREM", "s", "a"),
              ("SADD", "t", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"), ("SPOP", "t", "0"),
              ("SPOP", "t", "2"), ("SPOP", "t", "100"), ("SADD", "one", "x"), ("SPOP", "one"),
              ("SADD", "u", "1", "2"), ("SPOP", "nokey"), ("SMOVE", "s", "new", "b"), ("SMOVE", "s", "new", "c"),
              ("SADD", "v", "c"), ("SMOVE", "new", "v", "c"), ("SMOVE", "new", "v", "zz"),
              ("SINTERSTORE", "d", "v", "new"), ("SUNIONSTORE", "d", "v", "u"), ("SUNIONSTORE", "d", "v"),
              ("SDIFFSTORE", "d", "v", "v"), ("SDIFFSTORE", "d", "v", "v"), ("SINTERSTORE", "d2", "nokey"),
              ("SREM", "u", "1", "2"), ("SMEMBERS", "v")]
    for flags in ("KEA", "KEsgn", "Ks", "Eg"):
        assert keyspace_events(pyredis_srv.port, script, flags) == keyspace_events(real_redis.port, script, flags), flags


# --- WATCH: which calls count as a modification -------------------------------------------

def _watch_outcome(port, setup, watched, cmd):
    a, b = RawClient("127.0.0.1", port), RawClient("127.0.0.1", port)
    try:
        a.call("FLUSHALL")
        for s in setup:
            a.call(*s)
        a.call("WATCH", watched)
        b.call(*cmd)
        a.call("MULTI")
        a.call("PING")
        return a.call("EXEC")
    finally:
        a.close()
        b.close()


WATCH_CASES = [
    # (setup, watched key, command)
    ([("SADD", "s", "a")], "s", ("SADD", "s", "a")),
    ([("SADD", "s", "a")], "s", ("SADD", "s", "b")),
    ([("SADD", "s", "a")], "s", ("SREM", "s", "zz")),
    ([("SADD", "s", "a")], "s", ("SREM", "s", "a")),
    ([("SADD", "s", "a")], "s", ("SPOP", "s", "0")),
    ([("SADD", "s", "a", "b")], "s", ("SPOP", "s")),
    ([("SADD", "s", "a", "b")], "s", ("SPOP", "s", "5")),
    ([("SADD", "s", "a")], "s", ("SMOVE", "s", "s", "a")),
    ([("SADD", "s", "a")], "s", ("SMOVE", "s", "t", "zz")),
    ([("SADD", "s", "a"), ("SADD", "t", "a")], "t", ("SMOVE", "s", "t", "a")),
    ([("SADD", "s", "a"), ("SADD", "t", "a")], "s", ("SMOVE", "s", "t", "a")),
    ([("SADD", "s", "a")], "t", ("SMOVE", "s", "t", "a")),
    ([("SADD", "s", "a")], "s", ("SINTERSTORE", "d", "s")),
    ([("SADD", "s", "a")], "d", ("SINTERSTORE", "d", "s")),
    ([("SADD", "s", "a")], "d", ("SINTERSTORE", "d", "nokey")),
    ([("SADD", "s", "a"), ("SADD", "d", "x")], "d", ("SINTERSTORE", "d", "nokey")),
    ([("SADD", "s", "a")], "d", ("SDIFFSTORE", "d", "s", "s")),
    ([("SADD", "s", "a"), ("SADD", "d", "x")], "d", ("SUNIONSTORE", "d", "nokey")),
    ([("SADD", "s", "a")], "s", ("SMEMBERS", "s")),
    ([("HSET", "h", "a", "1")], "h", ("HSET", "h", "a", "1")),
    ([("HSET", "h", "a", "1")], "h", ("HSETNX", "h", "a", "2")),
    ([("HSET", "h", "a", "1")], "h", ("HSETNX", "h", "b", "2")),
    ([("HSET", "h", "a", "1")], "h", ("HDEL", "h", "zz")),
    ([("HSET", "h", "a", "1")], "h", ("HDEL", "h", "a")),
    ([("HSET", "h", "a", "x")], "h", ("HINCRBY", "h", "a", "1")),
    ([("HSET", "h", "a", "1")], "h", ("HINCRBY", "h", "a", "1")),
    ([("HSET", "h", "a", "1")], "h", ("HINCRBYFLOAT", "h", "a", "1")),
    ([("HSET", "h", "a", "1")], "h", ("HGETALL", "h")),
]


@pytest.mark.parametrize("case", range(len(WATCH_CASES)))
def test_watch_is_invalidated_like_redis(pyredis_srv, real_redis, case):
    setup, watched, cmd = WATCH_CASES[case]
    ours = _watch_outcome(pyredis_srv.port, setup, watched, cmd)
    theirs = _watch_outcome(real_redis.port, setup, watched, cmd)
    assert ours == theirs, (cmd, ours, theirs)


def test_restore_encoding(diff):
    """RESTORE (RDB loading) rebuilds the encoding: a hashtable of integers comes back as an
    intset; an intset over the current limit comes back as a hashtable."""
    diff.check("SADD", "ints", "1", "2", "x")
    diff.check("SREM", "ints", "x")
    diff.check("SADD", "small", "1", "2", "3", "4")
    diff.check("SADD", "strs", "a", "b")
    payloads = {k: diff.theirs.call("DUMP", k) for k in ("ints", "small", "strs")}
    with diff.config("set-max-intset-entries", "3"):
        for k, p in payloads.items():
            diff.check("RESTORE", k + "2", "0", p)
            diff.check(*ENC, k + "2")
            diff.same("SMEMBERS", k + "2")


# --- small sets: listpack in 7.2+ (t_set.c), intset/hashtable in 7.0 ------------------------
# Every test below runs in each mode against that mode's server. Where an answer depends on the
# release (the encoding a command picks, the order of a listpack, the directives that exist),
# the test asks the reference server rather than knowing the release.


def _members(diff, key, ordered: bool = True):
    """SMEMBERS compared exactly where the reference server's encoding has an order of its own
    (intset, listpack), as sets for a hashtable - or when the listpack's order was taken from a
    hashtable's iteration (ordered=False). OBJECT ENCODING is compared too."""
    enc = diff.check(*ENC, key)
    if enc == b"hashtable" or not ordered:
        return diff.same("SMEMBERS", key)
    return diff.check("SMEMBERS", key)


def _has_directive(diff, name: str) -> bool:
    """The directive exists in the reference server (CONFIG GET of it agrees on both)."""
    return bool(diff.check("CONFIG", "GET", name))


def test_small_set_encodings(diff):
    """Creation, growth and the one-way conversions: an intset that gets a string becomes a
    listpack (its integers ascending, then the string) while it is small, a listpack that
    grows past 128 members or gets a member over 64 bytes becomes a hashtable, and SADD's
    argument count converts at once."""
    cases = [("s1", ("a", "b", "c")), ("s2", ("1", "2", "x", "3")), ("s3", ("x", "1", "y")),
             ("s4", ("9", "-1", "5", "a", "-7")), ("s5", ("007", "+1", "-0", "1.0", " 1", "", "0")),
             ("s6", ("a" * 64, "b")), ("s7", ("a" * 65,)), ("s8", ("1", "a" * 65)), ("s9", ("1", "a" * 64)),
             ("s10", tuple(f"m{i}" for i in range(128))), ("s11", tuple(f"m{i}" for i in range(129))),
             ("s12", (*range(127), "x")), ("s13", (*range(128), "x")), ("s14", tuple(range(513))),
             ("s15", ("9223372036854775807", "-9223372036854775808", "x")), ("s16", ("x", "x", "y", "x"))]
    for key, members in cases:
        diff.check("SADD", key, *members)
        _members(diff, key)
        if diff.check(*ENC, key) != b"hashtable":  # the iteration order (a listpack's is its own)
            diff.check("SORT", key, "BY", "nosort")
            diff.check("SSCAN", key, "0", "COUNT", "1000")
    # one member at a time: intset -> listpack (ascending integers, then appended) -> hashtable
    for m in ("5", "3", "b", "1", "a"):
        diff.check("SADD", "inc", m)
        _members(diff, "inc")
    diff.check("SREM", "inc", "3", "zz")
    _members(diff, "inc")
    diff.check("SADD", "inc", "3")
    _members(diff, "inc")
    for i in range(125):
        diff.check("SADD", "inc", f"e{i}")
        if i >= 120:
            _members(diff, "inc")
    diff.check("SREM", "inc", *(f"e{i}" for i in range(100)))
    _members(diff, "inc")  # one-way
    diff.check("SADD", "long", "a", "b")
    diff.check("SADD", "long", "x" * 64)
    _members(diff, "long")
    diff.check("SADD", "long", "y" * 65)
    _members(diff, "long")
    diff.check("SREM", "long", "y" * 65)
    _members(diff, "long")
    # SADD's size hint: 129 arguments convert an existing listpack (513 an intset), new or not
    diff.check("SADD", "hint", "a")
    diff.check("SADD", "hint", *(["a"] * 129))
    _members(diff, "hint")
    diff.check("SADD", "ihint", "1")
    diff.check("SADD", "ihint", *(["1"] * 513))
    _members(diff, "ihint")
    diff.check("SADD", "ihint2", "1")
    diff.check("SADD", "ihint2", *(["1"] * 200))
    _members(diff, "ihint2")
    diff.check("COPY", "s4", "s4copy")
    _members(diff, "s4copy")
    diff.check("SADD", "s4copy", "z")
    _members(diff, "s4copy")
    for key in ("s1", "s2", "s7", "s14", "nokey"):
        diff.check("DEBUG", "LISTPACK", key)


def test_small_set_directives(diff):
    """set-max-listpack-entries / -value (7.2+): CONFIG GET/SET as the reference server has
    them, and the limits they set."""
    diff.same("CONFIG", "GET", "set-max-*")
    if not _has_directive(diff, "set-max-listpack-entries"):
        for name in ("set-max-listpack-entries", "set-max-listpack-value"):  # 7.0: unknown
            diff.check("CONFIG", "SET", name, "10")
            diff.check("CONFIG", "GET", name)
        return
    for name in ("set-max-listpack-entries", "set-max-listpack-value"):
        diff.check("CONFIG", "GET", name)
        with diff.config(name, "9223372036854775807"):
            for value in ("-1", "x", "1k", "9223372036854775808", "0"):
                diff.check("CONFIG", "SET", name, value)
                diff.check("CONFIG", "GET", name)
    with diff.config("set-max-listpack-value", "3"):
        for key, members in (("v1", ("1000", "1")), ("v2", ("1", "2")), ("v3", ("ab",)), ("v4", ("abcd",))):
            diff.check("SADD", key, *members)
            _members(diff, key)
        diff.check("SADD", "v1", "a")  # the intset's longest integer (4 digits) is over the limit
        diff.check("SADD", "v2", "a")
        diff.check("SADD", "v3", "abc")
        _members(diff, "v1")
        _members(diff, "v2")
        _members(diff, "v3")
        diff.check("SADD", "v2", "abcd")
        _members(diff, "v2")
    with diff.config("set-max-listpack-entries", "0"):
        diff.check("SADD", "z1", "a")
        diff.check("SADD", "z2", "1")
        diff.check("SADD", "z2", "a")
        _members(diff, "z1")
        _members(diff, "z2")
    with diff.config("set-max-listpack-entries", "3"):
        diff.check("SADD", "e1", "a", "b", "c")
        _members(diff, "e1")
        diff.check("SADD", "e1", "d")
        _members(diff, "e1")
        diff.check("SADD", "e2", "1", "2")
        diff.check("SADD", "e2", "x")
        _members(diff, "e2")
        diff.check("SADD", "e3", "1", "2", "3")
        diff.check("SADD", "e3", "x")
        _members(diff, "e3")
    with diff.config("set-max-intset-entries", "2"):
        diff.check("SADD", "i1", "1", "2", "3")
        _members(diff, "i1")
        diff.check("SADD", "i2", "1", "2")
        diff.check("SADD", "i2", "3")
        _members(diff, "i2")


def test_small_set_computed_encodings(diff):
    """What SINTERSTORE, SUNIONSTORE, SDIFFSTORE, SMOVE and SPOP make, in the order the server
    builds it."""
    diff.check("SADD", "a", "1", "2", "3", "x", "y")
    diff.check("SADD", "b", "3", "x", "y", "z", "2")
    diff.check("SADD", "c", "3", "4", "5")
    diff.check("SADD", "d", "7", "1", "q")
    diff.check("SADD", "big", *(f"m{i}" for i in range(200)), *range(10))
    diff.check("SADD", "bigint", *range(600))
    diff.check("SADD", "hs", *(f"m{i}" for i in range(200)))
    diff.check("SREM", "hs", *(f"m{i}" for i in range(5, 200)))  # a hashtable of 5
    stores = [("SINTERSTORE", "r", "a", "b"), ("SINTERSTORE", "r", "b", "a"), ("SINTERSTORE", "r", "c", "a"),
              ("SINTERSTORE", "r", "a", "c"), ("SINTERSTORE", "r", "a", "bigint"), ("SINTERSTORE", "r", "d", "a"),
              ("SINTERSTORE", "r", "a", "a"), ("SUNIONSTORE", "r", "a", "b"), ("SUNIONSTORE", "r", "c", "a"),
              ("SUNIONSTORE", "r", "c"), ("SUNIONSTORE", "r", "c", "d"), ("SUNIONSTORE", "r", "d", "c"),
              ("SUNIONSTORE", "r", "a", "big"), ("SDIFFSTORE", "r", "a", "b"), ("SDIFFSTORE", "r", "a", "c"),
              ("SDIFFSTORE", "r", "b", "a"), ("SDIFFSTORE", "r", "d", "a"), ("SDIFFSTORE", "r", "a", "nokey"),
              ("SDIFFSTORE", "r", "bigint", "c"), ("SINTERSTORE", "r", "bigint", "c")]
    for cmd in stores:
        diff.check(*cmd)
        if _members(diff, "r") and diff.check(*ENC, "r") != b"hashtable":
            diff.check("MEMORY", "USAGE", "r")  # a listpack's or intset's allocation
    # results whose order comes from a hashtable's iteration
    for cmd in (("SINTERSTORE", "r", "big", "bigint"), ("SINTERSTORE", "r", "hs", "big"),
                ("SDIFFSTORE", "r", "hs", "a"), ("SUNIONSTORE", "r", "hs"), ("SDIFFSTORE", "r", "big", "hs"),
                ("SDIFFSTORE", "r", "bigint", "big")):
        diff.check(*cmd)
        _members(diff, "r", ordered=False)
    for keys in (("a", "b"), ("b", "a"), ("c", "a"), ("a", "c", "d"), ("d", "c"), ("a", "big"), ("hs",)):
        for cmd in ("SINTER", "SUNION", "SDIFF"):
            diff.same(cmd, *keys)
    for cmd in (("SMOVE", "a", "m1", "x"), ("SMOVE", "a", "m2", "1"), ("SMOVE", "b", "m2", "z"),
                ("SMOVE", "b", "m2", "3"), ("SMOVE", "big", "m3", "m7")):
        diff.check(*cmd)
    for key in ("m1", "m2", "m3", "a", "b"):
        _members(diff, key)


def _subsequence(part, whole) -> bool:
    it = iter(whole)
    return all(x in it for x in part)


def test_small_set_random_members(diff):
    """SRANDMEMBER/SPOP with a count: the counts, and (a listpack) members in the listpack's
    order, a popped-down big set rebuilt as the server rebuilds it."""
    members = [f"m{i}" for i in range(6)] + ["1", "2", "300", "-4"]
    diff.check("SADD", "s", *members)
    both_members = diff.both("SMEMBERS", "s")
    listpack = diff.check(*ENC, "s") == b"listpack"
    for n in (1, 2, 3, 9, 10, 11, 100, -1, -3, -25):
        a, b = diff.both("SRANDMEMBER", "s", n)
        assert type(a) is type(b) is list and len(a) == len(b) == (min(n, 10) if n > 0 else -n), n
        for reply, order in zip((a, b), both_members):
            assert set(reply) <= set(order)
            if n > 0:
                assert len(set(reply)) == len(reply)
                if listpack:  # one pass over the listpack: its order
                    assert _subsequence(reply, order), (n, reply, order)
    for n, left in ((2, 8), (6, 2), (1, 1), (5, 0)):  # a few; most (the rest kept in a new set); all
        before = diff.both("SMEMBERS", "s")
        listpack = diff.check(*ENC, "s") == b"listpack" if left else False
        a, b = diff.both("SPOP", "s", n)
        assert type(a) is type(b) and len(a) == len(b) == min(n, len(before[0])), n
        for reply, order in zip((a, b), before):
            assert set(reply) <= set(order) and len(set(reply)) == len(reply)
            if listpack:
                assert _subsequence(reply, order), (n, reply, order)
        diff.check("SCARD", "s")
        diff.check(*ENC, "s")  # (which members stay is random)
    # an intset: most popped (a new intset keeps the rest, the others are replied ascending)
    diff.check("SADD", "i", *range(20))
    a, b = diff.both("SPOP", "i", 18)
    assert len(a) == len(b) == 18
    if b == sorted(b, key=int):
        assert a == sorted(a, key=int)
    diff.check(*ENC, "i")
    # a hashtable popped down to a few: 7.2 keeps them in a new listpack (even integers)
    for key, values in (("h", [f"m{i}" for i in range(200)]), ("hi", list(range(600)))):
        diff.check("SADD", key, *values)
        a, b = diff.both("SPOP", key, len(values) - 10)
        assert len(a) == len(b) == len(values) - 10
        diff.check("SCARD", key)
        diff.check(*ENC, key)
    diff.check("SADD", "one", "a", "b", "c")
    a, b = diff.both("SPOP", "one", 3)
    assert sorted(a) == sorted(b) == [b"a", b"b", b"c"]
    diff.check("EXISTS", "one")


def _payload(type_byte: int, body: bytes, rdb_version: int) -> bytes:
    """A DUMP payload: the object, the RDB version, the CRC-64 (crafted input)."""
    import struct

    from pyredis.rdb.base import crc64

    data = bytes([type_byte]) + body + struct.pack("<H", rdb_version)
    return data + struct.pack("<Q", crc64(data))


def test_small_set_dump_restore(diff):
    """DUMP of every small set is the reference server's payload byte for byte (a listpack set
    is RDB type 20 in 7.2+); RESTORE of the reference server's payloads rebuilds the encoding
    it rebuilds (a plain SET payload of a few strings becomes a listpack in 7.2+)."""
    from pyredis.rdb.base import enc_string
    from pyredis.rdb.encodings import lp_build

    setups = {"lp": ("a", "1", "b", "-300", "x" * 64), "lp2": ("1", "2", "3", "q"), "ints": ("5", "1", "70000"),
              "long": ("abc" * 10, "abc" * 10 + "d", "z"), "num": ("007", "1.5", "-0")}
    for key, members in setups.items():
        diff.check("SADD", key, *members)
    diff.check("SREM", "lp", "1")
    diff.check("SADD", "hs", *(f"m{i}" for i in range(200)))
    diff.check("SREM", "hs", *(f"m{i}" for i in range(4, 200)))  # a hashtable of 4
    diff.check("SADD", "hsi", *range(600))
    diff.check("SREM", "hsi", *range(5, 600))  # a hashtable of 5 integers
    keys = [*setups, "hs", "hsi"]
    payloads = {}
    for key in keys:
        if diff.check(*ENC, key) != b"hashtable":  # (a hashtable's order is its own)
            diff.check("DUMP", key)
            diff.check("MEMORY", "USAGE", key)
        payloads[key] = diff.theirs.call("DUMP", key)
    limits = [("set-max-intset-entries", "512")]
    if _has_directive(diff, "set-max-listpack-entries"):
        limits += [("set-max-listpack-entries", "3"), ("set-max-listpack-value", "3")]
    for name, value in [("set-max-intset-entries", "512"), *limits[1:], ("set-max-intset-entries", "2")]:
        with diff.config(name, value):
            for key, p in payloads.items():
                diff.check("RESTORE", "r", "0", p, "REPLACE")
                _members(diff, "r")
                if diff.check(*ENC, "r") != b"hashtable":
                    diff.check("MEMORY", "USAGE", "r")
                    diff.check("DUMP", "r")
    # crafted payloads: a listpack set (type 20) at RDB version 10, which 7.0 does not know, an
    # empty one, a plain SET with a duplicate (always refused), and a listpack with one, which
    # Redis finds only with sanitize-dump-payload (pyredis, whose sets cannot hold one, always)
    lp = enc_string(lp_build([b"a", b"7", b"b"]), False)
    for p in (_payload(20, lp, 10), _payload(20, lp, 11), _payload(20, enc_string(lp_build([]), False), 10),
              _payload(2, b"\x02" + enc_string(b"a", False) + enc_string(b"a", False), 10),
              _payload(2, b"\x00", 10)):
        diff.check("RESTORE", "c", "0", p, "REPLACE")
        diff.check("EXISTS", "c")
        if diff.check(*ENC, "c"):
            _members(diff, "c")
    with diff.config("sanitize-dump-payload", "yes"):
        diff.check("RESTORE", "c", "0", _payload(20, enc_string(lp_build([b"a", b"a"]), False), 10), "REPLACE")


def _aof_commands(folder: str) -> list[list[bytes]]:
    from pyredis.persistence.aof import scan_commands

    path = glob.glob(os.path.join(folder, "appendonlydir", "*.incr.aof"))[0]
    with open(path, "rb") as f:
        return [argv for argv, _ in scan_commands(f.read()) if argv[0].upper() != b"SELECT"]


def _shape(log: list[list[bytes]]) -> list:
    """What an AOF says, the random members aside: each command's name, key and member count."""
    return [(argv[0].upper(), argv[1:2], len(argv)) for argv in log]


def test_spop_propagation_in_the_aof(tmp_path, compat_mode):
    """SPOP with a count as each server writes it to its AOF: 7.0 one SREM per member in
    MULTI/EXEC, 7.2 one SREM per 1024 members (wrapped only when there are several); popping
    the whole set a DEL (7.2: UNLINK under lazyfree-lazy-server-del)."""
    import pyredis
    from conftest import RealRedis

    script = [("SADD", "s", *range(10)), ("SPOP", "s", "3"), ("SPOP", "s", "1"), ("SPOP", "s", "5"),
              ("SADD", "big", *(f"m{i}" for i in range(1500))), ("SPOP", "big", "1200"), ("SPOP", "big", "250"),
              ("SADD", "h", *(f"m{i}" for i in range(200))), ("SPOP", "h", "190"), ("SPOP", "h", "100"),
              ("CONFIG", "SET", "lazyfree-lazy-server-del", "yes"), ("SADD", "l", "a", "b"), ("SPOP", "l", "5"),
              ("SADD", "i", *range(20)), ("SPOP", "i", "18")]
    whole = [("SPOP", "h", "100"), ("SPOP", "l", "5")]
    logs, replies = [], []
    for kind in ("ours", "theirs"):
        folder = tmp_path / kind
        folder.mkdir()
        if kind == "ours":
            srv = pyredis.Server(port=0, dir=str(folder), appendonly="yes", appendfsync="always",
                                 compat_version=compat_mode).start()
            port, stop = srv.port, srv.stop
        else:
            rr = RealRedis("--appendonly", "yes", "--appendfsync", "always", dir=str(folder), mode=compat_mode)
            port, stop = rr.port, rr.stop
        try:
            c = redis.Redis(port=port)
            got = [c.execute_command(*cmd) for cmd in script]
            c.close()
        finally:
            stop()
        log = _aof_commands(str(folder))
        logs.append(log)
        replies.append(got)
        # the SREMs name the members SPOP replied with (but for the pops of a whole set)
        popped = [m for argv in log if argv[0] == b"SREM" for m in argv[2:]]
        assert sorted(popped) == sorted(m for cmd, r in zip(script, got) if cmd[0] == "SPOP" and cmd not in whole
                                        for m in r)
    assert _shape(logs[0]) == _shape(logs[1])


def test_small_set_directives_at_start_up(tmp_path, compat_mode):
    """A config line of set-max-listpack-* starts the mode's server (7.2+) or stops it (7.0:
    Bad directive), pyredis alike, whether the mode comes before or after the line."""
    line = "set-max-listpack-value 0"
    import sys

    from directives_env import launch, low_port
    from oracles import oracle_binary

    outcomes = []
    for name, cmd in (("theirs", [oracle_binary(compat_mode)]),
                      ("ours", [sys.executable, "-m", "pyredis"]), ("ours-mode-last", [sys.executable, "-m", "pyredis"])):
        folder = tmp_path / name
        folder.mkdir()
        conf = [line, "save ''", "bind 127.0.0.1"]
        if name == "ours":
            conf.insert(0, f"compat-version {compat_mode}")
        elif name == "ours-mode-last":
            conf.append(f"compat-version {compat_mode}")
        (folder / "s.conf").write_text("\n".join(conf) + "\n")
        port = low_port()
        env = {k: v for k, v in os.environ.items() if k != "PYREDIS_COMPAT_VERSION"}
        out = launch([*cmd, "s.conf", "--port", str(port)], port, str(folder), env=env)
        try:
            text = out.output().strip().splitlines()
            outcomes.append((out.started, None if out.started else text[-3:]))
        finally:
            out.stop()
    theirs = outcomes[0]
    for ours in outcomes[1:]:
        assert ours[0] == theirs[0], (line, outcomes)
        if not theirs[0]:  # the same three lines: where, the line, why (the line number aside)
            assert ours[1][1:] == theirs[1][1:], outcomes
