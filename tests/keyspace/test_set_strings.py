"""Database.set_strings (a run of SETs read back from an AOF, stored by the dict's own bulk
operations) and keyspace.pairs.set_pairs (MSET's pairs, one compiled loop) leave the database
exactly as the same pairs stored one by one with set() do: the values, the access clocks, the
TTLs cleared, the used_memory estimate, the table sizes. And an AOF of SET runs mixed with every
other kind of command loads into what redis-server loads."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

import pyredis
from conftest import RealRedis, require_binary, REDIS_SERVER
from pyredis.keyspace.database import Database
from pyredis.keyspace.lru import LFU
from pyredis.keyspace.memsize import walk_used
from pyredis.keyspace.pairs import set_pairs
from pyredis.keyspace.hash import new_hash
from resp import RawClient, encode_command

KEYS = st.sampled_from([b"k%d" % i for i in range(12)] + [b"x" * 70, b""])
VALUES = st.one_of(st.sampled_from([b"", b"1", b"12", b"-5", b"007", b"v" * 10, b"w" * 50, b"9" * 19, b"9" * 20]),
                   st.binary(max_size=60))


def _db(lfu: bool, limit: bool) -> Database:
    db = Database(0, lambda: 1_000_000, lambda d, k: None)
    db.lru_now = 4242
    if lfu:
        db.lfu = LFU(10, 1)
    if limit:
        db.expand_allowed = lambda extra, fill: fill > 1.618
    return db


def _a_hash():
    h = new_hash()
    h[b"f"] = b"v"
    return h


def _state(db: Database):
    return (dict(db.data), dict(db.lru), dict(db.expires), db.used, db.slots, db.made, dict(db.sizes))


@settings(max_examples=400, deadline=None)
@given(before=st.lists(st.tuples(KEYS, st.one_of(VALUES, st.just("hash"))), max_size=20),
       ttls=st.lists(KEYS, max_size=4), pairs=st.lists(st.tuples(KEYS, VALUES), min_size=1, max_size=30),
       lfu=st.booleans(), limit=st.booleans())
def test_set_strings_is_set_pair_by_pair(before, ttls, pairs, lfu, limit):
    bulk, single = _db(lfu, limit), _db(lfu, limit)
    for db in (bulk, single):
        for k, v in before:
            db.set(k, _a_hash() if v == "hash" else v)
        for k in ttls:
            if k in db.data:
                db.set_expire(k, 5_000_000)
    bulk.set_strings([k for k, _ in pairs], [v for _, v in pairs])
    for k, v in pairs:
        single.set(k, v)
    assert _state(bulk) == _state(single)
    bulk.refresh()
    assert bulk.used == walk_used(bulk)


@settings(max_examples=400, deadline=None)
@given(before=st.lists(st.tuples(KEYS, st.one_of(VALUES, st.just("hash"))), max_size=20),
       ttls=st.lists(KEYS, max_size=4),
       pairs=st.lists(st.tuples(KEYS, st.one_of(VALUES, VALUES.map(bytearray))), min_size=1, max_size=30),
       lfu=st.booleans(), limit=st.booleans(), grown=st.booleans())
def test_set_pairs_is_set_pair_by_pair(before, ttls, pairs, lfu, limit, grown):
    """Any mix: new keys (the table growing, under a growth limit or not), strings over strings
    of every length and int-ness, hashes overwritten, bytearray values, keys repeated, TTLs and
    LFU (which go pair by pair)."""
    loop, single = _db(lfu, limit), _db(lfu, limit)
    for db in (loop, single):
        if grown:  # a database whose table has grown before
            db.set(b"other", b"1")
        for k, v in before:
            db.set(k, _a_hash() if v == "hash" else v)
        for k in ttls:
            if k in db.data:
                db.set_expire(k, 5_000_000)
    set_pairs(loop, tuple(x for pair in pairs for x in pair))
    for k, v in pairs:
        single.set(k, v)
    assert _state(loop) == _state(single)
    loop.refresh()
    assert loop.used == walk_used(loop)


def test_set_strings_first_keys_make_the_table():
    db = _db(False, False)
    joined = []
    db.in_use = joined
    db.set_strings([b"a%d" % i for i in range(100)], [b"v"] * 100)
    assert db.made and joined == [db] and db.slots == 128 and len(db.lru) == 100


def _aof_commands() -> list[list[bytes]]:
    """Runs of SETs broken by everything else: SELECT, a TTL, a hash overwritten by a string, a
    key repeated in a run, a transaction, a SET with options, lower-case spellings."""
    cmds: list[list[bytes]] = [[b"SELECT", b"0"]]
    cmds += [[b"SET", b"k%d" % i, b"v%d" % i] for i in range(3000)]
    cmds += [[b"HSET", b"h1", b"f", b"v"], [b"SET", b"k5", b"again"], [b"SET", b"h1", b"over a hash"]]
    cmds += [[b"SET", b"k%d" % (i % 50), b"%d" % i] for i in range(200)]  # keys repeated within the run
    cmds += [[b"PEXPIREAT", b"k7", b"99999999999999"], [b"SET", b"k8", b"x"], [b"SET", b"k7", b"ttl cleared"]]
    cmds += [[b"PEXPIREAT", b"k9", b"99999999999999"], [b"SET", b"k10", b"y"]]
    cmds += [[b"MULTI"], [b"SET", b"t1", b"1"], [b"SET", b"t2", b"2"], [b"EXEC"]]
    cmds += [[b"set", b"lower%d" % i, b"z" * (i % 70)] for i in range(300)]
    cmds += [[b"SELECT", b"3"]] + [[b"SET", b"k%d" % i, b"db3"] for i in range(500)]
    cmds += [[b"SET", b"opt", b"1", b"KEEPTTL"], [b"SELECT", b"0"], [b"SET", b"back", b"in 0"]]
    return cmds


def _dump(port: int) -> dict:
    c = RawClient("127.0.0.1", port)
    try:
        out = {}
        for db in (0, 3):
            c.call("SELECT", str(db))
            for k in sorted(c.call("KEYS", "*")):
                t = c.call("TYPE", k)
                v = c.call("GET", k) if t in ("string", b"string") else c.call("HGETALL", k)
                out[(db, k)] = (t, v, c.call("PTTL", k) > 0)
        return out
    finally:
        c.close()


def test_aof_of_set_runs_loads_as_redis_does(tmp_path):
    """The same AOF (one file, no manifest: Redis 7.0 reads it as an old-style appendonly.aof
    and upgrades it) loaded by redis-server 7.0 and by pyredis: the same keys, values and TTLs;
    pyredis's used_memory estimate equals a walk of what it loaded."""
    require_binary(REDIS_SERVER, "redis-server")
    body = b"".join(encode_command(c) for c in _aof_commands())
    dirs = []
    for side in ("ours", "theirs"):
        d = tmp_path / side
        d.mkdir()
        (d / "appendonly.aof").write_bytes(body)
        dirs.append(str(d))
    theirs = RealRedis("--appendonly", "yes", dir=dirs[1])
    try:
        with pyredis.Server(port=0, dir=dirs[0], appendonly="yes") as s:
            got = _dump(s.port)
            for db in s.state.dbs:
                db.refresh()
                assert db.used == walk_used(db)
                assert set(db.lru) == set(db.data)
            assert got == _dump(theirs.port)
            assert got[(0, b"k5")][1] == b"155" and got[(0, b"k7")][1:] == (b"ttl cleared", False)
            assert got[(0, b"k9")][2]  # its TTL stays: SET k10 did not touch it
    finally:
        theirs.stop()
