"""FAILOVER with redis-server 7.0.15 in both roles and between two pyredis servers: the
master hands its role to a replica that has caught up, becomes that replica's replica and
resumes from it with a partial resync (PSYNC <old replid> <offset+1> FAILOVER, answered
+CONTINUE with the new replid); no write is lost and both hold the same data. The argument
errors and the abort on timeout are compared with a redis-server in the same position."""

from __future__ import annotations

import signal
import threading

import pytest
import redis

from repl_env import digest, link_up, mixed_load, node, settle, stop, wait_until

PAIRS = [("pyredis", "redis"), ("redis", "pyredis"), ("pyredis", "pyredis")]


def _replica_of(kind: str, m):
    return node(kind, "--replicaof", "127.0.0.1", str(m.port), replicaof=f"127.0.0.1 {m.port}")


@pytest.mark.parametrize("master_kind,replica_kind", PAIRS)
@pytest.mark.parametrize("target", ["any", "to"])
def test_failover_hands_the_master_role_over(master_kind, replica_kind, target):
    m = s = None
    try:
        m = node(master_kind)
        mixed_load(m.r, "a:")
        s = _replica_of(replica_kind, m)
        link_up(s)
        mixed_load(m.r, "b:")
        settle(m, s)
        old_id = m.info()["master_replid"]
        full = s.info("stats")["sync_full"]
        args = ["FAILOVER"] if target == "any" else ["FAILOVER", "TO", "127.0.0.1", s.port]
        assert m.r.execute_command(*args) == b"OK"
        wait_until(lambda: s.info()["role"] == "master" and m.info().get("master_link_status") == "up",
                   what="roles swapped")
        im, i_s = m.info(), s.info()
        assert im["master_port"] == s.port and im["master_failover_state"] == "no-failover"
        assert i_s["master_failover_state"] == "no-failover" and i_s["connected_slaves"] == 1
        # the new master's history continues the old one: the old ID is its replid2
        assert i_s["master_replid2"] == old_id and im["master_replid"] == i_s["master_replid"]
        # the old master came back with a partial resync
        st = s.info("stats")
        assert st["sync_partial_ok"] == 1 and st["sync_full"] == full
        with pytest.raises(redis.ReadOnlyError):
            m.r.set("k", 1)
        mixed_load(s.r, "c:")
        settle(s, m)
        assert digest(m) == digest(s)
        assert m.r.get("c:db7b") is None and m.r.get("c:lua") == b"val"
    finally:
        stop(s, m)


def _errors(r, replica_port: int) -> list:
    out = []
    for args in (["FAILOVER", "ABORT"], ["FAILOVER", "TIMEOUT", "0"], ["FAILOVER", "TIMEOUT", "x"],
                 ["FAILOVER", "TO", "127.0.0.1"], ["FAILOVER", "FORCE"], ["FAILOVER", "FORCE", "TIMEOUT", "10"],
                 ["FAILOVER", "TO", "127.0.0.1", "1", "TIMEOUT", "100"], ["FAILOVER", "TO", "127.0.0.1", "1", "TO"],
                 ["FAILOVER", "TIMEOUT", "5", "TIMEOUT", "6"], ["FAILOVER", "ABORT", "TIMEOUT", "5"]):
        try:
            out.append(r.execute_command(*args))
        except redis.ResponseError as e:
            out.append(("err", str(e)))
    return out


def test_failover_errors_as_redis():
    """Argument and state errors, on a master without replicas, on a master with one (bad
    target), and on a replica: pyredis answers as redis-server in each position."""
    nodes = []
    try:
        seen = {}
        for kind in ("redis", "pyredis"):
            m = node(kind)
            nodes.append(m)
            alone = _errors(m.r, 0)
            s = _replica_of(kind, m)
            nodes.append(s)
            link_up(s)
            with_replica = _errors(m.r, s.port)
            on_replica = _errors(s.r, 0)
            seen[kind] = (alone, with_replica, on_replica)
        assert seen["pyredis"] == seen["redis"]
        assert ("err", "FAILOVER requires connected replicas.") in seen["redis"][0]
    finally:
        stop(*reversed(nodes))


@pytest.mark.parametrize("master_kind", ["redis", "pyredis"])
def test_failover_times_out_when_the_replica_never_catches_up(master_kind):
    """A stopped replica never acknowledges the last write: FAILOVER TO .. TIMEOUT aborts
    and the master stays a master (writes accepted again)."""
    m = s = None
    try:
        m = node(master_kind)
        s = _replica_of("redis", m)
        link_up(s)
        settle(m, s)
        s.proc.send_signal(signal.SIGSTOP)
        try:
            m.r.set("unacked", 1)
            assert m.r.execute_command("FAILOVER", "TO", "127.0.0.1", s.port, "TIMEOUT", 300) == b"OK"
            assert m.info()["master_failover_state"] == "waiting-for-sync"
            wait_until(lambda: m.info()["master_failover_state"] == "no-failover", what="failover aborted")
        finally:
            s.proc.send_signal(signal.SIGCONT)
        assert m.info()["role"] == "master"
        assert "aborted: Replica never caught up before timeout" in m.log()
        m.r.set("after", 1)
        settle(m, s)
        assert digest(m) == digest(s)
    finally:
        stop(s, m)


