"""HyperLogLog against redis-server: exact estimates, byte-identical values (sparse and dense),
values moved between the servers, corrupted values."""

from __future__ import annotations

import random
import time

import pytest

from pyredis.keyspace import hll
from effects import Effects
from oracles import ALL_MODES
from resp import RawClient

# 7.2's hllMerge stops at an overflowing run: every mode against its server
pytestmark = pytest.mark.modes(*ALL_MODES)


def _elements(n: int, seed: int) -> list[bytes]:
    rnd = random.Random(seed)
    return [b"%d:%s" % (i, rnd.randbytes(rnd.randrange(0, 20))) for i in range(n)]


def test_murmur_register_and_count_match_redis(real_redis):
    """pat_len (MurmurHash64A + run of zeros) against the register Redis sets for one element,
    read back with PFDEBUG DECODE; element lengths cover every tail size of the hash."""
    c = RawClient("127.0.0.1", real_redis.port)
    try:
        rnd = random.Random(4)
        for n in list(range(0, 25)) + [63, 64, 100]:
            ele = rnd.randbytes(n)
            c.call("DEL", "one")
            c.call("PFADD", "one", ele)
            index, count = hll.pat_len(ele)
            expected = []
            if index:
                expected.append(("z" if index <= 64 else "Z") + ":%d" % index)
            expected.append("v:%d,1" % count)
            if index != 16383:
                rest = 16383 - index
                expected.append(("z" if rest <= 64 else "Z") + ":%d" % rest)
            assert c.call("PFDEBUG", "DECODE", "one").decode() == " ".join(expected), ele
    finally:
        c.close()


def test_pfadd_basic(diff):
    diff.check("PFADD", "h")
    diff.check("GET", "h")
    diff.check("PFCOUNT", "h")
    diff.check("GET", "h")
    diff.check("PFADD", "h", "a", "b", "c")
    diff.check("PFADD", "h", "a")
    diff.check("GET", "h")
    diff.check("PFCOUNT", "h")
    diff.check("GET", "h")
    diff.check("PFCOUNT", "h", "missing")
    diff.check("PFCOUNT", "missing")
    diff.check("PFCOUNT", "missing", "missing2")
    diff.check("PFADD", "h")


@pytest.mark.parametrize("n", [10, 1000, 5000])
def test_pfadd_sparse_and_dense_bytes(diff, n):
    els = _elements(n, n)
    for i in range(0, n, 97):
        diff.check("PFADD", "h", *els[i:i + 97])
        diff.check("GET", "h")
    diff.check("PFCOUNT", "h")
    diff.check("GET", "h")
    diff.check("PFADD", "h2", *els)
    diff.check("GET", "h2")
    diff.check("PFCOUNT", "h2")


def test_one_by_one_matches(diff):
    for e in _elements(400, 5):
        diff.check("PFADD", "h", e)
    diff.check("GET", "h")
    diff.check("PFCOUNT", "h")


def test_exact_estimates_100k(diff):
    els = _elements(100000, 1)
    t = time.time()
    for i in range(0, len(els), 10000):
        diff.check("PFADD", "big", *els[i:i + 10000])
    assert time.time() - t < 60
    diff.check("PFCOUNT", "big")
    diff.check("GET", "big")
    for n in (10, 1000):
        diff.check("PFADD", "s%d" % n, *_elements(n, 99))
        diff.check("PFCOUNT", "s%d" % n)
    diff.check("PFCOUNT", "big", "s10", "s1000", "missing")
    diff.check("PFCOUNT", "s10", "s1000")


def test_hll_sparse_max_bytes(diff):
    for c in (diff.ours, diff.theirs):
        c.call("CONFIG", "SET", "hll-sparse-max-bytes", "200")
    try:
        els = _elements(300, 8)
        for i in range(0, 300, 7):
            diff.check("PFADD", "h", *els[i:i + 7])
            diff.check("GET", "h")
    finally:
        for c in (diff.ours, diff.theirs):
            c.call("CONFIG", "SET", "hll-sparse-max-bytes", "3000")


def test_pfmerge(diff):
    diff.check("PFADD", "a", *_elements(50, 1))
    diff.check("PFADD", "b", *_elements(60, 2))
    diff.check("PFADD", "d", *_elements(4000, 3))
    diff.check("PFMERGE", "m", "a", "b")
    diff.check("GET", "m")
    diff.check("PFCOUNT", "m")
    diff.check("PFMERGE", "m", "missing")
    diff.check("GET", "m")
    diff.check("PFMERGE", "m2", "a", "d")
    diff.check("GET", "m2")
    diff.check("PFCOUNT", "m2")
    diff.check("PFMERGE", "a", "b")
    diff.check("GET", "a")
    diff.check("PFMERGE", "e")
    diff.check("GET", "e")
    diff.check("PFMERGE", "big", *[f"x{i}" for i in range(3)])
    diff.check("PFADD", "many", *_elements(700, 9))
    diff.check("PFADD", "many2", *_elements(700, 10))
    diff.check("PFMERGE", "mm", "many", "many2")
    diff.check("GET", "mm")
    diff.check("PFCOUNT", "mm")


