"""Geo commands against redis-server: scores (ZRANGE WITHSCORES), positions, distances,
geohashes, searches (order, COUNT/ANY, WITH*, STORE/STOREDIST), errors."""

from __future__ import annotations

import random

import pytest

from pyredis.keyspace import geohash as gh
from effects import Effects
from resp import RawClient
from oracles import ALL_MODES

# Every mode, each against its release's server (the data-type suites cover each mode's replies).
pytestmark = pytest.mark.modes(*ALL_MODES)

PLACES = [
    (13.361389, 38.115556, "Palermo"), (15.087269, 37.502669, "Catania"),
    (12.758489, 38.788135, "edge1"), (12.496365, 41.902782, "Rome"), (2.3522, 48.8566, "Paris"),
    (-0.1276, 51.5072, "London"), (-73.935242, 40.730610, "NYC"), (151.2093, -33.8688, "Sydney"),
    (179.9999, 0.0, "dateline-e"), (-179.9999, 0.0, "dateline-w"), (0, 85.05112878, "north"),
    (0, -85.05112878, "south"), (-180, -85.05112878, "corner"), (180, 85.05112878, "corner2"),
    (0, 0, "zero"), (13.361389, 39.0, "samelon"),
]


def _load(diff, key="Sicily", places=PLACES):
    args = []
    for lon, lat, name in places:
        args += [lon, lat, name]
    diff.check("GEOADD", key, *args)


def test_geoadd_scores_equal_redis(diff):
    _load(diff)
    diff.check("ZRANGE", "Sicily", 0, -1, "WITHSCORES")
    diff.check("GEOADD", "Sicily", "NX", 1, 1, "Palermo", 2, 2, "new")
    diff.check("GEOADD", "Sicily", "XX", "CH", 1, 1, "Palermo", 2, 2, "new2")
    diff.check("GEOADD", "Sicily", "CH", "XX", 1, 1, "Palermo")
    diff.check("GEOADD", "Sicily", "ch", 3, 3, "Palermo", 3, 3, "x")
    diff.check("ZRANGE", "Sicily", 0, -1, "WITHSCORES")
    diff.check("OBJECT", "ENCODING", "Sicily")


@pytest.mark.parametrize("args", [
    ("k", 200, 10, "a"), ("k", 10, 85.06, "a"), ("k", "inf", 1, "a"), ("k", "nan", 1, "a"),
    ("k", "x", 1, "a"), ("k", 1, "y", "a"), ("k", "NX", "XX", 1, 1, "a"), ("k", 1, 1, "a", 2),
    ("k", "CH", 1, 1), ("k", "nx", "ch", "xx"), ("k", "ch", "ch", "ch"), ("k", 1, 2, "a", 500, 1, "b"),
    ("k", "GT", 1, 1, "a"), ("k", 1, 2), ("k", -180.0000001, 0, "a"),
])
def test_geoadd_errors(diff, args):
    diff.check("GEOADD", *args)
    diff.check("EXISTS", "k")


def test_wrongtype(diff):
    diff.check("SET", "s", "x")
    for cmd in (("GEOADD", "s", 1, 1, "a"), ("GEOPOS", "s", "a"), ("GEODIST", "s", "a", "b"),
                ("GEOHASH", "s", "a"), ("GEORADIUS", "s", 1, 1, 1, "km"), ("GEORADIUSBYMEMBER", "s", "a", 1, "km"),
                ("GEOSEARCH", "s", "FROMLONLAT", 1, 1, "BYRADIUS", 1, "km"),
                ("GEOSEARCHSTORE", "d", "s", "FROMLONLAT", 1, 1, "BYRADIUS", 1, "km")):
        diff.check(*cmd)


