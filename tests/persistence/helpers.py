"""Helpers for persistence tests: fill a server with every type, and read back a key-by-key
dump (type, value, absolute expiry) that can be compared across servers."""

from __future__ import annotations

import redis


def fill(r: redis.Redis, prefix: str = "") -> None:
    for db in (0, 3):
        r.execute_command("SELECT", db)
        r.set(f"{prefix}str", "hello")
        r.set(f"{prefix}int", "12345")
        r.set(f"{prefix}big", "x" * 5000)
        r.set(f"{prefix}ttl", "soon", px=3_600_000)
        r.execute_command("PEXPIREAT", f"{prefix}ttl", 4_102_444_800_000)  # fixed, comparable
        r.rpush(f"{prefix}list", *[f"item{i}" for i in range(50)], "1", "-7")
        r.rpush(f"{prefix}biglist", *[f"e{i}" * 3 for i in range(2000)])
        r.hset(f"{prefix}hash", mapping={"a": "1", "b": "two"})
        r.hset(f"{prefix}bighash", mapping={f"f{i}": f"v{i}" for i in range(600)})
        r.sadd(f"{prefix}intset", 1, 2, 3, 99999999999)
        r.sadd(f"{prefix}set", "a", "b", "c")
        r.zadd(f"{prefix}zset", {"a": 1.5, "b": -2, "c": 3e10})
        r.zadd(f"{prefix}bigzset", {f"m{i}": i * 0.5 for i in range(300)})
        r.expireat(f"{prefix}hash", 4_102_444_800)
        for i in range(1, 30):
            r.xadd(f"{prefix}stream", {"f": f"v{i}", "n": i}, id=f"{i}-{i % 3}")
        r.xgroup_create(f"{prefix}stream", "grp", id="0")
        r.xreadgroup("grp", "alice", {f"{prefix}stream": ">"}, count=4)
        r.xreadgroup("grp", "bob", {f"{prefix}stream": ">"}, count=2)
        r.xack(f"{prefix}stream", "grp", "1-1")
        r.pfadd(f"{prefix}hll", *[f"e{i}" for i in range(500)])
        r.geoadd(f"{prefix}geo", (13.361389, 38.115556, "Palermo"), (15.087269, 37.502669, "Catania"))
    r.execute_command("SELECT", 0)


def snapshot(r: redis.Redis, dbs=range(16)) -> dict:
    out = {}
    for db in dbs:
        r.execute_command("SELECT", db)
        for key in sorted(r.keys("*")):
            t = r.type(key).decode()
            if t == "string":
                v = r.get(key)
            elif t == "list":
                v = r.lrange(key, 0, -1)
            elif t == "hash":
                v = sorted(r.hgetall(key).items())
            elif t == "set":
                v = sorted(r.smembers(key))
            elif t == "zset":
                v = r.zrange(key, 0, -1, withscores=True)
            elif t == "stream":
                # entries-read/lag are left out: Redis 7.0 propagates group reads as XCLAIM ...
                # LASTID without ENTRIESREAD, so after an AOF reload both servers report nil.
                groups = [sorted((k, v) for k, v in g.items() if k not in ("entries-read", "lag"))
                          for g in r.xinfo_groups(key)]
                pending = r.xpending_range(key, "grp", "-", "+", 100) if groups else []
                v = (r.xrange(key), groups, [(p["message_id"], p["consumer"], p["times_delivered"]) for p in pending])
            else:
                v = None
            out[(db, key)] = (t, v, r.execute_command("PEXPIRETIME", key))
    r.execute_command("SELECT", 0)
    return out
