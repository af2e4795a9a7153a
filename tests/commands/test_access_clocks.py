"""The per-key access clocks as Redis keeps them: OBJECT FREQ / IDLETIME, which commands touch
a key (lookupKey) and which do not (LOOKUP_NOTOUCH: TTL, TYPE, EXISTS, OBJECT, SCAN...),
RESTORE IDLETIME/FREQ, DEBUG OBJECT's lru fields and the RDB IDLE/FREQ opcodes.

With lfu-log-factor 0 every access increments the LFU counter (p = 1/(0 + 1)), so the counter
counts the touches exactly and the two servers must agree after every command. (String values
are kept out of 0..9999: without maxmemory Redis stores those as shared integer objects, whose
single LRU/LFU field every key holding them shares; pyredis does not model that.)"""

from __future__ import annotations

import re
import time

import pytest

# One key of each type, then commands of every family: after each one, the LFU counters of
# all the keys must be the same on both servers.
_SETUP = [("SET", "s", "100000"), ("HSET", "h", "f", "1", "g", "2"), ("RPUSH", "l", "3", "1", "2"),
          ("SADD", "st", "a", "b"), ("SADD", "si", "1", "2"), ("ZADD", "z", "1", "a", "2", "b"),
          ("XADD", "x", "1-1", "f", "v"), ("PFADD", "hll", "a"), ("SETBIT", "bm", "5", "1"),
          ("GEOADD", "g", "13.36", "38.11", "p")]
_KEYS = ["s", "h", "l", "st", "si", "z", "x", "hll", "bm", "g"]
_RANDOM_REPLY = {"HRANDFIELD", "SRANDMEMBER", "ZRANDMEMBER", "SPOP", "SCAN", "RANDOMKEY",  # or cursors,
                 "PTTL"}  # or a time in ms: the two servers read their clocks a moment apart
