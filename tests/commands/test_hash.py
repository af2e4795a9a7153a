"""Hash commands, differentially against redis-server 7.0: HSET HSETNX HGET HMGET HMSET HDEL
HLEN HSTRLEN HEXISTS HKEYS HVALS HGETALL HINCRBY HINCRBYFLOAT HRANDFIELD HSCAN, their
declarations, encodings (listpack/hashtable), keyspace effects and propagation."""

from __future__ import annotations


import pytest

import pyredis.commands  # noqa: F401  (registers every command)
from effects import Effects
from events import keyspace_events
from resp import Map
from oracles import ALL_MODES

# Every mode, each against its release's server (the data-type suites cover each mode's replies).
pytestmark = pytest.mark.modes(*ALL_MODES)

LONG = "x" * 65
WRONGTYPE = b"WRONGTYPE Operation against a key holding the wrong kind of value"


def test_set_get_basics(diff):
    diff.check("HSET", "h", "a", "1", "b", "2")
    diff.check("HSET", "h", "a", "10", "c", "3")  # one new field
    diff.check("HSET", "h", "a", "10", "a", "11")  # repeated field in one call
    diff.check("HGET", "h", "a")
    diff.check("HGET", "h", "zz")
    diff.check("HGET", "nokey", "a")
    diff.check("HMGET", "h", "a", "zz", "b", "a")
    diff.check("HMGET", "nokey", "a", "b")
    diff.check("HMSET", "h", "d", "4", "e", "")
    diff.check("HMSET", "h2", "x", "y")
    diff.check("HSETNX", "h", "a", "no")
    diff.check("HSETNX", "h", "f", "6")
    diff.check("HSETNX", "new", "f", "6")
    diff.check("HLEN", "h")
    diff.check("HLEN", "nokey")
    diff.check("HSTRLEN", "h", "a")
    diff.check("HSTRLEN", "h", "e")
    diff.check("HSTRLEN", "h", "zz")
    diff.check("HSTRLEN", "nokey", "a")
    diff.check("HEXISTS", "h", "a")
    diff.check("HEXISTS", "h", "zz")
    diff.check("HEXISTS", "nokey", "a")
    # A listpack keeps insertion order, as a dict does: the order is part of the comparison.
    diff.check("HGETALL", "h")
    diff.check("HKEYS", "h")
    diff.check("HVALS", "h")
    diff.check("HGETALL", "nokey")
    diff.check("HKEYS", "nokey")
    diff.check("HVALS", "nokey")


def test_hgetall_is_a_map_in_resp3(diff):
    diff.check("HSET", "h", "a", "1", "b", "2")
    reply = diff.check("HGETALL", "h")
    if diff.resp == 3:
        assert type(reply) is Map and list(reply.items()) == [(b"a", b"1"), (b"b", b"2")]
    else:
        assert reply == [b"a", b"1", b"b", b"2"]


def test_arity_and_syntax_errors(diff):
    for cmd in (("HSET", "h"), ("HSET", "h", "a"), ("HSET", "h", "a", "1", "b"), ("HMSET", "h", "a"),
                ("HMSET", "h", "a", "1", "b"), ("HSETNX", "h", "a"), ("HGET", "h"), ("HMGET", "h"),
                ("HDEL", "h"), ("HLEN",), ("HSTRLEN", "h"), ("HEXISTS", "h"), ("HKEYS",), ("HVALS", "h", "x"),
                ("HGETALL",), ("HINCRBY", "h", "a"), ("HINCRBYFLOAT", "h", "a"), ("HRANDFIELD",),
                ("HSCAN", "h")):
        diff.check(*cmd)
    diff.check("EXISTS", "h")


