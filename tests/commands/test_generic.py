"""Keyspace ("generic") commands, differentially against redis-server 7.0: DEL UNLINK EXISTS
TYPE TOUCH KEYS SCAN RANDOMKEY RENAME RENAMENX MOVE COPY, the EXPIRE family, TTL & co,
PERSIST, OBJECT, FLUSHDB FLUSHALL SWAPDB DBSIZE, WAIT; plus their declarations and the
effects they propagate."""

from __future__ import annotations

import time

import pytest

from effects import Effects
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pyredis.commands  # noqa: F401  (registers every command)
from events import keyspace_events
from resp import RawClient
from oracles import ALL_MODES

# Every mode, each against its release's server (the data-type suites cover each mode's replies).
pytestmark = pytest.mark.modes(*ALL_MODES)


FAR = 4102444800  # 2100-01-01, an EXPIREAT value both servers agree on exactly


def _flat(spec):
    return [spec.name.encode(), spec.arity, [f.encode() for f in spec.flags], spec.first_key,
            spec.last_key, spec.key_step, sorted(b"@" + c.encode() for c in spec.acl)]


def test_del_unlink_exists_touch_type(diff):
    diff.check("SET", "a", "1")
    diff.check("SET", "b", "2")
    for cmd in ("DEL", "UNLINK"):
        diff.check("SET", "a", "1")
        diff.check("SET", "b", "2")
        diff.check("EXISTS", "a", "b", "a", "zz")
        diff.check("TOUCH", "a", "a", "zz", "b")
        diff.check(cmd, "a", "a", "zz", "b")
        diff.check("EXISTS", "a", "b")
        diff.check(cmd, "a")
        diff.check(cmd)
    diff.check("EXISTS")
    diff.check("TOUCH")
    diff.check("SET", "s", "v")
    diff.check("TYPE", "s")
    diff.check("TYPE", "nokey")
    diff.check("TYPE")
    diff.check("TYPE", "a", "b")


def test_keys_patterns(diff):
    for k in ["hello", "hallo", "hxllo", "hllo", "heeeello", "a*b", "a?b", "a[b", "x\\y", "", "ünï", "K1", "k2"]:
        diff.check("SET", k, "v")
    for p in ["*", "h?llo", "h*llo", "h[ae]llo", "h[^e]llo", "h[a-b]llo", "a\\*b", "a\\?b", "a[[]b",
              "x\\\\y", "*[", "[", "h[", "nomatch", "", "?", "k[0-9]", "K[0-9]", "[k-K]?", "\\",
              "*\\", "h[a-]llo", "h[\\]]llo", "**llo", "*o", "h*", "ü*"]:
        diff.check("KEYS", p, unordered=True)
    diff.check("KEYS")
    diff.check("KEYS", "*", "*")


def test_keys_skips_expired(diff):
    diff.check("SET", "a", "1")
    diff.check("SET", "b", "1")
    diff.check("PEXPIRE", "b", "1")
    time.sleep(0.01)
    diff.check("KEYS", "*", unordered=True)


def test_scan_errors_and_small(diff):
    for i in range(5):
        diff.check("SET", f"k{i}", "v")
    diff.check("SCAN", "0", unordered=True)
    diff.check("SCAN", "", unordered=True)
    diff.check("SCAN", "0", "MATCH", "k[1-3]", unordered=True)
    diff.check("SCAN", "0", "match", "*", "count", "100", unordered=True)
    diff.check("SCAN", "0", "TYPE", "string", unordered=True)
    diff.check("SCAN", "0", "TYPE", "STRING", unordered=True)
    diff.check("SCAN", "0", "TYPE", "hash", unordered=True)
    diff.check("SCAN", "0", "TYPE", "nosuchtype", unordered=True)
    for bad in (["abc"], [" 1"], ["1 "], ["+"], ["-"], ["18446744073709551616"], ["0x10"],
                ["0", "COUNT", "0"], ["0", "COUNT", "-1"], ["0", "COUNT", "x"], ["0", "COUNT"],
                ["0", "MATCH"], ["0", "TYPE"], ["0", "FOO", "bar"], ["0", "COUNT", "1", "x"]):
        ours, theirs = diff.both("SCAN", *bad)
        if isinstance(theirs, list):  # a cursor 7.4 reads (strtoull: " 1", "+"...): a step of a scan
            assert isinstance(ours, list) and set(ours[1]) <= {b"k%d" % i for i in range(5)}, (bad, ours, theirs)
        else:
            assert ours == theirs, (bad, ours, theirs)
    diff.check("SCAN")