_COMMANDS = [
    ("GET", "s"), ("STRLEN", "s"), ("GETRANGE", "s", "0", "1"), ("SETRANGE", "s", "0", "1"), ("INCR", "s"),
    ("DECR", "s"), ("DECRBY", "s", "2"), ("INCRBY", "s", "3"), ("INCRBYFLOAT", "s", "1.5"), ("APPEND", "s", "0"),
    ("GETEX", "s", "PERSIST"), ("SET", "s", "v9", "KEEPTTL"), ("SET", "s", "v8", "GET"), ("SET", "s", "v8"),
    ("SETEX", "s", "100", "v7"), ("PSETEX", "s", "100000", "v6"), ("SET", "s", "v5", "NX"), ("SET", "s", "v5", "XX"),
    ("SETNX", "s", "v1"), ("MSETNX", "s", "v1"), ("MSET", "s", "v4"), ("INCR", "s"), ("LCS", "s", "s"),
    ("MGET", "s", "s", "nokey"),
    ("HGET", "h", "f"), ("HMGET", "h", "f", "g"), ("HGETALL", "h"), ("HKEYS", "h"), ("HVALS", "h"), ("HLEN", "h"),
    ("HEXISTS", "h", "f"), ("HSTRLEN", "h", "f"), ("HINCRBY", "h", "f", "1"), ("HINCRBYFLOAT", "h", "g", "1"),
    ("HSETNX", "h", "f", "1"), ("HDEL", "h", "zz"), ("HRANDFIELD", "h"), ("HSCAN", "h", "0"), ("HMSET", "h", "q", "1"),
    ("LLEN", "l"), ("LRANGE", "l", "0", "-1"), ("LINDEX", "l", "0"), ("LPOS", "l", "1"), ("LSET", "l", "0", "9"),
    ("LINSERT", "l", "BEFORE", "9", "8"), ("LREM", "l", "0", "nope"), ("LTRIM", "l", "0", "-1"), ("RPUSHX", "l", "4"),
    ("LPUSHX", "l", "0"), ("RPOPLPUSH", "l", "l"), ("LMOVE", "l", "l", "LEFT", "RIGHT"), ("SORT", "l"),
    ("SORT_RO", "l"), ("LPOP", "l"),
    ("SMEMBERS", "st"), ("SISMEMBER", "st", "a"), ("SMISMEMBER", "st", "a", "c"), ("SCARD", "st"),
    ("SRANDMEMBER", "st"), ("SSCAN", "st", "0"), ("SINTER", "st", "si"), ("SUNION", "st"), ("SDIFF", "st", "si"),
    ("SINTERCARD", "1", "st"), ("SADD", "st", "c"), ("SREM", "st", "zz"), ("SMOVE", "st", "si", "zz"),
    ("SINTERSTORE", "st2", "st", "st"), ("SUNIONSTORE", "si", "si", "st"),
    ("ZSCORE", "z", "a"), ("ZMSCORE", "z", "a"), ("ZRANK", "z", "a"), ("ZREVRANK", "z", "a"), ("ZCARD", "z"),
    ("ZCOUNT", "z", "-inf", "inf"), ("ZRANGE", "z", "0", "-1"), ("ZRANGEBYSCORE", "z", "-inf", "inf"),
    ("ZRANGEBYLEX", "z", "-", "+"), ("ZLEXCOUNT", "z", "-", "+"), ("ZINCRBY", "z", "1", "a"), ("ZADD", "z", "3", "c"),
    ("ZREM", "z", "zz"), ("ZRANDMEMBER", "z"), ("ZSCAN", "z", "0"), ("ZRANGESTORE", "z2", "z", "0", "-1"),
    ("ZUNION", "1", "z"), ("ZINTERCARD", "1", "z"), ("ZDIFF", "1", "z"), ("ZPOPMIN", "z2"),
    ("XLEN", "x"), ("XRANGE", "x", "-", "+"), ("XREVRANGE", "x", "+", "-"), ("XREAD", "STREAMS", "x", "0"),
    ("XADD", "x", "2-1", "f", "v"), ("XTRIM", "x", "MAXLEN", "5"), ("XINFO", "STREAM", "x"),
    ("XGROUP", "CREATE", "x", "g", "0"), ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "x", ">"),
    ("XPENDING", "x", "g"), ("XACK", "x", "g", "1-1"), ("XCLAIM", "x", "g", "c", "0", "2-1"),
    ("XAUTOCLAIM", "x", "g", "c", "0", "0"), ("XDEL", "x", "9-9"), ("XSETID", "x", "5-5"),
    ("PFCOUNT", "hll"), ("PFADD", "hll", "b"), ("PFMERGE", "hll", "hll"),
    ("GETBIT", "bm", "5"), ("BITCOUNT", "bm"), ("BITPOS", "bm", "1"), ("BITFIELD", "bm", "GET", "u4", "0"),
    ("BITFIELD_RO", "bm", "GET", "u4", "0"), ("BITOP", "AND", "bm2", "bm"), ("SETBIT", "bm", "7", "1"),
    ("GEOPOS", "g", "p"), ("GEODIST", "g", "p", "p"), ("GEOHASH", "g", "p"),
    ("GEOSEARCH", "g", "FROMMEMBER", "p", "BYRADIUS", "10", "km"), ("GEORADIUSBYMEMBER", "g", "p", "10", "km"),
    ("GEOSEARCHSTORE", "g2", "g", "FROMMEMBER", "p", "BYRADIUS", "10", "km"),
    ("DUMP", "s"), ("EXPIRE", "s", "1000"), ("PEXPIRE", "h", "100000"), ("EXPIREAT", "l", "99999999999"),
    ("PERSIST", "s"), ("TTL", "h"), ("PTTL", "h"), ("EXPIRETIME", "l"), ("PEXPIRETIME", "l"), ("TYPE", "z"),
    ("EXISTS", "x", "z"), ("TOUCH", "hll", "nokey"), ("MEMORY", "USAGE", "g"), ("OBJECT", "REFCOUNT", "g"),
    ("SCAN", "0", "TYPE", "hash"), ("KEYS", "*"), ("RANDOMKEY",), ("DBSIZE",),
    ("RENAME", "s", "s"), ("COPY", "h", "hcopy"), ("EVAL", "return redis.call('get', KEYS[1])", "1", "s"),
    ("LMPOP", "1", "l", "LEFT"), ("ZMPOP", "1", "z", "MIN"), ("SPOP", "st"), ("BLPOP", "l", "0.01"),
    ("BZPOPMIN", "z", "0.01"), ("RENAME", "hll", "hll2"), ("MOVE", "hll2", "5"),
]


def _idle(diff, key: str, lo: int) -> None:
    """OBJECT IDLETIME on both servers, each in [lo, lo + 1]: the LRU clock ticks once a second,
    and the two servers' ticks need not fall between the same two commands."""
    ours, theirs = diff.both("OBJECT", "IDLETIME", key)
    assert lo <= ours <= lo + 1 and lo <= theirs <= lo + 1, (ours, theirs)


