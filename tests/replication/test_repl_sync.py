"""Full and partial synchronisation with redis-server 7.0.15 in both roles, and between two
pyredis servers: after a mixed write load (every type, expiries, scripts, a function, MULTI,
SELECT, SWAPDB, FLUSHDB) the replica's DEBUG DIGEST equals the master's, whether the data
came in the RDB or in the stream; a dropped link resumes with +CONTINUE."""

from __future__ import annotations

import signal
import threading

import pytest
import redis

from repl_env import (digest, libraries, link_up, mixed_load, node, pyredis_node, redis_node, restart, settle, stop,
                      wait_until)


@pytest.mark.parametrize("diskless", ["yes", "no"])
def test_redis_server_replica_of_pyredis(diskless):
    m = s = None
    try:
        m = pyredis_node(repl_diskless_sync=diskless)
        mixed_load(m.r, "a:")
        s = redis_node("--replicaof", "127.0.0.1", str(m.port))
        link_up(s)
        mixed_load(m.r, "b:")
        settle(m, s)
        assert digest(m) == digest(s)
        assert libraries(m) == libraries(s) == [b"liba_", b"libb_"]
        assert m.info()["slave0"]["state"] == "online"
        target = "replicas sockets" if diskless == "yes" else "disk"
        assert f"Starting BGSAVE for SYNC with target: {target}" in m.log()
    finally:
        stop(s, m)


@pytest.mark.parametrize("load", ["disabled", "on-empty-db", "swapdb"])
@pytest.mark.parametrize("diskless", ["yes", "no"])
def test_pyredis_replica_of_redis_server(load, diskless):
    m = s = None
    try:
        m = redis_node("--repl-diskless-sync", diskless)
        mixed_load(m.r, "a:")
        s = pyredis_node(replicaof=f"127.0.0.1 {m.port}", repl_diskless_load=load)
        link_up(s)
        mixed_load(m.r, "b:")
        settle(m, s)
        assert digest(m) == digest(s)
        assert libraries(m) == libraries(s) == [b"liba_", b"libb_"]
        where = "to disk" if load == "disabled" else "to parser"
        assert where in s.log()
    finally:
        stop(s, m)


def test_pyredis_replica_of_pyredis():
    m = s = None
    try:
        m = pyredis_node()
        mixed_load(m.r, "a:")
        s = pyredis_node(replicaof=f"127.0.0.1 {m.port}")
        link_up(s)
        mixed_load(m.r, "b:")
        settle(m, s)
        assert digest(m) == digest(s)
    finally:
        stop(s, m)


@pytest.mark.parametrize("master_kind,replica_kind", [("pyredis", "redis"), ("redis", "pyredis"),
                                                       ("pyredis", "pyredis")])
def test_dropped_link_resumes_with_continue(master_kind, replica_kind):
    """CLIENT KILL TYPE master on the replica: it reconnects at once and PSYNCs from its
    offset; the master answers +CONTINUE and the writes made meanwhile arrive."""
    m = s = None
    try:
        m = node(master_kind)
        m.r.set("before", 1)
        s = node(replica_kind, "--replicaof", "127.0.0.1", str(m.port), replicaof=f"127.0.0.1 {m.port}")
        link_up(s)
        settle(m, s)
        full = m.info("stats")["sync_full"]
        s.r.client_kill_filter(_type="master")
        m.r.set("during", 2)
        link_up(s)
        mixed_load(m.r, "c:")
        settle(m, s)
        assert digest(m) == digest(s)
        stats = m.info("stats")
        assert stats["sync_partial_ok"] == 1 and stats["sync_full"] == full
        assert "Partial resynchronization request from" in m.log()
        assert "Successful partial resynchronization with master." in s.log()
        assert "MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization." in s.log()
    finally:
        stop(s, m)


@pytest.mark.parametrize("kind", ["redis", "pyredis"])
def test_killed_replica_connection_resumes_with_continue(kind):
    """CLIENT KILL TYPE replica on a pyredis master: the replica (of either kind) comes back
    with PSYNC <replid> <offset+1> and continues."""
    m = s = None
    try:
        m = pyredis_node()
        s = node(kind, "--replicaof", "127.0.0.1", str(m.port), replicaof=f"127.0.0.1 {m.port}")
        link_up(s)
        m.r.set("k", 1)
        settle(m, s)
        assert m.r.client_kill_filter(_type="replica") == 1
        m.r.set("k2", 2)
        wait_until(lambda: m.info("stats")["sync_partial_ok"] == 1, what="partial resync")
        settle(m, s)
        assert s.r.get("k2") == b"2"
        assert digest(m) == digest(s)
    finally:
        stop(s, m)


