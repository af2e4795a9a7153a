"""maxmemory: dispatch's oom step (-OOM for denyoom commands, MULTI, scripts and functions as
processCommand / scriptPrepareForRun / scriptVerifyOOM decide), and eviction under the eight
policies compared with redis-server running the same workload.

Eviction is compared statistically: both servers get the same commands and the same
maxmemory; used_memory is pyredis's estimate of Redis's allocation (core/evict.py), so the
number of keys each keeps, evicts or refuses must agree within the bounds stated below."""

from __future__ import annotations

import glob
import hashlib
import os
import time
from contextlib import contextmanager

import pytest

import pyredis
from conftest import RealRedis
from resp import Err, RawClient, encode_command

OOM = b"OOM command not allowed when used memory > 'maxmemory'."


# --- the oom step, on the shared servers ------------------------------------------------------
def test_oom_refuses_denyoom_commands(diff):
    diff.check("CONFIG", "RESETSTAT")  # evicted_keys of earlier tests
    diff.check("SET", "k", "v")
    diff.check("RPUSH", "l", "a")
    with diff.config("maxmemory", "1"):  # noeviction: nothing can be freed
        for cmd in [("SET", "k", "v2"), ("INCR", "n"), ("LPUSH", "l", "b"), ("APPEND", "k", "x"),
                    ("HSET", "h", "f", "v"), ("SADD", "s", "m"), ("ZADD", "z", "1", "m"), ("XADD", "x", "*", "f", "v"),
                    ("SETRANGE", "k", "0", "x"), ("COPY", "k", "k2"), ("RESTORE", "r", "0", "x"), ("PFADD", "p", "a"),
                    ("GETSET", "k", "v"), ("MSET", "a", "1"), ("SUNIONSTORE", "d", "s")]:
            assert diff.check(*cmd) == OOM, cmd
        # not denyoom: reads, deletions, expiry, pops, admin
        for cmd in [("GET", "k"), ("LPOP", "l"), ("EXPIRE", "k", "100"), ("PERSIST", "k"), ("DEL", "k"), ("PING",),
                    ("DBSIZE",), ("CONFIG", "GET", "maxmemory"), ("FLUSHDB",)]:
            assert diff.check(*cmd) != OOM, cmd
        ours, theirs = diff.both("INFO", "stats")
        assert b"evicted_keys:0" in ours and b"evicted_keys:0" in theirs
    diff.check("SET", "k", "again")  # back under the limit


def test_oom_inside_multi(diff, other):
    """(maxmemory is changed from the other connection: inside MULTI a CONFIG SET would queue.)"""
    try:
        other.check("CONFIG", "SET", "maxmemory", "1")
        diff.check("MULTI")
        assert diff.check("GET", "k") == OOM  # inside MULTI even a read is refused: queueing grows memory
        diff.check("SET", "k", "v")
        diff.check("EXEC")  # EXECABORT ... previous errors
        diff.check("MULTI")
        diff.check("DISCARD")  # never refused
        other.check("CONFIG", "SET", "maxmemory", "0")
        diff.check("MULTI")
        diff.check("SET", "k", "v")
        diff.check("GET", "k")
        other.check("CONFIG", "SET", "maxmemory", "1")
        diff.check("EXEC")  # EXECABORT Transaction discarded because of: OOM ... (a denyoom command queued)
        other.check("CONFIG", "SET", "maxmemory", "0")
        diff.check("MULTI")
        diff.check("GET", "k")
        other.check("CONFIG", "SET", "maxmemory", "1")
        diff.check("EXEC")  # only reads queued: it runs
        diff.check("CONFIG", "RESETSTAT")
        diff.check("MULTI")
        diff.check("GET", "k")  # refused: the transaction is doomed and queues nothing more
        other.check("CONFIG", "SET", "maxmemory", "0")
        diff.check("SET", "k", "w")  # +QUEUED, but dropped
        other.check("CONFIG", "SET", "maxmemory", "1")
        diff.check("EXEC")  # EXECABORT ... previous errors, not OOM
    finally:
        other.check("CONFIG", "SET", "maxmemory", "0")
    ours, theirs = diff.both("INFO", "commandstats")

    def counters(text: bytes) -> dict:
        """cmdstat name -> (calls, rejected_calls, failed_calls): the times differ."""
        out = {}
        for line in text.split(b"\r\n"):
            if line.startswith(b"cmdstat_"):
                f = line.split(b",")
                out[line.split(b":")[0]] = (f[0].split(b":")[1], f[3:])
        return out

    assert counters(ours) == counters(theirs)


