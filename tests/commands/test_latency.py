"""The latency monitor (latency-monitor-threshold, LATENCY LATEST / HISTORY / RESET / GRAPH /
DOCTOR) and latency-tracking (INFO latencystats, LATENCY HISTOGRAM), against redis-server 7.0.

Durations differ between the servers, so the comparisons mask them: event names, the number
of samples, what is above the threshold, the report's and the graph's layout are compared;
times and milliseconds are masked. The histogram's arithmetic is checked exactly, against a
brute force over known samples (the HDR bound: never below the true percentile, at most 1/128
above it).
"""

from __future__ import annotations

import random
import re
import time

from resp import Map

from pyredis.core.latency import COUNTS_LEN, Histogram, _index, _value_at, format_percentile


def masked(text) -> str:
    return re.sub(r"\d+", "<n>", bytes(text).decode())


def reset(c) -> None:
    c.call("CONFIG", "SET", "latency-monitor-threshold", "0")
    c.call("LATENCY", "RESET")


def as_dict(reply) -> dict:
    if isinstance(reply, Map):
        return dict(reply)
    return dict(zip(reply[::2], reply[1::2]))


def test_latency_monitor_command_events(both):
    def sc(env):
        c = env.client()
        reset(c)
        try:
            out = [c.call("LATENCY", "LATEST"), c.call("LATENCY", "DOCTOR"), c.call("LATENCY", "GRAPH", "command"),
                   c.call("CONFIG", "SET", "latency-monitor-threshold", "50"), c.call("LATENCY", "DOCTOR")]
            c.call("DEBUG", "SLEEP", "0.06")
            c.call("DEBUG", "SLEEP", "0.01")  # under the threshold: no sample
            latest = c.call("LATENCY", "LATEST")
            out.append([[e, isinstance(t, int), lat >= 50, mx >= 50] for e, t, lat, mx in latest])
            time.sleep(1.1)  # the next sample lands in another second
            c.call("DEBUG", "SLEEP", "0.12")
            hist = c.call("LATENCY", "HISTORY", "command")
            out.append([(t2 > t1, 50 <= l1 < 100, l2 >= 100) for (t1, l1), (t2, l2) in [hist]])
            out += [masked(c.call("LATENCY", "GRAPH", "command")), masked(c.call("LATENCY", "DOCTOR")),
                    c.call("LATENCY", "HISTORY", "nosuchevent"), c.call("LATENCY", "GRAPH", "nosuchevent"),
                    c.call("LATENCY", "RESET", "nosuchevent"), c.call("LATENCY", "RESET", "COMMAND", "command"),
                    c.call("LATENCY", "LATEST"), c.call("LATENCY", "DOCTOR")]
            c.call("DEBUG", "SLEEP", "0.06")
            out += [c.call("LATENCY", "RESET"), c.call("CONFIG", "SET", "latency-monitor-threshold", "0"),
                    c.call("LATENCY", "DOCTOR")]
            return out
        finally:
            reset(c)

    both(sc)


def test_latency_doctor_advice_follows_the_slowlog_setting(both):
    def sc(env):
        c = env.client()
        reset(c)
        old = c.call("CONFIG", "GET", "slowlog-log-slower-than")
        old = old[1] if isinstance(old, list) else list(old.values())[0]
        try:
            c.call("CONFIG", "SET", "latency-monitor-threshold", "20")
            c.call("DEBUG", "SLEEP", "0.03")
            out = []
            for v in ("-1", "100000", "1000"):
                c.call("CONFIG", "SET", "slowlog-log-slower-than", v)
                out.append(masked(c.call("LATENCY", "DOCTOR")))
            return out
        finally:
            c.call("CONFIG", "SET", "slowlog-log-slower-than", old)
            reset(c)

    both(sc)


