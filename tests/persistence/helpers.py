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
            else:
                v = None
            out[(db, key)] = (t, v, r.execute_command("PEXPIRETIME", key))
    r.execute_command("SELECT", 0)
    return out
