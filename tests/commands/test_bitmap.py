"""Bitmap commands against redis-server: SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO."""

from __future__ import annotations

import random

import pytest
from oracles import ALL_MODES

# Every mode, each against its release's server (the data-type suites cover each mode's replies).
pytestmark = pytest.mark.modes(*ALL_MODES)


def test_setbit_getbit(diff):
    for off in (0, 1, 7, 8, 9, 100, 1000):
        diff.check("SETBIT", "b", off, 1)
        diff.check("GET", "b")
    diff.check("SETBIT", "b", 7, 1)  # unchanged
    diff.check("SETBIT", "b", 7, 0)
    diff.check("SETBIT", "b", 7, 0)
    diff.check("GET", "b")
    for off in (0, 1, 6, 7, 8, 100, 999, 1000, 1001, 100000):
        diff.check("GETBIT", "b", off)
    diff.check("GETBIT", "missing", 5)
    diff.check("SET", "s", "foobar")
    diff.check("SETBIT", "s", 3, 1)
    diff.check("GET", "s")
    diff.check("SET", "n", "123")
    diff.check("SETBIT", "n", 100, 1)
    diff.check("GET", "n")


@pytest.mark.parametrize("args", [
    ("SETBIT", "b", -1, 1), ("SETBIT", "b", "x", 1), ("SETBIT", "b", 4294967296, 1),
    ("SETBIT", "b", 4294967295 + 1, 0), ("SETBIT", "b", 1, 2), ("SETBIT", "b", 1, -1),
    ("SETBIT", "b", 1, "a"), ("SETBIT", "b", "#1", 1), ("GETBIT", "b", -1),
    ("GETBIT", "b", 4294967296), ("GETBIT", "b", "1.5"), ("SETBIT", "b"), ("GETBIT", "b"),
])
def test_setbit_errors(diff, args):
    diff.check(*args)


def test_wrongtype(diff):
    diff.check("LPUSH", "l", "a")
    for cmd in (("SETBIT", "l", 1, 1), ("GETBIT", "l", 1), ("BITCOUNT", "l"), ("BITPOS", "l", 1),
                ("BITOP", "AND", "d", "l"), ("BITOP", "AND", "l", "missing"), ("BITFIELD", "l", "GET", "u8", 0),
                ("BITFIELD_RO", "l", "GET", "u8", 0), ("BITFIELD", "l", "SET", "u8", 0, 1)):
        diff.check(*cmd)


def test_bitcount(diff):
    diff.check("SET", "s", "foobar\x00\xff\x81")
    diff.check("BITCOUNT", "s")
    diff.check("BITCOUNT", "missing")
    diff.check("BITCOUNT", "missing", "a", "b")
    for a in range(-12, 12, 3):
        for b in range(-12, 12, 3):
            diff.check("BITCOUNT", "s", a, b)
            diff.check("BITCOUNT", "s", a * 7, b * 5, "BIT")
            diff.check("BITCOUNT", "s", a, b, "byte")
    for args in ((0,), (0, 1, "bits"), (0, "x"), ("x", 1), (-1, -2, "foo"), (0, 1, "BIT", "x"),
                 (0, -1, "bit"), (5, 70, "BIT"), (-100, -90, "BIT")):
        diff.check("BITCOUNT", "s", *args)
    diff.check("SET", "e", "")
    diff.check("BITCOUNT", "e")
    diff.check("BITCOUNT", "e", 0, -1)
    diff.check("BITCOUNT", "e", 0, -1, "BIT")


def test_bitpos(diff):
    diff.check("SET", "s", "\xff\xf0\x00")
    diff.check("SET", "ones", "\xff\xff\xff")
    diff.check("SET", "zeros", "\x00\x00\x00")
    diff.check("SET", "e", "")
    for key in ("s", "ones", "zeros", "e", "missing"):
        for bit in (0, 1):
            diff.check("BITPOS", key, bit)
            for a in (-30, -9, -3, -1, 0, 1, 2, 3, 7, 8, 9, 15, 16, 23, 24, 30):
                diff.check("BITPOS", key, bit, a)
                for b in (-30, -9, -1, 0, 1, 2, 7, 8, 15, 16, 22, 23, 30):
                    diff.check("BITPOS", key, bit, a, b)
                    diff.check("BITPOS", key, bit, a, b, "BIT")
    for args in ((2,), ("x",), (1, "x"), (1, 0, "x"), (1, 0, 1, "foo"), (1, 0, 1, "BIT", 5), (-1,)):
        diff.check("BITPOS", "s", *args)
        diff.check("BITPOS", "missing", *args)


