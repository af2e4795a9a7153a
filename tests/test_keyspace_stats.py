"""INFO stats keyspace_hits / keyspace_misses count read lookups as redis-server does."""

from __future__ import annotations

from resp import RawClient


def _hits_misses(c: RawClient) -> tuple[int, int]:
    info = bytes(c.call("INFO", "stats")).decode()
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    return int(fields["keyspace_hits"]), int(fields["keyspace_misses"])


def test_keyspace_hits_and_misses_match_redis(pyredis_srv, real_redis):
    script = [
        ("SET", "a", "1"), ("GET", "a"), ("GET", "nope"), ("MGET", "a", "b", "a"), ("EXISTS", "a", "zz"),
        ("TYPE", "a"), ("STRLEN", "nope"), ("HSET", "h", "f", "v"), ("HGET", "h", "f"), ("HGET", "x", "f"),
        ("LRANGE", "l", "0", "-1"), ("SET", "t", "v", "PX", "1"), ("INCR", "n"),
    ]
    results = []
    for port in (pyredis_srv.port, real_redis.port):
        c = RawClient("127.0.0.1", port)
        c.call("FLUSHALL")
        c.call("CONFIG", "RESETSTAT")
        for cmd in script:
            c.call(*cmd)
        results.append(_hits_misses(c))
        c.close()
    assert results[0] == results[1]
    assert results[0][0] > 0 and results[0][1] > 0


def test_keymiss_events_match_redis(pyredis_srv, real_redis):
    """Class m: a read of a missing key publishes `keymiss`, as redis-server 7.0 does."""
    from events import keyspace_events

    script = [("GET", "missing"), ("SET", "a", "1"), ("GET", "a"), ("HGET", "nohash", "f"), ("MGET", "a", "x")]
    ours = keyspace_events(pyredis_srv.port, script, "KEm")
    theirs = keyspace_events(real_redis.port, script, "KEm")
    assert ours == theirs
    assert (b"__keyevent@0__:keymiss", b"missing") in ours
