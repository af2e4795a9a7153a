"""MIGRATE against redis-server 7.0.15, in every direction.

Two sources (a pyredis and a redis-server) hold the same keys and run the same MIGRATE
towards the same target, the pyredis source into database 1 and the redis-server source into
database 2 of it; the target is a redis-server or a pyredis. Replies must be equal, the keys
left on each source equal, and the two target databases must hold the same values (DUMP)
with the same TTLs (within the test's running time). So pyredis -> redis-server,
redis-server -> pyredis and pyredis -> pyredis are each checked against redis-server ->
the same target.
"""

from __future__ import annotations

import socket
import time

import pytest

import pyredis
from conftest import RealRedis
from effects import Effects
from resp import RawClient

DBS = {"ours": 1, "theirs": 2}


@pytest.fixture(scope="module")
def sources():
    real = RealRedis()
    ours = pyredis.Server(port=0, enable_debug_command="yes").start()
    try:
        yield ours, real
    finally:
        ours.stop()
        real.stop()


@pytest.fixture(scope="module", params=["redis-target", "pyredis-target"])
def target(request):
    if request.param == "redis-target":
        srv = RealRedis()
        yield srv.port
        srv.stop()
    else:
        srv = pyredis.Server(port=0).start()
        yield srv.port
        srv.stop()


class Pair:
    """The two sources and the target, with MIGRATE run from both."""

    def __init__(self, sources, target_port: int) -> None:
        self.ours_srv = sources[0]
        self.ours = RawClient("127.0.0.1", sources[0].port)
        self.theirs = RawClient("127.0.0.1", sources[1].port)
        self.target_port = target_port
        self.target = RawClient("127.0.0.1", target_port)
        for c in (self.ours, self.theirs):
            c.call("FLUSHALL")
        for db in DBS.values():
            self.target.call("SELECT", db)
            self.target.call("FLUSHDB")

    def close(self) -> None:
        for c in (self.ours, self.theirs, self.target):
            c.close()

    def sources(self):
        return (("ours", self.ours), ("theirs", self.theirs))

    def setup(self, *cmd) -> None:
        for _, c in self.sources():
            assert not isinstance(c.call(*cmd), Exception)

    def on_target(self, *cmd):
        """The same command on both target databases: (ours-db reply, theirs-db reply)."""
        out = []
        for db in DBS.values():
            self.target.call("SELECT", db)
            out.append(self.target.call(*cmd))
        return tuple(out)

    def migrate(self, key, *options, port: int | None = None, timeout: int = 5000):
        replies = []
        for name, c in self.sources():
            replies.append(c.call("MIGRATE", "127.0.0.1", port or self.target_port, key, DBS[name], timeout,
                                  *options))
        assert replies[0] == replies[1], replies
        return replies[0]

    def _content(self, key, db: int = DBS["ours"]):
        """A key's value on the target: DUMP, except for hash-table sets (their order is the
        hash table's) which compare as sorted members; with the encoding."""
        t = self.target
        t.call("SELECT", db)
        kind = t.call("TYPE", key)
        enc = t.call("OBJECT", "ENCODING", key)
        if kind == b"set" and enc == b"hashtable":
            return kind, enc, sorted(t.call("SMEMBERS", key))
        return kind, enc, t.call("DUMP", key)

    def check_keys(self, keys) -> None:
        for k in keys:
            a, b = self.ours.call("DUMP", k), self.theirs.call("DUMP", k)
            assert a == b, ("source", k)
            assert self._content(k) == [self._content(k, db) for db in DBS.values()][1], ("target", k)
            t1, t2 = self.on_target("PTTL", k)
            assert (t1 < 0 and t1 == t2) or abs(t1 - t2) < 3000, ("ttl", k, t1, t2)


@pytest.fixture
def pair(sources, target):
    p = Pair(sources, target)
    yield p
    p.close()


_DATA = [
    ("SET", "str", "hello"), ("SET", "int", "12345"), ("SET", "big", "x" * 70000),
    ("RPUSH", "list", "a", "b", "c", "1"), ("SADD", "intset", "1", "2", "3"), ("SADD", "set", "a", "b"),
    ("ZADD", "zset", "1", "a", "2.5", "b"), ("HSET", "hash", "f", "v", "g", "1"),
    ("XADD", "stream", "1-1", "f", "v"), ("XGROUP", "CREATE", "stream", "g", "0"),
    ("PFADD", "hll", "a", "b", "c"),
    ("SET", "ttl", "v", "PX", "100000"), ("RPUSH", "ttllist", "x"), ("PEXPIRE", "ttllist", "50000"),
]
_KEYS = ["str", "int", "big", "list", "intset", "set", "zset", "hash", "stream", "hll", "ttl", "ttllist"]