def test_chained_replicas():
    """redis-server -> pyredis -> redis-server and pyredis -> redis-server -> pyredis: the
    middle one proxies its master's stream, so the whole chain shares one history (same
    replid and offsets) and the same data."""
    a = b = c = None
    try:
        a = redis_node()
        b = pyredis_node(replicaof=f"127.0.0.1 {a.port}")
        c = redis_node("--replicaof", "127.0.0.1", str(b.port))
        link_up(b, c)
        mixed_load(a.r, "x:")
        settle(a, b, c)
        assert digest(a) == digest(b) == digest(c)
        ia, ib, ic = a.info(), b.info(), c.info()
        assert ia["master_replid"] == ib["master_replid"] == ic["master_replid"]
        assert ia["master_repl_offset"] == ib["master_repl_offset"] == ic["master_repl_offset"]
        assert ib["connected_slaves"] == 1
    finally:
        stop(c, b, a)
    a = b = c = None
    try:
        a = pyredis_node()
        b = redis_node("--replicaof", "127.0.0.1", "0")  # set below, once a listens
        b.r.replicaof("127.0.0.1", a.port)
        c = pyredis_node(replicaof=f"127.0.0.1 {b.port}")
        link_up(b, c)
        mixed_load(a.r, "y:")
        settle(a, b, c)
        assert digest(a) == digest(b) == digest(c)
    finally:
        stop(c, b, a)


def test_backlog_overflow_means_full_resync():
    """A replica away for longer than the backlog holds comes back with a full resync (the
    replica is stopped, its link dropped, the master writes past the backlog)."""
    m = s = None
    try:
        m = pyredis_node(repl_backlog_size="16kb")
        s = redis_node("--replicaof", "127.0.0.1", str(m.port))
        link_up(s)
        settle(m, s)
        s.proc.send_signal(signal.SIGSTOP)
        try:
            assert m.r.client_kill_filter(_type="replica") == 1
            for i in range(200):
                m.r.set(f"fill{i}", "x" * 500)
        finally:
            s.proc.send_signal(signal.SIGCONT)
        wait_until(lambda: m.info("stats")["sync_full"] == 2, what="a second full sync")
        link_up(s)
        settle(m, s)
        assert "for lack of backlog" in m.log()
        assert digest(m) == digest(s)
    finally:
        stop(s, m)


@pytest.mark.parametrize("kind", ["redis", "pyredis"])
def test_master_restarted_with_its_data_continues(kind):
    """SHUTDOWN SAVE and a restart from that RDB (which carries the replication ID and
    offset): the old ID becomes replid2 up to the saved offset, a new history starts there,
    and the replica resumes with +CONTINUE, as redis-server 7.0."""
    m = s = m2 = None
    try:
        m = node(kind)
        s = redis_node("--replicaof", "127.0.0.1", str(m.port))
        link_up(s)
        mixed_load(m.r, "a:")
        settle(m, s)
        old = m.info()
        try:
            m.r.shutdown(save=True)
        except redis.ConnectionError:
            pass
        first, m = m, None
        stop(first)
        wait_until(lambda: s.info()["master_link_status"] == "down", what="the master gone")
        s_off = s.info()["slave_repl_offset"]  # what the replica applied: the master's last offset
        m2 = restart(first)
        link_up(s)
        info = m2.info()
        assert info["master_replid2"] == old["master_replid"] and info["second_repl_offset"] == s_off + 1
        assert info["master_replid"] != old["master_replid"]
        stats = m2.info("stats")
        assert stats["sync_partial_ok"] == 1 and stats["sync_full"] == 0
        mixed_load(m2.r, "b:")
        settle(m2, s)
        assert digest(m2) == digest(s)
    finally:
        stop(s, m, m2)