def test_randomkey(diff):
    diff.check("RANDOMKEY")
    diff.check("SET", "only", "1")
    diff.check("RANDOMKEY")
    diff.check("PEXPIRE", "only", "1")
    time.sleep(0.01)
    diff.check("RANDOMKEY")
    diff.check("RANDOMKEY", "x")


def test_rename_renamenx(diff):
    diff.check("RENAME", "nokey", "x")
    diff.check("RENAMENX", "nokey", "x")
    diff.check("RENAME", "nokey", "nokey")
    diff.check("SET", "a", "1")
    diff.check("RENAME", "a", "a")
    diff.check("RENAMENX", "a", "a")
    diff.check("EXPIREAT", "a", FAR)
    diff.check("RENAME", "a", "b")
    diff.check("EXPIRETIME", "b")
    diff.check("EXISTS", "a")
    diff.check("SET", "c", "3")
    diff.check("RENAMENX", "b", "c")
    diff.check("RENAME", "c", "b")  # overwrites b and its TTL goes away with it
    diff.check("TTL", "b")
    diff.check("GET", "b")
    diff.check("EXPIREAT", "b", FAR)
    diff.check("RENAMENX", "b", "d")
    diff.check("EXPIRETIME", "d")
    diff.check("RENAME", "d")


def test_move(diff):
    diff.check("SET", "a", "1")
    diff.check("EXPIREAT", "a", FAR)
    for bad in ("x", "-1", "16", "99999999999", "1.5", ""):
        diff.check("MOVE", "a", bad)
    diff.check("MOVE", "a", "0")
    diff.check("MOVE", "nokey", "1")
    diff.check("MOVE", "a", "1")
    diff.check("EXISTS", "a")
    diff.check("SELECT", "1")
    diff.check("EXPIRETIME", "a")
    diff.check("SET", "b", "in1")
    diff.check("SELECT", "0")
    diff.check("SET", "b", "in0")
    diff.check("MOVE", "b", "1")  # exists in the target: 0, nothing moves
    diff.check("GET", "b")
    diff.check("MOVE", "b")


def test_copy(diff):
    diff.check("COPY", "nokey", "x")
    diff.check("SET", "a", "1")
    diff.check("COPY", "a", "a")
    diff.check("COPY", "a", "a", "DB", "0")
    diff.check("COPY", "a", "a", "DB", "1")
    diff.check("SELECT", "1")
    diff.check("GET", "a")
    diff.check("SELECT", "0")
    diff.check("EXPIREAT", "a", FAR)
    diff.check("COPY", "a", "b")
    diff.check("EXPIRETIME", "b")
    diff.check("SET", "c", "x")
    diff.check("COPY", "a", "c")
    diff.check("COPY", "a", "c", "REPLACE")
    diff.check("GET", "c")
    diff.check("COPY", "a", "c", "replace", "db", "2", "REPLACE")
    for bad in (["DB"], ["DB", "x"], ["DB", "16"], ["DB", "-1"], ["FOO"], ["REPLACE", "DB"],
                ["DB", "99999999999"]):
        diff.check("COPY", "a", "z", *bad)
    diff.check("COPY", "a")
    diff.check("EXISTS", "z")


def test_copy_collections_are_independent(diff):
    for cmd in (["RPUSH", "l", "a", "b"], ["SADD", "s", "a", "b"], ["HSET", "h", "f", "v"],
                ["ZADD", "z", "1", "a"]):
        diff.check(*cmd)
        diff.check("COPY", cmd[1], cmd[1] + "2")
        diff.check("TYPE", cmd[1] + "2")
        diff.check("OBJECT", "ENCODING", cmd[1] + "2")
        diff.check("DEL", cmd[1])
        diff.check("EXISTS", cmd[1] + "2")


def test_copy_deep_copies_registered_types():
    from pyredis.keyspace.types import copy_value, register_copier

    class Box:
        def __init__(self, items):
            self.items = items

    v = b"abc"
    assert copy_value(v) is v
    lst = [bytearray(b"x")]
    c = copy_value(lst)
    c[0][0] = 0x79
    assert lst[0] == bytearray(b"x")
    register_copier(Box, lambda b: Box(list(b.items)))
    b = Box([1, 2])
    b2 = copy_value(b)
    b2.items.append(3)
    assert b.items == [1, 2]


