"""Hash-field expiration on disk, against redis-server 7.4.1: what the AOF receives (HPEXPIREAT
with absolute times and only the fields set, an HDEL per field deleted, MULTI/EXEC around
the effects of one command), AOF files and RDB files written by one server loaded by the
other with the field deadlines intact, the AOF rewrite without RDB preamble, and
redis-check-rdb on pyredis's files."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest
import redis

import pyredis
from conftest import RealRedis, oracle_binary

def pyredis74(dir: str, **config: str) -> pyredis.Server:
    """pyredis in 7.4 mode in a subprocess (start it with `with` or .start())."""
    return pyredis.Server(port=0, subprocess=True, dir=dir, enable_debug_command="yes", compat_version="7.4",
                          **config)


def redis74(*args: str, dir: str) -> RealRedis:
    return RealRedis(*args, dir=dir, mode="7.4")

FAR = 4_102_444_800_000  # 2100-01-01, in ms


def _aof_commands(data_dir: str) -> list[list[bytes]]:
    """The commands of every incr file of an AOF folder, in manifest order."""
    d = os.path.join(data_dir, "appendonlydir")
    manifest = open(os.path.join(d, "appendonly.aof.manifest")).read().split("\n")
    out: list[list[bytes]] = []
    for line in manifest:
        parts = line.split()
        if len(parts) >= 6 and parts[5] == "i":
            out += _parse(open(os.path.join(d, parts[1]), "rb").read())
    return out


def _parse(data: bytes) -> list[list[bytes]]:
    cmds = []
    pos = 0
    while pos < len(data):
        assert data[pos:pos + 1] == b"*", data[pos:pos + 40]
        end = data.index(b"\r\n", pos)
        n = int(data[pos + 1:end])
        pos = end + 2
        argv = []
        for _ in range(n):
            end = data.index(b"\r\n", pos)
            ln = int(data[pos + 1:end])
            pos = end + 2
            argv.append(data[pos:pos + ln])
            pos += ln + 2
        cmds.append(argv)
    return cmds


def _normalized(cmds: list[list[bytes]]) -> list[list[bytes]]:
    """Deadlines computed from the servers' clocks (relative commands) become b"T"."""
    out = []
    for argv in cmds:
        if argv[0].upper() == b"HPEXPIREAT" and abs(int(argv[2]) - time.time() * 1000) < 600_000:
            argv = [argv[0], argv[1], b"T", *argv[3:]]
        out.append(argv)
    return out


