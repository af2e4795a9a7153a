"""Server commands against redis-server 7.0.15: INFO, TIME, LASTSAVE, SHUTDOWN, DEBUG,
SLOWLOG, LATENCY, MEMORY, ROLE, REPLICAOF, COMMAND subcommands."""

from __future__ import annotations

import re
import socket
import time

import pytest
import redis

import pyredis
from conftest import RealRedis
from oracles import ALL_MODES
from pyredis.version import COMPAT
from resp import RawClient, encode_command


def _text(reply: bytes) -> bytes:
    return reply[4:] if reply.startswith(b"txt:") else reply  # RESP3 verbatim "txt:" prefix


def _sections(text: bytes) -> dict[str, list[tuple[str, str]]]:
    text = _text(text)
    out: dict[str, list[tuple[str, str]]] = {}
    cur = None
    for line in text.decode().split("\r\n"):
        if line.startswith("# "):
            cur = out.setdefault(line[2:], [])
        elif line and cur is not None:
            k, _, v = line.partition(":")
            cur.append((k, v))
    return out


def _info(client: RawClient, *args) -> bytes:
    reply = client.call("INFO", *args)
    assert isinstance(reply, bytes), reply
    return reply


@pytest.mark.modes(*ALL_MODES)
def test_info_sections_and_field_names_match_redis(diff):
    """Every section and field name in each mode's order (the later releases' own fields
    included: commands/info.py _LATER)."""
    ours, theirs = diff.both("INFO", "everything")
    a, b = _sections(ours), _sections(theirs)
    assert list(a) == list(b)
    for name in ("Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Modules", "Cluster"):
        our_fields = [k for k, _ in a[name] if k not in ("pyredis_version", "pyredis_compiled")]
        assert our_fields == [k for k, _ in b[name]], name
    server = dict(a["Server"])
    assert server["redis_version"] == COMPAT[diff.mode].redis_version
    assert server["pyredis_version"] == pyredis.__version__
    assert [k for k, _ in a["Server"]][:3] == ["redis_version", "pyredis_version", "pyredis_compiled"]
    # The CI runs the suite compiled and with PYREDIS_PURE=1 (tests/test_compiled.py)
    assert server["pyredis_compiled"] == ("0" if pyredis.compiled.PURE else "1")


@pytest.mark.parametrize("args", [(), ("default",), ("all",), ("everything",), ("server", "clients"),
                                  ("CPU",), ("keyspace", "server"), ("nosuchsection",), ("Memory", "memory")])
def test_info_section_selection(diff, args):
    ours, theirs = diff.both("INFO", *args)
    assert list(_sections(ours)) == list(_sections(theirs))
    assert _text(ours).endswith(b"\r\n") == _text(theirs).endswith(b"\r\n")
    if args == ("nosuchsection",):
        assert _text(ours) == _text(theirs) == b""


@pytest.mark.modes(*ALL_MODES)
def test_info_keyspace_and_stats_values(diff):
    for i in range(5):
        diff.check("SET", f"k{i}", "v")
    diff.check("SET", "t", "v", "EX", "1000")
    diff.check("SELECT", "3")
    diff.check("SET", "x", "y")
    ours, theirs = diff.both("INFO", "keyspace")
    a = {k: re.sub(r"avg_ttl=\d+", "", v) for k, v in _sections(ours)["Keyspace"]}
    b = {k: re.sub(r"avg_ttl=\d+", "", v) for k, v in _sections(theirs)["Keyspace"]}
    assert a == b
    assert a["db0"] == "keys=6,expires=1," + (",subexpiry=0" if diff.mode == "7.4" else "")
    ttl = int(dict(_sections(ours)["Keyspace"])["db0"].rsplit("avg_ttl=", 1)[1].split(",")[0])
    assert 900_000 < ttl <= 1_000_000
    diff.check("FLUSHALL")


