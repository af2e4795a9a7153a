"""Expiry: lazy on access, and the active cycle that reclaims keys nobody touches; both are
counted in INFO's expired_keys and propagated as DEL."""

from __future__ import annotations

import time

import pytest

from effects import Effects

import pyredis
import pyredis.commands  # noqa: F401  (registers every command)
from pyredis.core.client import Client
from pyredis.core.dispatch import execute
from pyredis.core.state import ServerState
from pyredis.keyspace.expiry import ActiveExpiry
from resp import RawClient


def _fill_volatile(c: RawClient, n: int, ttl_ms: int, prefix: str = "k") -> None:
    cmds = b"".join(b"*5\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\nv\r\n$2\r\nPX\r\n$%d\r\n%d\r\n"
                    % (len(prefix) + len(str(i)), f"{prefix}{i}".encode(), len(str(ttl_ms)), ttl_ms)
                    for i in range(n))
    c.send(cmds)
    for _ in range(n):
        assert c.read() == b"OK"


def _wait_dbsize_zero(c: RawClient, limit_s: float) -> float:
    t0 = time.time()
    while time.time() - t0 < limit_s:
        if c.call("DBSIZE") == 0:
            return time.time() - t0
        time.sleep(0.05)
    return -1.0


def test_active_expiry_reclaims_untouched_keys(pyredis_srv, real_redis):
    """1000 keys with a 50 ms TTL leave DBSIZE within a couple of seconds, in both servers."""
    for port in (pyredis_srv.port, real_redis.port):
        c = RawClient("127.0.0.1", port)
        c.call("FLUSHALL")
        if port == pyredis_srv.port:
            before = pyredis_srv.state.stats.expired_keys
        _fill_volatile(c, 1000, 50)
        c.call("SET", "persistent", "1")
        assert c.call("DBSIZE") == 1001
        took = _wait_dbsize_zero_but(c, 1, 3.0)
        assert took >= 0, f"keys not reclaimed on port {port}"
        if port == pyredis_srv.port:
            assert pyredis_srv.state.stats.expired_keys - before == 1000
        assert c.call("GET", "persistent") == b"1"
        c.close()


def _wait_dbsize_zero_but(c: RawClient, remaining: int, limit_s: float) -> float:
    t0 = time.time()
    while time.time() - t0 < limit_s:
        if c.call("DBSIZE") == remaining:
            return time.time() - t0
        time.sleep(0.05)
    return -1.0


def test_active_expiry_across_databases(pyredis_srv):
    c = RawClient("127.0.0.1", pyredis_srv.port)
    c.call("FLUSHALL")
    for db in (0, 5, 15):
        c.call("SELECT", str(db))
        _fill_volatile(c, 200, 30, prefix=f"db{db}-")
    for db in (0, 5, 15):
        c.call("SELECT", str(db))
        assert _wait_dbsize_zero(c, 3.0) >= 0
    c.close()


def test_info_reports_expired_keys(pyredis_srv):
    c = RawClient("127.0.0.1", pyredis_srv.port)
    c.call("FLUSHALL")
    info = c.call("INFO", "stats")
    before = int(info.split(b"expired_keys:")[1].split(b"\r\n")[0])
    c.call("SET", "a", "1", "PX", "1")
    time.sleep(0.01)
    assert c.call("GET", "a") is None  # lazy
    _fill_volatile(c, 10, 10)
    assert _wait_dbsize_zero(c, 3.0) >= 0  # active
    after = int(c.call("INFO", "stats").split(b"expired_keys:")[1].split(b"\r\n")[0])
    assert after - before == 11
    c.close()


def test_lazy_expiry_on_access(diff):
    diff.check("SET", "k", "v")
    diff.check("SET", "k2", "v")
    diff.check("PEXPIRE", "k", "20")
    diff.check("PEXPIRE", "k2", "20")
    diff.check("GET", "k")
    time.sleep(0.05)
    for cmd in (["GET", "k"], ["EXISTS", "k"], ["TTL", "k"], ["TYPE", "k2"], ["DBSIZE"]):
        a, b = diff.both(*cmd)
        if cmd == ["DBSIZE"]:
            continue  # the active cycles of the two servers run at different instants
        assert a == b, (cmd, a, b)


def test_expire_then_persist_keeps_key(diff):
    diff.check("SET", "k", "v")
    diff.check("PEXPIRE", "k", "100")
    diff.check("PERSIST", "k")
    time.sleep(0.15)
    diff.check("GET", "k")
    diff.check("TTL", "k")


def test_overwrite_clears_ttl(diff):
    diff.check("SET", "k", "v")
    diff.check("PEXPIRE", "k", "50")
    diff.check("SET", "k", "w")
    time.sleep(0.1)
    diff.check("GET", "k")
    diff.check("TTL", "k")


# --- the cycle on a controlled clock ----------------------------------------------------------

Recorder = Effects


def tick(state, cycle, hz=10):
    """What serverCron does: set the command clock, then run one cycle."""
    state.now_ms = state.clock.ms()
    return cycle.cycle(state.dbs, state.now_ms, hz)


