"""Client-side caching (CLIENT TRACKING) against pyredis and redis-server: the same
scenario over raw sockets must produce the same bytes, and redis-py's RESP3 client-side
cache must see invalidations."""

from __future__ import annotations

import socket
import time

import pytest
import redis

from resp import encode_command


def _drain(s: socket.socket, wait: float = 0.15) -> bytes:
    s.settimeout(wait)
    out = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
    except (TimeoutError, socket.timeout):
        pass
    return out


def _run(port: int, steps) -> list[bytes]:
    a = socket.create_connection(("127.0.0.1", port))
    b = socket.create_connection(("127.0.0.1", port))
    conns = {"a": a, "b": b}
    a.sendall(b"HELLO 3\r\n")
    _drain(a)
    out = []
    for who, cmd in steps:
        conns[who].sendall(encode_command(cmd))
        out.append(_drain(conns[who]))
    a.close()
    b.close()
    return out


SCENARIO = [
    ("a", ("FLUSHALL",)),
    ("a", ("CLIENT", "TRACKING", "ON")),
    ("a", ("CLIENT", "TRACKINGINFO")),
    ("a", ("GET", "k")),
    ("a", ("SET", "k", "1")),  # self-modification: push after the reply
    ("a", ("GET", "k")),
    ("b", ("SET", "k", "2")),
    ("a", ("PING",)),  # the invalidation arrived before this reply
    ("a", ("MGET", "k", "j")),
    ("b", ("FLUSHALL",)),
    ("a", ("PING",)),
    ("a", ("CLIENT", "GETREDIR")),
    ("a", ("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a")),
    ("a", ("CLIENT", "TRACKING", "OFF")),
    ("a", ("CLIENT", "GETREDIR")),
    ("a", ("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a", "PREFIX", "b")),
    ("b", ("SET", "abc", "1")),
    ("b", ("SET", "zzz", "1")),
    ("a", ("PING",)),
    ("a", ("CLIENT", "TRACKINGINFO")),
    ("a", ("CLIENT", "CACHING", "YES")),
    ("a", ("CLIENT", "TRACKING", "OFF")),
    ("a", ("CLIENT", "TRACKING", "ON", "OPTIN")),
    ("a", ("GET", "notcached")),
    ("a", ("CLIENT", "CACHING", "YES")),
    ("a", ("GET", "x")),
    ("b", ("SET", "notcached", "1")),
    ("b", ("SET", "x", "1")),
    ("a", ("PING",)),
    ("a", ("CLIENT", "TRACKING", "ON", "REDIRECT", "999999")),
    ("a", ("CLIENT", "TRACKING", "ON", "PREFIX", "a")),
    ("a", ("CLIENT", "TRACKING", "ON", "OPTIN", "OPTOUT")),
    ("a", ("CLIENT", "CACHING", "NO")),
    ("a", ("CLIENT", "TRACKING", "OFF")),
    ("a", ("CLIENT", "TRACKING", "ON", "NOLOOP")),
    ("a", ("GET", "n")),
    ("a", ("SET", "n", "1")),  # NOLOOP: no invalidation for our own write
    ("a", ("PING",)),
]


def test_tracking_scenario_matches_redis(pyredis_srv, real_redis):
    ours = _run(pyredis_srv.port, SCENARIO)
    theirs = _run(real_redis.port, SCENARIO)
    for step, a, b in zip(SCENARIO, ours, theirs):
        assert a == b, f"{step}: pyredis={a!r} redis={b!r}"


def _redirect_run(port: int) -> list[bytes]:
    r = socket.create_connection(("127.0.0.1", port))
    r.sendall(b"CLIENT ID\r\n")
    rid = int(_drain(r).strip()[1:])
    out = []
    r.sendall(b"SUBSCRIBE __redis__:invalidate\r\n")
    out.append(_drain(r))
    t = socket.create_connection(("127.0.0.1", port))
    w = socket.create_connection(("127.0.0.1", port))
    t.sendall(encode_command(("CLIENT", "TRACKING", "ON", "REDIRECT", str(rid))))
    out.append(_drain(t))
    t.sendall(b"GET q\r\n")
    out.append(_drain(t))
    w.sendall(b"SET q 1\r\n")
    _drain(w)
    out.append(_drain(r))
    t.sendall(b"CLIENT TRACKINGINFO\r\n")
    out.append(_drain(t).replace(b":%d\r\n" % rid, b":<rid>\r\n"))
    w.sendall(b"FLUSHDB\r\n")
    _drain(w)
    out.append(_drain(r))
    for s in (r, t, w):
        s.close()
    return out


def test_resp2_redirect_matches_redis(pyredis_srv, real_redis):
    assert _redirect_run(pyredis_srv.port) == _redirect_run(real_redis.port)


