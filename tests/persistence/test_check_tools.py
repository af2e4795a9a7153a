"""pyredis-check-aof / pyredis-check-rdb run as commands on real files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import redis

import pyredis
from conftest import RealRedis


def _run(tool, *args, input=None):
    """Run an installed console script of this environment (next to the interpreter)."""
    exe = os.path.join(os.path.dirname(sys.executable), tool)
    return subprocess.run([exe, *args], capture_output=True, text=True, input=input, timeout=60)


def _make_aof(tmp_path):
    srv = pyredis.Server(port=0, subprocess=True, dir=str(tmp_path), appendonly="yes").start()
    r = redis.Redis.from_url(srv.url)
    for i in range(5):
        r.set(f"k{i}", i)
    r.close()
    srv.proc.send_signal(signal.SIGTERM)
    srv.proc.wait(15)
    srv.stop()
    return os.path.join(str(tmp_path), "appendonlydir")


def test_check_aof_reports_and_fixes_truncation(tmp_path):
    d = _make_aof(tmp_path)
    manifest = os.path.join(d, "appendonly.aof.manifest")
    res = _run("pyredis-check-aof", manifest)
    assert res.returncode == 0 and "is valid" in res.stdout
    incr = os.path.join(d, "appendonly.aof.1.incr.aof")
    size = os.path.getsize(incr)
    with open(incr, "ab") as f:
        f.write(b"*2\r\n$3\r\nDEL")
    res = _run("pyredis-check-aof", manifest)
    assert res.returncode == 1 and "not valid" in res.stdout and f"ok_up_to={size}" in res.stdout
    res = _run("pyredis-check-aof", "--fix", manifest, input="y\n")
    assert res.returncode == 0 and "Successfully truncated" in res.stdout
    assert os.path.getsize(incr) == size


def test_check_aof_fix_cuts_at_corruption_in_the_middle_as_redis(tmp_path):
    """redis-check-aof --fix truncates at the first unreadable command wherever it is (after
    saying how much it drops and asking): the commands before it stay."""
    d = _make_aof(tmp_path)
    incr = os.path.join(d, "appendonly.aof.1.incr.aof")
    data = bytearray(open(incr, "rb").read())
    at = data.rindex(b"*", 0, data.index(b"k2"))  # the command that sets k2
    assert data[data.index(b"k2") - 4:data.index(b"k2")] == b"$2\r\n"
    data[data.index(b"k2") - 4] = ord("?")
    open(incr, "wb").write(bytes(data))
    res = _run("pyredis-check-aof", "--fix", os.path.join(d, "appendonly.aof.manifest"), input="y\n")
    assert res.returncode == 0, res.stdout
    assert "Expected prefix '$', got: '?'" in res.stdout and f"to {at} bytes" in res.stdout
    assert os.path.getsize(incr) == at


def test_check_rdb_on_redis_and_pyredis_files(tmp_path):
    theirs = RealRedis(dir=str(tmp_path))
    try:
        rr = redis.Redis(port=theirs.port)
        rr.set("a", "1")
        rr.hset("h", mapping={"x": "y"})
        rr.save()
    finally:
        theirs.stop()
    path = os.path.join(str(tmp_path), "dump.rdb")
    res = _run("pyredis-check-rdb", path)
    assert res.returncode == 0 and "RDB looks OK" in res.stdout and "2 keys read" in res.stdout
    data = bytearray(open(path, "rb").read())
    data[-3] ^= 0xFF  # break the checksum
    open(path, "wb").write(bytes(data))
    res = _run("pyredis-check-rdb", path)
    assert res.returncode == 1 and "RDB ERROR DETECTED" in res.stdout
