"""Streams in RDB form, in each compat-version mode against its server (7.2 and later write
RDB_TYPE_STREAM_LISTPACKS_3, with the consumers' active times): DUMP payloads byte-identical for the same
history, DUMP/RESTORE crossing both ways with identical XINFO STREAM FULL (groups, PELs,
delivery times and counts, consumers' seen times), SAVE in one server loaded by the other,
and the AOF rewrite of streams."""

from __future__ import annotations

import random
import time

import pytest

import pyredis
from conftest import ALL_MODES, RealRedis
from resp import RawClient

pytestmark = [pytest.mark.usefixtures("real_redis"), pytest.mark.modes(*ALL_MODES)]


def _build(c: RawClient, seed: int, groups: bool = True) -> None:
    rnd = random.Random(seed)
    for i in range(1, 260):
        nf = rnd.choice([1, 1, 2])
        fields = []
        for j in range(nf):
            fields += [rnd.choice(["f", "name", "7", "k" * rnd.randint(1, 30)]),
                       rnd.choice(["v", "12", "-70000", "3.25", "x" * rnd.randint(0, 90)])]
        c.call("XADD", "s", f"{1000 + i * 7}-{rnd.randint(0, 2)}", *fields)
        if i % 23 == 0:
            c.call("XDEL", "s", f"{1000 + (i - 3) * 7}-0", f"{1000 + (i - 4) * 7}-1")
    c.call("XTRIM", "s", "MAXLEN", "~", "200")
    c.call("XTRIM", "s", "MINID", f"{1000 + 80 * 7}")
    c.call("XADD", "e", "5-5", "a", "b")
    c.call("XDEL", "e", "5-5")
    if groups:
        c.call("XGROUP", "CREATE", "s", "g1", "0")
        c.call("XGROUP", "CREATE", "s", "g2", "$", "ENTRIESREAD", "259")
        c.call("XGROUP", "CREATE", "s", "123", "0")
        c.call("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "30", "STREAMS", "s", ">")
        c.call("XREADGROUP", "GROUP", "g1", "bob", "COUNT", "10", "STREAMS", "s", ">")
        c.call("XREADGROUP", "GROUP", "123", "7", "COUNT", "3", "STREAMS", "s", ">")
        c.call("XGROUP", "CREATECONSUMER", "s", "g2", "idle")
        ids = [e[0] for e in c.call("XRANGE", "s", "-", "+", "COUNT", "40")]
        c.call("XCLAIM", "s", "g1", "carol", "0", ids[2], ids[5], "RETRYCOUNT", "9", "TIME", "1700000000000")
        c.call("XACK", "s", "g1", ids[7])
        c.call("XDEL", "s", ids[12])  # pending but deleted
        c.call("XGROUP", "CREATE", "e", "eg", "$")


def _state(c: RawClient, key: str):
    return [c.call("XINFO", "STREAM", key, "FULL", "COUNT", "0"), c.call("XINFO", "GROUPS", key),
            c.call("XRANGE", key, "-", "+"), c.call("TYPE", key), c.call("XLEN", key)]


@pytest.fixture
def pair(pyredis_srv, real_redis):
    ours = RawClient("127.0.0.1", pyredis_srv.port)
    theirs = RawClient("127.0.0.1", real_redis.port)
    for c in (ours, theirs):
        c.call("FLUSHALL")
    yield ours, theirs
    for c in (ours, theirs):
        c.call("CONFIG", "SET", "stream-node-max-entries", "100")
        c.call("CONFIG", "SET", "stream-node-max-bytes", "4096")
        c.close()


@pytest.mark.parametrize("node_entries,node_bytes", [(100, 4096), (7, 4096), (0, 500), (10, 0)])
def test_dump_payload_identical(pair, node_entries, node_bytes):
    ours, theirs = pair
    for c in pair:
        c.call("CONFIG", "SET", "stream-node-max-entries", str(node_entries))
        c.call("CONFIG", "SET", "stream-node-max-bytes", str(node_bytes))
        _build(c, node_entries + node_bytes, groups=False)
    for key in ("s", "e"):
        a, b = ours.call("DUMP", key), theirs.call("DUMP", key)
        assert a == b, key


@pytest.mark.parametrize("direction", ["ours_to_redis", "redis_to_ours"])
def test_dump_restore_crossing(pair, direction):
    ours, theirs = pair
    src, dst = (ours, theirs) if direction == "ours_to_redis" else (theirs, ours)
    for c in (ours, theirs):
        c.call("CONFIG", "SET", "stream-node-max-entries", "9")
    _build(src, 5)
    for key in ("s", "e"):
        payload = src.call("DUMP", key)
        assert dst.call("RESTORE", key, "0", payload) == b"OK"
        assert _state(dst, key) == _state(src, key)
        # and the restored copy dumps back to the same bytes
        assert dst.call("DUMP", key) == payload


def test_empty_stream_with_groups_restores(pair):
    ours, theirs = pair
    theirs.call("XGROUP", "CREATE", "m", "g", "$", "MKSTREAM")
    theirs.call("XGROUP", "CREATECONSUMER", "m", "g", "c")
    payload = theirs.call("DUMP", "m")
    assert ours.call("RESTORE", "m", "0", payload) == b"OK"
    assert _state(ours, "m") == _state(theirs, "m")
    assert ours.call("DUMP", "m") == payload


def test_redis_save_loads_in_pyredis(tmp_path, compat_mode):
    theirs = RealRedis(dir=str(tmp_path), mode=compat_mode)
    try:
        c = RawClient("127.0.0.1", theirs.port)
        c.call("CONFIG", "SET", "stream-node-max-entries", "13")
        _build(c, 11)
        c.call("SELECT", "2")
        c.call("XADD", "other", "1-1", "x", "y")
        c.call("SELECT", "0")
        expected = [_state(c, "s"), _state(c, "e")]
        assert c.call("SAVE") == b"OK"
        c.close()
    finally:
        theirs.stop()
    with pyredis.Server(port=0, subprocess=True, dir=str(tmp_path), compat_version=compat_mode) as ours:
        c = RawClient("127.0.0.1", ours.port)
        assert [_state(c, "s"), _state(c, "e")] == expected
        c.call("SELECT", "2")
        assert c.call("XRANGE", "other", "-", "+") == [[b"1-1", [b"x", b"y"]]]
        c.close()


def test_pyredis_save_loads_in_redis(tmp_path, compat_mode):
    with pyredis.Server(port=0, subprocess=True, dir=str(tmp_path), stream_node_max_entries="13",
                        compat_version=compat_mode) as ours:
        c = RawClient("127.0.0.1", ours.port)
        _build(c, 12)
        expected = [_state(c, "s"), _state(c, "e")]
        assert c.call("SAVE") == b"OK"
        c.close()
    theirs = RealRedis(dir=str(tmp_path), mode=compat_mode)
    try:
        c = RawClient("127.0.0.1", theirs.port)
        assert [_state(c, "s"), _state(c, "e")] == expected
        c.close()
    finally:
        theirs.stop()


def test_rdb_version_1_stream_type_15(pair):
    """RDB type 15 (Redis 5-6.2) still loads: built by hand from a 7.0 payload's parts."""
    from pyredis import rdb
    from pyredis.rdb.stream import read_stream, write_stream

    ours, theirs = pair
    theirs.call("XADD", "s", "1-1", "a", "1")
    theirs.call("XADD", "s", "2-1", "a", "2")
    theirs.call("XGROUP", "CREATE", "s", "g", "1-1")
    payload = theirs.call("DUMP", "s")
    s = rdb.restore_payload(payload, {"rdbcompression": True})
    assert rdb.encode_object(s, {"rdbcompression": True})[1] == payload[1:-10]
    # a v1 body: nodes, length, last id, groups (name, last id, PEL, consumers)
    t, body = write_stream(s, {"rdbcompression": False})
    r = rdb.Reader(body)
    n = r.plain_length()
    for _ in range(2 * n):
        r.string()
    r.plain_length()
    head = body[:r.pos]
    v1 = head + rdb.enc_len(2) + rdb.enc_len(1) + rdb.enc_len(1) + rdb.enc_string(b"g") + rdb.enc_len(1) \
        + rdb.enc_len(1) + rdb.enc_len(0) + rdb.enc_len(0)
    s1 = read_stream(rdb.Reader(v1), 15, {})
    assert s1.entries_added == 2 and s1.first_id == (1 << 64) | 1 and s1.groups[b"g"].entries_read == 1


def test_aof_rewrite_of_streams(tmp_path):
    with pyredis.Server(port=0, dir=str(tmp_path), appendonly="yes", aof_use_rdb_preamble="no") as srv:
        c = RawClient("127.0.0.1", srv.port)
        _build(c, 3)
        expected = [_state(c, "s"), _state(c, "e")]
        assert c.call("BGREWRITEAOF")
        for _ in range(400):
            if b"aof_rewrite_in_progress:0" in c.call("INFO", "persistence") and \
                    b"aof_rewrite_scheduled:0" in c.call("INFO", "persistence"):
                break
            time.sleep(0.025)
        c.close()
    with pyredis.Server(port=0, dir=str(tmp_path), appendonly="yes") as srv:
        c = RawClient("127.0.0.1", srv.port)
        got = [_state(c, "s"), _state(c, "e")]
        c.close()

    def comparable(st):
        # seen-time of consumers is the replay time (as in Redis); PELs of deleted entries are dropped
        full = st[0]
        groups = full[full.index(b"groups") + 1]
        out = []
        for g in groups:
            cons = g[g.index(b"consumers") + 1]
            pend = g[g.index(b"pending") + 1]
            out.append([g[g.index(b"name") + 1], g[g.index(b"last-delivered-id") + 1],
                        [[p[0], p[1], p[2], p[3]] for p in pend if p[0] in {e[0] for e in st[2]}],
                        [(x[1], [p for p in x[7] if p[0] in {e[0] for e in st[2]}]) for x in cons]])
        head = full[:full.index(b"entries")]
        del head[2:6]  # radix-tree-keys/nodes: the replayed XADDs fill nodes afresh (as in Redis)
        return [head, st[2], out]

    for a, b in zip(got, expected):
        assert comparable(a) == comparable(b)


def test_rdb_type_21_consumers_with_active_time():
    """Type 21 (Redis 7.2 / Valkey) adds an active time after each consumer's seen time."""
    import struct

    from pyredis.keyspace.stream import Stream
    from pyredis import rdb
    from pyredis.rdb.stream import read_stream, write_stream

    s = Stream()
    s.append((5 << 64) | 1, (b"f", b"v"), 4096, 100)
    s.append((6 << 64) | 0, (b"f", b"w"), 4096, 100)
    t, body = write_stream(s, {"rdbcompression": False})
    assert t == 19 and body.endswith(rdb.enc_len(0))  # no groups
    key = ((5 << 64) | 1).to_bytes(16, "big")
    groups = (rdb.enc_len(1) + rdb.enc_string(b"grp") + rdb.enc_len(6) + rdb.enc_len(0) + rdb.enc_len(2)
              + rdb.enc_len(1) + key + struct.pack("<q", 1700000000123) + rdb.enc_len(3)
              + rdb.enc_len(1) + rdb.enc_string(b"alice") + struct.pack("<q", 1700000000200)
              + struct.pack("<q", 1700000000150) + rdb.enc_len(1) + key)
    v3 = body[:-1] + groups
    r = rdb.Reader(v3)
    s3 = read_stream(r, 21, {})
    assert r.pos == len(v3)
    g = s3.groups[b"grp"]
    assert g.last_id == 6 << 64 and g.entries_read == 2
    c = g.consumers[b"alice"]
    assert (c.seen_time, c.active_time) == (1700000000200, 1700000000150)
    nack = g.pel[(5 << 64) | 1]
    assert nack.consumer is c and nack.delivery_count == 3 and nack.delivery_time == 1700000000123
    assert list(c.pel) == [(5 << 64) | 1]
    # written back as type 19 (no active time), as Redis 7.0 would
    t, body19 = write_stream(s3, {"rdbcompression": False})
    assert t == 19 and len(body19) == len(v3) - 8


@pytest.mark.parametrize("node_entries,node_bytes", [(100, 4096), (5, 4096), (0, 1000), (50, 0), (300, 100000)])
def test_memory_usage_model(pair, pyredis_srv, node_entries, node_bytes):
    """keyspace.stream.memory_usage follows objectComputeSize: listpack allocations (preallocated,
    grown, shrunk to fit), radix trees, groups - MEMORY USAGE of redis-server minus the key."""
    from pyredis.keyspace.stream import je_size, memory_usage

    ours, theirs = pair
    for c in pair:
        c.call("CONFIG", "SET", "stream-node-max-entries", str(node_entries))
        c.call("CONFIG", "SET", "stream-node-max-bytes", str(node_bytes))
    rnd = random.Random(node_entries + node_bytes)
    for i in range(1, 700):
        fields = ["f", "v" * rnd.randint(0, 40)] + (["g", str(rnd.randint(0, 10**9))] if rnd.random() < 0.3 else [])
        for c in pair:
            c.call("XADD", "s", f"{i}-0", *fields)
        if i % 50 == 0:
            for c in pair:
                c.call("XDEL", "s", *[f"{j}-0" for j in range(i - 40, i - 20)])
        if i % 170 == 0:
            for c in pair:
                c.call("XTRIM", "s", "MAXLEN", str(600 - i // 2))
                c.call("XGROUP", "CREATE", "s", f"g{i}", "0")
                c.call("XREADGROUP", "GROUP", f"g{i}", f"c{i % 7}", "COUNT", str(i // 5), "STREAMS", "s", ">")
                c.call("XGROUP", "CREATECONSUMER", "s", f"g{i}", "nobody")
    for c in pair:
        c.call("COPY", "s", "copy")
    db = pyredis_srv.state.dbs[0].data
    for key in ("s", "copy"):
        for samples in ("5", "0", "1", "2"):
            real = theirs.call("MEMORY", "USAGE", key, "SAMPLES", samples)
            model = memory_usage(db[key.encode()], int(samples)) + je_size(1 + len(key) + 1) + 24
            assert model == real, (key, samples)
    # after a RESTORE every listpack is one exact allocation
    payload = theirs.call("DUMP", "s")
    for c in pair:
        c.call("RESTORE", "r", "0", payload)
    assert memory_usage(db[b"r"], 5) + je_size(3) + 24 == theirs.call("MEMORY", "USAGE", "r")