def test_oom_scripts_and_functions(diff):
    lib = ("#!lua name=oomlib\n"
           "redis.register_function('plain', function(k) return redis.call('set', k[1], 'x') end)\n"
           "redis.register_function{function_name='allow', callback=function(k) return redis.call('set', k[1], 'y') end,"
           " flags={'allow-oom'}}\n"
           "redis.register_function{function_name='ro', callback=function(k) return redis.call('get', k[1]) end,"
           " flags={'no-writes'}}")
    diff.check("FUNCTION", "LOAD", "REPLACE", lib)
    diff.check("SET", "k", "v")
    try:
        with diff.config("maxmemory", "1"):
            # eval compatibility mode: EVAL is not denyoom, its first denyoom redis.call is refused
            diff.check("EVAL", "return redis.call('set','k','v')", "0")
            diff.check("EVAL", "return redis.call('get','k')", "0")
            diff.check("EVAL", "redis.call('get','k'); return redis.pcall('set','k','v')", "0")
            diff.check("EVAL", "redis.call('del','zz'); return redis.call('set','k','v')", "0")  # after a write: allowed
            # shebang scripts: denyoom unless allow-oom or no-writes
            diff.check("EVAL", "#!lua\nreturn 1", "0")
            diff.check("EVAL", "#!lua flags=allow-oom\nreturn redis.call('set','k','v3')", "0")
            diff.check("EVAL", "#!lua flags=no-writes\nreturn redis.call('get','k')", "0")
            diff.check("EVAL_RO", "#!lua\nreturn 1", "0")
            sha = diff.check("SCRIPT", "LOAD", "#!lua\nreturn 2")
            diff.check("EVALSHA", sha, "0")
            diff.check("EVALSHA", "0" * 40, "0")  # unknown: the command's own flags, then NOSCRIPT
            diff.check("FCALL", "plain", "1", "k")
            diff.check("FCALL", "allow", "1", "k")
            diff.check("FCALL", "ro", "1", "k")
            diff.check("FCALL_RO", "ro", "1", "k")
            diff.check("FCALL", "nosuch", "0")
        diff.check("GET", "k")
    finally:
        diff.check("FUNCTION", "DELETE", "oomlib")


def test_oom_flag_checked_when_the_script_runs(diff, other):
    """A script unknown when EVALSHA was queued (no flags then) runs in EXEC over maxmemory:
    scriptPrepareForRun refuses it for lack of allow-oom."""
    body = "#!lua\nreturn redis.call('set','k','b')"
    sha = hashlib.sha1(body.encode()).hexdigest()
    diff.check("SCRIPT", "FLUSH")
    diff.check("MULTI")
    diff.check("EVALSHA", sha, "0")
    diff.check("GET", "k")
    other.check("SCRIPT", "LOAD", body)
    with other.config("maxmemory", "1"):
        diff.check("EXEC")  # [-OOM allow-oom flag is not set on the script..., nil]


def test_watched_key_evicted_aborts_exec(diff, other):
    """An evicted key is a modified key: WATCH sees it (signalModifiedKey)."""
    for i in range(200):
        diff.check("SET", f"pad{i}", "x" * 100)
    diff.check("SET", "w", "v", "EX", "1000")  # the only volatile key: volatile-ttl evicts it first
    diff.check("WATCH", "w")
    diff.check("MULTI")
    diff.check("GET", "pad1")
    with other.config("maxmemory-policy", "volatile-ttl"), other.config("maxmemory", "1"):
        other.check("EXISTS", "w")  # evicted on the way
        diff.check("EXEC")  # nil: the transaction saw w change