def test_fast_command_event(both):
    """A command flagged fast (MGET) that runs long records the fast-command event."""
    def sc(env):
        c = env.client()
        reset(c)
        try:
            c.call("DEBUG", "POPULATE", "300000")
            c.call("CONFIG", "SET", "latency-monitor-threshold", "5")
            c.call("MGET", *[f"key:{i}" for i in range(300000)])
            return sorted(e for e, *_ in c.call("LATENCY", "LATEST"))
        finally:
            reset(c)
            c.call("FLUSHALL")

    assert "fast-command".encode() in both(sc)


def test_expire_cycle_event(both):
    """Many keys expiring at once: the active expiry cycle runs long enough to be recorded."""
    def sc(env):
        c = env.client()
        reset(c)
        try:
            c.call("DEBUG", "SET-ACTIVE-EXPIRE", "0")
            c.call("DEBUG", "POPULATE", "300000")
            c.call("EVAL", "for i=0,299999 do redis.call('pexpire', 'key:'..i, 1) end", "0")
            c.call("CONFIG", "SET", "latency-monitor-threshold", "2")
            time.sleep(0.01)
            c.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")
            deadline = time.monotonic() + 10
            while c.call("DBSIZE") and time.monotonic() < deadline:
                time.sleep(0.05)
            return [b"expire-cycle" in [e for e, *_ in c.call("LATENCY", "LATEST")], c.call("DBSIZE")]
        finally:
            reset(c)
            c.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")
            c.call("FLUSHALL")

    assert both(sc) == [True, 0]


def test_latency_subcommand_errors(diff):
    for args in (("LATEST", "x"), ("HISTORY",), ("HISTORY", "a", "b"), ("GRAPH",), ("DOCTOR", "x"), ("HELP", "x"),
                 ("FOO",), ("HISTOGRAM", "nosuchcommand"), ("RESET", "a", "b")):
        diff.check("LATENCY", *args)
    diff.check("LATENCY", "HELP")


# --- latency-tracking ------------------------------------------------------------------------

def test_latency_histogram_and_info_latencystats(both):
    def sc(env):
        c, other = env.client(), env.client()
        c.call("CONFIG", "RESETSTAT")
        out = []
        try:
            for i in range(100):
                c.call("SET", f"k{i}", "v")
            for i in range(10):
                c.call("GET", f"k{i}")
            c.call("CLIENT", "ID")
            env.block(other, "BLPOP", "wait", "0")
            mid = as_dict(c.call("LATENCY", "HISTOGRAM", "blpop"))
            c.call("RPUSH", "wait", "x")
            other.read()
            hist = as_dict(c.call("LATENCY", "HISTOGRAM", "set", "get", "latency", "client|id", "nosuchcommand", "blpop",
                                         "config|get"))
            shape = {}
            for name, h in hist.items():
                h = as_dict(h)
                buckets = as_dict(h[b"histogram_usec"])
                counts = list(buckets.values())
                shape[name] = (h[b"calls"], counts == sorted(counts), counts[-1] == h[b"calls"],
                               all(k & (k - 1) == 0 or k % 1000 for k in buckets))
            out += [mid, sorted(shape.items())]
            info = bytes(c.call("INFO", "latencystats")).decode()
            lines = dict(line.split(":", 1) for line in info.split("\r\n")[1:] if line)
            out.append(sorted((k, re.sub(r"[\d.]+(?=,|$)", "<v>", v)) for k, v in lines.items()
                              if k.endswith(("_set", "_get", "_blpop", "|id"))))
            c.call("CONFIG", "SET", "latency-tracking-info-percentiles", "0 50 99.99 100")
            info = bytes(c.call("INFO", "latencystats")).decode()
            out.append(re.sub(r"=[\d.]+", "=<v>", re.search(r"latency_percentiles_usec_set:.*", info).group(0).strip()))
            c.call("CONFIG", "SET", "latency-tracking", "no")
            c.call("SET", "k", "v")
            out += [c.call("INFO", "latencystats"),
                    as_dict(as_dict(c.call("LATENCY", "HISTOGRAM", "set"))[b"set"])[b"calls"]]
            c.call("CONFIG", "SET", "latency-tracking", "yes")
            c.call("CONFIG", "RESETSTAT")
            out.append(as_dict(c.call("LATENCY", "HISTOGRAM", "set")))
            return out
        finally:
            c.call("CONFIG", "SET", "latency-tracking", "yes")
            c.call("CONFIG", "SET", "latency-tracking-info-percentiles", "50 99 99.9")

    out = both(sc)
    assert out[0] == {}  # a blocked command is recorded when it is served