def test_bitpos_random(diff):
    rnd = random.Random(7)
    for _ in range(40):
        v = bytes(rnd.choice((0, 255, rnd.randrange(256))) for _ in range(rnd.randrange(1, 8)))
        diff.check("SET", "k", v)
        for _ in range(10):
            bit = rnd.randrange(2)
            a, b = rnd.randrange(-70, 70), rnd.randrange(-70, 70)
            diff.check("BITPOS", "k", bit, a, b, rnd.choice(("BIT", "BYTE")))
            diff.check("BITCOUNT", "k", a, b, rnd.choice(("BIT", "BYTE")))


def test_bitop(diff):
    diff.check("SET", "a", "\x01\x02\xffabc")
    diff.check("SET", "b", "\xf0")
    diff.check("SET", "c", "")
    for op in ("AND", "or", "Xor"):
        diff.check("BITOP", op, "d", "a", "b")
        diff.check("GET", "d")
        diff.check("BITOP", op, "d", "a", "b", "missing", "c")
        diff.check("GET", "d")
        diff.check("BITOP", op, "d", "b")
        diff.check("GET", "d")
    diff.check("BITOP", "NOT", "d", "a")
    diff.check("GET", "d")
    diff.check("BITOP", "NOT", "d", "a", "b")
    diff.check("BITOP", "NAND", "d", "a")
    diff.check("SET", "d", "x")
    diff.check("BITOP", "AND", "d", "missing", "c")
    diff.check("EXISTS", "d")
    diff.check("SET", "d", "x", "EX", 100)
    diff.check("BITOP", "OR", "d", "a")
    diff.check("TTL", "d")


def test_setbit_keeps_ttl(diff):
    diff.check("SET", "k", "a", "EX", 100)
    diff.check("SETBIT", "k", 100, 1)
    diff.check("TTL", "k")
    diff.check("BITFIELD", "k", "SET", "u8", 200, 7)
    diff.check("TTL", "k")