def test_info_commandstats_and_errorstats(r):
    r.config_resetstat()
    r.set("a", "1")
    r.get("a")
    with pytest.raises(redis.ResponseError):
        r.execute_command("NOSUCH")
    with pytest.raises(redis.ResponseError):
        r.execute_command("GET")
    c = RawClient("127.0.0.1", r.connection_pool.connection_kwargs["port"])
    text = c.call("INFO", "commandstats").decode()
    c.close()
    m = re.search(r"cmdstat_set:calls=1,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=0,failed_calls=0", text)
    assert m, text
    assert re.search(r"cmdstat_get:calls=1,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=1,failed_calls=0", text)
    assert r.info("errorstats") == {"errorstat_ERR": {"count": 2}}
    assert r.info("stats")["total_error_replies"] == 2


def test_info_clients_and_memory_figures(r):
    info = r.info("everything")
    assert info["connected_clients"] >= 1
    assert info["used_memory"] > 0 and info["used_memory_human"]
    assert info["maxmemory_policy"] == "noeviction"
    assert info["role"] == "master"
    assert info["tcp_port"] == r.connection_pool.connection_kwargs["port"]
    assert info["used_cpu_user"] >= 0


def test_time_and_lastsave(diff, r):
    secs, usecs = r.time()
    assert abs(secs + usecs / 1e6 - time.time()) < 2
    ours, theirs = diff.both("TIME")
    assert len(ours) == len(theirs) == 2 and all(isinstance(x, bytes) for x in ours)
    assert isinstance(r.lastsave(), object)
    raw = RawClient("127.0.0.1", r.connection_pool.connection_kwargs["port"])
    assert isinstance(raw.call("LASTSAVE"), int)
    raw.close()
    diff.check("TIME", "x")
    diff.check("LASTSAVE", "x")


def test_role_and_replicaof(diff):
    diff.check("ROLE")
    diff.check("REPLICAOF", "NO", "ONE")
    diff.check("SLAVEOF", "no", "one")
    diff.check("REPLICAOF", "localhost", "notaport")
    diff.check("REPLICAOF", "NO")


HELPS = ["COMMAND", "CONFIG", "SLOWLOG", "LATENCY", "MEMORY", "DEBUG"]


@pytest.mark.parametrize("cmd", HELPS)
def test_help_texts(diff, cmd):
    diff.check(cmd, "HELP")


def test_command_subcommand_errors(diff):
    diff.check("COMMAND", "GETKEYS", "set", "a", "b")
    diff.check("COMMAND", "GETKEYS", "get")
    diff.check("COMMAND", "GETKEYS", "nosuch", "a")
    diff.check("COMMAND", "GETKEYS", "set", "a")
    diff.check("COMMAND", "GETKEYS", "config", "get", "x")
    diff.check("COMMAND", "GETKEYS", "ping", "x")
    diff.check("COMMAND", "GETKEYS", "memory", "usage", "k")
    diff.check("COMMAND", "GETKEYS", "mset", "a", "1", "b", "2")
    diff.check("COMMAND", "GETKEYSANDFLAGS", "set", "a", "b")
    diff.check("COMMAND", "GETKEYSANDFLAGS", "set", "a", "b", "GET")
    diff.check("COMMAND", "GETKEYSANDFLAGS", "mset", "a", "1", "b", "2")
    diff.check("COMMAND", "GETKEYSANDFLAGS", "get", "a")
    diff.check("COMMAND", "LIST", "FILTERBY", "MODULE", "foo")
    diff.check("COMMAND", "LIST", "FILTERBY", "foo", "bar")
    diff.check("COMMAND", "LIST", "foo")
    diff.check("COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuchcat")
    diff.check("COMMAND", "NOSUCH")
    diff.check("COMMAND", "COUNT", "x")
    diff.check("COMMAND", "INFO", "nosuch")