def test_hdr_percentiles_within_the_stated_bound():
    """value_at_percentile never reports less than the exact percentile of the recorded
    durations, nor more than 1/128 above it (2 significant digits: 128 sub-buckets)."""
    rng = random.Random(7)
    for dist in (lambda: int(rng.lognormvariate(3, 1.5)), lambda: rng.randrange(0, 2000), lambda: 5):
        samples = [dist() for _ in range(20000)]
        h = Histogram()
        h.add(samples)
        ns = sorted(max(1, min(us * 1000, 10**9)) for us in samples)
        for p in (0.1, 1, 25, 50, 90, 99, 99.9, 99.99, 100):
            count = max(1, int(p / 100 * len(ns) + 0.5))
            exact = ns[count - 1]
            got = h.value_at_percentile(p)
            assert exact <= got <= exact + exact / 128, (p, exact, got)


def test_hdr_index_round_trip_and_cdf_against_brute_force():
    for v in list(range(1, 5000)) + [10**k + d for k in range(3, 10) for d in (-1, 0, 1)]:
        if v > 10**9:
            continue
        i = _index(v)
        assert 0 <= i < COUNTS_LEN and _value_at(i) <= v < _value_at(i) + (1 << max(0, (i >> 7) - 1))
    rng = random.Random(3)
    samples = [min(int(rng.lognormvariate(4, 2)), 400_000) for _ in range(5000)]  # under 0.5 s
    h = Histogram()
    h.add(samples)
    # LATENCY HISTOGRAM's points, by their definition: at each level 1024 ns * 2^k, the samples
    # in every index up to that level's own, keyed by that index's highest value in us; a
    # point only where the count grew
    expect, prev, level = [], 0, 1024
    indexes = [_index(max(1, s * 1000)) for s in samples]
    while prev < len(samples):
        top = _index(level)
        cum = sum(1 for i in indexes if i <= top)
        if cum > prev:
            b = (level | 255).bit_length() - 8
            expect.append(((level + (1 << b) - 1) // 1000, cum))
        prev, level = cum, level * 2
    assert h.cdf() == expect
    assert [format_percentile(p) for p in (50.0, 99.0, 99.9, 0.0, 100.0, 12.345)] == \
        ["50", "99", "99.9", "0", "100", "12.345"]


def test_aof_write_event(tmp_path):
    """A 64 MB write to the AOF takes more than a millisecond: aof-write, and the variant that
    says what else was going on, on both servers."""
    import pyredis
    from conftest import RealRedis
    from resp import RawClient

    (tmp_path / "r").mkdir()
    theirs = RealRedis("--appendonly", "yes", "--latency-monitor-threshold", "1", dir=str(tmp_path / "r"))
    try:
        (tmp_path / "p").mkdir()
        with pyredis.Server(port=0, appendonly="yes", latency_monitor_threshold="1", dir=str(tmp_path / "p")) as ours:
            events = []
            for port in (ours.port, theirs.port):
                c = RawClient("127.0.0.1", port)
                c.call("SET", "big", "x" * (64 * 1024 * 1024))
                deadline = time.monotonic() + 5
                while b"aof-write" not in [e for e, *_ in c.call("LATENCY", "LATEST")]:
                    assert time.monotonic() < deadline
                    time.sleep(0.05)
                names = {e for e, *_ in c.call("LATENCY", "LATEST")}
                events.append(bool(names & {b"aof-write-alone", b"aof-write-pending-fsync", b"aof-write-active-child"}))
                c.close()
            assert events == [True, True]
    finally:
        theirs.stop()