def test_migrate_every_type_with_ttls(pair):
    for cmd in _DATA:
        pair.setup(*cmd)
    for k in _KEYS:
        assert pair.migrate(k) == b"OK"
    pair.check_keys(_KEYS)
    assert pair.ours.call("DBSIZE") == pair.theirs.call("DBSIZE") == 0
    assert pair.migrate("str") == b"NOKEY"


def test_migrate_copy_replace_busykey_and_keys(pair):
    for cmd in _DATA:
        pair.setup(*cmd)
    assert pair.migrate("str", "COPY") == b"OK"
    assert pair.migrate("str", "COPY").startswith(b"ERR Target instance replied with error: BUSYKEY")
    pair.setup("SET", "str", "changed")
    assert pair.migrate("str", "COPY", "REPLACE") == b"OK"
    pair.check_keys(["str"])
    # KEYS: some keys already on the target (BUSYKEY), missing keys skipped, the rest moved.
    pair.migrate("", "COPY", "KEYS", "list", "hash")
    reply = pair.migrate("", "KEYS", "nosuch", "set", "list", "zset", "hash", "stream")
    assert reply.startswith(b"ERR Target instance replied with error: BUSYKEY")
    pair.check_keys(["set", "list", "zset", "hash", "stream"])
    assert pair.migrate("", "REPLACE", "KEYS", "list", "hash", "nosuch") == b"OK"
    pair.check_keys(["list", "hash"])
    assert pair.migrate("", "KEYS", "nosuch", "other") == b"NOKEY"
    assert pair.migrate("", "COPY", "KEYS", "int", "int").startswith(b"ERR Target instance replied with error")
    pair.check_keys(["int"])
    # Arguments.
    for args in [("str", "FOO"), ("str", "AUTH"), ("str", "AUTH2", "u"), ("str", "KEYS", "a"), ("", "KEYS")]:
        pair.migrate(*args)
    for args in [("MIGRATE", "h", "1", "k", "0"), ("MIGRATE", "127.0.0.1", "1", "k", "x", "y"),
                 ("MIGRATE", "127.0.0.1", "1", "k", "x", "0"), ("MIGRATE", "127.0.0.1", "1", "k", "0", "x")]:
        assert pair.ours.call(*args) == pair.theirs.call(*args), args


def test_migrate_dirty_and_keyspace_as_redis(pair):
    def changes(c):
        info = c.call("INFO", "persistence")
        return int(info.split(b"rdb_changes_since_last_save:")[1].split(b"\r\n")[0])

    for cmd in _DATA:
        pair.setup(*cmd)
    for options in [("COPY",), (), ("REPLACE", "KEYS", "list", "hash", "zset")]:
        key = "" if "KEYS" in options else "str"
        before = [changes(c) for _, c in pair.sources()]
        pair.migrate(key, *options)
        after = [changes(c) for _, c in pair.sources()]
        assert after[0] - before[0] == after[1] - before[1], options
    assert pair.ours.call("DBSIZE") == pair.theirs.call("DBSIZE")


@pytest.fixture(scope="module", params=["redis-target", "pyredis-target"])
def auth_target(request):
    if request.param == "redis-target":
        srv = RealRedis("--requirepass", "s3cret")
        yield srv.port
        srv.stop()
    else:
        srv = pyredis.Server(port=0, requirepass="s3cret").start()
        yield srv.port
        srv.stop()