def test_geopos_geohash_geodist(diff):
    _load(diff)
    names = [p[2] for p in PLACES]
    diff.check("GEOPOS", "Sicily", *names, "missing")
    diff.check("GEOPOS", "Sicily")
    diff.check("GEOPOS", "missing", "a", "b")
    diff.check("GEOHASH", "Sicily", *names, "missing")
    diff.check("GEOHASH", "missing", "a")
    for a in names[:8]:
        for b in names[::3]:
            for unit in ((), ("m",), ("KM",), ("ft",), ("mi",)):
                diff.check("GEODIST", "Sicily", a, b, *unit)
    diff.check("GEODIST", "Sicily", "Palermo", "missing")
    diff.check("GEODIST", "missing", "a", "b")
    diff.check("GEODIST", "Sicily", "Palermo", "Catania", "yards")
    diff.check("GEODIST", "Sicily", "Palermo", "Catania", "km", "extra")
    diff.check("ZADD", "z", -5, "neg", "1e20", "huge", "inf", "inf", 4503599627370496, "big")
    diff.check("GEOPOS", "z", "neg", "huge", "inf", "big")
    diff.check("GEOHASH", "z", "neg", "huge", "inf", "big")
    diff.check("GEODIST", "z", "neg", "big")


def test_geopos_resp3_text_is_redis(pyredis_srv, real_redis):
    """RESP3 doubles are compared as text here (the diff fixture parses them as floats)."""
    import socket

    def raw(port):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"HELLO 3\r\nFLUSHALL\r\nGEOADD k 13.361389 38.115556 a 0 0 b 180 85.05112878 c\r\n"
                  b"GEOPOS k a b c\r\nGEOSEARCH k FROMLONLAT 13 38 BYRADIUS 100 km WITHCOORD WITHDIST\r\n")
        data = b""
        s.settimeout(2)
        while data.count(b"\r\n") < 3 or not data.endswith(b"\r\n") or b"*1\r\n*3" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        return data[data.index(b"+OK\r\n"):]

    assert raw(pyredis_srv.port) == raw(real_redis.port)


def _queries():
    qs = []
    for lon, lat in ((13.5, 38), (15, 37), (0, 0), (179.9, 0), (-179.9, 0.5), (0, 85), (0, -85), (2.35, 48.85),
                     (-73.9, 40.7), (151, -33)):
        for r, unit in ((0, "m"), (10, "km"), (200, "km"), (1000, "km"), (5000, "km"), (20000, "km"),
                        (100, "mi"), (3000, "ft"), (500000, "m")):
            qs.append((lon, lat, r, unit))
    return qs


def test_georadius_and_geosearch(diff):
    _load(diff)
    for lon, lat, r, unit in _queries():
        diff.check("GEORADIUS", "Sicily", lon, lat, r, unit)
        diff.check("GEORADIUS", "Sicily", lon, lat, r, unit, "WITHDIST", "WITHCOORD", "WITHHASH", "ASC")
        diff.check("GEORADIUS_RO", "Sicily", lon, lat, r, unit, "DESC", "WITHDIST")
        diff.check("GEOSEARCH", "Sicily", "FROMLONLAT", lon, lat, "BYRADIUS", r, unit, "WITHDIST")
        diff.check("GEOSEARCH", "Sicily", "FROMLONLAT", lon, lat, "BYBOX", r, r * 2, unit, "WITHCOORD", "ASC")
        diff.check("GEOSEARCH", "Sicily", "FROMLONLAT", lon, lat, "BYBOX", r * 3, r, unit, "COUNT", 3)
        diff.check("GEOSEARCH", "Sicily", "FROMLONLAT", lon, lat, "BYRADIUS", r, unit, "COUNT", 2, "ANY")
        diff.check("GEOSEARCH", "Sicily", "FROMLONLAT", lon, lat, "BYRADIUS", r, unit, "COUNT", 2, "DESC")
    for m in ("Palermo", "Catania", "north", "corner", "dateline-e", "zero"):
        for r, unit in ((100, "km"), (5000, "km"), (1, "m")):
            diff.check("GEORADIUSBYMEMBER", "Sicily", m, r, unit, "WITHDIST", "ASC")
            diff.check("GEORADIUSBYMEMBER_RO", "Sicily", m, r, unit)
            diff.check("GEOSEARCH", "Sicily", "FROMMEMBER", m, "BYBOX", r, r, unit, "WITHHASH")


