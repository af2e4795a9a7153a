"""Faults on the replication link, the same scripted master against a redis-server 7.0.15
replica and a pyredis replica: an RDB transfer cut short (sized and EOF-marked), a garbage
RDB, a master that answers PSYNC with an error. Both replicas must end in the same state
(never a half-loaded dataset: the old data or, where Redis empties it, nothing), log the
failure and reconnect (the scripted master sees a second PSYNC). A complete transfer from
the same script shows that it can succeed."""

from __future__ import annotations

import os
import socket
import threading

import pytest

from repl_env import node, redis_node, stop, wait_until

REPLID = "a" * 40


def _rdb() -> bytes:
    """A real RDB written by redis-server: 50 strings and a hash."""
    n = redis_node()
    try:
        n.r.mset({f"rdb{i}": i for i in range(50)})
        n.r.hset("rdbh", mapping={"a": 1, "b": 2})
        n.r.save()
        with open(os.path.join(n.dir, "dump.rdb"), "rb") as f:
            return f.read()
    finally:
        stop(n)


class FakeMaster:
    """A listening socket that answers the replica handshake and then plays `scenario`
    (a function of the connection) on each PSYNC; counts the PSYNCs it saw."""

    def __init__(self, scenario) -> None:
        self.scenario = scenario
        self.psyncs: list[list[bytes]] = []
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.closed = False
        self.conns: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        f = conn.makefile("rb")
        try:
            while True:
                argv = _read_command(f)
                if argv is None:
                    return
                name = argv[0].lower()
                if name == b"ping":
                    conn.sendall(b"+PONG\r\n")
                elif name in (b"replconf", b"auth"):
                    if argv[1].lower() != b"ack":
                        conn.sendall(b"+OK\r\n")
                elif name in (b"psync", b"sync"):
                    self.psyncs.append(argv)
                    self.scenario(conn)
                    return
                else:
                    conn.sendall(b"-ERR unknown\r\n")
        except OSError:
            return
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def close(self) -> None:
        self.closed = True
        self.sock.close()
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass


def _read_command(f) -> list[bytes] | None:
    line = f.readline()
    if not line:
        return None
    if not line.startswith(b"*"):
        return line.split()
    argv = []
    for _ in range(int(line[1:])):
        n = int(f.readline()[1:])
        argv.append(f.read(n + 2)[:-2])
    return argv


def _sized(payload: bytes, cut: int | None):
    def play(conn: socket.socket) -> None:
        conn.sendall(b"+FULLRESYNC %s 100\r\n$%d\r\n" % (REPLID.encode(), len(payload)))
        conn.sendall(payload if cut is None else payload[:cut])
        if cut is None:
            _hold(conn)
    return play