def test_values_move_between_servers(diff):
    diff.theirs.call("PFADD", "r", *_elements(3000, 4))
    diff.theirs.call("PFADD", "s", *_elements(30, 4))
    for k in ("r", "s"):
        diff.ours.call("SET", k, diff.theirs.call("GET", k))
        diff.check("PFCOUNT", k)
        diff.check("PFADD", k, "x", "y", "z")
        diff.check("GET", k)
        diff.check("PFCOUNT", k)


@pytest.mark.parametrize("value", [
    b"", b"HYLL", b"HYLX" + bytes(14), b"HYLL\x02" + bytes(13), b"HYLL\x00" + bytes(13), b"12345",
    b"HYLL\x01" + bytes(11),  # no opcodes
    b"HYLL\x01" + bytes(11) + b"\x7f\xfe",  # one register short
    b"HYLL\x01" + bytes(11) + b"\x7f\xff\x80",  # one register too many
    b"HYLL\x01" + bytes(11) + b"\x80\x7f\xfe",
    b"HYLL\x01" + bytes(11) + b"\x7f\xff" + bytes(2),
])
def test_invalid_values(diff, value):
    diff.check("SET", "bad", value)
    diff.check("PFCOUNT", "bad")
    diff.check("SET", "bad", value)
    diff.check("PFADD", "bad", "a", "b")
    diff.check("SET", "bad", value)
    diff.check("PFCOUNT", "bad", "missing")
    diff.check("PFMERGE", "dst", "bad")
    diff.check("EXISTS", "dst")
    diff.check("PFMERGE", "bad", "missing")


def test_wrongtype(diff):
    diff.check("LPUSH", "l", "a")
    diff.check("PFADD", "l", "a")
    diff.check("PFCOUNT", "l")
    diff.check("PFCOUNT", "l", "x")
    diff.check("PFMERGE", "l", "x")
    diff.check("PFMERGE", "x", "l")


def test_cached_cardinality_is_used(diff):
    diff.check("PFADD", "h", *_elements(100, 6))
    diff.check("PFCOUNT", "h")
    v = diff.ours.call("GET", "h")
    # a tampered (valid) cache is returned as is by both
    v = v[:8] + (12345).to_bytes(8, "little") + v[16:]
    diff.check("SET", "h", v)
    diff.check("PFCOUNT", "h")


def test_pfadd_keeps_ttl(diff):
    diff.check("PFADD", "h", "a")
    diff.check("EXPIRE", "h", 100)
    diff.check("PFADD", "h", "b")
    diff.check("TTL", "h")
    diff.check("PFCOUNT", "h")
    diff.check("TTL", "h")


def test_random_sequences(diff):
    rnd = random.Random(12)
    keys = ["a", "b", "c"]
    for _ in range(150):
        k = rnd.choice(keys)
        op = rnd.randrange(4)
        if op < 2:
            diff.check("PFADD", k, *_elements(rnd.randrange(0, 200), rnd.randrange(1000)))
        elif op == 2:
            diff.check("PFCOUNT", *rnd.sample(keys, rnd.randrange(1, 4)))
        else:
            diff.check("PFMERGE", k, *rnd.sample(keys, rnd.randrange(0, 3)))
    for k in keys:
        diff.check("GET", k)


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
        r.pfadd("h", "a")
        r.pfadd("h", "a")  # unchanged: no event
        r.pfadd("e")
        r.pfcount("h")
        r.pfmerge("m", "h")
        r.pfmerge("m", "h")

    ours = _events(pyredis_srv.port, actions)
    assert ours == _events(real_redis.port, actions)
    assert (b"__keyspace@0__:m", b"pfadd") in ours


def _dense_value(raw: bytes, card: bytes = b"\x00" * 7 + b"\x80") -> bytes:
    return b"HYLL\x00\x00\x00\x00" + card + hll.pack_dense(raw)