def _freqs(client, keys):
    return [client.call("OBJECT", "FREQ", k) for k in keys]


def test_lfu_counter_counts_the_same_touches_as_redis(diff):
    with diff.config("maxmemory-policy", "allkeys-lfu"), diff.config("lfu-log-factor", "0"):
        for c in _SETUP:
            diff.check(*c)
        assert diff.check("OBJECT", "FREQ", "s") == 5  # LFU_INIT_VAL
        for cmd in _COMMANDS:
            if cmd[0] in _RANDOM_REPLY:
                diff.both(*cmd)
            else:
                diff.same(*cmd)  # up to order: hash-table sets iterate differently
            ours, theirs = _freqs(diff.ours, _KEYS + ["hll2"]), _freqs(diff.theirs, _KEYS + ["hll2"])
            assert ours == theirs, (cmd, ours, theirs)
        diff.check("SELECT", "5")
        diff.check("OBJECT", "FREQ", "hll2")  # MOVE keeps the object, and its counter
        diff.check("SELECT", "0")
        assert diff.check("OBJECT", "FREQ", "hcopy") == 5  # COPY makes a new object


def test_object_freq_and_idletime_errors_follow_the_policy(diff):
    diff.check("SET", "k", "v")
    for policy in ("noeviction", "allkeys-lru", "volatile-lru", "allkeys-random", "volatile-ttl"):
        with diff.config("maxmemory-policy", policy):
            diff.check("OBJECT", "FREQ", "k")  # ERR An LFU maxmemory policy is not selected...
            diff.check("OBJECT", "FREQ", "nokey")  # null: the key is looked up first
            _idle(diff, "k", 0)
    for policy in ("allkeys-lfu", "volatile-lfu"):
        with diff.config("maxmemory-policy", policy):
            diff.check("OBJECT", "IDLETIME", "k")  # ERR An LFU maxmemory policy is selected...
            diff.check("OBJECT", "IDLETIME", "nokey")
            diff.check("SET", policy, "v")
            assert diff.check("OBJECT", "FREQ", policy) == 5


def test_idle_time_is_not_reset_by_notouch_reads(diff):
    """TTL, TYPE, EXISTS, OBJECT, SCAN, MEMORY USAGE, DEBUG OBJECT read the key without
    touching it (a 2.2 s wait: the LRU clock has a one-second resolution)."""
    diff.check("SET", "k", "v")
    diff.check("SET", "other", "v")
    time.sleep(2.2)
    for cmd in [("TTL", "k"), ("PTTL", "k"), ("EXPIRETIME", "k"), ("TYPE", "k"), ("EXISTS", "k"),
                ("OBJECT", "ENCODING", "k"), ("OBJECT", "REFCOUNT", "k"), ("OBJECT", "FREQ", "k"),
                ("MEMORY", "USAGE", "k"), ("SCAN", "0", "TYPE", "string"), ("RANDOMKEY",), ("KEYS", "*")]:
        diff.check(*cmd, ignore=cmd[0] == "RANDOMKEY", unordered=cmd[0] in ("KEYS", "SCAN"))
    ours, theirs = diff.both("DEBUG", "OBJECT", "k")
    idle = [int(re.search(rb"lru_seconds_idle:(\d+)", x).group(1)) for x in (ours, theirs)]
    assert all(i >= 2 for i in idle), idle
    ours, theirs = diff.both("OBJECT", "IDLETIME", "k")
    assert ours >= 2 and theirs >= 2
    diff.check("GET", "k")
    _idle(diff, "k", 0)
    ours, theirs = diff.both("OBJECT", "IDLETIME", "other")
    assert ours >= 2 and theirs >= 2


def test_restore_idletime_and_freq(diff):
    diff.check("SET", "src", "value")
    payload = diff.ours.call("DUMP", "src")
    diff.check("RESTORE", "a", "0", payload, "IDLETIME", "1000")
    _idle(diff, "a", 1000)
    with diff.config("maxmemory-policy", "allkeys-lfu"):
        diff.check("RESTORE", "b", "0", payload, "FREQ", "42")
        assert diff.check("OBJECT", "FREQ", "b") == 42
        diff.check("RESTORE", "c", "0", payload, "IDLETIME", "77")  # ignored under LFU
        assert diff.check("OBJECT", "FREQ", "c") == 5
    with diff.config("maxmemory-policy", "allkeys-lru"):
        diff.check("RESTORE", "d", "0", payload, "FREQ", "42")  # ignored under LRU
        _idle(diff, "d", 0)