# --- eviction, each server on its own ----------------------------------------------------------
@contextmanager
def _pair(*args: str, ours_dir: str | None = None, theirs_dir: str | None = None):
    """A redis-server and a pyredis with the same directives (--name value ...)."""
    cfg = {args[i].lstrip("-").replace("-", "_"): args[i + 1] for i in range(0, len(args), 2)}
    real = RealRedis(*args, dir=theirs_dir)
    kw = {"dir": ours_dir} if ours_dir else {}
    ours = pyredis.Server(port=0, enable_debug_command="yes", **cfg, **kw).start()
    a = b = None
    try:
        a, b = RawClient("127.0.0.1", ours.port), RawClient("127.0.0.1", real.port)
        yield ours, real, a, b
    finally:
        for c in (a, b):
            if c is not None:
                c.close()
        ours.stop()
        real.stop()


def _pipeline(client: RawClient, cmds, batch: int = 100) -> list:
    out = []
    for i in range(0, len(cmds), batch):
        chunk = cmds[i:i + batch]
        client.send(b"".join(encode_command(c) for c in chunk))
        out.extend(client.read() for _ in chunk)
    return out


def _info(client: RawClient) -> dict[str, str]:
    text = client.call("INFO", "everything").decode()
    return {line.split(":", 1)[0]: line.split(":", 1)[1] for line in text.split("\r\n") if ":" in line}


def _close(a: float, b: float, rel: float) -> bool:
    return abs(a - b) <= rel * max(a, b, 1)


POLICIES = ["allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu", "volatile-random",
            "volatile-ttl", "noeviction"]


@pytest.mark.parametrize("policy", POLICIES)
def test_policy_keeps_as_many_keys_as_redis(policy):
    """30,000 SETs of 50-byte values into 3 MB (half of them with a TTL): both servers keep,
    evict and refuse the same numbers of keys within 6%, and end at or under maxmemory.
    volatile-* policies evict only keys with a TTL, so the others all stay."""
    limit = 3 * 1024 * 1024
    cmds = []
    for i in range(30000):
        if i % 2:
            cmds.append(("SET", f"key:{i}", "v" * 50, "EX", str(100000 + i)))
        else:
            cmds.append(("SET", f"key:{i}", "v" * 50))
    with _pair("--maxmemory", str(limit), "--maxmemory-policy", policy) as (_, _, a, b):
        res = {}
        for name, c in (("pyredis", a), ("redis", b)):
            out = _pipeline(c, cmds)
            errors = [x for x in out if isinstance(x, Err)]
            assert all(e == OOM for e in errors)
            info = _info(c)
            persistent = sum(c.call("EXISTS", *[f"key:{i}" for i in range(j, min(j + 1000, 30000), 2)])
                             for j in range(0, 30000, 1000))
            refused = sum(1 for i, x in enumerate(out) if isinstance(x, Err) and i % 2 == 0)
            res[name] = {"keys": c.call("DBSIZE"), "evicted": int(info["evicted_keys"]), "oom": len(errors),
                         "used": int(info["used_memory"]), "persistent": persistent, "refused": refused}
        ours, theirs = res["pyredis"], res["redis"]
        assert ours["used"] <= limit * 1.05, res
        for k in ("keys", "evicted", "oom"):
            assert _close(ours[k], theirs[k], 0.06), (k, res)
        if policy.startswith("volatile") or policy == "noeviction":
            # keys without a TTL are never evicted: every one that was accepted is there
            for r in res.values():
                assert r["persistent"] == 15000 - r["refused"], res
        if policy == "noeviction":
            assert ours["evicted"] == theirs["evicted"] == 0