def test_wrongtype(diff):
    diff.check("SET", "s", "x")
    diff.check("SADD", "set", "m")
    for key in ("s", "set"):
        for cmd in (("HSET", key, "a", "1"), ("HMSET", key, "a", "1"), ("HSETNX", key, "a", "1"),
                    ("HGET", key, "a"), ("HMGET", key, "a"), ("HDEL", key, "a"), ("HLEN", key),
                    ("HSTRLEN", key, "a"), ("HEXISTS", key, "a"), ("HKEYS", key), ("HVALS", key),
                    ("HGETALL", key), ("HINCRBY", key, "a", "1"), ("HINCRBYFLOAT", key, "a", "1"),
                    ("HRANDFIELD", key), ("HRANDFIELD", key, "2"), ("HRANDFIELD", key, "2", "WITHVALUES"),
                    ("HSCAN", key, "0")):
            assert diff.check(*cmd) == WRONGTYPE
    diff.check("GET", "s")
    diff.check("SMEMBERS", "set")
    # HSET checks its arity before the type; HRANDFIELD parses the count first.
    diff.check("HSET", "s", "a", "1", "b")
    diff.check("HRANDFIELD", "s", "x")
    diff.check("HRANDFIELD", "s", "1", "x")
    diff.check("HSCAN", "s", "x")
    diff.check("HINCRBY", "s", "a", "x")
    diff.check("HINCRBYFLOAT", "s", "a", "x")


def test_hdel_removes_empty_hash(diff):
    diff.check("HSET", "h", "a", "1", "b", "2", "c", "3")
    diff.check("HDEL", "h", "a", "zz", "a")
    diff.check("HDEL", "nokey", "a")
    diff.check("HGETALL", "h")
    diff.check("HDEL", "h", "b", "c", "d")
    diff.check("EXISTS", "h")
    diff.check("TYPE", "h")
    diff.check("HSET", "h", "a", "1")
    diff.check("EXPIRE", "h", "100")
    diff.check("HDEL", "h", "a")
    diff.check("TTL", "h")
    diff.check("HSET", "h", "a", "1")
    diff.check("TTL", "h")


def test_hincrby(diff):
    diff.check("HINCRBY", "h", "n", "5")
    diff.check("HINCRBY", "h", "n", "-10")
    diff.check("HINCRBY", "h", "n", "0")
    diff.check("HINCRBY", "h", "n", "x")
    diff.check("HINCRBY", "h", "n", "1.5")
    diff.check("HINCRBY", "h", "n", " 1")
    diff.check("HINCRBY", "h", "n", "9223372036854775808")
    diff.check("HSET", "h", "max", "9223372036854775807", "min", "-9223372036854775808")
    diff.check("HINCRBY", "h", "max", "1")
    diff.check("HINCRBY", "h", "max", "0")
    diff.check("HINCRBY", "h", "max", "-1")
    diff.check("HINCRBY", "h", "min", "-1")
    diff.check("HINCRBY", "h", "min", "9223372036854775807")
    for bad in ("foo", "", "00012", " 12", "12 ", "+1", "1.0", "9223372036854775808", "-0"):
        diff.check("HSET", "h", "bad", bad)
        diff.check("HINCRBY", "h", "bad", "1")
    diff.check("HGETALL", "h")
    diff.check("HINCRBY", "fresh", "a", "-7")
    diff.check("HGETALL", "fresh")


def test_hincrbyfloat(diff):
    for incr in ("10.5", "0.1", "-3", "1e10", "0x10", "1.e2", ".5", "-0.0000000000000000001", "5.0000000000000000001",
                 "1e-300", "3.0e+2", "-1234567.8901234567"):
        diff.check("HINCRBYFLOAT", "h", "f", incr)
    for bad in ("abc", "", " 1", "1 ", "1e5000", "1e-5000", "nan", "inf", "-inf", "+infinity", "1e", "0x"):
        diff.check("HINCRBYFLOAT", "h", "f", bad)
    diff.check("HINCRBYFLOAT", "h", "big", "1e400")
    diff.check("HINCRBYFLOAT", "h", "big", "1e400")
    diff.check("HSET", "h", "m", "1.797e308")
    diff.check("HINCRBYFLOAT", "h", "m", "1.797e308")
    diff.check("HSET", "h", "top", "1e4932")
    diff.check("HINCRBYFLOAT", "h", "top", "1e4932")
    for stored in ("foo", "", " 1", "1 ", "inf", "nan", "1e5000"):
        diff.check("HSET", "h", "s", stored)
        diff.check("HINCRBYFLOAT", "h", "s", "1")
    diff.check("HSET", "h", "i", "5")
    diff.check("HINCRBYFLOAT", "h", "i", "2.5")
    diff.check("HINCRBY", "h", "i", "1")
    diff.same("HGETALL", "h")