def test_command_list_filters(r):
    raw = RawClient("127.0.0.1", r.connection_pool.connection_kwargs["port"])
    try:
        pattern = {x.decode() for x in raw.call("COMMAND", "LIST", "FILTERBY", "PATTERN", "config*")}
        assert pattern == {"config", "config|get", "config|set", "config|resetstat", "config|rewrite", "config|help"}
        admin = {x.decode() for x in raw.call("COMMAND", "LIST", "FILTERBY", "ACLCAT", "admin")}
        assert {"config|set", "debug", "shutdown"} <= admin and "get" not in admin
    finally:
        raw.close()


# --- SHUTDOWN ---------------------------------------------------------------------------------
def test_shutdown_syntax(diff):
    diff.check("SHUTDOWN", "ABORT")
    diff.check("SHUTDOWN", "NOSAVE", "ABORT")
    diff.check("SHUTDOWN", "FOO")
    diff.check("SHUTDOWN", "SAVE", "NOSAVE")


def test_shutdown_stops_the_server_without_reply(tmp_path):
    s = pyredis.Server(port=0, dir=str(tmp_path))
    s.start()
    try:
        with socket.create_connection(("127.0.0.1", s.port), timeout=5) as sock:
            sock.sendall(b"SHUTDOWN NOSAVE\r\n")
            assert sock.recv(100) == b""  # no reply, connection closed
        s._thread.join(10)
        assert not s._thread.is_alive()
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", s.port), timeout=1).close()
    finally:
        s.stop()


def test_shutdown_inside_multi_is_refused(diff):
    diff.check("MULTI")
    diff.check("SHUTDOWN")
    diff.check("EXEC")


# --- DEBUG --------------------------------------------------------------------------------------
def test_debug_is_refused_unless_enabled(tmp_path):
    theirs = RealRedis("--enable-debug-command", "no", dir=str(tmp_path))
    try:
        with pyredis.Server(port=0, dir=str(tmp_path)) as ours:
            replies = []
            for port in (ours.port, theirs.port):
                c = RawClient("127.0.0.1", port)
                seq = [c.call("DEBUG", "SLEEP", "0"), c.call("DEBUG", "HELP"),
                       c.call("CONFIG", "GET", "enable-debug-command"),
                       c.call("MULTI"), c.call("DEBUG", "SLEEP", "0"), c.call("PING"), c.call("EXEC")]
                seq.append(c.call("CONFIG", "SET", "requirepass", "pw"))
                anon = RawClient("127.0.0.1", port)
                seq += [anon.call("DEBUG", "SLEEP", "0"), anon.call("GET", "x")]
                anon.close()
                c.call("CONFIG", "SET", "requirepass", "")
                c.close()
                replies.append(seq)
            assert replies[0] == replies[1]
            assert replies[0][0].startswith(b"ERR DEBUG command not allowed.")
    finally:
        theirs.stop()


def test_debug_subcommands(diff):
    diff.check("DEBUG", "SLEEP", "0")
    diff.check("DEBUG", "SLEEP", "abc")
    diff.check("DEBUG", "OBJECT", "nokey")
    diff.check("DEBUG", "OBJECT")
    diff.check("DEBUG", "NOSUCH")
    diff.check("DEBUG", "JMAP")
    diff.check("DEBUG", "ERROR", "MYERR something odd")
    diff.check("DEBUG", "PROTOCOL", "string")
    diff.check("DEBUG", "PROTOCOL", "integer")
    diff.check("DEBUG", "PROTOCOL", "double")
    diff.check("DEBUG", "PROTOCOL", "null")
    diff.check("DEBUG", "PROTOCOL", "array")
    diff.check("DEBUG", "PROTOCOL", "true")
    diff.check("DEBUG", "PROTOCOL", "verbatim")
    diff.check("DEBUG", "PROTOCOL", "nosuch")
    diff.check("DEBUG", "CHANGE-REPL-ID")
    diff.check("DEBUG", "LOG", "hello from the tests")
    diff.check("SET", "s", "12")
    diff.check("SET", "mid", "abcdefgh")
    diff.check("SET", "big", "x" * 100)
    diff.check("RPUSH", "list", "a", "b", "c")
    diff.check("HSET", "hash", "f", "v")
    diff.check("SADD", "iset", "1", "2")
    for key in ("s", "mid", "big", "list", "hash", "iset"):
        ours, theirs = diff.both("DEBUG", "OBJECT", key)
        norm = [re.sub(rb"at:0x[0-9a-f]+|lru:\d+|lru_seconds_idle:\d+", b"", x) for x in (ours, theirs)]
        assert norm[0] == norm[1]