@pytest.fixture
def frozen():
    state = ServerState()
    state.clock.freeze()
    rec = Recorder()
    state.propagation.add_sink(rec)
    c = Client(state)

    def run(*args):
        return execute(c, [a if isinstance(a, bytes) else str(a).encode() for a in args])

    return state, run, rec


def test_cycle_reclaims_only_past_deadlines(frozen):
    state, run, rec = frozen
    for i in range(500):
        run("SET", f"short{i}", "v")
        run("PEXPIRE", f"short{i}", "100")
        run("SET", f"long{i}", "v")
        run("PEXPIRE", f"long{i}", "100000")
    run("SET", "plain", "v")
    rec.log.clear()
    cycle = ActiveExpiry()
    db = state.dbs[0]
    assert tick(state, cycle) == 0
    assert len(db) == 1001
    assert db.avg_ttl > 0
    state.clock.advance(101)
    total = 0
    for _ in range(200):
        total += tick(state, cycle)
        if len(db) == 501:
            break
    assert len(db) == 501 and total == 500
    assert state.stats.expired_keys == 500
    assert sorted(argv[1] for _, argv in rec.log) == sorted(f"short{i}".encode() for i in range(500))
    assert all(dbid == 0 and argv[0] == b"DEL" for dbid, argv in rec.log)
    assert 0 < cycle.stale_perc < 1


def test_cycle_propagates_unlink_with_lazyfree_lazy_expire(frozen):
    state, run, rec = frozen
    state.config.values["lazyfree-lazy-expire"] = True
    run("SELECT", "3")
    run("SET", "k", "v")
    run("PEXPIRE", "k", "10")
    rec.log.clear()
    state.clock.advance(11)
    tick(state, ActiveExpiry())
    assert rec.log == [(3, [b"UNLINK", b"k"])]


def test_cycle_skips_stale_snapshot_entries(frozen):
    """Keys persisted or deleted after the cycle's snapshot do not stall it."""
    state, run, rec = frozen
    cycle = ActiveExpiry()
    for i in range(5000):
        run("SET", f"p{i}", "v")
        run("PEXPIRE", f"p{i}", "100000")
    tick(state, cycle)  # takes a snapshot of 5000 keys
    for i in range(5000):
        run("PERSIST", f"p{i}")
    for i in range(100):
        run("SET", f"s{i}", "v")
        run("PEXPIRE", f"s{i}", "10")
    state.clock.advance(20)
    for _ in range(100):
        tick(state, cycle)
        if len(state.dbs[0]) == 5000:
            break
    assert len(state.dbs[0]) == 5000


def test_cycle_respects_time_budget(frozen):
    state, run, rec = frozen
    db = state.dbs[0]
    now = state.clock.ms()
    for i in range(200_000):
        k = b"k%d" % i
        db.add(k, b"v")
        db.set_expire(k, now + 1)
    state.clock.advance(2)
    cycle = ActiveExpiry()
    tick(state, cycle)
    # The budget (25 ms at hz 10) stops the cycle part-way: some keys reclaimed, not all,
    # and the cycle counts the cap it hit. (No wall-clock assertion: the machine is shared.)
    assert 0 < 200_000 - len(db) < 200_000
    assert cycle.time_cap_reached == 1
    for _ in range(500):
        if not db.expires:
            break
        tick(state, cycle)
    assert len(db) == 0
    tick(state, cycle)
    assert db.avg_ttl == 0


def test_embedded_server_exposes_active_expiry(tmp_path):
    with pyredis.Server(port=0, hz=50, dir=str(tmp_path)) as s:
        c = RawClient("127.0.0.1", s.port)
        c.call("FLUSHALL")
        _fill_volatile(c, 300, 20)
        assert _wait_dbsize_zero(c, 2.0) >= 0
        c.close()


def test_no_lazy_expiry_while_loading(frozen):
    """Replaying `SET k v PXAT past` then `APPEND k x` keeps the key (and its deadline), as
    Redis does while loading; it expires once loading is over."""
    from pyredis.core.client import Client
    from pyredis.core.dispatch import replay
    from pyredis.keyspace.expiry import no_lazy_expiry

    state, run, rec = frozen
    loader = Client(state)  # the AOF loader's client: commands replayed with no gate

    def load(*args):
        return replay(loader, [a if isinstance(a, bytes) else str(a).encode() for a in args])

    past = state.clock.ms() - 1000
    state.loading = True
    try:
        assert run("GET", "k") == b"LOADING Redis is loading the dataset in memory"  # clients wait
        with no_lazy_expiry(state.dbs):
            load("SET", "k", "v")
            load("PEXPIREAT", "k", str(past))
            assert load("EXISTS", "k") == 1
            assert load("APPEND", "k", "x") == 2
            assert load("PEXPIRETIME", "k") == past
            load("SELECT", "1")
            load("SET", "j", "v")
            load("PEXPIREAT", "j", str(past))
            load("SELECT", "0")
    finally:
        state.loading = False
    assert run("PEXPIRETIME", "k") == -2  # expired now that loading is over
    run("SELECT", "1")
    assert run("EXISTS", "j") == 0
    assert state.stats.expired_keys == 2
