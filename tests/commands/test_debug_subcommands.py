"""DEBUG RELOAD, LOADAOF, REPLYBUFFER and the other DEBUG subcommands Redis's own test suite
relies on, against redis-server 7.0.15 (each side on its own server and data folder)."""

from __future__ import annotations

import signal
import time

import pytest

import pyredis
from conftest import RealRedis
from resp import RawClient

LIB = "#!lua name=mylib\nredis.register_function('f', function() return 1 end)"
LIB2 = "#!lua name=mylib\nredis.register_function('f', function() return 2 end)"


class Both:
    def __init__(self, tmp_path, **config) -> None:
        (tmp_path / "ours").mkdir()
        (tmp_path / "theirs").mkdir()
        extra = []
        for k, v in config.items():
            extra += [f"--{k.replace('_', '-')}", v]
        self.ours = pyredis.Server(port=0, enable_debug_command="yes", dir=str(tmp_path / "ours"), **config).start()
        try:
            self.theirs = RealRedis(*extra, dir=str(tmp_path / "theirs"))
        except BaseException:
            self.ours.stop()
            raise
        self.a = RawClient("127.0.0.1", self.ours.port)
        self.b = RawClient("127.0.0.1", self.theirs.port)

    def check(self, *args):
        x, y = self.a.call(*args), self.b.call(*args)
        assert x == y, (args, x, y)
        return x

    def both(self, *args):
        return self.a.call(*args), self.b.call(*args)

    def close(self) -> None:
        self.a.close()
        self.b.close()
        self.ours.stop()
        self.theirs.stop()


@pytest.fixture
def both(tmp_path):
    b = Both(tmp_path)
    yield b
    b.close()


def _dataset(b: Both):
    b.check("DBSIZE")
    b.check("DEBUG", "DIGEST")
    b.check("FUNCTION", "LIST")


def test_debug_reload_saves_flushes_and_loads(both):
    both.check("SET", "k", "v")
    both.check("HSET", "h", "f", "1")
    both.check("SET", "e", "x", "PX", "100000")
    both.check("SET", "gone", "x", "PX", "300")
    both.check("SELECT", "3")
    both.check("RPUSH", "l", "a", "b")
    both.check("SELECT", "0")
    both.check("FUNCTION", "LOAD", LIB)
    assert both.check("DEBUG", "RELOAD") == b"OK"
    _dataset(both)
    time.sleep(0.4)
    assert both.check("DEBUG", "RELOAD") == b"OK"  # the expired key is not loaded back
    _dataset(both)
    both.check("EXISTS", "gone")
    both.check("FCALL", "f", "0")


def test_debug_reload_options(both):
    both.check("DEBUG", "RELOAD", "FOO")
    both.check("DEBUG", "RELOAD", "NOSAVE")  # no dump.rdb yet
    both.check("SET", "k", "saved")
    both.check("FUNCTION", "LOAD", LIB)
    both.check("DEBUG", "RELOAD")
    both.check("SET", "k", "changed")
    both.check("SET", "extra", "1")
    both.check("DEBUG", "RELOAD", "NOSAVE")  # the file's dataset replaces the current one
    _dataset(both)
    both.check("GET", "k")
    both.check("SET", "k", "changed")
    both.check("SET", "extra", "1")
    both.check("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH")  # the library exists: the load fails
    both.check("DEBUG", "RELOAD", "nosave", "noflush", "merge")  # the file's values win
    _dataset(both)
    both.check("GET", "k")
    both.check("GET", "extra")
    both.check("FUNCTION", "LOAD", "REPLACE", LIB2)
    both.check("DEBUG", "RELOAD", "NOFLUSH", "MERGE")
    both.check("FCALL", "f", "0")
    _dataset(both)


def test_debug_reload_duplicate_key_without_merge_panics(tmp_path):
    from test_process_directives import Pair

    with Pair(tmp_path, "--use-exit-on-panic", "yes") as p:
        p.same("SET", "k", "v")
        p.same("DEBUG", "RELOAD")
        for port in p.ports:
            c = RawClient("127.0.0.1", port)
            try:
                c.call("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH")
            except ConnectionError:
                pass
            c.close()
        assert [s.proc.wait(20) for s in p.servers] == [1, 1]
        for s in p.servers:
            assert "RDB has duplicated key 'k' in DB 0" in s.output()
            assert "Guru Meditation: Duplicated key found in RDB file" in s.output()