def test_migrate_auth_and_auth2(sources, auth_target):
    p = Pair.__new__(Pair)
    p.ours = RawClient("127.0.0.1", sources[0].port)
    p.theirs = RawClient("127.0.0.1", sources[1].port)
    p.target_port = auth_target
    p.target = RawClient("127.0.0.1", auth_target)
    try:
        assert p.target.call("AUTH", "s3cret") == b"OK"
        for db in DBS.values():
            p.target.call("SELECT", db)
            p.target.call("FLUSHDB")
        for c in (p.ours, p.theirs):
            c.call("FLUSHALL")
        p.setup("SET", "k", "v")
        p.setup("SET", "k2", "v2")
        assert p.migrate("k").startswith(b"ERR Target instance replied with error: NOAUTH")
        assert p.migrate("k", "AUTH", "wrong").startswith(b"ERR Target instance replied with error: WRONGPASS")
        assert p.migrate("k", "AUTH2", "default", "wrong").startswith(b"ERR Target instance replied with error")
        assert p.migrate("k", "AUTH2", "nosuchuser", "s3cret").startswith(b"ERR Target instance replied with error")
        assert p.migrate("k", "AUTH", "s3cret") == b"OK"
        assert p.migrate("k2", "COPY", "AUTH2", "default", "s3cret") == b"OK"
        p.check_keys(["k", "k2"])
    finally:
        p.close()


def test_migrate_connection_errors_and_timeouts(pair):
    pair.setup("SET", "k", "v")
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    # The connect is non-blocking in Redis: a refused connection shows when writing (after a retry).
    assert pair.migrate("k", port=port, timeout=500) == b"IOERR error or timeout writing to target instance"
    for name, c in pair.sources():  # no address at all: the connect itself fails
        assert c.call("MIGRATE", "", port, "k", 0, 500) == b"IOERR error or timeout connecting to the client"
    silent = socket.create_server(("127.0.0.1", 0))  # accepts (backlog), never answers
    try:
        t0 = time.time()
        reply = pair.migrate("k", port=silent.getsockname()[1], timeout=200)
        assert reply == b"IOERR error or timeout reading to target instance"
        assert time.time() - t0 < 5
    finally:
        silent.close()
    assert pair.migrate("k", port=pair.target_port) == b"OK"  # the key is still there
    pair.check_keys(["k"])


def test_migrate_caches_the_connection_and_retries_a_dropped_one(pair):
    def cached(c):
        info = c.call("INFO", "stats")
        return int(info.split(b"migrate_cached_sockets:")[1].split(b"\r\n")[0])

    for i in range(4):
        pair.setup("SET", f"k{i}", "v")
    before = [cached(c) for _, c in pair.sources()]
    assert pair.migrate("k0") == b"OK"
    assert pair.migrate("k1") == b"OK"
    after = [cached(c) for _, c in pair.sources()]
    assert after[0] - before[0] == after[1] - before[1] and after[0] >= 1
    conns = [x for x in pair.target.call("CLIENT", "LIST").split(b"\n") if b"cmd=restore" in x]
    assert len(conns) == 2  # one connection from each source, reused
    # The target drops the cached connections: the next MIGRATE retries on a new one.
    for line in conns:
        addr = line.split(b"addr=")[1].split(b" ")[0]
        pair.target.call("CLIENT", "KILL", addr)
    assert pair.migrate("k2") == b"OK"
    pair.check_keys(["k0", "k1", "k2"])
    # Unused for more than 10 s: the cron closes it (pyredis's clock is moved forward).
    ours = pair.ours
    assert ours.call("DEBUG", "CLOCK", "ADVANCE", "12000") == b"OK"
    try:
        deadline = time.time() + 5
        while cached(ours) and time.time() < deadline:
            time.sleep(0.05)
        assert cached(ours) == 0
    finally:
        ours.call("DEBUG", "CLOCK", "RESET")


def test_migrate_propagates_del_of_the_moved_keys(pair):
    state = pair.ours_srv.state
    for cmd in _DATA:
        pair.setup(*cmd)
    pair.migrate("", "COPY", "KEYS", "set")
    port = pair.target_port
    with Effects(state, argv_only=True) as log:
        assert pair.ours.call("MIGRATE", "127.0.0.1", port, "str", 1, 5000, "COPY") == b"OK"
        assert pair.ours.call("MIGRATE", "127.0.0.1", port, "str", 1, 5000) == b"ERR Target instance replied " \
            b"with error: BUSYKEY Target key name already exists."
        assert pair.ours.call("MIGRATE", "127.0.0.1", port, "", 1, 5000, "KEYS", "list", "set", "zset").startswith(
            b"ERR Target instance replied with error: BUSYKEY")
        assert pair.ours.call("MIGRATE", "127.0.0.1", port, "int", 1, 5000, "REPLACE") == b"OK"
    assert log == [[b"DEL", b"list", b"zset"], [b"DEL", b"int"]]