def test_lfu_keeps_the_frequently_read_keys():
    """A hot set read all along survives a stream of cold writes ten times the limit under
    allkeys-lfu, on both servers alike; allkeys-random, for contrast, loses most of it."""
    hot = 200
    cmds = [("SET", f"hot:{i}", "h" * 100) for i in range(hot)]
    for i in range(40000):
        cmds.append(("SET", f"key:{i}", "v" * 100))
        if i % 10 == 0:
            cmds += [("GET", f"hot:{(i // 10 + j) % hot}") for j in range(3)]
    survivors = {}
    for policy in ("allkeys-lfu", "allkeys-random"):
        with _pair("--maxmemory", "2mb", "--maxmemory-policy", policy) as (_, _, a, b):
            for name, c in (("pyredis", a), ("redis", b)):
                _pipeline(c, cmds)
                survivors[policy, name] = c.call("EXISTS", *[f"hot:{i}" for i in range(hot)])
    assert survivors["allkeys-lfu", "pyredis"] >= 0.9 * hot, survivors
    assert survivors["allkeys-lfu", "redis"] >= 0.9 * hot, survivors
    assert survivors["allkeys-random", "pyredis"] < 0.3 * hot, survivors
    assert survivors["allkeys-random", "redis"] < 0.3 * hot, survivors


def test_lru_keeps_the_recently_read_keys():
    """allkeys-lru ranks keys by the LRU clock (one-second resolution), so the workload runs in
    rounds a second apart: each round reads the hot set and writes cold keys (less than the
    limit holds). The hot keys, read every round, survive on both servers; the cold keys of
    the earlier rounds go first."""
    hot = 200
    with _pair("--maxmemory", "2mb", "--maxmemory-policy", "allkeys-lru") as (_, _, a, b):
        for c in (a, b):
            _pipeline(c, [("SET", f"hot:{i}", "h" * 100) for i in range(hot)])
        for r in range(5):
            time.sleep(1.05)
            for c in (a, b):
                _pipeline(c, [("GET", f"hot:{i}") for i in range(hot)])
                _pipeline(c, [("SET", f"key:{r}:{i}", "v" * 100) for i in range(3000)])
        for c in (a, b):
            assert c.call("EXISTS", *[f"hot:{i}" for i in range(hot)]) >= 0.9 * hot
            assert c.call("EXISTS", *[f"key:0:{i}" for i in range(3000)]) < 300  # the oldest round: gone
            assert c.call("EXISTS", *[f"key:4:{i}" for i in range(3000)]) > 2700  # the last one: kept


def test_volatile_ttl_evicts_the_soonest_expiring_first():
    """volatile-ttl: of keys with TTLs 10000..40000 s written in random order, those evicted
    are (approximately, sampling 5 at a time) the shortest-lived: on both servers nearly all of
    the longest-lived third survives and little of the shortest-lived third does."""
    import random

    order = list(range(30000))
    random.Random(5).shuffle(order)
    cmds = [("SET", f"key:{i}", "v" * 50, "EX", str(10000 + i)) for i in order]
    with _pair("--maxmemory", "3mb", "--maxmemory-policy", "volatile-ttl") as (_, _, a, b):
        for c in (a, b):
            _pipeline(c, cmds)
            long_lived = c.call("EXISTS", *[f"key:{i}" for i in range(20000, 30000)])
            short_lived = c.call("EXISTS", *[f"key:{i}" for i in range(0, 10000)])
            assert long_lived > 9000 and short_lived < 6000, (long_lived, short_lived)