@pytest.mark.parametrize("policy", ["allkeys-lru", "volatile-lfu"])
def test_access_clocks_load_from_a_redis_rdb(tmp_path, policy):
    """redis-server saves the idle time (LRU policies) or the counter (LFU) with each key;
    pyredis loading its RDB sets them back (objectSetLRUOrLFU)."""
    import pyredis
    import redis
    from conftest import RealRedis

    real = RealRedis("--maxmemory-policy", policy, dir=str(tmp_path))
    try:
        c = redis.Redis(port=real.port)
        c.set("src", "value")
        if policy.endswith("lfu"):
            c.restore("k", 0, c.dump("src"), frequency=200)
        else:
            c.restore("k", 0, c.dump("src"), idletime=5000)
        c.save()
    finally:
        real.stop()
    with pyredis.Server(port=0, dir=str(tmp_path), maxmemory_policy=policy) as s:
        c = redis.Redis(port=s.port)
        if policy.endswith("lfu"):
            assert c.object("freq", "k") == 200
        else:
            assert c.object("idletime", "k") in (5000, 5001)


def test_idle_time_follows_the_server_clock(r):
    """pyredis's own DEBUG CLOCK moves the LRU clock with the server clock."""
    r.set("k", "v")
    r.execute_command("DEBUG", "CLOCK", "ADVANCE", "3600000")
    try:
        idle = r.object("idletime", "k")
        assert idle in (3600, 3601)  # (a real second may pass meanwhile)
        assert r.ttl("k") == -1 and r.type("k") == b"string" and r.exists("k") == 1
        assert r.object("idletime", "k") in (idle, idle + 1)
        r.get("k")
        assert r.object("idletime", "k") in (0, 1)
    finally:
        r.execute_command("DEBUG", "CLOCK", "RESET")


def test_lfu_counter_decays_with_the_minute_clock(r):
    r.config_set("maxmemory-policy", "allkeys-lfu")
    r.config_set("lfu-log-factor", "0")
    try:
        r.set("k", "v")
        for _ in range(20):
            r.get("k")
        assert r.object("freq", "k") == 25
        r.execute_command("DEBUG", "CLOCK", "ADVANCE", str(10 * 60_000))  # lfu-decay-time 1: -1 a minute
        assert r.object("freq", "k") in (14, 15)  # (a real minute boundary may pass meanwhile)
        r.config_set("lfu-decay-time", "0")  # no decay
        r.execute_command("DEBUG", "CLOCK", "ADVANCE", str(60 * 60_000))
        assert r.object("freq", "k") == 25
    finally:
        r.execute_command("DEBUG", "CLOCK", "RESET")
        r.config_set("maxmemory-policy", "noeviction")
        r.config_set("lfu-log-factor", "10")
        r.config_set("lfu-decay-time", "1")


@pytest.mark.parametrize("policy", ["allkeys-lru", "allkeys-lfu"])
def test_rdb_file_carries_idle_or_freq(tmp_path, policy):
    """The RDB pyredis writes has the IDLE (LRU) or FREQ (LFU) opcode before each key, as
    Redis's; redis-server loading it keeps them."""
    import pyredis
    import redis
    from conftest import RealRedis

    with pyredis.Server(port=0, dir=str(tmp_path), maxmemory_policy=policy, lfu_log_factor="0") as s:
        c = redis.Redis(port=s.port)
        c.set("k", "v")
        for _ in range(9):
            c.get("k")
        c.restore("old", 0, c.dump("k"), idletime=9999) if policy == "allkeys-lru" else None
        c.save()
        data = (tmp_path / "dump.rdb").read_bytes()
    assert (b"\xf8" if policy == "allkeys-lru" else b"\xf9\x0e") in data  # OP_IDLE / OP_FREQ 14
    real = RealRedis("--maxmemory-policy", policy, dir=str(tmp_path))
    try:
        c = redis.Redis(port=real.port)
        if policy == "allkeys-lfu":
            assert c.object("freq", "k") == 14
        else:
            assert c.object("idletime", "old") >= 9999
    finally:
        real.stop()