def test_debug_set_active_expire(diff):
    diff.check("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    try:
        diff.check("SET", "k", "v", "PX", "20")
        time.sleep(0.4)
        diff.check("DBSIZE")  # not reclaimed in the background
    finally:
        diff.check("DEBUG", "SET-ACTIVE-EXPIRE", "1")
    deadline = time.time() + 5
    while time.time() < deadline and diff.both("DBSIZE") != (0, 0):
        time.sleep(0.1)
    diff.check("DBSIZE")


# --- SLOWLOG, LATENCY, MEMORY ---------------------------------------------------------------------
def test_slowlog(diff):
    diff.check("SLOWLOG", "RESET")
    diff.check("SLOWLOG", "LEN")
    diff.check("SLOWLOG", "GET")
    diff.check("SLOWLOG", "GET", "-2")
    diff.check("SLOWLOG", "GET", "x")
    diff.check("SLOWLOG", "GET", "1", "2")
    diff.check("CONFIG", "SET", "slowlog-log-slower-than", "0")
    try:
        diff.check("SET", "key", "x" * 200)
        ours, theirs = diff.both("SLOWLOG", "GET", "1")
    finally:
        diff.check("CONFIG", "SET", "slowlog-log-slower-than", "10000")
    assert len(ours) == len(theirs) == 1
    a, b = ours[0], theirs[0]
    assert len(a) == len(b) == 6
    assert isinstance(a[0], int) and isinstance(a[1], int) and isinstance(a[2], int)
    assert abs(a[1] - time.time()) < 5
    assert a[3] == b[3]  # the argument vector, the long value cut to 128 bytes the same way
    assert a[5] == b[5]
    ours_len, theirs_len = diff.both("SLOWLOG", "LEN")
    assert ours_len >= 2 and theirs_len >= 2
    diff.check("SLOWLOG", "RESET")
    diff.check("SLOWLOG", "LEN")


def test_slowlog_keeps_max_len_newest_entries(r):
    r.slowlog_reset()
    r.config_set("slowlog-max-len", 3)
    r.config_set("slowlog-log-slower-than", 0)
    try:
        for i in range(6):
            r.set(f"k{i}", i)
    finally:
        r.config_set("slowlog-log-slower-than", 10000)
    entries = r.slowlog_get(-1)
    r.config_set("slowlog-max-len", 128)
    assert len(entries) == 3
    assert entries[0]["id"] > entries[1]["id"] > entries[2]["id"]
    r.slowlog_reset()


def test_latency_minimal(diff):
    diff.check("LATENCY", "LATEST")
    diff.check("LATENCY", "HISTORY", "command")
    diff.check("LATENCY", "RESET")
    diff.check("LATENCY", "RESET", "command", "fast-command")
    diff.check("LATENCY", "DOCTOR")
    diff.check("LATENCY", "GRAPH", "command")
    diff.check("LATENCY", "NOSUCH")


def test_memory(diff):
    diff.check("MEMORY", "USAGE", "nokey")
    diff.check("MEMORY", "USAGE", "nokey", "SAMPLES")
    diff.check("MEMORY", "USAGE", "nokey", "SAMPLES", "-1")
    diff.check("MEMORY", "USAGE", "nokey", "SAMPLES", "x")
    diff.check("MEMORY", "USAGE", "nokey", "FOO", "1")
    diff.check("MEMORY", "DOCTOR")
    diff.check("MEMORY", "PURGE")
    diff.check("SET", "foo", "bar")
    ours, theirs = diff.both("MEMORY", "USAGE", "foo")
    assert isinstance(ours, int) and ours > 0
    ours, theirs = diff.both("MEMORY", "USAGE", "foo", "SAMPLES", "0")
    assert isinstance(ours, int)
    ours, theirs = diff.both("MEMORY", "STATS")
    assert isinstance(ours, type(theirs))


def test_memory_usage_grows_with_the_value(r):
    r.set("small", "x")
    r.set("large", "x" * 10000)
    assert r.memory_usage("large") > r.memory_usage("small") + 9000


def test_redis_cli_interactive_hints(pyredis_srv, real_redis):
    """redis-cli reads COMMAND DOCS at startup and shows argument hints while typing."""
    import fcntl
    import os
    import pty
    import select
    import shutil
    import struct
    import termios

    from conftest import require_binary

    require_binary(shutil.which("redis-cli"), "redis-cli")

    def hints(port: int, typed: bytes) -> set[bytes]:
        pid, fd = pty.fork()
        if pid == 0:  # pragma: no cover - the child
            os.environ["TERM"] = "xterm"
            os.execvp("redis-cli", ["redis-cli", "-h", "127.0.0.1", "-p", str(port)])
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))

        def read(t: float) -> bytes:
            out = b""
            while select.select([fd], [], [], t)[0]:
                try:
                    d = os.read(fd, 4096)
                except OSError:
                    break
                out += d
                if b"\x1b[6n" in d:  # linenoise asks for the cursor position
                    os.write(fd, b"\x1b[1;1R")
            return out

        try:
            read(1.0)
            os.write(fd, typed)
            out = read(0.5)
        finally:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            os.close(fd)
        return set(re.findall(rb"[a-zA-Z\[\]|. _-]{12,}", out))

    for typed in (b"set ", b"config get "):
        ours = hints(pyredis_srv.port, typed)
        assert ours == hints(real_redis.port, typed)
        assert any(b"parameter" in h or b"value" in h for h in ours), ours


