"""The commands and gates around replication, compared with redis-server 7.0.15 in the same
position: the read-only replica (READONLY for writes, write scripts and functions, EXEC of a
write transaction), the stale replica (MASTERDOWN, allow-stale scripts), min-replicas-to-write
(NOREPLICAS), WAIT, ROLE, INFO replication and CLIENT LIST of a master's and a replica's
connections."""

from __future__ import annotations

import socket

import pytest
import redis

from repl_env import caught_up, link_up, node, redis_node, settle, stop, wait_until

LIB = ("#!lua name=glib\n"
       "redis.register_function('fw', function(k, a) return redis.call('set', k[1], a[1]) end)\n"
       "redis.register_function{function_name='fro', callback=function(k, a) return redis.call('get', k[1]) end, "
       "flags={'no-writes'}}\n"
       "redis.register_function{function_name='fstale', callback=function(k, a) return 'stale ok' end, "
       "flags={'no-writes', 'allow-stale'}}\n"
       "redis.register_function{function_name='fbadro', callback=function(k, a) return redis.call('set', k[1], 1) "
       "end, flags={'no-writes'}}\n")

SCRIPTS = [
    "return redis.call('set', KEYS[1], 1)",
    "return redis.call('get', KEYS[1])",
    "#!lua\nreturn redis.call('set', KEYS[1], 1)",
    "#!lua\nreturn redis.call('get', KEYS[1])",
    "#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])",
    "#!lua flags=no-writes\nreturn redis.call('set', KEYS[1], 1)",
    "#!lua flags=no-writes,allow-stale\nreturn 'stale ok'",
    "#!lua flags=allow-stale\nreturn 'stale write flag'",
    "return redis.call('publish', 'ch', 'm')",
]


def _reply(r: redis.Redis, *args):
    try:
        return r.execute_command(*args)
    except redis.ResponseError as e:
        return ("err", str(e))


def _probe(r: redis.Redis) -> list:
    """The same requests on a replica of either kind."""
    out = []
    for args in (["SET", "k", "1"], ["GET", "k"], ["INCR", "n"], ["EXPIRE", "k", "10"], ["FLUSHALL"],
                 ["PUBLISH", "ch", "m"], ["WAIT", "0", "0"], ["FUNCTION", "LOAD", LIB.replace("glib", "other")],
                 ["FUNCTION", "DELETE", "glib"], ["SCRIPT", "LOAD", SCRIPTS[2]], ["DBSIZE"], ["INFO", "keyspace"],
                 ["FCALL", "fw", "1", "k", "v"], ["FCALL", "fro", "1", "k"], ["FCALL_RO", "fw", "1", "k", "v"],
                 ["FCALL", "fbadro", "1", "k"], ["FCALL", "fstale", "0"], ["FCALL", "nosuch", "0"]):
        out.append((args[0], _reply(r, *args)))
    for body in SCRIPTS:
        for cmd in ("EVAL", "EVAL_RO"):
            out.append((cmd, body, _reply(r, cmd, body, 1, "k")))
    for body in (SCRIPTS[2], SCRIPTS[1], SCRIPTS[6]):  # SCRIPT LOAD is allowed on a replica
        sha = r.script_load(body)
        out.append(("EVALSHA", body, _reply(r, "EVALSHA", sha, 1, "k")))
    out.append(("EVALSHA", _reply(r, "EVALSHA", "f" * 40, 1, "k")))
    for queued in (["SET", "k", "1"], ["GET", "k"], ["EVAL", SCRIPTS[2], "1", "k"], ["EVAL", SCRIPTS[4], "1", "k"]):
        p = r.pipeline(transaction=True)
        p.execute_command(*queued)
        try:
            out.append(("MULTI", queued[0], p.execute(raise_on_error=False)))
        except redis.ResponseError as e:
            out.append(("MULTI", queued[0], "err", str(e)))
    return out


def _normalise(items: list) -> list:
    # exceptions inside a pipeline's result compare by text
    return [tuple(str(x) if isinstance(x, Exception) else x for x in it) if isinstance(it, tuple) else it
            for it in items]