def _eof_marked(payload: bytes, complete: bool):
    mark = b"m" * 40

    def play(conn: socket.socket) -> None:
        conn.sendall(b"+FULLRESYNC %s 100\r\n$EOF:%s\r\n" % (REPLID.encode(), mark))
        conn.sendall(payload + mark if complete else payload[: len(payload) // 2])
        if complete:
            _hold(conn)
    return play


def _hold(conn: socket.socket) -> None:
    """Keep a successful link open (reading the ACKs) until the test closes it."""
    try:
        while conn.recv(4096):
            pass
    except OSError:
        pass


def _error(conn: socket.socket) -> None:
    conn.sendall(b"-ERR something went wrong\r\n")


def _run(kind: str, scenario, load: str) -> tuple:
    fm = FakeMaster(scenario)
    n = None
    try:
        n = node(kind, "--repl-diskless-load", load, repl_diskless_load=load)
        n.r.mset({"old1": 1, "old2": 2})
        n.r.replicaof("127.0.0.1", fm.port)
        wait_until(lambda: len(fm.psyncs) >= 2 or n.info()["master_link_status"] == "up", timeout=30,
                   what="a second PSYNC or the link up")
        up = n.info()["master_link_status"] == "up"
        state = (up, n.r.dbsize(), n.r.get("old1"), n.r.get("rdb7"), n.r.hgetall("rdbh"))
        # the retry: PSYNC ? -1 once a FULLRESYNC discarded the cached master
        retry = [(p[1] == b"?", p[1] == fm.psyncs[0][1]) for p in fm.psyncs[1:2]]
        return state + (retry,), n.log(), len(fm.psyncs)
    finally:
        fm.close()
        stop(n)


CASES = {
    "sized-complete": lambda rdb: _sized(rdb, None),
    "sized-cut": lambda rdb: _sized(rdb, len(rdb) // 2),
    "eof-complete": lambda rdb: _eof_marked(rdb, True),
    "eof-cut": lambda rdb: _eof_marked(rdb, False),
    "psync-error": lambda rdb: _error,
}


@pytest.fixture(scope="module")
def rdb() -> bytes:
    return _rdb()


GARBAGE = b"REDIS0010" + b"\xfe" * 40 + b"garbage" * 10


@pytest.mark.parametrize("load", ["disabled", "swapdb"])
def test_garbage_rdb(load):
    """A transfer of the announced size that is no RDB. redis-server exits on a corrupt RDB
    (rdbReportCorruptRDB); pyredis keeps serving: loading from disk it had flushed the old
    data first (as Redis), swapdb keeps it; either way it reconnects."""
    (up, dbsize, old1, *_), log, psyncs = _run("pyredis", _sized(GARBAGE, None), load)
    assert not up and psyncs >= 2
    where = "disk" if load == "disabled" else "socket"
    assert f"Failed trying to load the MASTER synchronization DB from {where}" in log
    assert (dbsize, old1) == ((0, None) if load == "disabled" else (2, b"1"))


@pytest.mark.parametrize("load", ["disabled", "swapdb"])
@pytest.mark.parametrize("case", list(CASES))
def test_link_fault_as_redis(rdb, case, load):
    theirs, their_log, _ = _run("redis", CASES[case](rdb), load)
    ours, our_log, _ = _run("pyredis", CASES[case](rdb), load)
    assert ours == theirs
    if case.endswith("complete"):
        assert theirs[0] and theirs[1] == 51 and theirs[2] is None
        assert "MASTER <-> REPLICA sync: Finished with success" in our_log
    else:
        assert not theirs[0]


@pytest.mark.parametrize("master_kind", ["redis", "pyredis"])
def test_replica_that_stops_reading_is_dropped_and_resyncs(master_kind):
    """client-output-buffer-limit replica 1mb: a stopped replica's stream piles up past the
    limit, the master drops it (Redis's log line), and once it runs again it resyncs (in
    full: the backlog is smaller than what it missed) to the master's data."""
    import signal

    from repl_env import digest, link_up, settle

    m = s = None
    try:
        m = node(master_kind)
        m.r.config_set("client-output-buffer-limit", "replica 1mb 0 0")
        s = node("redis", "--replicaof", "127.0.0.1", str(m.port))
        link_up(s)
        settle(m, s)
        s.proc.send_signal(signal.SIGSTOP)
        try:
            for i in range(40):
                m.r.set(f"big{i}", "x" * 1_000_000)
            wait_until(lambda: m.info()["connected_slaves"] == 0, what="the replica dropped")
        finally:
            s.proc.send_signal(signal.SIGCONT)
        assert "scheduled to be closed ASAP for overcoming of output buffer limits" in m.log()
        wait_until(lambda: m.info("stats")["sync_full"] == 2, timeout=60, what="a full resync")
        link_up(s)
        settle(m, s)
        assert digest(m) == digest(s)
    finally:
        stop(s, m)


@pytest.mark.parametrize("diskless", ["yes", "no"])
def test_replica_killed_mid_transfer(diskless):
    """A redis-server replica that loads slowly (key-load-delay) is killed while a pyredis
    master sends it the RDB: the master drops it (diskless: and stops the child), and a new
    replica then syncs in full to the same data."""
    import signal

    from repl_env import digest, link_up, mixed_load, settle

    m = s = s2 = None
    try:
        m = node("pyredis", repl_diskless_sync=diskless)
        m.r.execute_command("DEBUG", "POPULATE", 200_000, "k", 100)
        mixed_load(m.r, "a:")
        # 200 us a key: the load (from the socket) takes 40 s, the kill comes once it started
        s = redis_node("--replicaof", "127.0.0.1", str(m.port), "--key-load-delay", "200",
                       "--repl-diskless-load", "on-empty-db")
        started = "Background RDB transfer started by pid" if diskless == "yes" else "Starting BGSAVE for SYNC"
        wait_until(lambda: started in m.log() and "Loading DB in memory" in s.log(), timeout=60,
                   what="the transfer under way")
        s.proc.send_signal(signal.SIGKILL)
        s.proc.wait()
        wait_until(lambda: m.info()["connected_slaves"] == 0, timeout=60, what="the replica dropped")
        if diskless == "yes":
            wait_until(lambda: "last replica dropped, killing fork child" in m.log(), timeout=60,
                       what="the child stopped")
        wait_until(lambda: m.info("persistence")["rdb_bgsave_in_progress"] == 0, timeout=60, what="no child left")
        s2 = redis_node("--replicaof", "127.0.0.1", str(m.port))
        link_up(s2, timeout=120)
        settle(m, s2)
        assert digest(m) == digest(s2)
    finally:
        stop(s2, s, m)
