"""latency-tracking against redis-server 7.0.15: INFO latencystats and LATENCY HISTOGRAM list
the same commands with the same fields, the configured percentiles, the same call counts and
histogram buckets of Redis's HdrHistogram (the durations themselves are each server's own)."""

from __future__ import annotations

import re

import pytest

import pyredis
from conftest import RealRedis
from pyredis.core.latency import cdf, percentile, percentile_label
from resp import RawClient

# Every level LATENCY HISTOGRAM can report: 1024 ns doubling, each one's highest equivalent
# value (2 significant figures: a range of 2^(k-7) ns at 2^k) in whole microseconds; Redis's
# documentation shows 1, 2, 4, 8, 16, 33.
LEVELS = {(2**k + 2**(k - 7) - 1) // 1000 for k in range(10, 31)}


@pytest.fixture
def pair(tmp_path):
    ours = pyredis.Server(port=0, dir=str(tmp_path)).start()
    try:
        theirs = RealRedis(dir=str(tmp_path))
    except BaseException:
        ours.stop()
        raise
    clients = [RawClient("127.0.0.1", ours.port), RawClient("127.0.0.1", theirs.port)]
    for c in clients:
        c.call("CONFIG", "RESETSTAT")  # (pyredis: the command table's counters are per process)
    yield clients
    for c in clients:
        c.close()
    ours.stop()
    theirs.stop()


def _both(clients, *args):
    return [c.call(*args) for c in clients]


def _latencystats(text: bytes) -> dict[str, list[str]]:
    out = {}
    for line in text.decode().splitlines()[1:]:
        name, _, value = line.partition(":")
        parts = value.split(",") if value else []
        out[name] = [kv.split("=")[0] for kv in parts]
        assert all(re.fullmatch(r"p[\d.]+=\d+\.\d{3}", kv) for kv in parts), line
    return out


def _workload(clients) -> None:
    for c in clients:
        for i in range(30):
            c.call("SET", f"k{i}", "v")
        c.call("GET", "k1")
        c.call("CONFIG", "GET", "hz")
        c.call("HSET", "h", "f", "v")
        try:
            c.call("INCR", "h")
        except Exception:  # noqa: BLE001 - a failed call is recorded too
            pass


def test_info_latencystats_as_redis(pair):
    _workload(pair)
    a, b = (_latencystats(x) for x in _both(pair, "INFO", "latencystats"))
    assert a == b and "latency_percentiles_usec_config|get" in a
    assert a["latency_percentiles_usec_set"] == ["p50", "p99", "p99.9"]
    _both(pair, "CONFIG", "SET", "latency-tracking-info-percentiles", "0 12.5 100")
    a, b = (_latencystats(x) for x in _both(pair, "INFO", "latencystats"))
    assert a == b and a["latency_percentiles_usec_set"] == ["p0", "p12.5", "p100"]
    _both(pair, "CONFIG", "SET", "latency-tracking-info-percentiles", "")
    a, b = _both(pair, "INFO", "latencystats")
    assert _latencystats(a) == _latencystats(b)
    for x in (a, b):
        assert re.search(rb"latency_percentiles_usec_set:\r\n", x)
    x, y = _both(pair, "INFO")  # not a default section
    assert (b"Latencystats" in x) == (b"Latencystats" in y) == False  # noqa: E712


def test_latency_tracking_off_and_resetstat(pair):
    assert _both(pair, "CONFIG", "SET", "latency-tracking", "no") == [b"OK", b"OK"]
    _workload(pair)
    assert _both(pair, "INFO", "latencystats") == [b"# Latencystats\r\n"] * 2
    _both(pair, "CONFIG", "SET", "latency-tracking", "yes")
    _both(pair, "CONFIG", "RESETSTAT")
    a, b = _both(pair, "LATENCY", "HISTOGRAM")
    assert [a[0], len(a)] == [b[0], len(b)] == [b"config|resetstat", 2]


def _shape(reply):
    """LATENCY HISTOGRAM's reply without the durations: names, calls, bucket count checks."""
    out = []
    for name, body in zip(reply[0::2], reply[1::2]):
        fields = dict(zip(body[0::2], body[1::2]))
        hist = fields[b"histogram_usec"]
        levels, counts = hist[0::2], hist[1::2]
        assert set(levels) <= LEVELS and levels == sorted(levels), hist
        assert counts == sorted(counts) and counts[-1] == fields[b"calls"], hist
        out.append((name, sorted(fields), fields[b"calls"]))
    return out


def test_latency_histogram_as_redis(pair):
    _workload(pair)
    for args in ((), ("set",), ("SET", "nosuch", "set"), ("config",), ("config|get",), ("config|nosuch",),
                 ("a|b|c",), ("incr", "hset")):
        a, b = _both(pair, "LATENCY", "HISTOGRAM", *args)
        sa, sb = _shape(a), _shape(b)
        if not args:  # (redis-server also counts the PING of its start-up probe)
            sb = [x for x in sb if x[0] != b"ping"]
        if len(args) <= 1:  # all, or a container's subcommands: in each server's table order
            sa, sb = sorted(sa), sorted(sb)
        assert sa == sb, args


def test_hdr_values_as_redis_reports_them():
    """Values INFO latencystats / LATENCY HISTOGRAM of redis-server 7.0.15 showed for commands
    that took 0, 1, 3, 5, 9 and 12 microseconds."""
    for usec, low, high, level in ((0, 0.001, 0.001, 1), (1, 1.0, 1.003, 1), (3, 2.992, 3.007, 4),
                                   (5, 4.992, 5.023, 8), (9, 8.96, 9.023, 16), (12, 11.968, 12.031, 16)):
        assert percentile({usec: 1}, 0.0) == low
        assert percentile({usec: 1}, 50.0) == high
        assert cdf({usec: 1}) == [(level, 1)]
    hist = {0: 40, 1: 7, 2: 1, 3: 1, 12: 1}
    assert cdf(hist) == [(1, 47), (2, 48), (4, 49), (16, 50)]
    assert [percentile(hist, p) for p in (50.0, 99.0, 99.9, 100.0)] == [0.001, 12.031, 12.031, 12.031]
    assert [percentile_label(p) for p in (50.0, 99.9, 12.5, 0.0, 99.99)] == ["50", "99.9", "12.5", "0", "99.99"]