@pytest.mark.parametrize("cmd", ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"])
def test_expire_errors(diff, cmd):
    diff.check("SET", "k", "v")
    for args in (["x"], ["1.5"], ["", ], ["1", "FOO"], ["1", "NX", "XX"], ["1", "NX", "GT"],
                 ["1", "nx", "lt"], ["1", "GT", "LT"], ["1", "xx", "gt", "lt"],
                 ["9223372036854775807"], ["9223372036854775"], ["9223372036854776"],
                 ["-9223372036854775"], ["-9223372036854776"], ["-9223372036854775808"],
                 ["9223372036854775808"], ["1", "NX", "NX", "foo"], ["1", "a\r\nb\r\n"], ["1", "\xff\x00z"],
                 ["x", "FOO"]):
        diff.check(cmd, "k", *args)
    diff.check(cmd, "k")
    diff.check("TYPE", "k")


def test_expire_overflow_near_llong_max(diff):
    diff.check("SET", "k", "v")
    # basetime + when overflows for the relative forms only
    diff.check("PEXPIRE", "k", "9223372036854775000")
    diff.check("PEXPIREAT", "k", "9223372036854775000")
    diff.check("PEXPIRETIME", "k")
    diff.check("EXPIREAT", "k", "9223372036854775")
    diff.check("PEXPIRETIME", "k")
    diff.check("EXPIRETIME", "k")


@pytest.mark.parametrize("cmd,arg", [("EXPIRE", "-1"), ("PEXPIRE", "-5"), ("EXPIREAT", "1"),
                                     ("PEXPIREAT", "0"), ("EXPIRE", "0"), ("EXPIREAT", "-100")])
def test_expire_in_the_past_deletes(diff, cmd, arg):
    diff.check("SET", "k", "v")
    diff.check(cmd, "k", arg)
    diff.check("EXISTS", "k")
    diff.check(cmd, "k", arg)


def test_expire_nx_xx_gt_lt(diff):
    diff.check("SET", "k", "v")
    far = FAR
    seq = [
        ["EXPIREAT", "k", far, "XX"], ["EXPIREAT", "k", far, "GT"], ["EXPIREAT", "k", far, "LT"],
        ["EXPIRETIME", "k"], ["EXPIREAT", "k", far, "NX"], ["EXPIRETIME", "k"],
        ["EXPIREAT", "k", far + 10, "NX"], ["EXPIREAT", "k", far + 10, "XX"], ["EXPIRETIME", "k"],
        ["EXPIREAT", "k", far + 10, "GT"], ["EXPIREAT", "k", far + 20, "GT"], ["EXPIRETIME", "k"],
        ["EXPIREAT", "k", far + 20, "LT"], ["EXPIREAT", "k", far + 5, "lt"], ["EXPIRETIME", "k"],
        ["EXPIREAT", "k", far + 50, "XX", "GT"], ["EXPIRETIME", "k"],
        ["EXPIREAT", "k", far + 40, "XX", "gt"], ["EXPIREAT", "k", far + 40, "xx", "LT"],
        ["EXPIREAT", "k", far + 40, "GT", "GT"], ["EXPIRETIME", "k"],
        ["PERSIST", "k"], ["PERSIST", "k"], ["EXPIREAT", "k", far, "LT"], ["EXPIRETIME", "k"],
        ["PERSIST", "k"],
        # LT on a key without TTL with a past time deletes it
        ["EXPIREAT", "k", "100", "LT"], ["EXISTS", "k"],
        ["EXPIREAT", "nokey", far, "NX"], ["PERSIST", "nokey"], ["EXPIRE", "nokey", "100"],
    ]
    for c in seq:
        diff.check(*c)


def test_ttl_family(diff):
    for cmd in ("TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"):
        diff.check(cmd, "nokey")
        diff.check("SET", "k", "v")
        diff.check(cmd, "k")
        diff.check(cmd)
        diff.check(cmd, "k", "x")
    diff.check("EXPIREAT", "k", FAR)
    diff.check("TTL", "k")  # seconds until 2100: identical unless a second boundary is crossed
    diff.check("EXPIRETIME", "k")
    diff.check("PEXPIRETIME", "k")
    diff.check("PEXPIREAT", "k", FAR * 1000 + 499)
    diff.check("EXPIRETIME", "k")  # rounds to nearest
    diff.check("PEXPIREAT", "k", FAR * 1000 + 500)
    diff.check("EXPIRETIME", "k")
    diff.check("EXPIRE", "k", "100")
    a, b = diff.both("TTL", "k")
    assert a == b == 100
    a, b = diff.both("PTTL", "k")
    assert 99000 < a <= 100000 and 99000 < b <= 100000


def test_ttl_on_expired_key(diff):
    diff.check("SET", "k", "v")
    diff.check("PEXPIRE", "k", "1")
    time.sleep(0.01)
    for cmd in ("TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME", "PERSIST", "TYPE", "EXISTS"):
        diff.check(cmd, "k")


def test_object(diff):
    vals = {"i1": "1", "i2": "-123", "i3": "9223372036854775807", "i4": "12345678901234567890",
            "e1": "0123", "e2": "x" * 44, "r1": "x" * 45, "e3": "", "e4": "1.5", "e5": " 1",
            "i5": "10000", "i6": "9999", "i7": "-1", "e6": "+1"}
    for k, v in vals.items():
        diff.check("SET", k, v)
    for k in list(vals) + ["nokey"]:
        diff.check("OBJECT", "ENCODING", k)
        diff.check("OBJECT", "REFCOUNT", k)
    a, b = diff.both("OBJECT", "IDLETIME", "i1")  # seconds on an LRU clock: may tick between the two
    assert type(a) is int and type(b) is int and a <= 1 and b <= 1
    diff.check("OBJECT", "IDLETIME", "nokey")
    diff.check("OBJECT", "FREQ", "i1")
    diff.check("OBJECT", "FREQ", "nokey")
    diff.check("OBJECT", "HELP")
    diff.check("OBJECT", "help")
    diff.check("OBJECT", "HELP", "x")
    diff.check("OBJECT", "FOO", "x")
    diff.check("OBJECT", "ENCODING")
    diff.check("OBJECT", "ENCODING", "a", "b")
    diff.check("OBJECT")


def test_object_freq_under_lfu(diff):
    try:
        diff.check("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
        diff.check("SET", "k", "v")
        diff.check("OBJECT", "FREQ", "k")
        diff.check("OBJECT", "IDLETIME", "k")
        diff.check("OBJECT", "FREQ", "nokey")
    finally:
        diff.both("CONFIG", "SET", "maxmemory-policy", "noeviction")


def test_flushdb_flushall(diff):
    for args in ([], ["SYNC"], ["async"], ["ASYNC", "x"], ["foo"]):
        diff.check("SET", "a", "1")
        diff.check("SELECT", "3")
        diff.check("SET", "b", "1")
        diff.check("FLUSHDB", *args)
        diff.check("DBSIZE")
        diff.check("SELECT", "0")
        diff.check("DBSIZE")
        diff.check("FLUSHALL", *args)
        diff.check("DBSIZE")
        diff.check("SELECT", "3")
        diff.check("DBSIZE")
        diff.check("SELECT", "0")
    diff.check("DBSIZE", "x")


def test_swapdb(diff):
    diff.check("SET", "a", "0")
    diff.check("SELECT", "1")
    diff.check("SET", "b", "1")
    diff.check("SET", "c", "1")
    diff.check("EXPIREAT", "c", FAR)
    diff.check("SELECT", "0")
    diff.check("SWAPDB", "0", "1")
    diff.check("DBSIZE")
    diff.check("KEYS", "*", unordered=True)
    diff.check("EXPIRETIME", "c")
    diff.check("SWAPDB", "1", "1")
    diff.check("SWAPDB", "1", "0")
    diff.check("KEYS", "*", unordered=True)
    for a, b in (("x", "0"), ("0", "x"), ("x", "y"), ("-1", "0"), ("0", "16"), ("99999999999", "0"),
                 ("0", "99999999999"), ("1.0", "0")):
        diff.check("SWAPDB", a, b)
    diff.check("SWAPDB", "0")


def test_wait(diff):
    diff.check("WAIT", "0", "0")
    diff.check("WAIT", "-1", "100")
    diff.check("WAIT", "x", "0")
    diff.check("WAIT", "1", "x")
    diff.check("WAIT", "1", "-1")
    diff.check("WAIT", "0", "9223372036854775807")
    diff.check("WAIT", "1")
    t = time.time()
    diff.check("WAIT", "1", "50")
    assert time.time() - t >= 0.05
    diff.check("MULTI")
    diff.check("WAIT", "5", "0")
    diff.check("EXEC")


def test_generic_commands_in_multi(diff):
    diff.check("SET", "a", "1")
    diff.check("MULTI")
    for c in (["EXPIRE", "a", "100"], ["TTL", "a"], ["RENAME", "a", "b"], ["COPY", "b", "c"],
              ["EXISTS", "a", "b", "c"], ["PERSIST", "b"], ["RENAME", "nokey", "x"]):
        diff.check(*c)
    diff.check("EXEC")


# --- propagation --------------------------------------------------------------------------

Recorder = Effects


@pytest.fixture
def propagated():
    from pyredis.core.client import Client
    from pyredis.core.dispatch import execute
    from pyredis.core.state import ServerState

    state = ServerState()
    rec = Recorder()
    state.propagation.add_sink(rec)
    c = Client(state)

    def run(*args):
        return execute(c, [a if isinstance(a, bytes) else str(a).encode() for a in args])

    run.log = rec.log
    run.state = state
    return run


def test_propagation_expire_family(propagated):
    run = propagated
    run("SET", "k", "v")
    now = run.state.clock.ms()
    run("EXPIRE", "k", "100", "NX")
    dbid, argv = run.log[-1]
    assert argv[0] == b"PEXPIREAT" and argv[1] == b"k" and argv[3:] == [b"NX"]
    assert now + 100000 <= int(argv[2]) <= now + 101000
    run("PEXPIREAT", "k", str(FAR * 1000))
    assert run.log[-1] == (0, [b"PEXPIREAT", b"k", str(FAR * 1000).encode()])
    run("EXPIREAT", "k", str(FAR))
    assert run.log[-1] == (0, [b"PEXPIREAT", b"k", str(FAR * 1000).encode()])
    n = len(run.log)
    run("EXPIRE", "nokey", "100")
    run("EXPIRE", "k", "100", "NX")  # not applied: nothing propagated
    assert len(run.log) == n
    run("EXPIRE", "k", "-1")
    assert run.log[-1] == (0, [b"DEL", b"k"])


def test_propagation_lazy_and_active_expiry(propagated):
    run = propagated
    run("SELECT", "2")
    run("SET", "k", "v")
    run("PEXPIRE", "k", "1")
    time.sleep(0.005)
    run("GET", "k")
    assert (2, [b"DEL", b"k"]) in run.log
    assert run.state.stats.expired_keys == 1


def test_propagation_of_noops(propagated):
    run = propagated
    run("SET", "a", "1")
    n = len(run.log)
    run("RENAME", "a", "a")
    run("DEL", "nokey")
    run("PERSIST", "a")
    run("COPY", "nokey", "b")
    assert len(run.log) == n
    run("FLUSHDB")  # replicated even when nothing was there
    run("FLUSHDB")
    assert run.log[-2:] == [(0, [b"FLUSHDB"]), (0, [b"FLUSHDB"])]


# --- SCAN ------------------------------------------------------------------------------------

def _scan_all(c, *opts, step=None):
    cur, seen, calls = b"0", [], 0
    while True:
        cur, batch = c.call("SCAN", cur, *opts)
        seen += batch
        calls += 1
        if step is not None:
            step(calls)
        if cur == b"0":
            return seen, calls


@pytest.mark.parametrize("which", ["pyredis", "redis"])
def test_scan_guarantee_under_concurrent_changes(pyredis_srv, real_redis, which):
    """Keys present for the whole iteration are returned at least once, while other keys are
    added and deleted between the calls; nothing that never existed is returned."""
    c = RawClient("127.0.0.1", pyredis_srv.port if which == "pyredis" else real_redis.port)
    c.call("FLUSHALL")
    stable = {f"stable:{i}".encode() for i in range(1000)}
    doomed = [f"doomed:{i}".encode() for i in range(500)]
    for k in list(stable) + doomed:
        c.call("SET", k, "1")
    added = set()

    def step(n):
        for j in range(20):
            k = f"new:{n}:{j}".encode()
            c.call("SET", k, "1")
            added.add(k)
        for k in doomed[n * 5:(n + 1) * 5]:
            c.call("DEL", k)

    seen, calls = _scan_all(c, "COUNT", "10", step=step)
    assert stable <= set(seen)
    assert set(seen) <= stable | set(doomed) | added
    assert calls > 20
    c.close()


@pytest.mark.parametrize("which", ["pyredis", "redis"])
def test_scan_count_match_type(pyredis_srv, real_redis, which):
    c = RawClient("127.0.0.1", pyredis_srv.port if which == "pyredis" else real_redis.port)
    c.call("FLUSHALL")
    for i in range(300):
        c.call("SET", f"key:{i}", "1")
    has_hash = c.call("HSET", "hash:1", "f", "v") == 1  # False while pyredis lacks hashes
    # COUNT bounds the work per call; the default is 10
    cur, batch = c.call("SCAN", "0", "COUNT", "50")
    assert cur != b"0" and 25 <= len(batch) <= 75
    cur, batch = c.call("SCAN", "0")
    assert cur != b"0" and 5 <= len(batch) <= 20
    seen, calls = _scan_all(c, "COUNT", "1000")
    assert calls <= 2 and len(set(seen)) == 300 + has_hash
    # MATCH filters after the COUNT keys were picked: replies may be empty with a non-zero cursor
    seen, calls = _scan_all(c, "MATCH", "key:1?", "COUNT", "10")
    assert sorted(set(seen)) == sorted(f"key:{i}".encode() for i in range(10, 20))
    assert calls >= 20
    seen, _ = _scan_all(c, "MATCH", "key:*", "TYPE", "string", "COUNT", "100")
    assert len(set(seen)) == 300
    seen, _ = _scan_all(c, "TYPE", "hash", "COUNT", "100")
    assert set(seen) == ({b"hash:1"} if has_hash else set())
    seen, _ = _scan_all(c, "TYPE", "list", "COUNT", "100")
    assert seen == []
    c.close()


def test_scan_skips_expired_keys(diff):
    for i in range(5):
        diff.check("SET", f"k{i}", "v")
    diff.check("PEXPIRE", "k1", "1")
    diff.check("PEXPIRE", "k3", "1")
    time.sleep(0.01)
    diff.check("SCAN", "0", "COUNT", "100", unordered=True)
    diff.check("SCAN", "0", "TYPE", "string", unordered=True)


def test_scan_reply_helper():
    """The HSCAN/SSCAN/ZSCAN helper: small collections in one reply, COUNT in reply entries,
    MATCH after COUNT, deleted members skipped."""
    from pyredis.core.client import Client
    from pyredis.core.state import ServerState
    from pyredis.keyspace.scan import EMPTY_SCAN, parse_cursor, scan_reply

    ctx = Client(ServerState())
    h = {f"f{i}".encode(): f"v{i}".encode() for i in range(100)}
    cur, items = scan_reply(ctx, (0, b"h"), 0, (b"COUNT", b"1"), h.keys, small=True,
                            contains=h.__contains__, value=h.__getitem__)
    assert cur == b"0" and len(items) == 200 and items[:4] == [b"f0", b"v0", b"f1", b"v1"]
    cur, items = scan_reply(ctx, (0, b"h"), 0, (b"COUNT", b"10"), h.keys, small=False,
                            contains=h.__contains__, value=h.__getitem__)
    assert cur != b"0" and len(items) == 10  # 5 fields and their values, as Redis counts
    del h[b"f5"], h[b"f6"]
    cur2, items2 = scan_reply(ctx, (0, b"h"), parse_cursor(cur), (b"COUNT", b"10", b"MATCH", b"f[0-9]"),
                              h.keys, small=False, contains=h.__contains__, value=h.__getitem__)
    assert items2 == [b"f7", b"v7", b"f8", b"v8", b"f9", b"v9"]
    s = {b"a", b"b", b"c"}
    cur, items = scan_reply(ctx, (0, b"s"), 0, (), lambda: sorted(s), small=False, contains=s.__contains__)
    assert cur == b"0" and items == [b"a", b"b", b"c"]
    for opts, err in (((b"TYPE", b"string"), b"ERR syntax error"), ((b"COUNT", b"0"), b"ERR syntax error"),
                      ((b"COUNT", b"x"), b"ERR value is not an integer or out of range"),
                      ((b"MATCH",), b"ERR syntax error")):
        with pytest.raises(Exception) as ei:
            scan_reply(ctx, (0, b"s"), 0, opts, lambda: s, small=True, contains=s.__contains__)
        assert ei.value.text == err
    assert EMPTY_SCAN == [b"0", []]
    assert parse_cursor(b"") == 0 and parse_cursor(b"-1") == 2**64 - 1 and parse_cursor(b"+7") == 7


@pytest.mark.parametrize("how", [(), ("TIMEOUT",), ("ERROR",)])
def test_wait_forever_ended_by_client_unblock(pyredis_srv, real_redis, how):
    replies = []
    for port in (pyredis_srv.port, real_redis.port):
        a, b = RawClient("127.0.0.1", port), RawClient("127.0.0.1", port)
        cid = a.call("CLIENT", "ID")
        a.send(b"*3\r\n$4\r\nWAIT\r\n$1\r\n1\r\n$1\r\n0\r\n")
        time.sleep(0.1)
        blocked = b.call("CLIENT", "UNBLOCK", str(cid), *how)
        replies.append((blocked, a.read(), a.call("PING")))
        a.close()
        b.close()
    assert replies[0] == replies[1]
    assert replies[0][0] == 1


def _same_events(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        assert x == y, (i, x, y, a[max(0, i - 3):i + 3], b[max(0, i - 3):i + 3])
    assert a == b


def test_keyspace_notifications(pyredis_srv, real_redis):
    """The events generic commands publish (classes g and x), in Redis's order."""
    script = [
        ("SET", "a", "1"), ("EXPIRE", "a", "100"), ("PERSIST", "a"), ("PERSIST", "a"),
        ("RENAME", "a", "b"), ("SET", "c", "1"), ("RENAME", "b", "c"), ("RENAMENX", "c", "d"),
        ("COPY", "d", "e"), ("COPY", "d", "e", "REPLACE"), ("COPY", "d", "e", "DB", "1"),
        ("MOVE", "d", "2"), ("DEL", "e", "nokey", "e"), ("UNLINK", "c"), ("SET", "f", "1"),
        ("EXPIRE", "f", "-1"), ("SET", "g", "1"), ("PEXPIRE", "g", "1"), ("SWAPDB", "0", "1"),
        ("FLUSHALL",), ("SET", "h", "1"),
    ]
    ours = keyspace_events(pyredis_srv.port, script, "KEA")
    theirs = keyspace_events(real_redis.port, script, "KEA")
    _same_events(ours, theirs)
    assert (b"__keyevent@0__:expired", b"g") in ours


def test_keyspace_notifications_new(pyredis_srv, real_redis):
    """Class n: RENAME, MOVE and COPY create their destination (dbAdd)."""
    setup = [("SET", "a", "1"), ("SET", "b", "2"), ("SET", "x", "1")]
    script = [("RENAME", "a", "c"), ("RENAME", "c", "b"), ("COPY", "b", "d"), ("COPY", "b", "d", "REPLACE"),
              ("COPY", "b", "d", "DB", "3"), ("MOVE", "d", "4"), ("RENAMENX", "x", "b"), ("RENAMENX", "x", "y")]
    ours = keyspace_events(pyredis_srv.port, script, "KEgn", setup)
    theirs = keyspace_events(real_redis.port, script, "KEgn", setup)
    _same_events(ours, theirs)
    assert (b"__keyevent@4__:new", b"d") in ours


def test_scan_cursors_bounded():
    from pyredis.keyspace import scan as scanmod

    cur = scanmod.ScanCursors()
    items = list(range(100))
    open_cursors = []
    for i in range(scanmod.MAX_SNAPSHOTS + 10):
        c, batch = cur.scan(("o", i), lambda: items, 0, 10)
        assert batch == items[:10] and c != 0
        open_cursors.append(c)
    assert len(cur) == scanmod.MAX_SNAPSHOTS
    # the most recent iterations continue on their snapshot; finished ones are dropped
    c, batch = cur.scan(("o", scanmod.MAX_SNAPSHOTS + 9), lambda: [], open_cursors[-1], 1000)
    assert c == 0 and batch == items[10:]
    assert len(cur) == scanmod.MAX_SNAPSHOTS - 1
    # an evicted cursor restarts a snapshot at its offset instead of failing
    c, batch = cur.scan(("o", 0), lambda: items, open_cursors[0], 5)
    assert batch == items[10:15]
    big = cur.scan(("big",), lambda: range(scanmod.MAX_SNAPSHOT_ITEMS), 0, 1)
    assert big[0] != 0 and len(cur) == 1  # the size bound evicted everything older


def test_randomkey_large_database(propagated):
    """Above the walk threshold RANDOMKEY draws from a cached key list that follows changes."""
    from pyredis.commands import generic

    run = propagated
    db = run.state.dbs[0]
    n = generic._RANDOM_WALK_MAX * 2
    for i in range(n):
        db.add(b"k%d" % i, b"v")
    seen = {run("RANDOMKEY") for _ in range(3000)}
    assert len(seen) > 2500 and all(k in db.data for k in seen)
    for i in range(0, n, 10):
        db.delete(b"k%d" % i)
    for i in range(2000):
        db.add(b"new%d" % i, b"v")
    assert len(db) > generic._RANDOM_WALK_MAX
    got = [run("RANDOMKEY") for _ in range(5000)]
    assert all(k in db.data for k in got)
    assert any(k.startswith(b"new") for k in got)
    run("FLUSHALL")
    assert run("RANDOMKEY") is None
    db.add(b"only", b"v")
    assert run("RANDOMKEY") == b"only"


def test_flushall_saves_with_save_points(tmp_path):
    """With save points, FLUSHALL writes the empty dataset at once (dump.rdb), like Redis."""
    import os

    import pyredis
    from conftest import RealRedis

    results = []
    os.makedirs(tmp_path / "real")
    os.makedirs(tmp_path / "ours")
    real = RealRedis("--save", "3600 1", dir=str(tmp_path / "real"))
    try:
        with pyredis.Server(port=0, save="3600 1", dir=str(tmp_path / "ours")) as s:
            for port, d in ((s.port, tmp_path / "ours"), (real.port, tmp_path / "real")):
                c = RawClient("127.0.0.1", port)
                c.call("SET", "a", "1")
                assert not (d / "dump.rdb").exists()
                before = c.call("INFO", "persistence")
                assert b"rdb_changes_since_last_save:1" in before
                assert c.call("FLUSHALL") == b"OK"
                info = c.call("INFO", "persistence")
                results.append(((d / "dump.rdb").exists(), b"rdb_changes_since_last_save:0" in info,
                                b"rdb_saves:0" in info))
                c.close()
    finally:
        real.stop()
    assert results[0] == results[1] == (True, True, True)


def _scan_property(c, ops, count):
    """Run interleaved SCAN iterations (two at once) and random writes; return (keys present
    for the whole of each iteration, keys each iteration returned)."""
    c.call("FLUSHALL")
    for i in range(60):
        c.call("SET", f"k{i}", "v")
    live = {f"k{i}".encode() for i in range(60)}
    its = [{"cur": b"0", "seen": set(), "stable": set(live), "done": False, "started": False} for _ in range(2)]
    for op, arg in ops:
        if op == "scan":
            it = its[arg % 2]
            if it["done"]:
                continue
            if not it["started"]:
                it["started"] = True
                it["stable"] = set(live)
            it["cur"], batch = c.call("SCAN", it["cur"], "COUNT", str(count))
            it["seen"] |= set(batch)
            if it["cur"] == b"0":
                it["done"] = True
        elif op == "set":
            k = f"k{arg}".encode()
            c.call("SET", k, "v")
            live.add(k)
        else:
            k = f"k{arg}".encode()
            c.call("DEL", k)
            live.discard(k)
            for it in its:
                it["stable"].discard(k)
    for it in its:  # finish the iterations
        while it["started"] and not it["done"]:
            it["cur"], batch = c.call("SCAN", it["cur"], "COUNT", str(count))
            it["seen"] |= set(batch)
            it["done"] = it["cur"] == b"0"
    return [(it["stable"], it["seen"]) for it in its if it["started"]]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(st.tuples(st.sampled_from(["scan", "set", "del"]), st.integers(0, 99)), max_size=80),
       count=st.integers(1, 25))
def test_scan_guarantee_property(pyredis_srv, ops, count):
    c = RawClient("127.0.0.1", pyredis_srv.port)
    try:
        for stable, seen in _scan_property(c, ops, count):
            assert stable <= seen
    finally:
        c.close()