def test_read_only_replica_as_redis():
    """One redis-server master, a redis-server and a pyredis replica: every request answers
    the same on both replicas."""
    m = a = b = None
    try:
        m = redis_node()
        m.r.function_load(LIB)
        m.r.set("k", "v0")
        a = redis_node("--replicaof", "127.0.0.1", str(m.port))
        b = node("pyredis", replicaof=f"127.0.0.1 {m.port}")
        link_up(a, b)
        settle(m, a, b)
        ra, rb = _normalise(_probe(a.r)), _normalise(_probe(b.r))
        assert rb == ra
        assert ("SET", ("err", "You can't write against a read only replica.")) in ra
        settle(m, a, b)  # nothing was written on the replicas: still in step with their master
        assert b.r.get("k") == b"v0"
    finally:
        stop(b, a, m)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_stale_replica_as_redis():
    """replica-serve-stale-data no and a master that is down: MASTERDOWN for what has no
    `stale` flag; scripts and functions declaring allow-stale run."""
    nodes = []
    try:
        seen = {}
        dead = _free_port()
        for kind in ("redis", "pyredis"):
            n = node(kind, "--replica-serve-stale-data", "no", replica_serve_stale_data="no")
            nodes.append(n)
            n.r.function_load(LIB)
            n.r.set("k", "v0")
            n.r.replicaof("127.0.0.1", dead)
            wait_until(lambda n=n: n.info()["master_link_status"] == "down", what="a replica of nothing")
            seen[kind] = _normalise(_probe(n.r))
        assert seen["pyredis"] == seen["redis"]
        assert ("GET", ("err", "Link with MASTER is down and replica-serve-stale-data is set to 'no'.")) \
            in seen["redis"]
        assert ("FCALL", b"stale ok") in seen["redis"]
    finally:
        stop(*nodes)


@pytest.mark.parametrize("replica_kind", ["redis", "pyredis"])
def test_min_replicas_to_write_as_redis(replica_kind):
    """min-replicas-to-write 1: without a good replica writes (and write scripts) answer
    NOREPLICAS, as redis-server's; once a replica acknowledges they go through."""
    nodes = []
    try:
        seen = {}
        for kind in ("redis", "pyredis"):
            m = node(kind)
            nodes.append(m)
            m.r.function_load(LIB)
            m.r.config_set("min-replicas-to-write", 1)
            seen[kind] = _normalise(_probe(m.r))
        assert seen["pyredis"] == seen["redis"]
        assert ("SET", ("err", "NOREPLICAS Not enough good replicas to write.")) in seen["redis"]
        m = nodes[-1]
        s = node(replica_kind, "--replicaof", "127.0.0.1", str(m.port), replicaof=f"127.0.0.1 {m.port}")
        nodes.append(s)
        link_up(s)
        wait_until(lambda: m.info()["min_slaves_good_slaves"] == 1, what="a good replica")
        assert m.r.set("k", "after")
        settle(m, s)
        assert s.r.get("k") == b"after"
    finally:
        stop(*reversed(nodes))


def _shape(info: dict) -> dict:
    """INFO replication with the values that differ between runs (IDs, ports, offsets,
    timings) replaced by their types."""
    out = {}
    for k, v in info.items():
        if isinstance(v, dict):
            out[k] = {f: type(x).__name__ for f, x in v.items()}
            out[k]["state"] = v["state"]
        elif k in ("role", "master_link_status", "master_sync_in_progress", "connected_slaves", "slave_read_only",
                   "replica_announced", "master_failover_state", "repl_backlog_active", "repl_backlog_size",
                   "slave_priority", "second_repl_offset", "master_replid2", "repl_backlog_first_byte_offset"):
            out[k] = v
        else:
            out[k] = type(v).__name__
    return out


@pytest.mark.parametrize("master_kind,replica_kind", [("pyredis", "redis"), ("redis", "pyredis"),
                                                       ("pyredis", "pyredis")])
