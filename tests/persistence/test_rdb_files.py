"""RDB files: pyredis writes what redis-server loads, and loads what redis-server writes, in each
compat-version mode against that mode's server (RDB version 10 for 7.0, 11 for 7.2 and Valkey 8.0,
12 for 7.4)."""

from __future__ import annotations

import os

import pytest
import redis

import pyredis
from conftest import ALL_MODES, RealRedis
from helpers import fill, snapshot


@pytest.mark.modes(*ALL_MODES)
def test_pyredis_rdb_loads_in_redis(tmp_path, compat_mode):
    with pyredis.Server(port=0, subprocess=True, dir=str(tmp_path), compat_version=compat_mode) as ours:
        r = redis.Redis.from_url(ours.url)
        fill(r)
        expected = snapshot(r)
        assert r.save()
        assert r.lastsave()
        r.close()
    assert os.path.exists(tmp_path / "dump.rdb")
    theirs = RealRedis(dir=str(tmp_path), mode=compat_mode)
    try:
        rr = redis.Redis(port=theirs.port)
        assert snapshot(rr) == expected
        rr.close()
    finally:
        theirs.stop()


@pytest.mark.modes(*ALL_MODES)
def test_redis_rdb_loads_in_pyredis(tmp_path, compat_mode):
    theirs = RealRedis(dir=str(tmp_path), mode=compat_mode)
    try:
        rr = redis.Redis(port=theirs.port)
        fill(rr)
        expected = snapshot(rr)
        assert rr.save()
        rr.close()
    finally:
        theirs.stop()
    with pyredis.Server(port=0, subprocess=True, dir=str(tmp_path), compat_version=compat_mode) as ours:
        r = redis.Redis.from_url(ours.url)
        assert snapshot(r) == expected
        info = r.info("persistence")
        assert info["rdb_last_load_keys_loaded"] == len(expected)
        r.close()


def test_bgsave_and_save_points(tmp_path):
    with pyredis.Server(port=0, subprocess=True, dir=str(tmp_path), save="1 1") as ours:
        r = redis.Redis.from_url(ours.url)
        r.set("a", "1")
        assert r.bgsave() is True
        import time

        deadline = time.time() + 10
        while r.info("persistence")["rdb_bgsave_in_progress"] and time.time() < deadline:
            time.sleep(0.05)
        assert r.info("persistence")["rdb_last_bgsave_status"] == "ok"
        # a save point (1 change in 1 second) triggers a background save by itself
        first = r.info("persistence")["rdb_saves"]
        r.set("b", "2")
        deadline = time.time() + 10
        while r.info("persistence")["rdb_saves"] == first and time.time() < deadline:
            time.sleep(0.1)
        assert r.info("persistence")["rdb_saves"] > first
        assert r.info("persistence")["rdb_changes_since_last_save"] == 0
        r.close()
    with pyredis.Server(port=0, subprocess=True, dir=str(tmp_path)) as again:
        r = redis.Redis.from_url(again.url)
        assert r.mget("a", "b") == [b"1", b"2"]
        r.close()


def test_shutdown_saves_when_save_points_configured(tmp_path):
    srv = pyredis.Server(port=0, subprocess=True, dir=str(tmp_path), save="3600 1").start()
    r = redis.Redis.from_url(srv.url)
    r.set("kept", "yes")
    try:
        r.shutdown()
    except redis.ConnectionError:
        pass
    srv.proc.wait(10)
    srv.stop()
    with pyredis.Server(port=0, subprocess=True, dir=str(tmp_path)) as again:
        assert redis.Redis.from_url(again.url).get("kept") == b"yes"


def test_misconf_when_bgsave_fails(tmp_path):
    import shutil

    data = tmp_path / "data"
    with pyredis.Server(port=0, subprocess=True, dir=str(data), save="3600 1") as ours:
        r = redis.Redis.from_url(ours.url)
        r.set("x", "1")
        shutil.rmtree(data)  # the data folder vanished: saving must fail, visibly
        r.bgsave()
        import time

        deadline = time.time() + 10
        while r.info("persistence")["rdb_last_bgsave_status"] == "ok" and time.time() < deadline:
            time.sleep(0.05)
        assert r.info("persistence")["rdb_last_bgsave_status"] == "err"
        try:
            r.set("y", "2")
            raise AssertionError("write accepted")
        except redis.ResponseError as e:
            assert str(e).startswith("MISCONF Redis is configured to save RDB snapshots")
        assert r.get("x") == b"1"  # reads keep working
        r.config_set("stop-writes-on-bgsave-error", "no")
        assert r.set("y", "2")
        r.close()


