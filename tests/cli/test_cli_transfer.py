"""`cli dev pull` / `cli dev push` against a real redis-server: every type with its TTL
travels both ways, existing keys are refused unless --replace, --match and --db select."""

from __future__ import annotations

import pytest
import redis

from conftest import RealRedis
from test_cli_dev import cli, project  # noqa: F401  (the fixture: a dev-service project folder)


def _fill(c: redis.Redis, prefix: str) -> None:
    c.set(f"{prefix}:s", "v")
    c.set(f"{prefix}:ttl", "v", px=500_000)
    c.rpush(f"{prefix}:l", *range(300))
    c.hset(f"{prefix}:h", mapping={f"f{i}": i for i in range(200)})
    c.sadd(f"{prefix}:set", *range(50))
    c.zadd(f"{prefix}:z", {f"m{i}": i / 3 for i in range(150)})
    c.xadd(f"{prefix}:x", {"a": "1"})
    c.pfadd(f"{prefix}:hll", *range(100))
    c.setbit(f"{prefix}:bits", 1000, 1)
    c.append(f"{prefix}:s", "w")


def _snapshot(c: redis.Redis, pattern: str) -> dict:
    out = {}
    for k in sorted(c.scan_iter(match=pattern)):
        out[k] = (c.type(k), c.dump(k) if c.type(k) != b"stream" else c.xrange(k), c.pttl(k) > 0)
    return out


@pytest.fixture
def real():
    r = RealRedis()
    yield r
    r.stop()


def test_push_and_pull_with_redis_server(project, real):  # noqa: F811
    assert cli(project.root, "start-env").returncode == 0
    try:
        local = redis.Redis(host="127.0.0.1", port=project.port)
        remote = redis.Redis(host="127.0.0.1", port=real.port)
        _fill(local, "app")
        _fill(remote, "prod")
        url = f"redis://127.0.0.1:{real.port}"
        r = cli(project.root, "push", url, "--match", "app:*")
        assert r.returncode == 0, r.stderr
        assert "pushed 9 keys" in r.stdout
        assert _snapshot(remote, "app:*") == _snapshot(local, "app:*")
        # again: every key exists there now, so nothing is written without --replace
        local.set("app:s", "changed")
        r = cli(project.root, "push", url, "--match", "app:*")
        assert r.returncode != 0 and "9 of the keys already exist" in r.stderr and "nothing was copied" in r.stderr
        assert remote.get("app:s") == b"vw"
        r = cli(project.root, "push", url, "--match", "app:*", "--replace")
        assert r.returncode == 0, r.stderr
        assert remote.get("app:s") == b"changed"
        r = cli(project.root, "pull", url, "--match", "prod:*")
        assert r.returncode == 0, r.stderr
        assert "pulled 9 keys" in r.stdout
        assert _snapshot(local, "prod:*") == _snapshot(remote, "prod:*")
        # another database, from the URL
        redis.Redis(host="127.0.0.1", port=real.port, db=3).set("in3", "x")
        r = cli(project.root, "pull", f"{url}/3")
        assert r.returncode == 0, r.stderr
        assert redis.Redis(host="127.0.0.1", port=project.port, db=3).get("in3") == b"x"
        assert local.get("in3") is None
        r = cli(project.root, "pull", "redis://127.0.0.1:1")
        assert r.returncode != 0 and "cannot reach" in r.stderr
        local.close()
        remote.close()
    finally:
        cli(project.root, "stop-env")
