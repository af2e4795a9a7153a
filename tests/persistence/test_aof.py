"""The multi-part AOF: Redis 7's layout, interop with redis-server both ways (in each
compat-version mode, against that mode's server: the base file is an RDB of the mode's version),
fsync policies under kill -9, truncated-tail recovery, corruption refusal, rewrite."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import redis

import pyredis
from conftest import ALL_MODES, RealRedis
from helpers import fill, snapshot


def _aofdir(d) -> str:
    return os.path.join(str(d), "appendonlydir")


def _start_expecting_failure(tmp_path, **config) -> None:
    """Start a server that must refuse to start; if it starts anyway, stop it (no leak) and fail."""
    srv = pyredis.Server(port=0, subprocess=True, dir=str(tmp_path), appendonly="yes", **config).start()
    srv.stop()
    raise AssertionError("the server started although it should have refused to")


def _stop_gracefully(srv: pyredis.Server) -> None:
    srv.proc.send_signal(signal.SIGTERM)
    srv.proc.wait(15)
    srv.stop()


@pytest.mark.modes(*ALL_MODES)
def test_layout_and_redis_loads_pyredis_aof(tmp_path, compat_mode):
    srv = pyredis.Server(port=0, subprocess=True, dir=str(tmp_path), appendonly="yes", compat_version=compat_mode).start()
    r = redis.Redis.from_url(srv.url)
    fill(r)
    r.execute_command("SET", "ex", "v", "EX", "100000")  # relative expiry: logged as absolute
    r.incr("counter")
    r.delete("str")
    expected = snapshot(r)
    r.close()
    _stop_gracefully(srv)
    names = sorted(os.listdir(_aofdir(tmp_path)))
    assert names == ["appendonly.aof.1.base.rdb", "appendonly.aof.1.incr.aof", "appendonly.aof.manifest"]
    manifest = open(os.path.join(_aofdir(tmp_path), "appendonly.aof.manifest")).read()
    assert manifest == "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
    incr = open(os.path.join(_aofdir(tmp_path), "appendonly.aof.1.incr.aof"), "rb").read()
    assert b"PXAT" in incr or b"PEXPIREAT" in incr
    theirs = RealRedis("--appendonly", "yes", dir=str(tmp_path), mode=compat_mode)
    try:
        rr = redis.Redis(port=theirs.port)
        assert snapshot(rr) == expected
        rr.close()
    finally:
        theirs.stop()


@pytest.mark.modes(*ALL_MODES)
def test_pyredis_loads_redis_aof(tmp_path, compat_mode):
    theirs = RealRedis("--appendonly", "yes", dir=str(tmp_path), mode=compat_mode)
    try:
        rr = redis.Redis(port=theirs.port)
        fill(rr)
        rr.execute_command("SET", "ex", "v", "PX", "100000000")
        rr.bgrewriteaof()
        time.sleep(1)
        rr.set("after-rewrite", "1")
        expected = snapshot(rr)
        rr.close()
    finally:
        theirs.stop()
    with pyredis.Server(port=0, subprocess=True, dir=str(tmp_path), appendonly="yes", compat_version=compat_mode) as ours:
        r = redis.Redis.from_url(ours.url)
        assert snapshot(r) == expected
        r.set("more", "2")
        r.close()


WRITER = r"""
import sys, redis
r = redis.Redis(port=int(sys.argv[1]))
i = 0
while True:
    try:
        r.set(f"k{i}", i)
    except Exception:
        break
    print(i, flush=True)
    i += 1