def _run_script(r: redis.Redis) -> None:
    """Commands whose propagation is checked; sleeps let 1 ms deadlines pass."""
    x = r.execute_command
    x("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    x("HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5", "f", "6", "g", "7")
    x("HPEXPIREAT", "h", FAR, "FIELDS", "2", "a", "b")
    x("HPEXPIREAT", "h", FAR, "NX", "FIELDS", "3", "a", "c", "nosuch")  # only c: FIELDS 1 c
    x("HEXPIREAT", "h", FAR // 1000, "fields", "1", "d")  # as HPEXPIREAT, absolute ms
    x("HPEXPIREAT", "h", 0, "GT", "FIELDS", "1", "g")  # nothing set: nothing propagated
    x("HPEXPIRE", "h", 1, "FIELDS", "1", "e")  # relative: HPEXPIREAT with the absolute time
    time.sleep(0.01)
    x("HGET", "h", "e")  # HDEL h e
    x("HPEXPIRE", "h", 1, "FIELDS", "2", "c", "d")
    time.sleep(0.01)
    x("HMGET", "h", "c", "d", "a")  # MULTI, HDEL c, HDEL d, EXEC
    x("HPEXPIRE", "h", 1, "FIELDS", "1", "f")
    time.sleep(0.01)
    x("HINCRBY", "h", "f", 5)  # MULTI, HDEL f, HINCRBY, EXEC
    x("HPEXPIRE", "h", 1, "FIELDS", "1", "f")
    time.sleep(0.01)
    x("HINCRBYFLOAT", "h", "f", "1.5")  # MULTI, HDEL f, HSET f 1.5, EXEC
    x("HPEXPIRE", "h", 0, "FIELDS", "2", "a", "nosuch")  # HDEL h a
    x("HPEXPIRE", "h", 1, "FIELDS", "1", "b")
    time.sleep(0.01)
    x("HPEXPIREAT", "h", FAR, "FIELDS", "1", "b")  # revived: HPEXPIREAT, no HDEL
    x("HPERSIST", "h", "FIELDS", "2", "b", "nosuch")
    x("HPERSIST", "h", "FIELDS", "1", "b")  # nothing to do: nothing propagated
    x("HSET", "k", "x", "1")
    x("HPEXPIRE", "k", 1, "FIELDS", "1", "x")
    time.sleep(0.01)
    x("HRANDFIELD", "k")  # HDEL k x (the key goes with it)
    x("HSET", "w1", "weight", "1")
    x("HPEXPIRE", "w1", 1, "FIELDS", "1", "weight")
    x("RPUSH", "l", "1")
    time.sleep(0.01)
    x("SORT", "l", "BY", "w*->weight", "STORE", "sorted")  # MULTI, HDEL, SORT, EXEC
    x("HSET", "t", "a", "1", "b", "2")
    x("HPEXPIRE", "t", 1, "FIELDS", "1", "a")
    time.sleep(0.01)
    p = r.pipeline(transaction=True)
    p.execute_command("HGET", "t", "a")
    p.execute_command("HPEXPIREAT", "t", FAR, "FIELDS", "1", "b")
    p.execute()  # MULTI, HDEL t a, HPEXPIREAT, EXEC
    x("EVAL", "redis.call('HPEXPIRE', KEYS[1], 0, 'FIELDS', 1, 'b'); return redis.call('HSET', KEYS[1], 'c', 3)",
      "1", "t")
    x("HSET", "z", "a", "1", "b", "2", "c", "3")
    x("HPEXPIRE", "z", 1, "FIELDS", "3", "a", "b", "c")  # one deadline: c, b, a in the listpack
    time.sleep(0.01)
    x("DEBUG", "SET-ACTIVE-EXPIRE", "1")  # the active expiry: one HDEL at a time
    deadline = time.time() + 10
    while x("EXISTS", "z") and time.time() < deadline:
        time.sleep(0.05)
    x("SET", "end", "1")


def test_aof_receives_what_redis_propagates(tmp_path):
    ours_dir, theirs_dir = tmp_path / "ours", tmp_path / "theirs"
    ours_dir.mkdir()
    theirs_dir.mkdir()
    with pyredis74(dir=str(ours_dir), appendonly="yes", appendfsync="always") as srv:
        r = redis.Redis.from_url(srv.url)
        _run_script(r)
        r.close()
    theirs = redis74("--appendonly", "yes", "--appendfsync", "always", dir=str(theirs_dir))
    try:
        r = redis.Redis(port=theirs.port)
        _run_script(r)
        r.close()
    finally:
        theirs.stop()
    ours, expected = _normalized(_aof_commands(str(ours_dir))), _normalized(_aof_commands(str(theirs_dir)))
    assert ours == expected


def _fill(r: redis.Redis) -> None:
    """Hashes with field deadlines in every shape a file holds: a listpackex (deadlines in
    order, one shared), one whose fields all lost their deadline, a hashtable by size and one
    by a long value, a field already past its deadline, and a key with a TTL of its own."""
    x = r.execute_command
    x("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    x("HSET", "lp", *[v for i in range(6) for v in (f"f{i}", f"v{i}")], "n", "123")
    x("HPEXPIREAT", "lp", FAR + 30, "FIELDS", "2", "f1", "f4")
    x("HPEXPIREAT", "lp", FAR + 10, "FIELDS", "1", "f2")
    x("HPEXPIREAT", "lp", FAR + 2000, "FIELDS", "1", "f0")  # within 4 s: the registration stays
    x("HSET", "persisted", "a", "1")
    x("HPEXPIREAT", "persisted", FAR, "FIELDS", "1", "a")
    x("HPERSIST", "persisted", "FIELDS", "1", "a")
    x("HSET", "big", *[v for i in range(600) for v in (f"f{i}", f"v{i}")])
    x("HPEXPIREAT", "big", FAR + 5, "FIELDS", "3", "f1", "f100", "f599")
    x("HPEXPIREAT", "big", FAR + 99, "FIELDS", "1", "f7")
    x("HSET", "long", "a", "1", "b", "x" * 100)
    x("HPEXPIREAT", "long", FAR, "FIELDS", "1", "b")
    x("HSET", "past", "a", "1", "b", "2")
    x("HPEXPIRE", "past", 1, "FIELDS", "1", "a")
    x("HPEXPIREAT", "past", FAR, "FIELDS", "1", "b")
    x("PEXPIREAT", "past", FAR + 1)
    x("SELECT", "3")
    x("HSET", "db3", "a", "1")
    x("HPEXPIREAT", "db3", FAR + 3, "FIELDS", "1", "a")
    x("SELECT", "0")
    time.sleep(0.01)


def _state(r: redis.Redis) -> dict:
    x = r.execute_command
    out = {}
    for db in (0, 3):
        x("SELECT", db)
        for key in sorted(x("KEYS", "*")):
            fields = sorted(x("HKEYS", key))
            out[(db, key)] = (x("OBJECT", "ENCODING", key), x("HGETALL", key) if len(fields) < 10 else sorted(fields),
                              x("HPEXPIRETIME", key, "FIELDS", len(fields), *fields), x("PEXPIRETIME", key))
    x("SELECT", 0)
    return out


def test_rdb_files_both_ways(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    with pyredis74(dir=str(a)) as srv:
        r = redis.Redis.from_url(srv.url)
        _fill(r)
        ours_before = _state(r)
        r.save()
        r.close()
    theirs = redis74(dir=str(a))  # redis-server 7.4.1 loads pyredis's dump.rdb
    try:
        r = redis.Redis(port=theirs.port)
        assert _state(r) == ours_before
        r.flushall()
        _fill(r)
        theirs_before = _state(r)
        assert theirs_before == ours_before
        r.save()
        r.close()
    finally:
        theirs.stop()
    shutil.copy(a / "dump.rdb", b / "dump.rdb")
    with pyredis74(dir=str(b)) as srv:  # and pyredis loads redis-server's
        r = redis.Redis.from_url(srv.url)
        assert _state(r) == theirs_before
        r.close()


def test_redis_check_rdb_accepts_pyredis_files(tmp_path):
    with pyredis74(dir=str(tmp_path)) as srv:
        r = redis.Redis.from_url(srv.url)
        _fill(r)
        r.save()
        r.close()
    tool = os.path.join(os.path.dirname(oracle_binary("7.4")), "redis-check-rdb")
    out = subprocess.run([tool, str(tmp_path / "dump.rdb")], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "RDB looks OK!" in out.stdout, out.stdout + out.stderr


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_aof_files_both_ways(tmp_path, preamble):
    """An AOF (a rewrite, with or without RDB preamble, then more commands) written by either
    server loads into the same dataset on both."""
    args = ["--appendonly", "yes", "--aof-use-rdb-preamble", preamble]
    cfg = {"appendonly": "yes", "aof_use_rdb_preamble": preamble}
    starts = {"pyredis": lambda d: pyredis74(dir=d, **cfg).start(), "redis": lambda d: redis74(*args, dir=d)}
    states = {}
    for writer, start in starts.items():
        d = str(tmp_path / writer)
        os.mkdir(d)
        srv = start(d)
        try:
            r = redis.Redis(port=srv.port)
            _fill(r)
            r.bgrewriteaof()
            _wait_rewrite(r)
            r.execute_command("HPEXPIREAT", "lp", FAR + 77, "FIELDS", "1", "n")
            r.close()
        finally:
            srv.stop()
        for loader, again in starts.items():
            srv = again(d)
            try:
                r = redis.Redis(port=srv.port)
                states[writer, loader] = _state(r)
                r.close()
            finally:
                srv.stop()
    first = states["redis", "redis"]
    assert all(st == first for st in states.values()), states


def _wait_rewrite(r: redis.Redis) -> None:
    deadline = time.time() + 30
    while time.time() < deadline:
        info = r.info("persistence")
        if not info["aof_rewrite_in_progress"] and not info["aof_rewrite_scheduled"]:
            return
        time.sleep(0.05)
    raise AssertionError("the AOF rewrite did not finish")


def test_rewrite_without_preamble_is_redis_commands(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    bases = []
    for d, start in ((a, lambda d: pyredis74(dir=str(d), appendonly="yes", aof_use_rdb_preamble="no").start()),
                     (b, lambda d: redis74("--appendonly", "yes", "--aof-use-rdb-preamble", "no", dir=str(d)))):
        srv = start(d)
        try:
            r = redis.Redis(port=srv.port)
            x = r.execute_command
            x("HSET", "h", "a", "1", "b", "2", "c", "3")
            x("HPEXPIREAT", "h", FAR + 5, "FIELDS", "1", "b")
            x("HPEXPIREAT", "h", FAR, "FIELDS", "1", "c")
            x("HSET", "plain", "a", "1")
            r.bgrewriteaof()
            _wait_rewrite(r)
            r.close()
        finally:
            srv.stop()
        adir = os.path.join(str(d), "appendonlydir")
        base = [f for f in os.listdir(adir) if ".base." in f][0]
        bases.append(_parse(open(os.path.join(adir, base), "rb").read()))
    ours, theirs = bases
    hfe = [c for c in theirs if c[1:2] == [b"h"]]
    assert [c for c in ours if c[1:2] == [b"h"]] == hfe
    assert hfe[0][0] == b"HMSET" and [b"HPEXPIREAT", b"h", b"%d" % FAR, b"FIELDS", b"1", b"c"] in hfe
