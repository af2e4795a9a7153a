"""DEBUG CLOCK: the server clock under test control (a pyredis extension)."""

from __future__ import annotations

import time

import pytest
import redis

import pyredis


def test_ttl_expiry_without_sleeping(pyredis_server, pyredis_client):
    r = pyredis_client
    r.set("k", "v", px=5000)
    assert r.execute_command("DEBUG", "CLOCK", "ADVANCE", "6000") == "OK"
    assert r.get("k") is None


def test_freeze_set_resume_reset(pyredis_client):
    r = pyredis_client
    r.execute_command("DEBUG", "CLOCK", "FREEZE")
    t = r.execute_command("DEBUG", "CLOCK", "GET")
    time.sleep(0.05)
    assert r.execute_command("DEBUG", "CLOCK", "GET") == t
    s, us = r.time()
    assert s * 1000 + us // 1000 == t and us % 1000 == 0
    r.set("a", "1", ex=100)
    r.execute_command("DEBUG", "CLOCK", "ADVANCE", "40000")
    assert r.ttl("a") == 60 and r.execute_command("DEBUG", "CLOCK", "GET") == t + 40000
    r.execute_command("DEBUG", "CLOCK", "ADVANCE", "-10000")  # backwards too
    assert r.ttl("a") == 70
    r.execute_command("DEBUG", "CLOCK", "SET", "4102444800000")  # 2100-01-01
    assert r.time()[0] == 4102444800 and r.get("a") is None
    r.execute_command("DEBUG", "CLOCK", "RESUME")
    time.sleep(0.05)
    assert r.execute_command("DEBUG", "CLOCK", "GET") > 4102444800000 + 20
    r.execute_command("DEBUG", "CLOCK", "RESET")
    assert abs(r.time()[0] - time.time()) < 5


def test_active_expiry_follows_the_clock(pyredis_client):
    r = pyredis_client
    for i in range(20):
        r.set(f"k{i}", "v", px=1000)
    r.execute_command("DEBUG", "CLOCK", "ADVANCE", "2000")
    deadline = time.time() + 5
    while r.info("keyspace").get("db0") and time.time() < deadline:
        time.sleep(0.05)  # the server's cron deletes them: nobody reads the keys
    assert not r.info("keyspace").get("db0")
    assert r.info("stats")["expired_keys"] >= 20


def test_lua_time_and_expiretime(pyredis_client):
    r = pyredis_client
    r.execute_command("DEBUG", "CLOCK", "SET", "1900000000000")
    assert r.eval("return redis.call('TIME')[1]", 0) == "1900000000"
    r.set("e", "v", ex=10)
    assert r.expiretime("e") == 1900000010


def test_errors(pyredis_client):
    r = pyredis_client
    for args in ([], ["ADVANCE"], ["ADVANCE", "x"], ["SET"], ["NOPE"], ["GET", "x"]):
        with pytest.raises(redis.ResponseError):
            r.execute_command("DEBUG", "CLOCK", *args)


def test_needs_enable_debug_command(tmp_path):
    with pyredis.Server(port=0, dir=str(tmp_path)) as srv:  # enable-debug-command no (default)
        c = redis.Redis(port=srv.port)
        with pytest.raises(redis.ResponseError, match="DEBUG command not allowed"):
            c.execute_command("DEBUG", "CLOCK", "ADVANCE", "1000")
        c.close()


def test_plugin_advance_and_reset_between_tests(pyredis_server, pyredis_client):
    before = pyredis_server.now()
    pyredis_server.advance(3600)
    assert pyredis_server.now() - before >= 3599
    pyredis_server.reset_clock()
    assert abs(pyredis_server.now() - time.time()) < 5


def test_advance_times_out_blocked_clients(pyredis_server, pyredis_client):
    import threading

    result = {}

    def blocked():
        c = pyredis_server.client(decode_responses=True)
        t0 = time.monotonic()
        result["reply"] = c.blpop(["nothing"], timeout=30)
        result["took"] = time.monotonic() - t0
        c.close()

    t = threading.Thread(target=blocked)
    t.start()
    deadline = time.time() + 10
    while pyredis_client.info("clients")["blocked_clients"] == 0:
        assert time.time() < deadline
        time.sleep(0.02)
    pyredis_client.execute_command("DEBUG", "CLOCK", "ADVANCE", "31000")
    t.join(10)
    assert not t.is_alive()
    assert result["reply"] is None and result["took"] < 10