def test_hrandfield(diff):
    diff.check("HRANDFIELD", "nokey")
    diff.check("HRANDFIELD", "nokey", "5")
    diff.check("HRANDFIELD", "nokey", "-5", "WITHVALUES")
    diff.check("HSET", "h", "a", "1", "b", "2", "c", "3")
    # Whole-hash replies come in the hash's order; count 0 is empty.
    for args in (("3",), ("10",), ("9223372036854775807",), ("3", "WITHVALUES"), ("10", "withvalues"),
                 ("0",), ("0", "WITHVALUES"), ("4611686018427387903", "WITHVALUES")):
        diff.check("HRANDFIELD", "h", *args)
    for args in (("x",), ("1.5",), ("-9223372036854775808",), ("1", "WITHVALUE"), ("1", "WITHVALUES", "x"),
                 ("0", "x"), ("4611686018427387904", "WITHVALUES"), ("-4611686018427387904", "WITHVALUES"),
                 ("-9223372036854775807", "WITHVALUES"), ("x", "WITHVALUES")):
        diff.check("HRANDFIELD", "h", *args)
        diff.check("HRANDFIELD", "nokey", *args)
    fields = {b"a": b"1", b"b": b"2", b"c": b"3"}
    a, b = diff.both("HRANDFIELD", "h")
    assert a in fields and b in fields
    for count in (1, 2, -1, -7):
        a, b = diff.both("HRANDFIELD", "h", count)
        assert len(a) == len(b) == abs(count)
        assert set(a) <= set(fields)
        if count > 0:
            assert len(set(a)) == count
        a, b = diff.both("HRANDFIELD", "h", count, "WITHVALUES")
        if diff.resp == 2:
            assert len(a) == len(b) == 2 * abs(count)
            pairs = list(zip(a[::2], a[1::2]))
        else:
            # RESP3: each field/value pair is a two-element array.
            assert len(a) == len(b) == abs(count)
            assert all(type(p) is list and len(p) == 2 for p in a + b)
            pairs = [tuple(p) for p in a]
        assert all(fields[f] == v for f, v in pairs)
        if count > 0:
            assert len({f for f, _ in pairs}) == count


def test_hscan(diff):
    diff.check("HSCAN", "nokey", "0")
    diff.check("HSCAN", "nokey", "0", "COUNT", "0")  # a missing key replies before the options are parsed
    diff.check("HSET", "h", "a", "1", "b", "2", "ab", "3", "c", "4")
    # A listpack hash comes whole, in order, with cursor 0, whatever the cursor and COUNT.
    for args in (("0",), ("0", "COUNT", "1"), ("5",), ("",), ("+0",), ("-1",), ("18446744073709551615",),
                 ("0", "MATCH", "a*"), ("0", "match", "a*", "count", "100"), ("0", "MATCH", "x*"),
                 ("0", "MATCH", "a", "MATCH", "b"), ("0", "COUNT", "9223372036854775807")):
        diff.check("HSCAN", "h", *args)
    for args in (("x",), (" 0",), ("18446744073709551616",), ("0", "COUNT", "0"), ("0", "COUNT", "-1"),
                 ("0", "COUNT", "x"), ("0", "COUNT", "9223372036854775808"), ("0", "MATCH"), ("0", "COUNT"),
                 ("0", "TYPE", "string"), ("0", "NOVALUES"), ("0", "foo", "bar")):
        diff.check("HSCAN", "h", *args)


def _full_scan(client, cmd, key, *opts):
    cursor, seen, calls = b"0", [], 0
    while True:
        cursor, items = client.call(cmd, key, cursor, *opts)
        seen.extend(items)
        calls += 1
        if cursor == b"0":
            return seen, calls


def test_hscan_hashtable_iterates_everything(diff):
    diff.check("HSET", "h", *[x for i in range(700) for x in (f"f{i}", f"v{i}")])
    diff.check("OBJECT", "ENCODING", "h")
    for opts in ((), ("COUNT", "7"), ("MATCH", "f1*"), ("MATCH", "f1*", "COUNT", "1000")):
        ours, _ = _full_scan(diff.ours, "HSCAN", "h", *opts)
        theirs, _ = _full_scan(diff.theirs, "HSCAN", "h", *opts)
        assert dict(zip(ours[::2], ours[1::2])) == dict(zip(theirs[::2], theirs[1::2]))
        assert len(ours) == len(theirs)
    # Several calls for a big hash, the union being the whole hash, with no duplicates here.
    ours, calls = _full_scan(diff.ours, "HSCAN", "h", "COUNT", "10")
    assert calls > 1 and len(ours) == 1400