def _monitor_lines(port: int) -> list[bytes]:
    mon = RawClient("127.0.0.1", port)
    assert mon.call("MONITOR") == b"OK"
    c = RawClient("127.0.0.1", port)
    c.call("SET", "a b", 'x"y')
    c.call("SELECT", "2")
    c.call("GET", "zz")
    c.call("CONFIG", "GET", "hz")  # admin: not shown
    c.call("NOSUCH")  # rejected: not shown
    c.call("GET")
    c.call("MULTI")
    c.call("SET", "k", "v")
    c.call("EXEC")
    c.call("SET", "k", b"\x01\xff\n")
    c.call("SELECT", "0")
    c.call("MULTI")
    c.call("MONITOR")
    exec_reply = c.call("EXEC")
    c.call("FLUSHDB")
    c.call("EVAL", "redis.call('set', 's', '1') return redis.call('get', 's')", "0")  # shown as [0 lua]
    c.call("FUNCTION", "LOAD", "REPLACE", "#!lua name=monlib\nredis.register_function('f', function() return redis.call('ping') end)")
    c.call("FCALL", "f", "0")
    lines = [mon.read() for _ in range(17)]  # the EXEC'd MONITOR is refused
    mon.close()
    c.close()
    return lines + [repr(exec_reply).encode()]