def test_crafted_dense_registers(diff):
    rnd = random.Random(21)
    for trial in range(12):
        top = rnd.choice((1, 5, 20, 33, 51, 63))
        density = rnd.random()
        raw = bytes(rnd.randrange(1, top + 1) if rnd.random() < density else 0 for _ in range(16384))
        assert hll.dense_registers(_dense_value(raw)) == bytearray(raw)
        diff.check("SET", "d", _dense_value(raw))
        diff.check("PFCOUNT", "d")
        diff.check("GET", "d")
        diff.check("SET", "d", _dense_value(raw))
        diff.check("PFADD", "d", *_elements(50, trial))
        diff.check("GET", "d")
        diff.check("PFMERGE", "m%d" % (trial % 3), "d")
        diff.check("GET", "m%d" % (trial % 3))
        diff.check("PFCOUNT", "m0", "m1", "d")


def _sparse_value(rnd) -> bytes:
    ops = bytearray()
    left = 16384
    while left:
        kind = rnd.randrange(3)
        if kind == 0:
            n = min(left, rnd.randrange(1, 65))
            ops.append(n - 1)
        elif kind == 1:
            n = min(left, rnd.randrange(1, 3000))
            ops += bytes((0x40 | ((n - 1) >> 8), (n - 1) & 0xFF))
        else:
            n = min(left, rnd.randrange(1, 5))
            ops.append(0x80 | (rnd.randrange(32) << 2) | (n - 1))
        left -= n
    return b"HYLL\x01\x00\x00\x00" + bytes(7) + b"\x80" + bytes(ops)


def test_crafted_sparse_values(diff):
    rnd = random.Random(22)
    for trial in range(15):
        v = _sparse_value(rnd)
        diff.check("SET", "s", v)
        diff.check("PFCOUNT", "s")
        diff.check("GET", "s")
        diff.check("SET", "s", v)
        diff.check("PFADD", "s", *_elements(rnd.randrange(1, 300), trial))
        diff.check("GET", "s")
        diff.check("SET", "s", v)
        diff.check("SET", "s2", _sparse_value(rnd))
        diff.check("PFMERGE", "s", "s2")
        diff.check("GET", "s")
        diff.check("PFCOUNT", "s", "s2")


def test_pfdebug(diff):
    diff.check("PFADD", "h", *_elements(20, 1))
    diff.check("PFDEBUG", "DECODE", "h")
    diff.check("PFDEBUG", "ENCODING", "h")
    diff.check("PFDEBUG", "foo", "h")
    diff.check("PFDEBUG", "foo", "missing")
    diff.check("PFDEBUG", "GETREG", "missing")
    diff.check("SET", "s", "x")
    diff.check("PFDEBUG", "foo", "s")
    diff.check("PFADD", "h2", *_elements(20, 2))
    diff.check("PFDEBUG", "GETREG", "h2")
    diff.check("GET", "h2")
    diff.check("PFDEBUG", "TODENSE", "h")
    diff.check("PFDEBUG", "TODENSE", "h")
    diff.check("GET", "h")
    diff.check("PFDEBUG", "DECODE", "h")
    diff.check("PFDEBUG", "ENCODING", "h")
    diff.check("PFDEBUG", "GETREG", "h")


def test_pfselftest(r):
    assert r.execute_command("PFSELFTEST") == b"OK"


def test_pfcount_cache_update_propagates():
    from pyredis.core.client import Client
    from pyredis.core.dispatch import execute
    from pyredis.core.state import ServerState

    state = ServerState()
    log = Effects(argv_only=True)
    state.propagation.add_sink(log)
    c = Client(state)
    execute(c, [b"PFADD", b"h", b"a"])
    execute(c, [b"PFCOUNT", b"h"])
    execute(c, [b"PFCOUNT", b"h"])  # cached: no change, not propagated
    assert log == [[b"PFADD", b"h", b"a"], [b"PFCOUNT", b"h"]]


def test_sparse_scan_hint_is_equivalent():
    """sparse_set resumed from a hint gives the bytes a scan from the start gives."""
    rnd = random.Random(31)
    for trial in range(40):
        start = bytearray(_sparse_value(rnd)) if trial % 2 else hll.new_hll()
        a, b = bytearray(start), bytearray(start)
        hint = [hll.HDR, 0, -1]
        idx = sorted(rnd.sample(range(16384), rnd.randrange(1, 800)))
        if trial % 4 == 3:
            rnd.shuffle(idx)  # random order: the hint must be ignored when behind
        for j in idx:
            c = rnd.randrange(1, 33)
            ra, a = hll.sparse_set(a, j, c, 3000)
            rb, b = hll.sparse_set(b, j, c, 3000, hint)
            assert (ra, a) == (rb, b)


