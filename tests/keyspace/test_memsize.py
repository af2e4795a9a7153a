"""used_memory: pyredis's estimate of redis-server's allocation (keyspace/memsize.py, core/evict.py)
against what redis-server 7.0 reports for the same data, per type; the incremental figure
against a walk of the dataset; MEMORY STATS / DOCTOR shapes. (benchmarks/memory.py runs the
same comparison with a million keys per type.)"""

from __future__ import annotations

import random

import pytest
import redis

import pyredis
from oracles import ALL_MODES
from pyredis.keyspace.memsize import walk_used
from resp import RawClient, encode_command


def _pipeline(client: RawClient, cmds, batch: int = 500) -> None:
    for i in range(0, len(cmds), batch):
        chunk = cmds[i:i + batch]
        client.send(b"".join(encode_command(c) for c in chunk))
        for _ in chunk:
            client.read()


def _used(client: RawClient) -> int:
    text = client.call("INFO", "memory").decode()
    return int(text.split("used_memory:", 1)[1].split("\r\n", 1)[0])


N = 20_000
WORKLOADS = {
    # many small values of each type
    "string": [("SET", f"key:{i}", "v" * 10) for i in range(N)],
    "integer": [("SET", f"key:{i}", str(100000 + i)) for i in range(N)],
    "hash": [("HSET", f"h:{i}", "f1", "v1", "f2", "v2", "f3", "v3") for i in range(N)],
    "list": [("RPUSH", f"l:{i}", "a", "b", "c", "d", "e") for i in range(N)],
    "set": [("SADD", f"s:{i}", "a", "b", "c") for i in range(N)],
    "intset": [("SADD", f"s:{i}", "1", "2", "3") for i in range(N)],
    "zset": [("ZADD", f"z:{i}", "1", "a", "2", "b", "3", "c") for i in range(N)],
    "stream": [("XADD", f"x:{i}", "*", "f", "v") for i in range(N // 4)],
    "expiring": [("SET", f"key:{i}", "v" * 10, "EX", "10000") for i in range(N)],
    # a few large values
    "big hash": [("HSET", "bh", *[x for j in range(i, i + 100) for x in (f"field:{j}", f"value:{j}")])
                 for i in range(0, 50_000, 100)],
    "big set": [("SADD", "bs", *[f"member:{j}" for j in range(i, i + 100)]) for i in range(0, 50_000, 100)],
    "big zset": [("ZADD", "bz", *[x for j in range(i, i + 100) for x in (str(j * 1.5), f"m:{j}")])
                 for i in range(0, 50_000, 100)],
    "big list": [("RPUSH", "bl", *[f"element:{j}" for j in range(i, i + 100)]) for i in range(0, 200_000, 100)],
    "big stream": [("XADD", "bx", "*", "field", f"value:{i}") for i in range(30_000)],
}


@pytest.mark.parametrize("name", list(WORKLOADS))
def test_used_memory_tracks_redis_within_15_percent(pyredis_srv, real_redis, name):
    """The growth of used_memory for the same commands on both servers, within 15%."""
    ours, theirs = RawClient("127.0.0.1", pyredis_srv.port), RawClient("127.0.0.1", real_redis.port)
    try:
        growth = []
        for c in (ours, theirs):
            c.call("FLUSHALL")
            before = _used(c)
            _pipeline(c, WORKLOADS[name])
            growth.append(_used(c) - before)
            c.call("FLUSHALL")
        assert abs(growth[0] - growth[1]) <= 0.15 * growth[1], (name, growth)
    finally:
        ours.close()
        theirs.close()


def test_incremental_estimate_equals_a_walk_of_the_dataset():
    """Database.used, kept on every write (and after in-place changes through ctx.touched), is
    exactly what a walk of the dataset computes, after thousands of random commands of every
    family; the bookkeeping tables hold exactly the keys."""
    rnd = random.Random(7)
    with pyredis.Server(port=0) as s:
        r = redis.Redis(port=s.port)
        keys = [f"{t}{i}" for t in "shlzxb" for i in range(6)]

        def el():
            return rnd.choice(["a", "bb", "1", "22", "x" * 70, str(rnd.randint(0, 10**6)), "m%d" % rnd.randint(0, 300)])

        def key(prefix):
            return prefix + str(rnd.randrange(6))

        ops = [
            lambda: r.set(key("s"), el()), lambda: r.append(key("s"), el()), lambda: r.incr(key("s")),
            lambda: r.setrange(key("s"), rnd.randint(0, 30), el()), lambda: r.getdel(key("s")),
            lambda: r.setbit(key("b"), rnd.randint(0, 5000), 1), lambda: r.pfadd(key("b"), el()),
            lambda: r.hset(key("h"), el(), el()), lambda: r.hdel(key("h"), el()), lambda: r.hincrby(key("h"), el(), 3),
            lambda: r.hset(key("h"), mapping={el(): el() for _ in range(rnd.randint(1, 200))}),
            lambda: r.rpush(key("l"), *[el() for _ in range(rnd.randint(1, 300))]), lambda: r.lpop(key("l"), 20),
            lambda: r.ltrim(key("l"), 0, rnd.randint(0, 100)), lambda: r.lset(key("l"), 0, el()),
            lambda: r.linsert(key("l"), "BEFORE", el(), el()), lambda: r.lmove(key("l"), key("l")),
            lambda: r.sadd(key("s"), *[el() for _ in range(rnd.randint(1, 300))]), lambda: r.srem(key("s"), el()),
            lambda: r.spop(key("s"), 3), lambda: r.smove(key("s"), key("s"), el()),
            lambda: r.sinterstore(key("s"), [key("s"), key("s")]), lambda: r.sunionstore(key("s"), [key("s"), key("s")]),
            lambda: r.zadd(key("z"), {el(): rnd.random() * 100 for _ in range(rnd.randint(1, 200))}),
            lambda: r.zrem(key("z"), el()), lambda: r.zpopmin(key("z"), 5), lambda: r.zincrby(key("z"), 2, el()),
            lambda: r.zunionstore(key("z"), [key("z"), key("z")]), lambda: r.zremrangebyrank(key("z"), 0, 3),
            lambda: r.xadd(key("x"), {el(): el()}), lambda: r.xtrim(key("x"), 3), lambda: r.xdel(key("x"), "0-1"),
            lambda: r.xgroup_create(key("x"), "g", id="0", mkstream=True),
            lambda: r.xreadgroup("g", "c", {key("x"): ">"}, count=5), lambda: r.xack(key("x"), "g", "0-1"),
            lambda: r.xclaim(key("x"), "g", "c2", 0, ["0-1"]), lambda: r.xautoclaim(key("x"), "g", "c3", 0, "0-0"),
            lambda: r.xgroup_createconsumer(key("x"), "g", el()), lambda: r.xgroup_delconsumer(key("x"), "g", "c"),
            lambda: r.xgroup_setid(key("x"), "g", "0"), lambda: r.xgroup_destroy(key("x"), "g") if rnd.random() < 0.2 else None,
            lambda: r.execute_command("XSETID", key("x"), "999999999999-0"),
            lambda: r.ltrim(key("l"), 0, -1), lambda: r.lpos(key("l"), el()), lambda: r.rpoplpush(key("l"), key("l")),
            lambda: r.rename(rnd.choice(keys), rnd.choice(keys)), lambda: r.copy(rnd.choice(keys), rnd.choice(keys), replace=True),
            lambda: r.expire(rnd.choice(keys), 1000), lambda: r.persist(rnd.choice(keys)),
            lambda: r.unlink(rnd.choice(keys)), lambda: r.delete(rnd.choice(keys)), lambda: r.move(rnd.choice(keys), 1),
            lambda: r.restore(rnd.choice(keys), 0, r.dump(rnd.choice(keys)) or r.dump("s0") or b"\x00", replace=True),
            lambda: r.sort(key("l"), store=key("l"), alpha=True), lambda: r.swapdb(0, 1) if rnd.random() < 0.05 else None,
            lambda: r.execute_command("EVAL", "redis.call('sadd', KEYS[1], ARGV[1]); return redis.call('rpush', KEYS[2], ARGV[1])",
                                      "2", key("s"), key("l"), el()),
            lambda: r.flushdb() if rnd.random() < 0.01 else None,
        ]
        for _ in range(8000):
            try:
                rnd.choice(ops)()
            except redis.ResponseError:
                pass  # WRONGTYPE and the like: the point is the bookkeeping
        st = s.state
        for db in st.dbs[:2]:
            db.refresh()
            assert db.used == walk_used(db), db.id
            assert set(db.lru) == set(db.data), db.id
            assert set(db.sizes) <= set(db.data), db.id
            assert len(db.data) <= db.slots and len(db.expires) <= db.eslots
        r.flushall()
        assert all(db.used == 0 for db in st.dbs)


@pytest.mark.modes(*ALL_MODES)
def test_memory_stats_has_redis_shape(diff):
    """Each release's fields in its order (7.4 and Valkey 8.0: kvstore's bucket-array and
    rehashing figures, no slot-to-keys, allocator.muzzy). The per-db overheads are Redis's
    arithmetic on the same table sizes up to 7.2; 7.4's kvstore adds its own structures, of
    which the bucket arrays (overhead.db.hashtable.lut) are modelled."""
    diff.check("SET", "a", "1")
    diff.check("SELECT", "3")
    diff.check("SET", "b", "2", "EX", "100")
    ours, theirs = diff.both("MEMORY", "STATS")
    if not isinstance(ours, dict):  # RESP2: a flat list
        assert ours[::2] == theirs[::2]
        ours, theirs = dict(zip(ours[::2], ours[1::2])), dict(zip(theirs[::2], theirs[1::2]))
        ours[b"db.3"], theirs[b"db.3"] = (dict(zip(x[b"db.3"][::2], x[b"db.3"][1::2])) for x in (ours, theirs))
    assert list(ours) == list(theirs)
    assert list(ours[b"db.3"]) == list(theirs[b"db.3"])
    assert ours[b"keys.count"] == theirs[b"keys.count"] == 2
    if b"overhead.db.hashtable.lut" in theirs:
        assert ours[b"overhead.db.hashtable.lut"] == theirs[b"overhead.db.hashtable.lut"]
        assert ours[b"overhead.db.hashtable.rehashing"] == theirs[b"overhead.db.hashtable.rehashing"] == 0
    else:
        assert ours[b"db.3"] == theirs[b"db.3"]


def test_memory_doctor_reports_a_big_peak(diff):
    """With the dataset down to a fraction of its peak both doctors report it (Redis also
    reports its RSS, which pyredis's estimate does not model)."""
    diff.check("DEBUG", "POPULATE", "200000", "key", "20")
    for i in range(0, 200000, 1000):
        diff.check("DEL", *[f"key:{j}" for j in range(i, i + 1000) if j % 4])
    ours, theirs = diff.both("MEMORY", "DOCTOR")
    peak = b" * Peak memory: In the past this instance used more than 150% the memory that is currently using."
    for report in (ours, theirs):
        report = bytes(report).removeprefix(b"txt:")  # RESP3: a verbatim string
        assert report.startswith(b"Sam, I detected a few issues in this Redis instance memory implants:\n\n")
        assert peak in report and report.endswith(b"I'm here to keep you safe, Sam. I want to help you.\n")
    diff.check("FLUSHALL")
    diff.check("MEMORY", "DOCTOR")  # empty: the same text