def test_debug_loadaof(tmp_path):
    b = Both(tmp_path, appendonly="yes")
    try:
        b.check("SET", "k", "v")
        b.check("INCR", "n")
        b.check("SELECT", "2")
        b.check("SADD", "s", "a", "b")
        b.check("SELECT", "0")
        b.check("FUNCTION", "LOAD", LIB)
        assert b.check("DEBUG", "LOADAOF") == b"OK"
        _dataset(b)
        b.check("DEBUG", "LOADAOF")  # loading fed nothing back into the AOF
        _dataset(b)
        b.check("BGREWRITEAOF")
        time.sleep(1)
        b.check("INCR", "n")
        b.check("DEBUG", "LOADAOF")
        _dataset(b)
        b.check("GET", "n")
    finally:
        b.close()


def test_debug_loadaof_without_an_aof_exits(tmp_path):
    from test_process_directives import Pair

    with Pair(tmp_path) as p:
        for port in p.ports:
            c = RawClient("127.0.0.1", port)
            try:
                c.call("DEBUG", "LOADAOF", "extra")  # (arguments after it are ignored)
            except ConnectionError:
                pass
            c.close()
        assert [s.proc.wait(20) for s in p.servers] == [1, 1]


def test_debug_replybuffer_arguments(both):
    for args in (("foo", "1"), ("peak-reset-time", "abc"), ("peak-reset-time", "-5"), ("PEAK-RESET-TIME", "NEVER"),
                 ("peak-reset-time", "reset"), ("resizing", "0"), ("resizing", "x"), ("resizing", "1"),
                 ("peak-reset-time",), ("resizing", "1", "2")):
        both.check("DEBUG", "REPLYBUFFER", *args)


def _rbs(c: RawClient, name: bytes) -> tuple[int, int]:
    line = next(ln for ln in c.call("CLIENT", "LIST").split(b"\n") if b"name=" + name + b" " in ln)
    f = dict(kv.split(b"=", 1) for kv in line.split() if b"=" in kv)
    return int(f[b"rbs"]), int(f[b"rbp"])