def _blocked(port: int, *args) -> threading.Thread:
    def run() -> None:
        c = redis.Redis(port=port, socket_timeout=30)
        try:
            c.execute_command(*args)
        finally:
            c.close()
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def stream_load(m) -> None:
    """Writes whose propagation Redis rewrites or derives: served blocking commands (BLMOVE,
    BLMPOP, BZPOPMIN, XREADGROUP), relative expiries made absolute, EXPIRE in the past (a DEL),
    keys removed by active expiry, GETEX/GETDEL, *STORE commands, RESTORE, FLUSHALL,
    SCRIPT FLUSH/FUNCTION FLUSH, INCRBYFLOAT/HINCRBYFLOAT, XAUTOCLAIM, LMPOP, SINTERCARD."""
    r = m.r
    r.flushall()
    r.xadd("bx", {"f": 1}, id="1-1")
    r.xgroup_create("bx", "g", id="0")
    r.xadd("bx", {"f": 2}, id="2-1")
    r.xgroup_create("bx2", "g", id="$", mkstream=True)
    waiters = [_blocked(m.port, "BLMOVE", "bl", "bl2", "LEFT", "RIGHT", 0),
               _blocked(m.port, "BLMPOP", 0, 1, "bm", "LEFT", "COUNT", 2),
               _blocked(m.port, "BZPOPMIN", "bz", 0),
               _blocked(m.port, "XREADGROUP", "GROUP", "g", "c1", "BLOCK", 0, "STREAMS", "bx2", ">")]
    wait_until(lambda: m.info("clients")["blocked_clients"] == 4, what="four blocked clients")
    r.rpush("bl", "a", "b")
    r.rpush("bm", 1, 2, 3)
    r.zadd("bz", {"x": 1, "y": 2})
    r.xadd("bx2", {"f": 1})
    for t in waiters:
        t.join(30)
    r.set("rel", 1, ex=1000)
    r.expire("rel2", 100)
    r.set("past", 1)
    r.expire("past", -1)
    r.set("soon", 1, px=50)
    r.getex("rel", px=500000)
    r.set("gd", 1)
    r.getdel("gd")
    r.sadd("s1", *range(10))
    r.sadd("s2", *range(5, 15))
    r.sinterstore("si", ["s1", "s2"])
    r.sunionstore("su", ["s1", "s2"])
    r.zadd("z1", {"a": 1, "b": 2})
    r.zunionstore("zu", ["z1", "z1"])
    r.zrangestore("zr", "z1", 0, -1)
    r.set("b1", "abc")
    r.bitop("NOT", "b2", "b1")
    r.rpush("srt", 3, 1, 2)
    r.sort("srt", store="srt2")
    r.incrbyfloat("fl", "1.1")
    r.hincrbyfloat("hf", "f", "2.5")
    r.execute_command("RESTORE", "rst", 0, r.dump("srt"))
    r.execute_command("LMPOP", 1, "srt", "RIGHT")
    r.execute_command("SINTERCARD", 2, "s1", "s2")
    r.xautoclaim("bx", "g", "c2", 0, "0-0")
    r.geoadd("geo", (13.36, 38.11, "P"), (15.08, 37.50, "C"))
    r.execute_command("GEOSEARCHSTORE", "geo2", "geo", "FROMMEMBER", "P", "BYRADIUS", 500, "km", "ASC")
    r.eval("redis.call('set', 'fromlua', 'x', 'EX', 100); redis.call('expire', 'fromlua', 200)", 0)
    r.script_flush()
    r.function_load("#!lua name=l2\nredis.register_function('f2', function(k, a) return 1 end)")
    r.function_flush()
    r.function_load("#!lua name=l3\nredis.register_function('f3', function(k, a) return 1 end)")
    wait_until(lambda: r.execute_command("DBSIZE") and not r.exists("soon"), what="active expiry of 'soon'")
    r.execute_command("SELECT", 3)
    r.set("in3", 1)
    r.execute_command("SWAPDB", 0, 3)
    r.execute_command("SELECT", 0)


@pytest.mark.parametrize("master_kind,replica_kind", [("pyredis", "redis"), ("redis", "pyredis"),
                                                       ("pyredis", "pyredis")])
def test_derived_propagation(master_kind, replica_kind):
    """stream_load on a master with a replica attached: the replica ends with the master's
    digest and function libraries (everything here reached it through the stream)."""
    m = s = None
    try:
        m = node(master_kind)
        s = node(replica_kind, "--replicaof", "127.0.0.1", str(m.port), replicaof=f"127.0.0.1 {m.port}")
        link_up(s)
        stream_load(m)
        settle(m, s)
        assert digest(m) == digest(s)
        assert libraries(m) == libraries(s) == [b"l3"]
        db3 = redis.Redis(port=s.port, db=3)  # SWAPDB 0 3 moved the load there
        assert db3.lrange("bl2", 0, -1) == [b"a"] and db3.exists("soon") == 0 and db3.exists("bx2") == 1
        assert s.r.get("in3") == b"1"
        db3.close()
    finally:
        stop(s, m)


@pytest.mark.parametrize("master_kind", ["redis", "pyredis"])
def test_diskless_delay_serves_replicas_with_one_child(master_kind):
    """repl-diskless-sync-delay: replicas that arrive within the delay share one RDB child
    (one "Starting BGSAVE" line, two full syncs); repl-diskless-sync-max-replicas 2 starts it
    as soon as the second one is there."""
    m = a = b = None
    try:
        m = node(master_kind)
        m.r.config_set("repl-diskless-sync-delay", 30)
        m.r.config_set("repl-diskless-sync-max-replicas", 2)
        mixed_load(m.r, "a:")
        a = redis_node("--replicaof", "127.0.0.1", str(m.port))
        wait_until(lambda: m.info()["connected_slaves"] == 1, what="the first replica waiting")
        assert m.info()["slave0"]["state"] == "wait_bgsave"
        b = pyredis_node(replicaof=f"127.0.0.1 {m.port}")
        link_up(a, b)
        settle(m, a, b)
        assert digest(m) == digest(a) == digest(b)
        assert m.log().count("Starting BGSAVE for SYNC with target: replicas sockets") == 1
        assert m.info("stats")["sync_full"] == 2
    finally:
        stop(b, a, m)