def test_bitfield(diff):
    cmds = [
        ("BITFIELD", "bf"),
        ("EXISTS", "bf"),
        ("BITFIELD", "bf", "GET", "u8", 0),
        ("EXISTS", "bf"),
        ("BITFIELD", "bf", "SET", "i8", 0, -100, "GET", "u4", 0, "GET", "i4", 4, "INCRBY", "u2", 100, 1),
        ("GET", "bf"),
        ("BITFIELD", "bf", "INCRBY", "u2", 100, 1, "OVERFLOW", "SAT", "INCRBY", "u2", 102, 1),
        ("BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "u2", 102, 10, "INCRBY", "i5", 3, -100),
        ("BITFIELD", "bf", "SET", "u8", "#2", 255, "GET", "u8", "#2", "GET", "i8", "#2"),
        ("GET", "bf"),
        ("BITFIELD", "bf", "SET", "i64", 5, -1, "GET", "i64", 5, "GET", "u63", 5, "GET", "u63", 6),
        ("BITFIELD", "bf", "INCRBY", "i64", 5, "-9223372036854775808"),
        ("BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "i64", 5, "-9223372036854775808"),
        ("BITFIELD", "bf", "OVERFLOW", "WRAP", "INCRBY", "i64", 5, "9223372036854775807"),
        ("BITFIELD", "bf", "SET", "u63", 0, "9223372036854775807"),
        ("BITFIELD", "bf", "OVERFLOW", "SAT", "SET", "u8", 0, -1, "SET", "i8", 0, 1000, "SET", "i8", 0, -1000),
        ("BITFIELD", "bf", "OVERFLOW", "FAIL", "SET", "u8", 0, -1, "SET", "i8", 0, 1000, "GET", "i8", 0),
        ("BITFIELD", "bf", "OVERFLOW", "SAT", "SET", "i8", 0, "-9223372036854775808"),
        ("BITFIELD", "bf", "OVERFLOW", "WRAP", "SET", "i8", 0, "-9223372036854775808", "SET", "u8", 0, 300),
        ("GET", "bf"),
        ("BITFIELD", "bf", "GET", "u8", 1000000),
        ("BITFIELD_RO", "bf", "GET", "i16", 3, "GET", "u1", 0),
        ("BITFIELD_RO", "missing", "GET", "i16", 3),
        ("BITFIELD_RO", "bf", "SET", "i16", 3, 1),
        ("BITFIELD_RO", "bf", "GET", "i16", 3, "INCRBY", "i16", 3, 1),
        ("BITFIELD", "new", "OVERFLOW", "FAIL", "SET", "u2", 10, 9),
        ("GET", "new"),
    ]
    diff.check_many(cmds)


@pytest.mark.parametrize("args", [
    ("GET", "u64", 0), ("GET", "i65", 0), ("GET", "i0", 0), ("GET", "x8", 0), ("GET", "I8", 0),
    ("GET", "u", 0), ("GET", "u8", -1), ("GET", "u8", "x"), ("GET", "u8", "#-1"), ("GET", "u8", "#x"),
    ("GET", "u8", 4294967296), ("GET", "u8", "#536870912"), ("SET", "u8", 0, "x"), ("SET", "u8", 0),
    ("GET", "u8"), ("FOO", "u8", 0), ("OVERFLOW", "BAD"), ("OVERFLOW",), ("INCRBY", "u8", 0, "1.5"),
    ("GET", "u8", 0, "SET", "u64", 0, 1), ("OVERFLOW", "SAT", "GET", "u8", 0, "BAD"),
])
def test_bitfield_errors(diff, args):
    diff.check("SET", "bf", "abc")
    diff.check("BITFIELD", "bf", *args)
    diff.check("BITFIELD_RO", "bf", *args)


def test_bitfield_random(diff):
    rnd = random.Random(11)
    for _ in range(300):
        ops = []
        for _ in range(rnd.randrange(1, 4)):
            sign = rnd.choice("iu")
            bits = rnd.randrange(1, 65 if sign == "i" else 64)
            t = f"{sign}{bits}"
            off = rnd.randrange(0, 80)
            kind = rnd.randrange(4)
            if kind == 0:
                ops += ["GET", t, off]
            elif kind == 1:
                ops += ["OVERFLOW", rnd.choice(("WRAP", "SAT", "FAIL"))]
            else:
                val = rnd.choice((rnd.randrange(-(1 << 63), 1 << 63), rnd.randrange(-300, 300),
                                  (1 << (bits - 1)) - rnd.randrange(3), -(1 << (bits - 1)) + rnd.randrange(3)))
                ops += ["SET" if kind == 2 else "INCRBY", t, off, val]
        diff.check("BITFIELD", "k", *ops)
    diff.check("GET", "k")


def test_setbit_random_matches_get(diff):
    rnd = random.Random(3)
    for _ in range(200):
        diff.check("SETBIT", "k", rnd.randrange(0, 300), rnd.randrange(2))
    diff.check("GET", "k")
    diff.check("BITCOUNT", "k")


def _events(port, actions):
    import redis

    r = redis.Redis(host="127.0.0.1", port=port)
    r.flushall()
    r.config_set("notify-keyspace-events", "K$gn")
    p = r.pubsub()
    p.psubscribe("__keyspace@0__:*")
    p.get_message(timeout=1)
    try:
        actions(r)
        events = []
        while True:
            m = p.get_message(timeout=0.3)
            if m is None:
                break
            events.append((m["channel"], m["data"]))
        return events
    finally:
        r.config_set("notify-keyspace-events", "")
        p.close()
        r.close()


def test_notifications(pyredis_srv, real_redis):
    def actions(r):
        r.setbit("k", 1, 1)
        r.setbit("k", 1, 1)  # no change: no event
        r.bitfield("k").set("u8", 8, 1).execute()
        r.bitfield("k2").overflow("FAIL").set("u2", 8, 100).execute()
        r.set("a", "x")
        r.bitop("AND", "d", "a")
        r.bitop("AND", "d", "missing")

    ours = _events(pyredis_srv.port, actions)
    assert ours == _events(real_redis.port, actions)
    assert (b"__keyspace@0__:k", b"new") in ours


def test_random_mixed_sequences(diff):
    """Bitmap writes interleaved with string writes, read back every way."""
    rnd = random.Random(19)
    keys = ["a", "b", "c"]
    for _ in range(400):
        k = rnd.choice(keys)
        op = rnd.randrange(9)
        if op == 0:
            diff.check("SETBIT", k, rnd.randrange(0, 200), rnd.randrange(2))
        elif op == 1:
            diff.check("SETRANGE", k, rnd.randrange(0, 20), rnd.randbytes(rnd.randrange(0, 5)))
        elif op == 2:
            diff.check("APPEND", k, rnd.randbytes(rnd.randrange(0, 4)))
        elif op == 3:
            diff.check("BITOP", rnd.choice(("AND", "OR", "XOR")), k, *rnd.sample(keys, rnd.randrange(1, 4)))
        elif op == 4:
            diff.check("BITOP", "NOT", k, rnd.choice(keys))
        elif op == 5:
            t = rnd.choice("iu") + str(rnd.randrange(1, 20))
            diff.check("BITFIELD", k, "INCRBY", t, rnd.randrange(0, 150), rnd.randrange(-50, 50))
        elif op == 6:
            diff.check("BITCOUNT", k, rnd.randrange(-30, 30), rnd.randrange(-30, 30), rnd.choice(("BIT", "BYTE")))
        elif op == 7:
            diff.check("BITPOS", k, rnd.randrange(2), rnd.randrange(-30, 30), rnd.randrange(-30, 30),
                       rnd.choice(("BIT", "BYTE")))
        else:
            diff.check("GETBIT", k, rnd.randrange(0, 250))
        if rnd.random() < 0.1:
            diff.check("GET", k)
    for k in keys:
        diff.check("GET", k)


def _changes(client) -> int:
    info = client.call("INFO", "persistence")
    info = info[4:] if info.startswith(b"txt:") else info
    return int(info.split(b"rdb_changes_since_last_save:")[1].split(b"\r\n")[0])


# (command, propagated?) in order on a fresh key: a write that changes no bit is no change
# for Redis (setbitCommand / bitfieldGeneric count dirty only for a changed or grown value).
_DIRTY_SEQUENCE = [
    (("SETBIT", "k", "7", "1"), True),          # created
    (("SETBIT", "k", "7", "1"), False),         # same bit
    (("SETBIT", "k", "6", "0"), False),
    (("SETBIT", "k", "6", "1"), True),
    (("SETBIT", "k", "100", "0"), True),        # grows the string
    (("BITFIELD", "k", "SET", "u8", "0", "3"), False),   # byte 0 is already 3
    (("BITFIELD", "k", "SET", "u8", "0", "3", "SET", "i4", "8", "0"), False),
    (("BITFIELD", "k", "INCRBY", "u8", "0", "0"), False),
    (("BITFIELD", "k", "INCRBY", "u8", "0", "1"), True),
    (("BITFIELD", "k", "SET", "u8", "0", "4", "SET", "u8", "8", "1"), True),   # one of two changes
    (("BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "9"), False),  # refused write
    (("BITFIELD", "k", "OVERFLOW", "SAT", "INCRBY", "u8", "0", "1000"), True),
    (("BITFIELD", "k", "OVERFLOW", "SAT", "INCRBY", "u8", "0", "1000"), False),  # already saturated
    (("BITFIELD", "k", "SET", "u8", "1000", "0"), True),  # grows
    (("BITFIELD", "k", "GET", "u8", "0"), False),
    (("BITFIELD", "n", "OVERFLOW", "FAIL", "SET", "u2", "0", "9"), False),  # new key, nothing written
    (("BITFIELD", "m", "SET", "u8", "0", "0"), True),  # new key
]


def test_setbit_bitfield_dirty_only_on_change(diff):
    """rdb_changes_since_last_save moves as in redis-server."""
    for cmd, _ in _DIRTY_SEQUENCE:
        before = (_changes(diff.ours), _changes(diff.theirs))
        diff.check(*cmd)
        after = (_changes(diff.ours), _changes(diff.theirs))
        assert after[0] - before[0] == after[1] - before[1], (cmd, before, after)
    diff.check("GET", "k")
    diff.check("EXISTS", "n", "m")


def test_setbit_bitfield_propagate_only_on_change():
    from effects import Effects
    from pyredis.core.client import Client
    from pyredis.core.dispatch import execute
    from pyredis.core.state import ServerState

    state = ServerState()
    c = Client(state)
    for cmd, propagated in _DIRTY_SEQUENCE:
        argv = [a.encode() for a in cmd]
        dirty = state.dirty
        with Effects(state, argv_only=True) as log:
            execute(c, argv)
        assert log == ([argv] if propagated else []), cmd
        assert (state.dirty > dirty) == propagated, cmd