@pytest.mark.parametrize("encoding", ["dense", "sparse"])
def test_corrupted_hll_fuzz_matches_redis(pyredis_srv, real_redis, encoding):
    """Redis's "Fuzzing dense/sparse encoding" test, compared with redis-server: a 10k-element
    HLL (sparse with a raised hll-sparse-max-bytes) gets 1 to 5 random byte changes with
    SETRANGE, then PFCOUNT (and PFADD / PFMERGE / multi-key PFCOUNT) must reply as Redis does
    (INVALIDOBJ where Redis detects the corruption, the same count otherwise) and leave the
    same bytes (PFADD changes a corrupted sparse value in place before it fails). 500 rounds
    per encoding: bounded, so a slow implementation shows as a slow test."""
    rnd = random.Random(1234 if encoding == "dense" else 4321)
    ours, theirs = RawClient("127.0.0.1", pyredis_srv.port), RawClient("127.0.0.1", real_redis.port)
    both = (ours, theirs)
    try:
        for c in both:
            c.call("FLUSHALL")
            c.call("CONFIG", "SET", "hll-sparse-max-bytes", "3000" if encoding == "dense" else "60000")
        theirs.call("PFADD", "base", *[f"e{i}" for i in range(10000)])
        base = theirs.call("GET", "base")
        assert base[4] == (0 if encoding == "dense" else 1)
        ours.call("SET", "base", base)
        rounds = 500
        for it in range(rounds):
            for c in both:
                c.call("SET", "h", base)
                c.call("DEL", "d")
            for _ in range(rnd.randint(1, 5)):
                pos = rnd.randrange(len(base) if rnd.random() < 0.7 else 24)  # the header too
                byte = bytes([rnd.randrange(256)])
                for c in both:
                    c.call("SETRANGE", "h", pos, byte)
            commands = [("PFCOUNT", "h")]
            if it % 3 == 1:
                commands.append(("PFADD", "h", f"x{it}", f"y{it}", f"z{it}"))
            elif it % 3 == 2:
                commands += [("PFMERGE", "d", "h"), ("PFCOUNT", "base", "h")]
            commands.append(("PFCOUNT", "h"))
            for cmd in commands:
                a, b = ours.call(*cmd), theirs.call(*cmd)
                assert a == b, (it, cmd, a, b)
            assert ours.call("GET", "h") == theirs.call("GET", "h"), it
            assert ours.call("GET", "d") == theirs.call("GET", "d"), it
    finally:
        for c in both:
            c.call("CONFIG", "SET", "hll-sparse-max-bytes", "3000")
            c.close()


def test_pfadd_on_corrupted_sparse_keeps_the_updates_before_the_error(diff):
    """hllSparseSet finds a corruption only when its scan runs past the end: elements whose
    registers come before that are set in place, then PFADD fails (value changed, no write
    counted)."""
    diff.check("PFADD", "h", "a")
    value = diff.theirs.call("GET", "h")
    # Shorten the register runs: the last XZERO ends early, so late registers are "missing".
    corrupt = value[:-2] + bytes([0x40, 0x00])
    diff.check("SET", "h", corrupt)
    low = next(e for e in (f"k{i}" for i in range(1000)) if hll.pat_len(e.encode())[0] < 100)
    high = next(e for e in (f"k{i}" for i in range(1000)) if hll.pat_len(e.encode())[0] > 16000)
    diff.check("PFADD", "h", low, high)
    diff.check("GET", "h")
    diff.check("PFCOUNT", "h")


def _xzero(n: int) -> bytes:
    return bytes([0x40 | ((n - 1) >> 8), (n - 1) & 0xFF])


def _val(v: int, n: int) -> bytes:
    return bytes([0x80 | ((v - 1) << 2) | (n - 1)])


@pytest.mark.parametrize("body", [
    _xzero(16384) + _val(1, 1), _xzero(16384) + b"\x00", _xzero(16383) + b"\x01", _xzero(16383) + _val(1, 2),
    _xzero(16384) + _xzero(5), _val(1, 1) + _xzero(16383) + _val(3, 1), _xzero(16383) + _val(2, 1),
    _xzero(16383), _xzero(16383) + b"\x40", _xzero(16384) + _val(1, 1) + b"\x02",
], ids=lambda b: b.hex())
def test_crafted_sparse_runs_match_redis(diff, body):
    """Runs that do not cover exactly 16384 registers: every reader (PFCOUNT's histogram,
    the multi-key merge, PFMERGE's dense conversion) decides as redis-server does."""
    value = b"HYLL\x01" + bytes(10) + b"\x80" + body
    for cmd in [("PFCOUNT", "h"), ("PFCOUNT", "h", "nokey"), ("PFMERGE", "d", "h"), ("GET", "d"),
                ("PFADD", "h", "a", "b"), ("GET", "h")]:
        if cmd[0] != "GET":
            diff.check("SET", "h", value)
        diff.check(*cmd)