def test_evictions_are_notified_and_propagated(tmp_path):
    """Each evicted key fires the `evicted` keyspace event and reaches the AOF as a DEL
    (UNLINK under lazyfree-lazy-eviction), as Redis's propagateDeletion."""
    for lazy in ("no", "yes"):
        d1, d2 = tmp_path / f"ours-{lazy}", tmp_path / f"theirs-{lazy}"
        d1.mkdir()
        d2.mkdir()
        args = ("--maxmemory", "2mb", "--maxmemory-policy", "allkeys-random", "--notify-keyspace-events", "Ee",
                "--appendonly", "yes", "--appendfsync", "always", "--lazyfree-lazy-eviction", lazy)
        with _pair(*args, ours_dir=str(d1), theirs_dir=str(d2)) as (_, _, a, b):
            counts = {}
            for name, c, d in (("pyredis", a, d1), ("redis", b, d2)):
                sub = RawClient("127.0.0.1", c.sock.getpeername()[1])
                sub.call("SUBSCRIBE", "__keyevent@0__:evicted")
                _pipeline(c, [("SET", f"key:{i}", "v" * 100) for i in range(15000)])
                evicted = int(_info(c)["evicted_keys"])
                events = 0
                sub.sock.settimeout(5)
                while events < evicted:
                    msg = sub.read()
                    assert msg[:2] == [b"message", b"__keyevent@0__:evicted"]
                    events += 1
                sub.close()
                aof = b"".join(open(f, "rb").read() for f in glob.glob(os.path.join(d, "**", "*.aof"), recursive=True))
                word = b"$6\r\nUNLINK\r\n" if lazy == "yes" else b"$3\r\nDEL\r\n"
                counts[name] = (evicted, events, aof.count(word))
            for evicted, events, in_aof in counts.values():
                assert evicted > 1000 and events == evicted and in_aof == evicted, counts
            assert _close(counts["pyredis"][0], counts["redis"][0], 0.06), counts


def test_lowering_maxmemory_evicts_in_the_background():
    """CONFIG SET maxmemory below the usage starts eviction without a client command
    (updateMaxmemory -> the eviction time proc); with tenacity 0 each step evicts 16 keys and
    the rest continues in the event loop until the memory fits. The key counts agree within
    12%: Redis keeps some 100 KB more outside the keys after a long pipeline (client buffers,
    allocations left behind), which at 2 MB is 10% of the dataset."""
    with _pair("--maxmemory-eviction-tenacity", "0", "--maxmemory-policy", "allkeys-lru") as (_, _, a, b):
        for c in (a, b):
            _pipeline(c, [("SET", f"key:{i}", "v" * 100) for i in range(20000)])
            c.call("CONFIG", "SET", "maxmemory", "2mb")
        deadline = time.time() + 20
        while time.time() < deadline:
            used = [int(_info(c)["used_memory"]) for c in (a, b)]
            if all(u <= 2 * 1024 * 1024 * 1.02 for u in used):
                break
            time.sleep(0.05)
        keys = [c.call("DBSIZE") for c in (a, b)]
        assert all(u <= 2 * 1024 * 1024 * 1.02 for u in used), used
        assert _close(keys[0], keys[1], 0.12), keys


class _Sched:
    """A scheduler that only records: the test runs the callbacks one loop turn at a time."""

    def __init__(self):
        self.soon = []

    def call_soon(self, fn, *args):
        self.soon.append((fn, args))

    def call_later(self, delay, fn, *args):
        raise AssertionError("not used")

    def before_sleep(self, fn):
        self.soon.append((fn, ()))


def test_eviction_steps_are_bounded_by_tenacity():
    """performEvictions stops after 16 keys once past the tenacity time limit (0 us at
    tenacity 0) and continues in the next loop iterations, until used_memory fits."""
    from pyredis.config import Config
    from pyredis.core.evict import EVICT_OK, EVICT_RUNNING
    from pyredis.core.state import ServerState

    cfg = Config()
    cfg.values["maxmemory-policy"] = "allkeys-lru"
    cfg.values["maxmemory-eviction-tenacity"] = 0
    st = ServerState(cfg)
    st.scheduler = _Sched()
    for i in range(5000):
        st.dbs[0].add(b"key:%d" % i, b"v" * 100)
    ev = st.evictor
    target = ev.counted_memory() - 300_000
    cfg.set("maxmemory", str(target))
    st.scheduler.soon.clear()  # updateMaxmemory's timer: driven by hand below
    ev.timer_running = False
    assert ev.perform() == EVICT_RUNNING
    assert st.stats.evicted_keys == 16 and len(st.scheduler.soon) == 1
    turns = 0
    while st.scheduler.soon:
        fn, args = st.scheduler.soon.pop(0)
        fn(*args)
        turns += 1
        assert st.stats.evicted_keys == 16 * (turns + 1) or ev.counted_memory() <= target
    assert ev.counted_memory() <= target and turns > 10
    assert ev.perform() == EVICT_OK
    cfg.values["maxmemory-eviction-tenacity"] = 100  # unlimited: one call frees it all
    cfg.set("maxmemory", str(target - 200_000))
    st.scheduler.soon.clear()
    ev.timer_running = False
    before = st.stats.evicted_keys
    assert ev.perform() == EVICT_OK and st.stats.evicted_keys - before > 16