@pytest.mark.parametrize("master_kind", ["redis", "pyredis"])
def test_failover_abort(master_kind):
    """FAILOVER ABORT while waiting for a stopped replica: back to no-failover, still master.
    Meanwhile writes are held (a paused client, counted as blocked) and reads are served; the
    abort releases the held write, which then succeeds."""
    m = s = None
    try:
        m = node(master_kind)
        s = _replica_of("redis", m)
        link_up(s)
        settle(m, s)
        s.proc.send_signal(signal.SIGSTOP)
        try:
            m.r.set("unacked", 1)
            assert m.r.execute_command("FAILOVER", "TO", "127.0.0.1", s.port) == b"OK"
            with pytest.raises(redis.ResponseError, match="FAILOVER already in progress."):
                m.r.execute_command("FAILOVER")
            with pytest.raises(redis.ResponseError, match="REPLICAOF not allowed while failing over."):
                m.r.replicaof("127.0.0.1", s.port)
            held = []
            writer = threading.Thread(target=lambda: held.append(redis.Redis(port=m.port).set("held", 1)))
            writer.start()
            wait_until(lambda: m.info("clients")["blocked_clients"] == 1, what="the write held")
            assert m.r.get("unacked") == b"1" and m.r.get("held") is None and not held
            assert m.r.execute_command("FAILOVER", "ABORT") == b"OK"
            writer.join(20)
            assert held == [True] and m.r.get("held") == b"1"
            assert m.info()["master_failover_state"] == "no-failover"
        finally:
            s.proc.send_signal(signal.SIGCONT)
        assert "FAILOVER to 127.0.0.1:%d aborted: Failover manually aborted" % s.port in m.log()
        assert m.info()["role"] == "master"
        m.r.set("after", 1)
        settle(m, s)
        assert digest(m) == digest(s)
    finally:
        stop(s, m)


@pytest.mark.parametrize("master_kind", ["redis", "pyredis"])
def test_write_held_during_failover_is_refused_after_it(master_kind):
    """A write that arrives while FAILOVER waits for its (stopped) target is held; once the
    target catches up and takes over, the held write runs on what is now a replica: READONLY,
    and nothing acknowledged is lost."""
    m = s = None
    try:
        m = node(master_kind)
        s = _replica_of("redis", m)
        link_up(s)
        settle(m, s)
        s.proc.send_signal(signal.SIGSTOP)
        try:
            m.r.set("acked", 1)
            assert m.r.execute_command("FAILOVER", "TO", "127.0.0.1", s.port) == b"OK"
            result = []

            def write() -> None:
                try:
                    result.append(redis.Redis(port=m.port).set("held", 1))
                except redis.ResponseError as e:
                    result.append(str(e))
            writer = threading.Thread(target=write)
            writer.start()
            wait_until(lambda: m.info("clients")["blocked_clients"] == 1, what="the write held")
        finally:
            s.proc.send_signal(signal.SIGCONT)
        writer.join(30)
        assert result == ["You can't write against a read only replica."]
        wait_until(lambda: s.info()["role"] == "master" and m.info().get("master_link_status") == "up",
                   what="roles swapped")
        assert s.r.get("acked") == b"1" and s.r.get("held") is None
        settle(s, m)
        assert digest(m) == digest(s)
    finally:
        stop(s, m)


@pytest.mark.parametrize("master_kind", ["redis", "pyredis"])
def test_failover_force_after_timeout(master_kind):
    """FAILOVER TO .. TIMEOUT .. FORCE with a stopped target: after the timeout the master
    fails over anyway (failover-in-progress while the target cannot answer); once the target
    runs again it is the master (the last write was already in its socket) and the old master
    follows it."""
    m = s = None
    try:
        m = node(master_kind)
        s = _replica_of("redis", m)
        link_up(s)
        m.r.set("acked", 1)
        settle(m, s)
        s.proc.send_signal(signal.SIGSTOP)
        try:
            m.r.set("unacked", 1)
            assert m.r.execute_command("FAILOVER", "TO", "127.0.0.1", s.port, "TIMEOUT", 300, "FORCE") == b"OK"
            wait_until(lambda: m.info()["master_failover_state"] == "failover-in-progress",
                       what="forced failover in progress")
        finally:
            s.proc.send_signal(signal.SIGCONT)
        wait_until(lambda: s.info()["role"] == "master" and m.info().get("master_link_status") == "up",
                   what="roles swapped")
        assert m.info()["master_failover_state"] == "no-failover"
        settle(s, m)
        assert digest(m) == digest(s)
        assert m.r.get("acked") == b"1" and s.r.get("unacked") == b"1"
        assert "time out exceeded, failing over." in m.log()
    finally:
        stop(s, m)