def _max_entries(diff):
    """hash-max-listpack-entries of the reference server (512 in Debian's 7.0.15, 128 upstream)."""
    reply = diff.theirs.call("CONFIG", "GET", "hash-max-listpack-entries")
    n = int(reply[1] if isinstance(reply, list) else list(reply.values())[0])
    assert diff.ours.call("CONFIG", "GET", "hash-max-listpack-entries") == reply
    return n


def test_encoding_listpack_to_hashtable(diff):
    enc = ("OBJECT", "ENCODING")
    n = _max_entries(diff)
    diff.check("HSET", "h", *[x for i in range(n) for x in (f"f{i}", "v")])
    diff.check(*enc, "h")
    diff.check("HSET", "h", "f0", "w")
    diff.check(*enc, "h")
    diff.check("HSET", "h", "another", "v")
    diff.check(*enc, "h")
    diff.check("HDEL", "h", *[f"f{i}" for i in range(n - 10)])
    diff.check(*enc, "h")  # one-way: stays a hashtable
    diff.check("HSET", "one", "f", "x" * 64)
    diff.check(*enc, "one")
    diff.check("HSET", "v", "f", LONG)
    diff.check(*enc, "v")
    diff.check("HSET", "k", LONG, "v")
    diff.check(*enc, "k")
    diff.check("HSETNX", "nx", LONG, "v")
    diff.check(*enc, "nx")
    diff.check("HSETNX", "nx2", "f", LONG)
    diff.check(*enc, "nx2")
    diff.check("HINCRBY", "ib", LONG, "1")
    diff.check(*enc, "ib")
    diff.check("HINCRBYFLOAT", "ibf", LONG, "1")
    diff.check(*enc, "ibf")
    diff.check("HINCRBYFLOAT", "ibf2", "f", "1." + "0" * 70)  # the stored value is short
    diff.check(*enc, "ibf2")
    diff.check("HMSET", "m", "a", "1", "b", LONG)
    diff.check(*enc, "m")
    # Building up field by field with the other writers.
    for i in range(n + 1):
        diff.ours.call("HINCRBY", "cnt", f"f{i}", "1")
        diff.theirs.call("HINCRBY", "cnt", f"f{i}", "1")
        if i >= n - 1:
            diff.check(*enc, "cnt")
    diff.check("HDEL", "cnt", "f0")
    diff.check(*enc, "cnt")
    for i in range(n):
        diff.ours.call("HSETNX", "nxc", f"f{i}", "1")
        diff.theirs.call("HSETNX", "nxc", f"f{i}", "1")
    diff.check(*enc, "nxc")
    diff.check("HSETNX", "nxc", "f0", "1")
    diff.check(*enc, "nxc")
    diff.check("HSETNX", "nxc", "g", "1")
    diff.check(*enc, "nxc")


def test_encoding_thresholds_follow_config(diff):
    enc = ("OBJECT", "ENCODING")
    with diff.config("hash-max-listpack-entries", "2"):
        diff.check("HSET", "a", "f1", "v", "f2", "v")
        diff.check(*enc, "a")
        diff.check("HSET", "a", "f3", "v")
        diff.check(*enc, "a")
    with diff.config("hash-max-listpack-entries", "0"):
        diff.check("HSET", "z", "f", "v")
        diff.check(*enc, "z")
    with diff.config("hash-max-ziplist-value", "3"):
        diff.check("HSET", "b", "abc", "def")
        diff.check(*enc, "b")
        diff.check("HSET", "b", "abcd", "1")
        diff.check(*enc, "b")
    with diff.config("hash-max-listpack-value", "0"):
        diff.check("HSET", "e", "", "")
        diff.check(*enc, "e")
        diff.check("HSET", "e2", "a", "")
        diff.check(*enc, "e2")
    diff.check("HSET", "a", "f4", "v")
    diff.check(*enc, "a")