def test_reply_buffer_shrinks_and_grows_as_redis(both):
    """Redis's replybufsize.tcl: an idle client's 16 KB reply buffer shrinks once its peak is
    reset; a busy one grows back, up to 16 KB."""
    both.check("DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "100")
    clients = []
    for port in (both.ours.port, both.theirs.port):
        c = RawClient("127.0.0.1", port)
        c.call("CLIENT", "SETNAME", "test_client")
        clients.append(c)
    try:
        assert [_rbs(x, b"test_client")[0] for x in (both.a, both.b)] == [16384, 16384]
        deadline = time.time() + 5
        while time.time() < deadline:
            sizes = [_rbs(x, b"test_client")[0] for x in (both.a, both.b)]
            if all(1024 <= s < 2046 for s in sizes):
                break
            time.sleep(0.1)
        assert all(1024 <= s < 2046 for s in sizes), sizes
        both.check("SET", "bigval", "x" * 32768)
        both.check("DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "NEVER")
        deadline = time.time() + 8
        while time.time() < deadline:
            for c in clients:
                c.call("GET", "bigval")
            sizes = [_rbs(x, b"test_client")[0] for x in (both.a, both.b)]
            if all(16384 <= s < 32768 for s in sizes):
                break
            time.sleep(0.1)
        assert all(16384 <= s < 32768 for s in sizes), sizes
        both.check("DEBUG", "REPLYBUFFER", "RESIZING", "0")
        both.check("DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "RESET")
    finally:
        for c in clients:
            c.close()


def test_debug_pause_cron_stops_active_expiry(both):
    both.check("DEBUG", "PAUSE-CRON", "1")
    both.check("SET", "k", "v", "PX", "50")
    time.sleep(0.6)
    assert both.check("DBSIZE") == 1  # nobody expired it
    both.check("DEBUG", "PAUSE-CRON", "0")
    time.sleep(0.6)
    assert both.check("DBSIZE") == 0


def test_debug_aof_flush_sleep_delays_the_write(tmp_path):
    b = Both(tmp_path, appendonly="yes")
    try:
        b.check("DEBUG", "AOF-FLUSH-SLEEP", "300000")
        for c in (b.a, b.b):
            t = time.time()
            assert c.call("SET", "k", "v") == b"OK"
            assert time.time() - t >= 0.25
        b.check("DEBUG", "AOF-FLUSH-SLEEP", "0")
    finally:
        b.close()


def test_debug_set_skip_checksum_validation(both):
    both.check("SET", "k", "hello")
    payload = both.a.call("DUMP", "k")
    assert payload == both.b.call("DUMP", "k")
    bad = payload[:-1] + bytes([payload[-1] ^ 0xFF])
    both.check("RESTORE", "k2", "0", bad)
    both.check("DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "1")
    both.check("RESTORE", "k2", "0", bad)
    both.check("GET", "k2")
    both.check("DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "0")
    both.check("RESTORE", "k3", "0", bad)


def test_debug_set_disable_deny_scripts(both):
    script = "return redis.call('debug', 'sleep', '0')"
    both.check("EVAL", script, "0")
    both.check("DEBUG", "SET-DISABLE-DENY-SCRIPTS", "1")
    both.check("EVAL", script, "0")
    both.check("DEBUG", "SET-DISABLE-DENY-SCRIPTS", "0")
    both.check("EVAL", script, "0")


def test_debug_small_subcommands(both):
    for args in (("HSET", "h", "f", "v"), ("RPUSH", "l", "x"), ("SADD", "s", "1"), ("SET", "str", "v")):
        both.check(*args)
    for args in (("LISTPACK", "h"), ("LISTPACK", "l"), ("LISTPACK", "s"), ("LISTPACK", "str"), ("LISTPACK", "nokey"),
                 ("LISTPACK",), ("MALLCTL", "x"), ("MALLCTL", "x", "y"), ("MALLCTL", "x", "1", "2"), ("MALLCTL",),
                 ("MALLCTL-STR", "x", "y"), ("MALLCTL-STR",)):
        both.check("DEBUG", *args)
    for args in (("QUICKLIST-PACKED-THRESHOLD", "1k"), ("QUICKLIST-PACKED-THRESHOLD", "5gb"),
                 ("QUICKLIST-PACKED-THRESHOLD", "abc"), ("QUICKLIST-PACKED-THRESHOLD", "-1"),
                 ("QUICKLIST-PACKED-THRESHOLD", "0"), ("CONFIG-REWRITE-FORCE-ALL",), ("STRUCTSIZE",),
                 ("STRUCTSIZE", "x"), ("LEAK", "x"), ("LEAK",), ("REPLICATE", "set", "a", "b"),
                 ("DROP-CLUSTER-PACKET-FILTER", "x"), ("DROP-CLUSTER-PACKET-FILTER", "-1"),
                 ("CLUSTERLINK", "KILL", "to", "abc"), ("PAUSE-CRON", "x", "y"), ("SET-SKIP-CHECKSUM-VALIDATION",),
                 ("AOF-FLUSH-SLEEP",), ("STRINGMATCH-TEST",)):
        both.check("DEBUG", *args)


def test_debug_config_rewrite_force_all_writes_every_directive(tmp_path):
    from pyredis.config import Config

    conf = tmp_path / "redis.conf"
    conf.write_text("hz 15\n")
    with pyredis.Server(port=0, enable_debug_command="yes", config_file=str(conf), dir=str(tmp_path)) as s:
        c = RawClient("127.0.0.1", s.port)
        assert c.call("DEBUG", "CONFIG-REWRITE-FORCE-ALL") == b"OK"
        c.close()
    text = conf.read_text()
    assert "hz 15" in text and "\nmaxmemory-policy noeviction" in text and "\ndatabases 16" in text
    Config().load_file(str(conf))  # and it reads back


def test_debug_oom_and_assert_crash(tmp_path):
    from test_process_directives import Pair

    for sub in (b"OOM", b"ASSERT"):
        with Pair(tmp_path, tag=sub.decode()) as p:
            for port in p.ports:
                c = RawClient("127.0.0.1", port)
                try:
                    c.call("DEBUG", sub)
                except ConnectionError:
                    pass
                c.close()
            assert [s.proc.wait(20) for s in p.servers] == [-signal.SIGABRT, -signal.SIGABRT], sub


def test_debug_reload_keeps_the_access_clocks(both):
    """The RDB's IDLE / FREQ fields (maxmemory-policy LRU / LFU) come back with DEBUG RELOAD:
    a key's LFU counter is what it was, an idle key is still idle."""
    both.check("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
    both.check("SET", "k", "v")
    for _ in range(100):
        both.check("GET", "k")
    before = both.both("OBJECT", "FREQ", "k")
    assert all(f > 5 for f in before)  # (LFU_INIT_VAL is 5)
    both.check("DEBUG", "RELOAD")
    assert both.both("OBJECT", "FREQ", "k") == before
    both.check("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
    both.check("SET", "idle", "v")
    time.sleep(2.2)  # the LRU clock counts seconds
    both.check("DEBUG", "RELOAD")
    assert all(i >= 2 for i in both.both("OBJECT", "IDLETIME", "idle"))