def test_monitor(pyredis_srv, real_redis):
    ours, theirs = _monitor_lines(pyredis_srv.port), _monitor_lines(real_redis.port)

    def strip(lines):  # timestamps and client ports differ
        return [re.sub(rb"^\d+\.\d{6} \[(\d+) (127\.0\.0\.1:\d+|lua)\]", rb"[\1 \2]", ln) for ln in lines]

    def mask(lines):
        return [re.sub(rb"127\.0\.0\.1:\d+", b"client", ln) for ln in strip(lines)]

    assert mask(ours) == mask(theirs)
    assert all(re.match(rb"^\d+\.\d{6} \[\d+ (127\.0\.0\.1:\d+|lua)\] ", ln) for ln in ours[:-1])
    assert sum(b" lua] " in ln for ln in ours) == 3


def test_getkeysandflags_variable_flags(diff):
    for argv in (["set", "k", "v"], ["set", "k", "v", "get"], ["set", "k", "v", "EX", "10", "GET"],
                 ["bitfield", "k"], ["bitfield", "k", "GET", "u8", "0"], ["bitfield", "k", "GET", "u8"],
                 ["bitfield", "k", "OVERFLOW", "SAT", "GET", "u8", "0"], ["bitfield", "k", "SET", "u8", "0", "1"],
                 ["bitfield", "k", "INCRBY", "u8", "0", "1"], ["bitfield", "k", "foo"]):
        ours, theirs = diff.both("COMMAND", "GETKEYSANDFLAGS", *argv)
        if isinstance(theirs, bytes) and theirs.startswith(b"ERR Invalid command"):
            continue  # a command pyredis does not implement yet
        assert ours == theirs, argv


def test_debug_populate(diff):
    diff.check("DEBUG", "POPULATE", "100")
    diff.check("DBSIZE")
    diff.check("GET", "key:0")
    diff.check("GET", "key:99")
    diff.check("SET", "p:3", "mine")
    diff.check("DEBUG", "POPULATE", "5", "p", "20")
    diff.check("GET", "p:1")
    diff.check("GET", "p:3")
    diff.check("DEBUG", "POPULATE", "5", "q", "3")
    diff.check("GET", "q:4")
    diff.check("DBSIZE")
    diff.check("DEBUG", "POPULATE", "-1")
    diff.check("DEBUG", "POPULATE", "x")
    diff.check("DEBUG", "POPULATE", "1", "r", "-5")
    diff.check("DEBUG", "POPULATE")
    diff.check("DEBUG", "POPULATE", "1", "a", "2", "3")
    diff.check("FLUSHALL")


def test_info_pubsub_and_blocked_figures(pyredis_srv, real_redis):
    figures = []
    for port in (pyredis_srv.port, real_redis.port):
        sub = RawClient("127.0.0.1", port)
        sub.call("SUBSCRIBE", "a")
        sub.call("SUBSCRIBE", "b")
        sub.call("PSUBSCRIBE", "p*")
        sub2 = RawClient("127.0.0.1", port)
        sub2.call("SUBSCRIBE", "a")
        blocker = RawClient("127.0.0.1", port)
        blocker.send(b"*3\r\n$5\r\nBLPOP\r\n$9\r\nnokey-blk\r\n$1\r\n0\r\n")
        time.sleep(0.2)
        c = RawClient("127.0.0.1", port)
        info = dict(_sections(c.call("INFO", "stats", "clients"))["Stats"] + _sections(c.call("INFO", "clients"))["Clients"])
        figures.append({k: info[k] for k in ("pubsub_channels", "pubsub_patterns", "pubsubshard_channels",
                                             "blocked_clients")})
        for x in (sub, sub2, blocker, c):
            x.close()
    assert figures[0] == figures[1]
    assert figures[0]["pubsub_channels"] == "2" and figures[0]["blocked_clients"] == "1"