def test_info_role_wait_as_redis(master_kind, replica_kind):
    """INFO replication (field by field), ROLE, WAIT and CLIENT LIST TYPE on both ends of a
    link compare with a redis-server pair in the same state."""
    seen = {}
    for mk, sk in (("redis", "redis"), (master_kind, replica_kind)):
        m = s = None
        try:
            m = node(mk)
            s = node(sk, "--replicaof", "127.0.0.1", str(m.port), replicaof=f"127.0.0.1 {m.port}")
            link_up(s)
            m.r.set("k", "v")
            caught_up(m, s)
            # the replica's ACK (once a second) reaches the master (a PING may move the offset)
            wait_until(lambda: (lambda i: i["slave0"]["offset"] == i["master_repl_offset"])(m.info()),
                       what="the replica's ACK")
            im, i_s = m.info(), s.info()
            assert im["master_replid"] == i_s["master_replid"]
            assert im["slave0"]["port"] == s.port and i_s["master_port"] == m.port
            role_m, role_s = m.r.execute_command("ROLE"), s.r.execute_command("ROLE")
            assert role_m[0] == b"master" and role_m[2][0][:2] == [b"127.0.0.1", str(s.port).encode()]
            assert 0 < int(role_m[2][0][2]) <= role_m[1] and len(role_m) == 3 and len(role_m[2]) == 1
            assert role_s[:4] == [b"slave", b"127.0.0.1", m.port, b"connected"] and 0 < role_s[4] <= role_m[1]
            m.r.set("k2", "v")
            waited = (m.r.execute_command("WAIT", 1, 0), m.r.execute_command("WAIT", 2, 100),
                      m.r.execute_command("WAIT", 0, 0), _reply(m.r, "WAIT", 1, -1), _reply(m.r, "WAIT", "x", 0),
                      _reply(s.r, "WAIT", 1, 0))
            kinds = []
            for r, t in ((m.r, "replica"), (m.r, "master"), (s.r, "master"), (s.r, "replica"), (s.r, "normal")):
                lines = r.execute_command("CLIENT", "LIST", "TYPE", t).decode().splitlines()
                kinds.append((t, sorted(dict(f.split("=", 1) for f in ln.split(" "))["flags"] for ln in lines)))
            seen[(mk, sk)] = (_shape(im), _shape(i_s), waited, kinds, m.info("clients")["connected_clients"])
        finally:
            stop(s, m)
    ours, theirs = seen[(master_kind, replica_kind)], seen[("redis", "redis")]
    assert ours == theirs


@pytest.mark.parametrize("kind", ["redis", "pyredis"])
@pytest.mark.parametrize("stopped", [False, True])
def test_shutdown_waits_for_replicas(kind, stopped):
    """SHUTDOWN with a replica that has not acknowledged everything waits for it (up to
    shutdown-timeout): an alive replica ends with every write; a stopped one is reported
    lagging and the master exits anyway, as redis-server 7.0."""
    import signal

    m = s = None
    try:
        m = node(kind)
        m.r.config_set("shutdown-timeout", 2)
        s = redis_node("--replicaof", "127.0.0.1", str(m.port))
        link_up(s)
        settle(m, s)
        if stopped:
            s.proc.send_signal(signal.SIGSTOP)
        try:
            p = m.r.pipeline(transaction=False)
            for i in range(5000):
                p.set(f"k{i}", "x" * 100)
            p.execute()
            try:
                m.r.shutdown(nosave=True)
            except redis.ConnectionError:
                pass
        finally:
            if stopped:
                s.proc.send_signal(signal.SIGCONT)
        log = m.log()
        assert "Waiting for replicas before shutting down." in log
        if stopped:
            assert "Lagging replica" in log and "0 of 1 replicas are in sync when shutting down." in log
        else:
            assert "1 of 1 replicas are in sync when shutting down." in log
            assert s.r.dbsize() == 5001 and s.r.get("k4999") is not None  # (and __settle__)
    finally:
        stop(s, m)