"""


def _kill9_under_load(tmp_path, fsync: str) -> tuple[int, set[int]]:
    srv = pyredis.Server(port=0, subprocess=True, dir=str(tmp_path), appendonly="yes", appendfsync=fsync).start()
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(srv.port)], stdout=subprocess.PIPE, text=True)
    acked: list[int] = []
    reader = threading.Thread(target=lambda: acked.extend(int(x) for x in writer.stdout))
    reader.start()
    deadline = time.time() + 30
    while len(acked) < 300 and time.time() < deadline:  # a loaded machine writes slowly
        time.sleep(0.05)
    srv.proc.kill()  # kill -9 mid-load: no chance to flush anything
    srv.proc.wait()
    writer.wait(10)
    reader.join(10)
    srv.stop()
    with pyredis.Server(port=0, subprocess=True, dir=str(tmp_path), appendonly="yes") as again:
        r = redis.Redis.from_url(again.url)
        present = {int(k[1:]) for k in r.keys("k*")}
        r.close()
    return max(acked) if acked else -1, present


def test_kill9_with_appendfsync_always_loses_no_acknowledged_write(tmp_path):
    last, present = _kill9_under_load(tmp_path, "always")
    assert last > 100
    missing = [i for i in range(last + 1) if i not in present]
    assert missing == []


def test_kill9_with_everysec_loses_at_most_about_a_second(tmp_path):
    last, present = _kill9_under_load(tmp_path, "everysec")
    assert last > 100
    missing = [i for i in range(last + 1) if i not in present]
    # A process kill (unlike a power failure) loses nothing already written to the OS; the
    # bound that matters is that the loss is a tail, never a hole.
    assert missing == [] or missing == list(range(missing[0], last + 1))


def test_truncated_tail_is_recovered(tmp_path):
    srv = pyredis.Server(port=0, subprocess=True, dir=str(tmp_path), appendonly="yes").start()
    r = redis.Redis.from_url(srv.url)
    r.set("a", "1")
    r.set("b", "2")
    r.close()
    _stop_gracefully(srv)
    incr = os.path.join(_aofdir(tmp_path), "appendonly.aof.1.incr.aof")
    good = os.path.getsize(incr)
    with open(incr, "ab") as f:
        f.write(b"*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$5\r\nhal")  # killed mid-write
    with pyredis.Server(port=0, subprocess=True, dir=str(tmp_path), appendonly="yes", loglevel="notice") as again:
        r = redis.Redis.from_url(again.url)
        assert r.mget("a", "b", "c") == [b"1", b"2", None]
        r.close()
    assert os.path.getsize(incr) == good


def test_truncated_tail_refused_when_configured(tmp_path):
    srv = pyredis.Server(port=0, subprocess=True, dir=str(tmp_path), appendonly="yes").start()
    redis.Redis.from_url(srv.url).set("a", "1")
    _stop_gracefully(srv)
    incr = os.path.join(_aofdir(tmp_path), "appendonly.aof.1.incr.aof")
    with open(incr, "ab") as f:
        f.write(b"*2\r\n$3\r\nGET")
    with pytest.raises(RuntimeError) as e:
        _start_expecting_failure(tmp_path, aof_load_truncated="no")
    assert "appendonly.aof.1.incr.aof" in str(e.value) and "Unexpected end of file" in str(e.value)


def test_corruption_in_the_middle_refuses_to_start(tmp_path):
    srv = pyredis.Server(port=0, subprocess=True, dir=str(tmp_path), appendonly="yes").start()
    r = redis.Redis.from_url(srv.url)
    for i in range(10):
        r.set(f"k{i}", i)
    r.close()
    _stop_gracefully(srv)
    incr = os.path.join(_aofdir(tmp_path), "appendonly.aof.1.incr.aof")
    data = bytearray(open(incr, "rb").read())
    pos = data.index(b"k5") - 6
    data[pos] = ord("!")
    open(incr, "wb").write(bytes(data))
    with pytest.raises(RuntimeError) as e:
        _start_expecting_failure(tmp_path)
    msg = str(e.value)
    assert "Bad file format" in msg and "appendonly.aof.1.incr.aof" in msg and "offset" in msg


def test_missing_manifest_is_a_clear_error(tmp_path):
    srv = pyredis.Server(port=0, subprocess=True, dir=str(tmp_path), appendonly="yes").start()
    redis.Redis.from_url(srv.url).set("a", "1")
    _stop_gracefully(srv)
    os.unlink(os.path.join(_aofdir(tmp_path), "appendonly.aof.manifest"))
    with pytest.raises(RuntimeError) as e:
        _start_expecting_failure(tmp_path)
    assert "no manifest" in str(e.value)


def test_bgrewriteaof_switches_files_and_keeps_concurrent_writes(tmp_path, compat_mode):
    srv = pyredis.Server(port=0, subprocess=True, dir=str(tmp_path), appendonly="yes", compat_version=compat_mode).start()
    r = redis.Redis.from_url(srv.url)
    pipe = r.pipeline(transaction=False)
    for i in range(20000):
        pipe.set(f"key:{i}", i)
    pipe.execute()
    assert r.bgrewriteaof()
    for i in range(20000, 20500):  # written while the child rewrites
        r.set(f"key:{i}", i)
    deadline = time.time() + 20
    while r.info("persistence")["aof_rewrite_in_progress"] and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    info = r.info("persistence")
    assert info["aof_rewrites"] == 1 and info["aof_last_bgrewrite_status"] == "ok"
    r.close()
    _stop_gracefully(srv)
    names = sorted(os.listdir(_aofdir(tmp_path)))
    assert names == ["appendonly.aof.2.base.rdb", "appendonly.aof.2.incr.aof", "appendonly.aof.manifest"]
    with pyredis.Server(port=0, subprocess=True, dir=str(tmp_path), appendonly="yes", compat_version=compat_mode) as again:
        r = redis.Redis.from_url(again.url)
        assert r.dbsize() == 20500
        assert r.get("key:20499") == b"20499"
        r.close()
    theirs = RealRedis("--appendonly", "yes", dir=str(tmp_path), mode=compat_mode)
    try:
        assert redis.Redis(port=theirs.port).dbsize() == 20500
    finally:
        theirs.stop()


def test_config_set_appendonly_at_runtime(tmp_path):
    with pyredis.Server(port=0, subprocess=True, dir=str(tmp_path)) as ours:
        r = redis.Redis.from_url(ours.url)
        pipe = r.pipeline(transaction=False)
        for i in range(20000):
            pipe.set(f"bulk:{i}", i)
        pipe.execute()
        r.set("before", "1")
        r.config_set("appendonly", "yes")
        r.set("during", "1")  # most likely while the first base is being written
        deadline = time.time() + 10
        while not os.path.exists(os.path.join(_aofdir(tmp_path), "appendonly.aof.manifest")) and time.time() < deadline:
            time.sleep(0.05)
        while r.info("persistence")["aof_rewrite_in_progress"] and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        r.set("after", "2")
        r.close()
    with pyredis.Server(port=0, subprocess=True, dir=str(tmp_path), appendonly="yes") as again:
        r = redis.Redis.from_url(again.url)
        assert r.mget("before", "during", "after") == [b"1", b"1", b"2"]
        assert r.dbsize() == 20003