def test_random_points(diff):
    rnd = random.Random(5)
    places = [(rnd.uniform(-180, 180), rnd.uniform(-85, 85), f"p{i}") for i in range(300)]
    places += [(rnd.uniform(12, 14), rnd.uniform(37, 39), f"s{i}") for i in range(300)]
    _load(diff, "w", places)
    diff.check("ZRANGE", "w", 0, -1, "WITHSCORES")
    diff.check("GEOPOS", "w", *[p[2] for p in places[:50]])
    for _ in range(60):
        lon, lat = rnd.uniform(-180, 180), rnd.uniform(-85, 85)
        if rnd.random() < 0.5:
            lon, lat = rnd.uniform(12, 14), rnd.uniform(37, 39)
        r = rnd.choice((1, 10, 50, 300, 2000, 8000))
        diff.check("GEOSEARCH", "w", "FROMLONLAT", lon, lat, "BYRADIUS", r, "km", "WITHDIST", "WITHCOORD")
        diff.check("GEOSEARCH", "w", "FROMLONLAT", lon, lat, "BYBOX", r, r / 2, "km", "ASC", "WITHDIST")
        diff.check("GEOSEARCH", "w", "FROMLONLAT", lon, lat, "BYRADIUS", r, "km", "COUNT", 5, "ANY")


def test_store(diff):
    _load(diff)
    diff.check("GEORADIUS", "Sicily", 15, 37, 200, "km", "STORE", "d1")
    diff.check("ZRANGE", "d1", 0, -1, "WITHSCORES")
    diff.check("GEORADIUS", "Sicily", 15, 37, 200, "km", "STOREDIST", "d2", "COUNT", 1)
    diff.check("ZRANGE", "d2", 0, -1, "WITHSCORES")
    diff.check("GEORADIUSBYMEMBER", "Sicily", "Palermo", 500, "mi", "STORE", "d1", "STOREDIST", "d3", "DESC")
    diff.check("ZRANGE", "d3", 0, -1, "WITHSCORES")
    diff.check("EXISTS", "d1")
    diff.check("GEOSEARCHSTORE", "d4", "Sicily", "FROMLONLAT", 15, 37, "BYBOX", 400, 400, "km", "STOREDIST")
    diff.check("ZRANGE", "d4", 0, -1, "WITHSCORES")
    diff.check("GEOSEARCHSTORE", "d5", "Sicily", "FROMMEMBER", "Rome", "BYRADIUS", 2000, "km", "COUNT", 3, "ANY")
    diff.check("ZRANGE", "d5", 0, -1, "WITHSCORES")
    diff.check("OBJECT", "ENCODING", "d5")
    diff.check("SET", "d6", "x", "EX", 100)
    diff.check("GEOSEARCHSTORE", "d6", "Sicily", "FROMMEMBER", "Rome", "BYRADIUS", 1, "m")
    diff.check("EXISTS", "d6")
    diff.check("SET", "d6", "x", "EX", 100)
    diff.check("GEOSEARCHSTORE", "d6", "Sicily", "FROMMEMBER", "Rome", "BYRADIUS", 10, "km")
    diff.check("TTL", "d6")
    diff.check("TYPE", "d6")
    diff.check("SET", "d7", "x")
    diff.check("GEOSEARCHSTORE", "d7", "missing", "FROMMEMBER", "Rome", "BYRADIUS", 1, "m")
    diff.check("EXISTS", "d7")
    diff.check("SET", "d7", "x")
    diff.check("GEORADIUS", "missing", 1, 1, 1, "km", "STORE", "d7")
    diff.check("EXISTS", "d7")
    diff.check("GEORADIUSBYMEMBER", "missing", "x", 1, "km", "STORE", "d7")