def test_replicaof_in_config_get_and_rewrite(tmp_path):
    """REPLICAOF at run time shows in CONFIG GET replicaof/slaveof and CONFIG REWRITE writes
    the line; after REPLICAOF NO ONE the line goes, as redis-server."""
    import os
    import subprocess as sp

    import pyredis
    from conftest import REDIS_SERVER, free_port, stop_process

    m = redis_node()
    seen = {}
    try:
        for kind in ("redis", "pyredis"):
            conf = tmp_path / f"{kind}.conf"
            conf.write_text("# mine\nappendonly no\n")
            d = tmp_path / kind
            os.mkdir(d)
            if kind == "redis":
                port = free_port()
                proc = sp.Popen([REDIS_SERVER, str(conf), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(d),
                                 "--save", ""], stdout=sp.DEVNULL, stderr=sp.DEVNULL)
                r = redis.Redis(port=port)
                wait_until(lambda: r.ping(), what="redis-server up")
                stopper = lambda: stop_process(proc)  # noqa: E731
            else:
                srv = pyredis.Server(port=0, config_file=str(conf), dir=str(d))
                srv.start()
                r = redis.Redis(port=srv.port)
                stopper = srv.stop
            try:
                r.replicaof("127.0.0.1", m.port)
                got = [r.config_get("replicaof"), r.config_get("slaveof")]
                r.config_rewrite()
                got.append([ln for ln in conf.read_text().splitlines() if ln.startswith(("replicaof", "slaveof"))])
                r.replicaof("no", "one")
                got.append(r.config_get("replicaof"))
                r.config_rewrite()
                got.append([ln for ln in conf.read_text().splitlines() if ln.startswith(("replicaof", "slaveof"))])
                seen[kind] = got
            finally:
                r.close()
                stopper()
        assert seen["pyredis"] == seen["redis"]
        assert seen["redis"][2] == [f"replicaof 127.0.0.1 {m.port}"]
    finally:
        stop(m)


@pytest.mark.parametrize("kind", ["redis", "pyredis"])
def test_writable_replica_expires_its_own_keys(kind):
    """replica-read-only no: writes on the replica stay local (its sub-replica does not get
    them); a TTL it set itself is enforced by the replica (the key leaves DBSIZE), while a
    key with a TTL from the master waits for the master."""
    a = b = c = None
    try:
        a = redis_node()
        a.r.set("fromA", 1, ex=1000)
        b = node(kind, "--replicaof", "127.0.0.1", str(a.port), "--replica-read-only", "no",
                 replicaof=f"127.0.0.1 {a.port}", replica_read_only="no")
        c = redis_node("--replicaof", "127.0.0.1", str(b.port))
        link_up(b, c)
        b.r.set("local", 1)
        b.r.set("tmp", 1, px=50)
        assert b.info()["slave_read_only"] == 0
        settle(a, b, c)
        wait_until(lambda: b.r.dbsize() == 3, what="the replica's own key expired")  # fromA, local, __settle__
        assert b.r.ttl("fromA") > 900 and c.r.get("local") is None and c.r.get("fromA") == b"1"
    finally:
        stop(c, b, a)


def _read_line(sock) -> bytes:
    buf = b""
    while not buf.endswith(b"\r\n"):
        ch = sock.recv(1)
        if not ch:
            raise ConnectionError("closed")
        buf += ch
    return buf[:-2]


@pytest.mark.parametrize("kind", ["redis", "pyredis"])
def test_old_style_sync_and_psync_without_capa(kind):
    """A pre-PSYNC replica (SYNC) gets "$<size>" and an RDB file (never the EOF-marked
    form, even with repl-diskless-sync: it did not say capa eof) and then the stream; a
    replica without capa psync2 gets "+CONTINUE" without the replication ID."""
    m = None
    try:
        m = node(kind, "--repl-diskless-sync", "yes", repl_diskless_sync="yes")
        m.r.set("k", "v")
        with socket.create_connection(("127.0.0.1", m.port), timeout=20) as s:
            s.sendall(b"REPLCONF listening-port 1\r\n")
            assert _read_line(s) == b"+OK"
            s.sendall(b"SYNC\r\n")
            line = _read_line(s)
            while not line:  # newlines while the RDB is produced
                line = _read_line(s)
            assert line.startswith(b"$") and not line.startswith(b"$EOF:")
            size = int(line[1:])
            data = b""
            while len(data) < size:
                data += s.recv(size - len(data))
            assert data.startswith(b"REDIS00") and b"k" in data
            m.r.set("after", "sync")
            stream = b""
            while b"after" not in stream:
                stream += s.recv(4096)
            assert b"SET" in stream.upper()
        replid = m.info()["master_replid"]
        offset = m.info()["master_repl_offset"]
        with socket.create_connection(("127.0.0.1", m.port), timeout=20) as s:
            s.sendall(b"REPLCONF listening-port 2\r\n")
            assert _read_line(s) == b"+OK"
            s.sendall(b"PSYNC %s %d\r\n" % (replid.encode(), offset + 1))
            assert _read_line(s) == b"+CONTINUE"
    finally:
        stop(m)