def test_debug_digest(diff):
    diff.check("DEBUG", "DIGEST")  # empty dataset: zeros
    diff.check("SET", "s", "hello")
    diff.check("SET", "n", "12345")
    diff.check("DEBUG", "DIGEST")
    diff.check("RPUSH", "l", "a", "b", "c")
    diff.check("SADD", "set", "x", "y", "1")
    diff.check("SADD", "iset", "1", "2", "3")
    diff.check("HSET", "h", "f1", "v1", "f2", "v2")
    diff.check("ZADD", "z", "0.1", "a", "1.5", "b", "-3", "c", "1e100", "d")
    diff.check("SET", "e", "v", "EX", "1000")
    diff.check("SELECT", "1")
    diff.check("SET", "s", "hello")
    diff.check("SELECT", "0")
    diff.check("DEBUG", "DIGEST-VALUE", "s", "n", "l", "set", "iset", "h", "z", "e", "missing")
    diff.check("DEBUG", "DIGEST")
    diff.check("FLUSHALL")


def test_memory_usage_of_strings_matches_redis(diff):
    for i, n in enumerate((1, 3, 19, 21, 44, 45, 100, 255, 300, 1000, 5000)):
        diff.check("SET", f"k{i}" * (1 + i * 3), "x" * n)
        diff.check("MEMORY", "USAGE", f"k{i}" * (1 + i * 3))
    diff.check("SET", "int", "12345")
    diff.check("MEMORY", "USAGE", "int")
    diff.check("SET", "bigint", "-9223372036854775808")
    diff.check("MEMORY", "USAGE", "bigint")


def test_memory_usage_of_compact_collections_matches_redis(diff):
    diff.check("RPUSH", "l1", "a")
    diff.check("RPUSH", "l2", "a", "b", "c", "1", "2", "300", "-5000", "100000", "x" * 70)
    diff.check("SADD", "s1", "1", "2", "3")
    diff.check("SADD", "s2", "1", "2", "70000")
    diff.check("SADD", "s3", "1", "-9000000000")
    diff.check("SADD", "s4", "a", "bb", "ccc")
    diff.check("HSET", "h1", "f", "v", "n", "12", "long", "y" * 100)
    diff.check("HSET", "h2", "f", "v", "n", "12")
    diff.check("ZADD", "z1", "1", "a", "1.5", "b", "-0.25", "c", "1e20", "d", "inf", "e")
    for key in ("l1", "l2", "s1", "s2", "s3", "s4", "h1", "h2", "z1"):
        ours, theirs = diff.both("OBJECT", "ENCODING", key)
        if ours != theirs:
            continue  # an encoding difference belongs to the type's own tests
        diff.check("MEMORY", "USAGE", key)


def _slowlog_entries(port: int) -> list:
    c = RawClient("127.0.0.1", port)
    w = RawClient("127.0.0.1", port)
    c.call("CONFIG", "SET", "slowlog-log-slower-than", "0")
    c.call("SLOWLOG", "RESET")
    c.call("SET", "k", "v", "EX", "100")            # propagated as SET ... PXAT: logged as sent
    c.call("GETEX", "k", "EX", "50")
    c.call("MULTI")
    c.call("INCR", "n")
    c.call("EXEC")
    c.call("EVAL", "redis.call('SET', 'k2', 'v', 'EX', '10') return 1", "0")
    w.send(encode_command(["BLPOP", "q", "0"]))     # logged when served, after the RPUSH
    time.sleep(0.2)
    c.call("RPUSH", "q", "a")
    w.read()
    w.send(encode_command(["BLPOP", "never", "0.1"]))  # timed out: never logged
    w.read()
    c.call("SET", "big", "x" * 200)
    c.call("DEL", *["k%d" % i for i in range(40)])
    entries = [e[3] for e in c.call("SLOWLOG", "GET", "-1")]
    c.call("CONFIG", "SET", "slowlog-log-slower-than", "10000")
    c.close()
    w.close()
    return entries


def test_slowlog_entries_as_redis(pyredis_srv, real_redis):
    """Arguments as the client sent them (cut to 32 arguments / 128 bytes), blocked commands
    logged when served and not at all when they time out, EXEC not logged."""
    assert _slowlog_entries(pyredis_srv.port) == _slowlog_entries(real_redis.port)