LIB = "#!lua name=mylib\nredis.register_function('hello', function(keys, args) return 'hi ' .. args[1] end)"


@pytest.mark.modes(*ALL_MODES)
def test_function_libraries_cross_in_rdb_files(tmp_path, compat_mode):
    """FUNCTION LOAD libraries are saved in the RDB (FUNCTION2 records) and load both ways."""
    ours_dir = tmp_path / "data"
    with pyredis.Server(port=0, subprocess=True, dir=str(ours_dir), compat_version=compat_mode) as ours:
        r = redis.Redis.from_url(ours.url)
        r.function_load(LIB)
        r.set("k", "v")
        r.save()
        r.close()
    theirs = RealRedis(dir=str(ours_dir), mode=compat_mode)
    try:
        rr = redis.Redis(port=theirs.port)
        assert rr.fcall("hello", 0, "redis") == b"hi redis"
        rr.function_load(LIB.replace("mylib", "otherlib").replace("'hello'", "'bye'"))
        rr.save()
        rr.close()
    finally:
        theirs.stop()
    with pyredis.Server(port=0, subprocess=True, dir=str(ours_dir), compat_version=compat_mode) as again:
        r = redis.Redis.from_url(again.url)
        assert r.fcall("hello", 0, "py") == b"hi py"
        assert r.fcall("bye", 0, "py") == b"hi py"
        assert r.get("k") == b"v"
        r.close()


def test_function_libraries_survive_aof_restart(tmp_path):
    with pyredis.Server(port=0, subprocess=True, dir=str(tmp_path), appendonly="yes") as ours:
        r = redis.Redis.from_url(ours.url)
        r.function_load(LIB)
        r.bgrewriteaof()
        import time

        time.sleep(1)
        r.function_load(LIB.replace("mylib", "lib2").replace("'hello'", "'h2'"))
        r.close()
    with pyredis.Server(port=0, subprocess=True, dir=str(tmp_path), appendonly="yes") as again:
        r = redis.Redis.from_url(again.url)
        assert r.fcall("hello", 0, "a") == b"hi a"
        assert r.fcall("h2", 0, "b") == b"hi b"
        r.close()


@pytest.mark.modes(*ALL_MODES)
def test_small_sets_cross_in_rdb_files(tmp_path, compat_mode):
    """Sets in each encoding go through an RDB file both ways: pyredis loads the reference
    server's file as that server reloads it (7.2+: a small hashtable comes back a listpack, a
    listpack - RDB type 20 - keeps its order), and the server loads pyredis's file back the same."""
    setup = [("SADD", "lp", "b", "1", "a", "-300", "x" * 64), ("SADD", "mixed", "5", "1", "z", "3"),
             ("SADD", "ints", "3", "1", "2"), ("SADD", "long", "a", "y" * 65),
             ("SADD", "hs", *(f"m{i}" for i in range(200))), ("SREM", "hs", *(f"m{i}" for i in range(3, 200)))]

    def state(c: redis.Redis) -> dict:
        out = {}
        for k in ("lp", "mixed", "ints", "long", "hs"):
            enc = c.object("encoding", k)
            members = c.smembers(k) if enc == "hashtable" else c.execute_command("SORT", k, "BY", "nosort")
            out[k] = (enc, members)
        return out

    first, second = tmp_path / "theirs", tmp_path / "ours"
    first.mkdir()
    second.mkdir()
    theirs = RealRedis(dir=str(first), mode=compat_mode)
    try:
        rr = redis.Redis(port=theirs.port, decode_responses=True)
        for cmd in setup:
            rr.execute_command(*cmd)
        assert rr.save()
        rr.execute_command("DEBUG", "RELOAD", "NOSAVE")
        expected = state(rr)
        rr.close()
    finally:
        theirs.stop()
    os.replace(first / "dump.rdb", second / "dump.rdb")
    with pyredis.Server(port=0, subprocess=True, dir=str(second), compat_version=compat_mode) as ours:
        r = redis.Redis.from_url(ours.url, decode_responses=True)
        assert state(r) == expected
        assert r.save()
        r.close()
    os.replace(second / "dump.rdb", first / "dump.rdb")
    theirs = RealRedis(dir=str(first), mode=compat_mode)
    try:
        rr = redis.Redis(port=theirs.port, decode_responses=True)
        assert state(rr) == expected
        rr.close()
    finally:
        theirs.stop()