def test_redis_py_client_side_cache(pyredis_srv, monkeypatch):
    """redis-py's RESP3 client-side cache over pyredis' invalidations.

    redis-py enables its cache only for servers announcing 7.4+ in HELLO; pyredis announces
    7.0.15 (the release it matches), exactly like a real Redis 7.0 that redis-py would refuse
    too. The protocol it needs (CLIENT TRACKING + invalidate pushes) is 6.0's, so the test
    lowers redis-py's threshold to exercise the real cache against pyredis.
    """
    from redis.cache import CacheConfig
    from redis.connection import CacheProxyConnection

    monkeypatch.setattr(CacheProxyConnection, "MIN_ALLOWED_VERSION", "7.0.0")
    cached = redis.Redis(port=pyredis_srv.port, protocol=3, cache_config=CacheConfig())
    other = redis.Redis(port=pyredis_srv.port)
    other.set("user:1", "alice")
    assert cached.get("user:1") == b"alice"
    assert cached.get("user:1") == b"alice"  # served from the local cache
    other.set("user:1", "bob")
    deadline = time.time() + 2
    value = cached.get("user:1")
    while value != b"bob" and time.time() < deadline:
        time.sleep(0.02)
        value = cached.get("user:1")
    assert value == b"bob"
    cached.close()
    other.close()


def _run_many(port: int, setup: dict, steps) -> list[bytes]:
    """Clients by name, each set up with its commands; a step sends one command or several
    pipelined in one write (one event-loop iteration), then every client's output is read."""
    conns = {}
    for name, cmds in setup.items():
        s = conns[name] = socket.create_connection(("127.0.0.1", port))
        for cmd in cmds:
            s.sendall(encode_command(cmd))
            _drain(s)
    out = []
    for who, cmds in steps:
        if who == "sleep":
            time.sleep(cmds)
        else:
            conns[who].sendall(b"".join(encode_command(c) for c in cmds))
        time.sleep(0.05)
        out.append(b"|".join(name.encode() + b":" + _drain(s, 0.1) for name, s in sorted(conns.items())))
    for s in conns.values():
        s.close()
    return out


BCAST_SETUP = {
    "a": [("HELLO", "3"), ("CLIENT", "TRACKING", "ON", "BCAST")],
    "c": [("HELLO", "3"), ("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "b", "PREFIX", "a", "NOLOOP")],
    "d": [("HELLO", "3"), ("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "ab")],
    "w": [("FLUSHALL",)],
}
BCAST_STEPS = [
    ("w", [("MSET", "c", "1", "b", "2", "a", "3")]),           # one message: [a, b, c] sorted
    ("w", [("SET", "a3", "1"), ("SET", "a3", "2"), ("SET", "b9", "1"), ("DEL", "abx")]),  # one iteration
    ("w", [("MSET", "b1", "1", "a1", "2", "c1", "3", "abc", "4")]),  # c: one message per prefix
    ("c", [("SET", "a2", "x"), ("SET", "b1", "y")]),           # NOLOOP: c is not told of its own writes
    ("c", [("SET", "a4", "x")]),
    ("w", [("SET", "a4", "z")]),
    ("w", [("SET", "exp", "1", "PX", "600"), ("SET", "aexp", "1", "PX", "600")]),
    ("sleep", 1.5),                                              # expired by the active cycle
    ("w", [("FLUSHDB",)]),
    ("c", [("CLIENT", "TRACKING", "OFF")]),
    ("w", [("SET", "a9", "1")]),
]


def test_bcast_batches_per_prefix_as_redis(pyredis_srv, real_redis):
    """BCAST: per event-loop iteration, one invalidation message per matching prefix with
    its keys sorted (Redis's PrefixTable), NOLOOP leaving out the client's own keys,
    expired keys included, FLUSHDB as a null."""
    ours = _run_many(pyredis_srv.port, BCAST_SETUP, BCAST_STEPS)
    theirs = _run_many(real_redis.port, BCAST_SETUP, BCAST_STEPS)
    for step, a, b in zip(BCAST_STEPS, ours, theirs):
        assert a == b, f"{step}: pyredis={a!r} redis={b!r}"


def _client_side_cache_run(port: int) -> list:
    from redis.cache import CacheConfig

    cached = redis.Redis(port=port, protocol=3, cache_config=CacheConfig())
    other = redis.Redis(port=port)
    try:
        other.set("user:1", "alice")
        out = [cached.get("user:1"), cached.get("user:1"), len(cached.get_cache().collection)]
        other.set("user:1", "bob")
        deadline = time.time() + 5
        value = cached.get("user:1")
        while value != b"bob" and time.time() < deadline:
            time.sleep(0.02)
            value = cached.get("user:1")
        out.append(value)
        return out
    finally:
        cached.close()
        other.close()


@pytest.mark.modes("7.4")
def test_redis_py_client_side_cache_in_74_mode(pyredis_srv, real_redis):
    """In 7.4 mode pyredis announces 7.4.1, and redis-py's client-side cache (RESP3,
    cache_config) accepts it as it accepts redis-server 7.4.1: cached reads, invalidations."""
    ours, theirs = _client_side_cache_run(pyredis_srv.port), _client_side_cache_run(real_redis.port)
    assert ours == theirs
    assert ours == [b"alice", b"alice", 1, b"bob"]