@pytest.mark.parametrize("args", [
    ("GEORADIUS", "Sicily", 15, 37, 200, "km", "STORE"),
    ("GEORADIUS", "Sicily", 15, 37, 200, "km", "STORE", "d", "WITHDIST"),
    ("GEORADIUS_RO", "Sicily", 15, 37, 200, "km", "STORE", "d"),
    ("GEORADIUS", "Sicily", 15, 37, -1, "km"),
    ("GEORADIUS", "Sicily", 15, 37, "x", "km"),
    ("GEORADIUS", "Sicily", 15, 37, 1, "yd"),
    ("GEORADIUS", "Sicily", 15, 95, 1, "km"),
    ("GEORADIUS", "Sicily", 15, 37, 1, "km", "COUNT"),
    ("GEORADIUS", "Sicily", 15, 37, 1, "km", "COUNT", 0),
    ("GEORADIUS", "Sicily", 15, 37, 1, "km", "COUNT", -1),
    ("GEORADIUS", "Sicily", 15, 37, 1, "km", "COUNT", "x"),
    ("GEORADIUS", "Sicily", 15, 37, 1, "km", "ANY"),
    ("GEORADIUS", "Sicily", 15, 37, 1, "km", "FROMLONLAT", 1, 1),
    ("GEORADIUS", "Sicily", 15, 37, 1, "km", "BOGUS"),
    ("GEORADIUSBYMEMBER", "Sicily", "nosuch", 1, "km"),
    ("GEORADIUSBYMEMBER", "missing", "nosuch", "x", "km"),
    ("GEORADIUSBYMEMBER", "missing", "nosuch", 1, "km", "WITHDIST", "STORE", "x"),
    ("GEORADIUSBYMEMBER", "missing", "nosuch", 1, "km", "ANY"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", 15, 37, "BYRADIUS", 1, "km", "STORE", "d"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", 15, 37, "BYRADIUS", 1, "km", "STOREDIST"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", 15, 37, "FROMMEMBER", "Palermo", "BYRADIUS", 1, "km"),
    ("GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "FROMLONLAT", 15, 37, "BYRADIUS", 1, "km"),
    ("GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "FROMMEMBER", "Rome", "BYRADIUS", 1, "km"),
    ("GEOSEARCH", "Sicily", "FROMMEMBER", "nosuch", "BYRADIUS", 1, "km"),
    ("GEOSEARCH", "missing", "FROMMEMBER", "nosuch", "BYRADIUS", 1, "km"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", 15, 37, "BYRADIUS", 1, "km", "BYBOX", 1, 1, "km"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", 15, 37, "BYBOX", 1, -1, "km"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", 15, 37, "BYBOX", "w", 1, "km"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", 15, 37, "BYBOX", 1, "h", "km"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", 15, 37, "BYBOX", 1, 1, "parsec"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", 15, 37, "BYBOX", 1, 1),
    ("GEOSEARCH", "Sicily", "BYBOX", 1, 1, "km", "ASC"),
    ("geoSearch", "Sicily", "FROMLONLAT", 15, 37, "WITHDIST", "ASC"),
    ("GEOSEARCH", "missing", "BYBOX", 1, 1, "km", "ASC"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", 15, 37, "BYRADIUS", 1, "km", "ANY", "ASC"),
    ("GEOSEARCHSTORE", "d", "Sicily", "FROMLONLAT", 15, 37, "BYRADIUS", 1, "km", "WITHCOORD"),
    ("GEOSEARCHSTORE", "d", "Sicily", "FROMLONLAT", 15, 37, "BYRADIUS", 1, "km", "STORE", "x"),
    ("GEOSEARCHSTORE", "d", "Sicily", "FROMLONLAT", 15, 37, "BYRADIUS", 1, "km"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", 15, 37, "BYRADIUS", 0, "km"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", 15, 37, "BYRADIUS", 1),
])
def test_search_errors(diff, args):
    _load(diff)
    diff.check(*args)


def test_getkeys(pyredis_srv, real_redis):
    ours = RawClient("127.0.0.1", pyredis_srv.port)
    theirs = RawClient("127.0.0.1", real_redis.port)
    try:
        for argv in (("GEORADIUS", "k", 1, 1, 1, "km"), ("GEORADIUS", "k", 1, 1, 1, "km", "STORE", "d"),
                     ("GEORADIUS", "k", 1, 1, 1, "km", "STORE", "d", "STOREDIST", "e"),
                     ("GEORADIUSBYMEMBER", "k", "m", 1, "km", "STOREDIST", "d"),
                     ("GEORADIUSBYMEMBER", "k", "m", 1, "km", "store"),
                     ("GEORADIUS", "k", 1, 1, 1, "km", "STORE", "d", "STORE", "e", "storedist", "f"),
                     ("GEORADIUS", "k", 1, 1, 1, "STORE", "x", "STORE"),
                     ("GEORADIUSBYMEMBER", "k", "STORE", 1, "km", "STOREDIST", "STORE", "e"),
                     ("GEOSEARCHSTORE", "d", "k", "FROMMEMBER", "m", "BYRADIUS", 1, "km")):
            assert ours.call("COMMAND", "GETKEYS", *argv) == theirs.call("COMMAND", "GETKEYS", *argv)
    finally:
        ours.close()
        theirs.close()


def test_encode_decode_roundtrip():
    bits = gh.encode(13.361389, 38.115556)
    lon, lat = gh.decode_score(float(bits))
    assert abs(lon - 13.361389) < 1e-5 and abs(lat - 38.115556) < 1e-5
    assert gh.encode(181, 0) is None


def _propagation_runner():
    from pyredis.core.client import Client
    from pyredis.core.dispatch import execute
    from pyredis.core.state import ServerState

    state = ServerState()
    log = Effects(argv_only=True)
    state.propagation.add_sink(log)
    c = Client(state)

    def run(*args):
        return execute(c, [a if isinstance(a, bytes) else str(a).encode() for a in args])

    return run, log


def test_geoadd_propagates_as_zadd():
    run, log = _propagation_runner()
    run("GEOADD", "k", "CH", 13.361389, 38.115556, "a")
    assert log == [[b"zadd", b"k", b"CH", b"%d" % gh.encode(13.361389, 38.115556), b"a"]]
    run("GEOADD", "k", "NX", 1, 1, "a")  # nothing changed: nothing propagated
    run("GEOADD", "k", 200, 1, "a")
    assert len(log) == 1
    run("GEORADIUS", "k", 13, 38, 100, "km", "STORE", "d")
    assert log[-1][:2] == [b"GEORADIUS", b"k"]


def test_notifications(pyredis_srv, real_redis):
    import redis

    def events(port):
        r = redis.Redis(host="127.0.0.1", port=port)
        r.flushall()
        r.config_set("notify-keyspace-events", "Kzgn")
        p = r.pubsub()
        p.psubscribe("__keyspace@0__:*")
        p.get_message(timeout=1)
        try:
            r.geoadd("g", (13.361389, 38.115556, "a"))
            r.geoadd("g", (13.361389, 38.115556, "a"))
            r.execute_command("GEORADIUS", "g", 13, 38, 100, "km", "STORE", "d")
            r.execute_command("GEOSEARCHSTORE", "d2", "g", "FROMMEMBER", "a", "BYRADIUS", 1, "km")
            r.execute_command("GEOSEARCHSTORE", "d2", "g", "FROMLONLAT", 0, 0, "BYRADIUS", 1, "km")
            out = []
            while True:
                m = p.get_message(timeout=0.3)
                if m is None:
                    break
                out.append((m["channel"], m["data"]))
            return out
        finally:
            r.config_set("notify-keyspace-events", "")
            p.close()
            r.close()

    ours = events(pyredis_srv.port)
    assert ours == events(real_redis.port)
    assert (b"__keyspace@0__:d2", b"geosearchstore") in ours
