"""Set commands, differentially against redis-server 7.0: SADD SREM SMEMBERS SISMEMBER
SMISMEMBER SCARD SPOP SRANDMEMBER SMOVE SINTER SINTERCARD SINTERSTORE SUNION SUNIONSTORE SDIFF
SDIFFSTORE SSCAN, their declarations, encodings (intset/hashtable), keyspace effects and
propagation.

Intsets are sorted, so Redis replies with their members in ascending order: where a set (or a
computed result) is an intset the comparison includes the order. Hashtable order cannot be
reproduced, so those replies are compared unordered."""

from __future__ import annotations

import time

import pytest

import pyredis.commands  # noqa: F401  (registers every command)
from events import keyspace_events
from effects import Effects
from resp import RawClient, RSet

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
        diff.check("SDIFF", "big", "e4")
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