def test_copy_keeps_hash_and_encoding(diff):
    diff.check("HSET", "src", "a", "1", "b", "2")
    diff.check("HSET", "big", "a", LONG)
    diff.check("COPY", "src", "dst")
    diff.check("COPY", "big", "bigdst")
    diff.check("HSET", "dst", "c", "3")
    diff.check("HGETALL", "src")
    diff.check("HGETALL", "dst")
    diff.check("OBJECT", "ENCODING", "dst")
    diff.check("OBJECT", "ENCODING", "bigdst")


def test_type_and_expiry(diff):
    diff.check("HSET", "h", "a", "1")
    diff.check("TYPE", "h")
    diff.check("PEXPIRE", "h", "1")
    import time

    time.sleep(0.01)
    diff.check("HGET", "h", "a")
    diff.check("HSET", "h", "b", "2")
    diff.check("HGETALL", "h")


# --- effects seen from inside: propagation and WATCH ---------------------------------------

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


def test_propagation(run):
    run("HSET", "h", "a", "1")
    assert run.log[-1] == [b"HSET", b"h", b"a", b"1"]
    run("HINCRBYFLOAT", "h", "f", "10.50")
    assert run.log[-1] == [b"HSET", b"h", b"f", b"10.5"]
    n = len(run.log)
    run("HDEL", "h", "zz")
    run("HSETNX", "h", "a", "2")
    run("HINCRBYFLOAT", "h", "a", "x")
    run("HGET", "h", "a")
    assert len(run.log) == n
    run("HDEL", "h", "a", "f")
    assert run.log[-1] == [b"HDEL", b"h", b"a", b"f"]
    assert run("EXISTS", "h") == 0


def test_dirty_counter_and_no_touch_on_noop(run):
    run("HSET", "h", "a", "1")
    d = run.state.dirty
    run("HDEL", "h", "zz")
    run("HSETNX", "h", "a", "1")
    assert run.state.dirty == d
    run("HSETNX", "h", "b", "1")
    assert run.state.dirty > d


# --- keyspace notifications ----------------------------------------------------------------


def test_keyspace_notifications(pyredis_srv, real_redis):
    script = [("HSET", "h", "a", "1", "b", "2"), ("HSET", "h", "a", "1"), ("HMSET", "h", "c", "3"),
              ("HSETNX", "h", "a", "1"), ("HSETNX", "h", "d", "1"), ("HSETNX", "h2", "d", "1"),
              ("HINCRBY", "h", "n", "1"), ("HINCRBY", "h3", "n", "1"), ("HINCRBY", "h", "a", "x"),
              ("HINCRBYFLOAT", "h", "f", "1.5"), ("HINCRBYFLOAT", "h4", "f", "1.5"), ("HDEL", "h", "zz"),
              ("HDEL", "h", "a", "b"), ("HDEL", "h2", "d"), ("HGET", "h", "c"), ("HGETALL", "h")]
    for flags in ("KEA", "KEhgn", "Kh", "Eg"):
        assert keyspace_events(pyredis_srv.port, script, flags) == keyspace_events(real_redis.port, script, flags), flags


def test_restore_encoding(diff):
    """RESTORE decides the encoding as RDB loading does: a payload made under looser limits
    is converted when it exceeds the current ones."""
    with diff.config("hash-max-listpack-entries", "1000"):
        diff.check("HSET", "many", *[x for i in range(600) for x in (f"f{i}", "v")])
    diff.check("HSET", "plain", *[x for i in range(600) for x in (f"f{i}", "v")])
    diff.check("HDEL", "plain", *[f"f{i}" for i in range(595)])  # a hashtable with 5 short fields
    for key in ("many", "plain"):
        payload = diff.theirs.call("DUMP", key)
        diff.check("RESTORE", key + "2", "0", payload)
        diff.check("OBJECT", "ENCODING", key + "2")
        diff.same("HGETALL", key + "2")


def test_restore_listpack_payload_keeps_long_values(diff):
    with diff.config("hash-max-listpack-value", "100"):
        diff.check("HSET", "lp", "f", "x" * 80)
    payload = diff.theirs.call("DUMP", "lp")
    diff.check("RESTORE", "lp2", "0", payload)
    diff.check("OBJECT", "ENCODING", "lp2")
