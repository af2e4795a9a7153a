"""The examples/ against pyredis through the pytest plugin's fixtures (pyredis_client,
pyredis_server). TTLs are crossed with pyredis_server.advance() (DEBUG CLOCK ADVANCE), not sleeps.
With --redis-url the same tests run against a real Redis (advance() sleeps there)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
sys.path.insert(0, str(EXAMPLES))

import csrf
import job_queue
import oidc_cache
import rate_limit
import sessions


def test_session_sliding_expiry(pyredis_server, pyredis_client):
    r = pyredis_client
    store = sessions.SessionStore(r, idle_timeout=60)
    token = store.create("user-1", role="admin")
    assert store.get(token)["user_id"] == "user-1"
    key = "session:" + token
    assert r.ttl(key) == 60
    pyredis_server.advance(45)
    assert 0 < r.ttl(key) <= 15
    assert store.get(token)["role"] == "admin"  # a request renews the idle timeout
    assert r.ttl(key) == 60
    pyredis_server.advance(45)
    assert store.get(token) is not None
    pyredis_server.advance(61)  # idle too long
    assert store.get(token) is None
    assert r.exists(key) == 0
    t2 = store.create("user-2")
    assert store.destroy(t2) and store.get(t2) is None


def test_csrf_single_use_and_expiry(pyredis_server, pyredis_client):
    r = pyredis_client
    token = csrf.issue(r, "s1", ttl=900)
    assert r.ttl(f"csrf:s1:{token}") == 900
    assert csrf.consume(r, "s2", token) is False  # bound to its session
    assert csrf.consume(r, "s1", token) is True
    assert csrf.consume(r, "s1", token) is False  # replay refused
    late = csrf.issue(r, "s1", ttl=900)
    pyredis_server.advance(901)
    assert csrf.consume(r, "s1", late) is False
    # NX: an existing token is never overwritten
    r.set("csrf:s1:fixed", "1", ex=900)
    assert r.set("csrf:s1:fixed", "1", nx=True, ex=900) is None


def test_fixed_window(pyredis_server, pyredis_client):
    r = pyredis_client
    assert [rate_limit.fixed_window(r, "u", 3, 60) for _ in range(5)] == [True, True, True, False, False]
    assert r.ttl("rl:fixed:u") == 60  # EXPIRE NX: later hits do not push the window
    pyredis_server.advance(30)
    assert rate_limit.fixed_window(r, "u", 3, 60) is False
    assert 0 < r.ttl("rl:fixed:u") <= 30
    pyredis_server.advance(31)
    assert rate_limit.fixed_window(r, "u", 3, 60) is True


def test_sliding_window_lua(pyredis_server, pyredis_client):
    r = pyredis_client
    assert [rate_limit.sliding_window(r, "u", 3, 10) for _ in range(4)] == [True, True, True, False]
    pyredis_server.advance(6)
    assert rate_limit.sliding_window(r, "u", 3, 10) is False  # still 3 within the last 10s
    pyredis_server.advance(4.5)  # the first three slide out of the window
    assert rate_limit.sliding_window(r, "u", 3, 10) is True
    assert r.zcard("rl:sliding:u") == 1


def test_limits_library(pyredis_server, pyredis_client):
    limiter, item = rate_limit.limits_limiter(pyredis_server.url, "3/minute")
    assert [limiter.hit(item, "user-1") for _ in range(4)] == [True, True, True, False]
    assert limiter.hit(item, "user-2") is True
    assert limiter.get_window_stats(item, "user-1").remaining == 0
    pyredis_server.advance(61)
    assert limiter.hit(item, "user-1") is True


def test_oidc_cache_ttl_and_stampede(pyredis_server, pyredis_client):
    r = pyredis_client
    calls = []
    lock = threading.Lock()

    def slow_fetch(url):
        with lock:
            calls.append(url)
        time.sleep(0.3)
        return {"issuer": "https://idp.test", "jwks_uri": "https://idp.test/jwks"}

    results = []

    def worker():
        c = pyredis_server.client(decode_responses=True)
        try:
            results.append(oidc_cache.discovery(c, "https://idp.test", slow_fetch, ttl=3600))
        finally:
            c.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 8 and all(x["issuer"] == "https://idp.test" for x in results)
    assert calls == ["https://idp.test/.well-known/openid-configuration"]  # fetched once
    assert r.ttl("oidc:discovery:https://idp.test") > 3590
    assert r.exists("lock:oidc:discovery:https://idp.test") == 0  # released
    oidc_cache.discovery(r, "https://idp.test", slow_fetch)
    assert len(calls) == 1  # served from the cache
    pyredis_server.advance(3601)
    oidc_cache.discovery(r, "https://idp.test", slow_fetch)
    assert len(calls) == 2  # expired: refetched


def test_job_queue_blmove(pyredis_server, pyredis_client):
    r = pyredis_client
    got = []

    def worker():
        c = pyredis_server.client(decode_responses=True)
        try:
            job = job_queue.take(c, "w1", timeout=10)  # blocks until the producer pushes
            got.append(job)
            job_queue.ack(c, "w1", job)
        finally:
            c.close()

    t = threading.Thread(target=worker)
    t.start()
    time.sleep(0.2)
    job_id = job_queue.enqueue(r, "email", to="ada@example.com")
    t.join(15)
    assert got and got[0]["id"] == job_id and got[0]["payload"] == {"to": "ada@example.com"}
    assert r.llen("jobs") == 0 and r.llen("jobs:processing:w1") == 0
    # a crashed worker's job is recovered
    first = job_queue.enqueue(r, "a")
    job_queue.enqueue(r, "b")
    taken = job_queue.take(r, "w2", timeout=1)
    assert taken["id"] == first and r.llen("jobs:processing:w2") == 1
    assert job_queue.requeue_abandoned(r, "w2") == 1
    assert [job_queue.take(r, "w3", timeout=1)["kind"] for _ in range(2)] == ["a", "b"]
    assert job_queue.take(r, "w3", timeout=0.1) is None


@pytest.mark.parametrize("name", ["sessions", "csrf", "rate_limit", "oidc_cache", "job_queue"])
def test_examples_run_as_scripts(pyredis_server, pyredis_client, name):
    out = subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py")], capture_output=True, text=True,
                         timeout=60, env={"REDIS_URL": pyredis_server.url, "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip()


def test_clock_control(pyredis_server, pyredis_client):
    """SET k v PX 5000; DEBUG CLOCK ADVANCE 6000; GET k -> nil, without sleeping."""
    r = pyredis_client
    if pyredis_server.external:
        pytest.skip("DEBUG CLOCK is a pyredis extension")
    r.set("k", "v", px=5000)
    t0 = time.monotonic()
    assert r.execute_command("DEBUG", "CLOCK", "ADVANCE", "6000") == "OK"
    assert r.get("k") is None
    assert time.monotonic() - t0 < 1
    pyredis_server.freeze()
    now = r.execute_command("DEBUG", "CLOCK", "GET")
    r.set("f", "v", px=100)
    time.sleep(0.15)
    assert r.get("f") == "v" and r.pttl("f") == 100  # frozen: nothing counts down
    s, us = r.time()
    assert s * 1000 + us // 1000 == now  # TIME follows the clock
    pyredis_server.set_time(2_000_000_000)
    assert r.time()[0] == 2_000_000_000 and r.get("f") is None
    pyredis_server.resume()
    pyredis_server.reset_clock()
    assert abs(r.time()[0] - time.time()) < 5