def test_eviction_under_many_clients():
    """Twenty clients write at once into a 2 MB limit: every write succeeds, used_memory (polled
    from another connection all along) stays within 5% of the limit, and the evictions match
    Redis's within 6%."""
    import threading

    limit = 2 * 1024 * 1024
    with _pair("--maxmemory", str(limit), "--maxmemory-policy", "allkeys-lru") as (ours, real, a, b):
        results = {}
        for name, port in (("pyredis", ours.port), ("redis", real.port)):
            errors: list = []
            peak = [0]
            done = threading.Event()

            def writer(n: int, port=port, errors=errors) -> None:
                c = RawClient("127.0.0.1", port)
                out = _pipeline(c, [("SET", f"c{n}:key:{i}", "v" * 100) for i in range(2000)], batch=50)
                errors.extend(x for x in out if isinstance(x, Err))
                c.close()

            def monitor(port=port, peak=peak, done=done) -> None:
                c = RawClient("127.0.0.1", port)
                while not done.is_set():
                    peak[0] = max(peak[0], int(_info(c)["used_memory"]))
                    time.sleep(0.01)
                c.close()

            mon = threading.Thread(target=monitor)
            mon.start()
            writers = [threading.Thread(target=writer, args=(n,)) for n in range(20)]
            for t in writers:
                t.start()
            for t in writers:
                t.join()
            done.set()
            mon.join()
            c = a if name == "pyredis" else b
            results[name] = (errors, peak[0], int(_info(c)["evicted_keys"]), c.call("DBSIZE"))
        for errors, peak, evicted, keys in results.values():
            assert not errors and peak <= limit * 1.05 and evicted + keys == 40000, results
        assert _close(results["pyredis"][2], results["redis"][2], 0.06), results


def test_eviction_latency_events_and_pause():
    """evict.c's latency samples: deleting a large evicted value is an `eviction-del` event and
    the whole step an `eviction-cycle` one, on both servers; and while clients are paused
    (CLIENT PAUSE WRITE) nothing is evicted, reads over maxmemory included
    (isSafeToPerformEvictions), until CLIENT UNPAUSE."""
    members = [("SADD", "big", *[f"m{j}" for j in range(i, i + 1000)]) for i in range(0, 300_000, 1000)]
    with _pair("--maxmemory-policy", "allkeys-random") as (_, _, a, b):
        res = {}
        for name, c in (("pyredis", a), ("redis", b)):
            _pipeline(c, members, batch=20)
            _pipeline(c, [("SET", f"k{i}", "v") for i in range(100)])
            c.call("CONFIG", "SET", "latency-monitor-threshold", "1")
            assert c.call("CLIENT", "PAUSE", "100000", "WRITE") == b"OK"
            assert c.call("CONFIG", "SET", "maxmemory", "1") == b"OK"
            paused = [c.call("GET", "k1"), int(_info(c)["evicted_keys"]), c.call("DBSIZE")]
            c.call("CLIENT", "UNPAUSE")  # the next command evicts every key, the big set among them
            events = sorted(e[0] for e in c.call("LATENCY", "LATEST"))
            res[name] = (paused, c.call("DBSIZE"), int(_info(c)["evicted_keys"]),
                         [e for e in events if e.startswith(b"eviction")])
            c.call("CONFIG", "SET", "maxmemory", "0")
            c.call("CONFIG", "SET", "latency-monitor-threshold", "0")
        assert res["pyredis"] == res["redis"], res
        assert res["redis"][0] == [b"v", 0, 101]
        assert res["redis"][1:] == (0, 101, [b"eviction-cycle", b"eviction-del"]), res
